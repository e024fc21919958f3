-- Astra's `require` (ASTRA_API.md 1.1.3): `@astra/http` is `http`; a name's dots are
-- folders (`lib.util` is `lib/util`, `./x` and `../x` stay relative); it is looked for in the
-- app folder first, relative to the current folder and then to the requiring file's folder,
-- as `P.lua`, `P.luau`, `P/init.lua`, `P/init.luau` and `P`, so that an app's own `http.lua`
-- shadows the built-in module; then among the built-in modules. Only the app folder is
-- searched, never what the app wrote to its data folder: code is what was deployed.
-- `CURRENT_SCRIPT` is the module's file while it runs.
local internal = ...
local app_module = internal.app_module
local lua_require = require

package.path = "?.lua;?.luau;?/init.lua;?/init.luau"
package.cpath = ""

local function to_path(name)
    local prefix = name:match("^%.%.?/") or ""
    local rest = name:sub(#prefix + 1):gsub("%.%.", "\0"):gsub("%.", "/"):gsub("%z", "..")
    return prefix .. rest
end

local function candidates(name)
    local path = to_path(name)
    local bases = { "" }
    local here = type(CURRENT_SCRIPT) == "string" and CURRENT_SCRIPT:match("^(.*)/")
    if here then bases[2] = here .. "/" end
    local found = {}
    for _, base in ipairs(bases) do
        for template in package.path:gmatch("[^;]+") do
            found[#found + 1] = base .. template:gsub("%?", function() return path end)
        end
        found[#found + 1] = base .. path
    end
    return found
end

local function set_current(script)
    CURRENT_SCRIPT = script
    if type(Astra) == "table" then Astra.current_script = script end
end

local function in_app_folder(name)
    local tried = {}
    for _, candidate in ipairs(candidates(name)) do
        local source, shown = app_module(candidate)
        if source and shown ~= CURRENT_SCRIPT then
            local chunk, err = load(source, "@" .. shown, "t")
            if not chunk then error(err, 0) end
            return function(...)
                local previous = CURRENT_SCRIPT
                set_current(shown)
                local results = table.pack(pcall(chunk, ...))
                set_current(previous)
                if not results[1] then error(results[2], 0) end
                return table.unpack(results, 2, results.n)
            end, shown
        end
        tried[#tried + 1] = "\n\tno file '" .. candidate .. "' in the app folder"
    end
    return table.concat(tried)
end

package.searchers = { in_app_folder, package.searchers[1] }

function require(name)
    if type(name) == "string" then name = name:gsub("^@astra/", "") end
    return lua_require(name)
end
