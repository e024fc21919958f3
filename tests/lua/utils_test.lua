local test = require("test")
local describe, it, expect = test.describe, test.it, test.expect
local utils = require("utils")

describe("utils", function()
    it("makes random version 4 UUIDs", function()
        local first, second = utils.uuid(), utils.uuid()
        expect(first).to.match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$")
        expect(first).to_not.equal(second)
    end)

    it("reads and sets the instance's environment, as getenv and setenv do", function()
        utils.env.set("UTILS_TEST", "set by utils")
        expect(utils.env.get("UTILS_TEST")).to.be("set by utils")
        expect(getenv("UTILS_TEST")).to.be("set by utils")
        expect(utils.env.get("UTILS_TEST_UNSET")).to_not.exist()
    end)

    it("loads a .env file from the view over the environment, with substitution", function()
        utils.env.set("FIXTURE_NAME", "before")
        dotenv_load("fixtures/sample.env")
        expect(getenv("FIXTURE_NAME")).to.be("fixture")
        expect(getenv("FIXTURE_GREETING")).to.be("hello fixture")
        expect(getenv("FIXTURE_EXPORTED")).to.be("yes")
        -- As in Astra, a file that is not there is passed over.
        expect(function() utils.dotenv_load("fixtures/none.env") end).to_not.fail()
        expect(function() dotenv_load("../../etc/passwd") end).to_not.fail()
        expect(getenv("root")).to_not.exist()
    end)

    it("drops a module from the require cache, so that it runs again", function()
        local first = require("fixtures.counter")
        expect(require("fixtures.counter")).to.be(first)
        utils.clean_require("fixtures.counter")
        expect(require("fixtures.counter")).to_not.be(first)
    end)

    it("runs a timeout's task when it is awaited, once", function()
        local runs = 0
        local handle = utils.spawn_timeout(function() runs = runs + 1 end, 20)
        handle:await()
        handle:await()
        expect(runs).to.be(1)
    end)

    it("runs an interval until it is aborted, even from inside its task", function()
        local count = 0
        local handle
        handle = utils.spawn_interval(function()
            count = count + 1
            if count == 3 then handle:abort() end
        end, 10)
        handle:await()
        expect(count).to.be(3)
    end)
end)
