//! Token governance (issue 18): Application Password expiry, scopes, rotation and idle
//! revocation, through REST, XML-RPC and the CLI. Clients that use none of it are covered
//! by the compat scenarios (`--only application`).

use std::time::Duration;

use ferropress::caps::Role;
use serde_json::{Value, json};

use crate::helpers::*;

struct Who {
    login: String,
    id: i64,
    token: String,
}

async fn admin(app: &TestApp) -> Who {
    let (user, token) = app.user_with_token("gov_admin", Role::Administrator).await;
    Who {
        login: user.login,
        id: user.id,
        token,
    }
}

async fn call(
    app: &TestApp,
    login: &str,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = app
        .client
        .request(method, app.url(&format!("/wp-json{path}")))
        .basic_auth(login, Some(token));
    if let Some(b) = body {
        req = req.json(&b);
    }
    json_of(req.send().await.expect("send")).await
}

/// A new token of `who` made through REST with `extra` fields: (status, body).
async fn create(app: &TestApp, who: &Who, name: &str, extra: Value) -> (u16, Value) {
    let mut body = json!({ "name": name });
    if let (Some(o), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    call(
        app,
        &who.login,
        &who.token,
        "POST",
        "/wp/v2/users/me/application-passwords",
        Some(body),
    )
    .await
}

fn secret(created: &Value) -> String {
    created["password"].as_str().expect("password").to_owned()
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn rfc3339(ts: i64) -> String {
    jiff::Timestamp::from_second(ts)
        .expect("time")
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn parse_time(v: &Value) -> i64 {
    v.as_str()
        .expect("time string")
        .parse::<jiff::Timestamp>()
        .expect("RFC 3339")
        .as_second()
}

fn xmlrpc_call(method: &str, params: &[&str]) -> String {
    let params: String = params
        .iter()
        .map(|p| format!("<param><value><string>{p}</string></value></param>"))
        .collect();
    format!(
        "<?xml version=\"1.0\"?><methodCall><methodName>{method}</methodName><params>{params}</params></methodCall>"
    )
}

async fn xmlrpc(app: &TestApp, body: String) -> String {
    app.client
        .post(app.url("/xmlrpc.php"))
        .header("content-type", "text/xml")
        .body(body)
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("body")
}

fn fault_code(xml: &str) -> Option<i64> {
    let fault = xml.split("<fault>").nth(1)?;
    let after = fault.split("<name>faultCode</name>").nth(1)?;
    let digits: String = after
        .chars()
        .skip_while(|c| !c.is_ascii_digit() && *c != '-')
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse().ok()
}

#[tokio::test]
async fn an_expired_token_is_refused_with_application_password_expired() {
    let app = TestApp::spawn().await;
    let who = admin(&app).await;
    let expires = now() + 2;
    let (status, created) = create(
        &app,
        &who,
        "short-lived",
        json!({ "expires": rfc3339(expires) }),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(parse_time(&created["expires"]), expires);
    assert_eq!(created["scopes"], json!(["*"]));
    let token = secret(&created);

    // Works until then (and is now in the verified-token cache).
    let (status, _) = call(&app, &who.login, &token, "GET", "/wp/v2/users/me", None).await;
    assert_eq!(status, 200);
    while now() < expires {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, body) = call(&app, &who.login, &token, "GET", "/wp/v2/users/me", None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        body,
        json!({
            "code": "application_password_expired",
            "message": "The provided application password has expired.",
            "data": { "status": 401 }
        })
    );
    // XML-RPC says so too.
    let xml = xmlrpc(&app, xmlrpc_call("wp.getUsersBlogs", &[&who.login, &token])).await;
    assert_eq!(fault_code(&xml), Some(401), "{xml}");
    assert!(xml.contains("expired"), "{xml}");

    // A token without expiry is WordPress's: `expires` null; a past expiry is refused.
    let (status, body) = create(&app, &who, "forever", json!({})).await;
    assert_eq!(status, 201);
    assert_eq!(body["expires"], Value::Null);
    let (status, body) = create(
        &app,
        &who,
        "past",
        json!({ "expires": "2001-01-01T00:00:00Z" }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "rest_invalid_param");

    // Expiry can be set and cleared by an update.
    let uuid = body_uuid(&app, &who, "forever").await;
    let path = format!("/wp/v2/users/me/application-passwords/{uuid}");
    let (status, body) = call(
        &app,
        &who.login,
        &who.token,
        "POST",
        &path,
        Some(json!({ "expires": "2030-01-01T00:00:00Z" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires"], "2030-01-01T00:00:00Z");
    assert_eq!(body["name"], "forever");
    let (_, body) = call(
        &app,
        &who.login,
        &who.token,
        "POST",
        &path,
        Some(json!({ "expires": null })),
    )
    .await;
    assert_eq!(body["expires"], Value::Null);
}

async fn body_uuid(app: &TestApp, who: &Who, name: &str) -> String {
    let (_, list) = call(
        app,
        &who.login,
        &who.token,
        "GET",
        "/wp/v2/users/me/application-passwords",
        None,
    )
    .await;
    list.as_array()
        .expect("list")
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["uuid"].as_str())
        .expect("token listed")
        .to_owned()
}

#[tokio::test]
async fn max_token_lifetime_caps_new_tokens_and_doctor_shows_it() {
    let app = TestApp::spawn_with(|a| a.max_token_lifetime = Some(86_400)).await;
    let user = app.create_user("gov_admin", Role::Administrator).await;
    // A token made by the CLI (where the serve flag does not apply) never expires.
    let out = app.cli(&[
        "user",
        "application-password",
        "create",
        "gov_admin",
        "cli",
        "--porcelain",
    ]);
    let who = Who {
        login: user.login.clone(),
        id: user.id,
        token: stdout(&out).trim().to_owned(),
    };
    let before = now();
    // A WordPress client asks for no expiry: it gets the maximum.
    let (status, body) = create(&app, &who, "wp-client", json!({})).await;
    assert_eq!(status, 201, "{body}");
    let expires = parse_time(&body["expires"]);
    assert!(
        (before + 86_400..=now() + 86_400).contains(&expires),
        "{body}"
    );
    // Later than the maximum, or never: refused.
    for late in [json!(rfc3339(now() + 2 * 86_400)), Value::Null] {
        let (status, body) = create(&app, &who, "too-long", json!({ "expires": late })).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["code"], "rest_invalid_param");
        assert!(body["data"]["params"]["expires"].is_string(), "{body}");
    }
    // A token with an expiry hands out none later than its own: `null` gets its expiry.
    let parent = body_of_wp_client(&app, &who).await;
    let limited = Who {
        login: who.login.clone(),
        id: who.id,
        token: secret(&parent),
    };
    let (status, body) = create(&app, &limited, "child", json!({ "expires": null })).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["expires"], parent["expires"]);
    let (status, _) = create(
        &app,
        &who,
        "shorter",
        json!({ "expires": rfc3339(now() + 3600) }),
    )
    .await;
    assert_eq!(status, 201);

    let out = app.cli(&["doctor", "--max-token-lifetime", "90d"]);
    assert!(
        stdout(&out).contains("new tokens expire within 90d (--max-token-lifetime)"),
        "{}",
        stdout(&out)
    );
    let out = app.cli(&["doctor"]);
    assert!(
        stdout(&out).contains("no maximum lifetime"),
        "{}",
        stdout(&out)
    );
}

/// A new token made like a WordPress client (no expiry) by `who`.
async fn body_of_wp_client(app: &TestApp, who: &Who) -> Value {
    let (status, body) = create(app, who, "wp-client-2", json!({})).await;
    assert_eq!(status, 201, "{body}");
    body
}

#[tokio::test]
async fn a_read_scope_allows_safe_methods_only() {
    let app = TestApp::spawn().await;
    let who = admin(&app).await;
    let (status, created) = create(&app, &who, "reader", json!({ "scopes": ["read"] })).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["scopes"], json!(["read"]));
    let token = secret(&created);
    for path in ["/wp/v2/posts", "/wp/v2/users/me", "/wp/v2/settings", "/"] {
        let (status, body) = call(&app, &who.login, &token, "GET", path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (status, body) = call(
        &app,
        &who.login,
        &token,
        "POST",
        "/wp/v2/posts",
        Some(json!({ "title": "no" })),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body,
        json!({
            "code": "rest_application_password_scope",
            "message": "This application password does not have the posts:write scope.",
            "data": { "status": 403, "scope": "posts:write" }
        })
    );
    // A route the scope map does not know needs an unrestricted token (fails closed).
    let (status, body) = call(
        &app,
        &who.login,
        &token,
        "GET",
        "/wp/v2/no-such-route",
        None,
    )
    .await;
    assert_eq!(
        (status, &body["data"]["scope"]),
        (403, &json!("*")),
        "{body}"
    );
    let (status, body) = call(
        &app,
        &who.login,
        &who.token,
        "GET",
        "/wp/v2/no-such-route",
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("rest_no_route"))
    );
    // `_method=DELETE` on a GET is a write.
    let (status, body) = call(
        &app,
        &who.login,
        &token,
        "GET",
        "/wp/v2/users/me/application-passwords?_method=DELETE",
        None,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["data"]["scope"], "application-passwords:write");
    // Nothing was written.
    let (_, list) = call(
        &app,
        &who.login,
        &who.token,
        "GET",
        "/wp/v2/users/me/application-passwords",
        None,
    )
    .await;
    assert_eq!(list.as_array().map(Vec::len), Some(2));

    // Introspection shows the scopes and expiry of the token used.
    let (status, body) = call(
        &app,
        &who.login,
        &token,
        "GET",
        "/wp/v2/users/me/application-passwords/introspect",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scopes"], json!(["read"]));
    assert_eq!(body["expires"], Value::Null);
}

#[tokio::test]
async fn resource_scopes_narrow_rest_batch_and_new_tokens() {
    let app = TestApp::spawn().await;
    let who = admin(&app).await;
    let (status, created) = create(
        &app,
        &who,
        "pages-bot",
        json!({ "scopes": ["pages:write", "application-passwords:write"] }),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let token = secret(&created);
    let (status, body) = call(
        &app,
        &who.login,
        &token,
        "POST",
        "/wp/v2/pages",
        Some(json!({ "title": "ok", "status": "publish" })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = call(&app, &who.login, &token, "GET", "/wp/v2/pages", None).await;
    assert_eq!(status, 200);
    let (status, body) = call(&app, &who.login, &token, "GET", "/wp/v2/posts", None).await;
    assert_eq!(status, 403);
    assert_eq!(body["data"]["scope"], "posts:read");
    let (status, body) = call(&app, &who.login, &token, "GET", "/wp/v2/users", None).await;
    assert_eq!(
        (status, &body["data"]["scope"]),
        (403, &json!("users:read"))
    );

    // Embedded resources too, even after an unrestricted token of the same user filled the
    // response cache for that URL.
    let (status, full) = call(
        &app,
        &who.login,
        &who.token,
        "GET",
        "/wp/v2/pages?_embed",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(full[0]["_embedded"]["author"][0]["id"], who.id, "{full}");
    let (status, narrow) = call(&app, &who.login, &token, "GET", "/wp/v2/pages?_embed", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        narrow[0]["_embedded"]["author"][0]["code"], "rest_application_password_scope",
        "{narrow}"
    );

    // Batch sub-requests are checked one by one.
    let (status, body) = call(
        &app,
        &who.login,
        &token,
        "POST",
        "/batch/v1",
        Some(json!({ "requests": [
            { "method": "POST", "path": "/wp/v2/posts", "body": { "title": "no" } },
            { "method": "POST", "path": "/wp/v2/pages", "body": { "title": "yes" } }
        ]})),
    )
    .await;
    assert_eq!(status, 207, "{body}");
    assert_eq!(body["responses"][0]["status"], 403, "{body}");
    assert_eq!(
        body["responses"][0]["body"]["code"],
        "rest_application_password_scope"
    );
    assert_eq!(body["responses"][1]["status"], 201, "{body}");

    // A scoped token hands out nothing wider than itself; without `scopes`, its own.
    let scoped = Who {
        login: who.login.clone(),
        id: who.id,
        token: token.clone(),
    };
    let (status, body) = create(&app, &scoped, "wider", json!({ "scopes": ["*"] })).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = create(&app, &scoped, "wider2", json!({ "scopes": ["posts:read"] })).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = create(
        &app,
        &scoped,
        "narrower",
        json!({ "scopes": ["pages:read"] }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["scopes"], json!(["pages:read"]));
    let (status, body) = create(&app, &scoped, "inherits", json!({})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["scopes"],
        json!(["pages:write", "application-passwords:write"])
    );
    // Unknown scopes are refused.
    let (status, body) = create(&app, &who, "bad", json!({ "scopes": ["posts:delete"] })).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "rest_invalid_param");
    let _ = who.id;
}

#[tokio::test]
async fn xmlrpc_methods_are_held_to_the_token_scopes() {
    let app = TestApp::spawn().await;
    let who = admin(&app).await;
    let (_, created) = create(
        &app,
        &who,
        "pages-reader",
        json!({ "scopes": ["pages:read"] }),
    )
    .await;
    let token = secret(&created);
    let xml = xmlrpc(&app, xmlrpc_call("wp.getPages", &["1", &who.login, &token])).await;
    assert_eq!(fault_code(&xml), None, "{xml}");
    let xml = xmlrpc(&app, xmlrpc_call("wp.getUsersBlogs", &[&who.login, &token])).await;
    assert_eq!(fault_code(&xml), None, "{xml}");
    for method in ["wp.getPosts", "wp.getUsers", "wp.getOptions"] {
        let xml = xmlrpc(&app, xmlrpc_call(method, &["1", &who.login, &token])).await;
        assert_eq!(fault_code(&xml), Some(403), "{method}: {xml}");
        assert!(xml.contains("scope"), "{method}: {xml}");
    }
    let xml = xmlrpc(
        &app,
        xmlrpc_call("metaWeblog.newPost", &["1", &who.login, &token]),
    )
    .await;
    assert_eq!(fault_code(&xml), Some(403), "{xml}");
    assert!(xml.contains("posts:write"), "{xml}");
    // An unrestricted token is unaffected.
    let xml = xmlrpc(
        &app,
        xmlrpc_call("wp.getPosts", &["1", &who.login, &who.token]),
    )
    .await;
    assert_eq!(fault_code(&xml), None, "{xml}");
}

#[tokio::test]
async fn rotation_replaces_the_secret_at_once_or_after_the_grace() {
    let app = TestApp::spawn().await;
    let who = admin(&app).await;
    let (_, created) = create(
        &app,
        &who,
        "ci",
        json!({ "scopes": ["read"], "expires": "2030-01-01T00:00:00Z" }),
    )
    .await;
    let old = secret(&created);
    let uuid = created["uuid"].as_str().expect("uuid").to_owned();
    let rotate = format!(
        "/wp/v2/users/{}/application-passwords/{uuid}/rotate",
        who.id
    );

    // Without grace: the old secret stops at once.
    let (status, body) = call(&app, &who.login, &who.token, "POST", &rotate, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["uuid"], uuid.as_str());
    assert_eq!(body["name"], "ci");
    assert_eq!(body["scopes"], json!(["read"]));
    assert_eq!(body["expires"], "2030-01-01T00:00:00Z");
    let new = secret(&body);
    assert_ne!(new, old);
    let (status, body) = call(&app, &who.login, &old, "GET", "/wp/v2/users/me", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "incorrect_password");
    let (status, _) = call(&app, &who.login, &new, "GET", "/wp/v2/users/me", None).await;
    assert_eq!(status, 200);

    // With a grace of 2 s: both work, then only the new one.
    let (status, body) = call(
        &app,
        &who.login,
        &who.token,
        "POST",
        &rotate,
        Some(json!({ "grace": 2 })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let newer = secret(&body);
    let until = now() + 2;
    let (status, _) = call(&app, &who.login, &new, "GET", "/wp/v2/users/me", None).await;
    assert_eq!(status, 200, "old secret works during the grace");
    let (status, _) = call(&app, &who.login, &newer, "GET", "/wp/v2/users/me", None).await;
    assert_eq!(status, 200);
    while now() <= until {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, body) = call(&app, &who.login, &new, "GET", "/wp/v2/users/me", None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "incorrect_password");
    let (status, _) = call(&app, &who.login, &newer, "GET", "/wp/v2/users/me", None).await;
    assert_eq!(status, 200);

    // The read scope holds for rotation too (a write), and unknown tokens are 404.
    let (status, body) = call(&app, &who.login, &newer, "POST", &rotate, None).await;
    assert_eq!(
        (status, &body["data"]["scope"]),
        (403, &json!("application-passwords:write"))
    );
    let missing = format!(
        "/wp/v2/users/{}/application-passwords/{}/rotate",
        who.id,
        uuid::Uuid::new_v4()
    );
    let (status, body) = call(&app, &who.login, &who.token, "POST", &missing, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("rest_application_password_not_found"))
    );

    // CLI: --porcelain prints the new secret only; --grace keeps the old one working.
    let out = app.cli(&[
        "user",
        "application-password",
        "rotate",
        &who.login,
        &uuid,
        "--grace=1h",
        "--porcelain",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let cli_secret = stdout(&out).trim().to_owned();
    assert_eq!(cli_secret.len(), 24, "{cli_secret}");
    for s in [&cli_secret, &newer] {
        let (status, _) = call(&app, &who.login, s, "GET", "/wp/v2/users/me", None).await;
        assert_eq!(status, 200);
    }
    let out = app.cli(&["user", "application-password", "rotate", &who.login, "nope"]);
    assert!(!out.status.success());
}

#[tokio::test]
async fn unused_tokens_are_revoked_by_the_idle_sweep() {
    let app = TestApp::spawn_with(|a| {
        a.revoke_unused_after = Some(4);
        a.usage_flush_secs = 1;
    })
    .await;
    let user = app.create_user("idle_admin", Role::Administrator).await;
    let start = now();
    let used = app.create_token(user.id, "used").await;
    let _unused = app.create_token(user.id, "unused").await;
    // Used three seconds in: idle from then on.
    while now() < start + 3 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _) = call(&app, "idle_admin", &used, "GET", "/wp/v2/users/me", None).await;
    assert_eq!(status, 200);
    // "unused" is over 4 s idle from start + 5; the sweep runs every second.
    while now() < start + 7 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    let names: Vec<String> = ferropress::application_passwords::list(&app.site, user.id)
        .await
        .expect("list")
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["used"]);
    let (status, _) = call(&app, "idle_admin", &used, "GET", "/wp/v2/users/me", None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_cli_creates_tokens_with_expiry_and_scopes() {
    let app = TestApp::spawn().await;
    let user = app.create_user("cli_gov", Role::Editor).await;
    let out = app.cli(&[
        "user",
        "application-password",
        "create",
        "cli_gov",
        "deploy",
        "--expires=90d",
        "--scopes=posts:write,media:read",
        "--porcelain",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().to_owned();
    let out = app.cli(&[
        "user",
        "application-password",
        "create",
        "cli_gov",
        "dated",
        "--expires=2027-06-30",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = app.cli(&[
        "user",
        "application-password",
        "list",
        "cli_gov",
        "--format=json",
        "--fields=name,expires,scopes",
    ]);
    let list: Value = serde_json::from_str(&stdout(&out)).expect("json");
    // WP-CLI lists newest first: pick each by name.
    let named = |name: &str| {
        list.as_array()
            .and_then(|l| l.iter().find(|p| p["name"] == name))
            .cloned()
            .unwrap_or_default()
    };
    let deploy = &named("deploy");
    let dated = &named("dated");
    assert_eq!(deploy["scopes"], json!(["posts:write", "media:read"]));
    let expires = deploy["expires"].as_i64().expect("expires");
    assert!((now() + 89 * 86_400..=now() + 90 * 86_400).contains(&expires));
    assert_eq!(
        dated["expires"].as_i64(),
        Some(
            "2027-06-30T23:59:59Z"
                .parse::<jiff::Timestamp>()
                .expect("time")
                .as_second()
        )
    );
    assert_eq!(dated["scopes"], json!(["*"]));
    let (status, _) = call(&app, "cli_gov", &token, "GET", "/wp/v2/posts", None).await;
    assert_eq!(status, 200);
    let (status, _) = call(&app, "cli_gov", &token, "GET", "/wp/v2/comments", None).await;
    assert_eq!(status, 403);
    // Bad values are refused with a reason.
    let out = app.cli(&[
        "user",
        "application-password",
        "create",
        "cli_gov",
        "x",
        "--scopes=posts:all",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("posts:all"), "{}", stderr(&out));
    let out = app.cli(&[
        "user",
        "application-password",
        "create",
        "cli_gov",
        "y",
        "--expires=soon",
    ]);
    assert!(!out.status.success());
    let _ = user;
}

#[tokio::test]
#[ignore = "PostgreSQL only: run by postgres::pass"]
async fn on_postgresql_instances_sweep_one_at_a_time() {
    use sqlx::Connection as _;
    let url = fresh_database_url();
    let a = TestApp::spawn_on(&url, |a| a.revoke_unused_after = Some(2)).await;
    let _b = TestApp::spawn_on(&url, |a| a.revoke_unused_after = Some(2)).await;
    // Another session holds the sweep's lock: neither instance sweeps meanwhile.
    let mut holder = sqlx::PgConnection::connect(&url).await.expect("connect");
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(ferropress::store::postgres::IDLE_SWEEP_LOCK)
        .execute(&mut holder)
        .await
        .expect("lock");
    let user = a.create_user("pg_idle", Role::Editor).await;
    a.create_token(user.id, "idle").await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let count = |app: &TestApp| {
        let site = app.site.clone();
        async move {
            ferropress::application_passwords::list(&site, user.id)
                .await
                .expect("list")
                .len()
        }
    };
    assert_eq!(count(&a).await, 1, "no sweep while another holds the lock");
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(ferropress::store::postgres::IDLE_SWEEP_LOCK)
        .execute(&mut holder)
        .await
        .expect("unlock");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while count(&a).await == 1 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(count(&a).await, 0, "swept once the lock is free");
    holder.close().await.expect("close");
}
