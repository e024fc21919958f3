//! What a client's request may be: which app it reaches is read one way only (L2), and
//! what hyper let through is refused (I4).

use astra_tests::{AppsFolder, Host, raw_request};

fn host() -> (AppsFolder, Host) {
    let folder = AppsFolder::with(&["attacks/good", "attacks/other", "attacks/big"]);
    let host = Host::serve(&folder.path, &[]);
    (folder, host)
}

/// Status line and body of the answer to `request`, sent raw.
async fn answer(host: &Host, request: &[u8]) -> (String, String) {
    let answer = raw_request(host.addr, request).await;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    (head.lines().next().unwrap_or_default().to_string(), body.to_string())
}

/// L2: an absolute-form target lost to the Host header, duplicate Host headers were
/// accepted (the first won), a non-UTF-8 Host fell back to the target's host, and a Host's
/// "port" could be anything.
#[tokio::test]
async fn the_app_a_request_is_for_is_read_one_way() {
    let (_folder, host) = host();
    let absolute = b"GET http://good.localhost/ HTTP/1.1\r\nHost: other.localhost\r\nConnection: close\r\n\r\n";
    assert_eq!(answer(&host, absolute).await.1, "good", "RFC 9112 3.2.2: the target's authority wins");
    let refused: [(&[u8], &str); 6] = [
        (b"GET / HTTP/1.1\r\nHost: good.localhost\r\nHost: other.localhost\r\n\r\n", "only one Host header"),
        (b"GET / HTTP/1.1\r\nHost: other.localhost\r\nHost: good.localhost\r\n\r\n", "only one Host header"),
        (b"GET / HTTP/1.1\r\nHost: good.localhost\xff\r\n\r\n", "not a host name"),
        (b"GET / HTTP/1.1\r\nHost: good.localhost:other.localhost\r\n\r\n", "not a host name"),
        (b"GET / HTTP/1.1\r\nHost: other.localhost@good.localhost\r\n\r\n", "not a host name"),
        (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", "needs a Host header"),
    ];
    for (request, why) in refused {
        let (status, body) = answer(&host, request).await;
        assert_eq!(status, "HTTP/1.1 400 Bad Request", "{}", String::from_utf8_lossy(request));
        assert!(body.contains(why), "{body}");
    }
    // HTTP/1.0 needs no Host; without a default app nothing answers it.
    assert!(answer(&host, b"GET / HTTP/1.0\r\n\r\n").await.0.contains(" 404 "));
    let (status, body) =
        answer(&host, b"GET / HTTP/1.1\r\nHost: GOOD.localhost.:8080\r\nConnection: close\r\n\r\n").await;
    assert_eq!((status.as_str(), body.as_str()), ("HTTP/1.1 200 OK", "good"));
}

/// I4: a single header of 350 KiB was accepted (hyper's 400 KiB buffer), and an unknown
/// expectation was ignored.
#[tokio::test]
async fn oversized_heads_and_unknown_expectations_are_refused() {
    let (_folder, host) = host();
    let big = format!("GET / HTTP/1.1\r\nHost: good.localhost\r\nX-Big: {}\r\n\r\n", "b".repeat(100 * 1024));
    assert_eq!(answer(&host, big.as_bytes()).await.0, "HTTP/1.1 431 Request Header Fields Too Large");
    let fits = format!(
        "GET / HTTP/1.1\r\nHost: good.localhost\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "b".repeat(32 * 1024)
    );
    assert_eq!(answer(&host, fits.as_bytes()).await.1, "good");

    let bogus = b"GET / HTTP/1.1\r\nHost: good.localhost\r\nExpect: 999-bogus\r\nConnection: close\r\n\r\n";
    assert_eq!(answer(&host, bogus).await.0, "HTTP/1.1 417 Expectation Failed");
    let client = host.client("good");
    let response = client.get(host.url("good", "/")).header("expect", "100-continue").send().await.unwrap();
    assert_eq!(response.text().await.unwrap(), "good");
}

/// I3: a body that is not one (a bad chunk size, a chunk line without CR) was answered
/// 500 and logged as the app's error. It is the client's: 400, before the app runs.
#[tokio::test]
async fn a_broken_body_is_the_clients_fault() {
    let (_folder, host) = host();
    for chunks in ["zz\r\nhello\r\n0\r\n\r\n", "ffffffffffffffffff\r\nx\r\n0\r\n\r\n", "5\nhello\n0\n\n"] {
        let request = format!(
            "POST /spin-read HTTP/1.1\r\nHost: big.localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{chunks}"
        );
        let (status, body) = answer(&host, request.as_bytes()).await;
        assert_eq!(status, "HTTP/1.1 400 Bad Request", "{chunks:?}: {body}");
        assert!(body.starts_with("the request body is broken: "), "{body}");
    }
    assert!(!host.log().contains("[big] POST /spin-read"), "nothing is the app's: {}", host.log());
    let fine = b"POST /spin-read HTTP/1.1\r\nHost: big.localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    assert_eq!(answer(&host, fine).await.1, "read 5");
}
