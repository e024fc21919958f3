-- validation and regex from a route: a signup form checked against a schema.
local validation = require("validation")
local t = validation.types
local server = require("http").server.new()

local Signup = t.build(t.struct({
    name = t.string(),
    email = t.pattern("^[^@%s]+@[^@%s]+$"),
    age = t.optional(t.integer({ range = { min = 13 } })),
    plan = t.string({ default = "free" }),
}))
local slug = regex([[[^a-z0-9]+]])

server:post("/signup", function(request, response)
    local accepted, user = pcall(Signup, request:body():json())
    if not accepted then
        response:set_status_code(400)
        return { error = user:gsub("^[^:]+:%d+: ", "") }
    end
    user.slug = slug:replace(user.name:lower(), "-")
    return user
end)
server:run()
