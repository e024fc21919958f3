//! `make bench`: astra-host against a plain axum server built in this workspace, on this
//! machine, in one run; prints one Markdown table. Every figure that matters is a ratio of
//! two measurements taken minutes apart under the same conditions, never an absolute
//! threshold: the machine is shared and noisy.
//!
//! Next to requests per second it reports the server's own CPU time per request, read from
//! /proc: it moves far less than throughput when other work shares the machine.
//!
//! `ASTRA_BENCH_SECONDS` sets the length of each load run (default 5). Arguments name the
//! scenarios to run (see `SCENARIOS`); none runs them all. `ASTRA_BENCH_BEFORE=PATH` names
//! an earlier astra-host build, whose hello runs are taken in turns with this one's, so that
//! a change's cost per request is measured in one run.

mod client;
mod floods;
mod load;
mod servers;
mod services;

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use load::{Load, Outcome};
use servers::Server;

struct Row {
    what: String,
    rps: Option<f64>,
    p50: Option<Duration>,
    p99: Option<Duration>,
    cpu_per_request: Option<Duration>,
    ratio: Option<(f64, &'static str)>,
    note: String,
}

impl Row {
    fn load(what: &str, outcome: &mut Outcome) -> Row {
        let note = if outcome.failed > 0 { format!("{} failed", outcome.failed) } else { String::new() };
        Row {
            what: what.into(),
            rps: Some(outcome.rps()),
            p50: Some(outcome.percentile(0.50)),
            p99: Some(outcome.percentile(0.99)),
            cpu_per_request: outcome.cpu_per_request(),
            ratio: None,
            note,
        }
    }

    fn note(what: &str, note: String) -> Row {
        Row { what: what.into(), rps: None, p50: None, p99: None, cpu_per_request: None, ratio: None, note }
    }

    fn ratio(mut self, ratio: f64, of: &'static str) -> Row {
        self.ratio = Some((ratio, of));
        self
    }

    /// Adds `text` to the notes, after any already there.
    fn add_note(&mut self, text: &str) {
        if !self.note.is_empty() {
            self.note += "; ";
        }
        self.note += text;
    }
}

/// Scenario names, as given on the command line. `routes` and `half-load` report ratios
/// to the hello run, so hello runs whenever either of them does.
const SCENARIOS: [&str; 10] =
    ["hello", "routes", "fib", "half-load", "websocket", "noisy", "services", "native", "startup", "floods"];
const SERVED_SCENARIOS: [&str; 6] = ["hello", "routes", "fib", "half-load", "websocket", "noisy"];

#[tokio::main]
async fn main() {
    let chosen: Vec<String> = std::env::args().skip(1).collect();
    if let Some(unknown) = chosen.iter().find(|name| !SCENARIOS.contains(&name.as_str())) {
        let usage = format!("usage: astra-bench [SCENARIO...], scenarios: {} (none: all)", SCENARIOS.join(", "));
        if unknown == "-h" || unknown == "--help" {
            println!("{usage}");
            return;
        }
        eprintln!("astra-bench: no scenario named {unknown:?}\n{usage}");
        std::process::exit(2);
    }
    let wanted = |name: &str| chosen.is_empty() || chosen.iter().any(|c| c == name);
    let seconds: u64 = std::env::var("ASTRA_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let duration = Duration::from_secs(seconds);
    let connections = 32;
    eprintln!("astra-bench: {seconds} s per run, {connections} connections, on {} cores", cores());

    let mut rows = Vec::new();
    if SERVED_SCENARIOS.iter().any(|name| wanted(name)) {
        rows.extend(against_baseline(&wanted, duration, connections).await);
    }
    if wanted("services") {
        eprintln!("astra-bench: host services (PostgreSQL, outbound HTTP)");
        rows.extend(services::services(duration, connections).await);
    }
    if wanted("native") {
        eprintln!("astra-bench: wasm Lua against native Lua");
        rows.push(wasm_against_native().await);
    }
    if wanted("startup") {
        eprintln!("astra-bench: start-up");
        rows.extend(startup().await);
    }
    if wanted("floods") {
        eprintln!("astra-bench: floods, and the host's memory under each");
        rows.extend(floods::floods().await);
    }
    print_table(&rows, seconds, connections);
}

/// The scenarios served by astra-host and the plain axum server, started once for all.
async fn against_baseline(wanted: &dyn Fn(&str) -> bool, duration: Duration, connections: usize) -> Vec<Row> {
    let apps = servers::workspace().join("bench/apps");
    let host = Server::astra_host(&apps, &[]).await;
    let baseline = Server::baseline().await;
    let load = |server: &Server, app: &str, method: &'static str, path: &str, body: &[u8]| Load {
        addr: server.addr,
        host: format!("{app}.localhost"),
        method,
        path: path.into(),
        body: Bytes::copy_from_slice(body),
        connections,
        duration,
        rate: None,
    };
    let mut rows = Vec::new();

    let mut hello_rps = 0.0;
    let mut hello_cpu = None;
    if wanted("hello") || wanted("routes") || wanted("half-load") {
        eprintln!("astra-bench: hello, {RUNS} runs of each server in turns");
        let before = match std::env::var_os("ASTRA_BENCH_BEFORE") {
            Some(binary) => Some(Server::astra_host_built(binary.as_ref(), &apps, &[]).await),
            None => None,
        };
        let hello = |server: &Server| load(server, "bench", "GET", "/hello", b"");
        let (runs, before_runs) = match &before {
            Some(before) => {
                let [now, axum, before] = in_turns([&host, &baseline, before], hello).await;
                ([now, axum], Some(before))
            }
            None => (in_turns([&host, &baseline], hello).await, None),
        };
        let [(mut astra_hello, astra_note), (mut axum_hello, axum_note)] =
            runs.map(|runs| median(runs, "req/s", |run| run.rps(), |rps| format!("{rps:.0}")));
        if let Some(before_runs) = before_runs {
            let (mut before_hello, note) = median(before_runs, "req/s", |run| run.rps(), |rps| format!("{rps:.0}"));
            let ratio = before_hello.rps() / astra_hello.rps();
            let mut row = Row::load("hello, astra-host, the build before (ASTRA_BENCH_BEFORE)", &mut before_hello);
            row.add_note(&note);
            if let (Some(now), Some(then)) = (astra_hello.cpu_per_request(), before_hello.cpu_per_request()) {
                let cpu = now.as_secs_f64() / then.as_secs_f64();
                row.add_note(&format!("server CPU per request: this build {cpu:.2} × the build before"));
            }
            rows.push(row.ratio(ratio, "this build"));
        }
        hello_rps = astra_hello.rps();
        hello_cpu = astra_hello.cpu_per_request();
        let mut astra_row =
            Row::load("hello, astra-host", &mut astra_hello).ratio(hello_rps / axum_hello.rps(), "axum hello");
        astra_row.add_note(&astra_note);
        if let (Some(astra), Some(axum)) = (astra_hello.cpu_per_request(), axum_hello.cpu_per_request()) {
            let ratio = astra.as_secs_f64() / axum.as_secs_f64();
            astra_row.add_note(&format!("server CPU per request {ratio:.2} × axum"));
        }
        let mut axum_row = Row::load("hello, plain axum", &mut axum_hello);
        axum_row.add_note(&axum_note);
        rows.push(axum_row);
        rows.push(astra_row);
    }

    if wanted("routes") {
        let body_1k = echo_body();
        for (what, method, path, body) in [
            ("JSON, 100-item table", "GET", "/json", &b""[..]),
            ("path param + response header", "GET", "/users/42", &b""[..]),
            ("POST 1 KiB JSON, echoed", "POST", "/echo", body_1k.as_bytes()),
            ("template: a page extending a base, 50-row loop", "GET", "/page", &b""[..]),
            ("YAML: a 1 KiB document decoded", "GET", "/yaml", &b""[..]),
            ("SQLite: one indexed row, as JSON", "GET", "/sqlite/42", &b""[..]),
        ] {
            eprintln!("astra-bench: {what}");
            let mut outcome = host.drive(&load(&host, "bench", method, path, body)).await;
            let ratio = outcome.rps() / hello_rps;
            let mut row = Row::load(what, &mut outcome).ratio(ratio, "astra hello");
            if let (Some(cpu), Some(hello)) = (outcome.cpu_per_request(), hello_cpu) {
                row.add_note(&format!("server CPU per request {:.2} × hello", cpu.as_secs_f64() / hello.as_secs_f64()));
            }
            rows.push(row);
        }
    }

    if wanted("fib") {
        eprintln!("astra-bench: fib(20)");
        let mut axum_fib = baseline.drive(&load(&baseline, "bench", "GET", "/fib", b"")).await;
        let mut astra_fib = host.drive(&load(&host, "bench", "GET", "/fib", b"")).await;
        let ratio = astra_fib.rps() / axum_fib.rps();
        rows.push(Row::load("fib(20), plain axum (native Rust)", &mut axum_fib));
        rows.push(Row::load("fib(20), astra-host (Lua in wasm)", &mut astra_fib).ratio(ratio, "axum fib"));
    }

    if wanted("half-load") {
        eprintln!("astra-bench: hello at half the maximum rate, {RUNS} runs of each server in turns");
        let half_rate = hello_rps / 2.0;
        let paced = |server: &Server| Load { rate: Some(half_rate), ..load(server, "bench", "GET", "/hello", b"") };
        let runs = in_turns([&host, &baseline], paced).await;
        for (what, runs) in ["astra-host", "plain axum, same rate"].into_iter().zip(runs) {
            let (mut run, mut note) =
                median(runs, "p99", |run| run.percentile(0.99).as_secs_f64(), |p99| format!("{:.2} ms", p99 * 1e3));
            if let Some((server, load_generator)) = run.cores_busy() {
                note += &format!("; cores busy: server {server:.2}, load generator {load_generator:.2}");
            }
            let mut row =
                Row::load(&format!("hello at half max load ({half_rate:.0} req/s offered), {what}"), &mut run);
            row.add_note(&note);
            rows.push(row);
        }
    }

    if wanted("websocket") {
        eprintln!("astra-bench: WebSocket echo");
        rows.push(websocket_echo(&host, duration).await);
    }

    if wanted("noisy") {
        eprintln!("astra-bench: noisy neighbour");
        let good = load(&host, "bench", "GET", "/hello", b"");
        let mut alone = host.drive(&good).await;
        let mut noisy = load(&host, "noisy", "GET", "/burn", b"");
        noisy.connections = 8;
        let (mut beside, _) = tokio::join!(load::run(&good), load::run(&noisy));
        let ratio = beside.rps() / alone.rps();
        rows.push(Row::load("good app alone", &mut alone));
        rows.push(Row::load("good app while another floods CPU burners", &mut beside).ratio(ratio, "alone"));
    }
    rows
}

/// Runs per server where one figure decides a target (the hello maximum, p99 at half of
/// it): one run's figure swings with whatever else the machine does in those seconds, the
/// median of a few taken in turns much less.
const RUNS: usize = 3;

/// `RUNS` runs of each server's load, taken in turns, so that a busy stretch of the machine
/// does not land on one server only.
async fn in_turns<const N: usize>(servers: [&Server; N], load_for: impl Fn(&Server) -> Load) -> [Vec<Outcome>; N] {
    let mut runs: [Vec<Outcome>; N] = std::array::from_fn(|_| Vec::new());
    for _ in 0..RUNS {
        for (server, runs) in servers.iter().zip(&mut runs) {
            runs.push(server.drive(&load_for(server)).await);
        }
    }
    runs
}

/// The run with the median `key`, and a note giving every run's value.
fn median(
    runs: Vec<Outcome>,
    by: &str,
    key: impl Fn(&mut Outcome) -> f64,
    show: impl Fn(f64) -> String,
) -> (Outcome, String) {
    let mut keyed: Vec<(f64, Outcome)> = runs.into_iter().map(|mut run| (key(&mut run), run)).collect();
    keyed.sort_by(|(a, _), (b, _)| a.total_cmp(b));
    let values: Vec<String> = keyed.iter().map(|(value, _)| show(*value)).collect();
    let note = format!("median of {} runs by {by} ({})", keyed.len(), values.join(" / "));
    let (_, median) = keyed.swap_remove(keyed.len() / 2);
    (median, note)
}

fn echo_body() -> String {
    let mut body = String::from("{\"items\":[");
    let mut i = 0;
    while body.len() < 1000 {
        body.push_str(&format!("{}{{\"n\":{i},\"s\":\"abcdefgh\"}}", if i > 0 { "," } else { "" }));
        i += 1;
    }
    body.push_str("]}");
    body
}

/// One connection per client, each sending a message and waiting for its echo.
async fn websocket_echo(host: &Server, duration: Duration) -> Row {
    let clients = 8;
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let addr = host.addr;
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let Ok(stream) = tokio::net::TcpStream::connect(addr).await else { return latencies };
                let url = format!("ws://bench.localhost:{}/ws", addr.port());
                let Ok((mut socket, _)) = tokio_tungstenite::client_async(url, stream).await else { return latencies };
                while started.elapsed() < duration {
                    let sent = Instant::now();
                    if socket.send(tokio_tungstenite::tungstenite::Message::text("echo me")).await.is_err() {
                        break;
                    }
                    match socket.next().await {
                        Some(Ok(_)) => latencies.push(sent.elapsed()),
                        _ => break,
                    }
                }
                let _ = socket.close(None).await;
                latencies
            })
        })
        .collect();
    let mut outcome = Outcome::default();
    for task in tasks {
        if let Ok(latencies) = task.await {
            outcome.ok += latencies.len() as u64;
            outcome.latencies.extend(latencies);
        }
    }
    outcome.elapsed = started.elapsed();
    Row::load(&format!("WebSocket echo round trips ({clients} sockets)"), &mut outcome)
}

const FIB_SCRIPT: &str = "local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end";

/// The same recursive fib(30) in Lua, in the sandbox (timed around one request) and in
/// Debian's lua5.4 (timed around the process); the best of five runs of each, taken in
/// turns, so that a busy moment on the machine does not land on one side only.
async fn wasm_against_native() -> Row {
    let what = "fib(30): Lua in wasm / native lua5.4";
    let script = format!("{FIB_SCRIPT} print(fib(30))");
    if servers::time_native_lua(&script).is_none() {
        return Row::note(what, "lua5.4 not installed (apt-get install lua5.4)".into());
    }
    let host = Server::astra_host(&servers::workspace().join("bench/apps"), &["--cpu-time-limit", "60s"]).await;
    let _ = host.get("bench", "/fib/25").await; // warm the instance
    let (mut wasm, mut native) = (Duration::MAX, Duration::MAX);
    for _ in 0..5 {
        let started = Instant::now();
        let answer = host.get("bench", "/fib/30").await;
        wasm = wasm.min(started.elapsed());
        if answer.as_deref() != Some("832040") {
            return Row::note(what, format!("the sandbox answered {answer:?}"));
        }
        native = native.min(servers::time_native_lua(&script).unwrap_or(Duration::MAX));
    }
    Row::note(what, format!("wasm {:.0} ms, native {:.0} ms", wasm.as_secs_f64() * 1e3, native.as_secs_f64() * 1e3))
        .ratio(wasm.as_secs_f64() / native.as_secs_f64(), "native")
}

/// Host start (to listening) and resident memory with 1, 100 and 1000 apps, and the
/// latency of the first request.
async fn startup() -> Vec<Row> {
    let mut rows = Vec::new();
    let mut per_app = Vec::new();
    for count in [1usize, 100, 1000] {
        let apps = servers::hello_apps(count);
        let started = Instant::now();
        let host = Server::astra_host(&apps, &[]).await;
        let ready = started.elapsed();
        let first = Instant::now();
        let answered = host.get("app0", "/").await.is_some();
        let first_request = first.elapsed();
        let (pss, rss) = (host.proportional_mib(), host.resident_mib());
        per_app.push((count, pss));
        rows.push(Row::note(
            &format!("{count} app(s): start-up"),
            format!(
                "ready in {:.0} ms, {pss:.0} MiB resident (PSS; RSS {rss:.0} MiB); first request {:.2} ms{}",
                ready.as_secs_f64() * 1e3,
                first_request.as_secs_f64() * 1e3,
                if answered { "" } else { " (failed)" }
            ),
        ));
        drop(host);
        let _ = std::fs::remove_dir_all(apps);
    }
    // Between 100 and 1000 apps: the first start may also compile the guest.
    if let (Some((_, hundred)), Some((_, thousand))) = (per_app.get(1), per_app.get(2)) {
        let per_app = (thousand - hundred) / 900.0;
        rows.push(Row::note("memory per idle app (warm instance, PSS)", format!("{per_app:.2} MiB")));
    }
    rows
}

fn print_table(rows: &[Row], seconds: u64, connections: usize) {
    println!("| scenario | req/s | p50 | p99 | server CPU / req | ratio | notes |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
    let ms = |d: Option<Duration>| d.map_or(String::new(), |d| format!("{:.2} ms", d.as_secs_f64() * 1e3));
    for row in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.what,
            row.rps.map_or(String::new(), |r| format!("{r:.0}")),
            ms(row.p50),
            ms(row.p99),
            row.cpu_per_request.map_or(String::new(), |d| format!("{:.1} µs", d.as_secs_f64() * 1e6)),
            row.ratio.map_or(String::new(), |(r, of)| format!("{r:.2} × {of}")),
            row.note
        );
    }
    println!();
    println!(
        "{seconds} s per run, {connections} keep-alive connections, load generator on the same {} cores.",
        cores()
    );
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
