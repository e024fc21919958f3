local server = require("http").server.new()
server:get("/", function() return "shop" end)
-- Stays in flight until the client sends the rest of its body: tests hold requests open with it.
server:post("/upload", function(request)
    print("upload started")
    return "received " .. #request:body():text() .. " bytes"
end)
server:run()
