//! `POST /batch/v1`: authentication once, permissions per sub-request, the validation
//! modes, and what really got written.

use ferropress::caps::Role;
use serde_json::{Value, json};

use crate::helpers::*;

async fn batch(app: &TestApp, who: Option<(&str, &str)>, body: Value) -> (u16, Value) {
    let mut req = app.client.post(app.url("/wp-json/batch/v1")).json(&body);
    if let Some((login, token)) = who {
        req = req.basic_auth(login, Some(token));
    }
    send(req).await
}

async fn post_exists(app: &TestApp, id: i64) -> bool {
    app.site
        .store
        .post_by_id(id)
        .await
        .expect("read")
        .is_some_and(|p| p.status != "trash")
}

#[tokio::test]
async fn each_sub_request_is_checked_for_its_own_permission() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.user_with_token("boss", Role::Administrator).await;
    let (_, author) = app.user_with_token("writer", Role::Author).await;
    let (_, theirs) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/posts"))
            .basic_auth("boss", Some(&admin))
            .json(&json!({"title": "the admin's", "status": "publish"})),
    )
    .await;
    let theirs = theirs["id"].as_i64().expect("id");

    let (status, body) = batch(
        &app,
        Some(("writer", &author)),
        json!({"requests": [
            {"path": "/wp/v2/posts", "body": {"title": "mine", "status": "publish"}},
            {"method": "DELETE", "path": format!("/wp/v2/posts/{theirs}")},
            {"method": "PUT", "path": format!("/wp/v2/posts/{theirs}"), "body": {"title": "hijacked"}},
            {"path": "/wp/v2/categories", "body": {"name": "not mine to make"}},
            // Authors may create tags (`edit_post_tags` maps to `edit_posts`).
            {"path": "/wp/v2/tags", "body": {"name": "but this"}},
        ]}),
    )
    .await;
    assert_eq!(status, 207, "{body}");
    let r = &body["responses"];
    assert_eq!(r[0]["status"], 201, "{body}");
    assert_eq!(r[0]["body"]["title"]["raw"], "mine");
    assert!(r[0]["headers"]["Location"].is_string());
    assert_eq!(r[0]["headers"]["Allow"], "GET, POST");
    for (i, code) in [
        (1, "rest_cannot_delete"),
        (2, "rest_cannot_edit"),
        (3, "rest_cannot_create"),
    ] {
        assert_eq!(
            (r[i]["status"].as_u64(), r[i]["body"]["code"].as_str()),
            (Some(403), Some(code)),
            "{i}: {body}"
        );
    }
    assert_eq!(r[4]["status"], 201, "{body}");
    let mine = r[0]["body"]["id"].as_i64().expect("id");
    assert!(post_exists(&app, mine).await);
    assert!(
        post_exists(&app, theirs).await,
        "the refused delete did nothing"
    );
    let stored = app
        .site
        .store
        .post_by_id(theirs)
        .await
        .expect("read")
        .expect("post");
    assert_eq!(stored.title, "the admin's");

    // Anonymous: the batch itself is allowed; each write is refused with 401.
    let (status, body) = batch(
        &app,
        None,
        json!({"requests": [{"path": "/wp/v2/posts", "body": {"title": "anon"}}]}),
    )
    .await;
    assert_eq!(status, 207);
    assert_eq!(body["responses"][0]["status"], 401);
    assert_eq!(body["responses"][0]["body"]["code"], "rest_cannot_create");
}

#[tokio::test]
async fn authentication_happens_once_for_the_whole_batch() {
    let app = TestApp::spawn().await;
    app.user_with_token("boss", Role::Administrator).await;
    let (status, body) = batch(
        &app,
        Some(("boss", "wrong wrong wrong wrong wrong wrong")),
        json!({"requests": [{"path": "/wp/v2/posts", "body": {"title": "x"}}]}),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "incorrect_password");
    // A sub-request cannot bring credentials of its own.
    let (_, other) = app.user_with_token("other", Role::Administrator).await;
    let (status, body) = batch(
        &app,
        None,
        json!({"requests": [{"path": "/wp/v2/posts", "body": {"title": "x"},
            "headers": {"Authorization": format!("Basic {}", base64_of(&format!("other:{other}")))}}]}),
    )
    .await;
    assert_eq!(status, 207);
    assert_eq!(body["responses"][0]["status"], 401, "{body}");
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test]
async fn require_all_validate_runs_nothing_when_one_request_is_invalid() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.user_with_token("boss", Role::Administrator).await;
    let who = Some(("boss", admin.as_str()));
    let requests = json!([
        {"path": "/wp/v2/posts", "body": {"title": "never written", "status": "publish"}},
        {"path": "/wp/v2/posts", "body": {"status": "bogus"}},
        {"path": "/wp/v2/media"},
    ]);
    let (status, body) = batch(
        &app,
        who,
        json!({"validation": "require-all-validate", "requests": requests}),
    )
    .await;
    assert_eq!(status, 207, "{body}");
    assert_eq!(body["failed"], "validation");
    assert_eq!(body["responses"][0], Value::Null);
    assert_eq!(body["responses"][1]["body"]["code"], "rest_invalid_param");
    assert_eq!(
        body["responses"][2]["body"]["code"],
        "rest_batch_not_allowed"
    );
    let (_, found) = app.get_json("/wp-json/wp/v2/posts?search=never").await;
    assert_eq!(found, json!([]), "the valid request was not run");

    // In the normal mode the valid one runs and the others fail alone.
    let (_, body) = batch(&app, who, json!({"requests": requests})).await;
    let statuses: Vec<u64> = body["responses"]
        .as_array()
        .expect("responses")
        .iter()
        .map(|r| r["status"].as_u64().expect("status"))
        .collect();
    assert_eq!(statuses, [201, 400, 400]);
    let (_, found) = app.get_json("/wp-json/wp/v2/posts?search=never").await;
    assert_eq!(found.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn batch_size_and_paths_are_bounded_as_wordpress_bounds_them() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.user_with_token("boss", Role::Administrator).await;
    let who = Some(("boss", admin.as_str()));
    let many: Vec<Value> = (0..26)
        .map(|i| json!({"path": "/wp/v2/tags", "body": {"name": format!("t{i}")}}))
        .collect();
    let (status, body) = batch(&app, who, json!({"requests": many})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["data"]["details"]["requests"]["code"],
        "rest_too_many_items"
    );
    let (_, tags) = app.get_json("/wp-json/wp/v2/tags").await;
    assert_eq!(tags, json!([]), "nothing of a refused batch runs");

    // 25 is fine; a host in the path is ignored (`wp_parse_url()` keeps the path).
    let mut ok: Vec<Value> = (0..24)
        .map(|i| json!({"path": "/wp/v2/tags", "body": {"name": format!("t{i}")}}))
        .collect();
    ok.push(json!({"path": "http://elsewhere.example/wp/v2/tags?context=edit", "body": {"name": "via a URL"}}));
    let (status, body) = batch(&app, who, json!({"requests": ok})).await;
    assert_eq!(status, 207, "{body}");
    let r = body["responses"].as_array().expect("responses");
    assert_eq!(r.len(), 25);
    assert!(r.iter().all(|x| x["status"] == 201), "{body}");
    assert_eq!(r[24]["body"]["name"], "via a URL");
    // A batch inside a batch is not a batchable route.
    let (_, body) = batch(
        &app,
        who,
        json!({"requests": [{"path": "/batch/v1", "body": {"requests": []}}]}),
    )
    .await;
    assert_eq!(
        body["responses"][0]["body"]["code"],
        "rest_batch_not_allowed"
    );
}
