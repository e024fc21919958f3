//! `apps/<name>/astra.toml` and `apps/<name>/.env`: what an app's operator may set.
//!
//! ```toml
//! entry = "init.lua"          # the script to run (default init.lua)
//! hosts = ["shop.example"]    # Host names served besides <name>.localhost
//! [env]                       # the only environment variables the app sees
//! GREETING = "hello"
//! [limits]                    # overrides of the host-wide defaults
//! memory = "32MiB"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::config::limits::{Limits, LimitsTable};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppToml {
    entry: Option<String>,
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    limits: LimitsTable,
}

#[derive(Debug)]
pub struct AppConfig {
    pub entry: String,
    pub hosts: Vec<String>,
    pub env: Vec<(String, String)>,
    pub limits: Limits,
}

impl AppConfig {
    /// Reads the app folder's `astra.toml` and `.env`; errors name the file and the key.
    pub fn load(app_dir: &Path, defaults: &Limits) -> Result<AppConfig, String> {
        let toml_path = app_dir.join("astra.toml");
        let parsed: AppToml = match std::fs::read_to_string(&toml_path) {
            Ok(text) => toml::from_str(&text).map_err(|e| format!("astra.toml: {}", e.to_string().trim_end()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => AppToml::default(),
            Err(e) => return Err(format!("astra.toml: {e}")),
        };
        let limits = defaults.overridden_by(&parsed.limits).map_err(|e| format!("astra.toml: {e}"))?;
        if limits.memory > defaults.memory {
            return Err(format!(
                "astra.toml: limits.memory = {} is above the host's --memory-limit of {}",
                limits.memory, defaults.memory
            ));
        }
        let entry = parsed.entry.unwrap_or_else(|| "init.lua".into());
        if entry.is_empty() || Path::new(&entry).is_absolute() || entry.split('/').any(|part| part == "..") {
            return Err(format!("astra.toml: entry = {entry:?} must be a path inside the app folder"));
        }
        let mut hosts = Vec::new();
        for host in parsed.hosts {
            let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
            if host.is_empty() || host.contains(['/', ' ', ':']) {
                return Err(format!("astra.toml: hosts: {host:?} is not a host name"));
            }
            hosts.push(host);
        }
        let mut env = read_dotenv(&app_dir.join(".env"))?;
        env.extend(parsed.env);
        Ok(AppConfig { entry, hosts, env, limits })
    }
}

/// `KEY=VALUE` lines; blank lines and `#` comments are skipped, quotes around a value are
/// removed.
fn read_dotenv(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!(".env: {e}")),
    };
    let mut pairs = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!(".env:{}: expected KEY=VALUE", number + 1));
        };
        let value = value.trim();
        let unquoted =
            ['"', '\''].iter().find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q))).unwrap_or(value);
        pairs.push((key.trim().to_string(), unquoted.to_string()));
    }
    Ok(pairs)
}
