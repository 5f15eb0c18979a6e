//! Discovery and routing: the index, `?rest_route=`, unknown routes.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn index_lists_namespaces_and_application_passwords() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .get(app.url("/wp-json/"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "application/json; charset=UTF-8"
    );
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["namespaces"], json!(["wp/v2"]));
    assert_eq!(
        body["authentication"]["application-passwords"]["endpoints"]["authorization"],
        app.url("/wp-admin/authorize-application.php")
    );
    assert!(body["routes"]["/wp/v2/posts"]["endpoints"].is_array());
    assert_eq!(
        body["routes"]["/wp/v2/posts"]["methods"],
        json!(["GET", "POST"])
    );
}

#[tokio::test]
async fn rest_route_fallback_trailing_slash_and_case() {
    let app = TestApp::spawn().await;
    for path in [
        "/?rest_route=/",
        "/?rest_route=/wp/v2/posts",
        "/wp-json/wp/v2/posts/",
        "/wp-json/WP/V2/POSTS",
        "/index.php?rest_route=/wp/v2",
    ] {
        let resp = app.client.get(app.url(path)).send().await.expect("send");
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        assert_eq!(
            resp.headers()["content-type"],
            "application/json; charset=UTF-8",
            "{path}"
        );
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_are_rest_no_route() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get_json("/wp-json/wp/v2/nope").await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"code":"rest_no_route","message":"No route was found matching the URL and request method.","data":{"status":404}})
    );
    let (status, body) = send(app.client.delete(app.url("/wp-json/wp/v2/posts"))).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "rest_no_route");
    let (status, _) = app.get_json("/wp-json/wp/v2/posts/abc").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn users_me_requires_login() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get_json("/wp-json/wp/v2/users/me").await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"code":"rest_not_logged_in","message":"You are not currently logged in.","data":{"status":401}})
    );
}

#[tokio::test]
async fn cors_echoes_the_origin() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .get(app.url("/wp-json/"))
        .header("Origin", "https://app.example")
        .send()
        .await
        .expect("send");
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    assert_eq!(resp.headers()["access-control-allow-credentials"], "true");
}

#[tokio::test]
async fn front_page_advertises_the_api() {
    let app = TestApp::spawn().await;
    let resp = app.client.head(app.url("/")).send().await.expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()["link"].to_str().expect("link"),
        format!("<{}>; rel=\"https://api.w.org/\"", app.url("/wp-json/"))
    );
}
