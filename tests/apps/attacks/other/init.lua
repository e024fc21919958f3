-- A second tenant, for requests that must reach one app and not the other.
local server = require("http").server.new()
server:get("/", function() return "other" end)
server:run()
