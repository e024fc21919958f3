//! `regex(expr)`, from `require("validation")` (and a global once it is required): Rust's
//! `regex` syntax, not Lua patterns. Its matching takes time linear in the input, so no
//! pattern an app compiles can take the CPU a backtracking engine would.
//!
//! Matching is on bytes, so a Lua string that is not UTF-8 is searched rather than refused.

use mlua::{Lua, LuaString, UserData, UserDataMethods};
use regex::bytes::Regex;

pub struct LuaRegex(Regex);

pub fn new(_: &Lua, expression: LuaString) -> mlua::Result<LuaRegex> {
    let expression = expression.to_str().map_err(|_| mlua::Error::runtime("regex: the expression is not UTF-8"))?;
    Regex::new(&expression)
        .map(LuaRegex)
        .map_err(|error| mlua::Error::runtime(format!("Could not compile the regex: {error}")))
}

impl UserData for LuaRegex {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("is_match", |_, this, text: LuaString| Ok(this.0.is_match(&text.as_bytes())));
        // One entry per match: the whole match, then each group that took part (those that
        // did not are left out, so later groups move up, as in Astra).
        methods.add_method("captures", |lua, this, text: LuaString| {
            let text = text.as_bytes();
            let matches = lua.create_table()?;
            for captures in this.0.captures_iter(&text) {
                let groups = lua.create_table()?;
                for group in captures.iter().flatten() {
                    groups.push(lua.create_string(group.as_bytes())?)?;
                }
                matches.push(groups)?;
            }
            Ok(matches)
        });
        // `$1` and `${name}` name groups in `replacement`; `limit` nil or 0 replaces all.
        methods.add_method(
            "replace",
            |lua, this, (text, replacement, limit): (LuaString, LuaString, Option<usize>)| {
                let (text, replacement) = (text.as_bytes(), replacement.as_bytes());
                let replaced = this.0.replacen(&text, limit.unwrap_or(0), &*replacement);
                lua.create_string(&*replaced)
            },
        );
    }
}
