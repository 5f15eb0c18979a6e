//! Floods (issue 14, findings 2 and 6): parallel guesses verify at most the throttle's burst,
//! and CPU-heavy work is bounded: past its queue the answer is 503 with `Retry-After`, while
//! honest logins and tokens still get through.

use std::collections::BTreeMap;

use ferropress::caps::Role;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER, SET_COOKIE};
use serde_json::json;

use crate::helpers::*;

/// Guesses sent at once from one client.
const PARALLEL: usize = 40;

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A login post, as seen coming from `ip` when the test server trusts 127.0.0.1 as a proxy.
fn login_post(
    app: &TestApp,
    client: &reqwest::Client,
    ip: &str,
    log: &str,
    pwd: &str,
) -> reqwest::RequestBuilder {
    client
        .post(app.url("/wp-login.php"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("X-Forwarded-For", ip)
        .body(form(&[("log", log), ("pwd", pwd)]))
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("ferropress-tests/1.0")
        .build()
        .expect("client")
}

/// Sends all requests at once and counts the answers by status.
async fn count_statuses(requests: Vec<reqwest::RequestBuilder>) -> BTreeMap<u16, usize> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|r| tokio::spawn(async move { r.send().await.expect("send").status().as_u16() }))
        .collect();
    let mut counts = BTreeMap::new();
    for t in tasks {
        *counts.entry(t.await.expect("task")).or_insert(0) += 1;
    }
    counts
}

/// Sends the `PARALLEL` guesses at once: each is either checked (answered `checked`) or
/// refused with 429, at most the burst of 3 are checked, and each check counted a failure.
async fn assert_at_most_burst_checked(
    app: &TestApp,
    requests: Vec<reqwest::RequestBuilder>,
    checked: u16,
) {
    let counts = count_statuses(requests).await;
    let verified = counts.get(&checked).copied().unwrap_or(0);
    let refused = counts.get(&429).copied().unwrap_or(0);
    assert_eq!(verified + refused, PARALLEL, "{counts:?}");
    assert!(
        verified <= 3,
        "{verified} of {PARALLEL} guesses were checked: {counts:?}"
    );
    assert_eq!(
        app.site.auth_throttle.metrics.failures(),
        u64::try_from(verified).expect("count")
    );
}

#[tokio::test]
async fn parallel_basic_auth_guesses_verify_at_most_the_burst() {
    let app = TestApp::spawn_with(|a| {
        a.security.auth_failures_burst = 3;
        // One token a minute: nothing refills while the test runs.
        a.security.auth_failures_per_minute = 1;
        // Only the IP limit, so every verified guess is answered 401.
        a.security.auth_account_failures_per_minute = 0;
    })
    .await;
    app.user_with_token("alice", Role::Author).await;
    let requests = (0..PARALLEL)
        .map(|i| {
            app.client
                .get(app.url("/wp-json/wp/v2/users/me"))
                .basic_auth("alice", Some(format!("wrong guess {i}")))
        })
        .collect();
    assert_at_most_burst_checked(&app, requests, 401).await;
}

#[tokio::test]
async fn parallel_login_guesses_verify_at_most_the_burst() {
    let app = TestApp::spawn_with(|a| {
        a.security.auth_failures_burst = 3;
        a.security.auth_failures_per_minute = 1;
        a.security.auth_account_failures_per_minute = 0;
    })
    .await;
    app.create_user("alice", Role::Author).await;
    let client = no_redirects();
    let requests = (0..PARALLEL)
        .map(|i| {
            client
                .post(app.url("/wp-login.php"))
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form(&[
                    ("log", "alice"),
                    ("pwd", &format!("wrong guess {i}")),
                ]))
        })
        .collect();
    // A checked wrong password is answered with the form again (200), as in WordPress.
    assert_at_most_burst_checked(&app, requests, 200).await;
}

#[tokio::test]
async fn login_flood_past_the_cpu_queue_gets_503_while_honest_requests_succeed() {
    let app = TestApp::spawn_with(|a| {
        a.trusted_proxies = vec!["127.0.0.1".parse().expect("cidr")];
        a.security.cpu_workers = 1;
        a.security.cpu_queue = 2;
        // The flood targets one account from many IPs; its limit does not stop checks anyway.
        a.security.auth_account_failures_per_minute = 0;
    })
    .await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;
    app.create_user("bob", Role::Author).await;
    let client = no_redirects();

    // 60 wrong logins from 60 addresses, all at once: one runs, two wait, the rest are
    // refused at once.
    let flood: Vec<_> = (0..60)
        .map(|i| {
            let req = login_post(&app, &client, &format!("10.1.0.{i}"), "alice", "wrong");
            tokio::spawn(async move {
                let resp = req.send().await.expect("send");
                let status = resp.status().as_u16();
                let retry = resp.headers().get(RETRY_AFTER).is_some();
                let page = resp.text().await.expect("body");
                (status, retry, page)
            })
        })
        .collect();

    // Meanwhile a valid Application Password needs no argon2 at all: it is answered.
    let (status, me) = send(
        app.client
            .get(app.url("/wp-json/wp/v2/users/me"))
            .basic_auth("alice", Some(&token)),
    )
    .await;
    assert_eq!((status, me["slug"].as_str()), (200, Some("alice")), "{me}");

    // An honest login from elsewhere, during the flood, gets in retrying as told (bounded).
    let mut logged_in = false;
    for _ in 0..50 {
        let resp = login_post(&app, &client, "10.2.0.1", "bob", "pass-bob")
            .send()
            .await
            .expect("send");
        if resp.status().is_redirection() {
            logged_in = resp.headers().get_all(SET_COOKIE).iter().any(|v| {
                v.to_str()
                    .is_ok_and(|v| v.starts_with("wordpress_logged_in_"))
            });
            break;
        }
        assert_eq!(resp.status(), 503);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(logged_in, "the honest login never got through");

    let mut busy = 0;
    for t in flood {
        let (status, retry, page) = t.await.expect("task");
        match status {
            200 => assert!(page.contains("is incorrect"), "{page}"),
            503 => {
                busy += 1;
                assert!(retry, "503 without Retry-After");
                assert!(page.contains("too busy"), "{page}");
            }
            other => panic!("unexpected {other}: {page}"),
        }
    }
    assert!(busy > 0, "a queue of 2 took 60 logins at once");
    assert!(app.site.cpu.busy() >= u64::try_from(busy).expect("count"));
}

#[tokio::test]
async fn rest_writes_past_the_cpu_queue_get_a_busy_envelope() {
    let app = TestApp::spawn_with(|a| {
        a.security.cpu_workers = 1;
        a.security.cpu_queue = 1;
    })
    .await;
    let token = app.create_token(1, "tests").await;
    // Creating a user hashes its password (argon2) on the CPU pool.
    let requests: Vec<_> = (0..20)
        .map(|i| {
            app.client
                .post(app.url("/wp-json/wp/v2/users"))
                .basic_auth("admin", Some(&token))
                .json(&json!({
                    "username": format!("user{i}"),
                    "email": format!("user{i}@example.com"),
                    "password": "s3cret",
                }))
        })
        .collect();
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|r| {
            tokio::spawn(async move {
                let resp = r.send().await.expect("send");
                let retry = resp
                    .headers()
                    .get(RETRY_AFTER)
                    .map(|v| v.to_str().expect("ascii").to_owned());
                let (status, body) = json_of(resp).await;
                (status, retry, body)
            })
        })
        .collect();
    let (mut created, mut busy) = (0, 0);
    for t in tasks {
        let (status, retry, body) = t.await.expect("task");
        match status {
            201 => created += 1,
            503 => {
                busy += 1;
                assert_eq!(body["code"], "rest_server_busy", "{body}");
                assert_eq!(body["data"]["status"], 503);
                let secs: u64 = retry.expect("Retry-After").parse().expect("seconds");
                assert_eq!(body["data"]["retry_after"], json!(secs));
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(created >= 1, "the pool works at all");
    assert!(busy >= 1, "a queue of 1 took 20 hashes at once");
}

#[tokio::test]
async fn a_flood_against_one_account_does_not_keep_others_from_logging_in() {
    let app = TestApp::spawn_with(|a| {
        a.trusted_proxies = vec!["127.0.0.1".parse().expect("cidr")];
        a.security.cpu_workers = 1;
        a.security.cpu_queue = 2;
        // alice's budget is spent after one failure: every later check of hers is low priority.
        a.security.auth_account_failures_burst = 1;
        a.security.auth_account_failures_per_minute = 1;
    })
    .await;
    app.create_user("alice", Role::Author).await;
    app.create_user("bob", Role::Author).await;
    let client = no_redirects();
    let flood: Vec<_> = (0..60)
        .map(|i| {
            let req = login_post(&app, &client, &format!("10.1.0.{i}"), "alice", "wrong");
            tokio::spawn(async move { req.send().await.expect("send").status().as_u16() })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    // At most one of alice's checks is of normal priority, so bob's always finds room: his
    // first try logs in, flood or not.
    for ip in ["10.2.0.1", "10.2.0.2", "10.2.0.3"] {
        let resp = login_post(&app, &client, ip, "bob", "pass-bob")
            .send()
            .await
            .expect("send");
        assert!(resp.status().is_redirection(), "{}", resp.status());
    }
    let mut statuses = BTreeMap::new();
    for t in flood {
        *statuses.entry(t.await.expect("task")).or_insert(0) += 1;
    }
    // alice's guesses: 200 (the first), 429 (checked while throttled) or 503.
    assert!(
        statuses.keys().all(|s| [200, 429, 503].contains(s)),
        "{statuses:?}"
    );
    assert!(statuses.contains_key(&503), "{statuses:?}");
}
