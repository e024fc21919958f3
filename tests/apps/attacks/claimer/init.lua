-- M5: lists host names that are not its own.
local server = require("http").server.new()
server:get("/", function() return "claimer" end)
server:run()
