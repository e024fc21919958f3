-- The noisy neighbour: every request burns CPU until the host's CPU limit stops it.
local server = require("http").server.new()
server:get("/burn", function() while true do end end)
server:run()
