-- Fills its data folder past its data_limit; each route reports whether a write worked.
local server = require("http").server.new()

local function try_write(name, content)
    local file, err = io.open(name, "ab")
    if not file then return { written = false, err = err } end
    local ok, write_err = file:write(content)
    file:close()
    return { written = ok ~= nil, err = write_err }
end

server:get("/fill", function() return try_write("hoard.bin", string.rep("x", 2 * 1024 * 1024)) end)
server:get("/note", function() return try_write("note.txt", "a small note\n") end)
server:get("/read", function()
    local file = assert(io.open("hoard.bin", "rb"))
    local size = file:seek("end")
    file:close()
    return { size = size }
end)
server:run()
