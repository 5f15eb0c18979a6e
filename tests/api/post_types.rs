//! Custom post types and meta from `ferropress.toml`, `/wp/v2/types`, `/wp/v2/statuses`.

use ferropress::caps::{AppPasswordGate, Role};
use serde_json::json;

use crate::helpers::*;

const CONFIG: &str = r#"
[[post_types]]
name = "book"
rest_base = "books"
capability_type = ["book", "books"]
supports = ["title", "editor", "author", "custom-fields"]
labels = { name = "Books", singular_name = "Book" }

[[post_types]]
name = "recipe"
rest_base = "recipes"
hierarchical = true
supports = ["title", "page-attributes"]

[[meta]]
post_type = "book"
key = "isbn"
type = "string"
single = true

[[meta]]
post_type = "book"
key = "genres"
type = "string"

[[meta]]
post_type = "post"
key = "rating"
type = "integer"
single = true
default = 3
"#;

async fn app_with_types() -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ferropress.toml"), CONFIG).expect("config");
    // Subscribers get tokens too, to be refused by capability rather than by the gate.
    TestApp::spawn_in(dir, |a| a.application_passwords_for = AppPasswordGate::All).await
}

#[tokio::test]
async fn custom_type_is_served_with_its_fields_and_capabilities() {
    let app = app_with_types().await;
    let (_, admin_token) = app.user_with_token("boss", Role::Administrator).await;
    let (_, sub_token) = app.user_with_token("sub", Role::Subscriber).await;

    let (status, book) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/books"))
            .basic_auth("boss", Some(&admin_token))
            .json(
                &json!({ "title": "Dune", "status": "publish", "content": "Arrakis",
                           "meta": { "isbn": "978-0441", "genres": ["sf", "classic"] } }),
            ),
    )
    .await;
    assert_eq!(status, 201, "{book}");
    assert_eq!(book["type"], "book");
    assert_eq!(book["link"], app.url("/book/dune/"));
    assert_eq!(
        book["meta"],
        json!({ "isbn": "978-0441", "genres": ["sf", "classic"] })
    );
    // Features the type does not support have no fields.
    for absent in [
        "excerpt",
        "sticky",
        "format",
        "comment_status",
        "featured_media",
        "template",
    ] {
        assert!(book.get(absent).is_none(), "{absent} in {book}");
    }
    let id = book["id"].as_i64().expect("id");

    // Its own capabilities (edit_books), held as the posts ones are: not by a subscriber.
    let (status, err) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/books"))
            .basic_auth("sub", Some(&sub_token))
            .json(&json!({ "title": "x" })),
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("rest_cannot_create"))
    );

    // Public read, list, and not reachable through another type's route.
    let (status, list) = app.get_json("/wp-json/wp/v2/books").await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["id"], id);
    let (status, _) = app.get_json(&format!("/wp-json/wp/v2/posts/{id}")).await;
    assert_eq!(status, 404);
    let (status, err) = app.get_json("/wp-json/wp/v2/nosuchtype").await;
    assert_eq!((status, err["code"].as_str()), (404, Some("rest_no_route")));

    // Meta: null deletes (back to the default), wrong types are refused.
    let (status, book) = send(
        app.client
            .post(app.url(&format!("/wp-json/wp/v2/books/{id}")))
            .basic_auth("boss", Some(&admin_token))
            .json(&json!({ "meta": { "isbn": null, "unregistered": "ignored" } })),
    )
    .await;
    assert_eq!(status, 200, "{book}");
    assert_eq!(
        book["meta"],
        json!({ "isbn": "", "genres": ["sf", "classic"] })
    );
    let (status, err) = send(
        app.client
            .post(app.url(&format!("/wp-json/wp/v2/books/{id}")))
            .basic_auth("boss", Some(&admin_token))
            .json(&json!({ "meta": { "genres": "not-a-list" } })),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        err["data"]["params"]["meta"],
        "meta[genres] is not of type array."
    );

    // Registered meta on a built-in type, with its default and coercion.
    let (status, post) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/posts"))
            .basic_auth("boss", Some(&admin_token))
            .json(&json!({ "title": "Rated" })),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(post["meta"], json!({ "footnotes": "", "rating": 3 }));
    let (_, post) = send(
        app.client
            .post(app.url(&format!("/wp-json/wp/v2/posts/{}", post["id"])))
            .basic_auth("boss", Some(&admin_token))
            .json(&json!({ "meta": { "rating": "5" } })),
    )
    .await;
    assert_eq!(post["meta"]["rating"], 5);

    // The schema and index know the type.
    let (_, options) = send(
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/wp-json/wp/v2/books")),
    )
    .await;
    assert_eq!(options["schema"]["title"], "book");
    assert_eq!(
        options["schema"]["properties"]["meta"]["properties"]["genres"]["type"],
        "array"
    );
    assert!(options["schema"]["properties"].get("excerpt").is_none());
    let (_, index) = app.get_json("/wp-json/").await;
    assert!(index["routes"]["/wp/v2/books/(?P<id>[\\d]+)"].is_object());
}

#[tokio::test]
async fn hierarchical_custom_type_and_types_route() {
    let app = app_with_types().await;
    let (_, token) = app.user_with_token("ed", Role::Editor).await;
    let (status, parent) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/recipes"))
            .basic_auth("ed", Some(&token))
            .json(&json!({ "title": "Breads", "status": "publish" })),
    )
    .await;
    assert_eq!(status, 201, "{parent}");
    let (status, child) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/recipes"))
            .basic_auth("ed", Some(&token))
            .json(&json!({ "title": "Sourdough", "parent": parent["id"], "menu_order": 2 })),
    )
    .await;
    assert_eq!(status, 201, "{child}");
    assert_eq!(child["parent"], parent["id"]);
    assert_eq!(child["menu_order"], 2);
    assert!(child.get("content").is_none());

    let (status, types) = app.get_json("/wp-json/wp/v2/types").await;
    assert_eq!(status, 200);
    let names: Vec<&String> = types.as_object().expect("object").keys().collect();
    assert_eq!(names, ["post", "page", "attachment", "book", "recipe"]);
    assert_eq!(types["book"]["name"], "Books");
    assert_eq!(types["book"]["rest_base"], "books");
    assert!(
        types["book"].get("labels").is_none(),
        "labels are edit-only"
    );
    let (status, book) = send(
        app.client
            .get(app.url("/wp-json/wp/v2/types/recipe?context=edit"))
            .basic_auth("ed", Some(&token)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(book["hierarchical"], true);
    assert_eq!(
        book["supports"],
        json!({ "title": true, "page-attributes": true })
    );
    let (status, err) = app.get_json("/wp-json/wp/v2/types/nope").await;
    assert_eq!(
        (status, err["code"].as_str()),
        (404, Some("rest_type_invalid"))
    );
    let (status, err) = app.get_json("/wp-json/wp/v2/types?context=edit").await;
    assert_eq!(
        (status, err["code"].as_str()),
        (401, Some("rest_cannot_view"))
    );
}

#[tokio::test]
async fn statuses_by_role() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("writer", Role::Contributor).await;
    let (status, public) = app.get_json("/wp-json/wp/v2/statuses").await;
    assert_eq!(status, 200);
    assert_eq!(
        public,
        json!({ "publish": { "name": "Published", "public": true, "queryable": true, "slug": "publish",
                "date_floating": false, "_links": { "archives": [{ "href": app.url("/wp-json/wp/v2/posts") }] } } })
    );
    let (status, all) = send(
        app.client
            .get(app.url("/wp-json/wp/v2/statuses?context=edit"))
            .basic_auth("writer", Some(&token)),
    )
    .await;
    assert_eq!(status, 200);
    let names: Vec<&String> = all.as_object().expect("object").keys().collect();
    assert_eq!(
        names,
        ["publish", "future", "draft", "pending", "private", "trash"]
    );
    assert_eq!(all["draft"]["protected"], true);
    let (status, err) = app.get_json("/wp-json/wp/v2/statuses/draft").await;
    assert_eq!(
        (status, err["code"].as_str()),
        (401, Some("rest_cannot_read_status"))
    );
    let (status, err) = app.get_json("/wp-json/wp/v2/statuses/nope").await;
    assert_eq!(
        (status, err["code"].as_str()),
        (404, Some("rest_status_invalid"))
    );
}

#[tokio::test]
async fn invalid_config_stops_the_server_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("ferropress.toml"),
        "[[post_types]]\nname = \"bad name\"\n",
    )
    .expect("config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferropress"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("ferropress.toml") && err.contains("bad name"),
        "{err}"
    );
}
