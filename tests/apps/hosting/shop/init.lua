local server = require("http").server.new()
server:get("/", function() return "shop" end)
server:get("/slow", function()
    local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
    return "slow " .. fib(25)
end)
server:run()
