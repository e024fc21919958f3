-- datetime from routes: local times in the app's zone (astra.toml), parsing, arithmetic,
-- formatting, os.date, and each error as a 400 with its message.
local datetime = require("datetime")
local server = require("http").server.new()

local function answer(response, ok, result)
    if ok then return result end
    response:set_status_code(400)
    return { error = tostring(result):gsub("^runtime error: ", ""):gsub("\nstack traceback:.*", "") }
end

server:get("/local", function(request)
    local query = request:queries()
    local moment = datetime.new(tonumber(query.year), tonumber(query.month), tonumber(query.day), tonumber(query.hour))
    return { rfc3339 = moment:to_rfc3339(), offset = moment:get_timezone_offset(), weekday = moment:get_weekday() }
end)

server:post("/parse", function(request, response)
    return answer(response, pcall(function()
        local moment = datetime.new(request:body():text())
        return { iso = moment:to_iso_string(), utc = moment:to_utc():to_rfc3339(), here = moment:to_local():to_rfc3339() }
    end))
end)

server:get("/next-month", function(request)
    local moment = datetime.new(request:queries().date)
    return { date = moment:add_months(1):to_date_string(), formatted = moment:to_format("%d %B %Y") }
end)

server:get("/format", function(request, response)
    return answer(response, pcall(function() return datetime.new(2020, 1, 2):to_format(request:queries().with) end))
end)

server:get("/os-date", function(request)
    return { text = os.date("%Y-%m-%d %H:%M %z", tonumber(request:queries().at)) }
end)

server:run()
