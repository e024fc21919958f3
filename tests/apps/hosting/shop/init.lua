local server = require("http").server.new()
server:get("/", function() return "shop" end)
-- Stays in flight until the client sends the rest of its body: tests hold requests open with it.
local instance_token = string.format("%x", math.random(0, 0xffffffffffff))
-- The order `pairs` visits string keys in follows the instance's string-hash seed.
local letters = {}
for code = string.byte("a"), string.byte("z") do letters[string.char(code) .. "-key"] = true end
local key_order = {}
for key in pairs(letters) do key_order[#key_order + 1] = key:sub(1, 1) end
key_order = table.concat(key_order)
server:post("/upload", function(request, response)
    print("upload started")
    response:set_header("x-instance-token", instance_token)
    response:set_header("x-key-order", key_order)
    return "received " .. #request:body():text() .. " bytes"
end)
server:run()
