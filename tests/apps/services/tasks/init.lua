-- Background tasks and sleeping on the host's clock.
local utils = require("utils")
local datetime = require("datetime")
local fs = require("fs")

-- Started by the entry script: runs in the app's one background instance, not in each.
local ticks = 0
utils.spawn_interval(function()
    ticks = ticks + 1
    fs.write_file("ticks.txt", tostring(ticks))
end, 100)

local server = require("http").server.new()

local function now_ms()
    return os.clock() * 1000
end

-- Sleeping uses no CPU time: 1 s of it fits a 200 ms CPU budget.
server:get("/sleep", function(request)
    local started = now_ms()
    datetime.sleep(tonumber(request:queries().ms))
    return { slept_ms = math.floor(now_ms() - started) }
end)

server:get("/await", function()
    local done = false
    local started = now_ms()
    utils.spawn_timeout(function() done = true end, 150):await()
    return { done = done, waited_ms = math.floor(now_ms() - started) }
end)

-- A task runs after the response, in this instance.
server:get("/later", function(request)
    local name = request:queries().name
    utils.spawn_task(function() fs.write_file(name, "ran") end)
    return "spawned"
end)

server:get("/abort", function()
    local handle = utils.spawn_timeout(function() fs.write_file("aborted.txt", "ran anyway") end, 100)
    handle:abort()
    return "aborted"
end)

server:get("/failing", function()
    utils.spawn_task(function() error("task boom") end)
    utils.spawn_timeout(function() fs.write_file("after-failure.txt", "still ran") end, 50)
    return "spawned"
end)

server:get("/too-many", function()
    local ok, err = pcall(function()
        for _ = 1, 20 do utils.spawn_timeout(function() end, 60000) end
    end)
    return (tostring(err):gsub("\nstack traceback:.*", ""))
end)

server:get("/read", function(request)
    local name = request:queries().name
    return fs.exists(name) and fs.read_file(name) or "missing"
end)

server:run()
