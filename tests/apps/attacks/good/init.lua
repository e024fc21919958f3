-- The well-behaved neighbour: it must keep answering whatever the others do.
local server = require("http").server.new()
server:get("/", function() return "good" end)
server:get("/env", function() return { secret = os.getenv("GOOD_SECRET") } end)
-- A route that needs 20 ms of CPU: a long call, which runs in a lane.
server:get("/work", function()
    local started = os.clock()
    while os.clock() - started < 0.02 do end
    return "worked 20ms"
end)
server:run()
