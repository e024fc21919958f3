-- C1: shows whatever environment its .env gave it. Each test plants a different .env.
local server = require("http").server.new()
server:get("/", function()
    return { good = os.getenv("GOOD_SECRET"), host = os.getenv("HOST_SECRET") }
end)
server:run()
