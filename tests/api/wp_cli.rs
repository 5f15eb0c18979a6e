//! The WP-CLI commands (`ferropress user|post|term|option|media …`) run as processes on the
//! data dir (or PostgreSQL schema) of a running server; their effect is checked through the
//! server's REST API, which must see each write on its next request.

use std::process::{Command, Output};

use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

use crate::helpers::*;

/// `ferropress ARGS` on the app's store with extra environment variables.
fn wp_env(app: &TestApp, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferropress"));
    store_env(&mut cmd, &app.storage);
    cmd.env_remove("SHELL_PIPE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).output().expect("run ferropress")
}

/// A command that must succeed; its standard output.
fn wp_ok(app: &TestApp, args: &[&str]) -> String {
    let out = app.cli(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// A command that must fail with exit code 1 and an `Error:` line; its standard error.
fn wp_err(app: &TestApp, args: &[&str]) -> String {
    let out = app.cli(args);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stdout(&out));
    assert!(
        stderr(&out).starts_with("Error: "),
        "{args:?}: {}",
        stderr(&out)
    );
    stderr(&out)
}

fn json_of_str(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// `GET` as `login` with an Application Password.
async fn get_as(app: &TestApp, auth: (&str, &str), path: &str) -> (u16, Value) {
    send(
        app.client
            .get(app.url(path))
            .basic_auth(auth.0, Some(auth.1)),
    )
    .await
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("ferropress-tests/1.0")
        .build()
        .expect("client")
}

/// Logs in through the login form; whether a session began.
async fn log_in(app: &TestApp, client: &reqwest::Client, login: &str, password: &str) -> bool {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("log", login),
            ("pwd", password),
            ("redirect_to", "/wp-admin/profile.php"),
        ])
        .finish();
    let resp = client
        .post(app.url("/wp-login.php"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("send");
    resp.status() == 303
}

/// Whether the browser's session still opens the profile screen.
async fn session_alive(app: &TestApp, client: &reqwest::Client) -> bool {
    let resp = client
        .get(app.url("/wp-admin/profile.php"))
        .send()
        .await
        .expect("send");
    resp.status() == 200
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_commands_write_through_the_api_and_end_sessions() {
    let app = TestApp::spawn().await;
    let admin_token = app.create_token(1, "cli-tests").await;
    let admin = ("admin", admin_token.as_str());

    let id = wp_ok(
        &app,
        &[
            "user",
            "create",
            "bob",
            "bob@example.com",
            "--role=author",
            "--user_pass=first-pass",
            "--porcelain",
        ],
    );
    let id = id.trim().to_owned();
    let bob = browser();
    assert!(log_in(&app, &bob, "bob", "first-pass").await);
    assert!(session_alive(&app, &bob).await);

    // A profile and password change: the running server serves the new name at once, and
    // the password change ends the session, as the REST route does.
    let out = wp_ok(
        &app,
        &[
            "user",
            "update",
            "bob",
            "--display_name=Bobby B",
            "--user_pass=second-pass",
        ],
    );
    assert_eq!(out, format!("Success: Updated user {id}.\n"));
    let (status, user) = get_as(&app, admin, &format!("/wp-json/wp/v2/users/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(user["name"], "Bobby B");
    assert!(!session_alive(&app, &bob).await, "the old session ended");
    assert!(!log_in(&app, &browser(), "bob", "first-pass").await);
    assert!(log_in(&app, &bob, "bob", "second-pass").await);

    // The same validation as the API: a bad email is refused, nothing changes.
    let err = wp_err(
        &app,
        &["user", "update", "bob", "--user_email=not-an-email"],
    );
    assert_eq!(err, "Error: Invalid email address.\n");
    let err = wp_err(&app, &["user", "update", "bob", "--role=overlord"]);
    assert_eq!(err, "Error: Role doesn't exist: overlord\n");

    // Roles.
    let out = wp_ok(&app, &["user", "set-role", "bob", "editor"]);
    assert_eq!(
        out,
        format!(
            "Success: Added bob ({id}) to {} as editor.\n",
            "http://127.0.0.1:8080"
        )
    );
    let (_, user) = get_as(
        &app,
        admin,
        &format!("/wp-json/wp/v2/users/{id}?context=edit"),
    )
    .await;
    assert_eq!(user["roles"], serde_json::json!(["editor"]));
    let out = wp_ok(&app, &["user", "add-role", &id, "author"]);
    assert_eq!(
        out,
        format!("Success: Added 'author' role for bob ({id}).\n")
    );
    assert_eq!(
        wp_ok(&app, &["user", "get", "bob", "--field=roles"]),
        "editor, author\n"
    );
    let out = wp_ok(&app, &["user", "remove-role", "bob@example.com", "editor"]);
    assert_eq!(
        out,
        format!("Success: Removed 'editor' role from bob ({id}).\n")
    );
    assert_eq!(
        wp_ok(&app, &["user", "get", "bob", "--field=roles"]),
        "author\n"
    );

    // Lists in every format.
    let list = json_of_str(&wp_ok(&app, &["user", "list", "--format=json"]));
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    assert_eq!(list[1]["user_login"], "bob");
    assert_eq!(list[1]["display_name"], "Bobby B");
    assert_eq!(list[1]["roles"], "author");
    assert_eq!(
        list[1]
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(
            [
                "ID",
                "user_login",
                "display_name",
                "user_email",
                "user_registered",
                "roles"
            ]
            .map(String::from)
            .to_vec()
        )
    );
    assert_eq!(wp_ok(&app, &["user", "list", "--format=count"]), "2\n");
    assert_eq!(
        wp_ok(&app, &["user", "list", "--format=ids"]),
        format!("1 {id}\n")
    );
    assert_eq!(
        wp_ok(&app, &["user", "list", "--role=author", "--field=login"]),
        "bob\n"
    );
    assert_eq!(
        wp_ok(
            &app,
            &["user", "list", "--fields=ID,user_login", "--format=csv"]
        ),
        format!("ID,user_login\n1,admin\n{id},bob\n")
    );
    // A pipe gets tab-separated rows; a terminal (SHELL_PIPE=0) the bordered table.
    assert_eq!(
        wp_ok(&app, &["user", "list", "--fields=ID,user_login"]),
        format!("ID\tuser_login\n1\tadmin\n{id}\tbob\n")
    );
    let table = stdout(&wp_env(
        &app,
        &[("SHELL_PIPE", "0")],
        &["user", "list", "--fields=ID,user_login"],
    ));
    assert_eq!(
        table,
        format!(
            "+----+------------+\n| ID | user_login |\n+----+------------+\n| 1  | admin      |\n| {id}  | bob        |\n+----+------------+\n"
        )
    );
    let err = wp_err(&app, &["user", "list", "--fields=ID,nope"]);
    assert_eq!(err, "Error: Invalid field: nope.\n");

    // A new password, printed once; it logs in.
    let pass = wp_ok(&app, &["user", "reset-password", "bob", "--porcelain"]);
    let pass = pass.trim();
    assert_eq!(pass.len(), 24);
    assert!(!session_alive(&app, &bob).await);
    assert!(log_in(&app, &bob, "bob", pass).await);
    let out = wp_ok(&app, &["user", "reset-password", "bob", "--show-password"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Reset password for bob.");
    assert!(lines[1].starts_with("Password: "));
    assert_eq!(lines[2], "Success: Password reset for 1 user.");
    let pass = lines[1].trim_start_matches("Password: ");

    // Sessions end on request.
    assert!(log_in(&app, &bob, "bob", pass).await);
    assert!(session_alive(&app, &bob).await);
    assert_eq!(
        wp_ok(&app, &["user", "session", "destroy", "bob", "--all"]),
        "Success: Destroyed all sessions.\n"
    );
    assert!(!session_alive(&app, &bob).await);

    // Deleting asks first; no answer, nothing deleted.
    let out = app.cli(&["user", "delete", "bob"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("--reassign parameter not passed."));
    assert_eq!(wp_ok(&app, &["user", "list", "--format=count"]), "2\n");
    let out = wp_ok(&app, &["user", "delete", "bob", "--reassign=1"]);
    assert_eq!(
        out,
        format!("Success: Removed user {id} from http://127.0.0.1:8080.\n")
    );
    let (status, _) = get_as(&app, admin, &format!("/wp-json/wp/v2/users/{id}")).await;
    assert_eq!(status, 404);
    wp_err(&app, &["user", "get", "bob"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_password_commands() {
    let app = TestApp::spawn().await;
    wp_ok(
        &app,
        &[
            "user",
            "create",
            "carol",
            "carol@example.com",
            "--role=editor",
            "--user_pass=x",
        ],
    );
    let token = wp_ok(
        &app,
        &[
            "user",
            "application-password",
            "create",
            "carol",
            "Deploy",
            "--porcelain",
        ],
    );
    let token = token.trim().to_owned();
    wp_ok(
        &app,
        &["user", "application-password", "create", "carol", "Backup"],
    );
    // The running server accepts the token at once.
    let (status, me) = get_as(&app, ("carol", &token), "/wp-json/wp/v2/users/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["slug"], "carol");

    let ap = |rest: &[&str]| {
        let mut v = vec!["user", "application-password"];
        v.extend_from_slice(rest);
        v.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |rest: &[&str]| {
        let args = ap(rest);
        app.cli(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };

    let names = stdout(&run(&[
        "list",
        "carol",
        "--orderby=name",
        "--order=asc",
        "--field=name",
    ]));
    assert_eq!(names, "Backup\nDeploy\n");
    let uuid = stdout(&run(&["list", "carol", "--name=Deploy", "--field=uuid"]));
    let uuid = uuid.trim().to_owned();
    assert_eq!(uuid.len(), 36);
    assert_eq!(stdout(&run(&["list", "carol", "--format=count"])), "2\n");
    let listed = stdout(&run(&["list", "carol", "--format=json"]));
    assert!(!listed.contains(&token), "the token is never listed");
    assert!(!listed.contains("$generic$"), "nor its hash");

    assert_eq!(run(&["exists", "carol", "deploy"]).status.code(), Some(0));
    let out = run(&["exists", "carol", "Nothing"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));

    assert_eq!(
        stdout(&run(&["update", "carol", &uuid, "--name=Deploy bot"])),
        "Success: Updated application password.\n"
    );
    let out = run(&["update", "carol", &uuid, "--name=backup"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Error: Each application name should be unique.\n"
    );
    let item = json_of_str(&stdout(&run(&["get", "carol", &uuid, "--format=json"])));
    assert_eq!(item["name"], "Deploy bot");
    assert_eq!(item["last_used"], Value::Null);
    assert_eq!(
        stdout(&run(&["record-usage", "carol", &uuid])),
        "Success: Recorded application password usage.\n"
    );
    let item = json_of_str(&stdout(&run(&["get", "carol", &uuid, "--format=json"])));
    assert!(item["last_used"].as_i64().is_some(), "{item}");
    // The REST route lists the rename.
    let (_, items) = get_as(
        &app,
        ("carol", &token),
        "/wp-json/wp/v2/users/me/application-passwords",
    )
    .await;
    assert!(
        items
            .as_array()
            .expect("array")
            .iter()
            .any(|i| i["name"] == "Deploy bot")
    );

    // Several UUIDs, one unknown: the known one goes, exit code 1.
    let out = run(&[
        "delete",
        "carol",
        &uuid,
        "11111111-2222-4333-8444-555555555555",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "Success: Deleted 1 of 2 application passwords.\n"
    );
    assert!(stderr(&out).starts_with("Warning: Failed to delete UUID 11111111-"));
    // The running server refuses the revoked token on its next request.
    let (status, _) = get_as(&app, ("carol", &token), "/wp-json/wp/v2/users/me").await;
    assert_eq!(status, 401);
    assert_eq!(
        stdout(&run(&["delete", "carol", "--all"])),
        "Success: Deleted all application passwords.\n"
    );
    assert_eq!(stdout(&run(&["list", "carol", "--format=count"])), "0\n");
    let out = run(&["delete", "carol"]);
    assert_eq!(out.status.code(), Some(1));
}
