//! What an app's response may carry: the framing is the host's (H1, L3), headers are
//! capped as a whole (H2), and cookies name only the app's own domains (L5).

use astra_tests::{AppsFolder, Host, raw_request};
use reqwest::StatusCode;

use super::assert_good;

/// One connection: `first` to framer, then a pipelined `GET /` to good; everything sent back.
async fn then_good(host: &Host, first: &str) -> String {
    let requests = format!(
        "GET {first} HTTP/1.1\r\nHost: framer.localhost\r\n\r\nGET / HTTP/1.1\r\nHost: good.localhost\r\nConnection: close\r\n\r\n"
    );
    raw_request(host.addr, requests.as_bytes()).await
}

/// H1: an app's `Content-Length` shorter than its body made the rest of the body read as
/// the next response on the connection: a forged answer for the good app.
#[tokio::test]
async fn an_app_cannot_frame_its_own_response() {
    let folder = AppsFolder::with(&["attacks/good", "attacks/framer"]);
    let host = Host::serve(&folder.path, &[]);
    let answer = then_good(&host, "/short-length").await;
    let forged_body = "ABHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nPWNED!";
    assert!(answer.contains(&format!("content-length: {}\r\n", forged_body.len())), "{answer}");
    let responses: Vec<&str> = answer.split("HTTP/1.1 200 OK\r\n").filter(|part| !part.is_empty()).collect();
    assert_eq!(responses.len(), 3, "framer's (whose body holds a status line), then good's: {answer}");
    assert!(responses[2].ends_with("\r\n\r\ngood"), "good's own answer comes second: {answer}");

    // A longer Content-Length than the body swallowed the next response.
    let answer = then_good(&host, "/long-length").await;
    assert!(answer.contains("content-length: 5\r\n") && answer.ends_with("\r\n\r\ngood"), "{answer}");

    // Transfer codings, Connection, Upgrade and proxy headers are the host's too.
    let answer = then_good(&host, "/encodings").await;
    let (framer, _) = answer.split_once("framed by the host").expect("framer's body");
    for header in ["transfer-encoding", "connection:", "upgrade", "proxy-connection"] {
        assert!(!framer.to_ascii_lowercase().contains(header), "{header}: {answer}");
    }
    assert!(answer.ends_with("\r\n\r\ngood"), "{answer}");
    assert!(
        host.log_contains("[framer] GET /short-length: dropped the header \"Content-Length\": the host sets it").await
    );
    let dropped = "[framer] GET /encodings: dropped the header \"Transfer-Encoding\": the host sets it";
    assert!(host.log_contains(dropped).await, "{}", host.log());
}

/// L3: status 101 from an ordinary route dropped the connection (and a pipelined request
/// with it); 100 and 103 became a silent 500; 600-999 were sent.
#[tokio::test]
async fn statuses_are_200_to_599() {
    let folder = AppsFolder::with(&["attacks/good", "attacks/framer"]);
    let host = Host::serve(&folder.path, &[]);
    for code in [100, 101, 103, 199, 600, 999] {
        let answer = then_good(&host, &format!("/status?code={code}")).await;
        assert!(answer.starts_with("HTTP/1.1 500 "), "{code}: {answer}");
        assert!(answer.ends_with("\r\n\r\ngood"), "the pipelined request is answered: {answer}");
        let logged = format!("invalid status code {code} (expected a whole number from 200 to 599)");
        assert!(host.log_contains(&logged).await, "{logged}\n{}", host.log());
    }
    for code in [200, 204, 418, 599] {
        assert_eq!(host.get("framer", &format!("/status?code={code}")).await.status().as_u16(), code);
    }
}

/// M2, warnings: each response that sets a framing header costs a warning, from the app's
/// log budget (20 lines a second for framer).
#[tokio::test]
async fn warnings_an_app_causes_come_out_of_its_log_budget() {
    let folder = AppsFolder::with(&["attacks/good", "attacks/framer"]);
    let host = Host::serve(&folder.path, &[]);
    let client = host.client("framer");
    for _ in 0..300 {
        let response = client.get(host.url("framer", "/long-length")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert!(host.log_contains("[framer] logs more than 20 lines or 256KiB a second").await, "{}", host.log());
    let warnings = host.log().matches("dropped the header \"Content-Length\"").count();
    assert!((20..120).contains(&warnings), "{warnings} warnings for 300 responses");
    assert_good(&host).await;
}

/// H2, headers: the route config's headers were added after the 64 KiB check (12 MiB of
/// headers a response); they are now part of it, and a route whose own take more cannot
/// start.
#[tokio::test]
async fn route_config_headers_count_toward_the_header_cap() {
    let folder = AppsFolder::with(&["attacks/good", "attacks/padded-headers"]);
    let host = Host::serve(&folder.path, &[]);
    assert_eq!(host.get("padded-headers", "/").await.status(), StatusCode::SERVICE_UNAVAILABLE);
    let refusal = "[padded-headers] did not start: init.lua: GET /: config.headers take 12288 KiB, over the 64 KiB";
    assert!(host.log().contains(refusal), "{}", host.log());
    assert_good(&host).await;
}

/// L5: a cookie could name the parent domain, which every tenant under `--domain` shares,
/// or another tenant's host; and `set_path("/; Domain=...")` added attributes.
#[tokio::test]
async fn cookies_name_only_the_apps_own_domains() {
    let folder = AppsFolder::with(&["attacks/good", "attacks/cookie-tosser"]);
    let host = Host::serve(&folder.path, &["--domain", "example.com"]);
    let set_cookie = |response: &reqwest::Response| {
        response.headers().get("set-cookie").map(|value| value.to_str().unwrap().to_string()).unwrap_or_default()
    };
    for route in ["/domain", "/raw"] {
        for foreign in ["example.com", "good.example.com", ".good.localhost", "localhost"] {
            let response = host.get("cookie-tosser", &format!("{route}?domain={foreign}")).await;
            assert_eq!(response.status(), StatusCode::OK, "{route} {foreign}");
            let cookie = set_cookie(&response);
            assert!(!cookie.to_ascii_lowercase().contains("domain="), "{route} {foreign}: {cookie}");
            assert!(cookie.contains("Path=/"), "the cookie is kept, host-only: {cookie}");
        }
        for own in ["cookie-tosser.example.com", "cookie-tosser.localhost"] {
            let cookie = set_cookie(&host.get("cookie-tosser", &format!("{route}?domain={own}")).await);
            assert!(cookie.contains(&format!("Domain={own}")), "{route}: {cookie}");
        }
    }
    let removed = "[cookie-tosser] GET /domain: cookie \"sid\": Domain=\"example.com\" removed, as it is not one of this app's host names";
    assert!(host.log_contains(removed).await, "{}", host.log());
    let response = host.get("cookie-tosser", "/path-injection").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(host.log_contains("invalid cookie path \"/; Domain=example.com; HttpOnly=x\"").await, "{}", host.log());
    assert_good(&host).await;
}
