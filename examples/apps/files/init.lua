-- Static files, served by the host from inside this app's folder, with compression.
local server = require("http").server.new()
server.compression = true

server:static_dir("/assets", "public")
server:static_file("/favicon.txt", "public/favicon.txt")
server:get("/", function(_, response)
    response:set_header("Content-Type", "text/html")
    return '<link rel="stylesheet" href="/assets/css/site.css"><h1>Files</h1>'
end)

server:run()
