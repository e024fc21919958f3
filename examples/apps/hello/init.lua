-- The smallest useful app: text, JSON and a path parameter.
local http = require("http")
local server = http.server.new()

server:get("/", function()
    return "hello from default Astra instance! " .. Astra.version
end)

server:get("/json", function()
    return { message = "hello", items = { 1, 2, 3 } }
end)

server:get("/users/{id}", function(request, response)
    local params = request:params()
    response:set_header("x-user-id", tostring(params.id))
    return { id = params.id, kind = math.type(params.id) or type(params.id) }
end)

server:run()
