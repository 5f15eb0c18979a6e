//! What applies to every route: `OPTIONS` schemas, the `Allow` header, `_fields`,
//! `_envelope` (answers compared with WordPress 6.1 on the oracle).

use ferropress::caps::Role;
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn options_gives_route_data_with_schema_and_allow() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("writer", Role::Author).await;

    let resp = app
        .client
        .request(Method::OPTIONS, app.url("/wp-json/wp/v2/posts"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["allow"], "GET");
    let (_, body) = json_of(resp).await;
    assert_eq!(body["namespace"], "wp/v2");
    assert_eq!(body["methods"], json!(["GET", "POST"]));
    assert_eq!(body["schema"]["title"], "post");
    assert_eq!(body["schema"]["properties"]["title"]["type"], "object");
    assert_eq!(
        body["schema"]["links"][0]["href"],
        app.url("/wp-json/wp/v2/posts/{id}")
    );
    assert_eq!(
        body["_links"]["self"][0]["href"],
        app.url("/wp-json/wp/v2/posts")
    );

    // An author may create: POST joins the Allow header.
    let resp = app
        .client
        .request(Method::OPTIONS, app.url("/wp-json/wp/v2/posts"))
        .basic_auth("writer", Some(&token))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.headers()["allow"], "GET, POST");

    // Item routes have no self link; the app-password schema carries our extra field.
    let (status, body) = send(
        app.client
            .request(
                Method::OPTIONS,
                app.url("/wp-json/wp/v2/users/me/application-passwords/introspect"),
            )
            .basic_auth("writer", Some(&token)),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.get("_links").is_none());
    assert_eq!(body["schema"]["title"], "application-password");
    assert!(body["schema"]["properties"]["last_user_agent"].is_object());
    assert_eq!(
        body["schema"]["properties"]["password"]["context"],
        json!(["edit"])
    );

    // Unknown routes: WordPress answers an empty list with 200.
    let (status, body) = send(
        app.client
            .request(Method::OPTIONS, app.url("/wp-json/wp/v2/nope")),
    )
    .await;
    assert_eq!((status, body), (200, json!([])));
}

#[tokio::test]
async fn allow_header_follows_permissions_on_errors_too() {
    let app = TestApp::spawn().await;
    let (editor, editor_token) = app.user_with_token("ed", Role::Editor).await;
    let (_, sub_token) = app.user_with_token("sub", Role::Contributor).await;
    let path = format!("/wp-json/wp/v2/users/{}/application-passwords", editor.id);

    let resp = app
        .client
        .get(app.url(&path))
        .basic_auth("ed", Some(&editor_token))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["allow"], "GET, POST, DELETE");

    // A contributor may not list an editor's passwords: 403, and with nothing allowed
    // WordPress sends no Allow header.
    let resp = app
        .client
        .get(app.url(&path))
        .basic_auth("sub", Some(&sub_token))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 403);
    assert!(resp.headers().get("allow").is_none());

    // Unmatched routes carry no Allow header.
    let resp = app
        .client
        .get(app.url("/wp-json/wp/v2/nope"))
        .send()
        .await
        .expect("send");
    assert!(resp.headers().get("allow").is_none());
}

#[tokio::test]
async fn fields_filters_items_and_collections() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("writer", Role::Author).await;
    let (status, created) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/posts?_fields=id,title.raw,_links"))
            .basic_auth("writer", Some(&token))
            .json(&json!({ "title": "Fields", "status": "publish" })),
    )
    .await;
    assert_eq!(status, 201);
    let id = created["id"].as_i64().expect("id");
    let mut keys: Vec<_> = created
        .as_object()
        .expect("object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    assert_eq!(keys, ["_links", "id", "title"]);
    assert_eq!(created["title"], json!({ "raw": "Fields" }));

    let (_, list) = app.get_json("/wp-json/wp/v2/posts?_fields=id,slug").await;
    assert_eq!(list, json!([{ "id": id, "slug": "fields" }]));
    let (_, list) = app
        .get_json("/wp-json/wp/v2/posts?_fields[]=id&_fields[]=status")
        .await;
    assert_eq!(list, json!([{ "id": id, "status": "publish" }]));
    let (_, item) = app
        .get_json(&format!("/wp-json/wp/v2/posts/{id}?_fields=bogus"))
        .await;
    assert_eq!(item, json!([]));
    // Errors are never filtered.
    let (status, err) = app.get_json("/wp-json/wp/v2/posts/999999?_fields=id").await;
    assert_eq!(status, 404);
    assert_eq!(err["code"], "rest_post_invalid_id");
}

#[tokio::test]
async fn envelope_wraps_status_and_headers() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .get(app.url("/wp-json/wp/v2/posts/999?_envelope"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    let (_, body) = json_of(resp).await;
    assert_eq!(
        body,
        json!({ "body": { "code": "rest_post_invalid_id", "message": "Invalid post ID.", "data": { "status": 404 } },
                "status": 404, "headers": [] })
    );

    let resp = app
        .client
        .get(app.url("/wp-json/wp/v2/posts?_envelope=1"))
        .send()
        .await
        .expect("send");
    assert!(resp.headers().get("x-wp-total").is_none());
    let (_, body) = json_of(resp).await;
    assert_eq!(body["status"], 200);
    assert_eq!(
        body["headers"],
        json!({ "X-WP-Total": 0, "X-WP-TotalPages": 0, "Allow": "GET" })
    );
}

#[tokio::test]
async fn embed_includes_linked_resources_as_the_same_user() {
    let app = TestApp::spawn().await;
    let (author, token) = app.user_with_token("writer", Role::Author).await;
    let (status, draft) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/posts?_embed"))
            .basic_auth("writer", Some(&token))
            .json(&json!({ "title": "Embedded" })),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(draft["_embedded"]["author"][0]["id"], author.id);
    assert_eq!(draft["_embedded"]["author"][0]["name"], "writer");
    // The author's embed context has no email, even for the author.
    assert!(draft["_embedded"]["author"][0].get("email").is_none());
    assert_eq!(draft["_embedded"]["wp:term"][0][0]["slug"], "uncategorized");

    // Only the relations asked for; none when the items' links were filtered out.
    let (_, list) = send(
        app.client
            .get(app.url("/wp-json/wp/v2/posts?status=draft&_embed=wp:term"))
            .basic_auth("writer", Some(&token)),
    )
    .await;
    let embedded = list[0]["_embedded"].as_object().expect("embedded");
    assert_eq!(embedded.keys().collect::<Vec<_>>(), ["wp:term"]);
    let (_, list) = send(
        app.client
            .get(app.url("/wp-json/wp/v2/posts?status=draft&_embed&_fields=id"))
            .basic_auth("writer", Some(&token)),
    )
    .await;
    assert_eq!(list, json!([{ "id": draft["id"] }]));
}

/// `_jsonp` (`WP_REST_Server::serve_request()`), as WordPress 6.1 answers on the oracle:
/// `/**/name(<json>)` as JavaScript, errors wrapped with their status, a bad name refused
/// with 400 before anything runs.
#[tokio::test]
async fn jsonp_wraps_answers_and_refuses_bad_callbacks() {
    let app = TestApp::spawn().await;
    let (user, token) = app.user_with_token("writer", Role::Author).await;
    let get = |path: &str| app.client.get(app.url(path)).send();

    let resp = get("/wp-json/wp/v2/posts?_jsonp=my.cb_1")
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "application/javascript; charset=UTF-8"
    );
    assert_eq!(resp.headers()["x-wp-total"], "0");
    let body = resp.text().await.expect("body");
    assert_eq!(body, "/**/my.cb_1([])");

    let resp = get("/wp-json/wp/v2/posts/999?_jsonp=cb")
        .await
        .expect("send");
    assert_eq!(resp.status(), 404);
    let body = resp.text().await.expect("body");
    assert_eq!(
        body,
        r#"/**/cb({"code":"rest_post_invalid_id","message":"Invalid post ID.","data":{"status":404}})"#
    );

    // Empty (or PHP-falsy "0"): no JSONP.
    for q in ["_jsonp=", "_jsonp=0"] {
        let resp = get(&format!("/wp-json/wp/v2/posts?{q}"))
            .await
            .expect("send");
        assert_eq!(
            resp.headers()["content-type"],
            "application/json; charset=UTF-8",
            "{q}"
        );
        assert_eq!(resp.text().await.expect("body"), "[]", "{q}");
    }

    for q in [
        "_jsonp=a-b",
        "_jsonp=alert(1)",
        "_jsonp[]=x",
        "_jsonp=%C3%A9",
    ] {
        let resp = get(&format!("/wp-json/wp/v2/posts?{q}"))
            .await
            .expect("send");
        assert_eq!(resp.status(), 400, "{q}");
        assert_eq!(
            resp.headers()["content-type"],
            "application/javascript; charset=UTF-8"
        );
        assert_eq!(
            resp.text().await.expect("body"),
            r#"{"code":"rest_callback_invalid","message":"Invalid JSONP callback function."}"#,
            "{q}"
        );
    }

    // A bad callback stops a write before it runs.
    let (status, _) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/posts?_jsonp=a-b"))
            .basic_auth(&user.login, Some(&token))
            .json(&json!({"title": "never"})),
    )
    .await;
    assert_eq!(status, 400);
    let (_, drafts) = send(
        app.client
            .get(app.url("/wp-json/wp/v2/posts?status=draft"))
            .basic_auth(&user.login, Some(&token)),
    )
    .await;
    assert_eq!(drafts, json!([]));
}
