-- Floods the host's log.
local server = require("http").server.new()
server:get("/flood", function()
    for i = 1, 10000 do print("flood line " .. i) end
    return "done"
end)
server:get("/one", function()
    print("after the flood")
    return "done"
end)
server:run()
