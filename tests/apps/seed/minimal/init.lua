-- create a new server with
local server = require("http").server.new()
-- run the server with
server:run()
