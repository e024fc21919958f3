//! `utils.spawn_*`, task handles and `datetime.sleep` through the real binary: timers on the
//! host, tasks in the instance that made them.

use std::time::{Duration, Instant};

use astra_tests::{AppsFolder, Host, text};
use reqwest::StatusCode;
use serde_json::Value;

fn tasks_host() -> (Host, AppsFolder) {
    let folder = AppsFolder::with(&["services/tasks"]);
    (Host::serve(&folder.path, &[]), folder)
}

async fn get_text(host: &Host, path: &str) -> String {
    let response = host.get("tasks", path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    text(response).await
}

async fn get_json(host: &Host, path: &str) -> Value {
    serde_json::from_str(&get_text(host, path).await).unwrap()
}

/// Polls `/read?name=` until the file says `expected`, for up to 5 s.
async fn file_becomes(host: &Host, name: &str, expected: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if get_text(host, &format!("/read?name={name}")).await == expected {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn sleeping_costs_no_cpu_time_and_ends_at_the_request_timeout() {
    let (host, _folder) = tasks_host();
    // A second of sleep inside a 200 ms CPU budget.
    let slept = get_json(&host, "/sleep?ms=1000").await;
    assert!(slept["slept_ms"].as_u64().unwrap() >= 990, "{slept}");
    let started = Instant::now();
    let response = host.get("tasks", "/sleep?ms=60000").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn await_runs_its_task_when_due() {
    let (host, _folder) = tasks_host();
    let awaited = get_json(&host, "/await").await;
    assert_eq!(awaited["done"], true, "{awaited}");
    assert!(awaited["waited_ms"].as_u64().unwrap() >= 140, "{awaited}");
}

#[tokio::test]
async fn a_task_runs_after_its_response_and_an_aborted_one_never() {
    let (host, _folder) = tasks_host();
    assert_eq!(get_text(&host, "/later?name=later.txt").await, "spawned");
    assert!(file_becomes(&host, "later.txt", "ran").await, "the task never ran");
    assert_eq!(get_text(&host, "/abort").await, "aborted");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(get_text(&host, "/read?name=aborted.txt").await, "missing");
}

#[tokio::test]
async fn a_failing_task_is_logged_with_its_line_and_the_others_run() {
    let (host, _folder) = tasks_host();
    assert_eq!(get_text(&host, "/failing").await, "spawned");
    assert!(file_becomes(&host, "after-failure.txt", "still ran").await);
    let line = astra_tests::line_of("services/tasks/init.lua", "error(\"task boom\")");
    assert!(host.log_contains(&format!("Error running a task: {line}: task boom")).await, "{}", host.log());
}

#[tokio::test]
async fn the_entry_scripts_interval_runs_once_per_app() {
    let (host, _folder) = tasks_host();
    // Make several instances run the entry script: concurrent sleeps each need one.
    let sleeps = (0..4).map(|_| host.get("tasks", "/sleep?ms=300"));
    for response in futures_util::future::join_all(sleeps).await {
        assert_eq!(response.status(), StatusCode::OK);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let first: u64 = get_text(&host, "/read?name=ticks.txt").await.parse().unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let second: u64 = get_text(&host, "/read?name=ticks.txt").await.parse().unwrap();
    // One interval of 100 ms: about 10 ticks a second. One per instance would count up
    // faster than that, and each instance would start from its own 1.
    let per_second = second - first;
    assert!((5..=13).contains(&per_second), "{per_second} ticks in a second");
}

#[tokio::test]
async fn tasks_per_instance_are_capped() {
    let (host, _folder) = tasks_host();
    let message = get_text(&host, "/too-many").await;
    assert!(message.contains("utils.spawn_timeout: the instance already has 8 tasks (max_tasks)"), "{message}");
}
