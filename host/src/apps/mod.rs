//! The set of hosted apps and which Host header reaches which app.
//!
//! Every sub-folder of the apps folder is an app named after it, reached at
//! `<name>.localhost`, at `<name>.<domain>` for each `--domain`, and at the host names the
//! operator's config grants it. Only the operator grants names: an app's `astra.toml` is
//! the tenant's, and one tenant listing another's domain (or `localhost`, the default
//! app's) would take its traffic. Apps load concurrently; one that fails is reported and
//! kept (it answers 503) without holding up the others.

pub mod app;
pub mod buffers;
pub mod folder;
pub mod routes;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use self::app::{App, AppSource, AppState};
use crate::config::hosts;
use crate::config::limits::Limits;
use crate::config::operator::OperatorConfig;
use crate::sandbox::data_quota;
use crate::sandbox::engine::Sandbox;

pub struct Registry {
    apps: Vec<Arc<App>>,
    by_host: HashMap<String, Arc<App>>,
    default_app: Option<Arc<App>>,
}

pub struct HostOptions {
    pub domains: Vec<String>,
    /// Limits and host names granted per app.
    pub operator: OperatorConfig,
    pub default_app: Option<String>,
    /// Per-app data folders are created under this one.
    pub data_root: PathBuf,
    /// The trust roots of apps' https requests.
    pub tls: Arc<rustls::ClientConfig>,
}

impl Registry {
    pub async fn from_dir(
        sandbox: Arc<Sandbox>,
        apps_dir: &Path,
        host_limits: &Limits,
        options: &HostOptions,
    ) -> Result<Registry, String> {
        let mut entries: Vec<_> = std::fs::read_dir(apps_dir)
            .map_err(|e| format!("cannot read the apps folder {}: {e}", apps_dir.display()))?
            .flatten()
            .collect();
        // In name order, so that of two folders that differ only in case the same one wins
        // at every start.
        entries.sort_by_key(|entry| entry.file_name());
        let mut sources = Vec::new();
        for entry in entries {
            let folder = entry.file_name().to_string_lossy().into_owned();
            if folder.starts_with('.') || !entry.path().is_dir() {
                continue;
            }
            let name = folder.to_ascii_lowercase();
            if !hosts::is_label(&name) {
                tracing::warn!(
                    "skipping {}: an app folder name must be a host name label (letters, digits and '-')",
                    entry.path().display()
                );
                continue;
            }
            if let Some(same) = sources.iter().find(|source: &&AppSource| source.name == name) {
                tracing::warn!(
                    "skipping {}: app {name} already comes from {} (app names ignore case)",
                    entry.path().display(),
                    same.dir.display()
                );
                continue;
            }
            let mut hosts = own_hosts(&name, &options.domains);
            let grant = options.operator.grant(&name);
            for host in grant.map(|grant| grant.hosts.as_slice()).unwrap_or_default() {
                if !hosts.contains(host) {
                    hosts.push(host.clone());
                }
            }
            sources.push(AppSource {
                data_dir: options.data_root.join(&name),
                name,
                dir: entry.path(),
                hosts,
                run: None,
                network_grant: Some(grant.map(|grant| grant.network.clone()).unwrap_or_default()),
                tls: options.tls.clone(),
            });
        }
        sources.sort_by(|a, b| a.name.cmp(&b.name));
        check_grants(&sources, options)?;

        let mut loading = tokio::task::JoinSet::new();
        for source in sources {
            let limits = options.operator.limits_for(&source.name, host_limits)?;
            let sandbox = sandbox.clone();
            loading.spawn(async move { App::load(sandbox, source, &limits).await });
        }
        let mut apps = loading.join_all().await;
        apps.sort_by(|a, b| a.name.cmp(&b.name));
        let apps: Vec<Arc<App>> = apps.into_iter().map(Arc::new).collect();
        for app in &apps {
            if matches!(&*app.state(), AppState::Failed(_)) {
                tokio::spawn(app.clone().retry_until_started(sandbox.clone()));
            }
        }

        let default_app = match &options.default_app {
            Some(name) => Some(
                apps.iter()
                    .find(|app| app.name.eq_ignore_ascii_case(name))
                    .cloned()
                    .ok_or_else(|| format!("--default-app {name}: there is no app folder of that name"))?,
            ),
            None => None,
        };
        let by_host = apps.iter().flat_map(|app| app.hosts.iter().map(|host| (host.clone(), app.clone()))).collect();
        Ok(Registry { apps, by_host, default_app })
    }

    /// Every `every`, releases instances idle for longer than `idle_for`.
    pub async fn release_idle_instances(self: Arc<Self>, idle_for: Duration) {
        let every = (idle_for / 2).clamp(Duration::from_millis(100), Duration::from_secs(30));
        loop {
            tokio::time::sleep(every).await;
            for app in &self.apps {
                if let AppState::Ready(ready) = &*app.state() {
                    let released = ready.pool.release_idle(idle_for);
                    if released > 0 {
                        tracing::info!("[{}] released {released} idle instance(s)", app.name);
                    }
                }
            }
        }
    }

    /// Every `data_quota::CHECK_EVERY`, measures the data folder of each app that wants
    /// it against its limit, each in a blocking task of its own, so that an app with a
    /// great many files delays no other's measurement.
    pub async fn watch_data_folders(self: Arc<Self>) {
        loop {
            tokio::time::sleep(data_quota::CHECK_EVERY).await;
            for app in &self.apps {
                if let AppState::Ready(ready) = &*app.state()
                    && ready.pool.wants_data_measured()
                {
                    let pool = ready.pool.clone();
                    tokio::task::spawn_blocking(move || pool.measure_data_folder());
                }
            }
        }
    }

    /// `run` mode: one app, answering every Host.
    pub fn single(app: App) -> Registry {
        let app = Arc::new(app);
        Registry { apps: vec![app.clone()], by_host: HashMap::new(), default_app: Some(app) }
    }

    pub fn apps(&self) -> &[Arc<App>] {
        &self.apps
    }

    /// The app for a Host header value (`hello.localhost:8080`).
    pub fn find(&self, host: Option<&str>) -> Option<&Arc<App>> {
        host.map(host_name).and_then(|name| self.by_host.get(name.as_ref())).or(self.default_app.as_ref())
    }

    /// The start-up table: app, hosts, routes, state.
    pub fn summary(&self) -> String {
        let rows: Vec<[String; 4]> = self
            .apps
            .iter()
            .map(|app| {
                let routes = match &*app.state() {
                    AppState::Ready(ready) => ready.routes.len.to_string(),
                    AppState::Failed(_) | AppState::Finished => "-".into(),
                };
                [app.name.to_string(), app.hosts.join(", "), routes, app.status()]
            })
            .collect();
        let header = ["APP", "HOSTS", "ROUTES", "STATE"].map(String::from);
        let mut widths = header.clone().map(|h| h.len());
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.len());
            }
        }
        let mut table = String::new();
        for row in std::iter::once(&header).chain(&rows) {
            let _ = writeln!(
                table,
                "{:<w0$}  {:<w1$}  {:>w2$}  {}",
                row[0],
                row[1],
                row[2],
                row[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            );
        }
        if self.apps.is_empty() {
            table.push_str("(no apps: every sub-folder of the apps folder is an app, started from its init.lua)\n");
        }
        table
    }
}

/// A host name the operator grants one app must not be another app's own name, and a
/// grant for an app that is not there is most likely a typo.
fn check_grants(sources: &[AppSource], options: &HostOptions) -> Result<(), String> {
    let operator = &options.operator;
    for (name, grant) in &operator.apps {
        if !sources.iter().any(|source| &source.name == name) {
            tracing::warn!("{}: [apps.{name}]: there is no app folder of that name", operator.describe());
            continue;
        }
        for other in sources.iter().filter(|source| &source.name != name) {
            let own = own_hosts(&other.name, &options.domains);
            if let Some(host) = grant.hosts.iter().find(|host| own.contains(host)) {
                let file = operator.describe();
                return Err(format!("{file}: apps.{name}.hosts: {host} is app {}'s own host name", other.name));
            }
        }
    }
    Ok(())
}

/// `<name>.localhost`, then `<name>.<domain>` for each `--domain`.
fn own_hosts(name: &str, domains: &[String]) -> Vec<String> {
    let mut hosts = vec![format!("{name}.localhost")];
    hosts.extend(domains.iter().map(|domain| format!("{name}.{domain}")));
    hosts
}

/// `Hello.Localhost:8080` -> `hello.localhost`; `[::1]:80` -> `[::1]`. Borrowed when
/// already lower case, as nearly every client sends it.
fn host_name(host: &str) -> Cow<'_, str> {
    let without_port = match host.rfind(':') {
        Some(colon) if !host[colon..].contains(']') => &host[..colon],
        _ => host,
    };
    let name = without_port.trim_end_matches('.');
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        assert_eq!(host_name("Hello.Localhost:8080"), "hello.localhost");
        assert_eq!(host_name("hello.localhost."), "hello.localhost");
        assert_eq!(host_name("[::1]:80"), "[::1]");
        assert_eq!(host_name("[::1]"), "[::1]");
    }
}
