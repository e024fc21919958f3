//! Starting the servers under test (release binaries of this workspace) and reading what
//! the operating system says about them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::load::{self, Load, Outcome};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    scratch: Option<PathBuf>,
}

impl Server {
    pub async fn astra_host(apps: &Path, extra: &[&str]) -> Server {
        Server::astra_host_built(&workspace().join("target/release/astra-host"), apps, extra).await
    }

    /// As `astra_host`, with another build of it (`ASTRA_BENCH_BEFORE`).
    pub async fn astra_host_built(binary: &Path, apps: &Path, extra: &[&str]) -> Server {
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let serial = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let data = std::env::temp_dir().join(format!("astra-bench-data-{}-{serial}", std::process::id()));
        let mut command = Command::new(binary);
        command
            .arg("--apps")
            .arg(apps)
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .args(extra)
            .env("ASTRA_LOG", "warn,astra_host=info")
            .env("ASTRA_CACHE_DIR", workspace().join("target/bench-cache"));
        let mut server = Server::spawn(command, true).await;
        server.scratch = Some(data);
        server
    }

    pub async fn baseline() -> Server {
        let mut command = Command::new(workspace().join("target/release/astra-baseline"));
        command.arg("127.0.0.1:0");
        Server::spawn(command, false).await
    }

    async fn spawn(mut command: Command, on_stderr: bool) -> Server {
        command.stdin(Stdio::null()).kill_on_drop(true);
        if on_stderr {
            command.stderr(Stdio::piped()).stdout(Stdio::null());
        } else {
            command.stdout(Stdio::piped()).stderr(Stdio::null());
        }
        let mut child = command.spawn().expect("the server binary runs (make bench builds it)");
        let addr = if on_stderr {
            wait_for_address(BufReader::new(child.stderr.take().expect("piped")).lines()).await
        } else {
            wait_for_address(BufReader::new(child.stdout.take().expect("piped")).lines()).await
        };
        Server { addr, child, scratch: None }
    }

    /// GET `path` from `app`, the body if it answered 2xx.
    pub async fn get(&self, app: &str, path: &str) -> Option<String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.ok()?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {app}.localhost\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.ok()?;
        let (head, body) = answer.split_once("\r\n\r\n")?;
        head.starts_with("HTTP/1.1 2").then(|| body.to_string())
    }

    /// Runs `load` against this server, and measures the CPU time of the server and of
    /// this process (the load generator) meanwhile.
    pub async fn drive(&self, load: &Load) -> Outcome {
        let (server, load_generator) = (self.child.id(), std::process::id());
        let cpu_times = || (server.and_then(cpu_time), cpu_time(load_generator));
        let before = cpu_times();
        let mut outcome = load::run(load).await;
        let after = cpu_times();
        let spent = |after: Option<Duration>, before: Option<Duration>| {
            after.zip(before).map(|(after, before)| after.saturating_sub(before))
        };
        outcome.server_cpu = spent(after.0, before.0);
        outcome.load_generator_cpu = spent(after.1, before.1);
        outcome
    }

    /// Resident memory in MiB, as `ps` counts it (RSS).
    pub fn resident_mib(&self) -> f64 {
        self.memory_field("status", "VmRSS:")
    }

    /// Resident memory in MiB with each shared page divided among those mapping it (PSS):
    /// the memory the host really uses. Every instance maps the guest's memory image, and
    /// RSS counts a page of it once per instance that touched it (or its neighbours: the
    /// kernel maps pages around a fault), so with 1000 idle apps RSS counts the image's
    /// pages a thousand times over.
    pub fn proportional_mib(&self) -> f64 {
        self.memory_field("smaps_rollup", "Pss:")
    }

    fn memory_field(&self, file: &str, field: &str) -> f64 {
        let Some(pid) = self.child.id() else { return 0.0 };
        let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap_or_default();
        text.lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        if let Some(scratch) = &self.scratch {
            let _ = std::fs::remove_dir_all(scratch);
        }
    }
}

async fn wait_for_address<R: tokio::io::AsyncBufRead + Unpin + Send + 'static>(
    mut lines: tokio::io::Lines<R>,
) -> SocketAddr {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let line = tokio::time::timeout_at(deadline.into(), lines.next_line())
            .await
            .expect("the server starts within two minutes")
            .expect("its output is readable")
            .expect("the server is still running");
        if let Some(addr) = line.split("listening on http://").nth(1) {
            let addr = addr.trim().parse().expect("a socket address");
            // Keep draining so the server never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return addr;
        }
    }
}

/// User plus system time of process `pid`, from /proc/PID/stat.
fn cpu_time(pid: u32) -> Option<Duration> {
    // Fields 14 and 15, counted after the command name, which may hold spaces.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let ticks: u64 = fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?;
    // The kernel reports these in USER_HZ, which is 100 on Linux whatever the tick rate.
    Some(Duration::from_millis(ticks * 10))
}

/// A folder of `count` hello apps named app0, app1, ...
pub fn hello_apps(count: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("astra-bench-apps-{count}-{}", std::process::id()));
    for i in 0..count {
        let app = dir.join(format!("app{i}"));
        std::fs::create_dir_all(&app).expect("a scratch folder");
        std::fs::write(
            app.join("init.lua"),
            "local s = require('http').server.new()\ns:get('/', function() return 'hi' end)\ns:run()\n",
        )
        .expect("writes the app");
    }
    dir
}

/// Wall time of `lua5.4 -e SCRIPT`, if lua5.4 is installed.
pub fn time_native_lua(script: &str) -> Option<Duration> {
    let started = Instant::now();
    let status = std::process::Command::new("lua5.4").args(["-e", script]).stdout(Stdio::null()).status().ok()?;
    status.success().then(|| started.elapsed())
}
