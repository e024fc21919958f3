local server = require("http").server.new()
server:get("/", function(req)
-- access the headers
pprint(req:headers())
-- print the body as text
print(req:body():text())
end)
server:run()
