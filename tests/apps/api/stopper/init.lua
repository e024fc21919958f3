local server = require("http").server.new()
server:get("/", function() return "running" end)
server:get("/stop", function() server:shutdown() return "stopping" end)
server:run()
