local server = require("http").server.new()
local config = nil
local port = config.port -- indexing nil: a runtime error on line 3
server:run()
