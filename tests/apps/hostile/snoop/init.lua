-- Tries to look beyond its sandbox; each route reports what it found.
local server = require("http").server.new()

local function try_open(path, mode)
    local file, err = io.open(path, mode or "r")
    if file then
        local content = (mode or "r") == "r" and (file:read("a") or "") or ""
        file:close()
        return { opened = true, sample = content:sub(1, 40) }
    end
    return { opened = false, err = err }
end

local reads = {
    passwd = "/etc/passwd",
    dotdot = "../../../../../../etc/passwd",
    app_dotdot = "/app/../../../../etc/passwd",
    sibling = "/app/../good/init.lua",
    -- A link in the app folder to /etc.
    symlink = "escape/hostname",
    -- Its own files, as the file view shows them.
    own = "init.lua",
    own_absolute = "/init.lua",
    own_from_below = "../../init.lua",
}
for name, path in pairs(reads) do
    server:get("/read/" .. name, function() return try_open(path) end)
end
server:get("/write/app", function() return try_open("/app/planted.lua", "w") end)
server:get("/write/data", function()
    local file = assert(io.open("logs.txt", "a"))
    file:write("written by snoop\n")
    file:close()
    return try_open("logs.txt")
end)
server:get("/scratch", function()
    local name = os.tmpname()
    local file = assert(io.tmpfile())
    file:write("scratch")
    file:seek("set")
    local content = file:read("a")
    file:close()
    local started = os.clock()
    local sum = 0
    for i = 1, 1000000 do sum = sum + i end
    return { name = name, tmpfile = content, clock = os.clock() - started, sum = sum }
end)
server:get("/env", function()
    return { home = os.getenv("HOME"), path = os.getenv("PATH"), secret = os.getenv("ASTRA_TEST_SECRET"),
             greeting = os.getenv("GREETING"), dotenv = os.getenv("DOTENV_VALUE") }
end)
server:get("/execute", function()
    local ok, err = pcall(os.execute, "cat /etc/passwd")
    return { ok = ok, err = tostring(err) }
end)
server:get("/popen", function()
    local ok, err = pcall(io.popen, "cat /etc/passwd")
    return { ok = ok, err = tostring(err) }
end)
server:run()
