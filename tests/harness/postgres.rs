//! A real PostgreSQL server for one test: a fresh cluster in a scratch folder, on a free
//! port of 127.0.0.1, with its socket in that folder, stopped and removed when dropped.
//!
//! PostgreSQL refuses to run as root, and CI runs as root: then the cluster belongs to the
//! `postgres` user Debian's package makes (or `nobody`), and the server runs as that user.
//! `make test` installs the package when it is missing (`scripts/bootstrap.sh test`).

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Postgres {
    pub port: u16,
    dir: PathBuf,
    server: Child,
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = server_binaries();
        let dir = crate::scratch_dir("postgres");
        let owner = unprivileged_owner();
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .expect("the cluster folder is given to the server's user");
        }
        let data = dir.join("data");
        let run = |program: &str| {
            let mut command = Command::new(bin.join(program));
            if let Some((uid, gid)) = owner {
                command.uid(uid).gid(gid);
            }
            command.current_dir(&dir);
            command
        };
        let status = run("initdb")
            .args([
                "-D",
                &data.display().to_string(),
                "-U",
                "astra",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("initdb runs");
        assert!(status.success(), "initdb failed in {}", dir.display());
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port();
        let server = run("postgres")
            .args(["-D", &data.display().to_string(), "-p", &port.to_string(), "-k", &dir.display().to_string()])
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("postgres starts");
        let postgres = Postgres { port, dir, server };
        postgres.wait_until_ready();
        postgres
    }

    /// A URL an app can connect with.
    pub fn url(&self) -> String {
        format!("postgres://astra@127.0.0.1:{}/postgres", self.port)
    }

    fn wait_until_ready(&self) {
        let started = Instant::now();
        // The port opens before the server accepts logins; the socket file appears at the
        // same point, once recovery is done.
        while !(self.dir.join(format!(".s.PGSQL.{}", self.port)).exists()
            && TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok())
        {
            assert!(started.elapsed() < Duration::from_secs(60), "PostgreSQL did not start in 60 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // SIGINT is PostgreSQL's fast shutdown: it ends every session and exits.
        send_signal(self.server.id(), 2);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.server.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn send_signal(pid: u32, signal: i32) {
    let _ = Command::new("kill").args([format!("-{signal}"), pid.to_string()]).status();
}

/// The folder holding `initdb` and `postgres`: on the PATH, or Debian's newest version.
fn server_binaries() -> PathBuf {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").exists() && dir.join("postgres").exists() {
                return dir;
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| Some((entry.file_name().to_str()?.parse().ok()?, entry.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).expect(
        "PostgreSQL's server is not installed: `make test` installs it (scripts/bootstrap.sh test), or apt-get install postgresql",
    )
}

/// Root cannot run PostgreSQL: the user that will, as (uid, gid).
fn unprivileged_owner() -> Option<(u32, u32)> {
    let root = std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false);
    if !root {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let find = |name: &str| {
        passwd.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&name))
                .then(|| Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?)))?
        })
    };
    Some(find("postgres").or_else(|| find("nobody")).expect("a user to run PostgreSQL as (postgres or nobody)"))
}
