-- H5, H6: holds as many files open as it can, then writes with the files it holds.
local server = require("http").server.new()
HOLD = HOLD or {}

server:get("/grab", function(request)
    local most = tonumber(request:queries().most) or 100000
    local err
    while #HOLD < most do
        local file
        file, err = io.open("held.txt", "a")
        if not file then break end
        HOLD[#HOLD + 1] = file
    end
    return { held = #HOLD, err = err }
end)
-- Writes 3 MiB, 64 KiB at a time a little CPU apart, through a file it holds if it has
-- one; says how much it wrote.
server:get("/write", function()
    local file, err = HOLD[1], nil
    if not file then file, err = io.open("written.txt", "a") end
    if not file then return { written = 0, err = err } end
    local chunk = string.rep("w", 64 * 1024)
    local written = 0
    for _ = 1, 48 do
        local ok, write_err = file:write(chunk)
        if not ok or not file:flush() then return { written = written, err = write_err } end
        written = written + #chunk
        local started = os.clock()
        while os.clock() - started < 0.01 do end
    end
    return { written = written }
end)
server:run()
