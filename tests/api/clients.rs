//! Real WordPress clients, written by other people, against this server (issue #10):
//! node-wpapi (`clients/wpapi.mjs`), `@wordpress/api-fetch` (`clients/api-fetch.mjs`), and the
//! recipes of `docs/recipes.md` as `curl` commands (`clients/curl/recipes.sh`), as `fetch`
//! blocks (`clients/fetch-recipes.mjs`) and with Python's `requests`
//! (`clients/python/recipes.py`), and a comment moderation script
//! (`clients/python/moderation.py`).
//!
//! Each test starts a server, makes an editor with an Application Password, runs the client
//! with `FERROPRESS_URL`, `WP_USER`, `WP_APP_PASSWORD` (and `KEEP_CREATED=1`), expects exit
//! status 0, and then checks through the API that what the client reported making (its last
//! line, `RESULT {json}`) is really there. The same scripts pass against WordPress 6.1
//! (docs/recipes.md, "Checking against WordPress").
//!
//! The clients are installed by `.ci/run` (`npm ci --prefix clients`, `requests` from PyPI).
//! Without them a test prints that it skipped; with `FERROPRESS_REQUIRE_CLIENTS=1` (CI) a
//! missing client fails instead.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use ferropress::caps::Role;
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::helpers::{TestApp, chunked, send};

const REQUIRE_VAR: &str = "FERROPRESS_REQUIRE_CLIENTS";

/// The meta key the recipes write, registered as `docs/recipes.md` shows.
const CONFIG: &str = r#"
[[meta]]
post_type = "post"
key = "subtitle"
type = "string"
single = true
default = ""
"#;

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("clients")
}

/// `None` when `program args` runs and exits 0; otherwise why not.
fn missing(program: &str, args: &[&str]) -> Option<String> {
    match Command::new(program).args(args).output() {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(format!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Some(format!("`{program}` not found ({e})")),
    }
}

/// The first missing prerequisite of a client, if any: skipped, or a failure under
/// `FERROPRESS_REQUIRE_CLIENTS=1`. Returns true when the test should go on.
fn prerequisites(client: &str, checks: &[Option<String>]) -> bool {
    let Some(why) = checks.iter().flatten().next() else {
        return true;
    };
    let how = "run `npm ci --prefix clients` and `python3 -m pip install -r clients/python/requirements.txt`, as .ci/run does";
    assert!(
        std::env::var(REQUIRE_VAR).as_deref() != Ok("1"),
        "clients: {client}: {why}; {REQUIRE_VAR}=1 requires every client ({how})"
    );
    println!("clients: {client} SKIPPED: {why} ({how})");
    false
}

fn node() -> Option<String> {
    missing(
        "node",
        &[
            "-e",
            "process.exit(Number(process.versions.node.split('.')[0]) >= 18 ? 0 : 1)",
        ],
    )
    .map(|why| format!("Node.js 18 or later is needed: {why}"))
}

fn node_module(name: &str) -> Option<String> {
    let dir = clients_dir().join("node_modules").join(name);
    (!dir.join("package.json").is_file()).then(|| format!("{} is not installed", dir.display()))
}

fn python_requests() -> Option<String> {
    missing("python3", &["-c", "import requests"])
        .map(|why| format!("Python's requests is not installed: {why}"))
}

/// A server whose data dir registers the recipes' meta key, with an editor and a token.
async fn site() -> (TestApp, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ferropress.toml"), CONFIG).expect("config");
    let app = TestApp::spawn_in(dir, |_| {}).await;
    let (user, token) = app.user_with_token("editor", Role::Editor).await;
    (app, user.login, token)
}

/// Runs a client against `app` and returns what it reported (`RESULT {json}`).
async fn run_client(
    app: &TestApp,
    login: &str,
    token: &str,
    program: &str,
    args: &[&str],
) -> Value {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(clients_dir())
        .env("FERROPRESS_URL", &app.base)
        .env("WP_USER", login)
        // As a user pastes it: in groups of four.
        .env("WP_APP_PASSWORD", chunked(token))
        .env("KEEP_CREATED", "1")
        .env("FERROPRESS_BIN", env!("CARGO_BIN_EXE_ferropress"))
        .env("FERROPRESS_DATA_DIR", &app.storage.data_dir)
        .env_remove("RECIPES_DOC");
    match &app.storage.database_url {
        Some(url) => cmd.env("FERROPRESS_DATABASE_URL", url.expose_secret()),
        None => cmd.env_remove("FERROPRESS_DATABASE_URL"),
    };
    let what = format!("{program} {}", args.join(" "));
    let started = Instant::now();
    // The server answers on this runtime while the client runs on a blocking thread.
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .unwrap_or_else(|e| panic!("running {what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let report = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "{what} failed ({}) against ferropress:\n{report}",
        out.status
    );
    println!("clients: {what}: passed in {:.1?}", started.elapsed());
    let result = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("{what} printed no RESULT line:\n{report}"));
    serde_json::from_str(result).unwrap_or_else(|e| panic!("RESULT of {what}: {e}: {result}"))
}

fn id(result: &Value, key: &str) -> i64 {
    result[key]
        .as_i64()
        .unwrap_or_else(|| panic!("RESULT has no {key}: {result}"))
}

impl TestApp {
    async fn get_as(&self, login: &str, token: &str, path: &str) -> (u16, Value) {
        send(
            self.client
                .get(self.url(path))
                .basic_auth(login, Some(token)),
        )
        .await
    }
}

/// What wpapi.mjs and api-fetch.mjs leave: a published post in a category, with an image.
async fn check_post_media_category(app: &TestApp, result: &Value) {
    let (post, media, category) = (
        id(result, "post"),
        id(result, "media"),
        id(result, "category"),
    );
    let (status, p) = app.get_json(&format!("/wp-json/wp/v2/posts/{post}")).await;
    assert_eq!(status, 200, "the post is public: {p}");
    assert_eq!(p["status"], "publish");
    assert_eq!(p["categories"], serde_json::json!([category]), "{p}");
    assert_eq!(p["featured_media"], media, "{p}");

    let (status, m) = app.get_json(&format!("/wp-json/wp/v2/media/{media}")).await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["post"], post, "the media is attached to the post: {m}");
    let served = app
        .client
        .get(m["source_url"].as_str().expect("source_url"))
        .send()
        .await
        .expect("get upload");
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    let bytes = served.bytes().await.expect("bytes");
    let fixture = std::fs::read(clients_dir().join("fixtures/photo.png")).expect("fixture");
    assert_eq!(
        bytes.as_ref(),
        fixture.as_slice(),
        "the upload is served as sent"
    );

    let (status, c) = app
        .get_json(&format!("/wp-json/wp/v2/categories/{category}"))
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["count"], 1, "one published post in the category: {c}");
}

/// What the recipes leave (the same through curl, fetch and requests).
async fn check_recipes(app: &TestApp, login: &str, token: &str, result: &Value) {
    let (published, scheduled, page) = (
        id(result, "published"),
        id(result, "scheduled"),
        id(result, "page"),
    );
    let (media, category) = (id(result, "media"), id(result, "category"));

    let (status, p) = app
        .get_json(&format!("/wp-json/wp/v2/posts/{published}"))
        .await;
    assert_eq!(status, 200, "published and public: {p}");
    assert_eq!(p["categories"], serde_json::json!([category]), "{p}");
    assert_eq!(p["meta"]["subtitle"], "Notes from the field", "{p}");

    let (status, s) = app
        .get_as(
            login,
            token,
            &format!("/wp-json/wp/v2/posts/{scheduled}?context=edit"),
        )
        .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["status"], "future", "{s}");
    assert_eq!(s["date"], "2099-01-01T09:00:00", "{s}");
    let (status, _) = app
        .get_json(&format!("/wp-json/wp/v2/posts/{scheduled}"))
        .await;
    assert_eq!(status, 401, "a scheduled post is not public yet");

    let (status, pg) = app
        .get_as(
            login,
            token,
            &format!("/wp-json/wp/v2/pages/{page}?context=edit"),
        )
        .await;
    assert_eq!(status, 200, "{pg}");
    assert_eq!(pg["title"]["raw"], "About us", "{pg}");
    assert_eq!(pg["status"], "publish", "{pg}");

    let (status, m) = app.get_json(&format!("/wp-json/wp/v2/media/{media}")).await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["mime_type"], "image/png", "{m}");

    let (status, tokens) = app
        .get_as(
            login,
            token,
            "/wp-json/wp/v2/users/me/application-passwords",
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    let names: Vec<&str> = tokens
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        !names.contains(&"Deploy script"),
        "the token made by the recipes was revoked: {names:?}"
    );
}

#[tokio::test]
async fn wpapi_client() {
    if !prerequisites("wpapi", &[node(), node_module("wpapi")]) {
        return;
    }
    let (app, login, token) = site().await;
    let result = run_client(&app, &login, &token, "node", &["wpapi.mjs"]).await;
    check_post_media_category(&app, &result).await;
    // The comment it moderated is approved again, its reply in the trash.
    let comment = id(&result, "comment");
    let (status, list) = app
        .get_json(&format!(
            "/wp-json/wp/v2/comments?post={}",
            id(&result, "post")
        ))
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["id"], comment, "{list}");
    assert_eq!(list[0]["status"], "approved", "{list}");
}

#[tokio::test]
async fn wpapi_settings_client() {
    if !prerequisites("wpapi", &[node(), node_module("wpapi")]) {
        return;
    }
    let (app, _, _) = site().await;
    let (_, token) = app
        .user_with_token("siteadmin", ferropress::caps::Role::Administrator)
        .await;
    let result = run_client(&app, "siteadmin", &token, "node", &["wpapi-settings.mjs"]).await;
    // KEEP_CREATED=1: the new title stays, for this check through the API.
    let (_, index) = app.get_json("/wp-json/").await;
    assert_eq!(index["name"], result["title"], "{index}");
    assert_eq!(index["timezone_string"], "Asia/Tokyo", "{index}");
    let post = id(&result, "post");
    let (_, p) = app.get_json(&format!("/wp-json/wp/v2/posts/{post}")).await;
    assert_eq!(p["date"], "2026-01-01T09:00:00", "{p}");
}

#[tokio::test]
async fn api_fetch_client() {
    if !prerequisites(
        "@wordpress/api-fetch",
        &[node(), node_module("@wordpress/api-fetch")],
    ) {
        return;
    }
    let (app, login, token) = site().await;
    let result = run_client(&app, &login, &token, "node", &["api-fetch.mjs"]).await;
    check_post_media_category(&app, &result).await;
}

#[tokio::test]
async fn fetch_recipes() {
    if !prerequisites("fetch recipes", &[node()]) {
        return;
    }
    let (app, login, token) = site().await;
    let result = run_client(&app, &login, &token, "node", &["fetch-recipes.mjs"]).await;
    check_recipes(&app, &login, &token, &result).await;
}

#[tokio::test]
async fn python_comment_moderation() {
    if !prerequisites("python moderation", &[python_requests()]) {
        return;
    }
    let (app, login, token) = site().await;
    let result = run_client(&app, &login, &token, "python3", &["python/moderation.py"]).await;
    let post = id(&result, "post");
    let (status, public) = app
        .get_json(&format!("/wp-json/wp/v2/comments?post={post}&order=asc"))
        .await;
    assert_eq!(status, 200, "{public}");
    let shown: Vec<i64> = public
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["id"].as_i64())
        .collect();
    assert_eq!(shown, vec![id(&result, "approved"), id(&result, "reply")]);
    let (status, spam) = app
        .get_as(
            &login,
            &token,
            &format!("/wp-json/wp/v2/comments/{}", id(&result, "spam")),
        )
        .await;
    assert_eq!((status, &spam["status"]), (200, &serde_json::json!("spam")));
    let (status, _) = app
        .get_as(
            &login,
            &token,
            &format!("/wp-json/wp/v2/comments/{}", id(&result, "deleted")),
        )
        .await;
    assert_eq!(status, 404, "deleted for good");
}

#[tokio::test]
async fn python_requests_recipes() {
    if !prerequisites("python requests", &[python_requests()]) {
        return;
    }
    let (app, login, token) = site().await;
    let result = run_client(&app, &login, &token, "python3", &["python/recipes.py"]).await;
    check_recipes(&app, &login, &token, &result).await;
    // Eleven drafts were made for pagination: nine are left as drafts.
    let drafts = result["drafts"].as_array().expect("drafts");
    assert_eq!(drafts.len(), 9, "{result}");
}

#[tokio::test]
async fn curl_recipes() {
    if !prerequisites(
        "curl recipes",
        &[
            missing("bash", &["--version"]),
            missing("curl", &["--version"]),
            missing("python3", &["--version"]),
        ],
    ) {
        return;
    }
    let (app, login, token) = site().await;
    let result = run_client(&app, &login, &token, "bash", &["curl/recipes.sh"]).await;
    check_recipes(&app, &login, &token, &result).await;
    let (_, p) = app
        .get_json(&format!(
            "/wp-json/wp/v2/posts/{}",
            id(&result, "published")
        ))
        .await;
    assert_eq!(p["featured_media"], id(&result, "media"), "{p}");
    // The command-line recipe made a token, which the script then used.
    let listed = app.cli(&[
        "user",
        "application-password",
        "list",
        &login,
        "--format=json",
    ]);
    let listed = crate::helpers::stdout(&listed);
    assert!(listed.contains("My Integration"), "{listed}");
}

fn python3() -> Option<String> {
    missing("python3", &["--version"])
}

fn python_wordpress_xmlrpc() -> Option<String> {
    missing("python3", &["-c", "import wordpress_xmlrpc"])
        .map(|why| format!("python-wordpress-xmlrpc is not installed: {why}"))
}

/// Python's standard `xmlrpc.client` publishes over `/xmlrpc.php` (issue 15).
#[tokio::test]
async fn python_xmlrpc_stdlib() {
    if !prerequisites("python xmlrpc.client", &[python3()]) {
        return;
    }
    let (app, login, token) = site().await;
    let result = run_client(
        &app,
        &login,
        &token,
        "python3",
        &["python/xmlrpc_stdlib.py"],
    )
    .await;
    check_post_media_category(&app, &result).await;
}

/// python-wordpress-xmlrpc from PyPI publishes over `/xmlrpc.php` (issue 15).
#[tokio::test]
async fn python_wordpress_xmlrpc_library() {
    if !prerequisites("python-wordpress-xmlrpc", &[python_wordpress_xmlrpc()]) {
        return;
    }
    let (app, login, token) = site().await;
    let result = run_client(
        &app,
        &login,
        &token,
        "python3",
        &["python/xmlrpc_library.py"],
    )
    .await;
    check_post_media_category(&app, &result).await;
}
