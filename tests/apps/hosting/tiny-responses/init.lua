local server = require("http").server.new()
server:get("/small", function() return string.rep("s", 1024) end)
server:get("/large", function() return string.rep("l", 1025) end)
server:run()
