local server = require("astra.http").server:new()
local function handle_socket(socket)
print("Connection opened!")
while true do
pprint(socket:recv())
end
end
server:websocket("/", handle_socket)
server:run()
