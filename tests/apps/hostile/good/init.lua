-- The well-behaved neighbour: it must keep answering whatever the others do.
local server = require("http").server.new()
server:get("/", function() return "good" end)
server:run()
