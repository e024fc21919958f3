-- H2: route config headers far over what a response's headers may take.
local server = require("http").server.new()
local headers = {}
for i = 1, 12 do headers["x-pad-" .. i] = string.rep("h", 1024 * 1024) end
server:get("/", function() return "small body" end, { headers = headers })
server:run()
