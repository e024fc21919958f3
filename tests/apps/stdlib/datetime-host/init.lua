-- No timezone in astra.toml: local time is the host's zone.
local datetime = require("datetime")
local server = require("http").server.new()
server:get("/", function()
    local summer = datetime.new(2024, 7, 1, 12)
    return { summer = summer:get_timezone_offset(), text = os.date("%H:%M %Z", 1719835200) }
end)
server:run()
