-- The rest of the Astra API, one route per call.
local http = require("http")
local datetime = require("datetime")
local serde = require("serde")
local crypto = require("crypto")
local server = http.server.new()

server:post("/form", function(request) return request:form() end)
server:post("/multipart", function(request)
    local multipart = request:multipart()
    local fields = {}
    for _, field in ipairs(multipart:fields()) do
        fields[#fields + 1] = { name = field:name(), file_name = field:file_name(),
                                content_type = field:content_type(), text = field:text() }
    end
    local note = multipart:get_field("note")
    return { fields = fields, file_name = multipart:file_name(), saved = multipart:save_file(),
             note_headers = note and note:headers(), note_bytes = note and #note:bytes(),
             missing = multipart:get_field("missing") == nil }
end)
server:get("/ip", function(request)
    local ip = request:ip_address()
    return { address = ip:address(), v4 = ip:is_ipv4(), v6 = ip:is_ipv6(), loopback = ip:is_loopback() }
end)
server:post("/echo", function(request) return request:body():text() end)
server:get("/big", function() return string.rep("compressible text ", 500) end)
server:get("/big-route-compressed", function() return string.rep("compressible text ", 500) end,
    { compression = true, headers = { ["x-route"] = "configured" } })

server:get("/datetime", function()
    local moment = datetime.new(2024, 2, 29, 13, 45, 30, 250)
    local parsed = datetime.new("2024-05-01T10:00:00+02:00")
    local rfc2822 = datetime.new("Wed, 01 May 2024 10:00:00 +0000")
    local now = datetime.new()
    local changed = datetime.new(2024, 1, 31)
    changed:set_month(3)
    changed:set_hour(7)
    local impossible = pcall(function() datetime.new(2024, 1, 31):set_month(2) end)
    return {
        year = moment:get_year(), month = moment:get_month(), day = moment:get_day(),
        weekday = moment:get_weekday(), hour = moment:get_hour(), minute = moment:get_minute(),
        second = moment:get_second(), millisecond = moment:get_millisecond(),
        epoch = moment:get_epoch_milliseconds(), offset = moment:get_timezone_offset(),
        iso = moment:to_iso_string(), date = moment:to_date_string(), time = moment:to_time_string(),
        datetime = moment:to_datetime_string(), locale_date = moment:to_locale_date_string(),
        locale_time = moment:to_locale_time_string(), locale_datetime = moment:to_locale_datetime_string(),
        rfc3339 = moment:to_rfc3339(), formatted = moment:to_format("%Y/%m/%d"),
        parsed_utc_hour = parsed:get_hour(), rfc2822_day = rfc2822:get_day(),
        now_year = now:get_year(), changed = changed:to_iso_string(), impossible_ok = impossible,
    }
end)
local cyclic = {}
cyclic.self = cyclic
server:get("/serde", function()
    local text = serde.json.encode({ list = { 1, 2, 3 }, name = "lua" })
    local back = serde.json.decode('{"a":[true,false],"b":{"c":"d"}}')
    return { encoded_back = serde.json.decode(text), a2 = back.a[2], c = back.b.c,
             escaped = serde.json.encode({ s = 'a"b\\c\n\1\u{e9}' }),
             extremes = serde.json.encode({ math.mininteger, math.maxinteger, 2.5, -0.125, 0 / 0, 7 }),
             invalid_utf8 = serde.json.encode("bad \255 byte"),
             keys = serde.json.encode({ [3] = "three" }),
             nested = serde.json.encode({ a = { b = { {}, { c = true } } } }),
             refused = tostring(select(2, pcall(serde.json.encode, { f = print }))),
             bad_key = tostring(select(2, pcall(serde.json.encode, { [true] = 1 }))),
             cyclic = tostring(select(2, pcall(serde.json.encode, cyclic))),
             holes = serde.json.encode({ nil, nil, 3, nil, nil }),
             float_key = serde.json.encode({ [2.5] = "x" }), spilled = serde.json.encode({ [3] = 3, 1, 2 }) }
end)
server:get("/json-decode", function()
    local d = serde.json.decode('{"i":-9223372036854775808,"j":9223372036854775807,"big":18446744073709551615,'
        .. '"f":2.5,"e":1e3,"s":"\\u00e9\\n","n":null,"a":[1,[2,[]],{}],"o":{"k":"v"}}')
    return { i = d.i, j = d.j, big_type = math.type(d.big), f = d.f, e_type = math.type(d.e), s = d.s,
             n_is_nil = d.n == nil, a1 = d.a[1], inner = d.a[2][1], a2len = #d.a[2], o = d.o.k,
             invalid = tostring(select(2, pcall(serde.json.decode, "{oops"))),
             duplicate = serde.json.decode('{"k":1,"k":2}').k,
             deep = tostring(select(2, pcall(serde.json.decode, string.rep("[", 200) .. string.rep("]", 200)))) }
end)
-- Each character JSON escapes (and some it does not) at every offset of strings of
-- 1 to 18 characters.
server:get("/json-strings", function()
    local strings = {}
    for _, special in ipairs({ '"', "\\", "\n", "\r", "\t", "\1", "\31", "\127", "\u{e9}", "\255" }) do
        for length = 1, 18 do
            for at = 0, length - 1 do
                strings[#strings + 1] = string.rep("a", at) .. special .. string.rep("b", length - 1 - at)
            end
        end
    end
    return strings
end)
server:get("/crypto", function()
    return {
        sha2_256 = crypto.hash("sha2_256", "abc"),
        sha2_512 = crypto.hash("sha2_512", "abc"),
        sha3_256 = crypto.hash("sha3_256", "abc"),
        sha3_512 = crypto.hash("sha3_512", "abc"),
        b64 = crypto.base64.encode("hello?>"),
        b64url = crypto.base64.encode_urlsafe("hello?>"),
        decoded = crypto.base64.decode("aGVsbG8/Pg=="),
        decoded_url = crypto.base64.decode_urlsafe("aGVsbG8_Pg=="),
    }
end)
server:static_dir("/static", "public")
server:static_file("/one-file", "public/hello.txt")
server:websocket("/ws", function(socket, request)
    socket:send_text("welcome " .. request:uri())
    while true do
        local message = socket:recv()
        if message == nil then break end
        if message.type == "text" and message.value == "close with a code" then socket:send_close(1001) break
        elseif message.type == "text" and message.value == "close bare" then socket:send_close() break
        elseif message.type == "text" and message.value == "raise" then error("raised on purpose")
        elseif message.type == "text" then socket:send("text", "echo " .. message.value)
        elseif message.type == "ping" then socket:send_text("got a ping: " .. message.value)
        elseif message.type == "bytes" then socket:send("bytes", message.value)
        elseif message.type == "close" then break end
    end
    -- In the data folder, which every instance of the app shares.
    local count = io.open("ws-ended", "a")
    count:write("x")
    count:close()
end)
server:get("/ws-ended", function()
    local count = io.open("ws-ended", "r")
    if not count then return "0" end
    local ended = #count:read("a")
    count:close()
    return tostring(ended)
end)
server:run()
