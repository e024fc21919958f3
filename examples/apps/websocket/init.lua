-- WebSockets: an echo that also shows every message type the API can send.
local server = require("astra.http").server:new()

local function handle_socket(socket)
    print("Connection opened!")
    socket:send("text", "hey there, this is a very informative message.")
    while true do
        local message = socket:recv()
        if message == nil or message.type == "close" then break end
        if message.type == "text" then
            if message.value == "all kinds" then
                socket:send_text("yet another informative message")
                socket:send_bytes("this will be illegible soon")
                socket:send_bytes({ 0, 88, 14, 67, 45 })
                socket:send_ping({ 0, 88, 14, 67, 45 })
                socket:send_pong({ 17, 38, 80, 0, 85 })
                socket:send_close({ code = 1000, reason = "finally, done with everything" })
                break
            end
            socket:send_text("echo: " .. message.value)
        elseif message.type == "bytes" then
            socket:send_bytes(message.value)
        end
    end
    print("Connection closed")
end

server:websocket("/", handle_socket)
server:run()
