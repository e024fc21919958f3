-- Globals every app sees: Astra, the LuaJIT shim; and the error handler the guest runs
-- every callback under. The file view and `require` are lua/view.lua's and lua/require.lua's.
local internal = ...

-- Only the read-only half of the debug library, under both of its names: the rest can
-- break the interpreter's invariants from Lua.
local traceback, getinfo = debug.traceback, debug.getinfo
debug = { traceback = traceback, getinfo = getinfo }
package.loaded.debug = debug

-- Text chunks only. Lua does not check bytecode: a crafted binary chunk reads and writes
-- the interpreter's memory as it likes. The optional `env` argument is passed on only when
-- given, as Lua tells an absent one from nil. (`loadfile` and `dofile`, which read files,
-- are lua/view.lua's, on the file view and text only too.)
local load_any = load
function load(chunk, chunkname, _, ...)
    return load_any(chunk, chunkname, "t", ...)
end

-- The seed's `Astra`; `print` and `pprint`, `_RUNTIME` and the script globals are set by
-- the guest (globals.rs) once this has run.
Astra = { version = internal.version }

-- Astra runs LuaJIT unless told otherwise, and apps written for it use LuaJIT's `unpack`,
-- `loadstring` and `bit`.
unpack = table.unpack
loadstring = load

-- LuaJIT's `bit`, as a global and as `require("bit")`: loaded the first time it is used,
-- since few apps do.
bit = setmetatable({}, {
    __index = function(self, name)
        setmetatable(self, nil)
        for key, value in pairs(require("bit")) do rawset(self, key, value) end
        return rawget(self, name)
    end,
})

-- No processes in the sandbox: say so, rather than fail in some less obvious way.
local function no_processes(name)
    return function(command)
        if name == "os.execute" and command == nil then return false end
        error(name .. " is not available: apps run in a sandbox without processes", 2)
    end
end
os.execute = no_processes("os.execute")
io.popen = no_processes("io.popen")

os.clock = internal.clock

-- Lua's local time comes from the C library, whose local time in WASI is UTC; the app's
-- is its zone (decision 7). `os.date` formats at the zone's offset then (`!` still means
-- UTC) and `os.time` reads a table as local time in the zone.
local utc_date, utc_time = os.date, os.time

function os.date(format, time)
    format = format or "%c"
    time = time or utc_time()
    if type(format) ~= "string" or format:sub(1, 1) == "!" or math.type(time) == nil then
        return utc_date(format, time)
    end
    local offset, zone, daylight_saving = internal.local_offset(math.floor(time))
    if format:sub(1, 2) == "*t" then
        local fields = utc_date("!*t", time + offset)
        fields.isdst = daylight_saving
        return fields
    end
    local sign, minutes = offset < 0 and "-" or "+", math.abs(offset) // 60
    local numeric = string.format("%s%02d%02d", sign, minutes // 60, minutes % 60)
    format = format:gsub("%%([%%zZ])", function(spec)
        if spec == "z" then return numeric elseif spec == "Z" then return zone end
    end)
    return utc_date("!" .. format, time + offset)
end

function os.time(fields)
    if fields == nil then return utc_time() end
    local as_utc = utc_time(fields)
    local at = utc_date("!*t", as_utc)
    -- A time the clocks skipped takes the offset in force just before.
    local offset = internal.offset_of_local(at.year, at.month, at.day, at.hour, at.min, at.sec)
        or internal.local_offset(as_utc - 86400)
    return as_utc - offset
end

-- No /tmp in the sandbox: temporary files go in the app's data folder (in its current
-- folder). As on POSIX, `os.tmpname` creates the file so that the name is taken, and
-- `io.tmpfile`'s file is gone from the folder once it is open.
function os.tmpname()
    for _ = 1, 100 do
        local name = string.format("lua_%012x", math.random(0, 0xffffffffffff))
        local existing = io.open(name, "rb")
        if existing then
            existing:close()
        else
            local file = io.open(name, "wb")
            if file then
                file:close()
                return name
            end
        end
    end
    error("unable to generate a unique filename in the data folder", 2)
end

function io.tmpfile()
    local name = os.tmpname()
    local file, err = io.open(name, "w+b")
    os.remove(name)
    if not file then return nil, err end
    return file
end


-- The innermost frames only: `debug.traceback` first walks to the bottom of the stack,
-- which after a stack overflow (some 200,000 frames) takes a second or more of the
-- request's CPU budget, for a traceback that only reaches the debug log.
local TRACEBACK_FRAMES = 20

local function short_traceback(level)
    local lines = { "stack traceback:" }
    for depth = level, level + TRACEBACK_FRAMES - 1 do
        local info = getinfo(depth, "Sln")
        if not info then return table.concat(lines, "\n\t") end
        local where = info.currentline > 0 and info.short_src .. ":" .. info.currentline or info.short_src
        local what
        if info.name then
            what = "in " .. (info.namewhat ~= "" and info.namewhat .. " " or "") .. "'" .. info.name .. "'"
        elseif info.what == "main" then
            what = "in main chunk"
        elseif info.what == "C" then
            what = "in ?"
        else
            what = "in function <" .. info.short_src .. ":" .. info.linedefined .. ">"
        end
        lines[#lines + 1] = where .. ": " .. what
    end
    if getinfo(level + TRACEBACK_FRAMES, "l") then lines[#lines + 1] = "..." end
    return table.concat(lines, "\n\t")
end

-- Errors raised by Rust methods carry no position: give them the innermost Lua frame's.
-- Their text ends with a traceback of its own, which the one taken here replaces.
local function on_error(err)
    local message = tostring(err):gsub("^runtime error: ", ""):gsub("\nstack traceback:.*$", "")
    if not message:match("^[^%s:]+:%d+: ") then
        for level = 2, 50 do
            local info = getinfo(level, "Sl")
            if not info then break end
            if info.currentline > 0 and info.source:sub(1, 1) == "@" then
                message = info.short_src .. ":" .. info.currentline .. ": " .. message
                break
            end
        end
    end
    return { message = message, traceback = short_traceback(3) }
end

return on_error
