//! `/wp/v2/settings`: what compat scenarios cannot show — a change takes effect at once on
//! the index, on post dates (through the read cache), on new posts, and on another
//! instance sharing the PostgreSQL database.

use ferropress::caps::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn call(
    app: &TestApp,
    who: Option<(&str, &str)>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app
        .client
        .request(method, app.url(&format!("/wp-json{path}")));
    if let Some((login, token)) = who {
        req = req.basic_auth(login, Some(token));
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    send(req).await
}

#[tokio::test]
async fn only_administrators_read_and_write_settings() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.user_with_token("boss", Role::Administrator).await;
    let (_, editor) = app.user_with_token("ed", Role::Editor).await;

    let (status, body) = call(&app, None, Method::GET, "/wp/v2/settings", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("rest_forbidden"))
    );
    let (status, body) = call(
        &app,
        Some(("ed", &editor)),
        Method::POST,
        "/wp/v2/settings",
        Some(json!({"title": "x"})),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("rest_forbidden"))
    );
    // Validation comes before the permission check, as in WordPress.
    let (status, body) = call(
        &app,
        Some(("ed", &editor)),
        Method::POST,
        "/wp/v2/settings",
        Some(json!({"email": "nope"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["data"]["details"]["email"]["code"],
        "rest_invalid_email"
    );

    let (status, body) = call(
        &app,
        Some(("boss", &admin)),
        Method::GET,
        "/wp/v2/settings",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The values a new WordPress site has (migration 0009), under WordPress's types.
    assert_eq!(body["title"], "ferropress");
    assert_eq!(body["date_format"], "F j, Y");
    assert_eq!(body["posts_per_page"], 10);
    assert_eq!(body["use_smilies"], true);
    assert_eq!(body["default_category"], 1);
    assert_eq!(body["language"], "en_US");
    assert_eq!(body["site_logo"], Value::Null);
    assert_eq!(body["url"], app.base);
    // Until it is written, `email` is the first administrator's (WordPress's installer's).
    let first_admin = app
        .site
        .store
        .query_users(&ferropress::store::UserQuery {
            role_sets: vec![vec![Role::Administrator]],
            orderby: ferropress::store::UserOrderBy::Id,
            ascending: true,
            limit: 1,
            ..Default::default()
        })
        .await
        .expect("users")
        .0
        .remove(0);
    assert_eq!(body["email"], first_admin.email);
    let (_, body) = call(
        &app,
        Some(("boss", &admin)),
        Method::POST,
        "/wp/v2/settings",
        Some(json!({"email": "site@example.org"})),
    )
    .await;
    assert_eq!(body["email"], "site@example.org");
    // Stored under WordPress's option names, for tools that read options.
    let (_, body) = call(
        &app,
        Some(("boss", &admin)),
        Method::POST,
        "/wp/v2/settings",
        Some(json!({"title": "A <b>&</b> B", "posts_per_page": 0, "timezone": "Nowhere/Else"})),
    )
    .await;
    assert_eq!(body["title"], "A &lt;b&gt;&amp;&lt;/b&gt; B");
    assert_eq!(body["posts_per_page"], 1);
    assert_eq!(body["timezone"], "", "an unknown zone keeps the old value");
    let store = &app.site.store;
    assert_eq!(
        store
            .get_option("blogname")
            .await
            .expect("option")
            .as_deref(),
        Some("A &lt;b&gt;&amp;&lt;/b&gt; B")
    );
    assert_eq!(
        store
            .get_option("posts_per_page")
            .await
            .expect("option")
            .as_deref(),
        Some("1")
    );
}

#[tokio::test]
async fn a_change_shows_at_once_in_the_index_and_in_dates_even_through_the_read_cache() {
    let app = TestApp::spawn().await;
    assert!(
        app.site.config.read_cache,
        "the read cache is on in this test"
    );
    let (_, admin) = app.user_with_token("boss", Role::Administrator).await;
    let who = Some(("boss", admin.as_str()));
    let (status, post) = call(
        &app,
        who,
        Method::POST,
        "/wp/v2/posts",
        Some(json!({"title": "dated", "status": "publish", "date_gmt": "2026-01-01T00:00:00"})),
    )
    .await;
    assert_eq!(status, 201, "{post}");
    assert_eq!(post["date"], "2026-01-01T00:00:00");
    let id = post["id"].as_i64().expect("id");

    // Read twice as anonymous so the answer is in the read cache.
    for _ in 0..2 {
        let (_, p) = app.get_json(&format!("/wp-json/wp/v2/posts/{id}")).await;
        assert_eq!(p["date"], "2026-01-01T00:00:00");
    }
    let (_, index) = app.get_json("/wp-json/").await;
    assert_eq!(index["name"], "ferropress");

    let (status, body) = call(
        &app,
        who,
        Method::POST,
        "/wp/v2/settings",
        Some(json!({"title": "Renamed", "description": "New tagline", "timezone": "Asia/Kolkata"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let (_, p) = app.get_json(&format!("/wp-json/wp/v2/posts/{id}")).await;
    assert_eq!(p["date"], "2026-01-01T05:30:00", "no stale cached answer");
    assert_eq!(p["date_gmt"], "2026-01-01T00:00:00");
    let (_, index) = app.get_json("/wp-json/").await;
    assert_eq!(index["name"], "Renamed");
    assert_eq!(index["description"], "New tagline");
    assert_eq!(index["timezone_string"], "Asia/Kolkata");
    assert_eq!(index["gmt_offset"], json!(5.5));

    // The front-page settings show in the index too (fields of newer WordPress).
    let (status, _) = call(
        &app,
        who,
        Method::POST,
        "/wp/v2/settings",
        Some(json!({"show_on_front": "page", "page_on_front": id, "page_for_posts": 0})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, index) = app.get_json("/wp-json/").await;
    assert_eq!(
        (&index["show_on_front"], &index["page_on_front"]),
        (&json!("page"), &json!(id))
    );

    // A local date given now is read in the new zone.
    let (_, p) = call(
        &app,
        who,
        Method::POST,
        &format!("/wp/v2/posts/{id}"),
        Some(json!({"date": "2026-06-01T12:00:00"})),
    )
    .await;
    assert_eq!(p["date_gmt"], "2026-06-01T06:30:00");
}

#[tokio::test]
async fn new_posts_take_the_default_category_and_statuses() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.user_with_token("boss", Role::Administrator).await;
    let who = Some(("boss", admin.as_str()));
    let (_, cat) = call(
        &app,
        who,
        Method::POST,
        "/wp/v2/categories",
        Some(json!({"name": "News"})),
    )
    .await;
    let cat_id = cat["id"].as_i64().expect("id");
    let (status, body) = call(
        &app,
        who,
        Method::POST,
        "/wp/v2/settings",
        Some(json!({"default_category": cat_id, "default_comment_status": "closed", "default_ping_status": "closed"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["default_category"], cat_id);

    let (_, post) = call(
        &app,
        who,
        Method::POST,
        "/wp/v2/posts",
        Some(json!({"title": "t"})),
    )
    .await;
    assert_eq!(post["categories"], json!([cat_id]));
    assert_eq!(post["comment_status"], "closed");
    assert_eq!(post["ping_status"], "closed");
    // Pages stay closed whatever the setting.
    let (_, page) = call(
        &app,
        who,
        Method::POST,
        "/wp/v2/pages",
        Some(json!({"title": "p"})),
    )
    .await;
    assert_eq!(page["comment_status"], "closed");

    // The default category cannot be deleted; the old one now can.
    let (status, body) = call(
        &app,
        who,
        Method::DELETE,
        &format!("/wp/v2/categories/{cat_id}?force=true"),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("rest_cannot_delete"))
    );
    let (status, _) = call(
        &app,
        who,
        Method::DELETE,
        "/wp/v2/categories/1?force=true",
        None,
    )
    .await;
    assert_eq!(status, 200);

    // `null` deletes the option: WordPress's default (1) applies again.
    let (status, body) = call(
        &app,
        who,
        Method::POST,
        "/wp/v2/settings",
        Some(json!({"default_category": null})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["default_category"], Value::Null);
    assert_eq!(
        app.site
            .store
            .get_option("default_category")
            .await
            .expect("option"),
        None
    );
}

#[tokio::test]
#[ignore = "PostgreSQL only: run by postgres::pass"]
async fn two_instances_on_one_postgres_see_a_settings_change_at_once() {
    let url = fresh_database_url();
    let a = TestApp::spawn_on(&url, |_| {}).await;
    let b = TestApp::spawn_on(&url, |_| {}).await;
    let (_, admin) = a.user_with_token("boss", Role::Administrator).await;
    let who = Some(("boss", admin.as_str()));
    let (_, post) = call(
        &b,
        who,
        Method::POST,
        "/wp/v2/posts",
        Some(json!({"title": "shared", "status": "publish", "date_gmt": "2026-01-01T00:00:00"})),
    )
    .await;
    let id = post["id"].as_i64().expect("id");
    // B has answered once already (and would have cached, were it allowed to).
    let (_, before) = b.get_json("/wp-json/").await;
    assert_eq!(before["name"], "ferropress");

    let (status, _) = call(
        &a,
        who,
        Method::POST,
        "/wp/v2/settings",
        Some(json!({"title": "Shared title", "timezone": "Europe/Paris"})),
    )
    .await;
    assert_eq!(status, 200);

    let (_, index) = b.get_json("/wp-json/").await;
    assert_eq!(index["name"], "Shared title");
    assert_eq!(index["timezone_string"], "Europe/Paris");
    let (_, p) = b.get_json(&format!("/wp-json/wp/v2/posts/{id}")).await;
    assert_eq!(p["date"], "2026-01-01T01:00:00");
    let (_, settings) = call(&b, who, Method::GET, "/wp/v2/settings", None).await;
    assert_eq!(settings["title"], "Shared title");
}

#[tokio::test]
async fn the_site_icon_setting_gives_the_index_its_url() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.user_with_token("boss", Role::Administrator).await;
    let png = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/fixtures/photo.png"),
    )
    .expect("fixture");
    let (status, media) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/media"))
            .basic_auth("boss", Some(&admin))
            .header("content-type", "image/png")
            .header("content-disposition", "attachment; filename=\"icon.png\"")
            .body(png),
    )
    .await;
    assert_eq!(status, 201, "{media}");
    let (_, index) = app.get_json("/wp-json/").await;
    assert_eq!(
        (&index["site_icon"], &index["site_icon_url"]),
        (&json!(0), &json!(""))
    );
    let (status, _) = call(
        &app,
        Some(("boss", &admin)),
        Method::POST,
        "/wp/v2/settings",
        Some(json!({"site_icon": media["id"]})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, index) = app.get_json("/wp-json/").await;
    assert_eq!(index["site_icon"], media["id"]);
    assert_eq!(index["site_icon_url"], media["source_url"]);
}
