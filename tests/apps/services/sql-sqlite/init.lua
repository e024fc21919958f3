-- SQLite through `database`: a shop's items, shared by every instance of the app.
local database = require("database")

local db = database.new("sqlite", "shop.db")
db:execute([[
    CREATE TABLE IF NOT EXISTS items (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        price REAL,
        tags TEXT
    );
    CREATE INDEX IF NOT EXISTS items_name ON items(name);
]])

local server = require("http").server.new()

server:post("/items", function(request)
    local item = request:body():json()
    return db:query_one(
        "INSERT INTO items (name, price, tags) VALUES (?, ?, ?) RETURNING id",
        { item.name, item.price, item.tags }
    )
end)

server:get("/items", function()
    return db:query_all("SELECT id, name, price FROM items ORDER BY id")
end)

server:get("/items/{id}", function(request, response)
    local item = db:query_one("SELECT * FROM items WHERE id = ?1", { tonumber(request:params().id) })
    if not item then
        response:set_status_code(404)
        return "no such item"
    end
    item.tags = item.tags and require("serde").json.decode(item.tags)
    return item
end)

server:get("/count", function()
    return db:query_one("SELECT count(*) AS n FROM items")
end)

server:get("/types", function()
    local row = db:query_one([[SELECT 1.1 AS real, 42 AS int, 'text' AS text, x'00ff' AS blob,
        NULL AS missing, ? AS flag, ? AS bytes]], { true, "\xff\xfe" })
    return {
        real = row.real, int = row.int, text = row.text, blob = row.blob,
        has_missing = row.missing ~= nil, flag = row.flag, bytes = row.bytes,
        math_type = math.type(row.int),
    }
end)

server:get("/pragmas", function()
    return {
        user_version = db:query_pragma_int("PRAGMA user_version"),
        journal_mode = db:query_pragma_text("PRAGMA journal_mode"),
    }
end)

server:get("/memory", function()
    local memory = database.new("sqlite", ":memory:")
    memory:execute("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2), (3)")
    local sum = memory:query_one("SELECT sum(n) AS total FROM t")
    memory:close()
    return sum
end)

server:get("/outside", function(request)
    local name = request:queries().name
    local outside = database.new("sqlite", "../../../../" .. name)
    outside:execute("CREATE TABLE IF NOT EXISTS t (n INTEGER)")
    return "ok"
end)

-- Every refusal and error, as the message Lua gets.
server:get("/errors", function()
    local function message(f, ...)
        local ok, err = pcall(f, ...)
        if ok then return "no error" end
        return (tostring(err):gsub("\nstack traceback:.*", ""))
    end
    local closed = database.new("sqlite", ":memory:")
    closed:close()
    return {
        kind = message(database.new, "mysql", "x"),
        syntax = message(function() db:execute("SELEC nothing") end),
        no_table = message(function() return db:query_all("SELECT * FROM nowhere") end),
        param = message(function() db:execute("SELECT ?", { print }) end),
        closed = message(function() closed:execute("SELECT 1") end),
        extensions = message(database.new, "sqlite", "x.db", { extensions = { "/usr/lib/evil.so" } }),
        attach = message(function() db:execute("ATTACH DATABASE '/etc/passwd' AS p") end),
        vacuum_into = message(function() db:execute("VACUUM INTO '/tmp/astra-vacuum-into.db'") end),
        temp_dir = message(function() db:execute("PRAGMA temp_store_directory = '/etc'") end),
        page_cap = message(function() db:execute("PRAGMA max_page_count = 2147483647") end),
        too_big = message(function()
            return db:query_all("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 10000) SELECT x, printf('%.50c', 'x') AS pad FROM c")
        end),
        huge_string = message(function() return db:query_one("SELECT zeroblob(100000000) AS z") end),
        postgres_undeclared = message(database.new, "postgres", "postgres://user:pw@db.example.com/shop"),
        postgres_socket = message(database.new, "postgres", "host=/var/run/postgresql user=postgres"),
    }
end)

server:get("/vacuum", function()
    db:execute("VACUUM")
    return "vacuumed"
end)

server:get("/slow", function()
    return db:query_one("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) AS m FROM c")
end)

server:run()
