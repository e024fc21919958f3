local server = require("http").server.new()
server:get("/", function() return "shop" end)
-- Stays in flight until the client sends the rest of its body: tests hold requests open with it.
local instance_token = string.format("%x", math.random(0, 0xffffffffffff))
server:post("/upload", function(request, response)
    print("upload started")
    response:set_header("x-instance-token", instance_token)
    return "received " .. #request:body():text() .. " bytes"
end)
server:run()
