//! Several instances on one PostgreSQL database (PostgreSQL pass only: ignored in the SQLite
//! pass, run by `postgres::pass`).

use std::collections::HashSet;
use std::sync::Arc;

use ferropress::caps::Role;
use serde_json::{Value, json};

use crate::helpers::*;

async fn request(
    app: &TestApp,
    login: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app
        .client
        .request(method, app.url(&format!("/wp-json/wp/v2{path}")))
        .basic_auth(login, Some(token));
    if let Some(b) = body {
        req = req.json(&b);
    }
    send(req).await
}

#[tokio::test]
#[ignore = "PostgreSQL only: run by postgres::pass"]
async fn two_instances_starting_at_once_migrate_once_and_make_one_admin() {
    let url = fresh_database_url();
    let (a, b) = tokio::join!(
        TestApp::spawn_on(&url, |_| {}),
        TestApp::spawn_on(&url, |_| {})
    );
    assert_eq!(a.site.store.count_users().await.expect("count"), 1);
    let users = b.site.store.list_users().await.expect("users");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].login, "admin");
    // A third instance finds everything in place.
    let c = TestApp::spawn_on(&url, |_| {}).await;
    assert_eq!(c.site.store.count_users().await.expect("count"), 1);
}

#[tokio::test]
#[ignore = "PostgreSQL only: run by postgres::pass"]
async fn token_made_on_one_instance_works_on_the_other_and_revocation_is_immediate() {
    let url = fresh_database_url();
    let a = TestApp::spawn_on(&url, |_| {}).await;
    let b = TestApp::spawn_on(&url, |_| {}).await;
    let (_, own) = a.user_with_token("alice", Role::Author).await;

    // Created through A.
    let (status, created) = request(
        &a,
        "alice",
        &own,
        reqwest::Method::POST,
        "/users/me/application-passwords",
        Some(json!({ "name": "made on A" })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let token = created["password"].as_str().expect("password").to_owned();
    let uuid = created["uuid"].as_str().expect("uuid").to_owned();

    // Works on B.
    let (status, me) = request(&b, "alice", &token, reqwest::Method::GET, "/users/me", None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["slug"], "alice");

    // Revoked on B; the very next request on A fails.
    let (status, _) = request(
        &b,
        "alice",
        &own,
        reqwest::Method::DELETE,
        &format!("/users/me/application-passwords/{uuid}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) =
        request(&a, "alice", &token, reqwest::Method::GET, "/users/me", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("incorrect_password"))
    );

    // Revoking everything on A ends the remaining token on B at once, too.
    let (status, _) = request(
        &a,
        "alice",
        &own,
        reqwest::Method::DELETE,
        "/users/me/application-passwords",
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = request(&b, "alice", &own, reqwest::Method::GET, "/users/me", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("incorrect_password"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "PostgreSQL only: run by postgres::pass"]
async fn twenty_clients_over_two_instances_create_a_thousand_tokens() {
    let url = fresh_database_url();
    let a = Arc::new(TestApp::spawn_on(&url, |_| {}).await);
    let b = Arc::new(TestApp::spawn_on(&url, |_| {}).await);
    let (_, own) = a.user_with_token("alice", Role::Author).await;
    let own = Arc::new(own);

    // 1,000 distinct names; every tenth is asked for a second time, right after the first
    // request and through the other instance, so that the two race.
    let mut plan: Vec<(String, bool)> = vec![];
    for i in 0..1000 {
        let on_a = i % 2 == 0;
        plan.push((format!("token {i}"), on_a));
        if i % 10 == 0 {
            plan.push((format!("token {i}"), !on_a));
        }
    }
    let plan = Arc::new(plan);
    let mut tasks = vec![];
    for client in 0..20 {
        let (a, b, own, plan) = (a.clone(), b.clone(), own.clone(), plan.clone());
        tasks.push(tokio::spawn(async move {
            let mut results = vec![];
            for (name, on_a) in plan.iter().skip(client).step_by(20) {
                let app = if *on_a { &a } else { &b };
                let (status, body) = request(
                    app,
                    "alice",
                    &own,
                    reqwest::Method::POST,
                    "/users/me/application-passwords",
                    Some(json!({ "name": name })),
                )
                .await;
                results.push((name.clone(), status, body));
            }
            results
        }));
    }
    let mut created = HashSet::new();
    let mut refused = 0;
    for t in tasks {
        for (name, status, body) in t.await.expect("join") {
            match status {
                201 => assert!(created.insert(name.clone()), "{name} created twice"),
                409 => {
                    assert_eq!(body["code"], "application_password_duplicate_name");
                    refused += 1;
                }
                other => panic!("unexpected {other}: {body}"),
            }
        }
    }
    assert_eq!(created.len(), 1000, "no creation lost");
    assert_eq!(refused, 100, "every repeated name refused once");

    for app in [&a, &b] {
        let (status, list) = request(
            app,
            "alice",
            &own,
            reqwest::Method::GET,
            "/users/me/application-passwords",
            None,
        )
        .await;
        assert_eq!(status, 200);
        let names: Vec<&str> = list
            .as_array()
            .expect("array")
            .iter()
            .map(|p| p["name"].as_str().expect("name"))
            .collect();
        let distinct: HashSet<&str> = names.iter().copied().collect();
        assert_eq!(names.len(), 1001, "the 1,000 plus the caller's own");
        assert_eq!(distinct.len(), names.len(), "no duplicate names");
    }
    // The two instances appended to one audit chain at once: it did not fork (issue 18).
    let out = a.cli(&["audit", "verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let created = a
        .site
        .store
        .query_audit(&ferropress::store::AuditQuery {
            events: vec!["token.created".into()],
            limit: 1,
            ..Default::default()
        })
        .await
        .expect("audit")
        .1;
    assert_eq!(created, 1001, "one entry per token made");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "PostgreSQL only: run by postgres::pass"]
async fn concurrent_usage_flushes_from_two_instances_keep_the_newest() {
    let url = fresh_database_url();
    let a = TestApp::spawn_on(&url, |_| {}).await;
    let b = TestApp::spawn_on(&url, |_| {}).await;
    let user = a.create_user("alice", Role::Author).await;
    for i in 0..40 {
        a.create_token(user.id, &format!("t{i}")).await;
    }
    let tokens = a
        .site
        .store
        .app_passwords_for_user(user.id)
        .await
        .expect("list");
    assert_eq!(tokens.len(), 40);

    for round in 0..15_i64 {
        let base = 1_800_000_000 + round * 1000;
        // Each instance saw every token; which one saw it last alternates by token and round.
        for (i, t) in tokens.iter().enumerate() {
            let a_newer = (i as i64 + round) % 2 == 0;
            for (app, newer, ip) in [(&a, a_newer, "10.0.0.1"), (&b, !a_newer, "10.0.0.2")] {
                app.site.usage.record(
                    t.uuid,
                    base + if newer { 10 } else { 5 },
                    ip,
                    &format!("agent {ip}"),
                );
            }
        }
        let (fa, fb) = tokio::join!(
            a.site.usage.flush(a.site.store.as_ref(), base + 20),
            b.site.usage.flush(b.site.store.as_ref(), base + 20)
        );
        assert_eq!(fa.expect("flush on A"), 40);
        assert_eq!(fb.expect("flush on B"), 40);

        let stored = b
            .site
            .store
            .app_passwords_for_user(user.id)
            .await
            .expect("list");
        for (i, t) in stored.iter().enumerate() {
            let a_newer = (i as i64 + round) % 2 == 0;
            let ip = if a_newer { "10.0.0.1" } else { "10.0.0.2" };
            assert_eq!(t.uuid, tokens[i].uuid, "order kept");
            assert_eq!(t.last_used, Some(base + 10), "round {round}, token {i}");
            assert_eq!(t.last_ip.as_deref(), Some(ip), "round {round}, token {i}");
            assert_eq!(t.last_user_agent, Some(format!("agent {ip}")));
        }
    }
}

#[tokio::test]
#[ignore = "PostgreSQL only: run by postgres::pass"]
async fn login_sessions_and_nonces_are_shared_by_instances() {
    use ferropress::auth::cookie;
    use secrecy::ExposeSecret;
    let url = fresh_database_url();
    let a = TestApp::spawn_on(&url, |_| {}).await;
    let b = TestApp::spawn_on(&url, |_| {}).await;
    // Both make the nonce key on first use at the same moment: one value wins for both.
    let (ka, kb) = tokio::join!(cookie::nonce_key(&a.site), cookie::nonce_key(&b.site));
    let (ka, kb) = (ka.expect("key a"), kb.expect("key b"));
    let nonce = cookie::create_nonce(ka, "wp_rest", 7, "token");
    assert_eq!(
        cookie::verify_nonce(kb, &nonce, "wp_rest", 7, "token"),
        Some(1)
    );

    // A session begun on A is valid on B until A logs it out.
    let alice = a.create_user("alice", Role::Author).await;
    let (token, _) = cookie::create_session(&a.site, &alice, false, &Default::default())
        .await
        .expect("session");
    let mut headers = reqwest::header::HeaderMap::new();
    let value = format!("{}={}", cookie::cookie_name(&b.site), token.expose_secret());
    headers.insert("cookie", value.parse().expect("header"));
    let on_b = cookie::validate_auth_cookie(&b.site, &headers)
        .await
        .expect("validate")
        .expect("valid on B");
    assert_eq!(on_b.user.id, alice.id);
    cookie::destroy_session(&a.site, &on_b.session)
        .await
        .expect("logout");
    assert!(
        cookie::validate_auth_cookie(&b.site, &headers)
            .await
            .expect("validate")
            .is_none()
    );
}

/// A PostgreSQL instance on a fresh schema whose connections carry `name` as their
/// `application_name` (its data version connection is then "`name` ferropress-version").
async fn instance_named(url: &str, name: &str) -> TestApp {
    TestApp::spawn_on(&format!("{url}&application_name={name}"), |_| {}).await
}

/// The title of post `id` in B's authenticated list of posts (a cached answer, if any).
async fn listed_title(app: &TestApp, login: &str, token: &str, id: i64) -> String {
    let (status, list) = request(
        app,
        login,
        token,
        reqwest::Method::GET,
        "/posts?per_page=10",
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    let post = list
        .as_array()
        .expect("list")
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("post {id} missing from {list}"));
    post["title"]["rendered"]
        .as_str()
        .expect("title")
        .to_owned()
}

async fn retitle(app: &TestApp, login: &str, token: &str, id: i64, title: &str) {
    let (status, body) = request(
        app,
        login,
        token,
        reqwest::Method::POST,
        &format!("/posts/{id}"),
        Some(json!({ "title": title })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "PostgreSQL only: run by postgres::pass"]
async fn a_write_on_one_instance_is_read_on_the_other_at_once_with_the_read_cache_on() {
    let url = fresh_database_url();
    let a = TestApp::spawn_on(&url, |_| {}).await;
    let b = TestApp::spawn_on(&url, |_| {}).await;
    let (_, token) = a.user_with_token("ed", Role::Editor).await;
    let (status, post) = request(
        &a,
        "ed",
        &token,
        reqwest::Method::POST,
        "/posts",
        Some(json!({ "title": "t0", "status": "publish" })),
    )
    .await;
    assert_eq!(status, 201, "{post}");
    let id = post["id"].as_i64().expect("id");

    assert_eq!(listed_title(&b, "ed", &token, id).await, "t0");
    // B caches on PostgreSQL: the answer and the verified token are kept.
    assert!(b.site.cache.response_stats().entries >= 1);
    assert!(b.site.cache.auth_stats().entries >= 1);
    assert_eq!(listed_title(&b, "ed", &token, id).await, "t0");

    // Each write acknowledged by A is in B's very next answer.
    for i in 1..=30 {
        let title = format!("t{i}");
        retitle(&a, "ed", &token, id, &title).await;
        assert_eq!(listed_title(&b, "ed", &token, id).await, title, "round {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "PostgreSQL only: run by postgres::pass"]
async fn no_stale_read_when_the_data_version_connection_is_killed() {
    let base = require_postgres();
    let url = fresh_database_url();
    let name = format!("fp_b_{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let a = TestApp::spawn_on(&url, |_| {}).await;
    let b = instance_named(&url, &name).await;
    let (_, token) = a.user_with_token("ed", Role::Editor).await;
    let (status, post) = request(
        &a,
        "ed",
        &token,
        reqwest::Method::POST,
        "/posts",
        Some(json!({ "title": "before", "status": "publish" })),
    )
    .await;
    assert_eq!(status, 201, "{post}");
    let id = post["id"].as_i64().expect("id");
    assert_eq!(listed_title(&b, "ed", &token, id).await, "before");
    assert!(b.site.cache.response_stats().entries >= 1, "B caches");

    let listener = format!("{name} ferropress-version");
    let listeners = || async {
        use sqlx::Connection as _;
        let mut conn = sqlx::PgConnection::connect(base).await.expect("connect");
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1")
                .bind(&listener)
                .fetch_one(&mut conn)
                .await
                .expect("count listeners");
        n
    };
    assert_eq!(listeners().await, 1, "B has one version connection");
    let kill = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{listener}'"
    );
    for round in 0..3 {
        // A second token, verified (and cached) on B.
        let (status, created) = request(
            &a,
            "ed",
            &token,
            reqwest::Method::POST,
            "/users/me/application-passwords",
            Some(json!({ "name": format!("r{round}") })),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let second = created["password"].as_str().expect("password").to_owned();
        let uuid = created["uuid"].as_str().expect("uuid").to_owned();
        for _ in 0..2 {
            let (status, me) =
                request(&b, "ed", &second, reqwest::Method::GET, "/users/me", None).await;
            assert_eq!(status, 200, "{me}");
        }

        admin_sql(base, kill.clone());
        // Written while B's version connection is gone (or being replaced): B must not answer from
        // what it cached before.
        let title = format!("while down {round}");
        retitle(&a, "ed", &token, id, &title).await;
        assert_eq!(listed_title(&b, "ed", &token, id).await, title);
        let (status, _) = request(
            &a,
            "ed",
            &token,
            reqwest::Method::DELETE,
            &format!("/users/me/application-passwords/{uuid}"),
            None,
        )
        .await;
        assert_eq!(status, 200);
        let (status, body) =
            request(&b, "ed", &second, reqwest::Method::GET, "/users/me", None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("incorrect_password")),
            "round {round}"
        );
    }

    // B's connection comes back, and B caches again, still exactly.
    let mut back = false;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        listed_title(&b, "ed", &token, id).await;
        if listeners().await == 1 && b.site.cache.response_stats().entries >= 1 {
            back = true;
            break;
        }
    }
    assert!(back, "B caches again once its connection is back");
    retitle(&a, "ed", &token, id, "after").await;
    assert_eq!(listed_title(&b, "ed", &token, id).await, "after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "PostgreSQL only: run by postgres::pass"]
async fn a_write_under_way_outside_ferropress_is_not_cached_stale() {
    use sqlx::Connection as _;
    let url = fresh_database_url();
    let b = TestApp::spawn_on(&url, |_| {}).await;
    let (_, token) = b.user_with_token("ed", Role::Editor).await;
    let (status, post) = request(
        &b,
        "ed",
        &token,
        reqwest::Method::POST,
        "/posts",
        Some(json!({ "title": "before", "status": "publish" })),
    )
    .await;
    assert_eq!(status, 201, "{post}");
    let id = post["id"].as_i64().expect("id");
    assert_eq!(listed_title(&b, "ed", &token, id).await, "before");

    // A transaction of someone else's (psql, another tool) writes and stays open: B reads
    // the committed state meanwhile, and must not keep it past the commit.
    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query("UPDATE post SET title = 'outside' WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .expect("update");
    for _ in 0..3 {
        assert_eq!(listed_title(&b, "ed", &token, id).await, "before");
    }
    tx.commit().await.expect("commit");
    assert_eq!(listed_title(&b, "ed", &token, id).await, "outside");
    conn.close().await.expect("close");
}
