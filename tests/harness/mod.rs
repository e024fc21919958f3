//! Test harness: starts the real `astra-host` binary on a free port with a folder of real
//! Lua apps, and gives tests an HTTP client that reaches `<app>.localhost` on it.
//!
//! The binary is the release build `make test` made (`ASTRA_HOST_BIN` overrides). Each host
//! gets its own data folder; the compiled guest is cached under `target/` so only the
//! first host of a run compiles it.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

pub mod postgres;
pub mod servers;

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn binary() -> PathBuf {
    std::env::var_os("ASTRA_HOST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/release/astra-host"))
}

/// A folder of test apps under `tests/apps/`.
pub fn apps(name: &str) -> PathBuf {
    workspace().join("tests/apps").join(name)
}

pub struct Host {
    child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<String>>,
    pub data_dir: PathBuf,
}

impl Host {
    /// `astra-host --apps DIR` plus `extra` arguments.
    pub fn serve(apps_dir: &Path, extra: &[&str]) -> Host {
        Host::serve_with_env(apps_dir, extra, &[])
    }

    /// As `serve`, with extra environment variables for the host process.
    pub fn serve_with_env(apps_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Host {
        let data_dir = scratch_dir("data");
        let mut args: Vec<String> = vec!["--apps".into(), apps_dir.display().to_string()];
        args.extend(["--data-dir".into(), data_dir.display().to_string()]);
        args.extend(extra.iter().map(|s| s.to_string()));
        Host::spawn_with_env(&args, data_dir, true, env)
    }

    /// Any command line; `listen` adds `--listen 127.0.0.1:0`.
    pub fn spawn(args: &[String], data_dir: PathBuf, listen: bool) -> Host {
        Host::spawn_with_env(args, data_dir, listen, &[])
    }

    fn spawn_with_env(args: &[String], data_dir: PathBuf, listen: bool, env: &[(&str, &str)]) -> Host {
        let mut command = Command::new(binary());
        command.args(args);
        if listen {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        command.envs(env.iter().copied());
        Host::launch(command, data_dir)
    }

    /// `astra-host --apps DIR` with its address space capped by `ulimit -v`.
    pub fn serve_in_address_space(apps_dir: &Path, kib: u64) -> Host {
        Host::serve_under_ulimit(apps_dir, &format!("-v {kib}"), &[])
    }

    /// `astra-host --apps DIR` plus `extra`, under the shell's `ulimit ULIMIT` (`"-n 300"`).
    pub fn serve_under_ulimit(apps_dir: &Path, ulimit: &str, extra: &[&str]) -> Host {
        let data_dir = scratch_dir("data");
        let mut command = Command::new("bash");
        command
            .args(["-c", &format!("ulimit {ulimit} && exec \"$0\" \"$@\"")])
            .arg(binary())
            .arg("--apps")
            .arg(apps_dir)
            .arg("--data-dir")
            .arg(&data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra);
        Host::launch(command, data_dir)
    }

    fn launch(mut command: Command, data_dir: PathBuf) -> Host {
        let binary = binary();
        assert!(binary.is_file(), "{} is missing: run `make test`, which builds it first", binary.display());
        if !command.get_envs().any(|(name, _)| name == "ASTRA_LOG") {
            command.env("ASTRA_LOG", "info");
        }
        let mut child = command
            .env("ASTRA_CACHE_DIR", workspace().join("target/test-cache"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("astra-host starts");
        let log = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr is piped");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening on http://").nth(1) {
                    let _ = ready_tx.send(addr.trim().to_string());
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let addr = match ready_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr.parse().expect("a socket address"),
            Err(_) => {
                let _ = child.kill();
                panic!("astra-host did not start listening; its log:\n{}", log.lock().unwrap());
            }
        };
        Host { child, addr, log, data_dir }
    }

    /// A client whose `<app>.localhost` resolves to this host, with a cookie jar.
    pub fn client(&self, app: &str) -> reqwest::Client {
        reqwest::Client::builder()
            .resolve(&format!("{app}.localhost"), self.addr)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client")
    }

    pub fn url(&self, app: &str, path: &str) -> String {
        format!("http://{app}.localhost:{}{path}", self.addr.port())
    }

    pub async fn get(&self, app: &str, path: &str) -> reqwest::Response {
        self.client(app).get(self.url(app, path)).send().await.expect("the request is answered")
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) for `needle` to appear in the host's log.
    pub async fn log_contains(&self, needle: &str) -> bool {
        self.log_count_reaches(needle, 1).await
    }

    /// Waits (up to 10 s) for `needle` to appear `count` times in the host's log.
    pub async fn log_count_reaches(&self, needle: &str, count: usize) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.log().matches(needle).count() >= count {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The host's resident memory, in KiB.
    pub fn resident_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("the host is running");
        let line = status.lines().find(|line| line.starts_with("VmRSS:")).expect("a VmRSS line");
        line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).expect("a number of KiB")
    }

    /// File descriptors the host holds open.
    pub fn open_descriptors(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid())).map_or(0, |entries| entries.count())
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        self.signal_terminate();
        self.wait()
    }

    /// Sends SIGTERM without waiting.
    pub fn signal_terminate(&self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
    }

    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().expect("astra-host exits")
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// A fresh folder under the system temp folder.
pub fn scratch_dir(kind: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "astra-test-{kind}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

/// A scratch apps folder made for one test: apps copied from `tests/apps/<suite>/`, and
/// files (links included) written into them before the host starts.
pub struct AppsFolder {
    pub path: PathBuf,
}

impl AppsFolder {
    /// A folder with a copy of each of `apps`, given as `suite/app` (`"attacks/good"`).
    pub fn with(apps: &[&str]) -> AppsFolder {
        let folder = AppsFolder { path: scratch_dir("apps") };
        for app in apps {
            let source = workspace().join("tests/apps").join(app);
            let name = Path::new(app).file_name().expect("an app name");
            copy_dir(&source, &folder.path.join(name));
        }
        folder
    }

    /// The path of `file` in app `app`.
    pub fn file(&self, app: &str, file: &str) -> PathBuf {
        self.path.join(app).join(file)
    }

    /// Writes `content` to `file` of app `app`, making the app's folder if need be.
    pub fn write(&self, app: &str, file: &str, content: &str) -> &Self {
        let path = self.file(app, file);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("the app folder");
        std::fs::write(path, content).expect("the file is written");
        self
    }

    /// Makes `file` of app `app` a symbolic link to `target`.
    pub fn link(&self, app: &str, file: &str, target: &Path) -> &Self {
        std::os::unix::fs::symlink(target, self.file(app, file)).expect("the link is made");
        self
    }
}

impl Drop for AppsFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a folder");
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())).flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("the file is copied");
        }
    }
}

/// Body text of a response.
pub async fn text(response: reqwest::Response) -> String {
    response.text().await.expect("a text body")
}

/// Sends raw bytes over a fresh connection and returns everything the server answers.
pub async fn raw_request(addr: SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connects");
    stream.write_all(request).await.expect("sends");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// `file:line` of the first line of a test app's file containing `needle`, as Lua error
/// messages name it; so tests do not break when an app gains a line.
pub fn line_of(app_file: &str, needle: &str) -> String {
    let path = workspace().join("tests/apps").join(app_file);
    let source = std::fs::read_to_string(&path).expect("the app file exists");
    let line = source.lines().position(|line| line.contains(needle)).expect("the needle is in the file") + 1;
    let file = Path::new(app_file).file_name().expect("a file name").to_string_lossy();
    format!("{file}:{line}")
}

/// Counts HTTP/1.1 responses in a byte stream read in arbitrary pieces, by their status
/// lines; for pipelined tests that read faster than a full response parser would.
#[derive(Default)]
pub struct StatusLineCounter {
    /// The last bytes of what was read: the start of a status line cut by a read.
    tail: Vec<u8>,
    pub count: usize,
}

impl StatusLineCounter {
    const STATUS_LINE: &'static [u8] = b"HTTP/1.1 ";

    pub fn feed(&mut self, bytes: &[u8]) {
        self.tail.extend_from_slice(bytes);
        let needle = Self::STATUS_LINE;
        self.count += self.tail.windows(needle.len()).filter(|window| *window == needle).count();
        // Fewer bytes than a status line: none is counted twice, and a cut one is kept.
        let counted = self.tail.len().saturating_sub(needle.len() - 1);
        self.tail.drain(..counted);
    }
}

#[cfg(test)]
mod tests {
    use super::StatusLineCounter;

    #[test]
    fn status_lines_are_counted_wherever_the_reads_cut_them() {
        let response = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        let stream = response.repeat(5);
        for first in 0..=stream.len() {
            for second in first..=stream.len() {
                let mut counter = StatusLineCounter::default();
                for piece in [&stream[..first], &stream[first..second], &stream[second..]] {
                    counter.feed(piece);
                }
                assert_eq!(counter.count, 5, "reads cut at {first} and {second}");
            }
        }
    }
}
