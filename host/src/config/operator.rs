//! The operator's config file (`--config FILE`, `ASTRA_CONFIG`): host-wide limit defaults,
//! and what each app is granted beyond them.
//!
//! ```toml
//! [limits]                       # host-wide defaults; command-line flags override them
//! cpu_time = "1s"
//!
//! [apps.shop]                    # one app, by its folder name
//! hosts = ["shop.example.com"]   # more Host names it is served at
//! [apps.shop.limits]             # its limits, above or below the host-wide ones
//! memory = "128MiB"
//! [apps.shop.network]            # private destinations it may reach, if it declares them
//! allow = ["postgres://10.0.0.5:5432"]
//! ```
//!
//! The apps folder belongs to the tenants, so nothing in it can grant anything: an app's
//! `astra.toml` may lower the limits it is given and list the host names it wants, and is
//! served at those only if this file grants them. Every grant is therefore here, in a file
//! the tenants never write. Errors name the file and the key, and stop the host: the
//! operator is there to fix them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::hosts;
use super::limits::{Authority, Limits, LimitsTable};
use crate::services::net::AllowList;
use crate::services::net::config::NetworkToml;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OperatorToml {
    #[serde(default)]
    limits: LimitsTable,
    #[serde(default)]
    apps: BTreeMap<String, AppGrantToml>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppGrantToml {
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default)]
    limits: LimitsTable,
    #[serde(default)]
    network: NetworkToml,
}

/// The operator's config, checked.
#[derive(Debug, Default)]
pub struct OperatorConfig {
    /// Where it was read from, for messages; none when no file was given.
    pub path: Option<PathBuf>,
    /// Host-wide `[limits]`, applied over the built-in defaults and under the flags.
    pub limits: LimitsTable,
    /// `[apps.<name>]`, by app name in lower case.
    pub apps: BTreeMap<String, AppGrant>,
}

/// What the operator grants one app.
#[derive(Debug, Default)]
pub struct AppGrant {
    /// Host names served by this app besides its own, in their normalized form.
    pub hosts: Vec<String>,
    limits: LimitsTable,
    /// Destinations the app may reach at private addresses, if its astra.toml declares them.
    pub network: AllowList,
}

impl OperatorConfig {
    pub fn load(path: &Path) -> Result<OperatorConfig, String> {
        let shown = path.display();
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the config file {shown}: {e}"))?;
        let parsed: OperatorToml =
            toml::from_str(&text).map_err(|e| format!("{shown}: {}", e.to_string().trim_end()))?;
        // Every [limits] table is tried now, so that a bad value stops the host at start
        // instead of failing one app later.
        parsed.limits.apply(&Limits::default(), Authority::Operator).map_err(|e| format!("{shown}: {e}"))?;
        let mut apps = BTreeMap::new();
        let mut granted_to: BTreeMap<String, String> = BTreeMap::new();
        for (name, grant) in parsed.apps {
            let key = format!("apps.{name}");
            let app = name.to_ascii_lowercase();
            if !hosts::is_label(&app) {
                return Err(format!("{shown}: {key}: an app name is a folder name of letters, digits and '-'"));
            }
            grant.limits.apply(&Limits::default(), Authority::Operator).map_err(|e| format!("{shown}: {key}.{e}"))?;
            let mut app_hosts = Vec::new();
            for (index, host) in grant.hosts.iter().enumerate() {
                let host = hosts::normalized(host).map_err(|e| format!("{shown}: {key}.hosts[{index}]: {e}"))?;
                if let Some(other) = granted_to.insert(host.clone(), app.clone())
                    && other != app
                {
                    return Err(format!("{shown}: {key}.hosts[{index}]: {host} is already granted to app {other}"));
                }
                if !app_hosts.contains(&host) {
                    app_hosts.push(host);
                }
            }
            let network = grant.network.allow_list().map_err(|e| format!("{shown}: {key}.{e}"))?;
            if apps.insert(app.clone(), AppGrant { hosts: app_hosts, limits: grant.limits, network }).is_some() {
                return Err(format!("{shown}: {key}: app {app} has two sections (app names ignore case)"));
            }
        }
        Ok(OperatorConfig { path: Some(path.to_path_buf()), limits: parsed.limits, apps })
    }

    /// What app `name` is granted.
    pub fn grant(&self, name: &str) -> Option<&AppGrant> {
        self.apps.get(name)
    }

    /// App `name`'s limits: the host-wide ones, moved by its `[apps.<name>.limits]`.
    pub fn limits_for(&self, name: &str, host: &Limits) -> Result<Limits, String> {
        match self.grant(name) {
            Some(grant) => grant.limits.apply(host, Authority::Operator).map(|applied| applied.limits).map_err(|e| {
                let file = self.path.as_ref().map_or_else(|| "config".into(), |p| p.display().to_string());
                format!("{file}: apps.{name}.{e}")
            }),
            None => Ok(host.clone()),
        }
    }

    /// The file, for messages that tell the operator where to grant something.
    pub fn describe(&self) -> String {
        match &self.path {
            Some(path) => path.display().to_string(),
            None => "the operator's config file (--config)".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::units::ByteSize;

    fn load(toml: &str) -> Result<OperatorConfig, String> {
        let path = std::env::temp_dir().join(format!("astra-operator-{}-{}.toml", std::process::id(), toml.len()));
        std::fs::write(&path, toml).unwrap();
        let loaded = OperatorConfig::load(&path);
        std::fs::remove_file(&path).unwrap();
        loaded.map_err(|e| e.split_once(": ").map_or(e.clone(), |(_, rest)| rest.to_string()))
    }

    #[test]
    fn grants_hosts_and_limits() {
        let config = load(
            "[limits]\ncpu_time = '1s'\n[apps.Shop]\nhosts = ['Shop.Example.com.', 'localhost']\n\
             [apps.shop.limits]\nmemory = '128MiB'\n",
        );
        let error = config.err().unwrap();
        assert_eq!(error, "apps.shop: app shop has two sections (app names ignore case)");

        let config =
            load("[apps.shop]\nhosts = ['Shop.Example.com.', 'localhost']\n[apps.shop.limits]\nmemory = '128MiB'\n")
                .unwrap();
        assert_eq!(config.grant("shop").unwrap().hosts, ["shop.example.com", "localhost"]);
        let limits = config.limits_for("shop", &Limits::default()).unwrap();
        assert_eq!(limits.memory, ByteSize::mib(128), "the operator may raise a limit");
        assert_eq!(config.limits_for("blog", &Limits::default()).unwrap(), Limits::default());
    }

    #[test]
    fn every_mistake_names_its_key() {
        for (toml, expected) in [
            ("[limits]\nmemory = 'lots'\n", "limits.memory: \"lots\" does not start with a number"),
            ("[apps.shop.limits]\ncpu_time = '2'\n", "apps.shop.limits.cpu_time: \"2\" has no unit"),
            ("[apps.shop]\nhosts = ['shop.example.com:80']\n", "apps.shop.hosts[0]: \"shop.example.com:80\" is not"),
            (
                "[apps.a]\nhosts = ['x.com']\n[apps.b]\nhosts = ['X.com']\n",
                "apps.b.hosts[0]: x.com is already granted to app a",
            ),
            ("[apps.my_app]\n", "apps.my_app: an app name is a folder name"),
            ("[apps.shop]\nhost = []\n", "unknown field `host`"),
        ] {
            let error = load(toml).err().unwrap_or_default();
            assert!(error.contains(expected), "{toml}: {error}");
        }
    }

    #[test]
    fn network_grants_are_rules_checked_at_load() {
        let config = load("[apps.shop.network]\nallow = [\"postgres://10.0.0.5:5432\"]\n").unwrap();
        assert!(config.grant("shop").unwrap().network.find("postgres", "10.0.0.5", 5432).is_some());
        let error = load("[apps.shop.network]\nallow = [\"10.0.0.5\"]\n").unwrap_err();
        assert!(error.contains("apps.shop.network.allow[0]") && error.contains("scheme://host"), "{error}");
    }
}
