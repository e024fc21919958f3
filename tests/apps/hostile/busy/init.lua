local server = require("http").server.new()
server:get("/spin", function() while true do end end)
server:get("/", function() return "free" end)
server:run()
