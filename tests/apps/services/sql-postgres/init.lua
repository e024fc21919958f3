-- PostgreSQL through `database`: the server's URL comes from .env (the test writes it).
local database = require("database")
local url = os.getenv("DATABASE_URL")

local db = database.new("postgres", url)
db:execute([[
    CREATE TABLE IF NOT EXISTS notes (
        id BIGSERIAL PRIMARY KEY,
        body TEXT NOT NULL,
        score DOUBLE PRECISION,
        pinned BOOLEAN NOT NULL DEFAULT false,
        meta JSONB,
        raw BYTEA
    );
    CREATE INDEX IF NOT EXISTS notes_body ON notes (body);
]])

local server = require("http").server.new()

server:post("/notes", function(request)
    local note = request:body():json()
    return db:query_one(
        "INSERT INTO notes (body, score, pinned, meta, raw) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        { note.body, note.score, note.pinned, note.meta, "\1\2\255" }
    )
end)

server:get("/notes/{id}", function(request, response)
    local note = db:query_one("SELECT * FROM notes WHERE id = $1", { tonumber(request:params().id) })
    if not note then
        response:set_status_code(404)
        return "no such note"
    end
    return note
end)

server:get("/count", function()
    return db:query_one("SELECT count(*) AS n FROM notes")
end)

server:get("/types", function()
    return db:query_one([[SELECT 1.5::float4 AS f4, 2::int2 AS i2, 3::int4 AS i4, 4::int8 AS i8,
        12345.6789::numeric AS price, DATE '2024-02-29' AS day,
        TIMESTAMPTZ '2024-02-29 12:00:00.25+00' AS at, TIMESTAMP '2024-02-29 12:00:00' AS local_at,
        '00010203-0405-0607-0809-0a0b0c0d0e0f'::uuid AS id, '{"a": [1, null]}'::json AS doc,
        NULL::text AS missing, 'x'::varchar AS v]])
end)

server:get("/unreadable", function()
    local ok, err = pcall(function() return db:query_one("SELECT '127.0.0.1'::inet AS address") end)
    return tostring(err):gsub("\nstack traceback:.*", "")
end)

server:get("/sleep", function()
    return db:query_one("SELECT pg_sleep(30) AS slept")
end)

server:get("/sleeping", function()
    return db:query_one([[SELECT count(*) AS n FROM pg_stat_activity
        WHERE state = 'active' AND query LIKE 'SELECT pg_sleep(30)%']])
end)

-- What opening another server says: by name, refused, or an error of the driver.
server:get("/open", function(request)
    local ok, err = pcall(database.new, "postgres", request:queries().url)
    if ok then
        err:close()
        return "opened"
    end
    return (tostring(err):gsub("\nstack traceback:.*", ""))
end)

server:get("/errors", function()
    local function message(f)
        local ok, err = pcall(f)
        return ok and "no error" or (tostring(err):gsub("\nstack traceback:.*", ""))
    end
    return {
        no_table = message(function() return db:query_all("SELECT * FROM nowhere") end),
        bad_type = message(function() return db:query_all("SELECT * FROM notes WHERE id = $1", { "seven" }) end),
    }
end)

server:run()
