-- Every request and response call of the foundation, one route each.
local http = require("http")
assert(require("astra.http") == http, "astra.http and http are one module")
local server = http.server:new()

server:get("/text", function() return "plain text" end)
server:get("/nil", function() end)
server:get("/table", function() return { a = 1, list = { 1, 2, 3 } } end)
server:get("/bytes", function() return { 104, 105, 0, 255 } end)

server:get("/params/{id}/{name}", function(request)
    local params = request:params()
    return { id = params.id, id_type = math.type(params.id), name = params.name, name_type = type(params.name) }
end)
server:get("/queries", function(request) return request:queries() end)
server:get("/headers", function(request) return request:headers() end)
server:get("/uri", function(request) return request:uri() end)
-- Callbacks that take `...` still get both arguments.
server:get("/varargs", function(...)
    local request, response = ...
    response:set_header("x-arguments", tostring(select("#", ...)))
    return request:uri()
end)

for _, method in ipairs({ "get", "post", "put", "patch", "delete", "options", "trace", "parse" }) do
    server[method](server, "/method", function(request) return request:method() end)
end

server:post("/echo/text", function(request) return request:body():text() end)
server:post("/echo/json", function(request)
    local decoded = request:body():json()
    decoded.seen = true
    return decoded
end)
server:post("/echo/bytes", function(request)
    local bytes = request:body():bytes()
    return { count = #bytes, first = bytes[1], last = bytes[#bytes] }
end)
server:post("/small", function(request) return request:body():text() end, { body_limit = 16 })

server:get("/status", function(_, response)
    response:set_status_code(201)
    return "created"
end)
server:get("/bad-status", function(_, response) response:set_status_code(42) end)
server:get("/headers-out", function(_, response)
    response:set_header("X-Custom", "yes")
    response:set_header("X-Gone", "soon")
    response:remove_header("x-gone")
    return response:get_headers()
end)
server:get("/html", function(_, response)
    response:set_header("Content-Type", "text/html")
    return "<h1>hi</h1>"
end)
server:get("/redirect/to", function(_, response) response:redirect_to("/text") end)
server:get("/redirect/temporary", function(_, response) response:redirect_temporary("/text") end)
server:get("/redirect/permanent", function(_, response) response:redirect_permanent("/text") end)

server:get("/codes", function()
    local codes = http.status_codes
    return { ok = codes.OK, not_found = codes.NOT_FOUND, teapot = codes.IM_A_TEAPOT }
end)
server:get("/astra", function() return { version = Astra.version } end)
server:get("/server-defaults", function()
    local plain = http.server.new()
    return { hostname = plain.hostname, port = plain.port, compression = plain.compression,
             version = plain.version, routes = #plain.routes }
end)
server:get("/routes", function()
    local first = server.routes[1]
    return { first_path = first.path, first_method = first.method, func = type(first.func),
             config = type(first.config), count = #server.routes }
end)
server:get("/print", function()
    print("printed", 1, true)
    pprint({ nested = { 1, 2 }, name = "x" })
    return "ok"
end)
server:get("/error", function() error("boom from a route") end)
server:get("/error-in-api", function(_, response) response:set_status_code("nope") end)
server:get("/", function() return "root" end) -- registered last, served first

server.port = 9999 -- ignored under --apps
server:run()
