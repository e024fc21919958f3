-- M1, M2: tries to forge host log lines, and to flood the log past its budget.
local server = require("http").server.new()
local FORGED = "2026-12-03T15:00:00.000000Z  INFO [good] FORGED: admin logged in"

server:get("/print", function()
    print("hello\n" .. FORGED .. "\r\0end")
    return "printed"
end)
server:get("/error", function() error("boom\n" .. FORGED, 0) end)
server:get("/error-object", function()
    error(setmetatable({}, { __tostring = function() return "object\n" .. FORGED end }))
end)
-- 400 prints of 340 lines each: 1.6 MB in one request.
server:get("/multi-line", function()
    local block = string.rep("a multi-line flood\n", 340)
    for _ = 1, 400 do print(block) end
    return "flooded"
end)
server:get("/huge-error", function() error(string.rep("E", 8 * 1024 * 1024), 0) end)
server:run()
