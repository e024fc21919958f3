-- H3, H7, M3: WebSockets that echo, that flood a client, and routes beside them.
local server = require("http").server.new()

server:get("/", function() return "sockets" end)
server:websocket("/echo", function(socket)
    while true do
        local message = socket:recv()
        if message == nil or message.type == "close" then break end
        if message.type == "text" then socket:send_text(message.value) end
    end
end)
-- Runs 20 ms (a long call), then sends 1 MiB messages until the client is gone.
server:websocket("/flood", function(socket)
    local started = os.clock()
    while os.clock() - started < 0.02 do end
    local chunk = string.rep("s", 1 << 20)
    for _ = 1, 1000 do
        if not pcall(socket.send_bytes, socket, chunk) then break end
    end
    print("the flood ended")
end)
server:run()
