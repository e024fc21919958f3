//! `astra-host export [DIR]`: LuaLS type definitions of the whole API and a `.luarc.json`
//! that points the language server at them, so editors complete and check app code, as
//! Astra's `astra export` does.

use std::path::Path;

const DEFINITIONS: &str = include_str!("../../guest-lua/lua/astra.d.lua");

const LUARC: &str = r#"{
  "$schema": "https://raw.githubusercontent.com/LuaLS/vscode-lua/master/setting/schema.json",
  "runtime.version": "Lua 5.4",
  "workspace.library": [".astra"],
  "diagnostics.globals": ["Astra", "http", "pprint"]
}
"#;

/// Writes `DIR/.astra/astra.d.lua` and, unless one exists, `DIR/.luarc.json`.
pub fn export(dir: &Path) -> std::io::Result<Vec<String>> {
    let library = dir.join(".astra");
    std::fs::create_dir_all(&library)?;
    let definitions = library.join("astra.d.lua");
    std::fs::write(&definitions, DEFINITIONS)?;
    let mut written = vec![definitions.display().to_string()];
    let luarc = dir.join(".luarc.json");
    if !luarc.exists() {
        std::fs::write(&luarc, LUARC)?;
        written.push(luarc.display().to_string());
    }
    Ok(written)
}
