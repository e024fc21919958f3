-- fs from routes, on the file view: the app folder's files read, writes in the data folder.
local fs = require("fs")
local server = require("http").server.new()

local function attempt(action)
    local ok, result = pcall(action)
    if ok then return { ok = true, result = result } end
    return { ok = false, error = tostring(result):gsub("^[^:]+:%d+: ", "") }
end

server:get("/read", function(request)
    return attempt(function() return fs.read_file(request:queries().path) end)
end)
server:post("/write", function(request)
    local path, body = request:queries().path, request:body():text()
    return attempt(function() fs.write_file(path, body) end)
end)
server:get("/list", function(request)
    return attempt(function()
        local names = {}
        for _, entry in ipairs(fs.read_dir(request:queries().path)) do names[#names + 1] = entry:file_name() end
        table.sort(names)
        return names
    end)
end)
server:run()
