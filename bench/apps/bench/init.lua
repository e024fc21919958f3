-- The benchmark routes, the same as bench/baseline's axum ones; /page, /yaml and /sqlite
-- (the standard library's templates and serde, and the host's SQLite) have no axum
-- counterpart.
local server = require("http").server.new()
local templates = require("templates")
local serde = require("serde")
local fs = require("fs")

local items = {}
for i = 1, 100 do items[i] = { id = i, name = "item " .. i, done = i % 2 == 0 } end

local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end

server:get("/hello", function() return "hello" end)
server:get("/json", function() return items end)
server:get("/users/{id}", function(request, response)
    local id = request:params().id
    response:set_header("x-user-id", tostring(id))
    return { id = id }
end)
server:post("/echo", function(request) return request:body():json() end)
-- A page extending a base, with a 50-row loop.
local pages = templates.jinja2.new("templates/*.html")
local rows = {}
for i = 1, 50 do rows[i] = { id = i, name = "item " .. i, price = i * 1.25 } end
server:get("/page", function(_, response)
    response:set_header("Content-Type", "text/html")
    return pages:render("page.html", { title = "Items", rows = rows })
end)

-- A 1 KiB YAML document decoded on each request.
local config = fs.read_file("config.yaml")
server:get("/yaml", function()
    local decoded = serde.yaml.decode(config)
    return { name = decoded.name, services = #decoded.services }
end)

-- One indexed row of a SQLite file in the data folder, as JSON.
local db = require("database").new("sqlite", "bench.db")
db:execute([[
    CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL NOT NULL);
    INSERT OR IGNORE INTO items (id, name, price)
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 1000)
        SELECT i, 'item ' || i, i * 1.25 FROM n;
]])
server:get("/sqlite/{id}", function(request)
    return db:query_one("SELECT id, name, price FROM items WHERE id = ?", { tonumber(request:params().id) })
end)

server:get("/fib", function() return tostring(fib(20)) end)
server:get("/fib/{n}", function(request) return tostring(fib(request:params().n)) end)
server:websocket("/ws", function(socket)
    while true do
        local message = socket:recv()
        if message == nil or message.type == "close" then break end
        socket:send("text", message.value)
    end
end)
server:run()
