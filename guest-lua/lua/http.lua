-- require("http") / require("astra.http"): the server table, routes, middleware and
-- status codes of the Astra HTTP API. The host serves what `server:run()` registered.
local internal = ...

local http = {}

local Server = {}
Server.__index = Server

local function new_server()
    return setmetatable({
        version = Astra.version,
        hostname = "127.0.0.1",
        port = 8080,
        compression = false,
        routes = {},
    }, Server)
end

-- Both `http.server.new()` and `http.server:new()` are in use.
http.server = { new = function() return new_server() end }
function Server:new() return new_server() end

local function add_route(server, method, path, func, config)
    if type(path) ~= "string" then
        error(string.format("%s route: the path must be a string, got %s", method, type(path)), 3)
    end
    if type(func) ~= "function" then
        error(string.format("%s %s: the callback must be a function, got %s", method, path, type(func)), 3)
    end
    if config ~= nil and type(config) ~= "table" then
        error(string.format("%s %s: the route config must be a table, got %s", method, path, type(config)), 3)
    end
    -- Astra keeps a "/" route first.
    local index = (path == "/") and 1 or #server.routes + 1
    table.insert(server.routes, index, { path = path, method = method, func = func, config = config or {} })
end

-- PARSE is not a standard method, but HTTP allows extension methods and Astra lists it.
for _, method in ipairs({ "get", "post", "put", "patch", "parse", "delete", "options", "trace" }) do
    Server[method] = function(self, path, callback, config)
        add_route(self, method, path, callback, config)
    end
end

--- Answers every request that no other route matches.
function Server:fallback(callback, config)
    add_route(self, "fallback", "/", callback, config)
end

function Server:websocket(path, callback, config)
    add_route(self, "web_socket", path, callback, config)
end

local function add_static(server, kind, path, target, config)
    if type(path) ~= "string" or type(target) ~= "string" then
        error(string.format("%s expects (path, %s) as strings", kind, kind == "static_dir" and "folder" or "file"), 3)
    end
    table.insert(server.routes, { path = path, method = kind, [kind] = target, config = config or {} })
end

function Server:static_dir(path, folder, config) add_static(self, "static_dir", path, folder, config) end
function Server:static_file(path, file, config) add_static(self, "static_file", path, file, config) end

--- Hands the routes to the host. Under `astra-host --apps` this returns at once.
function Server:run()
    internal.run(self)
end

--- Stops serving this app once its in-flight requests finish.
function Server:shutdown()
    internal.shutdown()
end

http.middleware = {}

--- chain { a, b, c } (handler) is a(b(c(handler))).
function http.middleware.chain(chain)
    assert(type(chain) == "table", "chain expects a list of middlewares")
    return function(handler)
        assert(type(handler) == "function", "Handler must be a function, got " .. type(handler))
        assert(#chain >= 2, "Chain must have at least 2 middlewares")
        for i = #chain, 1, -1 do
            local middleware = chain[i]
            assert(type(middleware) == "function", "Middleware must be a function, got " .. type(middleware))
            handler = middleware(handler)
        end
        return handler
    end
end

http.status_codes = {
    CONTINUE = 100, SWITCHING_PROTOCOLS = 101, PROCESSING = 102, EARLY_HINTS = 103,
    OK = 200, CREATED = 201, ACCEPTED = 202, NON_AUTHORITATIVE_INFORMATION = 203,
    NO_CONTENT = 204, RESET_CONTENT = 205, PARTIAL_CONTENT = 206, MULTI_STATUS = 207,
    ALREADY_REPORTED = 208, IM_USED = 226,
    MULTIPLE_CHOICES = 300, MOVED_PERMANENTLY = 301, FOUND = 302, SEE_OTHER = 303,
    NOT_MODIFIED = 304, USE_PROXY = 305, TEMPORARY_REDIRECT = 307, PERMANENT_REDIRECT = 308,
    BAD_REQUEST = 400, UNAUTHORIZED = 401, PAYMENT_REQUIRED = 402, FORBIDDEN = 403,
    NOT_FOUND = 404, METHOD_NOT_ALLOWED = 405, NOT_ACCEPTABLE = 406,
    PROXY_AUTHENTICATION_REQUIRED = 407, REQUEST_TIMEOUT = 408, CONFLICT = 409, GONE = 410,
    LENGTH_REQUIRED = 411, PRECONDITION_FAILED = 412, PAYLOAD_TOO_LARGE = 413,
    URI_TOO_LONG = 414, UNSUPPORTED_MEDIA_TYPE = 415, RANGE_NOT_SATISFIABLE = 416,
    EXPECTATION_FAILED = 417, IM_A_TEAPOT = 418, MISDIRECTED_REQUEST = 421,
    UNPROCESSABLE_ENTITY = 422, LOCKED = 423, FAILED_DEPENDENCY = 424, TOO_EARLY = 425,
    UPGRADE_REQUIRED = 426, PRECONDITION_REQUIRED = 428, TOO_MANY_REQUESTS = 429,
    REQUEST_HEADER_FIELDS_TOO_LARGE = 431, UNAVAILABLE_FOR_LEGAL_REASONS = 451,
    INTERNAL_SERVER_ERROR = 500, NOT_IMPLEMENTED = 501, BAD_GATEWAY = 502,
    SERVICE_UNAVAILABLE = 503, GATEWAY_TIMEOUT = 504, HTTP_VERSION_NOT_SUPPORTED = 505,
    VARIANT_ALSO_NEGOTIATES = 506, INSUFFICIENT_STORAGE = 507, LOOP_DETECTED = 508,
    NOT_EXTENDED = 510, NETWORK_AUTHENTICATION_REQUIRED = 511,
}

return http
