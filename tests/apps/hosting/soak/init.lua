-- A route that allocates next to nothing itself: only the request and response objects
-- the host hands it, whose garbage the collector must keep up with.
local server = require("http").server.new()
served = 0
server:get("/", function() served = served + 1 end)
server:get("/served", function() return tostring(served) end)
server:run()
