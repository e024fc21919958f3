local test = require("test")
local describe, it, expect = test.describe, test.it, test.expect
local serde = require("serde")

local document = {
    name = "astra",
    version = 52,
    ratio = 0.5,
    enabled = true,
    tags = { "web", "lua" },
    owner = { name = "Ada", id = 7 },
}

describe("serde", function()
    it("round-trips a document through json, json5, yaml and toml", function()
        for _, format in ipairs({ "json", "json5", "yaml", "toml" }) do
            local text = serde[format].encode(document)
            expect(type(text)).to.be("string")
            expect(serde[format].decode(text)).to.equal(document)
        end
    end)

    it("writes map keys in sorted order", function()
        expect(serde.json.encode({ b = 1, a = 2, c = 3 })).to.be('{"a":2,"b":1,"c":3}')
        expect(serde.yaml.encode({ b = 1, a = 2 })).to.be("a: 2\nb: 1\n")
    end)

    it("writes JSON objects in key order however many fields they have, and reads them back", function()
        local fields = {}
        for i = 1, 40 do fields["k" .. i] = { i, { z = i, a = -i } } end
        local text = serde.json.encode(fields)
        local previous = ""
        for key in text:gmatch('"(k%d+)"') do
            expect(key > previous).to.be(true)
            previous = key
        end
        expect(text:find('{"a":-1,"z":1}', 1, true)).to.exist()
        expect(serde.json.decode(text)).to.equal(fields)
        expect(serde.json.encode({ ["b\n"] = 1, ["a\""] = 2 })).to.be('{"a\\"":2,"b\\n":1}')
    end)

    it("reads null as nil in every format", function()
        expect(serde.json.decode('{"a": null, "b": 1}')).to.equal({ b = 1 })
        expect(serde.json5.decode("{a: null, b: 1}")).to.equal({ b = 1 })
        expect(serde.yaml.decode("a: ~\nb: 1\n")).to.equal({ b = 1 })
    end)

    it("drops a table's functions at the top level but not deeper", function()
        local object = { x = 1, method = function() end }
        expect(serde.yaml.decode(serde.yaml.encode(object))).to.equal({ x = 1 })
        expect(function() serde.yaml.encode({ inner = { f = print } }) end).to.fail.with("cannot encode as YAML")
    end)

    it("reads JSON5's comments, unquoted keys, single quotes and trailing commas", function()
        local text = "{\n  // a comment\n  name: 'astra', /* another */ list: [1, 2,],\n}"
        expect(serde.json5.decode(text)).to.equal({ name = "astra", list = { 1, 2 } })
        expect(function() serde.json5.decode("{a: }") end).to.fail.with("not valid JSON5")
    end)

    it("honours YAML's anchors and core tags, and refuses several documents", function()
        local decoded = serde.yaml.decode("base: &b {k: v}\ncopy: *b\ntext: !!str 42\nreal: !!float 42\n")
        expect(decoded.copy).to.equal({ k = "v" })
        expect(decoded.text).to.be("42")
        expect(math.type(decoded.real)).to.be("float")
        expect(function() serde.yaml.decode("a: 1\n---\nb: 2\n") end).to.fail.with("more than one document")
        expect(function() serde.yaml.decode("a: [") end).to.fail.with("not valid YAML")
    end)

    it("encodes TOML from a table only, and marks unquoted datetimes", function()
        expect(function() serde.toml.encode({ 1, 2 }) end).to.fail.with("cannot encode as TOML")
        local decoded = serde.toml.decode('when = 1979-05-27T07:32:00Z\nquoted = "1979-05-27"\n')
        expect(decoded.when).to.equal({ ["$__toml_private_datetime"] = "1979-05-27T07:32:00Z" })
        expect(decoded.quoted).to.be("1979-05-27")
    end)

    it("reads INI values as strings with their quotes, and writes plain keys before sections", function()
        local decoded = serde.ini.decode('port = 8080\nname = "John Doe"\n[db]\nhost = localhost\n')
        expect(decoded).to.equal({ port = "8080", name = '"John Doe"', db = { host = "localhost" } })
        expect(serde.ini.decode("")).to.equal({})
        local text = serde.ini.encode({ db = { host = "localhost" }, port = "8080" })
        expect(text).to.match("^port=8080")
        expect(serde.ini.decode(text)).to.equal({ port = "8080", db = { host = "localhost" } })
        expect(function() serde.ini.encode({ list = { 1, 2 } }) end).to.fail.with("cannot encode as INI")
    end)

    it("writes XML with attributes, text and repeated elements, and reads it back", function()
        local text = serde.xml.encode("feed", { ["@lang"] = "en", title = "News", item = { "a", "b" }, empty = {} })
        expect(text).to.be('<feed lang="en"><empty/><item>a</item><item>b</item><title>News</title></feed>')
        local decoded = serde.xml.decode(text)
        expect(decoded["@lang"]).to.be("en")
        expect(decoded.title).to.equal({ ["$text"] = "News" })
        -- Repeated siblings are all kept, in order.
        expect(decoded.item).to.equal({ { ["$text"] = "a" }, { ["$text"] = "b" } })
        expect(function() serde.xml.decode("<a><b></a>") end).to.fail.with("not valid XML")
    end)

    it("reads CSV with typed fields, headers and options, leaving out broken records", function()
        local decoded = serde.csv.decode("name,age,member\nAda,36,true\nBob,1.5,no\nbroken\n")
        expect(decoded.headers).to.equal({ "name", "age", "member" })
        expect(decoded.body).to.equal({ { "Ada", 36, true }, { "Bob", 1.5, "no" } })
        local plain = serde.csv.decode("1;2\n3;4\n", { delimiter = ";", has_headers = false })
        expect(plain.headers).to.equal({ 1, 2 })
        expect(plain.body).to.equal({ { 1, 2 }, { 3, 4 } })
        expect(serde.csv.decode("a,b\n1\n", { flexible = true }).body).to.equal({ { 1 } })
        expect(serde.csv.encode).to_not.exist()
    end)

    it("refuses documents nested past 128 levels instead of crashing", function()
        for format, text in pairs({
            json = string.rep("[", 100000),
            json5 = string.rep("[", 100000),
            yaml = string.rep("[", 100000),
            toml = "a = " .. string.rep("[", 100000),
            xml = string.rep("<a>", 100000),
        }) do
            expect(function() serde[format].decode(text) end).to.fail()
        end
        expect(serde.json5.decode(string.rep("[", 100) .. string.rep("]", 100))).to.exist()
    end)
end)
