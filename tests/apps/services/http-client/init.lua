-- `http.request` against the test's local servers; each route answers what happened.
local server = require("http").server.new()

local function outcome(request)
    local ok, response = pcall(request.execute, request)
    if not ok then
        return { error = (tostring(response):gsub("\nstack traceback:.*", "")) }
    end
    return {
        status = response:status_code(),
        url = response:url(),
        remote = response:remote_address(),
        header = response:headers()["x-test"],
        body = response:body():text(),
    }
end

server:get("/fetch", function(request)
    return outcome(http.request(request:queries().url))
end)

-- The bodies Astra's client builds, as the echo server saw them.
server:get("/send", function(request)
    local q = request:queries()
    local details = { url = q.url, method = "post", headers = { ["X-Trace"] = "t1" } }
    if q.kind == "json" then details.body = { name = "pen", tags = { "a" } }
    elseif q.kind == "text" then details.body = "plain words"
    elseif q.kind == "bytes" then details.body = { 104, 105 }
    elseif q.kind == "form" then details.form = { a = "1", b = "x y" }
    elseif q.kind == "file" then details.file = { name = "doc", path = "upload.txt" }
    end
    local sent = outcome(http.request(details))
    return sent.body and require("serde").json.decode(sent.body) or sent
end)

-- Setters return copies: a call whose result is dropped changes nothing.
server:get("/copies", function(request)
    local base = http.request(request:queries().url)
    base:set_header("x-dropped", "1")
    local changed = base:set_method("put"):set_header("x-kept", "1")
    local echoed = require("serde").json.decode(changed:execute():body():text())
    return { method = echoed.method, kept = echoed.headers["x-kept"], dropped = echoed.headers["x-dropped"] }
end)

-- The callback gets the head, then the body, after this response went out.
server:get("/stream", function(request)
    local fs = require("fs")
    http.request(request:queries().url):execute_streaming(function(response)
        local seen = fs.exists("stream.txt") and fs.read_file("stream.txt") or ""
        fs.write_file("stream.txt", seen .. response:status_code() .. ":" .. response:body():text() .. ";")
    end)
    return "streaming"
end)

server:get("/read", function(request)
    local fs = require("fs")
    local name = request:queries().name
    return fs.exists(name) and fs.read_file(name) or "missing"
end)

server:get("/errors", function()
    local function message(f, ...)
        local ok, err = pcall(f, ...)
        return ok and "no error" or (tostring(err):gsub("\nstack traceback:.*", ""))
    end
    local request = http.request("http://127.0.0.1:1/")
    return {
        bad_argument = message(http.request, 42),
        no_url = message(http.request, { method = "GET" }),
        deprecated = message(request.set_json, request, {}),
        websocket = message(request.execute_websocket, request, function() end),
        not_a_url = message(request.execute, http.request("not a url")),
    }
end)

server:run()
