//! Brute-force throttling, HSTS and request limits (issue 9), over real HTTP.

use std::time::Duration;

use ferropress::caps::Role;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::helpers::*;

/// `users/me` as `login:password`, seen as coming from `ip` through the trusted proxy.
async fn me_from(app: &TestApp, ip: &str, login: &str, password: &str) -> reqwest::Response {
    app.client
        .get(app.url("/wp-json/wp/v2/users/me"))
        .basic_auth(login, Some(password))
        .header("X-Forwarded-For", ip)
        .send()
        .await
        .expect("send")
}

async fn status_code(resp: reqwest::Response) -> (u16, Option<String>, serde_json::Value) {
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let (status, body) = json_of(resp).await;
    (status, retry, body)
}

#[tokio::test]
async fn failed_logins_are_throttled_per_ip_without_locking_out_the_owner() {
    let app = TestApp::spawn_with(|a| {
        a.trusted_proxies = vec!["127.0.0.1".parse().expect("cidr")];
        a.security.auth_failures_per_minute = 2;
        a.security.auth_failures_burst = 3;
        a.security.auth_account_failures_per_minute = 2;
        a.security.auth_account_failures_burst = 5;
    })
    .await;
    let (alice, token) = app.user_with_token("alice", Role::Author).await;

    // The attacker at 10.0.0.1: three wrong guesses are answered 401, then 429.
    for _ in 0..3 {
        let (status, _, body) =
            status_code(me_from(&app, "10.0.0.1", "alice", "wrong wrong wrong").await).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("incorrect_password"))
        );
    }
    let (status, retry, body) =
        status_code(me_from(&app, "10.0.0.1", "alice", "wrong wrong wrong").await).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "too_many_requests");
    assert_eq!(body["data"]["status"], 429);
    let retry: u64 = retry.expect("Retry-After").parse().expect("seconds");
    assert!((1..=30).contains(&retry), "{retry}");
    assert_eq!(body["data"]["retry_after"], json!(retry));
    // Even a right token is not checked from the throttled IP.
    let (status, _, _) = status_code(me_from(&app, "10.0.0.1", "alice", &token).await).await;
    assert_eq!(status, 429);
    // Unknown users count as failures as well.
    let (status, _, _) = status_code(me_from(&app, "10.0.0.1", "nobody", "x").await).await;
    assert_eq!(status, 429);

    // The owner, from elsewhere, is not affected.
    let (status, _, body) = status_code(me_from(&app, "10.0.0.2", "alice", &token).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], alice.id);

    // Two more failures from a second IP exhaust the account's bucket (5 in all)...
    for _ in 0..2 {
        let (status, _, _) =
            status_code(me_from(&app, "10.0.0.3", "alice", "still wrong").await).await;
        assert_eq!(status, 401);
    }
    // ...so a wrong guess from a fresh IP gets 429 (logins are keyed case-insensitively)...
    let (status, retry, body) =
        status_code(me_from(&app, "10.0.0.4", "ALICE", "wrong again").await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("too_many_requests"))
    );
    assert!(retry.is_some());
    // ...while the valid token from a fresh IP still works.
    let (status, _, body) = status_code(me_from(&app, "10.0.0.5", "alice", &token).await).await;
    assert_eq!(status, 200, "{body}");

    // Another account is not throttled by alice's failures.
    let (bob, bob_token) = app.user_with_token("bob", Role::Author).await;
    let (status, _, body) = status_code(me_from(&app, "10.0.0.6", "bob", &bob_token).await).await;
    assert_eq!((status, body["id"].as_i64()), (200, Some(bob.id)));

    let metrics = &app.site.auth_throttle.metrics;
    assert_eq!(metrics.failures(), 3 + 2 + 1, "failures counted");
    assert_eq!(metrics.throttled(), 3 + 1, "throttled answers counted");
}

#[tokio::test]
async fn malformed_credentials_are_not_failures() {
    let app = TestApp::spawn_with(|a| a.security.auth_failures_burst = 1).await;
    for _ in 0..5 {
        let (status, _) = send(
            app.client
                .get(app.url("/wp-json/wp/v2/posts"))
                .header("Authorization", "Basic !!!not base64"),
        )
        .await;
        assert_eq!(status, 200, "anonymous, as in WordPress");
    }
    assert_eq!(app.site.auth_throttle.metrics.failures(), 0);
}

#[tokio::test]
async fn throttle_can_be_disabled() {
    let app = TestApp::spawn_with(|a| {
        a.security.auth_failures_per_minute = 0;
        a.security.auth_account_failures_per_minute = 0;
    })
    .await;
    app.user_with_token("alice", Role::Author).await;
    for _ in 0..30 {
        let (status, body) = send(
            app.client
                .get(app.url("/wp-json/wp/v2/users/me"))
                .basic_auth("alice", Some("nope")),
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("incorrect_password"))
        );
    }
}

#[tokio::test]
async fn hsts_on_https_answers_only() {
    let app = TestApp::spawn_with(|a| {
        a.trusted_proxies = vec!["127.0.0.1".parse().expect("cidr")];
    })
    .await;
    let plain = app
        .client
        .get(app.url("/wp-json/"))
        .send()
        .await
        .expect("send");
    assert!(plain.headers().get("strict-transport-security").is_none());
    for path in ["/wp-json/", "/wp-json/wp/v2/nothing", "/"] {
        let proxied = app
            .client
            .get(app.url(path))
            .header("X-Forwarded-Proto", "https")
            .send()
            .await
            .expect("send");
        assert_eq!(
            proxied.headers()["strict-transport-security"],
            "max-age=31536000",
            "{path}"
        );
    }

    // An untrusted peer's X-Forwarded-Proto is not believed.
    let untrusted = TestApp::spawn().await;
    let resp = untrusted
        .client
        .get(untrusted.url("/wp-json/"))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .expect("send");
    assert!(resp.headers().get("strict-transport-security").is_none());
}

#[tokio::test]
async fn hsts_over_direct_tls() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("cert");
    let dir = tempfile::tempdir().expect("tempdir");
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).expect("write cert");
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).expect("write key");
    let app = TestApp::spawn_with(|a| {
        a.tls_cert = Some(cert_path.clone());
        a.tls_key = Some(key_path.clone());
        a.security.max_headers = 16;
    })
    .await;
    let resp = app
        .client
        .get(app.url("/wp-json/"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    // The header limits hold on the TLS listener too.
    let mut req = app.client.get(app.url("/wp-json/"));
    for i in 0..20 {
        req = req.header(format!("x-extra-{i}"), "1");
    }
    let (status, body) = send(req).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (431, Some("rest_request_header_fields_too_large"))
    );
}

#[tokio::test]
async fn too_many_or_too_large_headers_get_431() {
    let app = TestApp::spawn().await;
    let mut req = app.client.get(app.url("/wp-json/wp/v2/posts"));
    for i in 0..80 {
        req = req.header(format!("x-extra-{i}"), "1");
    }
    let (status, body) = send(req).await;
    assert_eq!(status, 431);
    assert_eq!(body["code"], "rest_request_header_fields_too_large");
    assert_eq!(body["data"]["status"], 431);

    let (status, body) = send(
        app.client
            .get(app.url("/wp-json/wp/v2/posts"))
            .header("x-big", "a".repeat(20 * 1024)),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (431, Some("rest_request_header_fields_too_large"))
    );

    // Far past hyper's own ceiling: refused by hyper (431 without a body) or the
    // connection is dropped; never a 5xx, and the server keeps serving.
    let resp = app
        .client
        .get(app.url("/wp-json/wp/v2/posts"))
        .header("x-huge", "a".repeat(1024 * 1024))
        .send()
        .await;
    if let Ok(resp) = resp {
        assert_eq!(resp.status(), 431);
    }
    let (status, _) = app.get_json("/wp-json/wp/v2/posts").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn deeply_nested_json_is_rest_invalid_json() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;
    let body = format!("{{\"title\":{}1{}}}", "[".repeat(5000), "]".repeat(5000));
    let (status, err) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/posts"))
            .basic_auth("alice", Some(&token))
            .header("Content-Type", "application/json")
            .body(body),
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["code"], "rest_invalid_json");
    assert_eq!(err["data"]["json_error_code"], 1);
    assert_eq!(
        err["data"]["json_error_message"],
        "Maximum stack depth exceeded"
    );
}

#[tokio::test]
async fn slow_body_gets_408_and_slow_headers_are_disconnected() {
    let app = TestApp::spawn_with(|a| {
        a.security.request_timeout_secs = 1;
        a.security.header_read_timeout_secs = 1;
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();

    // A body promised but never finished.
    let mut s = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    s.write_all(
        b"POST /wp-json/wp/v2/posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"title\":",
    )
    .await
    .expect("write");
    let mut buf = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
        .await
        .expect("answered before 10 s")
        .expect("read");
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("rest_request_timeout"), "{text}");

    // Headers never finished: the connection is closed.
    let mut s = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    s.write_all(b"GET /wp-json/ HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
        .await
        .expect("closed before 10 s")
        .unwrap_or(0);
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(n == 0 || !text.starts_with("HTTP/1.1 2"), "{text}");

    let (status, _) = app.get_json("/wp-json/").await;
    assert_eq!(status, 200);
}
