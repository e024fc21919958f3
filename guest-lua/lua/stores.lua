-- `require("stores")`: an observable value, and topics to publish on.
--
-- An observable lives in the instance that made it, as every Lua value does. Topics with
-- string names are app-wide (decision 2): the host carries what one instance publishes, as
-- JSON, to the subscribers in the app's other instances (`stdlib/pubsub.rs`). The
-- publisher's own subscribers are called at once, as in Astra.

local host = ...
local stores = {}

local function remove_first(list, item)
    for i, candidate in ipairs(list) do
        if candidate == item then
            table.remove(list, i)
            return
        end
    end
end

-- A value with observers: `publish` calls each, in the order they subscribed, with `data`.
-- The store never changes `value` itself.
function stores.observable(value)
    local store = { value = value, observers = {} }
    function store.subscribe(self, observer) table.insert(self.observers, observer) end
    function store.unsubscribe(self, observer) remove_first(self.observers, observer) end
    function store.publish(self, data)
        for _, observer in ipairs(self.observers) do observer(data) end
    end
    return store
end

local topics = {}

stores.pubsub = {}

local function app_wide(topic)
    return type(topic) == "string"
end

function stores.pubsub.subscribe(topic, subscriber)
    topics[topic] = topics[topic] or {}
    table.insert(topics[topic], subscriber)
    if #topics[topic] == 1 and app_wide(topic) then host.subscribe(topic) end
end

-- Removes `subscriber`, or the last one to subscribe when none is given.
function stores.pubsub.unsubscribe(topic, subscriber)
    local subscribers = topics[topic]
    if not subscribers then return end
    if subscriber == nil then
        table.remove(subscribers)
    else
        remove_first(subscribers, subscriber)
    end
    if #subscribers == 0 and app_wide(topic) then host.unsubscribe(topic) end
end

-- Calls the topic's subscribers as they stand when it starts, with (data, topic).
local function call_subscribers(topic, data)
    local subscribers = topics[topic]
    if not subscribers then return end
    for _, subscriber in ipairs(table.move(subscribers, 1, #subscribers, 1, {})) do
        subscriber(data, topic)
    end
end

-- Here at once, and in the app's other instances as they next run.
function stores.pubsub.publish(topic, data)
    if app_wide(topic) then host.publish(topic, data) end
    call_subscribers(topic, data)
end

host.on_delivery(call_subscribers)

return stores
