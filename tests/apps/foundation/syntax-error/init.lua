local server = require("http").server.new()

server:get("/", function()
    return "this line is fine"
end

server:run()
