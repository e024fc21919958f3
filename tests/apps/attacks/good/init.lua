-- The well-behaved neighbour: it must keep answering whatever the others do.
local server = require("http").server.new()
server:get("/", function() return "good" end)
server:get("/env", function() return { secret = os.getenv("GOOD_SECRET") } end)
server:run()
