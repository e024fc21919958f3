//! File descriptors and the data folder: an app holding thousands of files (H5), and the
//! data limit measured while descriptors are short (H6) or files many (L4).

use std::time::Duration;

use astra_tests::{AppsFolder, Host, text};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{assert_good, json_of};

/// H5: an app kept 19,966 files open in one warm instance, every one a descriptor of the
/// host's, and the host could no longer accept connections. An instance now holds at most
/// `open_files` (64 by default); past that the call stops and the instance goes.
#[tokio::test]
async fn an_instance_holds_at_most_its_open_files() {
    let folder = AppsFolder::with(&["attacks/good", "attacks/fd-hoarder"]);
    let host = Host::serve(&folder.path, &[]);
    let before = host.open_descriptors();
    let within = json_of(host.get("fd-hoarder", "/grab?most=64").await).await;
    assert_eq!(within["held"], 64, "{within}");
    let response = host.get("fd-hoarder", "/grab").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(text(response).await, "open files limit exceeded\n");
    assert!(host.log_contains("[fd-hoarder] GET /grab: open files limit exceeded; the instance was replaced").await);
    let after = host.open_descriptors();
    assert!(after < before + 20, "the host holds {after} descriptors, {before} before");
    assert_good(&host).await;
}

/// H6 and H5's accept loop: with the host's descriptors used up, the data folder was
/// measured at 0 bytes (200 MiB written under a 20 MiB limit), and the host stopped
/// accepting connections. A measurement that fails now counts as over the limit, and a
/// client that comes while descriptors are short is refused at once.
#[tokio::test]
async fn short_of_descriptors_the_data_limit_holds_and_clients_are_refused_at_once() {
    let folder = AppsFolder::with(&["attacks/good", "attacks/fd-hoarder"]);
    let extra = ["--open-files", "1000", "--data-limit", "1MiB"];
    let host = Host::serve_under_ulimit(&folder.path, "-n 256", &extra);
    assert!(host.log().contains("the open files limit is 256"), "{}", host.log());
    let client = host.client("fd-hoarder");
    let grabbed: Value = client.get(host.url("fd-hoarder", "/grab")).send().await.unwrap().json().await.unwrap();
    assert!(grabbed["held"].as_u64().unwrap() > 100, "{grabbed}");
    assert!(grabbed["err"].is_string(), "io.open failed once the host had no descriptor left: {grabbed}");

    // Idle connections take whatever descriptors are left; once there are none, a new
    // client is accepted and let go at once, not left in the backlog.
    let mut clients = Vec::new();
    for _ in 0..8 {
        let mut client = tokio::net::TcpStream::connect(host.addr).await.unwrap();
        let _ = client.write_all(b"GET / HTTP/1.1\r\n").await;
        clients.push(client);
    }
    let ends = clients.iter_mut().map(|client| async move {
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(3), client.read_to_end(&mut answer)).await.is_ok()
    });
    let refused = futures_util::future::join_all(ends).await.into_iter().filter(|ended| *ended).count();
    assert!(refused > 0, "every client waited for a host out of descriptors");
    assert!(host.log_contains("out of file descriptors").await, "{}", host.log());

    // The folder cannot be measured, so it counts as over its limit: the instance that
    // holds the files (writable) is dropped, and the app writes nothing more.
    let unmeasured = "[fd-hoarder] cannot measure the data folder";
    assert!(host.log_contains(unmeasured).await, "{}", host.log());
    let response = client.get(host.url("fd-hoarder", "/write")).send().await.unwrap();
    if response.status() == StatusCode::OK {
        let outcome: Value = response.json().await.unwrap();
        assert_eq!(outcome["written"], 0, "{outcome}");
    } else {
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(text(response).await, "data folder limit exceeded\n");
    }
    assert!(std::fs::metadata(host.data_dir.join("fd-hoarder/written.txt")).is_err());
    assert_eq!(std::fs::metadata(host.data_dir.join("fd-hoarder/held.txt")).unwrap().len(), 0);
    // Its files went with its instance: the host serves again.
    assert_good(&host).await;
}

/// L4: 100,000 empty files made measuring one app's folder cost the host 0.2 s of CPU a
/// second. A folder is now measured again no sooner than ten times its last measurement
/// took, which the measurements' own log lines show.
#[tokio::test]
async fn a_folder_of_many_files_is_measured_less_often() {
    let folder = AppsFolder::with(&["attacks/good", "attacks/filer"]);
    let host = Host::serve_with_env(&folder.path, &[], &[("ASTRA_LOG", "astra_host=debug")]);
    let files = host.data_dir.join("filer/many");
    std::fs::create_dir_all(&files).unwrap();
    for n in 0..50_000 {
        std::fs::File::create(files.join(n.to_string())).unwrap();
    }
    let client = host.client("filer");
    for _ in 0..60 {
        assert_eq!(text(client.get(host.url("filer", "/")).send().await.unwrap()).await, "filer");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // (end of the measurement in µs since midnight, how long it took in µs)
    let measurements: Vec<(u64, u64)> = host
        .log()
        .lines()
        .filter(|line| line.contains("[filer] measured the data folder: ") && !line.contains(": 0.0MiB"))
        .filter_map(|line| {
            let time = line.split('T').nth(1)?.split('Z').next()?;
            let (hours, rest) = time.split_once(':')?;
            let (minutes, seconds) = rest.split_once(':')?;
            let seconds: f64 = seconds.parse().ok()?;
            let at = (hours.parse::<u64>().ok()? * 3600 + minutes.parse::<u64>().ok()? * 60) * 1_000_000
                + (seconds * 1e6) as u64;
            let took = line.rsplit(" in ").next()?.strip_suffix("us")?.parse().ok()?;
            Some((at, took))
        })
        .collect();
    assert!(measurements.len() >= 2, "{}", host.log());
    for pair in measurements.windows(2) {
        let ((ended, took), (next_ended, next_took)) = (pair[0], pair[1]);
        let next_started = next_ended - next_took;
        assert!(next_started >= ended + 10 * took, "measured again {} µs after one of {took} µs", next_started - ended);
    }
}
