-- stores from routes: an observable counter and a topic, kept by the instance.
local stores = require("stores")
local server = require("http").server.new()

local visits = stores.observable(0)
visits:subscribe(function(delta) visits.value = visits.value + delta end)
local notes = {}
stores.pubsub.subscribe("notes", function(note, topic) table.insert(notes, topic .. ": " .. note) end)

server:post("/visit", function()
    visits:publish(1)
    return { visits = visits.value }
end)
server:post("/note", function(request)
    stores.pubsub.publish("notes", request:body():text())
    return notes
end)
server:run()
