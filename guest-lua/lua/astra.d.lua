---@meta
-- LuaLS type definitions of the Astra Lua API as astra-host serves it.
-- Written by `astra-host export`; do not edit the exported copy.

---@class Astra
---@field version string
---@field main_script string
---@field current_script string
Astra = {}

---Prints each value followed by a space (tables in full, keys sorted) to the app's log, or
---to standard output under `astra-host run`.
---@param ... any
function print(...) end

---The same as `print`.
---@param ... any
function pprint(...) end

---One of the variables the app's config gives it (astra.toml [env], the .env files), or one it set.
---@param key string
---@return string?
function getenv(key) end

---Sets a variable of this instance's own environment.
---@param key string
---@param value string
function setenv(key, value) end

---Loads a .env file of the file view over this instance's environment; one that cannot be read is passed over.
---@param path string
function dotenv_load(path) end

---@class RuntimeVersion
---@field display string The Astra API version implemented, e.g. "0.52.0"
---@field semantic { major: integer, minor: integer, patch: integer }

---@class Runtime
---@field name string "astra-host"
---@field url string
---@field version RuntimeVersion
---@field host { name: string, version: string }

---@type Runtime
_RUNTIME = {}

---The entry script, relative to the app folder.
---@type string
MAIN_SCRIPT = ""

---The script being run (the entry script, or a module while it is required).
---@type string
CURRENT_SCRIPT = ""

---The entry script, then what followed `--` on `astra-host run`'s command line.
---@type string[]
arg = {}

---LuaJIT's: table.unpack.
unpack = table.unpack

---LuaJIT's: load, text chunks only.
loadstring = load

---LuaJIT's bit library: 32-bit operations with signed results.
bit = {}

---@class HTTPBody
---@field text fun(body: HTTPBody): string The body as it came
---@field json fun(body: HTTPBody): any The body parsed as JSON
---@field bytes fun(body: HTTPBody): integer[] The body as a list of bytes

---@class HTTPMultipartField
---@field name fun(field: HTTPMultipartField): string
---@field file_name fun(field: HTTPMultipartField): string|nil
---@field content_type fun(field: HTTPMultipartField): string|nil
---@field headers fun(field: HTTPMultipartField): table<string, string>
---@field text fun(field: HTTPMultipartField): string
---@field bytes fun(field: HTTPMultipartField): integer[]

---@class HTTPMultipart
---@field fields fun(multipart: HTTPMultipart): HTTPMultipartField[]
---@field get_field fun(multipart: HTTPMultipart, name: string): HTTPMultipartField|nil
---@field file_name fun(multipart: HTTPMultipart): string|nil The first uploaded file's name
---@field save_file fun(multipart: HTTPMultipart, file_path: string|nil): string|nil Saves the first file (in the app's data folder for relative paths); returns its path

---@class IpAddress
---@field address fun(ip: IpAddress): string
---@field is_ipv4 fun(ip: IpAddress): boolean
---@field is_ipv6 fun(ip: IpAddress): boolean
---@field is_loopback fun(ip: IpAddress): boolean

---@class Cookie
---@field set_name fun(cookie: Cookie, name: string)
---@field set_value fun(cookie: Cookie, value: string)
---@field set_domain fun(cookie: Cookie, domain: string)
---@field set_path fun(cookie: Cookie, path: string)
---@field set_expiration fun(cookie: Cookie, expiration: number) Seconds since the Unix epoch
---@field set_http_only fun(cookie: Cookie, http_only: boolean)
---@field set_max_age fun(cookie: Cookie, max_age: number) Seconds
---@field set_secure fun(cookie: Cookie, secure: boolean)
---@field set_same_site fun(cookie: Cookie, same_site: "Strict"|"Lax"|"None")
---@field set_permanent fun(cookie: Cookie) Twenty years
---@field get_name fun(cookie: Cookie): string?
---@field get_value fun(cookie: Cookie): string?
---@field get_domain fun(cookie: Cookie): string?
---@field get_path fun(cookie: Cookie): string?
---@field get_expiration fun(cookie: Cookie): number?
---@field get_http_only fun(cookie: Cookie): boolean?
---@field get_max_age fun(cookie: Cookie): number?
---@field get_secure fun(cookie: Cookie): boolean?
---@field get_same_site fun(cookie: Cookie): string?

---@class HTTPServerRequest
---@field method fun(request: HTTPServerRequest): string "GET", "POST", ...
---@field uri fun(request: HTTPServerRequest): string The path and query
---@field headers fun(request: HTTPServerRequest): table<string, string> Lower-case names
---@field params fun(request: HTTPServerRequest): table<string, string|number> Path parameters; numeric ones are numbers
---@field queries fun(request: HTTPServerRequest): table<string, string>
---@field body fun(request: HTTPServerRequest): HTTPBody
---@field form fun(request: HTTPServerRequest): table<string, string> An urlencoded body
---@field multipart fun(request: HTTPServerRequest): HTTPMultipart
---@field get_cookie fun(request: HTTPServerRequest, name: string): Cookie|nil
---@field new_cookie fun(request: HTTPServerRequest, name: string, value: string): Cookie
---@field ip_address fun(request: HTTPServerRequest): IpAddress

---@class HTTPServerResponse
---@field set_status_code fun(response: HTTPServerResponse, status_code: integer) 100 to 999
---@field set_header fun(response: HTTPServerResponse, key: string, value: string)
---@field remove_header fun(response: HTTPServerResponse, key: string)
---@field get_headers fun(response: HTTPServerResponse): table<string, string>
---@field set_cookie fun(response: HTTPServerResponse, key_or_cookie: string|Cookie, cookie: Cookie?)
---@field remove_cookie fun(response: HTTPServerResponse, name_or_cookie: string|Cookie)
---@field redirect_to fun(response: HTTPServerResponse, location: string) 303 See Other
---@field redirect_temporary fun(response: HTTPServerResponse, location: string) 307
---@field redirect_permanent fun(response: HTTPServerResponse, location: string) 308

---@alias WebSocketMessageType "text"|"bytes"|"ping"|"pong"|"close"

---@class CloseFrame
---@field code integer
---@field reason string?

---@class WebSocketMessage
---@field type WebSocketMessageType
---@field value string|CloseFrame|nil

---@class WebSocket
---@field recv fun(socket: WebSocket): WebSocketMessage|nil nil once the client is gone (a second call then raises an error)
---@field send fun(socket: WebSocket, message_type: WebSocketMessageType, message: any)
---@field send_text fun(socket: WebSocket, message: string)
---@field send_bytes fun(socket: WebSocket, bytes: string|integer[])
---@field send_ping fun(socket: WebSocket, bytes: string|integer[])
---@field send_pong fun(socket: WebSocket, bytes: string|integer[])
---@field send_close fun(socket: WebSocket, close_frame: CloseFrame|integer|nil)

---@alias callback fun(request: HTTPServerRequest, response: HTTPServerResponse, ctx: table?): any
---@alias wscallback fun(socket: WebSocket, request: HTTPServerRequest): any

---@class HTTPRouteConfiguration
---@field body_limit integer? Largest request body in bytes
---@field compression boolean? Compress this route's responses
---@field headers table<string, string>? Headers added to every response

---@class HTTPRoute
---@field path string
---@field method string
---@field func function?
---@field static_dir string?
---@field static_file string?
---@field config HTTPRouteConfiguration

---@class HTTPServer
---@field version string
---@field hostname string
---@field port integer
---@field compression boolean
---@field routes HTTPRoute[]
local HTTPServer = {}
---@param path string
---@param callback callback
---@param config HTTPRouteConfiguration?
function HTTPServer:get(path, callback, config) end
---@param path string
---@param callback callback
---@param config HTTPRouteConfiguration?
function HTTPServer:post(path, callback, config) end
---@param path string
---@param callback callback
---@param config HTTPRouteConfiguration?
function HTTPServer:put(path, callback, config) end
---@param path string
---@param callback callback
---@param config HTTPRouteConfiguration?
function HTTPServer:patch(path, callback, config) end
---@param path string
---@param callback callback
---@param config HTTPRouteConfiguration?
function HTTPServer:parse(path, callback, config) end
---@param path string
---@param callback callback
---@param config HTTPRouteConfiguration?
function HTTPServer:delete(path, callback, config) end
---@param path string
---@param callback callback
---@param config HTTPRouteConfiguration?
function HTTPServer:options(path, callback, config) end
---@param path string
---@param callback callback
---@param config HTTPRouteConfiguration?
function HTTPServer:trace(path, callback, config) end
---Answers every request no other route matches.
---@param callback callback
---@param config HTTPRouteConfiguration?
function HTTPServer:fallback(callback, config) end
---@param path string
---@param folder string A folder inside the app folder
---@param config HTTPRouteConfiguration?
function HTTPServer:static_dir(path, folder, config) end
---@param path string
---@param file string A file inside the app folder
---@param config HTTPRouteConfiguration?
function HTTPServer:static_file(path, file, config) end
---@param path string
---@param callback wscallback
---@param config HTTPRouteConfiguration?
function HTTPServer:websocket(path, callback, config) end
---Hands the routes to the host.
function HTTPServer:run() end
---Stops serving this app once in-flight requests finish.
function HTTPServer:shutdown() end
---@return HTTPServer
function HTTPServer:new() end

---@class HTTP
---@field server { new: fun(): HTTPServer }
---@field middleware { chain: fun(chain: function[]): fun(handler: function): function }
---@field status_codes table<string, integer>
http = {}

---@class DateTime A moment at a fixed UTC offset; `tostring`, `..`, `==`, `<`, `<=` and `-` (milliseconds) work on it
---@field get_year fun(datetime: DateTime): integer
---@field get_month fun(datetime: DateTime): integer 1 to 12
---@field get_day fun(datetime: DateTime): integer
---@field get_weekday fun(datetime: DateTime): integer 0 (Sunday) to 6
---@field get_hour fun(datetime: DateTime): integer
---@field get_minute fun(datetime: DateTime): integer
---@field get_second fun(datetime: DateTime): integer
---@field get_millisecond fun(datetime: DateTime): integer
---@field get_epoch_milliseconds fun(datetime: DateTime): integer
---@field get_timezone_offset fun(datetime: DateTime): integer Minutes east of UTC
---@field set_year fun(datetime: DateTime, year: integer): DateTime Changes it, and returns a copy
---@field set_month fun(datetime: DateTime, month: integer): DateTime
---@field set_day fun(datetime: DateTime, day: integer): DateTime
---@field set_hour fun(datetime: DateTime, hour: integer): DateTime
---@field set_minute fun(datetime: DateTime, minute: integer): DateTime
---@field set_second fun(datetime: DateTime, second: integer): DateTime
---@field set_millisecond fun(datetime: DateTime, millisecond: integer): DateTime
---@field set_epoch_milliseconds fun(datetime: DateTime, milliseconds: integer): DateTime Keeps the offset
---@field set_time fun(datetime: DateTime, hour: integer, minute: integer, second: integer?, millisecond: integer?): DateTime
---@field set_date fun(datetime: DateTime, year: integer, month: integer, day: integer): DateTime
---@field add_milliseconds fun(datetime: DateTime, n: integer): DateTime
---@field add_seconds fun(datetime: DateTime, n: integer): DateTime
---@field add_minutes fun(datetime: DateTime, n: integer): DateTime
---@field add_hours fun(datetime: DateTime, n: integer): DateTime
---@field add_days fun(datetime: DateTime, n: integer): DateTime
---@field add_weeks fun(datetime: DateTime, n: integer): DateTime
---@field add_months fun(datetime: DateTime, n: integer): DateTime The day is clamped to the month's end
---@field add_years fun(datetime: DateTime, n: integer): DateTime
---@field sub_milliseconds fun(datetime: DateTime, n: integer): DateTime
---@field sub_seconds fun(datetime: DateTime, n: integer): DateTime
---@field sub_minutes fun(datetime: DateTime, n: integer): DateTime
---@field sub_hours fun(datetime: DateTime, n: integer): DateTime
---@field sub_days fun(datetime: DateTime, n: integer): DateTime
---@field sub_weeks fun(datetime: DateTime, n: integer): DateTime
---@field sub_months fun(datetime: DateTime, n: integer): DateTime
---@field sub_years fun(datetime: DateTime, n: integer): DateTime
---@field diff_milliseconds fun(datetime: DateTime, other: DateTime): integer
---@field to_utc fun(datetime: DateTime): DateTime
---@field to_local fun(datetime: DateTime): DateTime At the app's zone's offset
---@field to_rfc2822 fun(datetime: DateTime): string
---@field to_rfc3339 fun(datetime: DateTime): string
---@field to_format fun(datetime: DateTime, format: string): string strftime syntax
---@field to_date_string fun(datetime: DateTime): string `2020-12-25`
---@field to_time_string fun(datetime: DateTime): string `07:30:45.500+00:00`
---@field to_datetime_string fun(datetime: DateTime): string RFC 3339
---@field to_iso_string fun(datetime: DateTime): string RFC 3339 with milliseconds
---@field to_locale_date_string fun(datetime: DateTime): string `12/25/20`
---@field to_locale_time_string fun(datetime: DateTime): string `07:30:45`
---@field to_locale_datetime_string fun(datetime: DateTime): string `Fri Dec 25 07:30:45 2020`

---@class DateTimeModule
---@field new fun(year_or_text: integer|string|nil, month: integer?, day: integer?, hour: integer?, minute: integer?, second: integer?, millisecond: integer?): DateTime Local time in the app's zone
---@field from_epoch_millis fun(milliseconds: integer): DateTime At UTC

---@class SerdeFormat
---@field encode fun(value: any): string Keys sorted; a table's top-level functions are left out
---@field decode fun(text: string): any null reads as nil

---@class SerdeCsvOptions
---@field delimiter string?
---@field quote string?
---@field escape string?
---@field comment string?
---@field flexible boolean?
---@field quoting boolean?
---@field double_quote boolean?
---@field has_headers boolean? Default true
---@field buffer_capacity integer?

---@class SerdeModule
---@field json SerdeFormat
---@field json5 SerdeFormat
---@field yaml SerdeFormat
---@field toml SerdeFormat Encodes tables only
---@field ini SerdeFormat Values decode as strings
---@field xml { encode: fun(root: string, value: table): string, decode: fun(text: string): table } `@name` keys are attributes, `$text` is text
---@field csv { decode: fun(text: string, options: SerdeCsvOptions?): { headers: any[]?, body: any[][] } }

---@class TemplateEngine
---@field engine userdata The Rust engine: also get_template_names_all, get_template_paths, get_template_paths_all, remove_template
---@field add_template fun(self: TemplateEngine, name: string, source: string)
---@field add_template_file fun(self: TemplateEngine, name: string, path: string)
---@field add_function fun(self: TemplateEngine, name: string, fn: fun(argument: any): any) Called with the keyword arguments as a table, or one value
---@field get_template_names fun(self: TemplateEngine): string[]
---@field exclude_templates fun(self: TemplateEngine, names: string[])
---@field reload_templates fun(self: TemplateEngine)
---@field render fun(self: TemplateEngine, name: string, context: table?): string
---@field add_to_server fun(self: TemplateEngine, server: HTTPServer, context: table?) A GET route per template, rendered once
---@field add_to_server_debug fun(self: TemplateEngine, server: HTTPServer, context: table?) Rendered per request, with /debug.js reloading the page
---@field context_add fun(self: TemplateEngine, key: string, value: any)
---@field context_remove fun(self: TemplateEngine, key: string)
---@field context_get fun(self: TemplateEngine, key: string): any

---@class TemplatesModule
---@field jinja2 { new: fun(glob: string?): TemplateEngine }
---@field markdown { to_html: fun(text: string): string, to_ast: fun(text: string): table }

---@class UtilsModule
---@field uuid fun(): string A random version 4 UUID
---@field env { get: fun(key: string): string?, set: fun(key: string, value: string) }
---@field dotenv_load fun(path: string) Loads a .env file of the file view over the environment
---@field clean_require fun(name: string) Drops `name` from the require cache

---@class CryptoModule
---@field hash fun(kind: "sha2_256"|"sha2_512"|"sha3_256"|"sha3_512", input: string): string Hex digest
---@field base64 { encode: fun(s: string): string, decode: fun(s: string): string, encode_urlsafe: fun(s: string): string, decode_urlsafe: fun(s: string): string }

---@class Observable
---@field value any
---@field observers function[]
---@field subscribe fun(self: Observable, observer: fun(data: any))
---@field unsubscribe fun(self: Observable, observer: fun(data: any))
---@field publish fun(self: Observable, data: any)

---@class Stores
---@field observable fun(value: any): Observable
---@field pubsub { subscribe: fun(topic: string, fn: fun(data: any, topic: string)), unsubscribe: fun(topic: string, fn: function?), publish: fun(topic: string, data: any) }

---@class Expectation
---@field to Expectation
---@field to_not Expectation
---@field be Expectation|fun(other: any)
---@field a fun(kind: string|table)
---@field an fun(kind: string|table)
---@field truthy fun()
---@field exist fun()
---@field equal fun(other: any, margin: number?)
---@field have fun(item: any)
---@field fail Expectation|fun()
---@field with fun(pattern: string)
---@field match fun(pattern: string)

---@class Test
---@field describe fun(name: string, body: function)
---@field it fun(name: string, body: function)
---@field test fun(name: string, body: function)
---@field before fun(hook: fun(name: string))
---@field after fun(hook: fun(name: string))
---@field expect fun(value: any): Expectation
---@field spy fun(target: table|function, name: string|function?, run: function?): table
---@field nocolor fun(): Test
---@field paths table
---@field passes integer
---@field errors integer
---@field level integer

---@class Regex
---@field is_match fun(self: Regex, text: string): boolean
---@field captures fun(self: Regex, text: string): string[][]
---@field replace fun(self: Regex, text: string, replacement: string, limit: integer?): string

---@class Validator
---@field kind string
---@field validate fun(self: Validator, value: any): boolean, string?

---Compiles a regex (Rust's syntax); a global once `validation` is required.
---@param expression string
---@return Regex
function regex(expression) end

---@class FSEntryType
---@field is_file fun(self: FSEntryType): boolean
---@field is_dir fun(self: FSEntryType): boolean
---@field is_symlink fun(self: FSEntryType): boolean

---@class FSDirEntry
---@field file_name fun(self: FSDirEntry): string
---@field path fun(self: FSDirEntry): string
---@field type fun(self: FSDirEntry): FSEntryType

---@class FSMetadata
---@field last_accessed fun(self: FSMetadata): integer
---@field last_modified fun(self: FSMetadata): integer
---@field created_at fun(self: FSMetadata): integer
---@field type fun(self: FSMetadata): FSEntryType
---@field file_permissions fun(self: FSMetadata): { is_readonly: fun(self): boolean, set_readonly: fun(self, readonly: boolean) }

---@class FSBuffer
---@field text fun(self: FSBuffer): string
---@field bytes fun(self: FSBuffer): integer[]
---@field json fun(self: FSBuffer): any
---@field len fun(self: FSBuffer): integer
---@field capacity fun(self: FSBuffer): integer

---@class FSFile
---@field path fun(self: FSFile): string
---@field read fun(self: FSFile, buffer: FSBuffer): integer
---@field read_buf fun(self: FSFile, buffer: FSBuffer): integer
---@field read_exact fun(self: FSFile, buffer: FSBuffer)

---@class FS
---@field read_file fun(path: string): string
---@field read_file_bytes fun(path: string): integer[]
---@field write_file fun(path: string, contents: string|table)
---@field exists fun(path: string): boolean
---@field create_dir fun(path: string)
---@field create_dir_all fun(path: string)
---@field remove fun(path: string)
---@field remove_dir fun(path: string)
---@field remove_dir_all fun(path: string)
---@field read_dir fun(path: string): FSDirEntry[]
---@field get_metadata fun(path: string): FSMetadata
---@field get_current_dir fun(): string
---@field change_dir fun(path: string)
---@field get_script_path fun(): string
---@field get_separator fun(): string
---@field parse_glob fun(pattern: string): { base_path: string, entries: string[] }
---@field new_buffer fun(capacity: integer): FSBuffer
---@field open fun(path: string): FSFile

-- `require("database")`: SQL on the host (SQLite in the data folder, PostgreSQL by URL).

---@class DatabaseOptions
---@field max_connections? integer connections the pool may open (the app's db_connections caps it)
---@field is_immutable? boolean SQLite: open read-only, without locking
---@field other_options? { [1]: string, [2]: string }[] PostgreSQL runtime parameters, as {name, value}

---@class Database
---@field execute fun(self: Database, sql: string, params?: any[])
---@field query_one fun(self: Database, sql: string, params?: any[]): table|nil
---@field query_all fun(self: Database, sql: string, params?: any[]): table[]
---@field query_pragma_int fun(self: Database, sql: string): integer|nil
---@field query_pragma_text fun(self: Database, sql: string): string|nil
---@field close fun(self: Database)

---@class DatabaseModule
---@field new fun(kind: "sqlite"|"postgres", target: string, options?: DatabaseOptions): Database

-- `http.request`: the HTTP client (sent by the host, under the app's network rules).

---@class HTTPClientResponse
---@field url fun(self: HTTPClientResponse): string
---@field status_code fun(self: HTTPClientResponse): integer
---@field remote_address fun(self: HTTPClientResponse): string|nil
---@field headers fun(self: HTTPClientResponse): table<string, string>
---@field body fun(self: HTTPClientResponse): HTTPBody

---@class HTTPClientRequest
---@field set_method fun(self: HTTPClientRequest, method: string): HTTPClientRequest
---@field set_header fun(self: HTTPClientRequest, name: string, value: string): HTTPClientRequest
---@field set_headers fun(self: HTTPClientRequest, headers: table<string, string>): HTTPClientRequest
---@field set_form fun(self: HTTPClientRequest, form: table<string, string>): HTTPClientRequest
---@field set_body fun(self: HTTPClientRequest, body: string|table): HTTPClientRequest
---@field set_file fun(self: HTTPClientRequest, file: string|{ name: string, path: string }|table): HTTPClientRequest
---@field execute fun(self: HTTPClientRequest): HTTPClientResponse

---@class HTTPClientDetails
---@field url string
---@field method? string
---@field headers? table<string, string>
---@field body? string|table
---@field form? table<string, string>
---@field file? string|{ name: string, path: string }|table
