//! The admin screens (issue #6): the Chromium end-to-end suite (`e2e/admin.mjs`) and
//! black-box HTTP checks of their security properties.

use std::path::{Path, PathBuf};
use std::process::Command;

use ferropress::caps::{AppPasswordGate, Role};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use serde_json::Value;

use crate::helpers::{TestApp, production};

const REQUIRE_E2E: &str = "FERROPRESS_REQUIRE_E2E";
const CHROMIUM: &str = "/usr/bin/chromium";

/// The Chromium suite: log in, create a password and read it from the page, use it over
/// REST, revoke it; authorize-application (approve, reject); an Application Password refused
/// by the login form; a non-administrator kept from another user's passwords. Skipped, with
/// a message, when node, `e2e/node_modules` or Chromium is missing, unless
/// `FERROPRESS_REQUIRE_E2E=1` (CI), where a missing prerequisite fails.
#[tokio::test]
async fn e2e_admin_screens_in_chromium() {
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e");
    let node_ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let missing: Vec<&str> = [
        (!node_ok).then_some("node"),
        (!e2e.join("node_modules/playwright-core").exists())
            .then_some("e2e/node_modules (run `npm ci --prefix e2e`)"),
        (!Path::new(CHROMIUM).exists()).then_some("/usr/bin/chromium (apt-get install chromium)"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !missing.is_empty() {
        let msg = format!("admin e2e: missing {}", missing.join(", "));
        assert!(
            std::env::var(REQUIRE_E2E).as_deref() != Ok("1"),
            "{msg} and {REQUIRE_E2E}=1"
        );
        println!("{msg}: skipped");
        return;
    }

    let app = TestApp::spawn().await;
    let admin = app.create_user("e2e-admin", Role::Administrator).await;
    let author = app.create_user("e2e-author", Role::Author).await;
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
        PathBuf::from,
    );
    let shots = target.join("e2e-screenshots");
    let mut cmd = Command::new("node");
    cmd.arg(e2e.join("admin.mjs"))
        .current_dir(&e2e)
        .env("FERROPRESS_URL", &app.base)
        .env("ADMIN_LOGIN", &admin.login)
        .env("ADMIN_PASSWORD", format!("pass-{}", admin.login))
        .env("ADMIN_ID", admin.id.to_string())
        .env("AUTHOR_LOGIN", &author.login)
        .env("AUTHOR_PASSWORD", format!("pass-{}", author.login))
        .env("AUTHOR_ID", author.id.to_string())
        .env("SCREENSHOT_DIR", &shots);
    // The server runs on this test's runtime: wait for node off it.
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("running node e2e/admin.mjs");
    // The error (stderr) first: CI may show only part of a long message.
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.status.success(), "e2e/admin.mjs failed:\n{report}");
    assert!(report.contains("checks passed"), "{report}");
    println!("{}", report.trim_end().lines().last().unwrap_or_default());
}

// ---- HTTP checks ---------------------------------------------------------------------

/// A browser-like client: keeps cookies, does not follow redirects.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .tls_danger_accept_invalid_certs(true)
        .user_agent("ferropress-tests/1.0")
        .build()
        .expect("client")
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn post_form(
    client: &reqwest::Client,
    url: &str,
    pairs: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(url)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(pairs))
        .send()
        .await
        .expect("send")
}

async fn log_in(app: &TestApp, client: &reqwest::Client, login: &str) -> reqwest::Response {
    let password = format!("pass-{login}");
    post_form(
        client,
        &app.url("/wp-login.php"),
        &[
            ("log", login),
            ("pwd", &password),
            ("redirect_to", "/wp-admin/profile.php"),
        ],
    )
    .await
}

/// The `Set-Cookie` of the login cookie in a response.
fn session_set_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("wordpress_logged_in_"))
        .map(str::to_owned)
}

/// The first `_wpnonce` of a page.
async fn page_nonce(client: &reqwest::Client, url: &str) -> String {
    let html = client
        .get(url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    let re = regex::Regex::new(r#"name="_wpnonce" value="([0-9a-f]{10})""#).expect("re");
    re.captures(&html)
        .map(|c| c[1].to_owned())
        .unwrap_or_else(|| panic!("no nonce in {url}: {html}"))
}

async fn rest_nonce(app: &TestApp, client: &reqwest::Client) -> String {
    let resp = client
        .get(app.url("/wp-admin/admin-ajax.php?action=rest-nonce"))
        .send()
        .await
        .expect("ajax");
    assert_eq!(resp.status(), 200);
    resp.text().await.expect("nonce")
}

async fn me_status(client: &reqwest::Client, url: String) -> (u16, Value) {
    let resp = client.get(url).send().await.expect("send");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_application_password_is_refused_by_the_login_form() {
    let app = TestApp::spawn().await;
    let (alice, token) = app.user_with_token("alice", Role::Author).await;
    let client = browser();
    for password in [token.clone(), crate::helpers::chunked(&token)] {
        let resp = post_form(
            &client,
            &app.url("/wp-login.php"),
            &[("log", &alice.login), ("pwd", &password)],
        )
        .await;
        assert_eq!(resp.status(), 200);
        assert!(
            session_set_cookie(&resp).is_none(),
            "no session for a token"
        );
        let html = resp.text().await.expect("body");
        assert!(html.contains("is incorrect"), "{html}");
    }
    // Posted from another site (login CSRF): refused, no session.
    let resp = client
        .post(app.url("/wp-login.php"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("Sec-Fetch-Site", "cross-site")
        .body(form(&[("log", "alice"), ("pwd", "pass-alice")]))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 403);
    assert!(session_set_cookie(&resp).is_none());
    // The account password logs in.
    let resp = log_in(&app, &client, "alice").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/wp-admin/profile.php");
}

#[tokio::test]
async fn session_cookie_is_httponly_lax_and_secure_over_https() {
    let app = TestApp::spawn().await;
    app.create_user("alice", Role::Author).await;
    let cookie = session_set_cookie(&log_in(&app, &browser(), "alice").await).expect("cookie");
    assert!(cookie.contains("; HttpOnly"), "{cookie}");
    assert!(cookie.contains("; SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("; Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    assert!(
        !cookie.contains("Max-Age"),
        "a browser-session cookie: {cookie}"
    );

    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("cert");
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).expect("write cert");
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).expect("write key");
    let tls = TestApp::spawn_with(|a| {
        production(a);
        a.tls_cert = Some(cert_path.clone());
        a.tls_key = Some(key_path.clone());
    })
    .await;
    tls.create_user("bob", Role::Author).await;
    let client = browser();
    let resp = post_form(
        &client,
        &tls.url("/wp-login.php"),
        &[
            ("log", "bob"),
            ("pwd", "pass-bob"),
            ("rememberme", "forever"),
        ],
    )
    .await;
    let cookie = session_set_cookie(&resp).expect("cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(
        cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        cookie.contains("; Max-Age=1209600"),
        "Remember Me: 14 days: {cookie}"
    );
    // Over HTTPS in production the section can create passwords.
    let html = client
        .get(tls.url("/wp-admin/profile.php"))
        .send()
        .await
        .expect("profile")
        .text()
        .await
        .expect("body");
    assert!(html.contains("do_new_application_password"), "{html}");
}

#[tokio::test]
async fn forms_without_a_valid_nonce_are_refused() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice", Role::Author).await;
    let client = browser();
    log_in(&app, &client, "alice").await;
    let url = app.url("/wp-admin/profile.php");
    for nonce in [None, Some("0123456789"), Some("")] {
        let mut pairs = vec![
            ("action", "create-application-password"),
            ("new_application_password_name", "csrf"),
        ];
        if let Some(n) = nonce {
            pairs.push(("_wpnonce", n));
        }
        let resp = post_form(&client, &url, &pairs).await;
        assert_eq!(resp.status(), 403, "nonce {nonce:?}");
        assert!(
            resp.text()
                .await
                .expect("body")
                .contains("The link you followed has expired.")
        );
    }
    assert!(
        ferropress::application_passwords::list(&app.site, alice.id)
            .await
            .expect("list")
            .is_empty()
    );
    // Another user's nonce is not this user's.
    app.create_user("bob", Role::Author).await;
    let bob = browser();
    log_in(&app, &bob, "bob").await;
    let bobs = page_nonce(&bob, &url).await;
    let resp = post_form(
        &client,
        &url,
        &[
            ("_wpnonce", &bobs),
            ("action", "create-application-password"),
            ("new_application_password_name", "csrf"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 403);
    // With the page's own nonce the form works.
    let nonce = page_nonce(&client, &url).await;
    let resp = post_form(
        &client,
        &url,
        &[
            ("_wpnonce", &nonce),
            ("action", "create-application-password"),
            ("new_application_password_name", "mine"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.text()
            .await
            .expect("body")
            .contains("new-application-password-value")
    );
    // Every other admin form too: users.php, user-new.php, authorize-application.php.
    app.create_user("root", Role::Administrator).await;
    let root = browser();
    log_in(&app, &root, "root").await;
    for (path, action) in [
        ("/wp-admin/users.php", "promote"),
        ("/wp-admin/user-new.php", "createuser"),
        (
            "/wp-admin/authorize-application.php",
            "authorize_application_password",
        ),
    ] {
        let resp = post_form(
            &root,
            &app.url(path),
            &[
                ("action", action),
                ("new_role", "administrator"),
                ("users[]", &alice.id.to_string()),
                ("user_login", "x"),
                ("email", "x@example.com"),
                ("pass1", "x"),
                ("role", "administrator"),
                ("approve", "1"),
                ("app_name", "x"),
            ],
        )
        .await;
        assert_eq!(resp.status(), 403, "{path}");
    }
    let alice_now = app
        .site
        .store
        .user_by_id(alice.id)
        .await
        .expect("get")
        .expect("alice");
    assert_eq!(alice_now.roles, vec![Role::Author]);
    assert!(
        app.site
            .store
            .user_by_login("x")
            .await
            .expect("get")
            .is_none()
    );
}

#[tokio::test]
async fn rest_cookie_authentication_follows_the_nonce() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice", Role::Author).await;
    let client = browser();
    log_in(&app, &client, "alice").await;
    let me = app.url("/wp-json/wp/v2/users/me");

    // A valid cookie without a nonce: anonymous, as WordPress (user 0).
    let (status, body) = me_status(&client, me.clone()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("rest_not_logged_in"))
    );

    // A wrong nonce: 403 rest_cookie_invalid_nonce, not cacheable.
    let resp = client
        .get(&me)
        .header("X-WP-Nonce", "0123456789")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 403);
    assert!(
        resp.headers()["cache-control"]
            .to_str()
            .expect("cc")
            .contains("no-store")
    );
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["code"], "rest_cookie_invalid_nonce");
    assert_eq!(body["message"], "Cookie check failed");
    assert_eq!(body["data"]["status"], 403);

    // The right nonce, as a header or `_wpnonce`: the cookie's user, and a fresh nonce back.
    let nonce = rest_nonce(&app, &client).await;
    let resp = client
        .get(&me)
        .header("X-WP-Nonce", &nonce)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-wp-nonce"));
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["id"], alice.id);
    let (status, body) = me_status(&client, format!("{me}?_wpnonce={nonce}")).await;
    assert_eq!((status, body["id"].as_i64()), (200, Some(alice.id)));

    // Cookie-authenticated writes: the user manages their own passwords over REST.
    let resp = client
        .post(app.url("/wp-json/wp/v2/users/me/application-passwords"))
        .header("X-WP-Nonce", &nonce)
        .json(&serde_json::json!({ "name": "from the browser" }))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 201);

    // A nonce without the cookie means nothing; another user's nonce is refused.
    let (status, _) = me_status(&reqwest::Client::new(), format!("{me}?_wpnonce={nonce}")).await;
    assert_eq!(status, 401);
    app.create_user("bob", Role::Author).await;
    let bob = browser();
    log_in(&app, &bob, "bob").await;
    let resp = bob
        .get(&me)
        .header("X-WP-Nonce", &nonce)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 403);

    // admin-ajax answers 0 to a visitor.
    let resp = reqwest::Client::new()
        .get(app.url("/wp-admin/admin-ajax.php?action=rest-nonce"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.text().await.expect("body"), "0");
}

#[tokio::test]
async fn logout_ends_the_session_server_side() {
    let app = TestApp::spawn().await;
    app.create_user("alice", Role::Author).await;
    let client = browser();
    let resp = log_in(&app, &client, "alice").await;
    let set = session_set_cookie(&resp).expect("cookie");
    let pair = set.split(';').next().expect("pair").to_owned();
    let profile = app.url("/wp-admin/profile.php");
    let html = client
        .get(&profile)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    let re =
        regex::Regex::new(r#"href="(/wp-login\.php\?action=logout&#38;_wpnonce=[0-9a-f]{10})""#)
            .expect("re");
    let logout = re.captures(&html).expect("logout link")[1].replace("&#38;", "&");

    // Without the nonce WordPress asks first; the session stays.
    let resp = client
        .get(app.url("/wp-login.php?action=logout"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 403);
    assert!(
        resp.text()
            .await
            .expect("body")
            .contains("Do you really want to")
    );
    assert_eq!(
        client.get(&profile).send().await.expect("get").status(),
        200
    );

    let resp = client.get(app.url(&logout)).send().await.expect("logout");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/wp-login.php?loggedout=true");
    let cleared = session_set_cookie(&resp).expect("cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    // The old cookie, replayed as is, no longer opens anything.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = replay
        .get(&profile)
        .header("Cookie", &pair)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(
        resp.headers()[LOCATION]
            .to_str()
            .expect("loc")
            .starts_with("/wp-login.php?redirect_to=")
    );
    let resp = replay
        .get(app.url("/wp-json/wp/v2/users/me"))
        .header("Cookie", &pair)
        .header("X-WP-Nonce", "0123456789")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 401, "a dead session is no cookie at all");
}

#[tokio::test]
async fn login_failures_are_throttled() {
    let app = TestApp::spawn_with(|a| {
        a.security.auth_failures_per_minute = 1;
        a.security.auth_failures_burst = 2;
    })
    .await;
    app.create_user("alice", Role::Author).await;
    let client = browser();
    let url = app.url("/wp-login.php");
    for _ in 0..2 {
        let resp = post_form(&client, &url, &[("log", "alice"), ("pwd", "wrong")]).await;
        assert_eq!(resp.status(), 200);
    }
    let resp = post_form(&client, &url, &[("log", "alice"), ("pwd", "pass-alice")]).await;
    assert_eq!(resp.status(), 429, "this IP is over its limit");
    assert!(resp.headers().contains_key("retry-after"));
    assert!(session_set_cookie(&resp).is_none());
    assert!(
        resp.text()
            .await
            .expect("body")
            .contains("Too many failed login attempts")
    );
}

#[tokio::test]
async fn only_administrators_manage_other_users() {
    let app = TestApp::spawn().await;
    let admin = app.create_user("root", Role::Administrator).await;
    let editor = app.create_user("ed", Role::Editor).await;
    let token = app.create_token(admin.id, "root's").await;
    let client = browser();
    log_in(&app, &client, "ed").await;
    let nonce = page_nonce(&client, &app.url("/wp-admin/profile.php")).await;
    let edit = app.url(&format!("/wp-admin/user-edit.php?user_id={}", admin.id));
    assert_eq!(client.get(&edit).send().await.expect("get").status(), 403);
    let resp = post_form(
        &client,
        &app.url("/wp-admin/user-edit.php"),
        &[
            ("_wpnonce", &nonce),
            ("user_id", &admin.id.to_string()),
            ("action", "revoke-all-application-passwords"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        client
            .get(app.url("/wp-admin/users.php"))
            .send()
            .await
            .expect("get")
            .status(),
        403
    );
    assert_eq!(
        client
            .get(app.url("/wp-admin/user-new.php"))
            .send()
            .await
            .expect("get")
            .status(),
        403
    );
    let (status, _) = crate::helpers::send(
        app.client
            .get(app.url("/wp-json/wp/v2/users/me"))
            .basic_auth("root", Some(&token)),
    )
    .await;
    assert_eq!(status, 200, "the administrator's password survived");

    // The administrator may, and can change roles but not demote themselves.
    let root = browser();
    log_in(&app, &root, "root").await;
    assert_eq!(
        root.get(&edit).send().await.expect("get").status(),
        StatusCode::SEE_OTHER
    );
    let page = app.url(&format!("/wp-admin/user-edit.php?user_id={}", editor.id));
    assert_eq!(root.get(&page).send().await.expect("get").status(), 200);
    let nonce = page_nonce(&root, &app.url("/wp-admin/users.php")).await;
    let resp = post_form(
        &root,
        &app.url("/wp-admin/users.php"),
        &[
            ("_wpnonce", &nonce),
            ("action", "promote"),
            ("new_role", "subscriber"),
            ("users[]", &admin.id.to_string()),
            ("users[]", &editor.id.to_string()),
        ],
    )
    .await;
    assert_eq!(
        resp.headers()[LOCATION],
        "/wp-admin/users.php?update=err_admin_role"
    );
    let store = &app.site.store;
    assert_eq!(
        store
            .user_by_id(admin.id)
            .await
            .expect("get")
            .expect("u")
            .roles,
        vec![Role::Administrator]
    );
    assert_eq!(
        store
            .user_by_id(editor.id)
            .await
            .expect("get")
            .expect("u")
            .roles,
        vec![Role::Subscriber]
    );
}

#[tokio::test]
async fn the_section_explains_when_application_passwords_are_unavailable() {
    // Plain HTTP outside `local`.
    let app = TestApp::spawn_with(production).await;
    app.create_user("alice", Role::Author).await;
    let client = browser();
    log_in(&app, &client, "alice").await;
    let html = client
        .get(app.url("/wp-admin/profile.php"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(
        html.contains("requires HTTPS, which is not enabled on this site"),
        "{html}"
    );
    assert!(!html.contains("do_new_application_password"));
    let resp = client
        .get(app.url("/wp-admin/authorize-application.php?app_name=x"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 501);
    assert!(
        resp.text()
            .await
            .expect("body")
            .contains("Application passwords are not available.")
    );

    // A role the site does not allow them for.
    let app =
        TestApp::spawn_with(|a| a.application_passwords_for = AppPasswordGate::Administrators)
            .await;
    app.create_user("alice", Role::Author).await;
    let client = browser();
    log_in(&app, &client, "alice").await;
    let html = client
        .get(app.url("/wp-admin/profile.php"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(html.contains("not available for your account"), "{html}");
    assert!(!html.contains("do_new_application_password"));
}

#[tokio::test]
async fn authorize_application_validates_the_request_as_wordpress() {
    let app = TestApp::spawn().await;
    app.create_user("alice", Role::Author).await;
    let client = browser();
    // Logged out: to the login form, and back afterwards.
    let url = app.url("/wp-admin/authorize-application.php?app_name=App");
    let resp = client.get(&url).send().await.expect("get");
    let to = resp.headers()[LOCATION].to_str().expect("loc").to_owned();
    assert!(
        to.starts_with("/wp-login.php?redirect_to=%2Fwp-admin%2Fauthorize-application.php"),
        "{to}"
    );
    log_in(&app, &client, "alice").await;
    for (query, message) in [
        ("app_id=nope", "The application ID must be a UUID."),
        ("success_url=javascript%3Aalert(1)", "Invalid URL format."),
        ("reject_url=%2Frelative", "Invalid URL format."),
    ] {
        let resp = client
            .get(app.url(&format!("/wp-admin/authorize-application.php?{query}")))
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), 500, "{query}");
        let html = resp.text().await.expect("body");
        assert!(
            html.contains("The Authorize Application request is not allowed."),
            "{html}"
        );
        assert!(html.contains(message), "{query}: {html}");
    }
    // `local` allows plain-HTTP callbacks (WordPress 6.2+), production does not.
    let ok =
        client
            .get(app.url(
                "/wp-admin/authorize-application.php?success_url=http%3A%2F%2F127.0.0.1%3A9%2Fcb",
            ))
            .send()
            .await
            .expect("get");
    assert_eq!(ok.status(), 200);
    // A forged post is validated too: no password goes to a javascript: URL.
    let nonce = page_nonce(&client, &app.url("/wp-admin/authorize-application.php")).await;
    let resp = post_form(
        &client,
        &app.url("/wp-admin/authorize-application.php"),
        &[
            ("_wpnonce", &nonce),
            ("action", "authorize_application_password"),
            ("app_name", "Evil"),
            ("success_url", "javascript://x/%0aalert(1)"),
            ("approve", "1"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 500);
    let alice = app
        .site
        .store
        .user_by_login("alice")
        .await
        .expect("get")
        .expect("alice");
    assert!(
        ferropress::application_passwords::list(&app.site, alice.id)
            .await
            .expect("list")
            .is_empty()
    );

    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("cert");
    let dir = tempfile::tempdir().expect("tempdir");
    let (c, k) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&c, cert.cert.pem()).expect("write");
    std::fs::write(&k, cert.signing_key.serialize_pem()).expect("write");
    let prod = TestApp::spawn_with(|a| {
        production(a);
        a.tls_cert = Some(c.clone());
        a.tls_key = Some(k.clone());
    })
    .await;
    prod.create_user("bob", Role::Author).await;
    let client = browser();
    post_form(
        &client,
        &prod.url("/wp-login.php"),
        &[("log", "bob"), ("pwd", "pass-bob")],
    )
    .await;
    let resp =
        client
            .get(prod.url(
                "/wp-admin/authorize-application.php?success_url=http%3A%2F%2Fapp.example%2Fcb",
            ))
            .send()
            .await
            .expect("get");
    assert_eq!(resp.status(), 500);
    assert!(
        resp.text()
            .await
            .expect("body")
            .contains("The URL must be served over a secure connection.")
    );
    let resp =
        client
            .get(prod.url(
                "/wp-admin/authorize-application.php?success_url=https%3A%2F%2Fapp.example%2Fcb",
            ))
            .send()
            .await
            .expect("get");
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_new_password_ends_every_session() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice", Role::Author).await;
    let client = browser();
    log_in(&app, &client, "alice").await;
    let profile = app.url("/wp-admin/profile.php");
    assert_eq!(
        client.get(&profile).send().await.expect("get").status(),
        200
    );
    let changes = ferropress::users::UserChanges {
        password: Some("a-new-password".into()),
        ..Default::default()
    };
    ferropress::users::update_user(&app.site, alice, changes)
        .await
        .expect("password changed");
    let resp = client.get(&profile).send().await.expect("get");
    assert_eq!(
        resp.status(),
        StatusCode::SEE_OTHER,
        "logged out by the new password"
    );
}

#[tokio::test]
async fn login_redirects_stay_on_the_site() {
    let app = TestApp::spawn().await;
    app.create_user("alice", Role::Author).await;
    for (asked, expected) in [
        ("/wp-admin/users.php?x=1", "/wp-admin/users.php?x=1"),
        ("https://evil.example/", "/wp-admin/"),
        ("//evil.example/", "/wp-admin/"),
        ("/\\evil.example", "/wp-admin/"),
        ("/caf\u{e9}", "/wp-admin/"),
        (&app.url("/wp-admin/profile.php"), "/wp-admin/profile.php"),
    ] {
        let resp = post_form(
            &browser(),
            &app.url("/wp-login.php"),
            &[
                ("log", "alice"),
                ("pwd", "pass-alice"),
                ("redirect_to", asked),
            ],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{asked}");
        assert_eq!(resp.headers()[LOCATION], expected, "{asked}");
    }
}
