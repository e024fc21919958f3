local server = require("http").server.new()
server:get("/", function() return "shop" end)
local instance_token = string.format("%x", math.random(0, 0xffffffffffff))
-- The order `pairs` visits string keys in follows the instance's string-hash seed.
local letters = {}
for code = string.byte("a"), string.byte("z") do letters[string.char(code) .. "-key"] = true end
local key_order = {}
for key in pairs(letters) do key_order[#key_order + 1] = key:sub(1, 1) end
key_order = table.concat(key_order)

-- Holds its instance until the client closes the socket: tests keep instances busy with it.
server:websocket("/hold", function(socket)
    print("holding an instance")
    socket:send_text(instance_token .. " " .. key_order)
    while socket:recv() do end
end)
-- Stays in flight for a second and a half of CPU time after it says so.
server:get("/slow", function()
    print("slow request started")
    local started = os.clock()
    while os.clock() - started < 1.5 do end
    return "slow request done"
end)
server:post("/upload", function(request) return "received " .. #request:body():text() .. " bytes" end)
server:run()
