//! Posts and pages after creation: update, trash, force delete, sticky, collection filters.

use ferropress::caps::Role;
use serde_json::{Value, json};

use crate::helpers::*;

struct Writer<'a> {
    app: &'a TestApp,
    login: String,
    token: String,
}

impl Writer<'_> {
    async fn new<'a>(app: &'a TestApp, login: &str, role: Role) -> Writer<'a> {
        let (_, token) = app.user_with_token(login, role).await;
        Writer {
            app,
            login: login.to_owned(),
            token,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let mut req = self
            .app
            .client
            .request(
                method.clone(),
                self.app.url(&format!("/wp-json/wp/v2/{path}")),
            )
            .basic_auth(&self.login, Some(&self.token));
        if method != reqwest::Method::GET && method != reqwest::Method::DELETE {
            req = req.json(&body);
        }
        send(req).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, body).await
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::DELETE, path, Value::Null).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, Value::Null).await
    }

    async fn create(&self, body: Value) -> i64 {
        let (status, body) = self.post("posts", body).await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().expect("id")
    }
}

#[tokio::test]
async fn update_edits_fields_and_publishes_a_draft() {
    let app = TestApp::spawn().await;
    let alice = Writer::new(&app, "alice", Role::Author).await;
    let id = alice.create(json!({ "title": "Draft" })).await;

    let (status, body) = alice
        .call(
            reqwest::Method::PATCH,
            &format!("posts/{id}"),
            json!({ "title": { "raw": "Final title" }, "content": "Body", "status": "publish" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "publish");
    assert_eq!(body["slug"], "final-title");
    assert_eq!(body["title"]["raw"], "Final title");
    assert_eq!(body["content"]["raw"], "Body");
    // An empty PUT changes nothing but the modified date.
    let (status, again) = alice
        .call(reqwest::Method::PUT, &format!("posts/{id}"), json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["slug"], "final-title");
    assert_eq!(again["date"], body["date"]);

    // Someone else's post: an author may not edit it, an editor may.
    let bob = Writer::new(&app, "bob", Role::Author).await;
    let (status, err) = bob
        .post(&format!("posts/{id}"), json!({ "title": "x" }))
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("rest_cannot_edit"))
    );
    let ed = Writer::new(&app, "ed", Role::Editor).await;
    let (status, body) = ed
        .post(&format!("posts/{id}"), json!({ "title": "Edited" }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["author"], json!(alice_id(&app, "alice").await));

    // Anonymous, unknown id, wrong type, bad params.
    let (status, err) = send(
        app.client
            .post(app.url(&format!("/wp-json/wp/v2/posts/{id}")))
            .json(&json!({ "title": "x" })),
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (401, Some("rest_cannot_edit"))
    );
    let (status, err) = alice.post("posts/999999", json!({ "title": "x" })).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (404, Some("rest_post_invalid_id"))
    );
    let (status, err) = alice
        .post(&format!("pages/{id}"), json!({ "title": "x" }))
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (404, Some("rest_post_invalid_id"))
    );
    let (status, err) = alice
        .post(&format!("posts/{id}"), json!({ "status": "bogus" }))
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("rest_invalid_param"))
    );
    let (status, err) = alice
        .post(
            &format!("posts/{id}"),
            json!({ "title": "", "content": "", "excerpt": "" }),
        )
        .await;
    assert_eq!((status, err["code"].as_str()), (400, Some("empty_content")));
}

async fn alice_id(app: &TestApp, login: &str) -> i64 {
    app.site
        .store
        .user_by_login(login)
        .await
        .expect("store")
        .expect("user")
        .id
}

#[tokio::test]
async fn contributor_cannot_publish_by_update_and_future_dates_schedule() {
    let app = TestApp::spawn().await;
    let carol = Writer::new(&app, "carol", Role::Contributor).await;
    let id = carol.create(json!({ "title": "Pending soon" })).await;
    let (status, err) = carol
        .post(&format!("posts/{id}"), json!({ "status": "publish" }))
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("rest_cannot_publish"))
    );
    let (status, body) = carol
        .post(&format!("posts/{id}"), json!({ "status": "pending" }))
        .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("pending")));

    let alice = Writer::new(&app, "alice", Role::Author).await;
    let id = alice.create(json!({ "title": "Later" })).await;
    let (status, body) = alice
        .post(
            &format!("posts/{id}"),
            json!({ "status": "publish", "date_gmt": "2999-01-01T10:00:00" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "future");
    assert_eq!(body["date_gmt"], "2999-01-01T10:00:00");
    // Not visible to the public until then.
    let (status, _) = app.get_json(&format!("/wp-json/wp/v2/posts/{id}")).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn trash_untrash_and_force_delete() {
    let app = TestApp::spawn().await;
    let alice = Writer::new(&app, "alice", Role::Author).await;
    let id = alice
        .create(json!({ "title": "Trash me", "status": "publish" }))
        .await;

    let (status, body) = alice.delete(&format!("posts/{id}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "trash");
    assert_eq!(body["slug"], "trash-me__trashed");
    let (status, err) = alice.delete(&format!("posts/{id}")).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (410, Some("rest_already_trashed"))
    );
    // The slug is free again: a new post takes it without a suffix.
    let other = alice
        .create(json!({ "title": "Trash me", "status": "publish" }))
        .await;
    let (_, b) = alice.get(&format!("posts/{other}")).await;
    assert_eq!(b["slug"], "trash-me");

    // Untrash by status: a draft keeps its slug even when another post has it
    // (`wp_unique_post_slug` leaves drafts alone), as on WordPress.
    let (status, body) = alice
        .post(&format!("posts/{id}"), json!({ "status": "draft" }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "draft");
    assert_eq!(body["slug"], "trash-me");

    // Someone else cannot delete it; the author can for good.
    let bob = Writer::new(&app, "bob", Role::Contributor).await;
    let (status, err) = bob.delete(&format!("posts/{id}")).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("rest_cannot_delete"))
    );
    let (status, err) = send(
        app.client
            .delete(app.url(&format!("/wp-json/wp/v2/posts/{id}"))),
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (401, Some("rest_cannot_delete"))
    );
    let (status, body) = alice.delete(&format!("posts/{id}?force=true")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["deleted"], true);
    assert_eq!(body["previous"]["id"], id);
    assert!(body["previous"].get("_links").is_none());
    let (status, err) = alice.delete(&format!("posts/{id}?force=true")).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (404, Some("rest_post_invalid_id"))
    );
}

#[tokio::test]
async fn sticky_posts_and_filters() {
    let app = TestApp::spawn().await;
    let ed = Writer::new(&app, "ed", Role::Editor).await;
    let carol = Writer::new(&app, "carol", Role::Contributor).await;
    let (status, err) = carol
        .post("posts", json!({ "title": "x", "sticky": true }))
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("rest_cannot_assign_sticky"))
    );

    let a = ed
        .create(json!({ "title": "Apple pie", "status": "publish", "sticky": true }))
        .await;
    let b = ed
        .create(json!({ "title": "Banana bread", "status": "publish", "content": "with apple" }))
        .await;
    let c = ed
        .create(json!({ "title": "Cherry tart", "status": "publish" }))
        .await;

    let ids = |v: &Value| -> Vec<i64> {
        v.as_array()
            .expect("list")
            .iter()
            .map(|p| p["id"].as_i64().expect("id"))
            .collect()
    };
    let (_, list) = app.get_json("/wp-json/wp/v2/posts?sticky=true").await;
    assert_eq!(ids(&list), [a]);
    assert_eq!(list[0]["sticky"], true);
    let (_, list) = app
        .get_json("/wp-json/wp/v2/posts?sticky=false&orderby=id&order=asc")
        .await;
    assert_eq!(ids(&list), [b, c]);
    let (_, list) = app
        .get_json("/wp-json/wp/v2/posts?search=apple&orderby=id&order=asc")
        .await;
    assert_eq!(ids(&list), [a, b]);
    let (_, list) = app
        .get_json(&format!(
            "/wp-json/wp/v2/posts?include={c},{a}&orderby=include"
        ))
        .await;
    assert_eq!(ids(&list), [c, a]);
    let (_, list) = app
        .get_json(&format!(
            "/wp-json/wp/v2/posts?exclude[]={a}&orderby=title&order=asc"
        ))
        .await;
    assert_eq!(ids(&list), [b, c]);
    let (_, list) = app
        .get_json("/wp-json/wp/v2/posts?slug=cherry-tart,apple-pie&orderby=include_slugs")
        .await;
    assert_eq!(ids(&list), [c, a]);
    let (_, list) = app
        .get_json("/wp-json/wp/v2/posts?after=2999-01-01T00:00:00")
        .await;
    assert_eq!(list, json!([]));
    let (status, err) = app.get_json("/wp-json/wp/v2/posts?orderby=relevance").await;
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("rest_no_search_term_defined"))
    );
    let (status, err) = app.get_json("/wp-json/wp/v2/posts?orderby=include").await;
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("rest_orderby_include_missing_include"))
    );
    let (status, err) = app.get_json("/wp-json/wp/v2/posts?before=yesterday").await;
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("rest_invalid_param"))
    );

    // Unsticking by update.
    let (status, body) = ed
        .post(&format!("posts/{a}"), json!({ "sticky": false }))
        .await;
    assert_eq!((status, body["sticky"].as_bool()), (200, Some(false)));
    let (_, list) = app.get_json("/wp-json/wp/v2/posts?sticky=true").await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn page_parents_and_menu_order() {
    let app = TestApp::spawn().await;
    let ed = Writer::new(&app, "ed", Role::Editor).await;
    let (_, parent) = ed
        .post("pages", json!({ "title": "Parent", "status": "publish" }))
        .await;
    let parent = parent["id"].as_i64().expect("id");
    let (status, child) = ed
        .post(
            "pages",
            json!({ "title": "Child", "status": "publish", "parent": parent, "menu_order": 3 }),
        )
        .await;
    assert_eq!(status, 201, "{child}");
    let child = child["id"].as_i64().expect("id");
    // A page cannot be its own parent, nor its descendant's child: WordPress drops such a
    // parent (0) rather than refusing; a parent that does not exist is refused.
    let (status, page) = ed
        .post(&format!("pages/{parent}"), json!({ "parent": child }))
        .await;
    assert_eq!((status, page["parent"].as_i64()), (200, Some(0)));
    let (status, page) = ed
        .post(&format!("pages/{child}"), json!({ "parent": child }))
        .await;
    assert_eq!((status, page["parent"].as_i64()), (200, Some(0)));
    let (status, err) = ed
        .post(&format!("pages/{child}"), json!({ "parent": 999999 }))
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("rest_post_invalid_id"))
    );
    let (status, page) = ed
        .post(&format!("pages/{child}"), json!({ "parent": parent }))
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["link"], app.url("/parent/child/"));
    assert_eq!(
        page["_links"]["up"][0]["href"],
        app.url(&format!("/wp-json/wp/v2/pages/{parent}"))
    );

    let (_, list) = app
        .get_json(&format!("/wp-json/wp/v2/pages?parent={parent}"))
        .await;
    assert_eq!(list[0]["id"], child);
    assert_eq!(list[0]["menu_order"], 3);
    let (_, list) = app.get_json("/wp-json/wp/v2/pages?menu_order=3").await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));

    // Deleting the parent for good moves the child up.
    let (status, _) = ed.delete(&format!("pages/{parent}?force=true")).await;
    assert_eq!(status, 200);
    let (_, page) = app.get_json(&format!("/wp-json/wp/v2/pages/{child}")).await;
    assert_eq!(page["parent"], 0);
}

#[tokio::test]
async fn allow_on_item_routes_follows_the_post() {
    let app = TestApp::spawn().await;
    let alice = Writer::new(&app, "alice", Role::Author).await;
    let id = alice
        .create(json!({ "title": "Mine", "status": "publish" }))
        .await;
    let allow = |login: Option<(&str, &str)>| {
        let mut req = app
            .client
            .get(app.url(&format!("/wp-json/wp/v2/posts/{id}")));
        if let Some((l, t)) = login {
            req = req.basic_auth(l, Some(t.to_owned()));
        }
        async move {
            let resp = req.send().await.expect("send");
            resp.headers()
                .get("allow")
                .map(|v| v.to_str().expect("ascii").to_owned())
        }
    };
    assert_eq!(
        allow(Some(("alice", &alice.token))).await.as_deref(),
        Some("GET, POST, PUT, PATCH, DELETE")
    );
    assert_eq!(allow(None).await.as_deref(), Some("GET"));
}

/// A scheduled post is published when its date comes (WordPress's `publish_future_post`
/// cron event), with its date kept. The wait is shortened by moving the date into the past
/// directly in the database file, as another process could (SQLite pass only).
#[tokio::test]
async fn scheduled_posts_are_published_when_their_time_comes() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;
    let in_an_hour = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
    let (status, post) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/posts"))
            .basic_auth("alice", Some(&token))
            .json(&json!({
                "title": "Later",
                "status": "publish",
                "date_gmt": in_an_hour.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
            })),
    )
    .await;
    assert_eq!(status, 201, "{post}");
    assert_eq!(post["status"], "future");
    let id = post["id"].as_i64().expect("id");
    let path = format!("/wp-json/wp/v2/posts/{id}");
    assert_eq!(
        app.get_json(&path).await.0,
        401,
        "not public before its time"
    );

    if postgres_base_url().is_some() {
        return;
    }
    let db = app.data_dir.path().join("ferropress.db");
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
        "sqlite://{}",
        db.display()
    ))
    .await
    .expect("open the database file");
    let past = jiff::Timestamp::now().as_second() - 5;
    sqlx::query("UPDATE post SET date = ? WHERE id = ?")
        .bind(past)
        .bind(id)
        .execute(&mut conn)
        .await
        .expect("update");
    let mut seen = None;
    for _ in 0..50 {
        let (status, body) = app.get_json(&path).await;
        if status == 200 {
            seen = Some(body);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let body = seen.expect("published within 5 s");
    assert_eq!(body["status"], "publish");
    let expected = jiff::Timestamp::from_second(past).expect("time");
    assert_eq!(
        body["date_gmt"],
        expected.strftime("%Y-%m-%dT%H:%M:%S").to_string()
    );
    assert_eq!(body["title"]["rendered"], "Later");
}

/// Issue 23 bug 3 (`prepare_item_for_database()`): a post is never both sticky and password
/// protected, whichever comes first; the refused request changes nothing.
#[tokio::test]
async fn sticky_and_password_protected_exclude_each_other() {
    let app = TestApp::spawn().await;
    let eddie = Writer::new(&app, "eddie", Role::Editor).await;
    let invalid = |(status, body): (u16, Value)| {
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("rest_invalid_field")),
            "{body}"
        );
    };
    invalid(
        eddie
            .post(
                "posts",
                json!({ "title": "Both", "password": "123", "sticky": true }),
            )
            .await,
    );
    let (_, list) = eddie.get("posts?status=draft&context=edit").await;
    assert_eq!(list, json!([]));

    let protected = eddie
        .create(json!({ "title": "Protected", "password": "123" }))
        .await;
    invalid(
        eddie
            .post(&format!("posts/{protected}"), json!({ "sticky": true }))
            .await,
    );
    // The stored password counts, even when the same request empties it.
    invalid(
        eddie
            .post(
                &format!("posts/{protected}"),
                json!({ "sticky": true, "password": "" }),
            )
            .await,
    );

    let sticky = eddie
        .create(json!({ "title": "Sticky", "sticky": true, "status": "publish" }))
        .await;
    for body in [
        json!({ "password": "123" }),
        json!({ "password": "123", "sticky": false }),
    ] {
        invalid(eddie.post(&format!("posts/{sticky}"), body).await);
    }
    let (_, body) = eddie.get(&format!("posts/{sticky}?context=edit")).await;
    assert_eq!(
        (&body["sticky"], &body["password"]),
        (&json!(true), &json!(""))
    );
    // An empty password is no password.
    let (status, body) = eddie
        .post(
            &format!("posts/{sticky}"),
            json!({ "password": "", "title": "Still sticky" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sticky"], true);
}

/// Issue 23 bugs 4 and 5 (`wp_insert_post()`): a new post's `modified` is its date; a
/// `null` date or date_gmt dates the post now (over a date given beside it), and a draft
/// dated so floats again.
#[tokio::test]
async fn modified_follows_the_given_date_and_null_resets_it() {
    let app = TestApp::spawn().await;
    let eddie = Writer::new(&app, "eddie", Role::Editor).await;
    let (status, body) = eddie
        .post(
            "posts",
            json!({ "title": "Dated", "date": "2016-01-01T00:00:00" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["modified"], "2016-01-01T00:00:00");
    assert_eq!(body["modified_gmt"], "2016-01-01T00:00:00");
    let draft = body["id"].as_i64().expect("id");

    // An update is modified now.
    let this_year = jiff::Timestamp::now().strftime("%Y-").to_string();
    let (_, body) = eddie
        .post(&format!("posts/{draft}"), json!({ "title": "Again" }))
        .await;
    assert_eq!(body["date"], "2016-01-01T00:00:00");
    assert!(
        body["modified"]
            .as_str()
            .expect("modified")
            .starts_with(&this_year),
        "{body}"
    );

    let (status, body) = eddie
        .post(&format!("posts/{draft}"), json!({ "date_gmt": null }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["date"].as_str().expect("date").starts_with(&this_year),
        "{body}"
    );
    // Floating: publishing later dates it at that moment, not at 2016.
    let (_, body) = eddie
        .post(&format!("posts/{draft}"), json!({ "status": "publish" }))
        .await;
    assert_eq!(body["status"], "publish");
    assert!(
        body["date"].as_str().expect("date").starts_with(&this_year),
        "{body}"
    );

    let published = eddie
        .create(json!({ "title": "Old", "status": "publish", "date": "2016-01-01T00:00:00" }))
        .await;
    let (status, body) = eddie
        .post(
            &format!("posts/{published}"),
            json!({ "date": null, "date_gmt": "2015-01-01T00:00:00" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "publish");
    assert!(
        body["date"].as_str().expect("date").starts_with(&this_year),
        "{body}"
    );
}

/// `check_status()`: the stored status sent again is valid even outside the enum.
#[tokio::test]
async fn the_stored_status_sent_again_is_accepted() {
    let app = TestApp::spawn().await;
    let eddie = Writer::new(&app, "eddie", Role::Editor).await;
    let id = eddie.create(json!({ "title": "Trashed" })).await;
    let (status, _) = eddie.delete(&format!("posts/{id}")).await;
    assert_eq!(status, 200);
    let (status, body) = eddie
        .post(
            &format!("posts/{id}"),
            json!({ "status": "trash", "excerpt": "x" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "trash");
    let (status, body) = eddie
        .post(&format!("posts/{id}"), json!({ "status": "inherit" }))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("rest_invalid_param"))
    );
}

/// Newer WordPress (6.x, no oracle): `ignore_sticky=false` puts sticky posts first on the
/// first page (those of the page, then the others), `format` filters by post format
/// (`standard` = none), `excerpt_length` sets the words of a generated excerpt.
#[tokio::test]
async fn ignore_sticky_format_and_excerpt_length() {
    let app = TestApp::spawn().await;
    let eddie = Writer::new(&app, "eddie", Role::Editor).await;
    let mut ids = vec![];
    for (i, format) in ["standard", "aside", "standard", "link"].iter().enumerate() {
        let date = format!("2020-01-0{}T00:00:00", i + 1);
        ids.push(
            eddie
                .create(
                    json!({ "title": format!("P{i}"), "status": "publish", "date": date,
                    "format": format, "content": "one two three four five six" }),
                )
                .await,
        );
    }
    let (_, body) = eddie
        .post(&format!("posts/{}", ids[0]), json!({ "sticky": true }))
        .await;
    assert_eq!(body["sticky"], true);
    let order = |body: &Value| -> Vec<i64> {
        body.as_array()
            .expect("list")
            .iter()
            .map(|p| p["id"].as_i64().expect("id"))
            .collect()
    };
    let (_, body) = eddie.get("posts").await;
    assert_eq!(order(&body), vec![ids[3], ids[2], ids[1], ids[0]]);
    let (_, body) = eddie.get("posts?ignore_sticky=false").await;
    assert_eq!(order(&body), vec![ids[0], ids[3], ids[2], ids[1]]);
    // The sticky post is not on the page: it is added in front of it.
    let (_, body) = eddie.get("posts?ignore_sticky=false&per_page=2").await;
    assert_eq!(order(&body), vec![ids[0], ids[3], ids[2]]);
    let (_, body) = eddie
        .get("posts?ignore_sticky=false&per_page=2&page=2")
        .await;
    assert_eq!(order(&body), vec![ids[1], ids[0]]);
    let (_, body) = eddie
        .get(&format!("posts?ignore_sticky=false&exclude={}", ids[0]))
        .await;
    assert_eq!(order(&body), vec![ids[3], ids[2], ids[1]]);

    let (_, body) = eddie.get("posts?format[]=standard").await;
    assert_eq!(order(&body), vec![ids[2], ids[0]]);
    let (_, body) = eddie.get("posts?format[]=aside&format[]=link").await;
    assert_eq!(order(&body), vec![ids[3], ids[1]]);
    let (status, body) = eddie.get("posts?format[]=nope").await;
    assert_eq!(
        (status, body["data"]["details"]["format"]["code"].as_str()),
        (400, Some("rest_not_in_enum")),
        "{body}"
    );

    let (_, body) = eddie
        .get(&format!("posts/{}?excerpt_length=2", ids[0]))
        .await;
    assert_eq!(body["excerpt"]["rendered"], "<p>one two [&hellip;]</p>\n");
    let (_, body) = eddie.get("posts?excerpt_length=3&per_page=1").await;
    assert_eq!(
        body[0]["excerpt"]["rendered"],
        "<p>one two three [&hellip;]</p>\n"
    );
    let (_, body) = eddie.get(&format!("posts/{}", ids[0])).await;
    assert_eq!(
        body["excerpt"]["rendered"],
        "<p>one two three four five six</p>\n"
    );
}

/// The current `WP_REST_Server::embed_links()`: a collection link without `per_page` is
/// embedded with its handler's maximum, so a post's twelve tags are all embedded (6.1
/// embedded the first ten).
#[tokio::test]
async fn embedding_terms_brings_more_than_ten() {
    let app = TestApp::spawn().await;
    let eddie = Writer::new(&app, "eddie", Role::Editor).await;
    let mut tags = vec![];
    for i in 0..12 {
        let (status, body) = eddie
            .post("tags", json!({ "name": format!("Tag {i}") }))
            .await;
        assert_eq!(status, 201, "{body}");
        tags.push(body["id"].as_i64().expect("id"));
    }
    let id = eddie
        .create(json!({ "title": "Tagged", "status": "publish", "tags": tags }))
        .await;
    let (status, body) = eddie.get(&format!("posts/{id}?_embed=wp:term")).await;
    assert_eq!(status, 200, "{body}");
    let embedded = &body["_embedded"]["wp:term"];
    assert_eq!(embedded[0].as_array().map(Vec::len), Some(1), "{embedded}");
    assert_eq!(embedded[1].as_array().map(Vec::len), Some(12), "{embedded}");
    // A collection asked for directly keeps its default page of ten.
    let (_, body) = eddie.get(&format!("tags?post={id}")).await;
    assert_eq!(body.as_array().map(Vec::len), Some(10));
}

/// `WP_REST_Request::get_parameter_order()`: a body or query `id` comes before the URL's,
/// so it names the post that is read, updated or deleted (as on users, issue 23 bug 7).
#[tokio::test]
async fn a_body_or_query_id_names_the_post() {
    let app = TestApp::spawn().await;
    let eddie = Writer::new(&app, "eddie", Role::Editor).await;
    let a = eddie
        .create(json!({ "title": "A", "status": "publish" }))
        .await;
    let b = eddie
        .create(json!({ "title": "B", "status": "publish" }))
        .await;

    let (status, body) = eddie
        .call(
            reqwest::Method::PUT,
            &format!("posts/{a}"),
            json!({ "id": b, "title": "Changed" }),
        )
        .await;
    assert_eq!((status, body["id"].as_i64()), (200, Some(b)), "{body}");
    assert_eq!(body["title"]["raw"], "Changed");
    let (_, body) = eddie.get(&format!("posts/{a}?context=edit")).await;
    assert_eq!(body["title"]["raw"], "A");

    let (status, body) = eddie.get(&format!("posts/{a}?id=999999999")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("rest_post_invalid_id"))
    );
    let (status, body) = eddie.get(&format!("posts/{a}?id=abc")).await;
    assert_eq!(
        (status, body["data"]["details"]["id"]["code"].as_str()),
        (400, Some("rest_invalid_type")),
        "{body}"
    );
    let (status, body) = eddie.get(&format!("posts/999999999?id={b}")).await;
    assert_eq!((status, body["id"].as_i64()), (200, Some(b)), "{body}");

    let (status, body) = eddie.delete(&format!("posts/{a}?id={b}&force=true")).await;
    assert_eq!(
        (status, body["previous"]["id"].as_i64()),
        (200, Some(b)),
        "{body}"
    );
    let (status, _) = eddie.get(&format!("posts/{a}")).await;
    assert_eq!(status, 200);
    let (status, body) = eddie.post("posts", json!({ "id": a, "title": "x" })).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("rest_post_exists"))
    );
}
