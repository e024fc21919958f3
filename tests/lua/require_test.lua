-- Astra's `require`: dotted names are folders, `./` is relative to the requiring file,
-- files of the app folder shadow built-in modules, and `@astra/` names built-in ones.
local test = require("test")
local describe, it, expect = test.describe, test.it, test.expect

describe("require", function()
    it("finds modules by dotted names, relative to the requiring file", function()
        local answer = require("fixtures.modules.answer")
        expect(answer.value).to.be(42)
        expect(answer.script).to.be("fixtures/modules/answer.lua")
        expect(answer.sibling).to.be("sibling of fixtures/modules/sibling.lua")
        expect(CURRENT_SCRIPT).to.be("require_test.lua")
        expect(require("fixtures.modules.nested")).to.be("nested init")
        expect(require("fixtures/modules/answer")).to.equal(answer)
    end)

    it("names a module's file in its errors, and keeps CURRENT_SCRIPT", function()
        local loaded, message = pcall(require, "fixtures.modules.broken")
        expect(loaded).to.be(false)
        expect(message).to.match("^fixtures/modules/broken.lua:2: broken on purpose")
        expect(CURRENT_SCRIPT).to.be("require_test.lua")
        local found, missing = pcall(require, "no.such.module")
        expect(found).to.be(false)
        expect(missing).to.match("no file 'no/such/module.lua' in the app folder")
    end)

    it("lets an app's own file shadow a built-in module", function()
        local fs = require("fs")
        fs.change_dir("fixtures/shadow")
        package.loaded.crypto = nil
        expect(require("crypto")).to.be("the app's own crypto")
        fs.change_dir("/")
        package.loaded.crypto = nil
        expect(type(require("crypto").hash)).to.be("function")
        expect(require("@astra/crypto")).to.be(require("crypto"))
        expect(require("astra.fs")).to.be(require("fs"))
    end)

    it("finds code in the app folder only, never in what the app wrote", function()
        local fs = require("fs")
        fs.write_file("written_module.lua", "return 'written'")
        expect(pcall(require, "written_module")).to.be(false)
        fs.remove("written_module.lua")
    end)
end)
