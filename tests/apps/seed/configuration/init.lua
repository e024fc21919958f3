local server = require("http").server.new()
-- configure the server with
server.compression = false
server.port = 8000
server.hostname = "0.0.0.0"
-- A simple GET index route with text return
server:get("/", function()
return "hello from default Astra instance! " .. Astra.version
end)
server:run()
