-- templates from routes: pages from templates/ served by add_to_server, a page rendered per
-- request with a function and a context, Markdown, and the debug server's reloading.
local templates = require("templates")
local server = require("http").server.new()

local pages = templates.jinja2.new("templates/**/*.html")
pages:exclude_templates({ "base.html", "blog/post.html" })
pages:context_add("site", "Test site")
pages:add_to_server(server, { visitor = "everyone" })

pages:add_function("shout", function(args) return string.upper(args.text) end)
server:get("/post/{slug}", function(request, response)
    local slug = request:params().slug
    local ok, markdown = pcall(require("fs").read_file, "posts/" .. slug .. ".md")
    if not ok then
        response:set_status_code(404)
        return "no such post"
    end
    response:set_header("Content-Type", "text/html")
    return pages:render("blog/post.html", { title = slug, body = templates.markdown.to_html(markdown) })
end)

local live = templates.jinja2.new("live/*.html")
server:get("/live-names", function() return live:get_template_names() end)
live:add_to_server_debug(server)

server:run()
