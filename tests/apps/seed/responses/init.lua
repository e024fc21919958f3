local server = require("http").server.new()
server:get("/", function(req, res)
-- set header code
res:set_status_code(300)
-- set headers
res:set_header("header-key", "header-value")
return "Responding with Code 300 cuz why not"
end)
server:run()
