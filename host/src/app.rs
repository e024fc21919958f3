//! One hosted app: its configuration, its state (ready, or the reason it is not), its route
//! table and its instance pool.
//!
//! Loading runs the entry script in a first instance to learn the routes; that instance
//! then joins the pool, so the first request finds a warm one. A failed start is kept as a
//! message: the app answers 503 and the rest of the host carries on.

use std::path::PathBuf;
use std::sync::Arc;

use crate::app_config::AppConfig;
use crate::bindings::Manifest;
use crate::engine::Sandbox;
use crate::instance::CallError;
use crate::limits::Limits;
use crate::pool::Pool;
use crate::routes::RouteTable;
use crate::shutdown::ShutdownSignal;
use crate::store::InstanceSpec;

pub struct App {
    pub name: Arc<str>,
    pub hosts: Vec<String>,
    pub entry: String,
    pub state: AppState,
    pub shutdown: Arc<ShutdownSignal>,
}

pub enum AppState {
    Ready(Ready),
    Failed(String),
}

pub struct Ready {
    pub routes: RouteTable,
    pub pool: Arc<Pool>,
    pub manifest: Manifest,
    pub app_dir: PathBuf,
}

/// Where an app comes from.
pub struct AppSource {
    pub name: String,
    pub dir: PathBuf,
    pub data_dir: PathBuf,
    /// Host names the app answers to, besides those of its config.
    pub hosts: Vec<String>,
    /// `run` mode names the entry script on the command line.
    pub entry_override: Option<String>,
}

impl App {
    pub async fn load(sandbox: Arc<Sandbox>, source: AppSource, defaults: &Limits) -> App {
        let name: Arc<str> = source.name.as_str().into();
        let shutdown = Arc::new(ShutdownSignal::default());
        let config = AppConfig::load(&source.dir, defaults);
        let mut hosts = source.hosts.clone();
        let (entry, state) = match config {
            Ok(config) => {
                hosts.extend(config.hosts.iter().cloned());
                let entry = source.entry_override.clone().unwrap_or(config.entry.clone());
                let state = start(sandbox, &source, &name, config, &entry, shutdown.clone()).await;
                (entry, state)
            }
            Err(message) => (String::from("init.lua"), AppState::Failed(message)),
        };
        if let AppState::Failed(message) = &state {
            tracing::error!("[{name}] did not start: {message}");
        }
        App { name, hosts, entry, state, shutdown }
    }

    pub fn status(&self) -> String {
        match &self.state {
            AppState::Ready(_) => "ready".into(),
            AppState::Failed(message) => format!("failed: {message}"),
        }
    }
}

async fn start(
    sandbox: Arc<Sandbox>,
    source: &AppSource,
    name: &Arc<str>,
    config: AppConfig,
    entry: &str,
    shutdown: Arc<ShutdownSignal>,
) -> AppState {
    let app_dir = match source.dir.canonicalize() {
        Ok(dir) => dir,
        Err(e) => return AppState::Failed(format!("cannot open the app folder: {e}")),
    };
    if let Err(e) = std::fs::create_dir_all(&source.data_dir) {
        return AppState::Failed(format!("cannot create the data folder {}: {e}", source.data_dir.display()));
    }
    let spec = InstanceSpec {
        app: name.clone(),
        app_dir: app_dir.clone(),
        data_dir: source.data_dir.clone(),
        env: config.env,
        memory: config.limits.memory,
        shutdown,
    };
    let pool = Pool::new(sandbox, spec, entry.to_string(), config.limits);
    let (instance, manifest) = match pool.start_instance().await {
        Ok(started) => started,
        Err(CallError::Lua(error)) => {
            if !error.traceback.is_empty() {
                tracing::debug!("[{name}] {}", error.traceback);
            }
            return AppState::Failed(error.message);
        }
        Err(CallError::Fault(fault)) => return AppState::Failed(format!("{entry}: {fault}")),
    };
    let routes = match RouteTable::build(&manifest.routes, &app_dir) {
        Ok(routes) => routes,
        Err(message) => return AppState::Failed(format!("{entry}: {message}")),
    };
    pool.give_back(instance);
    AppState::Ready(Ready { routes, pool, manifest, app_dir })
}
