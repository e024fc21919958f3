//! Micro benchmarks of the sandbox without HTTP: making an instance (instantiation plus
//! running a small entry script) and warm calls of a string route and a JSON route.

use std::time::Instant;

use astra_microbench::warm::{self, WarmApp};
use criterion::{Criterion, criterion_group, criterion_main};

fn sandbox(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let app = WarmApp::start();

    c.bench_function("instantiate and run the entry script", |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let started = Instant::now();
                for _ in 0..iterations {
                    app.instance().await;
                }
                started.elapsed()
            })
        })
    });

    let mut instance = runtime.block_on(app.instance());
    for (route, what) in [
        (warm::HELLO_ROUTE, "warm call of a route returning a string"),
        (warm::JSON_ROUTE, "warm call of a route returning 100 items as JSON"),
        (warm::ECHO_ROUTE, "warm call of a route decoding 1 KiB of JSON and sending it back"),
    ] {
        c.bench_function(what, |b| {
            b.iter_custom(|iterations| {
                runtime.block_on(async {
                    let started = Instant::now();
                    for _ in 0..iterations {
                        warm::call(&mut instance, route).await;
                    }
                    started.elapsed()
                })
            })
        });
    }
}

criterion_group!(benches, sandbox);
criterion_main!(benches);
