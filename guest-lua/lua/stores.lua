-- `require("stores")`: an observable value, and topics to publish on.
--
-- Both live in the instance that required the module: an app may run in several instances
-- at once, and a topic subscribed to in one is not published to from another (as the
-- README says of every Lua global).

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

function stores.pubsub.subscribe(topic, subscriber)
    topics[topic] = topics[topic] or {}
    table.insert(topics[topic], subscriber)
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
end

-- Calls the topic's subscribers as they stand when it starts, with (data, topic).
function stores.pubsub.publish(topic, data)
    local subscribers = topics[topic]
    if not subscribers then return end
    for _, subscriber in ipairs(table.move(subscribers, 1, #subscribers, 1, {})) do
        subscriber(data, topic)
    end
end

return stores
