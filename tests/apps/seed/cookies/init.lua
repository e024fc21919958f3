local server = require("http").server.new()
server:get("/", function(request)
local cookie = request:new_cookie("key", "value")
return "HEY"
end)
server:get("/set", function(request, response)
local cookie = request:new_cookie("key", "value")
response:set_cookie("key", cookie)
return "set"
end)
server:get("/get", function(request, response)
local cookie = request:get_cookie("key")
if cookie == nil then return "no cookie" end
return cookie:get_name() .. "=" .. cookie:get_value()
end)
server:get("/remove", function(request, response)
response:remove_cookie("key")
return "removed"
end)
server:get("/attributes", function(request, response)
local cookie = request:new_cookie("first", "1")
cookie:set_name("session")
cookie:set_value("abc")
cookie:set_domain("cookies.localhost")
cookie:set_path("/")
cookie:set_expiration(4102444800)
cookie:set_http_only(true)
cookie:set_max_age(600)
cookie:set_secure(false)
cookie:set_same_site("Lax")
response:set_cookie(cookie)
local permanent = request:new_cookie("forever", "yes")
permanent:set_permanent()
response:set_cookie(permanent)
return {
name = cookie:get_name(), value = cookie:get_value(), domain = cookie:get_domain(),
path = cookie:get_path(), expiration = cookie:get_expiration(), http_only = cookie:get_http_only(),
max_age = cookie:get_max_age(), secure = cookie:get_secure(), same_site = cookie:get_same_site(),
permanent_max_age = permanent:get_max_age(),
}
end)
server:run()
