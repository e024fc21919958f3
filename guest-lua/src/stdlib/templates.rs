//! `require("templates")`, the Rust half: a minijinja environment per engine, and Markdown.
//! The engine's Lua face (`jinja2.new`, `add_to_server`, the context methods) is
//! `lua/templates.lua`.
//!
//! Template files come from the file view: `jinja2.new(glob)` adds every file the glob
//! finds, and `{% extends %}`/`{% include %}` of one not added is loaded from under the
//! glob's base folder on demand, as minijinja's `path_loader` would, except through the
//! view, so no name reaches outside it.
//!
//! Functions an app adds are Lua functions, which minijinja cannot hold (it needs `Send`
//! ones): it holds their registry keys, and finds the Lua state through `RENDERING`, set
//! while a render runs.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use minijinja::value::{Rest, Value as JinjaValue};
use minijinja::{Environment, Error, ErrorKind};
use mlua::serde::SerializeOptions;
use mlua::{Lua, LuaSerdeExt, Table, UserData, UserDataMethods, Value};

use crate::stdlib::fs::Glob;
use crate::view::ViewPath;

thread_local! {
    /// The Lua state of the renders under way, innermost last.
    static RENDERING: RefCell<Vec<Lua>> = const { RefCell::new(Vec::new()) };
}

/// The module's Rust functions, handed to `lua/templates.lua`.
pub fn internal(lua: &Lua) -> mlua::Result<Table> {
    let internal = lua.create_table()?;
    internal.set("new_engine", lua.create_function(|_, glob: Option<String>| Engine::new(glob.as_deref()))?)?;
    internal.set(
        "modified",
        lua.create_function(|_, path: String| {
            let place = ViewPath::parse(&path).map_err(mlua::Error::runtime)?;
            let modified = std::fs::metadata(place.for_reading()).and_then(|m| m.modified()).ok();
            Ok(modified.and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_millis() as i64))
        })?,
    )?;
    let markdown = lua.create_table()?;
    markdown.set(
        "to_html",
        lua.create_function(|_, text: String| {
            parseable(&text).map_err(|e| mlua::Error::runtime(format!("markdown.to_html: {e}")))?;
            markdown::to_html_with_options(&text, &markdown::Options::gfm())
                .map_err(|e| mlua::Error::runtime(format!("markdown.to_html: {e}")))
        })?,
    )?;
    markdown.set(
        "to_ast",
        lua.create_function(|lua, text: String| {
            parseable(&text).map_err(|e| mlua::Error::runtime(format!("markdown.to_ast: {e}")))?;
            let tree = markdown::to_mdast(&text, &markdown::ParseOptions::gfm())
                .map_err(|e| mlua::Error::runtime(format!("markdown.to_ast: {e}")))?;
            let converted = lua.to_value_with(&tree, to_lua_options());
            dismantle(tree);
            converted.map_err(|e| mlua::Error::runtime(format!("markdown.to_ast: {e} (the document nests too deeply)")))
        })?,
    )?;
    internal.set("markdown", markdown)?;
    Ok(internal)
}

pub struct Engine {
    environment: Environment<'static>,
    /// Names in the order they were added.
    names: Vec<String>,
    /// Files a template was read from, by name, for `reload_templates`.
    paths: HashMap<String, String>,
    excluded: Vec<String>,
}

impl Engine {
    fn new(glob: Option<&str>) -> mlua::Result<Engine> {
        let mut engine =
            Engine { environment: Environment::new(), names: Vec::new(), paths: HashMap::new(), excluded: Vec::new() };
        let Some(pattern) = glob else { return Ok(engine) };
        let found = Glob::find(pattern).map_err(|reason| failure("jinja2.new", reason))?;
        let base = if found.base.is_empty() { "." } else { found.base.as_str() };
        let base = ViewPath::parse(base).map_err(|reason| failure("jinja2.new", reason))?.shown();
        for entry in &found.entries {
            let path = format!("{}/{entry}", base.trim_end_matches('/'));
            let place = ViewPath::parse(&path).map_err(|reason| failure("jinja2.new", reason))?;
            if place.is_dir() {
                continue;
            }
            engine.add_file(entry, &path)?;
        }
        engine.environment.set_loader(move |name| load_from(&base, name));
        Ok(engine)
    }

    fn add(&mut self, name: &str, source: String) -> mlua::Result<()> {
        self.environment
            .add_template_owned(name.to_string(), source)
            .map_err(|e| mlua::Error::runtime(format!("TEMPLATING ERROR - Could not add a template: {e}")))?;
        if !self.names.iter().any(|known| known == name) {
            self.names.push(name.to_string());
        }
        Ok(())
    }

    fn add_file(&mut self, name: &str, path: &str) -> mlua::Result<()> {
        let source = read(path).map_err(|reason| failure("add_template_file", format!("{path}: {reason}")))?;
        self.add(name, source)?;
        self.paths.insert(name.to_string(), path.to_string());
        Ok(())
    }

    fn visible(&self) -> impl Iterator<Item = &String> {
        self.names.iter().filter(|name| !self.excluded.contains(name))
    }

    fn render(&self, lua: &Lua, name: &str, context: Value) -> mlua::Result<String> {
        let template = self.environment.get_template(name).map_err(|e| render_failure(name, &e))?;
        let context = match context {
            Value::Nil => JinjaValue::UNDEFINED,
            other => context_value(lua, other)?,
        };
        RENDERING.with_borrow_mut(|stack| stack.push(lua.clone()));
        let rendered = template.render(context);
        RENDERING.with_borrow_mut(Vec::pop);
        rendered.map_err(|e| render_failure(name, &e))
    }
}

impl UserData for Engine {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method_mut("add_template", |_, engine, (name, source): (String, String)| engine.add(&name, source));
        methods.add_method_mut("add_template_file", |_, engine, (name, path): (String, String)| {
            engine.add_file(&name, &path)
        });
        methods.add_method("get_template_names", |lua, engine, ()| lua.create_sequence_from(engine.visible().cloned()));
        methods.add_method("get_template_names_all", |lua, engine, ()| lua.create_sequence_from(engine.names.clone()));
        methods.add_method("get_template_paths", |lua, engine, ()| {
            lua.create_sequence_from(engine.visible().filter_map(|name| engine.paths.get(name).cloned()))
        });
        methods.add_method("get_template_paths_all", |lua, engine, ()| {
            lua.create_sequence_from(engine.names.iter().filter_map(|name| engine.paths.get(name).cloned()))
        });
        methods.add_method_mut("exclude_templates", |_, engine, names: Vec<String>| {
            engine.excluded.extend(names);
            Ok(())
        });
        methods.add_method_mut("remove_template", |_, engine, name: String| {
            engine.environment.remove_template(&name);
            engine.names.retain(|known| *known != name);
            engine.paths.remove(&name);
            Ok(())
        });
        // Files that cannot be read now keep the source they had; new files are not looked for.
        methods.add_method_mut("reload_templates", |_, engine, ()| {
            let files: Vec<(String, String)> = engine.paths.iter().map(|(n, p)| (n.clone(), p.clone())).collect();
            for (name, path) in files {
                if let Ok(source) = read(&path) {
                    engine.add(&name, source)?;
                }
            }
            Ok(())
        });
        methods.add_method_mut("add_function", |lua, engine, (name, function): (String, mlua::Function)| {
            let key = Arc::new(lua.create_registry_value(function)?);
            let label = name.clone();
            engine
                .environment
                .add_function(name, move |arguments: Rest<JinjaValue>| call_lua(&label, &key, &arguments));
            Ok(())
        });
        methods
            .add_method("render", |lua, engine, (name, context): (String, Value)| engine.render(lua, &name, context));
    }
}

/// The render's context as template values. It goes through JSON: the guest's JSON encoder
/// walks Lua's tables in place, and serde_json builds the values from its text in one pass,
/// four times faster for a 50-row table than serializing value by value through mlua.
fn context_value(lua: &Lua, context: Value) -> mlua::Result<JinjaValue> {
    let json = crate::stdlib::serde::json::encode(lua, context)
        .map_err(|e| mlua::Error::runtime(format!("templates: render: the context cannot be a template value: {e}")))?;
    serde_json::from_slice(&json).map_err(|e| mlua::Error::runtime(format!("templates: render: {e}")))
}

/// A template function's call: the keyword arguments as one table, or its one positional
/// argument, as Astra passes them.
fn call_lua(name: &str, key: &mlua::RegistryKey, arguments: &[JinjaValue]) -> Result<JinjaValue, Error> {
    let lua = RENDERING.with_borrow(|stack| stack.last().cloned());
    let lua = lua.ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "called outside a render"))?;
    let argument = match arguments {
        [] => JinjaValue::UNDEFINED,
        [one] => one.clone(),
        _ => {
            return Err(Error::new(
                ErrorKind::TooManyArguments,
                format!("{name}() takes one argument, or keyword arguments"),
            ));
        }
    };
    let invalid = |e: mlua::Error| Error::new(ErrorKind::InvalidOperation, format!("{name}(): {e}"));
    let function: mlua::Function = lua.registry_value(key).map_err(invalid)?;
    let argument = if argument.is_undefined() {
        Value::Nil
    } else {
        lua.to_value_with(&argument, to_lua_options()).map_err(invalid)?
    };
    let returned: Value = function.call(argument).map_err(invalid)?;
    Ok(JinjaValue::from_serialize(returned.to_serializable()))
}

/// The parser needs up to ~450 bytes of memory for each byte of text (a page of links),
/// and a failed allocation traps the instance: the text may be at most this fraction of
/// the Lua memory limit (about 90 KiB with the default 64 MiB instances).
const MARKDOWN_BYTES_PER_TEXT_BYTE: usize = 640;

/// The longest run of container markers (`>`, list bullets, indentation) a line may start
/// with. Each level costs the parser some 700 bytes: one line of 100,000 `>` took more
/// than an instance's 64 MiB, which traps it; real documents nest a few levels.
const MAX_MARKDOWN_NESTING: usize = 1000;

/// Refuses text the parser could not take within the instance's memory.
fn parseable(text: &str) -> Result<(), String> {
    let most = crate::allocator::lua_limit() / MARKDOWN_BYTES_PER_TEXT_BYTE;
    if text.len() > most {
        return Err(format!(
            "the text is {} bytes; an instance of this app parses at most {most} \
             (1/{MARKDOWN_BYTES_PER_TEXT_BYTE} of its memory: raise the app's memory limit for more)",
            text.len()
        ));
    }
    let too_deep = text.lines().any(|line| {
        line.bytes().take_while(|b| matches!(b, b' ' | b'\t' | b'>' | b'-' | b'*' | b'+')).count()
            > MAX_MARKDOWN_NESTING
    });
    if too_deep {
        return Err(format!("a line nests deeper than {MAX_MARKDOWN_NESTING} levels"));
    }
    Ok(())
}

/// Drops a syntax tree without recursing: emphasis nested 100,000 deep made a tree whose
/// recursive drop overflowed the guest's stack.
fn dismantle(tree: markdown::mdast::Node) {
    let mut pending = vec![tree];
    while let Some(mut node) = pending.pop() {
        if let Some(children) = node.children_mut() {
            pending.append(children);
        }
    }
}

/// Absent values are nil, not mlua's `null`.
fn to_lua_options() -> SerializeOptions {
    SerializeOptions::new().serialize_none_to_null(false).serialize_unit_to_null(false)
}

/// A template named in `{% extends %}` or `{% include %}` that was not added: the file of
/// that name under `base`, if there is one. As in minijinja's `path_loader`, a name with a
/// part starting with `.` names nothing.
fn load_from(base: &str, name: &str) -> Result<Option<String>, Error> {
    if name.split('/').any(|part| part.starts_with('.') || part.contains('\\')) {
        return Ok(None);
    }
    let path = format!("{}/{name}", base.trim_end_matches('/'));
    match ViewPath::parse(&path) {
        Ok(place) if place.exists() && !place.is_dir() => read(&path)
            .map(Some)
            .map_err(|reason| Error::new(ErrorKind::InvalidOperation, format!("could not read {name}: {reason}"))),
        _ => Ok(None),
    }
}

fn read(path: &str) -> Result<String, String> {
    let place = ViewPath::parse(path)?;
    let bytes = std::fs::read(place.for_reading()).map_err(|e| crate::view::reason(&e))?;
    String::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_string())
}

fn failure(call: &str, reason: impl std::fmt::Display) -> mlua::Error {
    mlua::Error::runtime(format!("templates: {call}: {reason}"))
}

fn render_failure(name: &str, error: &Error) -> mlua::Error {
    let mut message = format!("TEMPLATING ERROR - Could not render {name}: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    mlua::Error::runtime(message)
}
