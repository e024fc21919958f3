-- L5: sets cookies for domains that are not its own.
local server = require("http").server.new()

server:get("/domain", function(request, response)
    local cookie = request:new_cookie("sid", "v")
    cookie:set_domain(request:queries().domain)
    cookie:set_path("/")
    response:set_cookie(cookie)
    return "set"
end)
server:get("/raw", function(request, response)
    response:set_header("Set-Cookie", "raw=1; Domain=" .. request:queries().domain .. "; Path=/")
    return "set"
end)
server:get("/path-injection", function(request, response)
    local cookie = request:new_cookie("p", "v")
    cookie:set_path("/; Domain=example.com; HttpOnly=x")
    response:set_cookie(cookie)
    return "set"
end)
server:run()
