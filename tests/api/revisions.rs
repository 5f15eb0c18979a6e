//! Revisions: one per update that changes the title, content or excerpt.

use ferropress::caps::Role;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn updates_make_revisions_readable_by_editors_of_the_post() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;
    let (_, other) = app.user_with_token("bob", Role::Author).await;
    let as_alice = |req: reqwest::RequestBuilder| req.basic_auth("alice", Some(token.clone()));
    let (_, post) = send(as_alice(
        app.client
            .post(app.url("/wp-json/wp/v2/posts"))
            .json(&json!({ "title": "v1", "content": "one", "status": "publish" })),
    ))
    .await;
    let id = post["id"].as_i64().expect("id");
    assert_eq!(post["_links"]["version-history"][0]["count"], 0);
    assert!(post["_links"].get("predecessor-version").is_none());

    for body in [
        json!({ "content": "two" }),
        json!({ "status": "publish" }),
        json!({ "title": "v3" }),
    ] {
        let (status, _) = send(as_alice(
            app.client
                .post(app.url(&format!("/wp-json/wp/v2/posts/{id}")))
                .json(&body),
        ))
        .await;
        assert_eq!(status, 200);
    }
    let resp = as_alice(
        app.client
            .get(app.url(&format!("/wp-json/wp/v2/posts/{id}/revisions?context=edit"))),
    )
    .send()
    .await
    .expect("send");
    assert_eq!(
        resp.headers()["x-wp-total"],
        "2",
        "no revision when nothing changed"
    );
    let (status, revs) = json_of(resp).await;
    assert_eq!(status, 200);
    assert_eq!(revs[0]["title"]["raw"], "v3");
    assert_eq!(revs[1]["content"]["raw"], "two");
    assert_eq!(revs[0]["parent"], id);
    let rid = revs[0]["id"].as_i64().expect("id");

    let (_, post) = app.get_json(&format!("/wp-json/wp/v2/posts/{id}")).await;
    assert_eq!(post["_links"]["version-history"][0]["count"], 2);
    assert_eq!(post["_links"]["predecessor-version"][0]["id"], rid);

    let (status, rev) = send(as_alice(
        app.client
            .get(app.url(&format!("/wp-json/wp/v2/posts/{id}/revisions/{rid}"))),
    ))
    .await;
    assert_eq!(
        (status, rev["title"]["rendered"].as_str()),
        (200, Some("v3"))
    );

    // Another author, anonymous, unknown ids; deleting is refused to everyone (6.1).
    let (status, err) = send(
        app.client
            .get(app.url(&format!("/wp-json/wp/v2/posts/{id}/revisions")))
            .basic_auth("bob", Some(&other)),
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("rest_cannot_read"))
    );
    let (status, _) = app
        .get_json(&format!("/wp-json/wp/v2/posts/{id}/revisions"))
        .await;
    assert_eq!(status, 401);
    let (status, err) = send(as_alice(
        app.client
            .get(app.url(&format!("/wp-json/wp/v2/posts/{id}/revisions/999999"))),
    ))
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (404, Some("rest_post_invalid_id"))
    );
    let (status, err) = send(as_alice(app.client.delete(app.url(&format!(
        "/wp-json/wp/v2/posts/{id}/revisions/{rid}?force=true"
    )))))
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("rest_cannot_delete"))
    );

    // Deleting the post for good takes its revisions with it.
    let (status, _) = send(as_alice(
        app.client
            .delete(app.url(&format!("/wp-json/wp/v2/posts/{id}?force=true"))),
    ))
    .await;
    assert_eq!(status, 200);
    let (status, err) = send(as_alice(
        app.client
            .get(app.url(&format!("/wp-json/wp/v2/posts/{id}/revisions"))),
    ))
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (404, Some("rest_post_invalid_parent"))
    );
}
