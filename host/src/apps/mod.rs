//! The set of hosted apps and which Host header reaches which app.
//!
//! Every sub-folder of the apps folder is an app named after it, reached at
//! `<name>.localhost`, at `<name>.<domain>` for each `--domain`, and at the hosts its
//! `astra.toml` lists. Apps load concurrently; one that fails is reported and kept (it
//! answers 503) without holding up the others, and a host name that apps contest is
//! settled without stopping the rest (`settle_host_claims`).

pub mod app;
pub mod routes;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use self::app::{App, AppSource, AppState};
use crate::config::limits::Limits;
use crate::sandbox::data_quota;
use crate::sandbox::engine::Sandbox;

pub struct Registry {
    apps: Vec<Arc<App>>,
    by_host: HashMap<String, Arc<App>>,
    default_app: Option<Arc<App>>,
}

pub struct HostOptions {
    pub domains: Vec<String>,
    pub default_app: Option<String>,
    /// Per-app data folders are created under this one.
    pub data_root: PathBuf,
}

impl Registry {
    pub async fn from_dir(
        sandbox: Arc<Sandbox>,
        apps_dir: &Path,
        limits: &Limits,
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
            if !is_dns_label(&name) {
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
            let mut hosts = vec![format!("{name}.localhost")];
            for domain in &options.domains {
                let host = format!("{name}.{domain}");
                if !hosts.contains(&host) {
                    hosts.push(host);
                }
            }
            sources.push(AppSource {
                data_dir: options.data_root.join(&name),
                name,
                dir: entry.path(),
                hosts,
                entry_override: None,
            });
        }
        sources.sort_by(|a, b| a.name.cmp(&b.name));

        let mut loading = tokio::task::JoinSet::new();
        for source in sources {
            let (sandbox, limits) = (sandbox.clone(), limits.clone());
            loading.spawn(async move { App::load(sandbox, source, &limits).await });
        }
        let mut apps = loading.join_all().await;
        apps.sort_by(|a, b| a.name.cmp(&b.name));
        settle_host_claims(&mut apps);
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

    /// Every `data_quota::CHECK_EVERY`, measures each app's data folder against its limit.
    pub async fn watch_data_folders(self: Arc<Self>) {
        loop {
            tokio::time::sleep(data_quota::CHECK_EVERY).await;
            let registry = self.clone();
            let measured = tokio::task::spawn_blocking(move || {
                for app in &registry.apps {
                    if let AppState::Ready(ready) = &*app.state() {
                        ready.pool.check_data_folder();
                    }
                }
            });
            if let Err(error) = measured.await {
                tracing::error!("measuring the data folders failed: {error}");
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
                    AppState::Failed(_) => "-".into(),
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

/// An astra.toml may list any host name, so one app could claim another's. An app's own
/// names (from its folder name) are never taken from it, and a listed name that two apps
/// claim reaches neither: each is told why, and every other host name is served while the
/// operator settles it.
fn settle_host_claims(apps: &mut [App]) {
    let mut owners: HashMap<String, usize> = HashMap::new();
    for (index, app) in apps.iter().enumerate() {
        for host in app.own_hosts() {
            owners.insert(host.clone(), index);
        }
    }
    let mut claimants: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, app) in apps.iter().enumerate() {
        for host in app.listed_hosts() {
            claimants.entry(host.clone()).or_default().push(index);
        }
    }
    for (host, claimants) in claimants {
        let reason = match owners.get(&host) {
            Some(&owner) => format!("it is app {}'s own", apps[owner].name),
            None if claimants.len() > 1 => {
                let names: Vec<&str> = claimants.iter().map(|&index| &*apps[index].name).collect();
                format!("apps {} all list it, so it reaches none of them", names.join(", "))
            }
            None => continue,
        };
        for index in claimants {
            let app = &mut apps[index];
            tracing::error!("[{}] astra.toml: hosts: {host} is not served: {reason}", app.name);
            app.drop_listed_host(&host);
        }
    }
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

fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
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

    #[test]
    fn labels() {
        assert!(is_dns_label("my-app2"));
        assert!(!is_dns_label("my_app"));
        assert!(!is_dns_label("-x"));
        assert!(!is_dns_label(""));
    }
}
