//! Webhook alerts (issue 18): events are delivered from the persistent outbox, signed with
//! HMAC-SHA256, at least once, even when the receiver is down for a while and the server is
//! restarted in between.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use ferropress::caps::Role;
use ferropress::store::AuditQuery;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::helpers::*;

const SECRET: &str = "a-webhook-secret-of-some-length";

type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

async fn receive(State(got): State<Received>, headers: HeaderMap, body: Bytes) -> StatusCode {
    got.lock().expect("lock").push((headers, body));
    StatusCode::NO_CONTENT
}

fn hex_hmac(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn configure(a: &mut ferropress::config::ServeArgs) {
    a.trusted_proxies = vec!["127.0.0.1".parse().expect("cidr")];
    a.audit_flush_secs = 1;
    a.security.auth_account_failures_burst = 1000;
}

const EVENTS: [&str; 4] = [
    "token.created",
    "token.new_ip",
    "token.revoked",
    "auth.throttled",
];

#[tokio::test]
async fn every_event_is_delivered_signed_across_an_outage_and_a_restart() {
    // A port with nobody listening yet: the receiver is down.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("ferropress.toml"),
        format!(
            "[[webhooks]]\nurl = \"http://127.0.0.1:{port}/hook\"\nsecret = \"{SECRET}\"\n\
             events = [\"token.created\", \"token.new_ip\", \"token.revoked\", \"auth.throttled\"]\n\
             timeout_secs = 2\nmax_backoff_secs = 1\n"
        ),
    )
    .expect("write ferropress.toml");
    let app = TestApp::spawn_in(dir, configure).await;
    let (alice, token) = app.user_with_token("alice", Role::Author).await;
    let uuid = ferropress::application_passwords::list(&app.site, alice.id)
        .await
        .expect("list")[0]
        .uuid;
    let status = |ip: &'static str, token: String| {
        let req = app
            .client
            .get(app.url("/wp-json/wp/v2/users/me"))
            .basic_auth("alice", Some(token))
            .header("X-Forwarded-For", ip);
        async move { req.send().await.expect("send").status().as_u16() }
    };
    assert_eq!(status("198.51.100.4", token.clone()).await, 200);
    let mut refused = 0;
    for _ in 0..8 {
        if status("192.0.2.9", "wrong".into()).await == 429 {
            refused += 1;
        }
    }
    assert!(refused > 0);
    assert!(
        ferropress::application_passwords::delete(&app.site, alice.id, uuid)
            .await
            .expect("revoke")
    );

    // Every event is in the log (the batched ones after a flush), and the deliveries fail.
    let query = AuditQuery {
        events: EVENTS.iter().map(|s| (*s).to_owned()).collect(),
        limit: 100,
        ..AuditQuery::default()
    };
    let mut expected = vec![];
    for _ in 0..100 {
        expected = app.site.store.query_audit(&query).await.expect("query").0;
        if expected.len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let names: Vec<&str> = expected.iter().map(|e| e.event.as_str()).collect();
    for e in EVENTS {
        assert!(names.contains(&e), "{names:?}");
    }
    // Some attempts against the closed port (1 s back-off).
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Restart with the receiver up.
    let storage = app.storage.clone();
    let dir = app.stop().await;
    let got: Received = Arc::default();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind the receiver's port again");
    let router = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(got.clone());
    let receiver = tokio::spawn(async move { axum::serve(listener, router).await });
    let app = TestApp::spawn_at(dir, storage, configure).await;

    let want: BTreeMap<i64, &str> = expected.iter().map(|e| (e.id, e.event.as_str())).collect();
    let mut delivered: BTreeMap<i64, Value> = BTreeMap::new();
    for _ in 0..300 {
        for (headers, body) in got.lock().expect("lock").iter() {
            let signature = headers["x-ferropress-signature"].to_str().expect("ascii");
            assert_eq!(signature, format!("sha256={}", hex_hmac(SECRET, body)));
            let payload: Value = serde_json::from_slice(body).expect("json");
            let id: i64 = headers["x-ferropress-delivery"]
                .to_str()
                .expect("ascii")
                .parse()
                .expect("id");
            assert_eq!(payload["id"], id);
            assert_eq!(
                payload["event"],
                headers["x-ferropress-event"].to_str().expect("ascii")
            );
            delivered.insert(id, payload);
        }
        if want.keys().all(|id| delivered.contains_key(id)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (id, event) in &want {
        let payload = delivered
            .get(id)
            .unwrap_or_else(|| panic!("entry {id} ({event}) not delivered: {delivered:#?}"));
        assert_eq!(payload["event"], *event);
    }
    let revoked = delivered
        .values()
        .find(|p| p["event"] == "token.revoked")
        .expect("revoked");
    assert_eq!(revoked["token"], uuid.to_string());
    assert_eq!(revoked["user"], alice.id);
    let new_ip = delivered
        .values()
        .find(|p| p["event"] == "token.new_ip")
        .expect("new ip");
    assert_eq!(new_ip["data"]["network"], "198.51.100.0/24");
    // Nothing else was subscribed (the flush's other events are not sent).
    assert!(
        delivered
            .values()
            .all(|p| EVENTS.contains(&p["event"].as_str().expect("event")))
    );
    app.stop().await;
    receiver.abort();
}
