-- serde from routes: POST /<format>/decode turns the body into JSON, POST /<format>/encode
-- turns a JSON body into the format. A format's error is a 400 with its message.
local serde = require("serde")
local server = require("http").server.new()

local function answer(response, ok, result)
    if ok then return result end
    response:set_status_code(400)
    return { error = tostring(result):gsub("^runtime error: ", ""):gsub("\nstack traceback:.*", "") }
end

server:post("/{format}/decode", function(request, response)
    local format = request:params().format
    local text = request:body():text()
    return answer(response, pcall(serde[format].decode, text))
end)

server:post("/{format}/encode", function(request, response)
    local format = request:params().format
    local value = serde.json.decode(request:body():text())
    if format == "xml" then return answer(response, pcall(serde.xml.encode, "root", value)) end
    return answer(response, pcall(serde[format].encode, value))
end)

server:run()
