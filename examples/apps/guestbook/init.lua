-- A guestbook, as an Astra app is written: its settings in YAML (fs + serde), its pages
-- from templates/ with inheritance (templates), its form checked by a schema (validation),
-- and its entries in the data folder as JSON (fs). Try it with `make run`:
--   curl http://guestbook.localhost:8080/
--   curl -d 'name=Ada&message=Hello' http://guestbook.localhost:8080/sign
local http = require("http")
local fs = require("fs")
local serde = require("serde")
local templates = require("templates")
local datetime = require("datetime")
local validation = require("validation")
local t = validation.types

local config = serde.yaml.decode(fs.read_file("config.yaml"))
local pages = templates.jinja2.new("templates/**/*.html")
pages:context_add("config", config)

local Entry = t.build(t.struct({
    name = t.pattern("^[^<>]+$"),
    message = t.string(),
}))

-- Entries live in the data folder; the file appears with the first one.
local ENTRIES = "entries.json"

local function entries()
    if not fs.exists(ENTRIES) then return {} end
    return serde.json.decode(fs.read_file(ENTRIES))
end

local function page(response, status, context)
    response:set_status_code(status)
    response:set_header("Content-Type", "text/html; charset=utf-8")
    context.entries = context.entries or entries()
    context.form = context.form or {}
    return pages:render("index.html", context)
end

local server = http.server.new()

server:get("/", function(_, response) return page(response, 200, {}) end)

server:post("/sign", function(request, response)
    local form = request:form()
    local ok, entry = pcall(Entry, { name = form.name, message = form.message })
    local error
    if not ok then
        -- The schema's message names the field: "name: string does not match pattern".
        error = "Please check the form: " .. tostring(entry):gsub("^[^:]*:%d+: ", "")
    elseif #entry.name == 0 or #entry.name > config.limits.name then
        error = "A name is 1 to " .. config.limits.name .. " characters."
    elseif #entry.message == 0 or #entry.message > config.limits.message then
        error = "A message is 1 to " .. config.limits.message .. " characters."
    end
    if error then return page(response, 400, { error = error, form = form }) end

    local all = entries()
    table.insert(all, { name = entry.name, message = entry.message, at = datetime.new():to_date_string() })
    while #all > config.max_entries do table.remove(all, 1) end
    fs.write_file(ENTRIES, serde.json.encode(all))
    response:set_status_code(303)
    response:set_header("Location", "/")
    return ""
end)

server:run()
