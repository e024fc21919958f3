local server = require("astra.http").server:new()
local function handle_socket(socket)
print("Connection opened!")
end
server:websocket("/", handle_socket)
server:run()
