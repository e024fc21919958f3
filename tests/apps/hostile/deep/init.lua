local server = require("http").server.new()
server:get("/lua", function()
    local function deeper(n) return 1 + deeper(n + 1) end
    return deeper(1)
end)
server:get("/c", function()
    -- Recursion through a C function (string.gsub calling back into Lua).
    local function nest(s) return (s:gsub(".", nest)) end
    return nest("abc")
end)
server:get("/", function() return "deep is fine" end)
server:run()
