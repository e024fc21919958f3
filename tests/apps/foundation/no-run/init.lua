local server = require("http").server.new()
server:get("/", function() return "never served" end)
-- no server:run()
