local server = require("http").server.new()
server:post("/", function(request) return "read " .. #request:body():text() .. " bytes" end)
server:run()
