//! KSES on save (`wp_filter_post_kses` / `wp_filter_kses` for users without
//! `unfiltered_html`), post formats and page templates; expected values are the oracle's
//! (docs/oracle-facts.md).

use ferropress::caps::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

const CONTENT: &str = r#"<script>alert(1)</script><p onclick="x()" style="color:red;position:fixed">Hi <a href="javascript:alert(1)">a</a> <a href="data:text/html,x">d</a></p><iframe src="https://e.com"></iframe><!-- c -->"#;
const CONTENT_FILTERED: &str = r#"alert(1)<p style="color:red">Hi <a href="alert(1)">a</a> <a href="text/html,x">d</a></p><!-- c -->"#;
const TITLE: &str = "  <b>T</b> <script>x</script><p>p</p> ";
const EXCERPT: &str = r#"<style>p{}</style><em onmouseover="x">e</em> 5 < 6 &foo;"#;

async fn call(
    app: &TestApp,
    who: &(String, String),
    method: Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let mut req = app
        .client
        .request(method.clone(), app.url(&format!("/wp-json/wp/v2/{path}")))
        .basic_auth(&who.0, Some(&who.1));
    if method != Method::GET {
        req = req.json(&body);
    }
    send(req).await
}

async fn user(app: &TestApp, login: &str, role: Role) -> (String, String) {
    let (_, token) = app.user_with_token(login, role).await;
    (login.to_owned(), token)
}

#[tokio::test]
async fn roles_without_unfiltered_html_have_their_html_filtered() {
    let app = TestApp::spawn().await;
    let body = json!({ "title": TITLE, "content": CONTENT, "excerpt": EXCERPT });
    for (login, role) in [("author", Role::Author), ("contributor", Role::Contributor)] {
        let who = user(&app, login, role).await;
        let (status, post) =
            call(&app, &who, Method::POST, "posts?context=edit", body.clone()).await;
        assert_eq!(status, 201, "{post}");
        assert_eq!(post["title"]["raw"], "<b>T</b> xp", "{login}");
        assert_eq!(post["content"]["raw"], CONTENT_FILTERED, "{login}");
        assert_eq!(
            post["excerpt"]["raw"], "p{}<em>e</em> 5 &lt; 6 &amp;foo;",
            "{login}"
        );

        // Updates are filtered too.
        let id = post["id"].as_i64().expect("id");
        let (status, post) = call(
            &app,
            &who,
            Method::POST,
            &format!("posts/{id}?context=edit"),
            json!({ "content": "<a href=\"/x\" onclick=\"y\" download>z</a><object data=\"https://e.com/a.pdf\" type=\"application/pdf\"></object>" }),
        )
        .await;
        assert_eq!(status, 200, "{post}");
        assert_eq!(
            post["content"]["raw"],
            "<a href=\"/x\" download>z</a><object></object>"
        );
    }
}

#[tokio::test]
async fn editors_and_administrators_keep_their_html() {
    let app = TestApp::spawn().await;
    let body = json!({ "title": TITLE, "content": CONTENT, "excerpt": EXCERPT });
    for (login, role) in [("editor", Role::Editor), ("chief", Role::Administrator)] {
        let who = user(&app, login, role).await;
        let (status, post) =
            call(&app, &who, Method::POST, "pages?context=edit", body.clone()).await;
        assert_eq!(status, 201, "{post}");
        // `title_save_pre` trims for everyone.
        assert_eq!(post["title"]["raw"], TITLE.trim(), "{login}");
        assert_eq!(post["content"]["raw"], CONTENT, "{login}");
        assert_eq!(post["excerpt"]["raw"], EXCERPT, "{login}");
    }
}

#[tokio::test]
async fn targeted_links_get_noopener_for_every_role() {
    let app = TestApp::spawn().await;
    for (login, role) in [("author", Role::Author), ("editor", Role::Editor)] {
        let who = user(&app, login, role).await;
        let (status, post) = call(
            &app,
            &who,
            Method::POST,
            "posts?context=edit",
            json!({ "title": "t", "content": "<a href=\"https://e.com\" target=\"_blank\" rel=\"nofollow\">e</a>" }),
        )
        .await;
        assert_eq!(status, 201, "{post}");
        assert_eq!(
            post["content"]["raw"],
            "<a href=\"https://e.com\" target=\"_blank\" rel=\"nofollow noopener\">e</a>",
            "{login}"
        );
    }
}

#[tokio::test]
async fn content_that_filters_to_nothing_is_empty_content() {
    let app = TestApp::spawn().await;
    let who = user(&app, "author", Role::Author).await;
    let (status, body) = call(
        &app,
        &who,
        Method::POST,
        "posts",
        json!({ "content": "<iframe></iframe>" }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "empty_content");
}

#[tokio::test]
async fn attachment_fields_are_filtered_for_authors() {
    let app = TestApp::spawn().await;
    let png = {
        let mut out = std::io::Cursor::new(Vec::new());
        image::RgbImage::new(2, 2)
            .write_to(&mut out, image::ImageFormat::Png)
            .expect("png");
        out.into_inner()
    };
    let fields = json!({
        "title": " <b>t</b><script>s</script> ",
        "caption": "<em onclick=\"x\">c</em><script>y</script>",
        "description": "<p style=\"position:fixed\">d</p><iframe></iframe>",
    });
    for (login, role, expected) in [
        (
            "author",
            Role::Author,
            ["<b>t</b>s", "<em>c</em>y", "<p>d</p>"],
        ),
        (
            "editor",
            Role::Editor,
            [
                "<b>t</b><script>s</script>",
                "<em onclick=\"x\">c</em><script>y</script>",
                "<p style=\"position:fixed\">d</p><iframe></iframe>",
            ],
        ),
    ] {
        let who = user(&app, login, role).await;
        let (status, item) = send(
            app.client
                .post(app.url("/wp-json/wp/v2/media"))
                .basic_auth(&who.0, Some(&who.1))
                .header("content-type", "image/png")
                .header("content-disposition", "attachment; filename=\"k.png\"")
                .body(png.clone()),
        )
        .await;
        assert_eq!(status, 201, "{item}");
        let id = item["id"].as_i64().expect("id");
        let (status, item) = call(
            &app,
            &who,
            Method::POST,
            &format!("media/{id}?context=edit"),
            fields.clone(),
        )
        .await;
        assert_eq!(status, 200, "{item}");
        assert_eq!(item["title"]["raw"], expected[0], "{login}");
        assert_eq!(item["caption"]["raw"], expected[1], "{login}");
        assert_eq!(item["description"]["raw"], expected[2], "{login}");
    }
}

#[tokio::test]
async fn user_descriptions_are_filtered_for_everyone() {
    let app = TestApp::spawn().await;
    let description =
        r#"<a rel="me" href="https://x" target="_blank">me</a> <script>x</script><p>p</p>"#;
    for (login, role) in [("chief", Role::Administrator), ("author", Role::Author)] {
        let who = user(&app, login, role).await;
        let (status, me) = call(
            &app,
            &who,
            Method::POST,
            "users/me?context=edit",
            json!({ "description": description }),
        )
        .await;
        assert_eq!(status, 200, "{me}");
        assert_eq!(
            me["description"], r#"<a rel="me" href="https://x">me</a> xp"#,
            "{login}"
        );
    }
}

#[tokio::test]
async fn post_formats_are_stored_and_served() {
    let app = TestApp::spawn().await;
    let who = user(&app, "author", Role::Author).await;
    let (status, post) = call(
        &app,
        &who,
        Method::POST,
        "posts",
        json!({ "title": "f", "format": "aside" }),
    )
    .await;
    assert_eq!(status, 201, "{post}");
    assert_eq!(post["format"], "aside");
    let id = post["id"].as_i64().expect("id");
    let (_, post) = call(&app, &who, Method::GET, &format!("posts/{id}"), Value::Null).await;
    assert_eq!(post["format"], "aside");

    // Other updates keep it; null leaves it; `standard` removes it.
    let (_, post) = call(
        &app,
        &who,
        Method::POST,
        &format!("posts/{id}"),
        json!({ "title": "g", "format": null }),
    )
    .await;
    assert_eq!(post["format"], "aside");
    let (_, post) = call(
        &app,
        &who,
        Method::POST,
        &format!("posts/{id}"),
        json!({ "format": "standard" }),
    )
    .await;
    assert_eq!(post["format"], "standard");

    let enum_message = "format is not one of standard, aside, chat, gallery, link, image, quote, status, video, and audio.";
    for bad in [json!("bogus"), json!("")] {
        let (status, body) = call(
            &app,
            &who,
            Method::POST,
            "posts",
            json!({ "title": "f", "format": bad }),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["code"], "rest_invalid_param");
        assert_eq!(body["data"]["params"]["format"], enum_message);
        assert_eq!(
            body["data"]["details"]["format"]["code"],
            "rest_not_in_enum"
        );
    }
    let (status, body) = call(
        &app,
        &who,
        Method::POST,
        "posts",
        json!({ "title": "f", "format": 5 }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["data"]["params"]["format"],
        "format is not of type string."
    );

    // Pages do not support formats: the field is absent and ignored on input.
    let editor = user(&app, "editor", Role::Editor).await;
    let (status, page) = call(
        &app,
        &editor,
        Method::POST,
        "pages",
        json!({ "title": "p", "format": "bogus" }),
    )
    .await;
    assert_eq!(status, 201, "{page}");
    assert!(page.get("format").is_none(), "{page}");
}

#[tokio::test]
async fn only_the_empty_template_is_valid() {
    let app = TestApp::spawn().await;
    let who = user(&app, "editor", Role::Editor).await;
    for path in ["posts", "pages"] {
        for ok in [json!(""), Value::Null] {
            let (status, post) = call(
                &app,
                &who,
                Method::POST,
                path,
                json!({ "title": "t", "template": ok }),
            )
            .await;
            assert_eq!(status, 201, "{post}");
            assert_eq!(post["template"], "");
        }
        for bad in [json!("blank"), json!("page-no-title.php"), json!(5)] {
            let (status, body) = call(
                &app,
                &who,
                Method::POST,
                path,
                json!({ "title": "t", "template": bad }),
            )
            .await;
            assert_eq!(status, 400, "{body}");
            assert_eq!(body["code"], "rest_invalid_param");
            assert_eq!(body["message"], "Invalid parameter(s): template");
            assert_eq!(
                body["data"]["params"]["template"],
                "template is not one of ."
            );
            assert_eq!(
                body["data"]["details"]["template"]["code"],
                "rest_invalid_param"
            );
        }
    }
}
