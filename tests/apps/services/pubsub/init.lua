-- App-wide pub/sub outside WebSockets: each instance keeps what it heard on "news" in its
-- own Lua table; the test makes several instances and checks that each heard everything.
local stores = require("stores")
local heard = {}
stores.pubsub.subscribe("news", function(data, topic)
    table.insert(heard, topic .. ": " .. data.text)
end)

local server = require("http").server.new()

server:post("/publish", function(request)
    stores.pubsub.publish("news", { text = request:body():text() })
    return "published"
end)

-- Holds its instance for a while, so that concurrent requests need instances of their own.
server:get("/heard", function(request)
    require("datetime").sleep(tonumber(request:queries().hold or "0"))
    return heard
end)

server:get("/not-json", function()
    local ok, err = pcall(stores.pubsub.publish, "news", { f = print })
    return (tostring(err):gsub("\nstack traceback:.*", ""))
end)

server:run()
