//! Isolation, end to end: hostile apps and hostile clients beside a well-behaved app, in one
//! real host. Each attack gets its documented answer, and the host and the good app keep
//! working during and after it.
//!
//! `sandbox` holds the attacks on an app's own limits from inside Lua; the other modules
//! each reproduce findings of the adversarial test that `SECURITY.md` lists, by the
//! finding's id, and fail without their fix.

mod availability;
mod files;
mod logs;
mod memory;
mod requests;
mod responses;
mod sandbox;
mod tenants;

use astra_tests::{Host, apps, text};
use reqwest::StatusCode;
use serde_json::Value;

/// The `tests/apps/hostile` apps, with their operator config, `tests/apps/hostile.toml`.
pub fn hostile_host() -> Host {
    let config = apps("hostile.toml").display().to_string();
    Host::serve_with_env(&apps("hostile"), &["--config", &config], &[("ASTRA_TEST_SECRET", "do-not-leak")])
}

pub async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("a JSON body")
}

/// The well-behaved neighbour (`good`, in every apps folder here) still answers.
pub async fn assert_good(host: &Host) {
    let response = host.get("good", "/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text(response).await, "good");
}
