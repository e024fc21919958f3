local server = require("http").server.new()
server:get("/small", function() return string.rep("s", 1024) end)
server:get("/large", function() return string.rep("l", 1025) end)
server:get("/many-headers", function(_, response)
    for i = 1, 1000 do response:set_header("x-header-" .. i, string.rep("h", 100)) end
end)
server:get("/many-cookies", function(request, response)
    for i = 1, 1000 do response:set_cookie("c" .. i, request:new_cookie("c" .. i, string.rep("c", 100))) end
end)
server:get("/some-headers", function(_, response)
    for i = 1, 50 do response:set_header("x-header-" .. i, string.rep("h", 100)) end
end)
server:run()
