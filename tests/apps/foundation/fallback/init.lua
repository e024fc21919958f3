local server = require("http").server.new()
server:get("/", function() return "home" end)
server:fallback(function(request) return "fallback for " .. request:method() .. " " .. request:uri() end)
server:run()
