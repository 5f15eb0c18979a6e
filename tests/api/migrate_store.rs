//! `ferropress migrate-store --from sqlite:PATH --to postgres://…`, as a process
//! (PostgreSQL pass only: ignored in the SQLite pass, run by `postgres::pass`).

use ferropress::caps::Role;
use ferropress::config::StorageArgs;
use serde_json::{Value, json};

use crate::helpers::*;

async fn get(app: &TestApp, login: &str, token: &str, path: &str) -> (u16, Value) {
    send(
        app.client
            .get(app.url(&format!("/wp-json/wp/v2{path}")))
            .basic_auth(login, Some(token)),
    )
    .await
}

async fn post(app: &TestApp, login: &str, token: &str, body: Value) -> (u16, Value) {
    send(
        app.client
            .post(app.url("/wp-json/wp/v2/posts"))
            .basic_auth(login, Some(token))
            .json(&body),
    )
    .await
}

#[tokio::test]
#[ignore = "PostgreSQL only: run by postgres::pass"]
async fn copies_everything_from_sqlite_and_ids_continue() {
    let url = fresh_database_url();

    // A SQLite site with users, tokens (one used), posts, and a deleted newest post.
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = StorageArgs::sqlite(dir.path());
    let src = TestApp::spawn_at(
        tempfile::tempdir().expect("tempdir"),
        sqlite.clone(),
        |_| {},
    )
    .await;
    let (alice, token) = src.user_with_token("alice", Role::Author).await;
    let second = src.create_token(alice.id, "second").await;
    let (bob, bob_token) = src.user_with_token("bob", Role::Editor).await;
    assert_eq!(get(&src, "alice", &token, "/users/me").await.0, 200);
    let mut ids = vec![];
    for i in 0..7 {
        let (status, body) = post(
            &src,
            if i % 2 == 0 { "alice" } else { "bob" },
            if i % 2 == 0 { &token } else { &bob_token },
            json!({ "title": format!("Post {i}"), "content": "Body\n\nText", "status": "publish" }),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_i64().expect("id"));
    }
    let (status, comment) = send(
        src.client
            .post(src.url("/wp-json/wp/v2/comments"))
            .basic_auth("bob", Some(&bob_token))
            .json(&json!({ "post": ids[0], "content": "A comment" })),
    )
    .await;
    assert_eq!(status, 201, "{comment}");
    let (_, before) = get(&src, "alice", &token, "/users/me/application-passwords").await;
    src.stop().await;
    {
        use sqlx::Connection as _;
        let mut conn = sqlx::SqliteConnection::connect(&format!(
            "sqlite://{}",
            dir.path().join("ferropress.db").display()
        ))
        .await
        .expect("sqlite");
        sqlx::query("DELETE FROM post WHERE id = ?")
            .bind(ids[6])
            .execute(&mut conn)
            .await
            .expect("delete");
        conn.close().await.expect("close");
    }

    let from = format!("sqlite:{}", dir.path().display());
    let out = cli_with(&sqlite, &["migrate-store", "--from", &from, "--to", &url]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        // 5 options: the 4 seeded ones and `ferropress_fold_version` (search::FOLD_VERSION).
        stdout(&out).trim(),
        // 7 audit entries: 3 tokens created, and the first network and user agent of the two
        // tokens used (4 `application_password_seen` rows).
        "Success: Copied 3 user, 0 session_token, 3 application_password, 6 post, 0 postmeta, 1 comment, 1 term, 7 term_relationship, 18 option, 7 audit_log, 0 audit_anchor, 0 webhook_outbox, 4 application_password_seen, 0 import_map (row counts verified)."
    );
    // The copied audit chain still verifies.
    let pg = StorageArgs::sqlite(dir.path()).with_database_url(Some(&url));
    let verified = cli_with(&pg, &["audit", "verify"]);
    assert!(verified.status.success(), "{}", stderr(&verified));
    assert!(
        stdout(&verified).contains("(7 entries)"),
        "{}",
        stdout(&verified)
    );
    assert!(stderr(&out).contains("100%"), "progress: {}", stderr(&out));
    assert!(!stderr(&out).contains(&token), "no secret in the progress");

    // A copy into a database that has data is refused, and changes nothing.
    let again = cli_with(&sqlite, &["migrate-store", "--from", &from, "--to", &url]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("empty database only"),
        "{}",
        stderr(&again)
    );

    // Served from PostgreSQL: the same tokens (hashes copied), records, usage and posts.
    let pg = TestApp::spawn_on(&url, |_| {}).await;
    let (status, me) = get(&pg, "alice", &token, "/users/me").await;
    assert_eq!((status, me["id"].as_i64()), (200, Some(alice.id)));
    let (_, after) = get(&pg, "alice", &token, "/users/me/application-passwords").await;
    let strip = |v: &Value| {
        let mut v = v.clone();
        for item in v.as_array_mut().expect("array") {
            // The requests' own use moves alice's first token forward; links name the host.
            let item = item.as_object_mut().expect("object");
            item.remove("last_used");
            item.remove("_links");
        }
        v
    };
    assert_eq!(
        strip(&after),
        strip(&before),
        "same records, in the same order"
    );
    assert_eq!(after[0]["last_ip"], "127.0.0.1");
    assert_eq!(after[1]["last_ip"], Value::Null);
    assert_eq!(get(&pg, "alice", &second, "/users/me").await.0, 200);
    assert_eq!(
        get(&pg, "bob", &bob_token, "/users/me").await.1["id"],
        bob.id
    );
    let (_, listed) = send(pg.client.get(pg.url("/wp-json/wp/v2/posts?per_page=100"))).await;
    let listed: Vec<i64> = listed
        .as_array()
        .expect("array")
        .iter()
        .map(|p| p["id"].as_i64().expect("id"))
        .collect();
    let mut expected = ids[..6].to_vec();
    expected.reverse();
    assert_eq!(listed, expected, "ids kept");

    // New rows continue after the highest id SQLite ever gave, including the deleted one.
    let (status, body) = post(
        &pg,
        "alice",
        &token,
        json!({ "title": "New", "status": "draft" }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["id"].as_i64(), Some(ids[6] + 1));
    let carol = pg.create_user("carol", Role::Subscriber).await;
    assert_eq!(carol.id, bob.id + 1);
    let (_, comments) = send(
        pg.client
            .get(pg.url(&format!("/wp-json/wp/v2/comments?post={}", ids[0]))),
    )
    .await;
    assert_eq!(comments[0]["id"], comment["id"], "{comments}");
    let (status, next) = send(
        pg.client
            .post(pg.url("/wp-json/wp/v2/comments"))
            .basic_auth("bob", Some(&bob_token))
            .json(&json!({ "post": ids[0], "content": "Another" })),
    )
    .await;
    assert_eq!(status, 201, "{next}");
    assert_eq!(next["id"].as_i64(), comment["id"].as_i64().map(|i| i + 1));
}

#[test]
fn refuses_bad_sources_and_targets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = StorageArgs::sqlite(dir.path());
    let cases: &[&[&str]] = &[
        &[
            "migrate-store",
            "--from",
            "/nowhere",
            "--to",
            "postgres://x@127.0.0.1:1/x",
        ],
        &[
            "migrate-store",
            "--from",
            "sqlite:/nowhere/at/all",
            "--to",
            "postgres://x@127.0.0.1:1/x",
        ],
    ];
    for args in cases {
        let out = cli_with(&sqlite, args);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr(&out).starts_with("Error: "), "{}", stderr(&out));
    }
    // An existing data dir, but a target that is not PostgreSQL.
    assert!(cli_with(&sqlite, &["user", "list"]).status.success());
    let from = format!("sqlite:{}", dir.path().display());
    let out = cli_with(
        &sqlite,
        &["migrate-store", "--from", &from, "--to", "mysql://x/y"],
    );
    assert!(stderr(&out).contains("postgres://"), "{}", stderr(&out));
}
