-- M4: a large file the host compresses for every client that asks.
local server = require("http").server.new()
server:get("/", function() return "compressor" end)
server:static_file("/random.bin", "random.bin", { compression = true })
server:run()
