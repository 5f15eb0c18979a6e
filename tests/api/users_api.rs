//! The users routes walked with each role: the collection (visibility, filters, ordering,
//! pagination), create, update (self and others, roles), delete (force, reassign, token
//! revocation, posts), and `Allow`.

use ferropress::caps::{AppPasswordGate, Role};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// A caller: a user with a token, or nobody.
struct Caller<'a> {
    app: &'a TestApp,
    creds: Option<(String, String)>,
    id: i64,
}

impl Caller<'_> {
    async fn new<'a>(app: &'a TestApp, login: &str, role: Role) -> Caller<'a> {
        let (user, token) = app.user_with_token(login, role).await;
        Caller {
            app,
            creds: Some((login.to_owned(), token)),
            id: user.id,
        }
    }

    /// The administrator `admin` the server makes on first start (id 1), with a new token.
    async fn first_admin(app: &TestApp) -> Caller<'_> {
        let token = app.create_token(1, "tests").await;
        Caller {
            app,
            creds: Some(("admin".to_owned(), token)),
            id: 1,
        }
    }

    fn anonymous(app: &TestApp) -> Caller<'_> {
        Caller {
            app,
            creds: None,
            id: 0,
        }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let req = self
            .app
            .client
            .request(method, self.app.url(&format!("/wp-json/wp/v2/{path}")));
        match &self.creds {
            Some((login, token)) => req.basic_auth(login, Some(token)),
            None => req,
        }
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        send(self.request(Method::GET, path)).await
    }

    async fn raw_get(&self, path: &str) -> reqwest::Response {
        self.request(Method::GET, path).send().await.expect("send")
    }

    async fn call(&self, method: Method, path: &str, body: Value) -> (u16, Value) {
        send(self.request(method, path).json(&body)).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, body).await
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        send(self.request(Method::DELETE, path)).await
    }

    /// Creates a draft and returns its id.
    async fn publish_as_draft(&self, title: &str) -> i64 {
        let (status, body) = self.post("posts", json!({ "title": title })).await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().expect("id")
    }

    /// Publishes a post and returns its id.
    async fn publish(&self, title: &str) -> i64 {
        let (status, body) = self
            .post("posts", json!({ "title": title, "status": "publish" }))
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().expect("id")
    }
}

fn ids(body: &Value) -> Vec<i64> {
    body.as_array()
        .expect("array")
        .iter()
        .map(|u| u["id"].as_i64().expect("id"))
        .collect()
}

fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii").to_owned())
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// WordPress's default gate, so subscribers' tokens work too.
async fn spawn() -> TestApp {
    TestApp::spawn_with(|a| a.application_passwords_for = AppPasswordGate::All).await
}

/// admin (the first-run administrator, published post), editor (none), author (published post), contributor, subscriber.
struct Site<'a> {
    admin: Caller<'a>,
    editor: Caller<'a>,
    author: Caller<'a>,
    contributor: Caller<'a>,
    subscriber: Caller<'a>,
    anonymous: Caller<'a>,
}

async fn site(app: &TestApp) -> Site<'_> {
    let s = Site {
        admin: Caller::first_admin(app).await,
        editor: Caller::new(app, "eddie", Role::Editor).await,
        author: Caller::new(app, "alice", Role::Author).await,
        contributor: Caller::new(app, "carl", Role::Contributor).await,
        subscriber: Caller::new(app, "sam", Role::Subscriber).await,
        anonymous: Caller::anonymous(app),
    };
    s.admin.publish("Admin's post").await;
    s.author.publish("Alice's post").await;
    s
}

#[tokio::test]
async fn collection_shows_only_published_authors_without_list_users() {
    let app = spawn().await;
    let s = site(&app).await;
    // WordPress orders by display name by default.
    for who in [
        &s.anonymous,
        &s.subscriber,
        &s.contributor,
        &s.author,
        &s.editor,
    ] {
        let resp = who.raw_get("users").await;
        assert_eq!(header(&resp, "x-wp-total").as_deref(), Some("2"));
        assert_eq!(header(&resp, "x-wp-totalpages").as_deref(), Some("1"));
        let (status, body) = json_of(resp).await;
        assert_eq!(status, 200);
        assert_eq!(ids(&body), vec![s.admin.id, s.author.id]);
        let first = &body[0];
        assert_eq!(
            keys(first),
            vec![
                "id",
                "name",
                "url",
                "description",
                "link",
                "slug",
                "avatar_urls",
                "meta",
                "_links"
            ]
        );
    }
    let (status, body) = s.admin.get("users").await;
    assert_eq!(status, 200);
    assert_eq!(
        ids(&body),
        vec![
            s.admin.id,
            s.author.id,
            s.contributor.id,
            s.editor.id,
            s.subscriber.id
        ]
    );
    // `who=authors` lifts the published-posts rule for those who may use it.
    let (status, body) = s.contributor.get("users?who=authors&orderby=id").await;
    assert_eq!(status, 200);
    assert_eq!(
        ids(&body),
        vec![s.admin.id, s.editor.id, s.author.id, s.contributor.id]
    );
}

#[tokio::test]
async fn collection_edit_context_and_filters_need_list_users() {
    let app = spawn().await;
    let s = site(&app).await;
    let cases: &[(&str, &str)] = &[
        ("users?context=edit", "rest_forbidden_context"),
        ("users?roles=editor", "rest_user_cannot_view"),
        ("users?capabilities=edit_posts", "rest_user_cannot_view"),
        ("users?orderby=email", "rest_forbidden_orderby"),
        ("users?orderby=registered_date", "rest_forbidden_orderby"),
    ];
    for (path, code) in cases {
        for who in [&s.editor, &s.author, &s.subscriber] {
            let (status, body) = who.get(path).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (403, Some(*code)),
                "{path}"
            );
        }
        let (status, body) = s.anonymous.get(path).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some(*code)),
            "{path}"
        );
        let (status, _) = s.admin.get(path).await;
        assert_eq!(status, 200, "{path}");
    }
    for (who, status) in [(&s.subscriber, 403), (&s.anonymous, 401)] {
        let (st, body) = who.get("users?who=authors").await;
        assert_eq!(
            (st, body["code"].as_str()),
            (status, Some("rest_forbidden_who"))
        );
    }

    let (status, body) = s.admin.get("users?context=edit&include=").await;
    assert_eq!(status, 200);
    let first = &body[0];
    for field in [
        "username",
        "email",
        "roles",
        "capabilities",
        "extra_capabilities",
        "registered_date",
        "locale",
        "nickname",
        "first_name",
        "last_name",
    ] {
        assert!(first.get(field).is_some(), "{field} in edit context");
    }
    assert!(first.get("password").is_none());
    let (_, body) = s.admin.get("users?context=embed").await;
    assert!(body[0].get("meta").is_none());
    assert!(body[0].get("email").is_none());
}

#[tokio::test]
async fn collection_filters_ordering_and_pagination() {
    let app = spawn().await;
    let s = site(&app).await;
    let a = &s.admin;

    let (_, body) = a.get("users?roles=author,contributor&orderby=id").await;
    assert_eq!(ids(&body), vec![s.author.id, s.contributor.id]);
    let (_, body) = a.get("users?roles=bogus").await;
    assert_eq!(ids(&body), Vec::<i64>::new());
    let (_, body) = a.get("users?capabilities=publish_posts&orderby=id").await;
    assert_eq!(ids(&body), vec![s.admin.id, s.editor.id, s.author.id]);
    let (_, body) = a.get("users?capabilities=subscriber").await;
    assert_eq!(ids(&body), vec![s.subscriber.id]);

    let (_, body) = a.get("users?search=edd").await;
    assert_eq!(ids(&body), vec![s.editor.id]);
    // Email addresses are searched for users who may list users only.
    let (_, body) = a.get("users?search=sam@example").await;
    assert_eq!(ids(&body), vec![s.subscriber.id]);
    let (_, body) = s.anonymous.get("users?search=alice@example").await;
    assert_eq!(ids(&body), Vec::<i64>::new());
    let (_, body) = s.anonymous.get("users?search=ali").await;
    assert_eq!(ids(&body), vec![s.author.id]);

    let (_, body) = a.get("users?slug=sam,carl&orderby=include_slugs").await;
    assert_eq!(ids(&body), vec![s.subscriber.id, s.contributor.id]);
    let include = format!(
        "users?include={},{},{}&orderby=include",
        s.editor.id, s.admin.id, s.subscriber.id
    );
    let (_, body) = a.get(&include).await;
    assert_eq!(ids(&body), vec![s.editor.id, s.admin.id, s.subscriber.id]);
    let (_, body) = a
        .get(&format!(
            "users?exclude={}&orderby=id&order=desc",
            s.admin.id
        ))
        .await;
    assert_eq!(
        ids(&body),
        vec![s.subscriber.id, s.contributor.id, s.author.id, s.editor.id]
    );
    let (_, body) = a.get("users?has_published_posts=true&orderby=id").await;
    assert_eq!(ids(&body), vec![s.admin.id, s.author.id]);
    let (_, body) = a.get("users?has_published_posts[]=page").await;
    assert_eq!(ids(&body), Vec::<i64>::new());
    let (status, body) = a.get("users?has_published_posts[]=bogus").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("rest_invalid_param"))
    );

    // Pagination: 5 users, 2 a page.
    let resp = a.raw_get("users?per_page=2&page=2&orderby=id").await;
    assert_eq!(header(&resp, "x-wp-total").as_deref(), Some("5"));
    assert_eq!(header(&resp, "x-wp-totalpages").as_deref(), Some("3"));
    let link = header(&resp, "link").expect("link");
    assert!(
        link.contains("rel=\"prev\"") && link.contains("rel=\"next\""),
        "{link}"
    );
    assert!(link.contains("page=1") && link.contains("page=3"), "{link}");
    let (_, body) = json_of(resp).await;
    assert_eq!(ids(&body), vec![s.author.id, s.contributor.id]);
    // Beyond the last page: an empty list, no error, prev points at the last page.
    let resp = a.raw_get("users?per_page=2&page=9").await;
    let link = header(&resp, "link").expect("link");
    assert!(link.contains("page=3") && !link.contains("next"), "{link}");
    let (status, body) = json_of(resp).await;
    assert_eq!((status, body), (200, json!([])));
    let (_, body) = a.get("users?per_page=2&offset=3&orderby=id").await;
    assert_eq!(ids(&body), vec![s.contributor.id, s.subscriber.id]);
    let (status, body) = a.get("users?per_page=101").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("rest_invalid_param"))
    );
}

#[tokio::test]
async fn create_user_as_each_role() {
    let app = spawn().await;
    let s = site(&app).await;
    let new = json!({ "username": "newbie", "email": "newbie@example.com", "password": "s3cret" });

    let (status, body) = s.editor.post("users", json!({})).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "rest_missing_callback_param");
    assert_eq!(
        body["data"]["params"],
        json!(["username", "email", "password"])
    );
    for who in [&s.editor, &s.author, &s.contributor, &s.subscriber] {
        let (status, body) = who.post("users", new.clone()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("rest_cannot_create_user"))
        );
    }
    let (status, body) = s.anonymous.post("users", new.clone()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("rest_cannot_create_user"))
    );

    let resp = s
        .admin
        .request(Method::POST, "users")
        .json(&json!({
            "username": "newbie", "email": "newbie@example.com", "password": "s3cret",
            "first_name": "New", "last_name": "Bie", "url": "example.org", "description": "Hi"
        }))
        .send()
        .await
        .expect("send");
    let location = header(&resp, "location").expect("Location");
    let (status, user) = json_of(resp).await;
    assert_eq!(status, 201, "{user}");
    let id = user["id"].as_i64().expect("id");
    assert!(location.ends_with(&format!("/wp-json/wp/v2/users/{id}")));
    assert_eq!(user["username"], "newbie");
    assert_eq!(user["name"], "New Bie");
    assert_eq!(user["nickname"], "newbie");
    assert_eq!(user["slug"], "newbie");
    assert_eq!(user["url"], "http://example.org");
    assert_eq!(user["roles"], json!(["subscriber"]));
    assert_eq!(user["extra_capabilities"], json!({ "subscriber": true }));
    assert!(user.get("password").is_none());
    let stored = app
        .site
        .store
        .user_by_id(id)
        .await
        .expect("store")
        .expect("user");
    assert!(ferropress::auth::password::verify(
        "s3cret",
        &stored.pass_hash
    ));

    // WordPress's errors.
    let cases = [
        (
            json!({ "username": "newbie", "email": "other@example.com", "password": "x" }),
            500,
            "existing_user_login",
        ),
        (
            json!({ "username": "other", "email": "NEWBIE@example.com", "password": "x" }),
            500,
            "existing_user_email",
        ),
        (
            json!({ "username": "other", "email": "bad", "password": "x" }),
            400,
            "rest_invalid_param",
        ),
        (
            json!({ "username": "bad name!", "email": "o@example.com", "password": "x" }),
            400,
            "rest_invalid_param",
        ),
        (
            json!({ "username": "other", "email": "o@example.com", "password": "" }),
            400,
            "rest_invalid_param",
        ),
        (
            json!({ "username": "other", "email": "o@example.com", "password": "x", "roles": ["bogus"] }),
            400,
            "rest_user_invalid_role",
        ),
        (
            json!({ "username": "other", "email": "o@example.com", "password": "x", "id": 5 }),
            400,
            "rest_user_exists",
        ),
        (
            json!({ "username": "other", "email": "o@example.com", "password": "x", "locale": "xx" }),
            400,
            "rest_invalid_param",
        ),
    ];
    for (body, status, code) in cases {
        let (st, resp) = s.admin.post("users", body.clone()).await;
        assert_eq!(
            (st, resp["code"].as_str()),
            (status, Some(code)),
            "{body} → {resp}"
        );
    }
    let (_, dup) = s
        .admin
        .post(
            "users",
            json!({ "username": "newbie", "email": "x@example.com", "password": "x" }),
        )
        .await;
    assert_eq!(dup["data"], Value::Null);
    let (_, bad_email) = s
        .admin
        .post(
            "users",
            json!({ "username": "o", "email": "bad", "password": "x" }),
        )
        .await;
    assert_eq!(
        bad_email["data"]["details"]["email"]["code"],
        "rest_invalid_email"
    );
    let (_, bad_login) = s
        .admin
        .post(
            "users",
            json!({ "username": "bad name!", "email": "o@example.com", "password": "x" }),
        )
        .await;
    assert_eq!(
        bad_login["data"]["details"]["username"]["code"],
        "rest_user_invalid_username"
    );

    // Roles given replace the default one; a clashing slug gets a suffix.
    let (status, user) = s
        .admin
        .post(
            "users",
            json!({ "username": "writer", "email": "writer@example.com", "password": "x",
                    "roles": ["author", "contributor"], "slug": "newbie", "name": "The Writer" }),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    assert_eq!(user["roles"], json!(["author", "contributor"]));
    assert_eq!(user["slug"], "newbie-2");
    assert_eq!(user["name"], "The Writer");
    assert_eq!(user["capabilities"]["publish_posts"], true);
}

#[tokio::test]
async fn update_self_and_others() {
    let app = spawn().await;
    let s = site(&app).await;

    // Everyone may edit their own profile, through /users/me or their id.
    for who in [
        &s.subscriber,
        &s.contributor,
        &s.author,
        &s.editor,
        &s.admin,
    ] {
        let (status, body) = who
            .call(
                Method::PATCH,
                "users/me",
                json!({ "first_name": "First", "description": "Bio" }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["first_name"], "First");
        assert_eq!(body["description"], "Bio");
        assert!(body.get("email").is_some(), "edit context");
        let (status, _) = who
            .call(
                Method::PUT,
                &format!("users/{}", who.id),
                json!({ "last_name": "Last" }),
            )
            .await;
        assert_eq!(status, 200);
    }
    let (status, body) = s.anonymous.post("users/me", json!({ "name": "x" })).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("rest_user_invalid_id"))
    );

    // Others need edit_users.
    let target = format!("users/{}", s.subscriber.id);
    for who in [&s.editor, &s.author, &s.contributor] {
        let (status, body) = who.post(&target, json!({ "name": "x" })).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("rest_cannot_edit"))
        );
        let (status, body) = who.post(&target, json!({ "roles": ["editor"] })).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("rest_cannot_edit_roles"))
        );
    }
    let (status, body) = s.anonymous.post(&target, json!({ "name": "x" })).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("rest_cannot_edit"))
    );
    let (status, body) = s.admin.post("users/999999", json!({ "name": "x" })).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("rest_user_invalid_id"))
    );

    // Nobody raises their own role.
    let (status, body) = s
        .subscriber
        .post("users/me", json!({ "roles": ["administrator"] }))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("rest_cannot_edit_roles"))
    );

    // An administrator edits anyone, and roles given replace the user's roles.
    let (status, body) = s
        .admin
        .post(
            &target,
            json!({ "name": "Samuel", "roles": ["author", "editor"] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "Samuel");
    assert_eq!(body["roles"], json!(["author", "editor"]));
    let (_, body) = s
        .admin
        .post(&target, json!({ "roles": ["contributor"] }))
        .await;
    assert_eq!(body["roles"], json!(["contributor"]));
    // …but can never drop their own administrator role.
    for body in [
        json!({ "roles": ["editor"] }),
        json!({ "roles": ["administrator", "editor"] }),
    ] {
        let (status, resp) = s.admin.post("users/me", body).await;
        assert_eq!(
            (status, resp["code"].as_str()),
            (403, Some("rest_user_invalid_role"))
        );
    }
    let (status, body) = s
        .admin
        .post("users/me", json!({ "roles": ["administrator"] }))
        .await;
    assert_eq!(
        (status, body["roles"].clone()),
        (200, json!(["administrator"]))
    );

    // WordPress's update errors.
    let cases = [
        (
            json!({ "username": "renamed" }),
            400,
            "rest_user_invalid_argument",
        ),
        (
            json!({ "email": "eddie@example.com" }),
            400,
            "rest_user_invalid_email",
        ),
        (
            json!({ "email": "not-an-email" }),
            400,
            "rest_invalid_param",
        ),
        (json!({ "slug": "eddie" }), 400, "rest_user_invalid_slug"),
        (json!({ "roles": ["bogus"] }), 400, "rest_user_invalid_role"),
        (json!({ "password": "a\\b" }), 400, "rest_invalid_param"),
    ];
    for (body, status, code) in cases {
        let (st, resp) = s.admin.post(&target, body.clone()).await;
        assert_eq!(
            (st, resp["code"].as_str()),
            (status, Some(code)),
            "{body} → {resp}"
        );
    }
    // Unchanged username, own email and own slug are fine.
    let (status, body) = s
        .admin
        .post(
            &target,
            json!({ "username": "sam", "email": "SAM@example.com", "slug": "sam" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = s
        .admin
        .post(
            &target,
            json!({ "slug": "Samuel Smith", "email": "samuel@example.com" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["slug"], "samuel-smith");
    assert_eq!(body["email"], "samuel@example.com");

    // Password changes: self, then stored hashed.
    let (status, body) = s
        .subscriber
        .post("users/me", json!({ "password": "n3w-pass" }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("password").is_none());
    let stored = app
        .site
        .store
        .user_by_id(s.subscriber.id)
        .await
        .expect("store")
        .expect("user");
    assert!(ferropress::auth::password::verify(
        "n3w-pass",
        &stored.pass_hash
    ));
}

#[tokio::test]
async fn delete_user_rules() {
    let app = spawn().await;
    let s = site(&app).await;
    let target = format!("users/{}", s.author.id);

    let (status, body) = s.editor.delete(&target).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "rest_missing_callback_param");
    assert_eq!(body["data"]["params"], json!(["reassign"]));
    let path = format!("{target}?reassign={}&force=true", s.admin.id);
    for who in [&s.editor, &s.author, &s.contributor, &s.subscriber] {
        let (status, body) = who.delete(&path).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("rest_user_cannot_delete"))
        );
    }
    let (status, body) = s.anonymous.delete(&path).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("rest_user_cannot_delete"))
    );
    let (status, body) = s.subscriber.delete("users/me?reassign=1&force=true").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("rest_user_cannot_delete"))
    );

    let a = &s.admin;
    let cases = [
        (
            format!("{target}?reassign={}", s.admin.id),
            501,
            "rest_trash_not_supported",
        ),
        (
            format!("{target}?reassign={}&force=false", s.admin.id),
            501,
            "rest_trash_not_supported",
        ),
        (
            format!("{target}?reassign={}&force=true", s.author.id),
            400,
            "rest_user_invalid_reassign",
        ),
        (
            format!("{target}?reassign=999999&force=true"),
            400,
            "rest_user_invalid_reassign",
        ),
        (
            format!("{target}?reassign=abc&force=true"),
            400,
            "rest_invalid_param",
        ),
        (
            format!("{target}?reassign=1&force=yes"),
            400,
            "rest_invalid_param",
        ),
        (
            "users/999999?reassign=1&force=true".to_owned(),
            404,
            "rest_user_invalid_id",
        ),
    ];
    for (path, status, code) in cases {
        let (st, body) = a.delete(&path).await;
        assert_eq!(
            (st, body["code"].as_str()),
            (status, Some(code)),
            "{path} → {body}"
        );
    }
    let (status, _) = s.author.get("users/me").await;
    assert_eq!(status, 200, "nothing was deleted");
}

#[tokio::test]
async fn deleting_a_user_revokes_tokens_and_reassigns_posts() {
    let app = spawn().await;
    let s = site(&app).await;
    let post = s.author.publish("Another one").await;
    let second_token = app.create_token(s.author.id, "second").await;
    let (status, _) = s.author.get("users/me").await;
    assert_eq!(status, 200);

    let (status, body) = s
        .admin
        .delete(&format!(
            "users/{}?reassign={}&force=true",
            s.author.id, s.editor.id
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["deleted"], true);
    let previous = &body["previous"];
    assert_eq!(previous["id"], s.author.id);
    assert_eq!(previous["username"], "alice");
    assert_eq!(previous["roles"], json!(["author"]));
    assert!(previous.get("_links").is_none());
    assert!(previous.get("password").is_none());

    // Both tokens stop working on the very next request.
    let (status, body) = s.author.get("users/me").await;
    assert_eq!(status, 401, "{body}");
    let resp = app
        .client
        .get(app.url("/wp-json/wp/v2/users/me"))
        .basic_auth("alice", Some(&second_token))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 401);
    assert!(
        app.site
            .store
            .app_passwords_for_user(s.author.id)
            .await
            .expect("store")
            .is_empty()
    );

    let (status, body) = s.admin.get(&format!("posts/{post}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["author"], s.editor.id);
    let (status, body) = s.admin.get(&format!("users/{}", s.author.id)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("rest_user_invalid_id"))
    );
    // The editor now has published posts, so is public.
    let (_, body) = s.anonymous.get("users?orderby=id").await;
    assert_eq!(ids(&body), vec![s.admin.id, s.editor.id]);
}

#[tokio::test]
async fn deleting_without_reassign_trashes_posts_and_self_delete_works() {
    let app = spawn().await;
    let s = site(&app).await;
    let post = s.author.publish("Kept in the trash").await;

    let (status, body) = s
        .admin
        .delete(&format!("users/{}?reassign=false&force=true", s.author.id))
        .await;
    assert_eq!(status, 200, "{body}");
    // WordPress's wp_delete_user() trashes posts and pages; the author id stays.
    let (status, body) = s.admin.get(&format!("posts/{post}?context=edit")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "trash");
    assert_eq!(body["author"], s.author.id);
    assert_eq!(body["slug"], "kept-in-the-trash__trashed");

    // An administrator may delete themselves through /users/me.
    let (status, body) = s
        .admin
        .delete(&format!("users/me?reassign={}&force=true", s.editor.id))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["previous"]["id"], s.admin.id);
    let (status, _) = s.admin.get("users/me").await;
    assert_eq!(status, 401);
}

async fn allow(who: &Caller<'_>, method: Method, path: &str) -> Option<String> {
    let resp = who.request(method, path).send().await.expect("send");
    header(&resp, "allow")
}

#[tokio::test]
async fn allow_header_follows_permissions() {
    let app = spawn().await;
    let s = site(&app).await;
    let g = Method::GET;
    let all = Some("GET, POST, PUT, PATCH, DELETE".to_owned());
    let cases: Vec<(&Caller<'_>, String, Option<String>)> = vec![
        (&s.anonymous, "users".into(), Some("GET".into())),
        (&s.editor, "users".into(), Some("GET".into())),
        (&s.admin, "users".into(), Some("GET, POST".into())),
        (&s.editor, "users?roles=author".into(), None),
        (
            &s.admin,
            "users?roles=author".into(),
            Some("GET, POST".into()),
        ),
        (&s.anonymous, "users/me".into(), Some("GET".into())),
        (
            &s.subscriber,
            "users/me".into(),
            Some("GET, POST, PUT, PATCH".into()),
        ),
        (&s.admin, "users/me".into(), all.clone()),
        (&s.admin, format!("users/{}", s.subscriber.id), all.clone()),
        (
            &s.editor,
            format!("users/{}", s.admin.id),
            Some("GET".into()),
        ),
        (&s.editor, format!("users/{}", s.subscriber.id), None),
        (
            &s.subscriber,
            format!("users/{}", s.subscriber.id),
            Some("GET, POST, PUT, PATCH".into()),
        ),
        (&s.admin, "users/999999".into(), None),
    ];
    for (who, path, expected) in cases {
        assert_eq!(allow(who, g.clone(), &path).await, expected, "{path}");
    }
    // The header is computed for refused requests as well.
    assert_eq!(
        allow(&s.editor, Method::POST, "users").await,
        Some("GET".into())
    );
}

#[tokio::test]
async fn routes_are_registered_like_wordpress() {
    let app = spawn().await;
    let (_, index) = app.get_json("/wp-json/").await;
    let routes: Vec<&str> = index["routes"]
        .as_object()
        .expect("routes")
        .keys()
        .map(String::as_str)
        .filter(|r| r.starts_with("/wp/v2/users"))
        .collect();
    assert_eq!(
        &routes[..3],
        &[
            "/wp/v2/users",
            "/wp/v2/users/(?P<id>[\\d]+)",
            "/wp/v2/users/me"
        ]
    );
    assert_eq!(
        index["routes"]["/wp/v2/users/me"]["methods"],
        json!(["GET", "POST", "PUT", "PATCH", "DELETE"])
    );
    let opts = app
        .client
        .request(Method::OPTIONS, app.url("/wp-json/wp/v2/users"))
        .send()
        .await
        .expect("send");
    let (status, body) = json_of(opts).await;
    assert_eq!(status, 200);
    assert_eq!(body["methods"], json!(["GET", "POST"]));
    assert_eq!(body["endpoints"][0]["args"]["orderby"]["default"], "name");
    assert_eq!(body["endpoints"][1]["args"]["password"]["required"], true);
    assert_eq!(body["schema"]["title"], "user");
    let opts = app
        .client
        .request(Method::OPTIONS, app.url("/wp-json/wp/v2/users/1"))
        .send()
        .await
        .expect("send");
    let (_, body) = json_of(opts).await;
    assert_eq!(body["endpoints"][2]["args"]["reassign"]["required"], true);
}

/// Issue 23 bug 6: `reassign=0` is a reassignment (`wp_delete_user()` only trashes for
/// `null`, i.e. `reassign=false`): the posts stay published, by user 0, with no author link.
#[tokio::test]
async fn deleting_with_reassign_0_leaves_posts_without_author() {
    let app = spawn().await;
    let s = site(&app).await;
    let post = s.author.publish("Orphan").await;
    let (status, body) = s
        .admin
        .delete(&format!("users/{}?reassign=0&force=true", s.author.id))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = s.admin.get(&format!("posts/{post}?context=edit")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["author"], &body["status"]),
        (&json!(0), &json!("publish"))
    );
    assert!(body["_links"].get("author").is_none(), "{body}");

    let post = s.contributor.publish_as_draft("Draft orphan").await;
    let (status, body) = s
        .admin
        .call(
            Method::DELETE,
            &format!("users/{}", s.contributor.id),
            json!({ "force": true, "reassign": 0 }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = s.admin.get(&format!("posts/{post}?context=edit")).await;
    assert_eq!(
        (&body["author"], &body["status"]),
        (&json!(0), &json!("draft"))
    );
}

/// Issue 23 bug 7: a body or query `id` names the user before the URL's
/// (`WP_REST_Request::get_parameter_order()`), and must be an integer.
#[tokio::test]
async fn a_body_or_query_id_names_the_user() {
    let app = spawn().await;
    let s = site(&app).await;
    let not_found = |(status, body): (u16, Value)| {
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("rest_user_invalid_id")),
            "{body}"
        );
    };
    let sam = s.subscriber.id;
    not_found(
        s.admin
            .post("users/999999", json!({ "id": 0, "first_name": "x" }))
            .await,
    );
    not_found(
        s.admin
            .post(&format!("users/{sam}"), json!({ "id": 0 }))
            .await,
    );
    not_found(
        s.admin
            .post(
                &format!("users/{sam}"),
                json!({ "id": 999_999, "first_name": "x" }),
            )
            .await,
    );
    for id in [json!("abc"), Value::Null] {
        let (status, body) = s
            .admin
            .post(&format!("users/{sam}"), json!({ "id": id }))
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("rest_invalid_param")),
            "{body}"
        );
    }
    not_found(
        s.admin
            .get(&format!("users/{}?id=999999", s.admin.id))
            .await,
    );
    let (status, body) = s
        .admin
        .get(&format!("users/999999?id={sam}&context=edit"))
        .await;
    assert_eq!((status, &body["id"]), (200, &json!(sam)), "{body}");
    let resp = s.admin.raw_get(&format!("users/999999?id={sam}")).await;
    assert!(header(&resp, "allow").is_some_and(|a| a.contains("DELETE")));
    not_found(
        s.admin
            .delete(&format!("users/{sam}?id=999999&force=true&reassign=false"))
            .await,
    );
    let (status, body) = s.admin.get(&format!("users/{sam}?context=edit")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["first_name"], "");
}
