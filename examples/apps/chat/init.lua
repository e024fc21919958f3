-- A chat room: every WebSocket holds an instance of its own, and `stores.pubsub` carries
-- each message to the sockets in the app's other instances. Try it with `make run`, then
-- open http://chat.localhost:8080/ in two browser windows, or:
--   websocat ws://chat.localhost:8080/ws
local http = require("http")
local stores = require("stores")
local serde = require("serde")

local server = http.server.new()

server:static_file("/", "index.html")

server:websocket("/ws", function(socket, request)
    local name = request:queries().name or "someone"
    local function relay(message)
        socket:send_text(serde.json.encode(message))
    end
    stores.pubsub.subscribe("chat", relay)
    stores.pubsub.publish("chat", { from = "room", text = name .. " joined" })
    while true do
        local message = socket:recv()
        if message == nil or message.type == "close" then break end
        if message.type == "text" then
            stores.pubsub.publish("chat", { from = name, text = message.value })
        end
    end
    stores.pubsub.unsubscribe("chat", relay)
    stores.pubsub.publish("chat", { from = "room", text = name .. " left" })
end)

server:run()
