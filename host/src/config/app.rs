//! `apps/<name>/astra.toml` and `apps/<name>/.env*`: what an app's tenant may set.
//!
//! ```toml
//! entry = "init.lua"          # the script to run (default init.lua)
//! hosts = ["shop.example"]    # Host names the app would like; the operator grants them
//! timezone = "Europe/Berlin"  # its local time (default: the host's zone)
//! [env]                       # the only environment variables the app sees
//! GREETING = "hello"
//! [limits]                    # lower than what the app is given, never higher
//! memory = "32MiB"
//! [network]                   # where it may connect (private addresses need a grant)
//! allow = ["postgres://db.example.com"]
//! ```
//!
//! The `.env` files are Astra's, in its order (`ENV_FILES`); the instance loads them with
//! dotenvy over `[env]`, in its own environment, so that `${VAR}` in them sees the app's
//! variables and never the host's. The host reads them and checks that they parse, to
//! report a bad line once rather than in every instance.
//!
//! The app folder is the tenant's, and so hostile input, down to its links: these files
//! are opened without following a symbolic link, must be regular files (a FIFO would stall
//! the host's read for ever) and are read up to a size cap. A link to another tenant's
//! `.env` would otherwise hand its secrets over.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde::Deserialize;

use super::hosts;
use super::limits::{Authority, Limits, LimitsTable};
use super::timezone::{self, TimeZone};
use crate::services::net::AllowList;
use crate::services::net::config::NetworkToml;

/// Larger config files are refused: real ones take a few hundred bytes, and the host reads
/// them into memory.
const MAX_CONFIG_FILE: u64 = 1 << 20;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppToml {
    entry: Option<String>,
    #[serde(default)]
    hosts: Vec<String>,
    timezone: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    limits: LimitsTable,
    #[serde(default)]
    network: NetworkToml,
}

#[derive(Debug)]
pub struct AppConfig {
    pub entry: String,
    /// The host names `hosts` lists. The app is not served at them unless the operator
    /// grants them; see `apps`.
    pub wanted_hosts: Vec<String>,
    /// `[env]`: the environment every instance starts with.
    pub env: Vec<(String, String)>,
    /// The `.env` files there are, as (name, text), in `ENV_FILES` order.
    pub env_files: Vec<(String, String)>,
    /// The zone of the app's local time; None is UTC.
    pub timezone: Option<TimeZone>,
    pub limits: Limits,
    /// The destinations `[network] allow` declares.
    pub network: AllowList,
    /// What the app should be told: each value of its `[limits]` above what it is given.
    pub warnings: Vec<String>,
}

impl AppConfig {
    /// Reads the app folder's `astra.toml` and `.env`; errors name the file and the key.
    /// `given` is what the operator gives the app, which its own `[limits]` may lower.
    pub fn load(app_dir: &Path, given: &Limits) -> Result<AppConfig, String> {
        let parsed: AppToml = match read_app_file(app_dir, "astra.toml")? {
            Some(text) => toml::from_str(&text).map_err(|e| format!("astra.toml: {}", e.to_string().trim_end()))?,
            None => AppToml::default(),
        };
        let applied = parsed.limits.apply(given, Authority::App).map_err(|e| format!("astra.toml: {e}"))?;
        let mut warnings: Vec<String> = applied
            .refused_raises
            .into_iter()
            .map(|refused| format!("astra.toml: {refused}: an app may only lower its limits"))
            .collect();
        let entry = parsed.entry.unwrap_or_else(|| "init.lua".into());
        if entry.is_empty() || Path::new(&entry).is_absolute() || entry.split('/').any(|part| part == "..") {
            return Err(format!("astra.toml: entry = {entry:?} must be a path inside the app folder"));
        }
        let wanted_hosts = parsed
            .hosts
            .iter()
            .enumerate()
            .map(|(index, host)| hosts::normalized(host).map_err(|e| format!("astra.toml: hosts[{index}]: {e}")))
            .collect::<Result<_, _>>()?;
        let mut env_files = Vec::new();
        for name in ENV_FILES {
            if let Some(text) = read_app_file(app_dir, name)? {
                warnings.extend(dotenv_problem(name, &text));
                env_files.push((name.to_string(), text));
            }
        }
        let timezone = match &parsed.timezone {
            Some(name) => Some(timezone::named(name).map_err(|e| format!("astra.toml: timezone: {e}"))?),
            None => timezone::host(),
        };
        let network = parsed.network.allow_list().map_err(|e| format!("astra.toml: {e}"))?;
        let env = parsed.env.into_iter().collect();
        Ok(AppConfig { entry, wanted_hosts, env, env_files, timezone, limits: applied.limits, network, warnings })
    }
}

/// A config file of the app folder, if there is one: opened without following a link,
/// only if it is a regular file, and only up to `MAX_CONFIG_FILE`.
fn read_app_file(app_dir: &Path, name: &str) -> Result<Option<String>, String> {
    let opened = OpenOptions::new()
        .read(true)
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(app_dir.join(name));
    let file = match opened {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(format!("{name} is a symbolic link: the host reads only regular files in the app folder"));
        }
        Err(e) => return Err(format!("{name}: {e}")),
    };
    let metadata = file.metadata().map_err(|e| format!("{name}: {e}"))?;
    if !metadata.is_file() {
        return Err(format!("{name} is not a regular file"));
    }
    let mut text = String::new();
    file.take(MAX_CONFIG_FILE + 1).read_to_string(&mut text).map_err(|e| format!("{name}: {e}"))?;
    if text.len() as u64 > MAX_CONFIG_FILE {
        return Err(format!("{name} is larger than {} KiB", MAX_CONFIG_FILE / 1024));
    }
    Ok(Some(text))
}

/// The `.env` files Astra loads from an app's folder, each over the ones before.
pub const ENV_FILES: [&str; 7] =
    [".env", ".env.production", ".env.prod", ".env.development", ".env.dev", ".env.test", ".env.local"];

/// The first line dotenvy cannot parse, as the warning to give: as in Astra, the variables
/// before it are loaded and the rest of the file is not.
fn dotenv_problem(name: &str, text: &str) -> Option<String> {
    let error = dotenvy::from_read_iter(text.as_bytes()).find_map(Result::err)?;
    Some(match error {
        dotenvy::Error::LineParse(line, _) => {
            let number = text.lines().position(|candidate| candidate.trim() == line.trim()).map_or(0, |n| n + 1);
            format!("{name}:{number}: cannot parse {:?}; it and the lines after it are not loaded", line.trim())
        }
        other => format!("{name}: {other}; the rest of it is not loaded"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_fifos_and_huge_files_are_refused() {
        let dir = std::env::temp_dir().join(format!("astra-app-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("secret"), "SECRET=1\n").unwrap();
        std::os::unix::fs::symlink(dir.join("secret"), dir.join(".env")).unwrap();
        let error = AppConfig::load(&dir, &Limits::default()).unwrap_err();
        assert_eq!(error, ".env is a symbolic link: the host reads only regular files in the app folder");

        std::fs::remove_file(dir.join(".env")).unwrap();
        let made = std::process::Command::new("mkfifo").arg(dir.join(".env")).status().unwrap();
        assert!(made.success());
        assert_eq!(AppConfig::load(&dir, &Limits::default()).unwrap_err(), ".env is not a regular file");

        std::fs::remove_file(dir.join(".env")).unwrap();
        std::fs::write(dir.join("astra.toml"), vec![b'#'; MAX_CONFIG_FILE as usize + 1]).unwrap();
        assert_eq!(AppConfig::load(&dir, &Limits::default()).unwrap_err(), "astra.toml is larger than 1024 KiB");

        std::fs::write(dir.join("astra.toml"), "hosts = ['Shop.Example.com.']\n[limits]\ncpu_time = '1h'\n").unwrap();
        let config = AppConfig::load(&dir, &Limits::default()).unwrap();
        assert_eq!(config.wanted_hosts, ["shop.example.com"]);
        assert_eq!(config.limits, Limits::default());
        assert_eq!(config.warnings.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
