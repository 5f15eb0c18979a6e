//! HTTP Basic authentication with Application Passwords.

use base64::Engine;
use ferropress::caps::{AppPasswordGate, Role};
use serde_json::json;

use crate::helpers::*;

async fn me(app: &TestApp, login: &str, password: &str) -> (u16, serde_json::Value) {
    send(
        app.client
            .get(app.url("/wp-json/wp/v2/users/me"))
            .basic_auth(login, Some(password)),
    )
    .await
}

#[tokio::test]
async fn token_works_with_and_without_spaces() {
    let app = TestApp::spawn().await;
    let (alice, token) = app.user_with_token("alice", Role::Author).await;
    assert_eq!(token.len(), 24);

    let (status, body) = me(&app, "alice", &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], alice.id);
    assert_eq!(body["slug"], "alice");

    let spaced = chunked(&token);
    assert_eq!(spaced.len(), 29);
    let (status, body) = me(&app, "alice", &spaced).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn email_finds_the_user_too() {
    let app = TestApp::spawn().await;
    let (alice, token) = app.user_with_token("alice", Role::Editor).await;
    let (status, body) = me(&app, "alice@example.com", &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], alice.id);
    // Logins are case-insensitive, as on WordPress's MySQL collation.
    let (status, _) = me(&app, "ALICE", &token).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn wrong_token_unknown_user_and_unknown_email_are_401() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;

    let mut wrong = token.clone().into_bytes();
    wrong[0] = if wrong[0] == b'A' { b'B' } else { b'A' };
    let (status, body) = me(&app, "alice", std::str::from_utf8(&wrong).expect("ascii")).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"code":"incorrect_password","message":"The provided password is an invalid application password.","data":{"status":401}})
    );

    let (status, body) = me(&app, "nobody", &token).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "invalid_username");

    let (status, body) = me(&app, "nobody@example.com", &token).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "invalid_email");
    assert_eq!(body["data"]["status"], 401);
}

#[tokio::test]
async fn another_users_token_does_not_work() {
    let app = TestApp::spawn().await;
    let (_, _alice_token) = app.user_with_token("alice", Role::Author).await;
    let (_, bob_token) = app.user_with_token("bob", Role::Author).await;
    let (status, body) = me(&app, "alice", &bob_token).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "incorrect_password");
}

#[tokio::test]
async fn account_password_is_refused_over_basic_auth() {
    let app = TestApp::spawn().await;
    let _ = app.user_with_token("alice", Role::Administrator).await;
    // helpers create users with the account password "pass-<login>".
    let (status, body) = me(&app, "alice", "pass-alice").await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "incorrect_password");
}

#[tokio::test]
async fn revoked_token_fails_on_the_very_next_request() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;
    assert_eq!(me(&app, "alice", &token).await.0, 200);

    let listed = app.cli(&[
        "user",
        "application-password",
        "list",
        "alice",
        "--format=json",
    ]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let items: serde_json::Value = serde_json::from_str(&stdout(&listed)).expect("json");
    let uuid = items[0]["uuid"].as_str().expect("uuid").to_owned();

    let deleted = app.cli(&["user", "application-password", "delete", "alice", &uuid]);
    assert!(deleted.status.success(), "{}", stderr(&deleted));

    let (status, body) = me(&app, "alice", &token).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "incorrect_password");
}

/// New drafts (this server's own post writes) keep the verified token and the options in
/// the read cache; a write by another process (the CLI) to an option, then to the token, is
/// still seen by the very next request.
#[tokio::test]
async fn cached_token_and_options_outlive_new_drafts_but_not_other_writes() {
    let app = TestApp::spawn().await;
    let _ = app.user_with_token("boss", Role::Administrator).await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;
    let draft = || async {
        let resp = app
            .client
            .post(app.url("/wp-json/wp/v2/posts"))
            .basic_auth("alice", Some(&token))
            .json(&json!({"title": "Draft", "status": "draft"}))
            .send()
            .await
            .expect("create");
        json_of(resp).await
    };
    for _ in 0..3 {
        let (status, body) = draft().await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["comment_status"], "open");
    }

    let updated = app.cli(&["option", "update", "default_comment_status", "closed"]);
    assert!(updated.status.success(), "{}", stderr(&updated));
    let (status, body) = draft().await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["comment_status"], "closed",
        "the CLI's option write is seen"
    );

    let listed = app.cli(&[
        "user",
        "application-password",
        "list",
        "alice",
        "--format=json",
    ]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let items: serde_json::Value = serde_json::from_str(&stdout(&listed)).expect("json");
    let uuid = items[0]["uuid"].as_str().expect("uuid").to_owned();
    let deleted = app.cli(&["user", "application-password", "delete", "alice", &uuid]);
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    let (status, body) = draft().await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "incorrect_password");
}

#[tokio::test]
async fn malformed_authorization_headers_never_500() {
    let app = TestApp::spawn().await;
    let _ = app.user_with_token("alice", Role::Author).await;
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    let long = "A".repeat(6000);
    let cases: Vec<String> = vec![
        "Basic".into(),
        "Basic ".into(),
        "Basic !!!".into(),
        "Basic ====".into(),
        format!("Basic {}", b64(b"nocolon")),
        format!("Basic {}", b64(b"\xff\xfe:\x00\x01")),
        format!("Basic {}", b64(b":")),
        format!("Basic {}", b64(b"alice:")),
        "Bearer abc.def.ghi".into(),
        "Digest username=\"alice\"".into(),
        format!("Basic {long}"),
        format!("Basic {}", b64(format!("{long}:{long}").as_bytes())),
        "basic".into(),
    ];
    for case in cases {
        let resp = app
            .client
            .get(app.url("/wp-json/wp/v2/users/me"))
            .header("Authorization", case.as_bytes())
            .send()
            .await
            .expect("send");
        let status = resp.status().as_u16();
        assert!((400..500).contains(&status), "{case:.40}: {status}");
        let body: serde_json::Value = resp.json().await.expect("json error body");
        assert!(body["code"].is_string(), "{case:.40}: {body}");
    }
}

#[tokio::test]
async fn gate_refuses_roles_without_edit_posts_by_default() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("sub", Role::Subscriber).await;
    let (status, body) = me(&app, "sub", &token).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "application_passwords_disabled_for_user");

    let app = TestApp::spawn_with(|a| a.application_passwords_for = AppPasswordGate::All).await;
    let (_, token) = app.user_with_token("sub", Role::Subscriber).await;
    assert_eq!(me(&app, "sub", &token).await.0, 200);

    let app =
        TestApp::spawn_with(|a| a.application_passwords_for = AppPasswordGate::Administrators)
            .await;
    let (_, token) = app.user_with_token("ed", Role::Editor).await;
    assert_eq!(
        me(&app, "ed", &token).await.1["code"],
        "application_passwords_disabled_for_user"
    );
    let (_, token) = app.user_with_token("boss", Role::Administrator).await;
    assert_eq!(me(&app, "boss", &token).await.0, 200);
}

#[tokio::test]
async fn plain_http_outside_local_ignores_application_passwords() {
    let app = TestApp::spawn_with(production).await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;
    let (status, body) = me(&app, "alice", &token).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "rest_not_logged_in");
    let (_, index) = app.get_json("/wp-json/").await;
    assert_eq!(index["authentication"], json!([]));
}

#[tokio::test]
async fn https_makes_application_passwords_available_in_production() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("cert");
    let dir = tempfile::tempdir().expect("tempdir");
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).expect("write cert");
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).expect("write key");

    let app = TestApp::spawn_with(|a| {
        production(a);
        a.tls_cert = Some(cert_path.clone());
        a.tls_key = Some(key_path.clone());
    })
    .await;
    assert!(app.base.starts_with("https://"), "{}", app.base);
    let (alice, token) = app.user_with_token("alice", Role::Author).await;
    let (status, body) = me(&app, "alice", &chunked(&token)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], alice.id);
    let (_, index) = app.get_json("/wp-json/").await;
    assert!(
        index["authentication"]["application-passwords"]["endpoints"]["authorization"].is_string()
    );
}

#[tokio::test]
async fn concurrent_creation_never_duplicates_a_name() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice", Role::Author).await;
    let mut tasks = vec![];
    for _ in 0..20 {
        let site = app.site.clone();
        tasks.push(tokio::spawn(async move {
            ferropress::application_passwords::create(
                &site,
                alice.id,
                "Same Name",
                None,
                Default::default(),
            )
            .await
            .map(|_| ())
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.expect("join") {
            Ok(()) => ok += 1,
            Err(e) => {
                assert_eq!(e.code, "application_password_duplicate_name");
                assert_eq!(e.status.as_u16(), 409);
            }
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn usage_is_recorded_with_ip_and_user_agent() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;
    assert_eq!(me(&app, "alice", &token).await.0, 200);
    let dir = app.stop().await;
    // Shutdown flushed the coalesced usage: the CLI reads it from the database.
    let out = cli(
        dir.path(),
        &[
            "user",
            "application-password",
            "list",
            "alice",
            "--format=json",
            "--fields=created,last_used,last_ip,last_user_agent",
        ],
    );
    let items: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(items[0]["last_ip"], "127.0.0.1");
    assert_eq!(items[0]["last_user_agent"], "ferropress-tests/1.0");
    assert!(
        items[0]["last_used"].as_i64().expect("last_used")
            >= items[0]["created"].as_i64().expect("created")
    );
}

/// A use taken by a flush whose write is held up (another writer holds the lock) still
/// shows in the token list until the write is done, and after it.
#[tokio::test]
async fn usage_being_flushed_still_shows_in_the_list() {
    use secrecy::ExposeSecret;
    use sqlx::Connection;
    let app = TestApp::spawn().await;
    let (alice, token) = app.user_with_token("alice", Role::Author).await;
    // The list is read by someone else, so reading it records no use of alice's token.
    let (_, admin) = app.user_with_token("boss", Role::Administrator).await;
    assert_eq!(me(&app, "alice", &token).await.0, 200);
    let list = || async {
        let (status, body) = send(
            app.client
                .get(app.url(&format!(
                    "/wp-json/wp/v2/users/{}/application-passwords",
                    alice.id
                )))
                .basic_auth("boss", Some(&admin)),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body[0]["last_ip"].clone()
    };
    assert_eq!(list().await, "127.0.0.1");

    // Another writer holds the token rows, so the flush's write waits for it.
    let lock: Box<dyn std::any::Any + Send> = match &app.storage.database_url {
        Some(url) => {
            let mut conn = sqlx::PgConnection::connect(url.expose_secret())
                .await
                .expect("connect");
            sqlx::query("BEGIN")
                .execute(&mut conn)
                .await
                .expect("begin");
            sqlx::query("SELECT 1 FROM application_password FOR UPDATE")
                .execute(&mut conn)
                .await
                .expect("lock");
            Box::new(conn)
        }
        None => {
            let file = app
                .data_dir
                .path()
                .join(ferropress::store::sqlite::FILE_NAME);
            let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
                .await
                .expect("connect");
            sqlx::query("BEGIN IMMEDIATE")
                .execute(&mut conn)
                .await
                .expect("lock");
            Box::new(conn)
        }
    };
    let site = app.site.clone();
    let flush = tokio::spawn(async move {
        site.usage
            .flush(site.store.as_ref(), ferropress::site::now())
            .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!flush.is_finished(), "the flush waits for the lock");
    assert_eq!(
        list().await,
        "127.0.0.1",
        "a use being written is not hidden"
    );
    drop(lock); // rolls the other writer back
    // alice's use and the reader's.
    assert_eq!(flush.await.expect("join").expect("flush"), 2);
    assert_eq!(list().await, "127.0.0.1");
}

#[tokio::test]
async fn forwarded_https_counts_only_from_a_trusted_proxy() {
    let untrusted = TestApp::spawn_with(production).await;
    let (_, token) = untrusted.user_with_token("alice", Role::Author).await;
    let resp = untrusted
        .client
        .get(untrusted.url("/wp-json/wp/v2/users/me"))
        .basic_auth("alice", Some(&token))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .expect("send");
    let (status, body) = json_of(resp).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("rest_not_logged_in")),
        "a spoofed header is ignored"
    );

    let proxied = TestApp::spawn_with(|a| {
        production(a);
        a.trusted_proxies = vec!["127.0.0.0/8".parse().expect("cidr")];
    })
    .await;
    let (_, token) = proxied.user_with_token("alice", Role::Author).await;
    let plain = proxied
        .client
        .get(proxied.url("/wp-json/wp/v2/users/me"))
        .basic_auth("alice", Some(&token));
    let (status, _) = json_of(plain.send().await.expect("send")).await;
    assert_eq!(status, 401, "plain HTTP through the proxy is still plain");

    let resp = proxied
        .client
        .get(proxied.url("/wp-json/wp/v2/users/me/application-passwords/introspect"))
        .basic_auth("alice", Some(&token))
        .header("X-Forwarded-Proto", "https")
        .header("X-Forwarded-For", "198.51.100.9, 203.0.113.7, 127.0.0.5")
        .send()
        .await
        .expect("send");
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["last_ip"], "203.0.113.7",
        "the right-most untrusted hop is the client"
    );
}
