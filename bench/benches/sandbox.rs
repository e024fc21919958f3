//! Micro benchmarks of the sandbox without HTTP: making an instance (instantiation plus
//! running a small entry script) and one warm call of a route that returns a string.

use std::sync::Arc;
use std::time::{Duration, Instant};

use astra_host::api::request::RequestState;
use astra_host::bindings::StartConfig;
use astra_host::engine::{PoolSettings, Sandbox};
use astra_host::instance::{CallLimits, Instance};
use astra_host::shutdown::ShutdownSignal;
use astra_host::store::InstanceSpec;
use astra_host::units::ByteSize;
use criterion::{Criterion, criterion_group, criterion_main};

const APP: &str = "local s = require('http').server.new()\ns:get('/', function() return 'hello' end)\ns:run()\n";

fn sandbox(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let dir = std::env::temp_dir().join(format!("astra-microbench-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("data")).expect("a scratch folder");
    std::fs::write(dir.join("init.lua"), APP).expect("the app");
    let pool = PoolSettings { slots: 64, memory: ByteSize::mib(64) };
    let sandbox = Sandbox::new(None, Some(pool)).expect("the engine");
    let spec = InstanceSpec {
        app: Arc::from("bench"),
        app_dir: dir.clone(),
        data_dir: dir.join("data"),
        env: Vec::new(),
        memory: ByteSize::mib(64),
        shutdown: Arc::new(ShutdownSignal::default()),
    };
    let limits = CallLimits { cpu_time: Duration::from_secs(2), wall_time: Some(Duration::from_secs(30)) };
    let config = || StartConfig { entry: "init.lua".into(), lua_memory_limit: 58 << 20 };

    c.bench_function("instantiate and run the entry script", |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let started = Instant::now();
                for _ in 0..iterations {
                    let mut instance = Instance::new(&sandbox, &spec).await.expect("instantiates");
                    instance.start(config(), limits).await.expect("starts");
                }
                started.elapsed()
            })
        })
    });

    let mut instance = runtime.block_on(async {
        let mut instance = Instance::new(&sandbox, &spec).await.expect("instantiates");
        instance.start(config(), limits).await.expect("starts");
        instance
    });
    c.bench_function("warm call of a route returning a string", |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let started = Instant::now();
                for _ in 0..iterations {
                    let (parts, body) = http::Request::new(axum::body::Body::empty()).into_parts();
                    let request = RequestState::new(parts, body, Vec::new(), [127, 0, 0, 1].into(), 1024);
                    instance.handle(0, request, limits).await.expect("answers");
                }
                started.elapsed()
            })
        })
    });
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, sandbox);
criterion_main!(benches);
