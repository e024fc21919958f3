//! A sandbox with one small app in a scratch folder, and warm instances of it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use astra_host::bindings::StartConfig;
use astra_host::config::limits::Limits;
use astra_host::config::units::ByteSize;
use astra_host::sandbox::engine::{PoolSettings, Sandbox};
use astra_host::sandbox::instance::{CallLimits, Instance};
use astra_host::sandbox::store::InstanceSpec;
use astra_host::services::outbound_http::{OutboundHttpApp, tls_config};
use astra_host::services::request::RequestState;
use astra_host::services::runtime::AppLog;
use astra_host::services::sql::SqlApp;
use astra_host::shutdown::ShutdownSignal;

/// Route 0 returns a string, route 1 the bench app's 100-item table as JSON, route 2
/// decodes the bench's 1 KiB POST body and sends it back (the echo route without the
/// request body).
const APP: &str = r#"
local s = require("http").server.new()
local serde = require("serde")
local items = {}
for i = 1, 100 do items[i] = { id = i, name = "item " .. i, done = i % 2 == 0 } end
local parts = {}
for i = 0, 41 do parts[#parts + 1] = string.format('{"n":%d,"s":"abcdefgh"}', i) end
local document = '{"items":[' .. table.concat(parts, ",") .. ']}'
s:get("/", function() return "hello" end)
s:get("/json", function() return items end)
s:get("/echo", function() return serde.json.decode(document) end)
s:run()
"#;

pub const HELLO_ROUTE: u32 = 0;
pub const JSON_ROUTE: u32 = 1;
pub const ECHO_ROUTE: u32 = 2;

pub const LIMITS: CallLimits =
    CallLimits { cpu_time: Duration::from_secs(2), wall_time: Some(Duration::from_secs(30)) };

pub struct WarmApp {
    pub sandbox: Sandbox,
    pub spec: InstanceSpec,
    dir: PathBuf,
}

impl WarmApp {
    pub fn start() -> WarmApp {
        let dir = std::env::temp_dir().join(format!("astra-microbench-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("data")).expect("a scratch folder");
        std::fs::write(dir.join("init.lua"), APP).expect("the app");
        let pool = PoolSettings { slots: 4, memory: ByteSize::mib(64) };
        // The compiled guest is cached where `make bench` keeps it, so that a run does not
        // start with a Cranelift compile.
        let cache = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-cache");
        let sandbox = Sandbox::new(Some(&cache), Some(pool)).expect("the engine");
        let spec = InstanceSpec {
            app: Arc::from("bench"),
            app_dir: dir.clone(),
            data_dir: dir.join("data"),
            env: Vec::new(),
            env_files: Vec::new(),
            timezone: None,
            memory: ByteSize::mib(64),
            open_files: Limits::default().open_files,
            data_quota: Arc::default(),
            shutdown: Arc::new(ShutdownSignal::default()),
            log: Arc::new(AppLog::new("bench".into(), &Limits::default(), false)),
            sql: Arc::new(SqlApp::new(
                Arc::from("bench"),
                dir.join("data"),
                Arc::default(),
                Arc::default(),
                &Limits::default(),
            )),
            outbound_http: Arc::new(OutboundHttpApp::new(
                Arc::default(),
                tls_config(None).expect("the system's roots"),
                &Limits::default(),
            )),
            pubsub: Arc::default(),
        };
        WarmApp { sandbox, spec, dir }
    }

    /// A new instance that has run the app's entry script.
    pub async fn instance(&self) -> Instance {
        let mut instance = Instance::new(&self.sandbox, &self.spec).await.expect("instantiates");
        let config = StartConfig {
            entry: "init.lua".into(),
            arguments: Vec::new(),
            lua_memory_limit: 58 << 20,
            env_files: Vec::new(),
            time_zone: None,
            background: false,
            max_tasks: 64,
            min_task_interval_ms: 10,
        };
        instance.start(config, LIMITS).await.expect("starts");
        instance
    }
}

impl Drop for WarmApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One call of `route` with an empty GET request.
pub async fn call(instance: &mut Instance, route: u32) {
    let (parts, ()) = http::Request::new(()).into_parts();
    let request = RequestState::new(parts, Default::default(), Vec::new(), [127, 0, 0, 1].into());
    instance.handle(route, request, LIMITS).await.expect("answers");
}
