-- `require("templates")`: `jinja2.new(glob?)` and `markdown.to_html`/`to_ast`
-- (ASTRA_API.md 1.7). The engine's work is Rust's (src/stdlib/templates.rs); this is
-- Astra's wrapper around it: a table whose `engine` field is the Rust engine, the context
-- methods, and the routes `add_to_server` adds.
local internal = ...

local Engine = {}
Engine.__index = Engine

-- Methods that go straight to the Rust engine.
for _, name in ipairs({
    "add_template", "add_template_file", "get_template_names", "exclude_templates", "reload_templates",
    "add_function",
}) do
    Engine[name] = function(self, ...) return self.engine[name](self.engine, ...) end
end

-- The engine's own context lies under the one `render` is given.
local function merged(shared, context)
    if next(shared) == nil then return context end
    local all = {}
    for key, value in pairs(shared) do all[key] = value end
    for key, value in pairs(context or {}) do all[key] = value end
    return all
end

function Engine:render(name, context)
    return self.engine:render(name, merged(self.context, context))
end

function Engine:context_add(key, value) self.context[key] = value end
function Engine:context_remove(key) self.context[key] = nil end
function Engine:context_get(key) return self.context[key] end

-- The route of a template: its name up to the first `.` (`about.html` is `/about`),
-- `index` being `/`; each also with a trailing slash.
local function routes_of(name)
    local stem = name:match("^[^.]*")
    if stem == "index" then return { "/" } end
    return { "/" .. stem, "/" .. stem .. "/" }
end

local function html(response, text)
    response:set_header("Content-Type", "text/html")
    return text
end

-- Serves every template that is not excluded, each rendered once, now.
function Engine:add_to_server(server, context)
    for _, name in ipairs(self:get_template_names()) do
        local page = self:render(name, context)
        for _, path in ipairs(routes_of(name)) do
            server:get(path, function(_, response) return html(response, page) end)
        end
    end
end

-- While developing: each request reads the template files again and renders anew, and
-- `/debug.js` reloads the page when `/debug` says a template file changed.
local RELOADER = [[
setInterval(function () {
    fetch("/debug").then(function (r) { return r.text(); }).then(function (changed) {
        if (changed === "true") { location.reload(); }
    });
}, 100);
]]

function Engine:add_to_server_debug(server, context)
    local seen = {}
    local function modified()
        local changed = false
        for _, path in ipairs(self.engine:get_template_paths_all()) do
            local time = internal.modified(path)
            if seen[path] ~= nil and seen[path] ~= time then changed = true end
            seen[path] = time
        end
        return changed
    end
    modified()
    for _, name in ipairs(self:get_template_names()) do
        for _, path in ipairs(routes_of(name)) do
            server:get(path, function(_, response)
                self:reload_templates()
                return html(response, self:render(name, context))
            end)
        end
    end
    server:get("/debug.js", function(_, response)
        response:set_header("Content-Type", "text/javascript")
        return RELOADER
    end)
    server:get("/debug", function() return tostring(modified()) end)
end

local function new(glob)
    return setmetatable({ engine = internal.new_engine(glob), context = {} }, Engine)
end

return {
    jinja2 = { new = new },
    markdown = internal.markdown,
}
