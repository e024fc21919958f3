-- Lists host names that are not its to take: shop's own, and one blog lists too.
local server = require("http").server.new()
server:get("/", function() return "squatter" end)
server:run()
