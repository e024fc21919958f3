-- `require("test")`: a small test framework with the interface Astra's test suites use:
-- `describe`, `it` (or `test`), `before`, `after`, `expect`, `spy`, `nocolor`, and the
-- counters `passes`, `errors`, `level`.
--
-- `expect(value)` reads as English: `expect(x).to.equal(y)`, `expect(f).to_not.fail()`.
-- Each word is a key of `paths`, which lists the words that may follow it; a word's `chain`
-- runs when it is read (`to_not` negates), and calling the chain runs the last word's
-- `test`. Suites add their own words to `paths` (a `least` under `be`, say).

local test = { level = 0, passes = 0, errors = 0 }

local red, green, normal = "\27[31m", "\27[32m", "\27[0m"

-- Hooks by the `describe` level they were registered at (0: outside any).
local before_hooks, after_hooks = {}, {}

local function tabs(level) return string.rep("\t", level) end

local function run_hooks(hooks, name)
    for level = 0, test.level do
        for _, hook in ipairs(hooks[level] or {}) do hook(name) end
    end
end

function test.nocolor()
    red, green, normal = "", "", ""
    return test
end

function test.describe(name, body)
    print(tabs(test.level) .. name)
    test.level = test.level + 1
    body()
    before_hooks[test.level], after_hooks[test.level] = nil, nil
    test.level = test.level - 1
end

function test.it(name, body)
    run_hooks(before_hooks, name)
    local passed, failure = pcall(body)
    if passed then
        test.passes = test.passes + 1
        print(tabs(test.level) .. green .. "PASS" .. normal .. " " .. name)
    else
        test.errors = test.errors + 1
        print(tabs(test.level) .. red .. "FAIL" .. normal .. " " .. name)
        print(tabs(test.level + 1) .. red .. tostring(failure) .. normal)
    end
    run_hooks(after_hooks, name)
end
test.test = test.it

function test.before(hook)
    before_hooks[test.level] = before_hooks[test.level] or {}
    table.insert(before_hooks[test.level], hook)
end

function test.after(hook)
    after_hooks[test.level] = after_hooks[test.level] or {}
    table.insert(after_hooks[test.level], hook)
end

local function contains(list, item)
    for _, candidate in ipairs(list) do
        if candidate == item then return true end
    end
    return false
end

-- Deep equality; numbers within `margin` if one is given.
local function equal(a, b, margin)
    if type(a) ~= type(b) then return false end
    if type(a) == "number" and margin then return math.abs(a - b) <= margin end
    if type(a) ~= "table" then return a == b end
    for key, value in pairs(a) do
        if not equal(value, b[key], margin) then return false end
    end
    for key in pairs(b) do
        if a[key] == nil then return false end
    end
    return true
end

-- `kind` is a type name, or a table `value` inherits from through `__index`.
local function is_a(value, kind)
    if type(kind) == "string" then return type(value) == kind end
    if type(kind) ~= "table" or type(value) ~= "table" then return false end
    local seen, class = {}, value
    while class and not seen[class] do
        if class == kind then return true end
        seen[class] = true
        local meta = getmetatable(class)
        class = meta and meta.__index
    end
    return false
end

local function show(value) return type(value) == "string" and string.format("%q", value) or tostring(value) end

-- Each test returns whether it holds, the failure message, and the message when negated.
test.paths = {
    [""] = { "to", "to_not" },
    to = { "have", "equal", "be", "exist", "fail", "match" },
    to_not = {
        "have", "equal", "be", "exist", "fail", "match",
        chain = function(assertion) assertion.negate = not assertion.negate end,
    },
    a = {
        test = function(value, kind)
            return is_a(value, kind), "expected " .. show(value) .. " to be a " .. show(kind),
                "expected " .. show(value) .. " to not be a " .. show(kind)
        end,
    },
    be = {
        "a", "an", "truthy",
        test = function(value, other)
            return value == other, "expected " .. show(value) .. " and " .. show(other) .. " to be equal",
                "expected " .. show(value) .. " and " .. show(other) .. " to not be equal"
        end,
    },
    exist = {
        test = function(value)
            return value ~= nil, "expected " .. show(value) .. " to exist", "expected " .. show(value) .. " to not exist"
        end,
    },
    truthy = {
        test = function(value)
            return value and true or false, "expected " .. show(value) .. " to be truthy",
                "expected " .. show(value) .. " to not be truthy"
        end,
    },
    equal = {
        test = function(value, other, margin)
            return equal(value, other, margin), "expected " .. show(value) .. " and " .. show(other) .. " to be equal",
                "expected " .. show(value) .. " and " .. show(other) .. " to not be equal"
        end,
    },
    have = {
        test = function(list, item)
            if type(list) ~= "table" then error("expected " .. show(list) .. " to be a table", 3) end
            return contains(list, item), "expected " .. show(list) .. " to contain " .. show(item),
                "expected " .. show(list) .. " to not contain " .. show(item)
        end,
    },
    fail = {
        "with",
        test = function(body)
            return not pcall(body), "expected " .. show(body) .. " to fail", "expected " .. show(body) .. " to not fail"
        end,
    },
    with = {
        test = function(body, pattern)
            local passed, message = pcall(body)
            return not passed and tostring(message):find(pattern) ~= nil,
                "expected " .. show(body) .. " to fail with " .. show(pattern),
                "expected " .. show(body) .. " to not fail with " .. show(pattern)
        end,
    },
    match = {
        test = function(value, pattern)
            return tostring(value):find(pattern) ~= nil, "expected " .. show(value) .. " to match " .. show(pattern),
                "expected " .. show(value) .. " to not match " .. show(pattern)
        end,
    },
}
test.paths.an = test.paths.a

function test.expect(value)
    local assertion = { val = value, action = "", negate = false }
    return setmetatable(assertion, {
        __index = function(self, word)
            local path = test.paths[rawget(self, "action")]
            if path and contains(path, word) then
                rawset(self, "action", word)
                local next_path = test.paths[word]
                if next_path and next_path.chain then next_path.chain(self) end
                return self
            end
        end,
        __call = function(self, ...)
            local path = test.paths[self.action]
            if not (path and path.test) then return end
            local holds, failure, negated_failure = path.test(self.val, ...)
            if self.negate then
                holds, failure = not holds, negated_failure or failure
            end
            if not holds then error(failure or "the expectation failed", 2) end
        end,
    })
end

-- Records every call (its arguments, as `spy[n]`) of `target[name]`, which it wraps, or of
-- the function `target`; calls `run` (or, for a function, `name`) once it is in place.
function test.spy(target, name, run)
    local spy, subject = {}, nil
    local function record(...)
        table.insert(spy, { ... })
        return subject(...)
    end
    if type(target) == "table" then
        subject = target[name]
        target[name] = record
    else
        run = name
        subject = target or function() end
    end
    setmetatable(spy, { __call = function(_, ...) return record(...) end })
    if run then run() end
    return spy
end

return test
