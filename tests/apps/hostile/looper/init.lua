local server = require("http").server.new()
server:get("/", function() while true do end end)
server:run()
