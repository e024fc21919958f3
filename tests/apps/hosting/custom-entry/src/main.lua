local server = require("http").server.new()
server:get("/", function() return "started from src/main.lua" end)
server:run()
