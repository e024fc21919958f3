-- Fills its data folder past its data_limit; each route reports whether a write worked.
local server = require("http").server.new()

local function try_write(name, content)
    local file, err = io.open(name, "ab")
    if not file then return { written = false, err = err } end
    local ok, write_err = file:write(content)
    file:close()
    return { written = ok ~= nil, err = write_err }
end

-- Writes 64KiB every few milliseconds until something stops it.
server:get("/keep-filling", function()
    local chunk = string.rep("x", 64 * 1024)
    while try_write("hoard.bin", chunk).written do
        for _ = 1, 1000000 do end
    end
    return "the writes stopped working"
end)
server:get("/note", function() return try_write("note.txt", "a small note\n") end)
server:get("/read", function()
    local file = assert(io.open("hoard.bin", "rb"))
    local size = file:seek("end")
    file:close()
    return { size = size }
end)
server:run()
