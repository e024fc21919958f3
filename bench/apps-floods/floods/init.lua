-- The floods of astra-bench's `floods` scenario: a large response, an echoing WebSocket, and
-- a route that asks for a body limit far above the app's.
local server = require("http").server.new()
local big = string.rep("B", 16 * 1024 * 1024 - 64)

server:get("/", function() return "floods" end)
server:get("/big", function() return big end)
server:post("/upload", function(request) return "read " .. #request:body():text() end, { body_limit = 1 << 40 })
server:websocket("/echo", function(socket)
    while true do
        local message = socket:recv()
        if message == nil or message.type == "close" then break end
        if message.type == "text" then socket:send_text(message.value) end
    end
end)
server:run()
