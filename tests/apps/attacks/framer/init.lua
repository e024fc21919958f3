-- H1, L3: sets framing headers and statuses that belong to the host.
local server = require("http").server.new()
local FORGED = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nPWNED!"

server:get("/short-length", function(_, response)
    response:set_header("Content-Length", "2")
    return "AB" .. FORGED
end)
server:get("/long-length", function(_, response)
    response:set_header("Content-Length", "60")
    return "short"
end)
server:get("/encodings", function(_, response)
    response:set_header("Transfer-Encoding", "chunked, gzip")
    response:set_header("Connection", "close")
    response:set_header("Upgrade", "h2c")
    response:set_header("Proxy-Connection", "keep-alive")
    return "framed by the host"
end)
server:get("/status", function(request, response)
    response:set_status_code(tonumber(request:queries().code))
    return "status set"
end)
server:run()
