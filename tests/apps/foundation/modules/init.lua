-- App-local modules are found in the app folder; their errors name their own file.
local greet = require("lib.greet")
local server = require("http").server.new()
server:get("/", function() return greet.hello("modules") end)
server:get("/fail", function() return greet.fail() end)
server:run()
