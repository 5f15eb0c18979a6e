//! Categories and tags, and posts' terms.

use ferropress::caps::Role;
use serde_json::{Value, json};

use crate::helpers::*;

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    who: Option<(&str, &str)>,
    body: Value,
) -> (u16, Value) {
    let mut req = app
        .client
        .request(method.clone(), app.url(&format!("/wp-json/wp/v2/{path}")));
    if let Some((login, token)) = who {
        req = req.basic_auth(login, Some(token));
    }
    if !body.is_null() {
        req = req.json(&body);
    }
    send(req).await
}

#[tokio::test]
async fn categories_and_tags_by_role() {
    let app = TestApp::spawn().await;
    let (_, ed) = app.user_with_token("ed", Role::Editor).await;
    let (_, au) = app.user_with_token("au", Role::Author).await;
    let post = reqwest::Method::POST;
    let ed = Some(("ed", ed.as_str()));
    let au = Some(("au", au.as_str()));

    // The default category exists, publicly listed.
    let (status, list) = app.get_json("/wp-json/wp/v2/categories").await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["slug"], "uncategorized");
    assert_eq!(list[0]["parent"], 0);

    let (status, news) = call(
        &app,
        post.clone(),
        "categories",
        ed,
        json!({ "name": "News" }),
    )
    .await;
    assert_eq!(status, 201, "{news}");
    let news_id = news["id"].as_i64().expect("id");
    let (status, err) = call(
        &app,
        post.clone(),
        "categories",
        ed,
        json!({ "name": "news" }),
    )
    .await;
    assert_eq!((status, err["code"].as_str()), (400, Some("term_exists")));
    assert_eq!(err["data"]["term_id"], news_id);
    // The same name under another parent is another term, with a unique slug.
    let (status, sub) = call(
        &app,
        post.clone(),
        "categories",
        ed,
        json!({ "name": "News", "parent": news_id }),
    )
    .await;
    assert_eq!(status, 201, "{sub}");
    assert_eq!(sub["slug"], "news-2");
    assert_eq!(sub["parent"], news_id);
    let (status, err) = call(
        &app,
        post.clone(),
        "categories",
        ed,
        json!({ "name": "Orphan", "parent": 999 }),
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("rest_term_invalid"))
    );

    // Authors may add tags but not categories, and edit neither.
    let (status, err) = call(&app, post.clone(), "categories", au, json!({ "name": "X" })).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("rest_cannot_create"))
    );
    let (status, tag) = call(
        &app,
        post.clone(),
        "tags",
        au,
        json!({ "name": "Rust Lang" }),
    )
    .await;
    assert_eq!(status, 201, "{tag}");
    assert_eq!(tag["slug"], "rust-lang");
    assert!(tag.get("parent").is_none());
    let tag_id = tag["id"].as_i64().expect("id");
    let (status, err) = call(
        &app,
        post.clone(),
        &format!("tags/{tag_id}"),
        au,
        json!({ "name": "Y" }),
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("rest_cannot_update"))
    );
    let (status, err) = call(&app, post.clone(), "tags", None, json!({ "name": "Z" })).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (401, Some("rest_cannot_create"))
    );
    let (status, err) = call(&app, post.clone(), "tags", ed, json!({})).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("rest_missing_callback_param"))
    );

    // Update and delete.
    let (status, renamed) = call(
        &app,
        reqwest::Method::PATCH,
        &format!("tags/{tag_id}"),
        ed,
        json!({ "name": "Rust", "slug": "rust" }),
    )
    .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(
        (renamed["name"].as_str(), renamed["slug"].as_str()),
        (Some("Rust"), Some("rust"))
    );
    let del = reqwest::Method::DELETE;
    let (status, err) = call(
        &app,
        del.clone(),
        &format!("tags/{tag_id}"),
        ed,
        Value::Null,
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (501, Some("rest_trash_not_supported"))
    );
    let (status, err) = call(
        &app,
        del.clone(),
        "categories/1?force=true",
        ed,
        Value::Null,
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("rest_cannot_delete"))
    );
    let (status, gone) = call(
        &app,
        del.clone(),
        &format!("tags/{tag_id}?force=true"),
        ed,
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(gone["deleted"], true);
    assert_eq!(gone["previous"]["name"], "Rust");
    let (status, err) = app.get_json(&format!("/wp-json/wp/v2/tags/{tag_id}")).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (404, Some("rest_term_invalid"))
    );

    // Deleting a parent moves its children up.
    let (status, _) = call(
        &app,
        del,
        &format!("categories/{news_id}?force=true"),
        ed,
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    let (_, child) = app
        .get_json(&format!("/wp-json/wp/v2/categories/{}", sub["id"]))
        .await;
    assert_eq!(child["parent"], 0);
}

#[tokio::test]
async fn posts_carry_terms_and_filter_by_them() {
    let app = TestApp::spawn().await;
    let (_, ed) = app.user_with_token("ed", Role::Editor).await;
    let ed = Some(("ed", ed.as_str()));
    let post = reqwest::Method::POST;
    let (_, a) = call(&app, post.clone(), "categories", ed, json!({ "name": "A" })).await;
    let (_, t) = call(&app, post.clone(), "tags", ed, json!({ "name": "T" })).await;
    let (a, t) = (a["id"].as_i64().expect("id"), t["id"].as_i64().expect("id"));

    let (status, p1) = call(
        &app,
        post.clone(),
        "posts",
        ed,
        json!({ "title": "One", "status": "publish", "categories": [a], "tags": [t, 999] }),
    )
    .await;
    assert_eq!(status, 201, "{p1}");
    assert_eq!(p1["categories"], json!([a]));
    assert_eq!(p1["tags"], json!([t]), "unknown ids are skipped");
    assert_eq!(p1["_links"]["wp:term"][0]["taxonomy"], "category");
    let (_, p2) = call(
        &app,
        post.clone(),
        "posts",
        ed,
        json!({ "title": "Two", "status": "publish" }),
    )
    .await;
    assert_eq!(p2["categories"], json!([1]), "the default category");
    assert_eq!(p2["tags"], json!([]));

    let titles = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("list")
            .iter()
            .map(|p| {
                p["title"]["rendered"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    };
    let (_, list) = app
        .get_json(&format!("/wp-json/wp/v2/posts?categories={a}"))
        .await;
    assert_eq!(titles(&list), ["One"]);
    let (_, list) = app
        .get_json(&format!("/wp-json/wp/v2/posts?categories_exclude={a}"))
        .await;
    assert_eq!(titles(&list), ["Two"]);
    let (_, list) = app
        .get_json(&format!(
            "/wp-json/wp/v2/posts?categories=1&tags={t}&tax_relation=OR&orderby=title&order=asc"
        ))
        .await;
    assert_eq!(titles(&list), ["One", "Two"]);
    let (_, list) = app
        .get_json(&format!("/wp-json/wp/v2/posts?categories=1&tags={t}"))
        .await;
    assert_eq!(list, json!([]));

    // Counts follow published posts; ?post= lists a post's terms.
    let (_, cat) = app
        .get_json(&format!("/wp-json/wp/v2/categories/{a}"))
        .await;
    assert_eq!(cat["count"], 1);
    let (_, terms) = app
        .get_json(&format!("/wp-json/wp/v2/tags?post={}", p1["id"]))
        .await;
    assert_eq!(terms[0]["id"], t);

    // Emptying the categories gives the default one back.
    let (status, p1) = call(
        &app,
        post,
        &format!("posts/{}", p1["id"]),
        ed,
        json!({ "categories": [] }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(p1["categories"], json!([1]));
    let (_, cat) = app
        .get_json(&format!("/wp-json/wp/v2/categories/{a}"))
        .await;
    assert_eq!(cat["count"], 0);
}

#[tokio::test]
async fn taxonomies_route() {
    let app = TestApp::spawn().await;
    let (status, all) = app.get_json("/wp-json/wp/v2/taxonomies").await;
    assert_eq!(status, 200);
    assert_eq!(all["category"]["rest_base"], "categories");
    assert_eq!(all["post_tag"]["hierarchical"], false);
    let (_, none) = app.get_json("/wp-json/wp/v2/taxonomies?type=page").await;
    assert_eq!(none, json!([]));
    let (status, err) = app.get_json("/wp-json/wp/v2/taxonomies/nope").await;
    assert_eq!(
        (status, err["code"].as_str()),
        (404, Some("rest_taxonomy_invalid"))
    );
    let (status, err) = app.get_json("/wp-json/wp/v2/taxonomies?context=edit").await;
    assert_eq!(
        (status, err["code"].as_str()),
        (401, Some("rest_cannot_view"))
    );
}
