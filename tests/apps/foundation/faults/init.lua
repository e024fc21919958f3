-- Ways a request can end badly. Globals live per instance: `served` counts the requests
-- this instance has seen, so a test can tell a kept instance from a replaced one.
local server = require("http").server.new()
served = 0

server:get("/count", function()
    served = served + 1
    return tostring(served)
end)
server:get("/loop", function() while true do end end)
server:get("/exit", function() os.exit(3) end)
server:get("/lua-error", function() error("a plain Lua error") end)
server:get("/memory", function() return string.rep("x", 1 << 30) end)
server:get("/recursion", function()
    local function deeper(n) return deeper(n + 1) + 1 end
    return deeper(1)
end)
server:get("/returns-function", function() return print end)
server:get("/returns-cycle", function()
    local cycle = {}
    cycle.self = cycle
    return cycle
end)
server:run()
