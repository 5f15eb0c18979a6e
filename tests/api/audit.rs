//! The audit log (issue 18): an entry for every event, the hash chain verifying and then
//! failing after a row is altered in the database, `GET /ferropress/v1/audit` filters,
//! pagination and permissions, `ferropress audit list|verify`, retention with an anchor, and
//! concurrent writers never forking the chain.

use std::time::Duration;

use ferropress::caps::Role;
use ferropress::config::StorageArgs;
use reqwest::header::CONTENT_TYPE;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::helpers::*;

/// Runs `sql` on the test's database (SQLite file or PostgreSQL schema), outside ferropress.
pub async fn tamper(storage: &StorageArgs, sql: &str) {
    match &storage.database_url {
        Some(url) => admin_sql(url.expose_secret(), sql.to_owned()),
        None => {
            use sqlx::Connection as _;
            let path = storage.data_dir.join("ferropress.db");
            let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .expect("open the SQLite file");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut conn)
                .await
                .expect("sql");
            conn.close().await.expect("close");
        }
    }
}

fn trusting_local_proxy(a: &mut ferropress::config::ServeArgs) {
    a.trusted_proxies = vec!["127.0.0.1".parse().expect("cidr")];
    a.audit_flush_secs = 1;
    // Only the per-IP throttle is exercised here.
    a.security.auth_account_failures_burst = 1000;
}

/// Every entry of the log, newest first, read by `login` with `token`.
async fn entries(app: &TestApp, login: &str, token: &str, query: &str) -> Vec<Value> {
    let (status, body) = send(
        app.client
            .get(app.url(&format!("/wp-json/ferropress/v1/audit?per_page=100{query}")))
            .basic_auth(login, Some(token)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body.as_array().expect("array").clone()
}

/// Polls the log until `pred` holds (batched events are written by the flush task).
async fn wait_for(
    app: &TestApp,
    login: &str,
    token: &str,
    what: &str,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let mut list = vec![];
    for _ in 0..100 {
        list = entries(app, login, token, "").await;
        if pred(&list) {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen: Vec<&Value> = list.iter().map(|e| &e["event"]).collect();
    panic!("timed out waiting for {what}; have {seen:?}");
}

/// The summed `count` of aggregated entries.
fn count(list: &[Value], event: &str) -> i64 {
    of(list, event)
        .iter()
        .map(|e| e["data"]["count"].as_i64().expect("count"))
        .sum()
}

fn of<'a>(list: &'a [Value], event: &str) -> Vec<&'a Value> {
    list.iter().filter(|e| e["event"] == event).collect()
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn login_post(app: &TestApp, ip: &str, log: &str, pwd: &str) -> u16 {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(app.url("/wp-login.php"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("X-Forwarded-For", ip)
        .body(form(&[("log", log), ("pwd", pwd)]))
        .send()
        .await
        .expect("send")
        .status()
        .as_u16()
}

/// A request with a token, from `ip` with user agent `ua`.
async fn use_token(app: &TestApp, login: &str, token: &str, ip: &str, ua: &str) -> u16 {
    app.client
        .get(app.url("/wp-json/wp/v2/users/me"))
        .basic_auth(login, Some(token))
        .header("X-Forwarded-For", ip)
        .header("User-Agent", ua)
        .send()
        .await
        .expect("send")
        .status()
        .as_u16()
}

#[tokio::test]
async fn every_event_is_recorded_and_the_chain_breaks_when_a_row_is_altered() {
    let app = TestApp::spawn_with(trusting_local_proxy).await;
    let (admin, admin_token) = app.user_with_token("boss", Role::Administrator).await;
    let alice = app.create_user("alice", Role::Author).await;

    // Created by the administrator through REST: the entry says who.
    let (status, created) = send(
        app.client
            .post(app.url(&format!(
                "/wp-json/wp/v2/users/{}/application-passwords",
                alice.id
            )))
            .basic_auth("boss", Some(&admin_token))
            .json(&json!({ "name": "ci" })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let token = created["password"].as_str().expect("password").to_owned();
    let uuid = created["uuid"].as_str().expect("uuid").to_owned();

    // First use, a second address of the same /24 (nothing new), another network, and
    // another user agent.
    assert_eq!(
        use_token(&app, "alice", &token, "198.51.100.7", "agent-a").await,
        200
    );
    assert_eq!(
        use_token(&app, "alice", &token, "198.51.100.99", "agent-a").await,
        200
    );
    assert_eq!(
        use_token(&app, "alice", &token, "203.0.113.5", "agent-a").await,
        200
    );
    assert_eq!(
        use_token(&app, "alice", &token, "203.0.113.5", "agent-b").await,
        200
    );
    // Three wrong tokens from one IP: one aggregated entry counting 3.
    for _ in 0..3 {
        assert_eq!(
            use_token(&app, "alice", "wrong-token", "192.0.2.10", "x").await,
            401
        );
    }
    // Past the per-IP burst (5): throttled.
    let mut statuses = vec![];
    for _ in 0..8 {
        statuses.push(use_token(&app, "alice", "wrong-token", "192.0.2.20", "x").await);
    }
    assert!(statuses.contains(&429), "{statuses:?}");

    // Renamed, role and password changed by the administrator.
    let (status, body) = send(
        app.client
            .post(app.url(&format!(
                "/wp-json/wp/v2/users/{}/application-passwords/{uuid}",
                alice.id
            )))
            .basic_auth("boss", Some(&admin_token))
            .json(&json!({ "name": "ci-renamed" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = send(
        app.client
            .post(app.url(&format!("/wp-json/wp/v2/users/{}", alice.id)))
            .basic_auth("boss", Some(&admin_token))
            .json(&json!({ "roles": ["editor"], "password": "new-pass-alice" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // wp-login.php: a success and two failures.
    assert_eq!(
        login_post(&app, "192.0.2.30", "alice", "new-pass-alice").await,
        303
    );
    assert_eq!(login_post(&app, "192.0.2.31", "alice", "nope").await, 200);
    assert_eq!(login_post(&app, "192.0.2.31", "alice", "nope").await, 200);

    // Revoked one by one, then all (a second token, made by the CLI).
    let (status, _) = send(
        app.client
            .delete(app.url(&format!(
                "/wp-json/wp/v2/users/{}/application-passwords/{uuid}",
                alice.id
            )))
            .basic_auth("boss", Some(&admin_token)),
    )
    .await;
    assert_eq!(status, 200);
    let out = app.cli(&[
        "user",
        "application-password",
        "create",
        "alice",
        "cli-made",
        "--porcelain",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (status, _) = send(
        app.client
            .delete(app.url(&format!(
                "/wp-json/wp/v2/users/{}/application-passwords",
                alice.id
            )))
            .basic_auth("boss", Some(&admin_token)),
    )
    .await;
    assert_eq!(status, 200);

    let list = wait_for(&app, "boss", &admin_token, "batched events", |l| {
        count(l, "auth.failed") >= 8
            && !of(l, "auth.throttled").is_empty()
            && count(l, "login.failed") == 2
            && of(l, "token.new_ip").len() >= 2
    })
    .await;

    let created: Vec<_> = of(&list, "token.created")
        .into_iter()
        .filter(|e| e["user"] == alice.id)
        .collect();
    assert_eq!(created.len(), 2, "{list:#?}");
    // Newest first: the CLI's (actor 0), then the administrator's.
    assert_eq!(created[1]["actor"], admin.id);
    assert_eq!(created[1]["token"], uuid);
    assert_eq!(created[0]["actor"], 0);

    let new_ip = of(&list, "token.new_ip");
    let networks: Vec<&str> = new_ip
        .iter()
        .filter(|e| e["token"] == uuid)
        .map(|e| e["data"]["network"].as_str().expect("network"))
        .collect();
    assert_eq!(networks.len(), 2, "{new_ip:#?}");
    assert!(networks.contains(&"198.51.100.0/24"));
    assert!(networks.contains(&"203.0.113.0/24"));
    let agents: Vec<&str> = of(&list, "token.new_user_agent")
        .iter()
        .filter(|e| e["token"] == uuid)
        .map(|e| e["data"]["user_agent"].as_str().expect("ua"))
        .collect();
    assert_eq!(agents.len(), 2, "{agents:?}");

    let failed = of(&list, "auth.failed");
    let from_10: i64 = failed
        .iter()
        .filter(|e| e["ip"] == "192.0.2.10")
        .map(|e| e["data"]["count"].as_i64().expect("count"))
        .sum();
    assert_eq!(from_10, 3, "{failed:#?}");
    assert!(failed.iter().all(|e| e["user"] == alice.id));
    let throttled: i64 = of(&list, "auth.throttled")
        .iter()
        .map(|e| e["data"]["count"].as_i64().expect("count"))
        .sum();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert!(throttled >= 1 && throttled <= i64::try_from(refused).expect("n"));

    let renamed = of(&list, "token.renamed");
    assert_eq!(
        renamed[0]["data"],
        json!({ "from": "ci", "to": "ci-renamed" })
    );
    assert_eq!(renamed[0]["actor"], admin.id);
    let roles = of(&list, "user.role_changed");
    assert_eq!(roles[0]["user"], alice.id);
    assert_eq!(roles[0]["actor"], admin.id);
    assert_eq!(
        roles[0]["data"],
        json!({ "from": ["author"], "to": ["editor"] })
    );
    assert_eq!(of(&list, "user.password_changed")[0]["user"], alice.id);
    let login_ok = of(&list, "login.succeeded");
    assert_eq!(login_ok[0]["user"], alice.id);
    assert_eq!(login_ok[0]["ip"], "192.0.2.30");
    // Counted per minute; a minute's count may be split over two flushes.
    assert_eq!(count(&list, "login.failed"), 2);
    let revoked = of(&list, "token.revoked");
    assert_eq!(revoked[0]["token"], uuid);
    assert_eq!(revoked[0]["actor"], admin.id);
    assert_eq!(revoked[0]["data"]["name"], "ci-renamed");
    let all = of(&list, "token.revoked_all");
    assert_eq!(all[0]["user"], alice.id);
    assert_eq!(all[0]["data"]["count"], 1);

    // The chain verifies; the CLI lists the same entries.
    let out = app.cli(&["audit", "verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("verifies"), "{}", stdout(&out));
    let out = app.cli(&["audit", "list", "--format=json", "--limit=1000"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed: Value = serde_json::from_str(&stdout(&out)).expect("json");
    let total = entries(&app, "boss", &admin_token, "").await.len();
    assert_eq!(listed.as_array().expect("array").len(), total);
    let out = app.cli(&["audit", "list", "--format=csv", "--event=token.revoked"]);
    let csv = stdout(&out);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("id,date_gmt,event,user,actor,token,ip,data")
    );
    assert!(lines.next().expect("a row").contains(&uuid), "{csv}");
    let out = app.cli(&[
        "audit",
        "list",
        "--format=table",
        "--user_id",
        &alice.id.to_string(),
    ]);
    assert!(
        stdout(&out).contains("user.role_changed"),
        "{}",
        stdout(&out)
    );

    // Someone with database access rewrites who revoked the token: `verify` names the row.
    let id = revoked[0]["id"].as_i64().expect("id");
    tamper(
        &app.storage,
        &format!("UPDATE audit_log SET actor_id = 0 WHERE id = {id}"),
    )
    .await;
    let out = app.cli(&["audit", "verify"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&format!("entry {id}")),
        "{}",
        stderr(&out)
    );
    // Deleting a row instead is caught as well (at the row after it).
    tamper(
        &app.storage,
        &format!(
            "UPDATE audit_log SET actor_id = {} WHERE id = {id}",
            admin.id
        ),
    )
    .await;
    assert!(app.cli(&["audit", "verify"]).status.success());
    tamper(
        &app.storage,
        &format!("DELETE FROM audit_log WHERE id = {}", id - 1),
    )
    .await;
    let out = app.cli(&["audit", "verify"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&format!("entry {id}")),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn rest_filters_pagination_and_permissions() {
    let app = TestApp::spawn().await;
    let (_, admin_token) = app.user_with_token("boss", Role::Administrator).await;
    let (alice, alice_token) = app.user_with_token("alice", Role::Author).await;
    let (bob, _) = app.user_with_token("bob", Role::Author).await;
    for name in ["one", "two", "three"] {
        app.create_token(alice.id, name).await;
    }

    // Anonymous: 401; a user reading another's entries: 403; WordPress envelopes.
    let (status, body) = app.get_json("/wp-json/ferropress/v1/audit").await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "rest_forbidden");
    assert_eq!(body["data"]["status"], 401);
    let (status, body) = send(
        app.client
            .get(app.url(&format!("/wp-json/ferropress/v1/audit?user={}", bob.id)))
            .basic_auth("alice", Some(&alice_token)),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "rest_forbidden");

    // A user sees their own entries only (the four tokens made for alice).
    let own = entries(&app, "alice", &alice_token, "").await;
    assert!(own.iter().all(|e| e["user"] == alice.id), "{own:#?}");
    assert_eq!(of(&own, "token.created").len(), 4);
    // The administrator sees everybody's.
    let all = entries(&app, "boss", &admin_token, "").await;
    assert!(all.iter().any(|e| e["user"] == bob.id));

    // Filters and pagination.
    let resp = app
        .client
        .get(app.url(&format!(
            "/wp-json/ferropress/v1/audit?user={}&event=token.created&per_page=3",
            alice.id
        )))
        .basic_auth("boss", Some(&admin_token))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.headers()["x-wp-total"], "4");
    assert_eq!(resp.headers()["x-wp-totalpages"], "2");
    assert!(
        resp.headers()["link"]
            .to_str()
            .expect("link")
            .contains("rel=\"next\"")
    );
    let (_, first) = json_of(resp).await;
    assert_eq!(first.as_array().expect("array").len(), 3);
    let (status, second) = send(
        app.client
            .get(app.url(&format!(
                "/wp-json/ferropress/v1/audit?user={}&event=token.created&per_page=3&page=2",
                alice.id
            )))
            .basic_auth("boss", Some(&admin_token)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(second.as_array().expect("array").len(), 1);
    assert_eq!(second[0]["data"]["name"], "tests");
    let (status, body) = send(
        app.client
            .get(app.url("/wp-json/ferropress/v1/audit?event=token.created&per_page=3&page=9"))
            .basic_auth("boss", Some(&admin_token)),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "rest_invalid_page_number");
    for bad in [
        "per_page=0",
        "per_page=101",
        "event=nope",
        "since=yesterday",
        "user=x",
    ] {
        let (status, body) = send(
            app.client
                .get(app.url(&format!("/wp-json/ferropress/v1/audit?{bad}")))
                .basic_auth("boss", Some(&admin_token)),
        )
        .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["code"], "rest_invalid_param", "{bad}");
    }
    let future = entries(&app, "boss", &admin_token, "&since=2999-01-01T00:00:00").await;
    assert!(future.is_empty());
    let past = entries(&app, "boss", &admin_token, "&before=2000-01-01T00:00:00Z").await;
    assert!(past.is_empty());
    let now = entries(&app, "boss", &admin_token, "&since=2000-01-01T00:00:00Z").await;
    assert_eq!(now.len(), all.len());
}

#[tokio::test]
async fn retention_keeps_an_anchor_and_concurrent_writers_never_fork_the_chain() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice", Role::Author).await;
    for i in 0..5 {
        app.create_token(alice.id, &format!("old-{i}")).await;
    }
    // Everything so far is older than the cut: pruned, the anchor keeps the last hash.
    let cut = ferropress::site::now() + 1;
    let pruned = app.site.store.prune_audit(cut).await.expect("prune");
    assert_eq!(pruned, 5);
    let anchor = app.site.store.audit_anchor().await.expect("anchor");
    assert_eq!(anchor.as_ref().map(|a| a.0), Some(5));

    // Writers at once: this server's tasks and CLI processes on the same database.
    let mut tasks = vec![];
    for i in 0..10 {
        let site = app.site.clone();
        let id = alice.id;
        tasks.push(tokio::spawn(async move {
            ferropress::application_passwords::create(
                &site,
                id,
                &format!("new-{i}"),
                None,
                Default::default(),
            )
            .await
            .expect("token")
        }));
    }
    let storage = app.storage.clone();
    let cli = tokio::task::spawn_blocking(move || {
        (0..3)
            .map(|i| {
                cli_with(
                    &storage,
                    &[
                        "user",
                        "application-password",
                        "create",
                        "alice",
                        &format!("cli-{i}"),
                    ],
                )
            })
            .collect::<Vec<_>>()
    });
    for t in tasks {
        t.await.expect("task");
    }
    for out in cli.await.expect("cli") {
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let out = app.cli(&["audit", "verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("(13 entries)"), "{}", stdout(&out));
    let kept = app.site.store.audit_chain(0, 100).await.expect("chain");
    assert_eq!(kept.first().map(|e| e.id), Some(6));
    assert_eq!(kept.last().map(|e| e.id), Some(18));

    // The anchor is part of what is checked: a kept row no longer follows it.
    tamper(&app.storage, "UPDATE audit_anchor SET hash = 'x'").await;
    let out = app.cli(&["audit", "verify"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("entry 6"), "{}", stderr(&out));
}

#[tokio::test]
async fn the_profile_and_user_edit_screens_show_the_activity_table() {
    let app = TestApp::spawn().await;
    let (admin, admin_token) = app.user_with_token("boss", Role::Administrator).await;
    let alice = app.create_user("alice", Role::Author).await;
    let (status, _) = send(
        app.client
            .post(app.url(&format!(
                "/wp-json/wp/v2/users/{}/application-passwords",
                alice.id
            )))
            .basic_auth("boss", Some(&admin_token))
            .json(&json!({ "name": "made-by-boss" })),
    )
    .await;
    assert_eq!(status, 201);
    let browser = || {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    };
    let page = |client: reqwest::Client, path: String| {
        let url = app.url(&path);
        async move {
            let resp = client.get(url).send().await.expect("send");
            assert_eq!(resp.status(), 200);
            resp.text().await.expect("body")
        }
    };

    // The administrator, on alice's user-edit screen: her entries, and who made them.
    let boss = browser();
    let resp = boss
        .post(app.url("/wp-login.php"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[("log", "boss"), ("pwd", "pass-boss")]))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 303);
    let html = page(
        boss.clone(),
        format!("/wp-admin/user-edit.php?user_id={}", alice.id),
    )
    .await;
    assert!(html.contains("id=\"activity-log\""), "{html}");
    assert!(html.contains("<tr data-event=\"token.created\">"), "{html}");
    assert!(
        html.contains("<td class=\"column-by\" data-colname=\"By\">boss</td>"),
        "{html}"
    );
    assert!(html.contains("made-by-boss"), "{html}");
    assert!(
        !html.contains("login.succeeded"),
        "boss's own login is not alice's activity"
    );
    // His own profile shows his login.
    let html = page(boss, "/wp-admin/profile.php".into()).await;
    assert!(
        html.contains("<tr data-event=\"login.succeeded\">"),
        "{html}"
    );
    assert_eq!(admin.login, "boss");

    // Alice sees her own activity on her profile.
    let me = browser();
    me.post(app.url("/wp-login.php"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[("log", "alice"), ("pwd", "pass-alice")]))
        .send()
        .await
        .expect("send");
    let html = page(me, "/wp-admin/profile.php".into()).await;
    assert!(html.contains("<tr data-event=\"token.created\">"), "{html}");
    assert!(
        html.contains("<tr data-event=\"login.succeeded\">"),
        "{html}"
    );
}

#[tokio::test]
async fn known_networks_and_user_agents_add_nothing_to_the_log() {
    let app = TestApp::spawn_with(trusting_local_proxy).await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;
    assert_eq!(
        use_token(&app, "alice", &token, "198.51.100.7", "agent").await,
        200
    );
    // Reading the log is itself a use, from 127.0.0.1 with the test client's agent: two
    // networks and two agents in all.
    let settled = wait_for(&app, "alice", &token, "the first uses", |l| {
        of(l, "token.new_ip").len() == 2 && of(l, "token.new_user_agent").len() == 2
    })
    .await;
    for i in 0..50 {
        let ip = format!("198.51.100.{}", i + 1);
        assert_eq!(use_token(&app, "alice", &token, &ip, "agent").await, 200);
    }
    // Two flushes later, nothing was added.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let after = entries(&app, "alice", &token, "").await;
    assert_eq!(after.len(), settled.len(), "{after:#?}");
    // A new network is one entry more.
    assert_eq!(
        use_token(&app, "alice", &token, "192.0.2.1", "agent").await,
        200
    );
    wait_for(&app, "alice", &token, "the new network", |l| {
        l.len() == settled.len() + 1 && l[0]["data"]["network"] == "192.0.2.0/24"
    })
    .await;
}

#[tokio::test]
async fn audit_retention_prunes_at_start_and_the_rest_still_verifies() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice", Role::Author).await;
    for i in 0..3 {
        app.create_token(alice.id, &format!("old-{i}")).await;
    }
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let storage = app.storage.clone();
    let dir = app.stop().await;
    // --audit-retention 1s: the first prune runs as the server starts.
    let app = TestApp::spawn_at(dir, storage, |a| {
        a.audit_retention = Some(Duration::from_secs(1));
    })
    .await;
    let mut anchor = None;
    for _ in 0..50 {
        anchor = app.site.store.audit_anchor().await.expect("anchor");
        if anchor.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(anchor.map(|a| a.0), Some(3));
    app.create_token(alice.id, "new").await;
    let kept = app.site.store.audit_chain(0, 10).await.expect("chain");
    assert_eq!(kept.iter().map(|e| e.id).collect::<Vec<_>>(), vec![4]);
    let out = app.cli(&["audit", "verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("(1 entry)"), "{}", stdout(&out));
}

/// `token.expiring`: once per token, 7 days ahead, and once more when its expiry is moved.
#[tokio::test]
async fn tokens_expiring_within_a_week_are_announced_once() {
    let app = TestApp::spawn_with(trusting_local_proxy).await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;
    let create = |name: &'static str, expires: &'static str| {
        let req = app
            .client
            .post(app.url("/wp-json/wp/v2/users/me/application-passwords"))
            .basic_auth("alice", Some(&token))
            .json(&json!({ "name": name, "expires": expires }));
        async move {
            let (status, body) = send(req).await;
            assert_eq!(status, 201, "{body}");
            body["uuid"].as_str().expect("uuid").to_owned()
        }
    };
    let soon = create("soon", "3d").await;
    let later = create("later", "30d").await;
    let expiring = |l: &[Value], uuid: &str| {
        of(l, "token.expiring")
            .into_iter()
            .filter(|e| e["token"] == uuid)
            .count()
    };
    wait_for(&app, "alice", &token, "the warning", |l| {
        expiring(l, &soon) == 1
    })
    .await;
    // Later flushes add nothing for it, and nothing for the token a month away.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let list = entries(&app, "alice", &token, "").await;
    assert_eq!(expiring(&list, &soon), 1, "{list:#?}");
    assert_eq!(expiring(&list, &later), 0, "{list:#?}");
    // A new expiry within the week is announced again.
    let (status, body) = send(
        app.client
            .post(app.url(&format!(
                "/wp-json/wp/v2/users/me/application-passwords/{soon}"
            )))
            .basic_auth("alice", Some(&token))
            .json(&json!({ "expires": "5d" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    wait_for(&app, "alice", &token, "the second warning", |l| {
        expiring(l, &soon) == 2
    })
    .await;
}
