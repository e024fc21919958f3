-- Lua's functions that take a file name, on the file view (guest-lua/src/view.rs): the
-- app's data folder laid over its app folder. Reading finds the data folder's copy first;
-- writing, removing and renaming happen in the data folder. Errors name the app's path, as
-- Lua's own would.
local internal = ...
local read_path, write_path, remove_path, renamed =
    internal.read_path, internal.write_path, internal.remove_path, internal.renamed
local open, lines, input, output, remove, rename = io.open, io.lines, io.input, io.output, os.remove, os.rename

local function file_name(name, position, caller)
    if type(name) ~= "string" and type(name) ~= "number" then
        error(string.format("bad argument #%d to '%s' (string expected, got %s)", position, caller, type(name)), 3)
    end
    return tostring(name)
end

function io.open(filename, mode)
    filename, mode = file_name(filename, 1, "open"), mode or "r"
    local physical, err
    if mode:find("[wa+]") then
        -- Appending to or updating a file of the app folder starts from its copy.
        physical, err = write_path(filename, mode:find("w") == nil)
    else
        physical, err = read_path(filename)
    end
    if not physical then return nil, err, 2 end
    local file, message, code = open(physical, mode)
    if not file then return nil, renamed(message, physical, filename), code end
    return file
end

function io.lines(filename, ...)
    if filename == nil then return lines() end
    filename = file_name(filename, 1, "lines")
    local physical, err = read_path(filename)
    if not physical then error(err, 2) end
    local results = table.pack(pcall(lines, physical, ...))
    if not results[1] then error(renamed(tostring(results[2]), physical, filename), 2) end
    return table.unpack(results, 2, results.n)
end

function io.input(file)
    if type(file) ~= "string" then return input(file) end
    local physical, err = read_path(file)
    if not physical then error(err, 2) end
    return input(physical)
end

function io.output(file)
    if type(file) ~= "string" then return output(file) end
    local physical, err = write_path(file, false)
    if not physical then error(err, 2) end
    return output(physical)
end

function os.remove(filename)
    filename = file_name(filename, 1, "remove")
    local physical, err = remove_path(filename)
    if not physical then return nil, err, 1 end
    local removed, message, code = remove(physical)
    if not removed then return nil, renamed(message, physical, filename), code end
    return true
end

function os.rename(from, to)
    from, to = file_name(from, 1, "rename"), file_name(to, 2, "rename")
    local source, err = remove_path(from)
    if not source then return nil, err, 1 end
    local target, target_err = write_path(to, false)
    if not target then return nil, target_err, 2 end
    local renamed_ok, message, code = rename(source, target)
    if not renamed_ok then return nil, renamed(renamed(message, source, from), target, to), code end
    return true
end

-- As Astra's: text only, a first `#!` line skipped (its line counted), named `@filename`.
function loadfile(filename, _, ...)
    if filename == nil then return load(io.read("a") or "", "=stdin", "t", ...) end
    local file, err = io.open(filename, "rb")
    if not file then return nil, "cannot open " .. err end
    local source = file:read("a")
    file:close()
    return load((source:gsub("^#![^\n]*", "")), "@" .. tostring(filename), "t", ...)
end

function dofile(filename)
    if filename == nil then error("bad argument #1 to 'dofile' (filename expected)", 2) end
    local chunk, err = loadfile(filename)
    if not chunk then error(err, 2) end
    return chunk()
end
