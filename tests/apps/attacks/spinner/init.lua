-- H8: spins for ?s= seconds of CPU time.
local server = require("http").server.new()
server:get("/spin", function(request)
    local seconds = tonumber(request:queries().s) or 1
    local started = os.clock()
    while os.clock() - started < seconds do end
    return "spun " .. seconds .. "s"
end)
server:run()
