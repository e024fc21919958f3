//! A fixed number of warm guest calls, for counting instructions where timings are too
//! noisy to compare two builds:
//!
//!     cargo build --release -p astra-microbench --example guest_calls
//!     valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/guest_calls json 2000
//!
//! Compare the "Collected" totals of two builds (subtract a run with 0 calls for the
//! set-up). `hello` calls the string route, `json` the 100-item JSON route, `echo` decodes
//! and re-encodes a 1 KiB JSON document. Valgrind reports other CPU features than the
//! machine, so the first run under it compiles the guest afresh (a minute or more); do one
//! short run before the ones you compare.

use astra_microbench::warm::{self, WarmApp};

fn main() {
    let mut args = std::env::args().skip(1);
    let route = match args.next().as_deref() {
        Some("hello") => warm::HELLO_ROUTE,
        Some("json") => warm::JSON_ROUTE,
        Some("echo") => warm::ECHO_ROUTE,
        _ => {
            eprintln!("usage: guest_calls hello|json|echo [CALLS]");
            std::process::exit(2);
        }
    };
    let calls: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let app = WarmApp::start();
    runtime.block_on(async {
        let mut instance = app.instance().await;
        for _ in 0..calls {
            warm::call(&mut instance, route).await;
        }
    });
}
