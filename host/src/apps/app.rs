//! One hosted app: its configuration, its state (ready, or the reason it is not), its route
//! table and its instance pool.
//!
//! Loading runs the entry script in a first instance to learn the routes; that instance
//! then joins the pool, so the first request finds a warm one. A failed start is kept as a
//! message, the app answers 503, and (under `--apps`) it is tried again with exponential
//! backoff, so an operator's fix is picked up without restarting the host.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use crate::apps::buffers::Buffers;
use crate::apps::routes::{RouteTable, Target, TargetKind};
use crate::bindings::Manifest;
use crate::bindings::astra::host::runtime::Level;
use crate::config::app::AppConfig;
use crate::config::limits::Limits;
use crate::sandbox::data_quota::DataQuota;
use crate::sandbox::engine::Sandbox;
use crate::sandbox::instance::CallError;
use crate::sandbox::instance::CallLimits;
use crate::sandbox::pool::{EntryScript, Pool};
use crate::sandbox::store::InstanceSpec;
use crate::services::net::{AllowList, EgressPolicy};
use crate::services::outbound_http::OutboundHttpApp;
use crate::services::runtime::AppLog;
use crate::services::sql::SqlApp;
use crate::shutdown::ShutdownSignal;

const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(300);

pub struct App {
    pub name: Arc<str>,
    /// The host names that reach the app (`AppSource::hosts`).
    pub hosts: Vec<String>,
    source: AppSource,
    /// The limits the operator gives the app, before its astra.toml lowers them.
    given: Limits,
    state: RwLock<Arc<AppState>>,
    pub shutdown: Arc<ShutdownSignal>,
}

// One per app, behind an Arc: the size of `Ready` costs nothing worth a Box.
#[allow(clippy::large_enum_variant)]
pub enum AppState {
    Ready(Ready),
    Failed(String),
    /// `astra-host run`: the script ran to its end without serving anything.
    Finished,
}

pub struct Ready {
    pub routes: RouteTable,
    pub pool: Arc<Pool>,
    pub manifest: Manifest,
    /// Bytes of bodies held for the app's clients (see `buffers`).
    pub buffers: Arc<Buffers>,
}

impl Ready {
    /// A route's body limit: its config's, up to the app's `body_limit`, which bounds what
    /// the host reads (a 16 KB zstd bomb to a route of `body_limit = 1 << 40` made the host
    /// buffer 512 MiB).
    pub fn body_limit(&self, target: &Target) -> usize {
        let app_limit = self.pool.limits().body_limit.as_usize();
        target.options.body_limit.map_or(app_limit, |route| route.min(app_limit))
    }
}

/// Where an app comes from.
#[derive(Clone)]
pub struct AppSource {
    pub name: String,
    pub dir: PathBuf,
    pub data_dir: PathBuf,
    /// Host names the app answers to: `<name>.localhost`, `<name>.<domain>` for each
    /// `--domain`, and those the operator's config grants it.
    pub hosts: Vec<String>,
    /// `astra-host run`: the script named on the command line, which may also run to its
    /// end without serving anything.
    pub run: Option<RunScript>,
    /// What the operator grants of the destinations the app declares; none under
    /// `astra-host run`, where whoever runs the script grants what it declares.
    pub network_grant: Option<AllowList>,
    /// The trust roots of its https requests.
    pub tls: Arc<rustls::ClientConfig>,
}

/// What `astra-host run` was given.
#[derive(Clone, Debug)]
pub struct RunScript {
    /// Relative to the app folder.
    pub path: String,
    /// What follows `--` on the command line.
    pub arguments: Vec<String>,
}

impl App {
    /// Loads an app with the limits the operator gives it, which its astra.toml may lower.
    pub async fn load(sandbox: Arc<Sandbox>, source: AppSource, given: &Limits) -> App {
        let name: Arc<str> = source.name.as_str().into();
        let shutdown = Arc::new(ShutdownSignal::default());
        let config = AppConfig::load(&source.dir, given);
        let state = start(&sandbox, &source, &name, config, &shutdown).await;
        if let AppState::Failed(message) = &state
            && source.run.is_none()
        {
            tracing::error!("[{name}] did not start: {message}");
        }
        let hosts = source.hosts.clone();
        App { name, hosts, source, given: given.clone(), state: RwLock::new(Arc::new(state)), shutdown }
    }

    pub fn state(&self) -> Arc<AppState> {
        self.state.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn set_state(&self, state: AppState) {
        *self.state.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(state);
    }

    pub fn status(&self) -> String {
        match &*self.state() {
            AppState::Ready(_) => "ready".into(),
            AppState::Failed(message) => format!("failed: {message}"),
            AppState::Finished => "finished".into(),
        }
    }

    /// Tries a failed app again, waiting twice as long after each failure.
    pub async fn retry_until_started(self: Arc<Self>, sandbox: Arc<Sandbox>) {
        let mut delay = FIRST_RETRY;
        while matches!(&*self.state(), AppState::Failed(_)) {
            tokio::time::sleep(delay).await;
            // The config is read again: the fix may be in astra.toml.
            let config = AppConfig::load(&self.source.dir, &self.given);
            let state = start(&sandbox, &self.source, &self.name, config, &self.shutdown).await;
            match &state {
                AppState::Ready(_) | AppState::Finished => tracing::info!("[{}] started on a later try", self.name),
                AppState::Failed(message) => {
                    delay = (delay * 2).min(LAST_RETRY);
                    tracing::warn!("[{}] still does not start: {message}; next try in {delay:?}", self.name);
                }
            }
            self.set_state(state);
        }
    }
}

async fn start(
    sandbox: &Arc<Sandbox>,
    source: &AppSource,
    name: &Arc<str>,
    config: Result<AppConfig, String>,
    shutdown: &Arc<ShutdownSignal>,
) -> AppState {
    let config = match config {
        Ok(config) => config,
        Err(message) => return AppState::Failed(message),
    };
    for warning in &config.warnings {
        tracing::warn!("[{name}] {warning}");
    }
    for host in config.wanted_hosts.iter().filter(|host| !source.hosts.contains(host)) {
        tracing::warn!(
            "[{name}] astra.toml: hosts: {host} is not served: host names beyond the app's own are granted \
             by the operator (hosts in the [apps.{name}] section of the --config file)"
        );
    }
    let entry = match &source.run {
        Some(run) => EntryScript { path: run.path.clone(), arguments: run.arguments.clone() },
        None => EntryScript { path: config.entry, arguments: Vec::new() },
    };
    let app_dir = match source.dir.canonicalize() {
        Ok(dir) => dir,
        Err(e) => return AppState::Failed(format!("cannot open the app folder: {e}")),
    };
    // `astra-host run` may be given a script in any folder of the operator's, such as a home
    // folder: only a served app folder, the tenant's, is checked.
    if source.run.is_none() {
        let dir = app_dir.clone();
        let checked = tokio::task::spawn_blocking(move || super::folder::check(&dir)).await;
        if let Err(message) = checked.unwrap_or_else(|e| Err(e.to_string())) {
            return AppState::Failed(message);
        }
    }
    if let Err(e) = std::fs::create_dir_all(&source.data_dir) {
        return AppState::Failed(format!("cannot create the data folder {}: {e}", source.data_dir.display()));
    }
    let egress = Arc::new(EgressPolicy {
        granted: source.network_grant.clone().unwrap_or_else(|| config.network.clone()),
        declared: config.network,
    });
    let data_quota: Arc<DataQuota> = Arc::default();
    let sql = SqlApp::new(name.clone(), source.data_dir.clone(), egress.clone(), data_quota.clone(), &config.limits);
    let outbound_http = OutboundHttpApp::new(egress, source.tls.clone(), &config.limits);
    let spec = InstanceSpec {
        app: name.clone(),
        app_dir: app_dir.clone(),
        data_dir: source.data_dir.clone(),
        env: config.env,
        env_files: config.env_files,
        timezone: config.timezone,
        memory: config.limits.memory,
        open_files: config.limits.open_files,
        data_quota,
        shutdown: shutdown.clone(),
        log: Arc::new(AppLog::new(name.clone(), &config.limits, source.run.is_some())),
        sql: Arc::new(sql),
        outbound_http: Arc::new(outbound_http),
        pubsub: Arc::default(),
    };
    let limits = config.limits.clone();
    let pool = Pool::new(sandbox.clone(), spec, entry.clone(), config.limits);
    let start_limits = if source.run.is_some() { CallLimits::SCRIPT } else { pool.start_limits() };
    let (instance, manifest) = match pool.start_instance(start_limits, true).await {
        Ok(started) => started,
        Err(CallError::Lua(error)) => {
            if !error.traceback.is_empty() {
                tracing::debug!("[{name}] {}", error.traceback);
            }
            return AppState::Failed(error.message);
        }
        Err(CallError::Fault(fault)) => return AppState::Failed(format!("{}: {fault}", entry.path)),
    };
    let manifest = match manifest {
        Some(manifest) => manifest,
        None if source.run.is_some() => return AppState::Finished,
        None => return AppState::Failed(pool.not_a_server()),
    };
    let routes = match RouteTable::build(&manifest.routes, &app_dir) {
        Ok(routes) => routes,
        Err(message) => return AppState::Failed(format!("{}: {message}", entry.path)),
    };
    let app_limit = limits.body_limit;
    for route in routes.targets().filter(|route| route.options.body_limit.is_some_and(|n| n as u64 > app_limit.0)) {
        pool.log().report(
            Level::Warn,
            format_args!(
                "{}: config.body_limit is above the app's body_limit of {app_limit}, which applies \
                 (the operator grants more: [apps.{name}.limits] body_limit)",
                route.label
            ),
        );
    }
    if limits.max_instances < 2
        && let Some(socket) = routes.targets().find(|route| matches!(route.kind, TargetKind::WebSocket))
    {
        pool.log().report(
            Level::Warn,
            format_args!(
                "{}: with max_instances = 1 no WebSocket can open: sockets may hold max_instances - 1 \
                 instances, so that the app's routes keep one",
                socket.label
            ),
        );
    }
    pool.give_back(instance);
    let buffers = Arc::new(Buffers::new(limits.buffer_limit));
    AppState::Ready(Ready { routes, pool, manifest, buffers })
}
