//! Comments beyond what the compat suite can express: flood and duplicate checks over time,
//! anonymous comments behind their flag, a deleted post or user and their comments, KSES per
//! role, and lists never served stale.

use ferropress::caps::Role;
use serde_json::{Value, json};

use crate::helpers::*;

struct Who<'a> {
    app: &'a TestApp,
    login: String,
    token: String,
    id: i64,
}

impl Who<'_> {
    async fn new<'a>(app: &'a TestApp, login: &str, role: Role) -> Who<'a> {
        let (user, token) = app.user_with_token(login, role).await;
        Who {
            app,
            login: login.to_owned(),
            token,
            id: user.id,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .app
            .client
            .request(method, self.app.url(&format!("/wp-json/wp/v2/{path}")))
            .basic_auth(&self.login, Some(&self.token));
        if let Some(b) = body {
            req = req.json(&b);
        }
        send(req).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::DELETE, path, None).await
    }

    async fn new_post(&self) -> i64 {
        let (s, b) = self
            .post(
                "posts",
                json!({ "title": "t", "content": "c", "status": "publish" }),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        b["id"].as_i64().expect("id")
    }

    async fn comment(&self, post: i64, content: &str) -> (u16, Value) {
        self.post("comments", json!({ "post": post, "content": content }))
            .await
    }
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|c| c["id"].as_i64().expect("id"))
        .collect()
}

#[tokio::test]
async fn a_second_comment_within_15_seconds_is_a_flood_except_for_moderators() {
    let app = TestApp::spawn().await;
    let admin = Who::new(&app, "boss", Role::Administrator).await;
    let contributor = Who::new(&app, "contrib", Role::Contributor).await;
    let post = admin.new_post().await;

    let (s, first) = contributor.comment(post, "first").await;
    assert_eq!(s, 201, "{first}");
    // A first comment, with nothing approved before: held (`comment_previously_approved`).
    assert_eq!(first["status"], "hold");
    let (s, flood) = contributor.comment(post, "second").await;
    assert_eq!(s, 400, "{flood}");
    assert_eq!(flood["code"], "comment_flood");
    assert_eq!(flood["data"]["status"], 400);
    // The throttle compares the new comment's own date with the last one.
    let later = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(60))
        .expect("time")
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let (s, b) = contributor
        .post(
            "comments",
            json!({ "post": post, "content": "dated later", "date_gmt": later }),
        )
        .await;
    assert_eq!(s, 201, "{b}");

    for text in ["one", "two", "three"] {
        let (s, b) = admin.comment(post, text).await;
        assert_eq!(s, 201, "moderators are not throttled: {b}");
        assert_eq!(b["status"], "approved");
    }
}

#[tokio::test]
async fn parallel_comments_from_one_user_are_one_comment_and_floods() {
    let app = TestApp::spawn().await;
    let admin = Who::new(&app, "boss", Role::Administrator).await;
    let contributor = Who::new(&app, "contrib", Role::Contributor).await;
    let post = admin.new_post().await;
    // The flood check is reserved before it reads: parallel requests cannot all pass it.
    let texts: Vec<String> = (0..8).map(|i| format!("parallel {i}")).collect();
    let answers =
        futures_util::future::join_all(texts.iter().map(|t| contributor.comment(post, t))).await;
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 1, "{answers:?}");
    for (s, b) in answers.iter().filter(|(s, _)| *s != 201) {
        assert_eq!((*s, &b["code"]), (400, &json!("comment_flood")), "{b}");
    }
    assert!(app.site.comment_flood.is_empty(), "reservations released");
    let (_, list) = admin.get(&format!("comments?post={post}&status=all")).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
}

#[tokio::test]
async fn the_same_comment_twice_is_a_duplicate_until_the_first_is_trashed() {
    let app = TestApp::spawn().await;
    let admin = Who::new(&app, "boss", Role::Administrator).await;
    let post = admin.new_post().await;
    let other = admin.new_post().await;

    let (s, first) = admin.comment(post, "same words").await;
    assert_eq!(s, 201, "{first}");
    let (s, dup) = admin.comment(post, "same words").await;
    assert_eq!(s, 409, "{dup}");
    assert_eq!(dup["code"], "comment_duplicate");
    // Another post, or a reply, is not a duplicate.
    let (s, _) = admin.comment(other, "same words").await;
    assert_eq!(s, 201);
    let (s, _) = admin
        .post(
            "comments",
            json!({ "post": post, "content": "same words", "parent": first["id"] }),
        )
        .await;
    assert_eq!(s, 201);

    let (s, _) = admin.delete(&format!("comments/{}", first["id"])).await;
    assert_eq!(s, 200);
    let (s, again) = admin.comment(post, "same words").await;
    assert_eq!(s, 201, "a trashed comment is no duplicate: {again}");
}

#[tokio::test]
async fn anonymous_comments_need_the_flag_and_an_author() {
    let closed = TestApp::spawn().await;
    let admin = Who::new(&closed, "boss", Role::Administrator).await;
    let post = admin.new_post().await;
    let anonymous = |app: &TestApp, body: Value| {
        app.client
            .post(app.url("/wp-json/wp/v2/comments"))
            .json(&body)
    };
    let body = json!({ "post": post, "content": "hi", "author_name": "Ann", "author_email": "ann@example.com" });
    let (s, b) = send(anonymous(&closed, body.clone())).await;
    assert_eq!(s, 401, "{b}");
    assert_eq!(b["code"], "rest_comment_login_required");

    let open = TestApp::spawn_with(|a| a.allow_anonymous_comments = true).await;
    let admin = Who::new(&open, "boss", Role::Administrator).await;
    let post = admin.new_post().await;
    let body = json!({ "post": post, "content": "hi", "author_name": "Ann", "author_email": "ann@example.com" });
    let (s, b) = send(anonymous(&open, body)).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["author"], 0);
    assert_eq!(b["author_name"], "Ann");
    assert_eq!(b["status"], "hold");
    assert!(b.get("author_email").is_none(), "view context: {b}");
    let (s, b) = send(anonymous(
        &open,
        json!({ "post": post, "content": "no name" }),
    ))
    .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["code"], "rest_comment_author_data_required");
    // A held comment is not shown to the public.
    let (s, list) = open
        .get_json(&format!("/wp-json/wp/v2/comments?post={post}"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn deleting_a_post_deletes_its_comments_and_trashing_marks_them() {
    let app = TestApp::spawn().await;
    let admin = Who::new(&app, "boss", Role::Administrator).await;
    let post = admin.new_post().await;
    let keep = admin.new_post().await;
    let (_, c) = admin.comment(post, "on the post").await;
    let (_, r) = admin
        .post(
            "comments",
            json!({ "post": post, "content": "a reply", "parent": c["id"] }),
        )
        .await;
    let (_, k) = admin.comment(keep, "elsewhere").await;

    let (s, _) = admin.delete(&format!("posts/{post}")).await;
    assert_eq!(s, 200);
    let (_, trashed) = admin.get(&format!("comments/{}", c["id"])).await;
    assert_eq!(trashed["status"], "post-trashed");

    let (s, _) = admin.delete(&format!("posts/{post}?force=true")).await;
    assert_eq!(s, 200);
    for gone in [&c, &r] {
        let (s, b) = admin.get(&format!("comments/{}", gone["id"])).await;
        assert_eq!(s, 404, "{b}");
        assert_eq!(b["code"], "rest_comment_invalid_id");
    }
    let (s, list) = admin.get("comments?status=any").await;
    assert_eq!(s, 200);
    assert_eq!(ids(&list), vec![k["id"].as_i64().expect("id")]);
}

#[tokio::test]
async fn deleting_a_comment_moves_its_replies_up() {
    let app = TestApp::spawn().await;
    let admin = Who::new(&app, "boss", Role::Administrator).await;
    let post = admin.new_post().await;
    let (_, top) = admin.comment(post, "top").await;
    let (_, mid) = admin
        .post(
            "comments",
            json!({ "post": post, "content": "mid", "parent": top["id"] }),
        )
        .await;
    let (_, low) = admin
        .post(
            "comments",
            json!({ "post": post, "content": "low", "parent": mid["id"] }),
        )
        .await;
    let (_, with_child) = admin.get(&format!("comments/{}", mid["id"])).await;
    assert!(with_child["_links"]["children"].is_array(), "{with_child}");
    let (s, _) = admin
        .delete(&format!("comments/{}?force=true", mid["id"]))
        .await;
    assert_eq!(s, 200);
    let (_, low) = admin.get(&format!("comments/{}", low["id"])).await;
    assert_eq!(low["parent"], top["id"]);
}

#[tokio::test]
async fn deleting_a_user_leaves_their_comments() {
    let app = TestApp::spawn().await;
    let admin = Who::new(&app, "boss", Role::Administrator).await;
    let author = Who::new(&app, "writer", Role::Author).await;
    let admins_post = admin.new_post().await;
    let own_post = author.new_post().await;
    let (s, c) = author.comment(admins_post, "mine").await;
    assert_eq!(s, 201, "{c}");
    let (_, on_own) = admin.comment(own_post, "on the author's post").await;

    let (s, b) = admin
        .delete(&format!(
            "users/{}?force=true&reassign={}",
            author.id, admin.id
        ))
        .await;
    assert_eq!(s, 200, "{b}");
    // `wp_delete_user()` does not touch comments: the author id stays.
    let (s, kept) = admin.get(&format!("comments/{}", c["id"])).await;
    assert_eq!(s, 200, "{kept}");
    assert_eq!(kept["author"], author.id);
    let (_, other) = admin.get(&format!("comments/{}", on_own["id"])).await;
    assert_eq!(other["status"], "approved");
}

#[tokio::test]
async fn comment_content_is_filtered_by_the_writers_role() {
    let app = TestApp::spawn().await;
    let admin = Who::new(&app, "boss", Role::Administrator).await;
    let contributor = Who::new(&app, "contrib", Role::Contributor).await;
    let post = admin.new_post().await;
    let html = "<b>bold</b> <script>alert(1)</script><p onclick=\"x()\">para</p> <a href=\"http://elsewhere.example/\">l</a>";

    let (s, c) = contributor.comment(post, html).await;
    assert_eq!(s, 201, "{c}");
    let (_, c) = admin
        .get(&format!("comments/{}?context=edit", c["id"]))
        .await;
    let raw = c["content"]["raw"].as_str().expect("raw");
    assert!(raw.contains("<b>bold</b>"), "{raw}");
    assert!(!raw.contains("<script"), "{raw}");
    assert!(!raw.contains("onclick"), "{raw}");
    assert!(
        !raw.contains("<p"),
        "comments allow fewer tags than posts: {raw}"
    );
    assert!(raw.contains("rel=\"nofollow ugc\""), "{raw}");

    // `unfiltered_html`: no KSES at all on comments.
    let (s, c) = admin.comment(post, html).await;
    assert_eq!(s, 201, "{c}");
    let raw = c["content"]["raw"].as_str().expect("raw");
    assert!(raw.contains("<script>alert(1)</script>"), "{raw}");

    // Longer than the column: refused, whoever asks.
    let long = "x".repeat(70_000);
    let (s, b) = admin.comment(post, &long).await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["code"], "comment_content_column_length");
}

async fn list(app: &TestApp, path: &str) -> Value {
    let (s, b) = app.get_json(path).await;
    assert_eq!(s, 200, "{b}");
    b
}

#[tokio::test]
async fn comment_lists_are_never_stale() {
    let app = TestApp::spawn().await;
    let admin = Who::new(&app, "boss", Role::Administrator).await;
    let post = admin.new_post().await;
    let path = format!("/wp-json/wp/v2/comments?post={post}");
    assert_eq!(list(&app, &path).await, json!([]));
    assert_eq!(list(&app, &path).await, json!([]));
    let (_, c) = admin.comment(post, "fresh").await;
    let id = c["id"].as_i64().expect("id");
    assert_eq!(ids(&list(&app, &path).await), vec![id]);

    let (s, _) = admin
        .post(&format!("comments/{id}"), json!({ "content": "edited" }))
        .await;
    assert_eq!(s, 200);
    let shown = list(&app, &path).await;
    assert!(
        shown[0]["content"]["rendered"]
            .as_str()
            .is_some_and(|r| r.contains("edited")),
        "{shown}"
    );
    // `author_email` matches without case, as on WordPress's MySQL.
    let (s, by_email) = admin.get("comments?author_email=BOSS@Example.com").await;
    assert_eq!((s, ids(&by_email)), (200, vec![id]), "{by_email}");
    let (s, _) = admin
        .post(&format!("comments/{id}"), json!({ "status": "hold" }))
        .await;
    assert_eq!(s, 200);
    assert_eq!(list(&app, &path).await, json!([]));
    // The post itself, which the cache does keep, links to its comments.
    let (_, p) = app.get_json(&format!("/wp-json/wp/v2/posts/{post}")).await;
    assert!(
        p["_links"]["replies"][0]["href"]
            .as_str()
            .is_some_and(|h| h.ends_with(&format!("/wp/v2/comments?post={post}"))),
        "{p}"
    );
}
