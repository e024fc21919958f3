//! The `astra-host` binary: parse the command line, load the apps, serve until a signal.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use tokio::net::TcpListener;
use wasmtime::{Result, bail, format_err};

use astra_host::apps::app::{App, AppSource, AppState, RunScript};
use astra_host::apps::{HostOptions, Registry};
use astra_host::cli::{Cli, Command, HostArgs};
use astra_host::config::limits::{Authority, Limits};
use astra_host::config::operator::OperatorConfig;
use astra_host::http::ConnectionTimeouts;
use astra_host::http::listener::raise_open_files_limit;
use astra_host::sandbox::engine::{PoolSettings, Sandbox, default_cache_dir};
use astra_host::sandbox::store::max_handles;
use astra_host::services::outbound_http::tls_config;
use astra_host::shutdown::ShutdownSignal;

const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);

fn main() -> ExitCode {
    let cli = Cli::parse();
    astra_host::logging::init(matches!(cli.command, Some(Command::Run { .. })));
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = cli.host.workers {
        runtime.worker_threads(workers.get());
    }
    let runtime = match runtime.enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match (cli.command, cli.apps) {
        (Some(Command::Run { target, arguments }), None) => run_one(target, arguments, cli.host).await,
        (Some(Command::Export { dir }), None) => {
            for path in
                astra_host::export::export(&dir).map_err(|e| format_err!("cannot write to {}: {e}", dir.display()))?
            {
                println!("wrote {path}");
            }
            Ok(())
        }
        (Some(_), Some(_)) => bail!("--apps cannot be combined with a subcommand"),
        (None, Some(apps)) => serve_folder(&apps, cli.host).await,
        (None, None) => bail!("nothing to serve: give --apps DIR, or `run FILE.lua` (see --help)"),
    }
}

async fn serve_folder(apps_dir: &Path, args: HostArgs) -> Result<()> {
    let (operator, limits) = operator_config(&args)?;
    let sandbox = sandbox(&args, &operator, &limits, false)?;
    let options = HostOptions {
        operator,
        domains: args.domains.iter().map(|d| d.trim_matches('.').to_ascii_lowercase()).collect(),
        default_app: args.default_app.clone(),
        data_root: args.data_dir.clone().unwrap_or_else(|| PathBuf::from(".astra-data")),
        tls: tls_config(args.tls_ca.as_deref()).map_err(|e| format_err!("{e}"))?,
    };
    let registry = Registry::from_dir(sandbox, apps_dir, &limits, &options).await.map_err(|e| format_err!("{e}"))?;
    eprint!("{}", registry.summary());
    let listen = args.listen.unwrap_or(DEFAULT_LISTEN);
    let registry = Arc::new(registry);
    // Not in `run` mode, whose data folder is the user's own current folder.
    tokio::spawn(registry.clone().watch_data_folders());
    serve(registry, listen, &args, None).await
}

async fn run_one(target: Option<PathBuf>, arguments: Vec<String>, args: HostArgs) -> Result<()> {
    let (operator, limits) = operator_config(&args)?;
    let file = script_path(target)?;
    let file_name = file
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .ok_or_else(|| format_err!("{} is not a file", file.display()))?;
    let dir = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = file.file_stem().map_or_else(|| "app".into(), |stem| stem.to_string_lossy().into_owned());
    let source = AppSource {
        name,
        dir,
        data_dir: args.data_dir.clone().unwrap_or_else(|| PathBuf::from(".")),
        hosts: Vec::new(),
        run: Some(RunScript { path: file_name, arguments }),
        network_grant: None,
        tls: tls_config(args.tls_ca.as_deref()).map_err(|e| format_err!("{e}"))?,
    };
    let sandbox = sandbox(&args, &operator, &limits, true)?;
    let limits = operator.limits_for(&source.name, &limits).map_err(|e| format_err!("{e}"))?;
    let app = App::load(sandbox, source, &limits).await;
    let listen = match &*app.state() {
        AppState::Failed(message) => bail!("{message}"),
        AppState::Finished => return Ok(()),
        AppState::Ready(ready) => match args.listen {
            Some(listen) => listen,
            None => {
                let settings = &ready.manifest.settings;
                let address = format!("{}:{}", settings.hostname, settings.port);
                tokio::net::lookup_host(&address).await.ok().and_then(|mut addresses| addresses.next()).ok_or_else(
                    || format_err!("server.hostname:server.port = {address:?} is not an address to listen on"),
                )?
            }
        },
    };
    let app_shutdown = app.shutdown.clone();
    serve(Arc::new(Registry::single(app)), listen, &args, Some(app_shutdown)).await
}

/// `run`'s script, as `astra run` finds it: the file named, a folder's `init.lua` (else its
/// `init.luau`), or the same in the current folder.
fn script_path(target: Option<PathBuf>) -> Result<PathBuf> {
    let target = target.unwrap_or_else(|| PathBuf::from("."));
    let file = if target.is_dir() {
        let luau = target.join("init.luau");
        if !target.join("init.lua").exists() && luau.is_file() { luau } else { target.join("init.lua") }
    } else {
        target
    };
    if !file.is_file() {
        bail!("{} is not a script: give a .lua file, or a folder with an init.lua", file.display());
    }
    Ok(file)
}

async fn serve(
    registry: Arc<Registry>,
    listen: SocketAddr,
    args: &HostArgs,
    app_shutdown: Option<Arc<ShutdownSignal>>,
) -> Result<()> {
    let listener = TcpListener::bind(listen).await.map_err(|e| format_err!("cannot listen on {listen}: {e}"))?;
    let address = listener.local_addr()?;
    tokio::spawn(registry.clone().release_idle_instances(args.idle_timeout.0));
    tracing::info!(target: astra_host::logging::LISTENING, "listening on http://{address}");
    let stop = async move {
        match app_shutdown {
            Some(app) => tokio::select! {
                () = signal() => {}
                () = app.wait() => tracing::info!("the app called server:shutdown(); stopping"),
            },
            None => signal().await,
        }
        tracing::info!("finishing in-flight requests");
    };
    let timeouts = ConnectionTimeouts { header: args.header_timeout.0, write: args.write_timeout.0 };
    astra_host::http::serve(listener, registry, timeouts, stop).await?;
    tracing::info!("stopped");
    Ok(())
}

/// SIGINT or SIGTERM.
async fn signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut stream) => {
                    stream.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = interrupt => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// The operator's config file, if one is given, and the host-wide limits: the built-in
/// defaults, under its `[limits]`, under the flags.
fn operator_config(args: &HostArgs) -> Result<(OperatorConfig, Limits)> {
    let operator = match &args.config {
        Some(path) => OperatorConfig::load(path).map_err(|e| format_err!("{e}"))?,
        None => OperatorConfig::default(),
    };
    let file = operator.describe();
    let base =
        operator.limits.apply(&Limits::default(), Authority::Operator).map_err(|e| format_err!("{file}: {e}"))?;
    let limits = args.limits.apply_to(&base.limits).map_err(|e| format_err!("{e}"))?;
    Ok((operator, limits))
}

/// The engine, its pool's slots sized for the largest memory any app is given.
fn sandbox(args: &HostArgs, operator: &OperatorConfig, limits: &Limits, run_mode: bool) -> Result<Arc<Sandbox>> {
    let mut memory = limits.memory;
    for name in operator.apps.keys() {
        memory = memory.max(operator.limits_for(name, limits).map_err(|e| format_err!("{e}"))?.memory);
    }
    // `run` serves one app: as many slots as it may have instances, unless told otherwise.
    let slots = args.instance_slots.unwrap_or(if run_mode { limits.max_instances } else { 2000 }).max(1);
    raise_open_files_limit(slots, max_handles(limits.open_files));
    let pool = (!args.no_pooling).then_some(PoolSettings { slots, memory });
    let cache_dir = if args.no_cache { None } else { args.cache_dir.clone().or_else(default_cache_dir) };
    Ok(Arc::new(Sandbox::new(cache_dir.as_deref(), pool)?))
}
