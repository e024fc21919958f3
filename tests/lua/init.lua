-- astra-host's own Lua test suite, written with its `require("test")` and run by
-- `astra-host run tests/lua [-- nocolor]` (tests/stdlib/lua_suite.rs runs it in `make test`). Each
-- file covers one module, case by case; a failure makes the run exit 1.
local test = require("test")
if arg[2] == "nocolor" then test.nocolor() end

for _, suite in ipairs({
    "test_test", "stores_test", "validation_test", "regex_test", "runtime_test", "fs_test", "require_test", "serde_test", "utils_test", "templates_test", "datetime_test",
}) do
    require(suite)
end

print(string.format("%d passed, %d failed", test.passes, test.errors))
if test.errors > 0 then error(test.errors .. " test(s) failed", 0) end
