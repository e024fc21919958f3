-- H2, H4, H7, M3: large responses, a route that raises its own body limit, and one that
-- runs for a while once its body is in.
local server = require("http").server.new()
local big = string.rep("B", 16 * 1024 * 1024 - 64)

server:get("/", function() return "big" end)
server:get("/big", function() return big end)
server:post("/upload", function(request) return "read " .. #request:body():text() end, { body_limit = 1 << 40 })
server:post("/spin-read", function(request)
    local started = os.clock()
    while os.clock() - started < 0.02 do end
    return "read " .. #request:body():text()
end)
server:run()
