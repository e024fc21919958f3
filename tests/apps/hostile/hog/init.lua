-- Allocates without end. Lua's allocator limit sits below the instance's cap, so running
-- out is an ordinary Lua error: catchable with pcall, and if uncaught, a 500 after which
-- the host replaces the instance (its heap is full). `served` counts this instance's requests.
local server = require("http").server.new()
served = 0
hoard = {}

server:get("/catch", function()
    served = served + 1
    local ok, err = pcall(function()
        local t = {}
        while true do t[#t + 1] = string.rep("y", 1 << 16) .. #t end
    end)
    return { ok = ok, err = tostring(err), served = served }
end)
-- A table whose array doubles: each doubling needs a new block beside the old one, and
-- the holes the earlier ones left count against the instance's memory, not Lua's.
server:get("/catch-doubling", function()
    served = served + 1
    local ok, err = pcall(function()
        local t = {}
        for i = 1, 1e9 do t[i] = i end
    end)
    return { ok = ok, err = tostring(err), served = served }
end)
server:get("/grow", function()
    served = served + 1
    while true do hoard[#hoard + 1] = string.rep("x", 1 << 16) .. #hoard end
end)
server:get("/", function()
    served = served + 1
    return "served " .. served
end)
server:run()
