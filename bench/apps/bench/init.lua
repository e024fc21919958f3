-- The benchmark routes, the same as bench/baseline's axum ones.
local server = require("http").server.new()

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
