local server = require("http").server.new()
server:get("/", function() return "limited" end)
server:run()
