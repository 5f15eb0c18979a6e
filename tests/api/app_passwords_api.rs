//! `/wp/v2/users/<id|me>/application-passwords`, walked with each role.

use ferropress::caps::{AppPasswordGate, Role};
use serde_json::{Value, json};

use crate::helpers::*;

struct Caller {
    login: String,
    id: i64,
    token: String,
}

async fn caller(app: &TestApp, login: &str, role: Role) -> Caller {
    let (user, token) = app.user_with_token(login, role).await;
    Caller {
        login: login.into(),
        id: user.id,
        token,
    }
}

async fn call(
    app: &TestApp,
    who: Option<&Caller>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = app
        .client
        .request(method, app.url(&format!("/wp-json/wp/v2{path}")));
    if let Some(c) = who {
        req = req.basic_auth(&c.login, Some(&c.token));
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    json_of(req.send().await.expect("send")).await
}

async fn all_roles() -> (TestApp, Vec<Caller>) {
    let app = TestApp::spawn_with(|a| {
        a.application_passwords_for = AppPasswordGate::All;
        // Each role checks that its revoked token fails: more failures from 127.0.0.1 than
        // the default per-IP burst allows.
        a.security.auth_failures_burst = 20;
    })
    .await;
    let mut callers = vec![];
    for (login, role) in [
        ("admin1", Role::Administrator),
        ("editor1", Role::Editor),
        ("author1", Role::Author),
        ("contrib1", Role::Contributor),
        ("sub1", Role::Subscriber),
    ] {
        callers.push(caller(&app, login, role).await);
    }
    (app, callers)
}

#[tokio::test]
async fn every_role_manages_its_own_application_passwords() {
    let (app, callers) = all_roles().await;
    for c in &callers {
        let me = Some(c);
        let (status, list) = call(&app, me, "GET", "/users/me/application-passwords", None).await;
        assert_eq!(status, 200, "{}: {list}", c.login);
        let items = list.as_array().expect("array");
        assert_eq!(items.len(), 1);
        let keys: Vec<&str> = items[0]
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "uuid",
                "app_id",
                "name",
                "created",
                "last_used",
                "last_ip",
                "last_user_agent",
                "expires",
                "scopes",
                "_links"
            ]
        );
        assert!(items[0].get("password").is_none());

        let (status, created) = call(
            &app,
            me,
            "POST",
            &format!("/users/{}/application-passwords", c.id),
            Some(json!({"name":"Deploy"})),
        )
        .await;
        assert_eq!(status, 201, "{}: {created}", c.login);
        let password = created["password"].as_str().expect("password shown once");
        assert_eq!(password.len(), 29);
        assert_eq!(password.split(' ').count(), 6);
        let uuid = created["uuid"].as_str().expect("uuid").to_owned();
        assert_eq!(
            created["_links"]["self"][0]["href"],
            app.url(&format!(
                "/wp-json/wp/v2/users/{}/application-passwords/{uuid}",
                c.id
            ))
        );

        // The new token authenticates, and introspection names it.
        let new_caller = Caller {
            login: c.login.clone(),
            id: c.id,
            token: password.to_owned(),
        };
        let (status, intro) = call(
            &app,
            Some(&new_caller),
            "GET",
            "/users/me/application-passwords/introspect",
            None,
        )
        .await;
        assert_eq!(status, 200, "{intro}");
        assert_eq!(intro["uuid"], uuid.as_str());
        assert_eq!(intro["last_ip"], "127.0.0.1");

        let item_path = format!("/users/me/application-passwords/{uuid}");
        let (status, item) = call(&app, me, "GET", &item_path, None).await;
        assert_eq!(status, 200);
        assert_eq!(item["name"], "Deploy");
        assert!(item.get("password").is_none(), "never shown again");

        let (status, renamed) = call(
            &app,
            me,
            "PATCH",
            &item_path,
            Some(json!({"name":"Deploy bot"})),
        )
        .await;
        assert_eq!(status, 200, "{renamed}");
        assert_eq!(renamed["name"], "Deploy bot");

        let (status, deleted) = call(&app, me, "DELETE", &item_path, None).await;
        assert_eq!(status, 200);
        assert_eq!(deleted["deleted"], true);
        assert_eq!(deleted["previous"]["uuid"], uuid.as_str());
        let (status, body) = call(&app, Some(&new_caller), "GET", "/users/me", None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("incorrect_password")),
            "revoked at once"
        );

        let (status, body) =
            call(&app, me, "DELETE", "/users/me/application-passwords", None).await;
        assert_eq!(status, 200);
        assert_eq!(body, json!({"deleted": true, "count": 1}));
        let (status, body) = call(&app, me, "GET", "/users/me", None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("incorrect_password")),
            "revoke-all hits the caller's own token"
        );
    }
}

#[tokio::test]
async fn administrators_manage_others_and_nobody_else_does() {
    let (app, callers) = all_roles().await;
    let admin = &callers[0];
    for target in &callers[1..] {
        let (status, body) = call(
            &app,
            Some(admin),
            "GET",
            &format!("/users/{}/application-passwords", target.id),
            None,
        )
        .await;
        assert_eq!(status, 200, "admin on {}: {body}", target.login);
        let (status, _) = call(
            &app,
            Some(admin),
            "POST",
            &format!("/users/{}/application-passwords", target.id),
            Some(json!({"name":"by admin"})),
        )
        .await;
        assert_eq!(status, 201);
    }
    // Everyone else, on anyone else, gets the per-operation 403.
    for actor in &callers[1..] {
        for target in callers.iter().filter(|t| t.id != actor.id) {
            let base = format!("/users/{}/application-passwords", target.id);
            let checks: [(&str, String, Option<Value>, &str); 4] = [
                (
                    "GET",
                    base.clone(),
                    None,
                    "rest_cannot_list_application_passwords",
                ),
                (
                    "POST",
                    base.clone(),
                    Some(json!({"name":"x"})),
                    "rest_cannot_create_application_passwords",
                ),
                (
                    "DELETE",
                    base.clone(),
                    None,
                    "rest_cannot_delete_application_passwords",
                ),
                (
                    "GET",
                    format!("{base}/00000000-0000-4000-8000-000000000000"),
                    None,
                    "rest_cannot_read_application_password",
                ),
            ];
            for (method, path, body, code) in checks {
                let (status, resp) = call(&app, Some(actor), method, &path, body).await;
                assert_eq!(
                    (status, resp["code"].as_str()),
                    (403, Some(code)),
                    "{} {method} {path}",
                    actor.login
                );
            }
        }
    }
    // Anonymous: `me` is not logged in; a numeric id is a 401 of the operation.
    let (status, body) = call(&app, None, "GET", "/users/me/application-passwords", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("rest_not_logged_in"))
    );
    let (status, body) = call(
        &app,
        None,
        "GET",
        &format!("/users/{}/application-passwords", admin.id),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("rest_cannot_list_application_passwords"))
    );
    let (status, body) = call(
        &app,
        None,
        "PUT",
        &format!("/users/{}/application-passwords/x", admin.id),
        Some(json!({"name":"y"})),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("rest_cannot_edit_application_password"))
    );
    let (status, body) = call(
        &app,
        None,
        "DELETE",
        &format!("/users/{}/application-passwords/x", admin.id),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("rest_cannot_delete_application_password"))
    );
}

#[tokio::test]
async fn refusals_carry_wordpress_codes() {
    let (app, callers) = all_roles().await;
    let ed = &callers[1];
    let me = Some(ed);
    let cases: Vec<(&str, String, Option<Value>, u16, &str)> = vec![
        (
            "GET",
            "/users/999999/application-passwords".into(),
            None,
            404,
            "rest_user_invalid_id",
        ),
        (
            "GET",
            "/users/0/application-passwords".into(),
            None,
            404,
            "rest_user_invalid_id",
        ),
        (
            "GET",
            "/users/me/application-passwords/11111111-1111-4111-8111-111111111111".into(),
            None,
            404,
            "rest_application_password_not_found",
        ),
        (
            "GET",
            "/users/me/application-passwords/not-a-uuid".into(),
            None,
            404,
            "rest_application_password_not_found",
        ),
        (
            "GET",
            "/users/me/application-passwords/a.b".into(),
            None,
            404,
            "rest_no_route",
        ),
        (
            "GET",
            "/users/abc/application-passwords".into(),
            None,
            404,
            "rest_no_route",
        ),
        (
            "POST",
            "/users/me/application-passwords".into(),
            Some(json!({})),
            400,
            "rest_missing_callback_param",
        ),
        (
            "POST",
            "/users/me/application-passwords".into(),
            Some(json!({"name":""})),
            400,
            "rest_invalid_param",
        ),
        (
            "POST",
            "/users/me/application-passwords".into(),
            Some(json!({"name":"   "})),
            400,
            "rest_invalid_param",
        ),
        (
            "POST",
            "/users/me/application-passwords".into(),
            Some(json!({"name":5})),
            400,
            "rest_invalid_param",
        ),
        (
            "POST",
            "/users/me/application-passwords".into(),
            Some(json!({"name":"<script>x</script>"})),
            400,
            "application_password_empty_name",
        ),
        (
            "POST",
            "/users/me/application-passwords".into(),
            Some(json!({"name":"tests"})),
            409,
            "application_password_duplicate_name",
        ),
        (
            "POST",
            "/users/me/application-passwords".into(),
            Some(json!({"name":"ok","app_id":"nope"})),
            400,
            "rest_invalid_param",
        ),
        (
            "GET",
            format!("/users/{}/application-passwords/introspect", callers[0].id),
            None,
            403,
            "rest_cannot_introspect_app_password_for_non_authenticated_user",
        ),
        (
            "GET",
            "/users/me/application-passwords?context=bogus".into(),
            None,
            400,
            "rest_invalid_param",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let (got, resp) = call(&app, me, method, &path, body).await;
        assert_eq!(
            (got, resp["code"].as_str()),
            (status, Some(code)),
            "{method} {path}: {resp}"
        );
        assert_eq!(resp["data"]["status"], status, "{method} {path}");
    }
    let (_, missing) = call(
        &app,
        me,
        "POST",
        "/users/me/application-passwords",
        Some(json!({})),
    )
    .await;
    assert_eq!(missing["data"]["params"], json!(["name"]));

    // Renaming onto another token's name is refused too, so names stay unique.
    let (_, other) = call(
        &app,
        me,
        "POST",
        "/users/me/application-passwords",
        Some(json!({"name":"second"})),
    )
    .await;
    let path = format!(
        "/users/me/application-passwords/{}",
        other["uuid"].as_str().expect("uuid")
    );
    let (status, resp) = call(&app, me, "POST", &path, Some(json!({"name":"tests"}))).await;
    assert_eq!(
        (status, resp["code"].as_str()),
        (409, Some("application_password_duplicate_name"))
    );

    let app_id = "0d8c8f52-7f7e-5f1b-9c3e-6f5d8a1b2c3d";
    let (status, created) = call(
        &app,
        me,
        "POST",
        "/users/me/application-passwords",
        Some(json!({"name":"with app","app_id":app_id})),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(created["app_id"], app_id);
    let (_, embed) = call(
        &app,
        me,
        "GET",
        &format!(
            "/users/me/application-passwords/{}?context=embed",
            created["uuid"].as_str().expect("uuid")
        ),
        None,
    )
    .await;
    let keys: Vec<&str> = embed
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["uuid", "app_id", "name", "_links"]);
}

#[tokio::test]
async fn gate_and_availability_errors() {
    // Default gate: a subscriber's own list is closed (WordPress's 501 from get_user()).
    let app = TestApp::spawn().await;
    let admin = caller(&app, "boss", Role::Administrator).await;
    let sub = app.create_user("sub", Role::Subscriber).await;
    let (status, body) = call(
        &app,
        Some(&admin),
        "GET",
        &format!("/users/{}/application-passwords", sub.id),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (501, Some("application_passwords_disabled_for_user"))
    );

    // Plain HTTP outside `local`: the whole API is unavailable.
    let app = TestApp::spawn_with(production).await;
    let user = app.create_user("alice", Role::Author).await;
    let (status, body) = call(
        &app,
        None,
        "GET",
        &format!("/users/{}/application-passwords", user.id),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (501, Some("application_passwords_disabled"))
    );
}

#[tokio::test]
async fn fifty_concurrent_clients_lose_nothing_and_never_duplicate_a_name() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let alice = std::sync::Arc::new(caller(&app, "alice", Role::Author).await);
    let mut tasks = vec![];
    for i in 0..50 {
        let (app, alice) = (app.clone(), alice.clone());
        tasks.push(tokio::spawn(async move {
            // Five clients race for each of ten names.
            let name = format!("client {}", i % 10);
            call(
                &app,
                Some(&alice),
                "POST",
                "/users/me/application-passwords",
                Some(json!({ "name": name })),
            )
            .await
        }));
    }
    let mut created = vec![];
    for t in tasks {
        let (status, body) = t.await.expect("join");
        match status {
            201 => created.push(body["uuid"].as_str().expect("uuid").to_owned()),
            409 => assert_eq!(body["code"], "application_password_duplicate_name"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created.len(), 10);
    let (_, list) = call(
        &app,
        Some(&alice),
        "GET",
        "/users/me/application-passwords",
        None,
    )
    .await;
    let mut names: Vec<String> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before, "no duplicate names");
    assert_eq!(before, 11, "the 10 created plus the caller's own");

    // Revoke them all concurrently; every one reports deleted exactly once.
    let mut tasks = vec![];
    for uuid in created {
        let (app, alice) = (app.clone(), alice.clone());
        tasks.push(tokio::spawn(async move {
            call(
                &app,
                Some(&alice),
                "DELETE",
                &format!("/users/me/application-passwords/{uuid}"),
                None,
            )
            .await
            .0
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("join"), 200);
    }
    let (_, list) = call(
        &app,
        Some(&alice),
        "GET",
        "/users/me/application-passwords",
        None,
    )
    .await;
    assert_eq!(list.as_array().expect("array").len(), 1);
}
