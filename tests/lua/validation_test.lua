local test = require("test")
local describe, it, expect = test.describe, test.it, test.expect
local validation = require("validation")
local t = validation.types

local function fails_with(schema, value, message)
    local valid, got = schema:validate(value)
    expect(valid).to.be(false)
    expect(got).to.be(message)
end

describe("validation", function()
    it("checks types", function()
        expect(t.string():validate("x")).to.be(true)
        fails_with(t.string(), 3, "expected string, got number")
        fails_with(t.boolean(), "yes", "expected boolean, got string")
        expect(t.number():validate(1.5)).to.be(true)
        fails_with(t.number({ integer = true }), 3.14, "expected integer, got 3.14")
        fails_with(t.integer(), 3.14, "expected integer, got 3.14")
        expect(t.integer():validate(3)).to.be(true)
        expect(t.none():validate(nil)).to.be(true)
        fails_with(t.none(), 1, "expected nil, got number")
    end)

    it("checks ranges, patterns and literals", function()
        local percent = t.number({ range = { min = 0, max = 100 } })
        expect(percent:validate(100)).to.be(true)
        fails_with(percent, 101, "out of range")
        fails_with(t.number({ range = { min = 0, minExclusive = true } }), 0, "out of range")
        fails_with(t.range({ max = 1 }), 2, "out of range")
        fails_with(t.pattern("^%d+$"), "12a", "string does not match pattern")
        expect(t.pattern("^%d+$"):validate("123")).to.be(true)
        fails_with(t.literal("admin"), "user", "expected admin, got user")
    end)

    it("checks structs, arrays, optionals and unions, naming where", function()
        local user = t.struct({
            name = t.string(),
            age = t.optional(t.integer()),
            tags = t.array(t.string()),
            address = t.struct({ city = t.string() }),
            role = t.union(t.literal("admin"), t.literal("user")),
        })
        local valid = { name = "Ada", tags = { "a" }, address = { city = "London" }, role = "user" }
        expect(user:validate(valid)).to.be(true)
        fails_with(user, { name = "Ada", tags = { "a", 2 }, address = { city = "x" }, role = "user" },
            "tags[2]: expected string, got number")
        fails_with(user, { name = "Ada", tags = {}, address = {}, role = "user" },
            "address.city: expected string, got nil")
        fails_with(user, { name = "Ada", tags = {}, address = { city = "x" }, role = "guest" },
            "role: value did not match any union member")
        fails_with(user, { name = "Ada", tags = {}, address = { city = "x" }, role = "user", extra = 1 },
            "unexpected key: extra")
        fails_with(user, "Ada", "expected table, got string")
        expect(t.validate(user, valid)).to.be(true)
    end)

    it("builds values with defaults", function()
        local Settings = t.build(t.struct({ port = t.integer({ default = 8080 }), host = t.string() }))
        local settings = Settings({ host = "localhost" })
        expect(settings).to.equal({ host = "localhost", port = 8080 })
        expect(function() Settings({ port = 1 }) end).to.fail.with("host: expected string, got nil")
        expect(function() Settings("nope") end).to.fail.with("expected table, got string")
        expect(Settings:type().kind).to.be("struct")
        expect(Settings:validate({ host = "h", port = 1 })).to.be(true)
    end)

    it("defines its constructors as globals", function()
        expect(string_type).to.be(t.string)
        expect(boolean_type).to.be(t.boolean)
        expect(struct).to.be(t.struct)
        expect(regex).to.be(validation.regex)
        expect(struct({ n = number() }):validate({ n = 1 })).to.be(true)
    end)
end)
