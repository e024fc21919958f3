//! The app folder is the tenant's: its links, its `astra.toml` and its `.env` are hostile
//! input, and nothing in it grants anything (C1, H8, M5).

use astra_tests::{AppsFolder, Host, raw_request, scratch_dir, text};
use reqwest::StatusCode;

use super::{assert_good, json_of};

/// C1: the host read `.env` and `astra.toml` following links, so a tenant could link to
/// another tenant's secrets or the host's files and read them as its environment (or in the
/// log, through a TOML parse error).
#[tokio::test]
async fn config_files_that_are_links_or_not_files_are_refused() {
    let folder = AppsFolder::with(&["attacks/good", "attacks/env-reader"]);
    folder.write("good", ".env", "GOOD_SECRET=s3cr3t-of-good\n");
    let outside = scratch_dir("host-files");
    std::fs::write(outside.join("host.env"), "HOST_SECRET=host-only-password\n").unwrap();
    for app in ["other-tenant", "host-file", "toml-link", "fifo"] {
        std::fs::create_dir_all(folder.path.join(app)).unwrap();
        std::fs::copy(folder.file("env-reader", "init.lua"), folder.file(app, "init.lua")).unwrap();
    }
    folder.link("other-tenant", ".env", "../good/.env".as_ref());
    folder.link("host-file", ".env", &outside.join("host.env"));
    folder.link("toml-link", "astra.toml", &outside.join("host.env"));
    let fifo = std::process::Command::new("mkfifo").arg(folder.file("fifo", ".env")).status().unwrap();
    assert!(fifo.success());
    // The control: a regular .env is read.
    folder.write("env-reader", ".env", "HOST_SECRET=\"its own\"\n");

    let host = Host::serve(&folder.path, &[]);
    for (app, file, why) in [
        ("other-tenant", ".env", "is a symbolic link: the host reads only regular files in the app folder"),
        ("host-file", ".env", "is a symbolic link: the host reads only regular files in the app folder"),
        ("toml-link", "astra.toml", "is a symbolic link: the host reads only regular files in the app folder"),
        ("fifo", ".env", "is not a regular file"),
    ] {
        let response = host.get(app, "/").await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{app}");
        let refusal = format!("[{app}] did not start: {file} {why}");
        assert!(host.log().contains(&refusal), "{refusal}\n{}", host.log());
    }
    assert_eq!(json_of(host.get("env-reader", "/").await).await["host"], "its own");
    let log = host.log();
    assert!(!log.contains("s3cr3t-of-good") && !log.contains("host-only-password"), "{log}");
    assert_eq!(json_of(host.get("good", "/env").await).await["secret"], "s3cr3t-of-good");
    let _ = std::fs::remove_dir_all(outside);
}

/// A named pipe in an app folder: the guest's open of it, done by the host on a blocking
/// thread, waited for a writer for ever, so every such open kept a host thread. An app folder
/// holding a pipe, or a link to one, is refused before the app starts.
#[tokio::test]
async fn an_app_folder_with_a_named_pipe_is_refused() {
    let folder = AppsFolder::with(&["attacks/good", "attacks/filer"]);
    std::fs::create_dir_all(folder.file("filer", "static")).unwrap();
    let made = std::process::Command::new("mkfifo").arg(folder.file("filer", "static/pipe")).status().unwrap();
    assert!(made.success());

    let host = Host::serve(&folder.path, &[]);
    assert_eq!(host.get("filer", "/").await.status(), StatusCode::SERVICE_UNAVAILABLE);
    let refusal = "[filer] did not start: static/pipe is a named pipe: an app folder may hold only files, \
                   folders and links to them";
    assert!(host.log_contains(refusal).await, "{}", host.log());
    assert_good(&host).await;
}

/// H8: `[limits]` in astra.toml raised every limit but memory; now an app may only lower
/// its limits, and the operator's config grants more.
#[tokio::test]
async fn an_app_cannot_raise_its_limits_but_the_operator_can() {
    let folder = AppsFolder::with(&["attacks/good", "attacks/spinner"]);
    let host = Host::serve(&folder.path, &["--cpu-time-limit", "500ms"]);
    let response = host.get("spinner", "/spin?s=1").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(text(response).await, "CPU time limit exceeded\n");
    for refused in [
        "[spinner] astra.toml: limits.cpu_time = 1h is above the 500ms this app is given, which applies: \
         an app may only lower its limits",
        "[spinner] astra.toml: limits.max_instances = 100000 is above the 8 this app is given",
        "[spinner] astra.toml: limits.data_limit = 1000000GiB is above the 1GiB this app is given",
        "[spinner] astra.toml: limits.log_lines_per_second = 4000000000 is above the 1000 this app is given",
    ] {
        assert!(host.log().contains(refused), "{refused}\n{}", host.log());
    }
    assert_good(&host).await;
    drop(host);

    let config = scratch_dir("config").join("host.toml");
    std::fs::write(&config, "[limits]\ncpu_time = \"500ms\"\n\n[apps.spinner.limits]\ncpu_time = \"3s\"\n").unwrap();
    let host = Host::serve(&folder.path, &["--config", &config.display().to_string()]);
    let response = host.get("spinner", "/spin?s=1").await;
    assert_eq!(text(response).await, "spun 1s", "the operator granted 3s");
    assert!(host.log().contains("limits.cpu_time = 1h is above the 3s this app is given"), "{}", host.log());
    assert_eq!(host.get("good", "/").await.status(), StatusCode::OK);
    assert_eq!(text(host.get("good", "/").await).await, "good");
}

async fn served_by(host: &Host, host_name: &str) -> String {
    let request = format!("GET / HTTP/1.1\r\nHost: {host_name}\r\nConnection: close\r\n\r\n");
    let answer = raw_request(host.addr, request.as_bytes()).await;
    answer.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or(answer)
}

/// M5: an astra.toml listing `localhost` or `127.0.0.1` took the default app's traffic, and
/// listing another tenant's domain took it away from that tenant. Only the operator grants
/// host names.
#[tokio::test]
async fn only_the_operator_grants_host_names() {
    let folder = AppsFolder::with(&["attacks/good", "attacks/claimer"]);
    let config = scratch_dir("config").join("host.toml");
    std::fs::write(&config, "[apps.good]\nhosts = [\"shop.example.com\"]\n").unwrap();
    let config = config.display().to_string();
    let host = Host::serve(&folder.path, &["--default-app", "good", "--config", &config]);
    for name in ["localhost", "127.0.0.1", "shop.example.com", "good.localhost"] {
        assert_eq!(served_by(&host, name).await, "good", "{name}");
        let refusal = format!("[claimer] astra.toml: hosts: {name} is not served: host names beyond the app's own");
        assert!(host.log().contains(&refusal), "{refusal}\n{}", host.log());
    }
    assert_eq!(served_by(&host, "claimer.localhost").await, "claimer");
    assert!(host.log().lines().any(|line| line.starts_with("good ") && line.contains("shop.example.com")));
    drop(host);

    // A grant of another app's own name is the operator's mistake: the host says so and stops.
    let config = scratch_dir("config").join("host.toml");
    std::fs::write(&config, "[apps.claimer]\nhosts = [\"good.localhost\"]\n").unwrap();
    let output = std::process::Command::new(astra_tests::binary())
        .args(["--apps", &folder.path.display().to_string(), "--config", &config.display().to_string()])
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("apps.claimer.hosts: good.localhost is app good's own host name"), "{stderr}");
}
