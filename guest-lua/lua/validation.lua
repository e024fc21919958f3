-- `require("validation")`: schemas for Lua values, and `regex`.
--
-- A validator is a table with a `kind` and a `validate` method that answers `true` or
-- `false, message`; a message names where in the value it went wrong (`address.city: ...`,
-- `[2]: ...`). As in Astra, requiring the module also defines its constructors as globals
-- (`string_type`, `number`, `struct`, ..., `regex`), which apps use without a prefix.
local internal = ...

local Validator = {}
Validator.__index = Validator

local function validator(kind, check, fields)
    local made = setmetatable(fields or {}, Validator)
    made.kind, made.check = kind, check
    return made
end

-- A failure at `path` (a list of keys and indexes), to be written out once at the top.
local function failure(message, path)
    return { message = message, path = path or {} }
end

local function written(fail)
    local where = ""
    for _, step in ipairs(fail.path) do
        if type(step) == "number" then
            where = where .. "[" .. step .. "]"
        else
            where = where == "" and step or where .. "." .. step
        end
    end
    return where == "" and fail.message or where .. ": " .. fail.message
end

local function shown(value) return type(value) == "string" and value or tostring(value) end

-- The failure of `v` against `schema`, or nil.
local function check(schema, value)
    return schema.check(schema, value)
end

function Validator:validate(value)
    local fail = check(self, value)
    if fail then return false, written(fail) end
    return true, nil
end

local function of_type(kind, lua_type, extra)
    return function(options)
        options = options or {}
        return validator(kind, function(self, value)
            if type(value) ~= lua_type then return failure("expected " .. kind .. ", got " .. type(value)) end
            if extra then return extra(self, value) end
        end, { default = options.default, options = options })
    end
end

local function in_range(range, value)
    if range.min ~= nil and (value < range.min or (range.minExclusive and value == range.min)) then return false end
    if range.max ~= nil and (value > range.max or (range.maxExclusive and value == range.max)) then return false end
    return true
end

local types = {}

types.string = of_type("string", "string")
types.boolean = of_type("boolean", "boolean")

local function number_rules(self, value)
    local options = self.options
    if (options.integer or self.kind == "integer") and math.type(value) ~= "integer" and value ~= math.floor(value) then
        return failure("expected integer, got " .. shown(value))
    end
    if options.range and not in_range(options.range, value) then return failure("out of range") end
end

types.number = of_type("number", "number", number_rules)

-- A number that is whole; takes `number`'s options (`range`, `default`) too.
types.integer = of_type("integer", "number", number_rules)

function types.range(range)
    return validator("range", function(_, value)
        if type(value) ~= "number" then return failure("expected number, got " .. type(value)) end
        if not in_range(range, value) then return failure("out of range") end
    end, { range = range })
end

function types.none()
    return validator("none", function(_, value)
        if value ~= nil then return failure("expected nil, got " .. type(value)) end
    end)
end

function types.pattern(lua_pattern)
    return validator("pattern", function(_, value)
        if type(value) ~= "string" then return failure("expected string, got " .. type(value)) end
        if not value:find(lua_pattern) then return failure("string does not match pattern") end
    end, { pattern = lua_pattern })
end

function types.literal(expected)
    return validator("literal", function(_, value)
        if value ~= expected then return failure("expected " .. shown(expected) .. ", got " .. shown(value)) end
    end, { value = expected })
end

function types.optional(inner)
    return validator("optional", function(_, value)
        if value == nil then return nil end
        return check(inner, value)
    end, { inner = inner, default = inner.default })
end

function types.union(first, second, ...)
    if select("#", ...) > 0 or second == nil then error("union takes exactly two members", 2) end
    return validator("union", function(_, value)
        if check(first, value) and check(second, value) then
            return failure("value did not match any union member")
        end
    end, { members = { first, second } })
end

function types.array(item)
    return validator("array", function(_, value)
        if type(value) ~= "table" then return failure("expected table, got " .. type(value)) end
        for index, element in ipairs(value) do
            local fail = check(item, element)
            if fail then
                table.insert(fail.path, 1, index)
                return fail
            end
        end
    end, { item = item })
end

function types.struct(schema)
    return validator("struct", function(_, value)
        if type(value) ~= "table" then return failure("expected table, got " .. type(value)) end
        for key in pairs(value) do
            if schema[key] == nil then return failure("unexpected key: " .. shown(key)) end
        end
        local keys = {}
        for key in pairs(schema) do keys[#keys + 1] = key end
        table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
        for _, key in ipairs(keys) do
            local fail = check(schema[key], value[key])
            if fail then
                table.insert(fail.path, 1, key)
                return fail
            end
        end
    end, { schema = schema })
end

function types.validate(schema, value)
    return Validator.validate(schema, value)
end

-- A copy of `data` with the defaults of `schema`'s fields where it has none.
local function with_defaults(schema, data)
    local copy = {}
    for key, value in pairs(data) do copy[key] = value end
    for key, field in pairs(schema.schema) do
        if copy[key] == nil and field.default ~= nil then
            copy[key] = field.default
        elseif field.kind == "struct" and type(copy[key]) == "table" then
            copy[key] = with_defaults(field, copy[key])
        end
    end
    return copy
end

-- `Obj = build(struct)`: `Obj(data)` is a copy of `data` with its defaults, validated, or
-- an error saying what is wrong.
function types.build(schema)
    if getmetatable(schema) ~= Validator or schema.kind ~= "struct" then error("build takes a struct", 2) end
    local built = {}
    function built.type() return schema end
    function built.validate(_, value) return Validator.validate(schema, value) end
    return setmetatable(built, {
        __call = function(_, data)
            if type(data) ~= "table" then error("expected table, got " .. type(data), 2) end
            local copy = with_defaults(schema, data)
            local valid, message = Validator.validate(schema, copy)
            if not valid then error(message, 2) end
            return copy
        end,
    })
end

types.regex = internal.regex

string_type, number, integer, boolean_type = types.string, types.number, types.integer, types.boolean
none, struct, array, optional, union = types.none, types.struct, types.array, types.optional, types.union
literal, range, pattern, validate, build, regex = types.literal, types.range, types.pattern, types.validate,
    types.build, types.regex

return { types = types, regex = types.regex }
