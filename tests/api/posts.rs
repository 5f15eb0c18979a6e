//! Posts: creation by role, reading, listing and pagination.

use std::sync::atomic::Ordering;

use ferropress::caps::{AppPasswordGate, Role};
use serde_json::json;

use crate::helpers::*;

async fn create(
    app: &TestApp,
    login: &str,
    token: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    send(
        app.client
            .post(app.url("/wp-json/wp/v2/posts"))
            .basic_auth(login, Some(token))
            .json(&body),
    )
    .await
}

#[tokio::test]
async fn author_creates_a_draft_and_publishes() {
    let app = TestApp::spawn().await;
    let (alice, token) = app.user_with_token("alice", Role::Author).await;
    let resp = app
        .client
        .post(app.url("/wp-json/wp/v2/posts"))
        .basic_auth("alice", Some(chunked(&token)))
        .header("Content-Type", "application/json")
        .body(r#"{"title":"My Post","status":"draft"}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 201);
    let location = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let (_, body) = json_of(resp).await;
    assert_eq!(
        location,
        app.url(&format!("/wp-json/wp/v2/posts/{}", body["id"]))
    );
    assert_eq!(body["status"], "draft");
    assert_eq!(body["author"], alice.id);
    assert_eq!(body["title"], json!({"raw":"My Post","rendered":"My Post"}));
    assert_eq!(body["slug"], "");
    assert_eq!(body["generated_slug"], "my-post");

    let (status, body) = create(
        &app,
        "alice",
        &token,
        json!({"title":"Hello World","content":"One\n\nTwo","status":"publish"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "publish");
    assert_eq!(body["slug"], "hello-world");
    assert_eq!(body["content"]["rendered"], "<p>One</p>\n<p>Two</p>\n");
    let (_, again) = create(
        &app,
        "alice",
        &token,
        json!({"title":"Hello World","status":"publish"}),
    )
    .await;
    assert_eq!(again["slug"], "hello-world-2");

    // Anonymous readers see the published post but not the draft.
    let id = body["id"].as_i64().expect("id");
    let (status, read) = app.get_json(&format!("/wp-json/wp/v2/posts/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(read["title"], json!({"rendered":"Hello World"}));
    assert!(read.get("password").is_none());
}

#[tokio::test]
async fn contributor_cannot_publish() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("carl", Role::Contributor).await;
    let (status, body) = create(
        &app,
        "carl",
        &token,
        json!({"title":"x","status":"publish"}),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"code":"rest_cannot_publish","message":"Sorry, you are not allowed to publish posts in this post type.","data":{"status":403}})
    );
    let (status, body) = create(
        &app,
        "carl",
        &token,
        json!({"title":"x","status":"pending"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "pending");
}

#[tokio::test]
async fn subscriber_and_anonymous_cannot_create() {
    let app = TestApp::spawn_with(|a| a.application_passwords_for = AppPasswordGate::All).await;
    let (_, token) = app.user_with_token("sue", Role::Subscriber).await;
    let (status, body) = create(&app, "sue", &token, json!({"title":"x"})).await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "rest_cannot_create");
    assert_eq!(
        body["message"],
        "Sorry, you are not allowed to create posts as this user."
    );

    let (status, body) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/posts"))
            .json(&json!({"title":"x"})),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "rest_cannot_create");
}

#[tokio::test]
async fn validation_errors_come_before_permission_errors() {
    let app = TestApp::spawn().await;
    let (status, body) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/posts"))
            .json(&json!({"status":"bogus"})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "rest_invalid_param");
    assert_eq!(
        body["data"]["params"]["status"],
        "status is not one of publish, future, draft, pending, and private."
    );

    let (status, body) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/posts"))
            .header("Content-Type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "rest_invalid_json");
}

#[tokio::test]
async fn empty_post_is_refused() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;
    let (status, body) = create(&app, "alice", &token, json!({})).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "empty_content");
}

#[tokio::test]
async fn form_encoded_bodies_work() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;
    let resp = app
        .client
        .post(app.url("/wp-json/wp/v2/posts"))
        .basic_auth("alice", Some(&token))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("title=Form+Post&status=publish")
        .send()
        .await
        .expect("send");
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["slug"], "form-post");
}

#[tokio::test]
async fn drafts_are_private_to_their_readers() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;
    let (_, bob_token) = app.user_with_token("bob", Role::Author).await;
    let (_, draft) = create(&app, "alice", &token, json!({"title":"Secret"})).await;
    let id = draft["id"].as_i64().expect("id");
    let url = app.url(&format!("/wp-json/wp/v2/posts/{id}"));

    let (status, body) = send(app.client.get(&url)).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "rest_forbidden");
    let (status, body) = send(app.client.get(&url).basic_auth("bob", Some(&bob_token))).await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "rest_forbidden");
    let (status, _) = send(app.client.get(&url).basic_auth("alice", Some(&token))).await;
    assert_eq!(status, 200);

    let (status, body) = app.get_json("/wp-json/wp/v2/posts?status=draft").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["data"]["details"]["status"]["code"],
        "rest_forbidden_status"
    );
    assert_eq!(body["data"]["details"]["status"]["data"]["status"], 401);

    let (status, body) = app.get_json("/wp-json/wp/v2/posts/999999").await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "rest_post_invalid_id");
}

#[tokio::test]
async fn listing_paginates_with_wordpress_headers() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;
    for i in 0..5 {
        let (status, _) = create(
            &app,
            "alice",
            &token,
            json!({"title": format!("Post {i}"), "status":"publish"}),
        )
        .await;
        assert_eq!(status, 201);
    }
    let resp = app
        .client
        .get(app.url("/wp-json/wp/v2/posts?per_page=2&page=2"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["x-wp-total"], "5");
    assert_eq!(h["x-wp-totalpages"], "3");
    let link = h["link"].to_str().expect("link");
    assert!(link.contains("page=1>; rel=\"prev\""), "{link}");
    assert!(link.contains("page=3>; rel=\"next\""), "{link}");
    let items: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(items.as_array().expect("array").len(), 2);

    let (status, body) = app.get_json("/wp-json/wp/v2/posts?page=9").await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "rest_post_invalid_page_number");

    let (status, body) = app.get_json("/wp-json/wp/v2/posts?per_page=500").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["data"]["details"]["per_page"]["code"],
        "rest_out_of_bounds"
    );

    let (status, body) = app.get_json("/wp-json/wp/v2/posts?page=abc").await;
    assert_eq!(status, 400);
    assert_eq!(body["data"]["details"]["page"]["code"], "rest_invalid_type");
}

/// Reads may be served from memory (`ferropress::cache`), but never once anything changed:
/// each write, through the API or by another process on the same database file, shows in
/// the very next read.
/// An answer served again from the response cache is the one first computed, header for
/// header (`Allow`, pagination, CORS for the request's `Origin`, no-cache for a user, `Vary`),
/// for anonymous and token readers, with and without an `Origin`, `_fields` and `_envelope`.
#[tokio::test]
async fn cached_answers_are_the_answers_first_made() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;
    for i in 0..3 {
        let (status, _) = create(
            &app,
            "alice",
            &token,
            json!({"title": format!("Post {i}"), "status": "publish"}),
        )
        .await;
        assert_eq!(status, 201);
    }
    let (_, one) = app.get_json("/wp-json/wp/v2/posts?per_page=1").await;
    let id = one[0]["id"].as_i64().expect("id");
    let paths = [
        "/wp-json/wp/v2/posts?per_page=2&page=2".to_owned(),
        "/wp-json/wp/v2/posts?per_page=1&_fields=id,title".to_owned(),
        "/wp-json/wp/v2/posts?_envelope&per_page=1".to_owned(),
        format!("/wp-json/wp/v2/posts/{id}?context=edit"),
        format!("/wp-json/wp/v2/posts/{id}?_jsonp=cb"),
    ];
    let get = |path: &str, user: bool, origin: Option<&str>| {
        let mut req = app.client.get(app.url(path));
        if user {
            req = req.basic_auth("alice", Some(&token));
        }
        if let Some(o) = origin {
            req = req.header("Origin", o);
        }
        async move {
            let resp = req.send().await.expect("get");
            let mut headers: Vec<(String, String)> = resp
                .headers()
                .iter()
                .filter(|(k, _)| k.as_str() != "date")
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("?").to_owned()))
                .collect();
            headers.sort();
            (
                resp.status().as_u16(),
                headers,
                resp.text().await.expect("body"),
            )
        }
    };
    for path in &paths {
        for user in [false, true] {
            // The first request of each pair makes the answer (the cache has no entry for
            // it), whatever the `Origin`; the next ones are served from the cache.
            for first_origin in [None, Some("https://a.example")] {
                let made = get(path, user, first_origin).await;
                for origin in [None, Some("https://a.example"), Some("https://b.example")] {
                    let hits = || app.site.metrics.cache_hits.load(Ordering::Relaxed);
                    let before = hits();
                    let again = get(path, user, origin).await;
                    // Served from the cache (only 200s are kept: an anonymous edit context
                    // is refused, and made each time).
                    assert_eq!(hits() > before, again.0 == 200, "{path}: a hit iff a 200");
                    // A write (of an option nothing reads here) empties the cache: this
                    // one is made again.
                    app.site
                        .store
                        .set_option("fastb_test_marker", &format!("{path}{user}{origin:?}"))
                        .await
                        .expect("write");
                    let fresh = get(path, user, origin).await;
                    assert_eq!(again.0, fresh.0, "{path} user={user} origin={origin:?}");
                    assert_eq!(again.2, fresh.2, "{path} user={user} origin={origin:?}");
                    assert_eq!(again.1, fresh.1, "{path} user={user} origin={origin:?}");
                    if origin == first_origin {
                        assert_eq!(made.1, again.1, "{path} user={user} origin={origin:?}");
                    }
                    // `Vary: Origin` once, unless a user's answer without `Origin`.
                    let vary = again
                        .1
                        .iter()
                        .filter(|(k, v)| k == "vary" && v.contains("Origin"))
                        .count();
                    let varies = usize::from(!user || origin.is_some());
                    assert_eq!(
                        vary, varies,
                        "{path} user={user} origin={origin:?}: {:?}",
                        again.1
                    );
                    // An envelope carries the headers inside its body (an anonymous edit
                    // context is refused: no method to allow).
                    let allow = again.1.iter().any(|(k, _)| k == "allow");
                    if again.0 == 200 {
                        assert_eq!(allow, !path.contains("_envelope"), "{path}: {:?}", again.1);
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn repeated_reads_follow_every_write() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;
    let (_, first) = create(
        &app,
        "alice",
        &token,
        json!({"title": "First", "status": "publish"}),
    )
    .await;
    let id = first["id"].as_i64().expect("id");
    let list = |auth: bool| {
        let req = app.client.get(app.url("/wp-json/wp/v2/posts"));
        let req = if auth {
            req.basic_auth("alice", Some(&token))
        } else {
            req
        };
        async move {
            let resp = req.send().await.expect("list");
            let total = resp.headers()["x-wp-total"]
                .to_str()
                .expect("total")
                .to_owned();
            let (_, body) = json_of(resp).await;
            let titles: Vec<String> = body
                .as_array()
                .expect("array")
                .iter()
                .map(|p| p["title"]["rendered"].as_str().unwrap_or("").to_owned())
                .collect();
            (total, titles)
        }
    };
    for auth in [false, true, false, true] {
        assert_eq!(list(auth).await, ("1".to_owned(), vec!["First".to_owned()]));
    }

    // An update through the API.
    let (status, _) = send(
        app.client
            .post(app.url(&format!("/wp-json/wp/v2/posts/{id}")))
            .basic_auth("alice", Some(&token))
            .json(&json!({"title": "Renamed"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list(false).await.1, vec!["Renamed".to_owned()]);
    assert_eq!(list(true).await.1, vec!["Renamed".to_owned()]);
    let (_, item) = app.get_json(&format!("/wp-json/wp/v2/posts/{id}")).await;
    assert_eq!(item["title"]["rendered"], "Renamed");

    // A new post, then the first one trashed.
    create(
        &app,
        "alice",
        &token,
        json!({"title": "Second", "status": "publish"}),
    )
    .await;
    assert_eq!(list(true).await.0, "2");
    let (status, _) = send(
        app.client
            .delete(app.url(&format!("/wp-json/wp/v2/posts/{id}")))
            .basic_auth("alice", Some(&token)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        list(false).await,
        ("1".to_owned(), vec!["Second".to_owned()])
    );
    let (status, _) = app.get_json(&format!("/wp-json/wp/v2/posts/{id}")).await;
    assert_eq!(status, 401, "a trashed post is not readable anonymously");

    // Another process writing to the same SQLite file (PostgreSQL answers are not cached).
    if postgres_base_url().is_none() {
        let db = app.data_dir.path().join("ferropress.db");
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
            "sqlite://{}",
            db.display()
        ))
        .await
        .expect("open the database file");
        sqlx::query("UPDATE post SET title = 'Changed elsewhere' WHERE title = 'Second'")
            .execute(&mut conn)
            .await
            .expect("update");
        assert_eq!(list(false).await.1, vec!["Changed elsewhere".to_owned()]);
        assert_eq!(list(true).await.1, vec!["Changed elsewhere".to_owned()]);
    }
}

/// Issue 16 findings 1 and 4: titles, content and excerpts through WordPress's display
/// filters, slugs without curly quotes, dashes and ellipses (outputs of the oracle).
#[tokio::test]
async fn rendered_fields_and_slugs_are_wordpress_s() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice", Role::Editor).await;
    let (status, body) = create(
        &app,
        "alice",
        &token,
        json!({
            "title": "It's a \"test\" -- ok & done...",
            "content": "Don’t \"panic\" :)\n\n[caption width=\"20\" caption=\"C\"]<img src=\"x.png\">[/caption]",
            "status": "publish"
        }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["title"]["rendered"],
        "It&#8217;s a &#8220;test&#8221; &#8212; ok &#038; done&#8230;"
    );
    assert_eq!(body["slug"], "its-a-test-ok-done");
    assert_eq!(
        body["content"]["rendered"],
        "<p>Don’t &#8220;panic&#8221; \u{1f642}</p>\n<figure style=\"width: 20px\" class=\"wp-caption alignnone\"><img decoding=\"async\" src=\"x.png\"><figcaption class=\"wp-caption-text\">C</figcaption></figure>\n"
    );
    // The generated excerpt: shortcodes stripped, then the_content, 55 words, the_excerpt.
    assert_eq!(
        body["excerpt"]["rendered"],
        "<p>Don’t &#8220;panic&#8221; \u{1f642}</p>\n"
    );
    let (_, body) = create(
        &app,
        "alice",
        &token,
        json!({"title": "Don’t panic — it’s “fine”…", "status": "publish"}),
    )
    .await;
    assert_eq!(body["slug"], "dont-panic-its-fine");
}

/// Issue 16 finding 5: the guid is `get_permalink()` at creation (`?p=N` for a draft, the
/// pretty link for a published post) and never changes.
#[tokio::test]
async fn guid_is_set_at_creation_and_kept() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice", Role::Editor).await;
    let (_, draft) = create(&app, "alice", &token, json!({"title": "Draft one"})).await;
    let id = draft["id"].as_i64().expect("id");
    let plain = app.url(&format!("/?p={id}"));
    assert_eq!(draft["guid"]["raw"], plain);
    let (status, published) = send(
        app.client
            .post(app.url(&format!("/wp-json/wp/v2/posts/{id}")))
            .basic_auth("alice", Some(&token))
            .json(&json!({"status": "publish", "slug": "renamed"})),
    )
    .await;
    assert_eq!(status, 200, "{published}");
    assert_eq!(published["guid"]["raw"], plain, "kept after publishing");
    assert_eq!(published["link"], app.url("/renamed/"));

    let (_, post) = create(
        &app,
        "alice",
        &token,
        json!({"title": "Straight out", "status": "publish"}),
    )
    .await;
    assert_eq!(post["guid"]["rendered"], app.url("/straight-out/"));
    assert_eq!(post["guid"]["rendered"], post["link"]);
}

/// Issue 16 finding 5: `Link` carries the request's parameters as `add_query_arg()` writes
/// them: arrays indexed and encoded (`status%5B0%5D=draft`), `page` where it was.
#[tokio::test]
async fn pagination_links_encode_arrays_as_wordpress() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice", Role::Editor).await;
    for i in 0..3 {
        let (status, _) = create(&app, "alice", &token, json!({"title": format!("D{i}")})).await;
        assert_eq!(status, 201);
    }
    let (status, list, headers) = {
        let resp = app
            .client
            .get(app.url(
                "/wp-json/wp/v2/posts?page=2&status[]=draft&status[]=publish&per_page=1&_fields=id,title&x[k]=v%20w*",
            ))
            .basic_auth("alice", Some(&token))
            .send()
            .await
            .expect("send");
        let headers = resp.headers().clone();
        let (status, list) = json_of(resp).await;
        (status, list, headers)
    };
    assert_eq!(status, 200, "{list}");
    let link = headers["link"].to_str().expect("link");
    let base = app.url("/wp-json/wp/v2/posts");
    assert_eq!(
        link,
        format!(
            "<{base}?page=1&status%5B0%5D=draft&status%5B1%5D=publish&per_page=1&_fields=id%2Ctitle&x%5Bk%5D=v+w%2A>; rel=\"prev\", \
             <{base}?page=3&status%5B0%5D=draft&status%5B1%5D=publish&per_page=1&_fields=id%2Ctitle&x%5Bk%5D=v+w%2A>; rel=\"next\""
        )
    );
}
