local http = require("http")
local server = http.server:new()
local function sunny_day(request, response)
return "What a great sunny day!"
end
--- `on Leave:`
--- sets `"Content-Type": "text/html"` response header
local function html(next_handler)
return function(request, response, ctx)
local result = next_handler(request, response, ctx)
response:set_header("Content-Type", "text/html")
return result
end
end
server:get("/sunny-day-plain-text", sunny_day)
server:get("/sunny-day-html", html(sunny_day))
server:run()
