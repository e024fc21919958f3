local datetime = require("datetime")
local server = http.server:new()
---@param ctx { datetime: DateTime }
local function favourite_day(_request, _response, ctx)
local today = string.format(
"%d/%d/%d",
ctx.datetime:get_day(),
ctx.datetime:get_month(),
ctx.datetime:get_year()
)
return "My favourite day is " .. today
end
--- `on Entry:`
--- Inserts `datetime.new()` into `ctx.datetime`
---
--- `Depends on:`
--- `ctx`
local function insert_datetime(next_handler)
return function(request, response, ctx)
ctx.datetime = datetime.new()
return next_handler(request, response, ctx)
end
end
--- `on Entry:`
--- Creates a new `ctx` table and passes it as a third argument into the `next_handler`
local function ctx(next_handler)
return function(request, response)
local ctx = {}
return next_handler(request, response, ctx)
end
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
server:get("/favourite-day", ctx(insert_datetime(html(favourite_day))))
server:run()
