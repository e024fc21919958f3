local server = require("http").server.new()
server:get("/", function() return "blog" end)
server:run()
