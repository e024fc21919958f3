-- utils from routes: the environment as the .env files and astra.toml made it, uuid,
-- env.set, dotenv_load and clean_require.
local utils = require("utils")
local server = require("http").server.new()

server:get("/env", function()
    local seen = {}
    for _, key in ipairs({ "A", "B", "C", "D", "E", "DEV_BEFORE", "DEV_AFTER" }) do seen[key] = getenv(key) end
    return seen
end)

server:get("/uuid", function() return { uuid = utils.uuid() } end)

server:post("/env/{key}", function(request)
    local key = request:params().key
    utils.env.set(key, request:body():text())
    return { [key] = utils.env.get(key) }
end)

server:get("/dotenv", function()
    dotenv_load("extra.env")
    return { extra = getenv("EXTRA") }
end)

server:get("/reloaded", function()
    local first = require("counter")
    utils.clean_require("counter")
    return { fresh = require("counter") ~= first }
end)

server:run()
