//! The host's log is shared by every app: an app cannot forge a line in it (M1), nor
//! write past its budget of lines and bytes, by multi-line prints or huge errors (M2).

use astra_tests::{AppsFolder, Host};
use reqwest::StatusCode;

use super::assert_good;

fn forger_lines(log: &str) -> Vec<&str> {
    log.lines().filter(|line| line.contains("[forger]")).collect()
}

/// M1: a `\n` in what an app printed or raised started a line of its choosing, and `\r`
/// and NUL went to the log raw.
#[tokio::test]
async fn an_app_cannot_forge_log_lines() {
    let folder = AppsFolder::with(&["attacks/good", "attacks/forger"]);
    let host = Host::serve(&folder.path, &[]);
    assert_eq!(host.get("forger", "/print").await.status(), StatusCode::OK);
    for route in ["/error", "/error-object"] {
        assert_eq!(host.get("forger", route).await.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
    assert!(host.log_contains("[forger] GET /error-object: ").await);
    let log = host.log();
    assert!(!log.lines().any(|line| line.starts_with("2026-12-03T15:00:00")), "a forged line: {log}");
    assert!(!log.contains('\r') && !log.contains('\0'), "{log:?}");
    for expected in [
        "[forger] hello\\n2026-12-03T15:00:00.000000Z  INFO [good] FORGED: admin logged in\\r\\0end",
        ": boom\\n2026-12-03T15:00:00.000000Z  INFO [good] FORGED",
        "[forger] GET /error-object: ",
    ] {
        assert!(log.contains(expected), "{expected}\n{log}");
    }
    assert!(log.contains("object\\n2026-12-03T15:00:00.000000Z  INFO [good] FORGED"), "{log}");
    assert_good(&host).await;
}

/// M2: a multi-line print counted as one line (401,701 lines in 0.2 s against a limit of
/// 1000 a second), and a Lua error's message went to the log whole (8 MiB a request).
#[tokio::test]
async fn the_log_budget_counts_bytes_and_errors() {
    let folder = AppsFolder::with(&["attacks/good", "attacks/forger"]);
    let host = Host::serve(&folder.path, &[]);
    assert_eq!(host.get("forger", "/multi-line").await.status(), StatusCode::OK);
    assert!(
        host.log_contains("[forger] logs more than 1000 lines or 256KiB a second (log_lines_per_second, log_bytes_per_second): dropping lines")
            .await,
        "{}",
        host.log()
    );
    let log = host.log();
    let written: usize = forger_lines(&log).iter().map(|line| line.len()).sum();
    // One second's worth passes: 256 KiB, and a line is about 7 KiB.
    assert!(written < 300 * 1024, "{written} bytes of 1.6 MB were written");
    assert!(written > 200 * 1024, "the burst passes: {written} bytes");

    let folder = AppsFolder::with(&["attacks/good", "attacks/forger"]);
    let host = Host::serve(&folder.path, &[]);
    assert_eq!(host.get("forger", "/huge-error").await.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(host.log_contains("[forger] GET /huge-error: init.lua:").await, "{}", host.log());
    let log = host.log();
    let line = forger_lines(&log).into_iter().find(|line| line.contains("GET /huge-error")).unwrap();
    assert!(line.len() < 17 * 1024, "the error line takes {} bytes", line.len());
    let cut: usize =
        line.rsplit_once("… (").and_then(|(_, rest)| rest.strip_suffix(" more bytes)")).unwrap().parse().unwrap();
    assert!(cut > 8 * 1024 * 1024 - 17 * 1024, "{cut} bytes were cut");
    assert_good(&host).await;
}
