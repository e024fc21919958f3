local test = require("test")
local describe, it, expect = test.describe, test.it, test.expect
local stores = require("stores")

describe("stores", function()
    it("observable calls its observers in order, and keeps its value", function()
        local store = stores.observable(10)
        local seen = {}
        local first = function(data) table.insert(seen, "first " .. data) end
        store:subscribe(first)
        store:subscribe(function(data) table.insert(seen, "second " .. data) end)
        store:publish("a")
        store:unsubscribe(first)
        store:publish("b")
        expect(seen).to.equal({ "first a", "second a", "second b" })
        expect(store.value).to.be(10)
    end)

    it("pubsub publishes to a snapshot of a topic's subscribers", function()
        local seen = {}
        local function late(data) table.insert(seen, "late " .. data) end
        stores.pubsub.subscribe("room", function(data, topic)
            table.insert(seen, topic .. " " .. data)
            stores.pubsub.subscribe("room", late)
        end)
        stores.pubsub.publish("room", "hello")
        expect(seen).to.equal({ "room hello" })
        stores.pubsub.unsubscribe("room")
        stores.pubsub.publish("room", "again")
        expect(seen[#seen]).to.be("room again")
        stores.pubsub.publish("nobody", "ignored")
        stores.pubsub.unsubscribe("nobody")
    end)

    it("is one module under both names", function()
        expect(require("astra.stores")).to.exist()
        expect(require("astra.stores").observable).to.be(stores.observable)
    end)
end)
