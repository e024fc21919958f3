-- L4: an app whose data folder holds a great many files (the test puts them there).
local server = require("http").server.new()
server:get("/", function() return "filer" end)
server:run()
