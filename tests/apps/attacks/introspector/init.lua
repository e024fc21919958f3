-- L1: reaches for the debug library's write half and for binary chunks.
local server = require("http").server.new()

server:get("/debug", function()
    local required = require("debug")
    return {
        same = required == debug and package.loaded.debug == debug,
        sethook = required.sethook ~= nil,
        setupvalue = required.setupvalue ~= nil,
        getregistry = required.getregistry ~= nil,
        setmetatable = required.setmetatable ~= nil,
        traceback = type(debug.traceback),
        getinfo = type(debug.getinfo),
    }
end)
server:get("/bytecode", function()
    local dump = string.dump(function() return 42 end)
    local file = assert(io.open("chunk.luac", "wb"))
    file:write(dump)
    file:close()
    local results = {}
    for name, attempt in pairs({
        load = function() return load(dump) end,
        load_binary_mode = function() return load(dump, "x", "b") end,
        loadfile = function() return loadfile("chunk.luac") end,
        dofile = function() return pcall(dofile, "chunk.luac") end,
    }) do
        local chunk, err = attempt()
        results[name] = chunk and type(chunk) == "function" and "loaded" or tostring(err)
    end
    -- Text chunks work as before, with and without an environment.
    results.text = load("return 1 + 1")()
    results.text_env = load("return x", "=env", "t", { x = "from env" })()
    results.text_no_env = load("return type(string)")()
    return results
end)
server:run()
