-- Cookies: a visit counter kept in the browser, and a way to forget it.
local server = require("http").server.new()

server:get("/", function(request, response)
    local cookie = request:get_cookie("visits")
    local visits = cookie and tonumber(cookie:get_value()) or 0
    local updated = request:new_cookie("visits", tostring(visits + 1))
    updated:set_path("/")
    updated:set_http_only(true)
    updated:set_max_age(3600)
    response:set_cookie("visits", updated)
    return "visit number " .. (visits + 1)
end)

server:get("/forget", function(_, response)
    response:remove_cookie("visits")
    return "forgotten"
end)

server:run()
