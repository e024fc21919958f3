-- The test framework itself: every word of `expect`, hooks, spies, and extending `paths`.
local test = require("test")
local describe, it, expect = test.describe, test.it, test.expect

describe("test", function()
    it("passes and fails as its expectations hold", function()
        expect(1).to.be(1)
        expect(1).to_not.be(2)
        expect({ a = { 1, 2 } }).to.equal({ a = { 1, 2 } })
        expect({ a = 1 }).to_not.equal({ a = 1, b = 2 })
        expect(0.1 + 0.2).to.equal(0.3, 1e-9)
        expect(false).to.exist()
        expect(nil).to_not.exist()
        expect(0).to.be.truthy()
        expect(false).to_not.be.truthy()
        expect("text").to.be.a("string")
        expect({}).to.be.an("table")
        expect({ 1, 2, 3 }).to.have(2)
        expect({ 1, 2, 3 }).to_not.have(4)
        expect(function() error("boom") end).to.fail()
        expect(function() error("boom here") end).to.fail.with("boom h")
        expect(function() end).to_not.fail()
        expect("hello world").to.match("^hello")
    end)

    it("reports a failed expectation as an error at the caller", function()
        local passed, message = pcall(function() expect(1).to.be(2) end)
        expect(passed).to.be(false)
        expect(message).to.match("test_test.lua:%d+: expected 1 and 2 to be equal")
        passed, message = pcall(function() expect(1).to_not.be(1) end)
        expect(message).to.match("expected 1 and 1 to not be equal")
    end)

    it("knows classes through __index", function()
        local Animal = {}
        Animal.__index = Animal
        local Dog = setmetatable({}, { __index = Animal })
        Dog.__index = Dog
        local rex = setmetatable({}, Dog)
        expect(rex).to.be.a(Dog)
        expect(rex).to.be.a(Animal)
        expect(rex).to_not.be.a({})
    end)

    local order = {}
    describe("hooks", function()
        test.before(function(name) table.insert(order, "before " .. name) end)
        test.after(function(name) table.insert(order, "after " .. name) end)
        it("first", function() table.insert(order, "first") end)
        it("second", function() table.insert(order, "second") end)
    end)
    it("run around each test of their level only", function()
        expect(order).to.equal({ "before first", "first", "after first", "before second", "second", "after second" })
    end)

    it("spies on functions and methods", function()
        local object = { add = function(a, b) return a + b end }
        local spy = test.spy(object, "add")
        expect(object.add(1, 2)).to.be(3)
        expect(#spy).to.be(1)
        expect(spy[1]).to.equal({ 1, 2 })
        local plain = test.spy(function(x) return x * 2 end)
        expect(plain(4)).to.be(8)
        expect(plain[1]).to.equal({ 4 })
    end)

    it("takes new words in paths", function()
        test.paths.least = {
            test = function(a, b) return a >= b, a .. " is less than " .. b, a .. " is at least " .. b end,
        }
        table.insert(test.paths.be, "least")
        expect(5).to.be.least(3)
        expect(2).to_not.be.least(3)
        expect(function() expect(2).to.be.least(3) end).to.fail.with("2 is less than 3")
    end)

    it("counts passes and failures", function()
        local passes, errors = test.passes, test.errors
        expect(passes > 0).to.be(true)
        expect(errors).to.be(0)
    end)
end)
