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

/// A 1×1 PNG.
fn tiny_png() -> Vec<u8> {
    let mut img = image::RgbImage::new(1, 1);
    img.put_pixel(0, 0, image::Rgb([200, 30, 30]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_commands_write_through_the_posts_route() {
    let app = TestApp::spawn().await;
    let admin_token = app.create_token(1, "cli-tests").await;
    let admin = ("admin", admin_token.as_str());
    let author = wp_ok(
        &app,
        &[
            "user",
            "create",
            "dana",
            "dana@example.com",
            "--role=author",
            "--porcelain",
        ],
    );
    let author = author.trim().to_owned();
    let news = wp_ok(&app, &["term", "create", "category", "News", "--porcelain"]);
    let news: i64 = news.trim().parse().expect("term id");

    // Content from a file, a category by name, tags by name (created), meta.
    let file = app.data_dir.path().join("content.html");
    std::fs::write(&file, "<p>From a file</p>").expect("write");
    let id = wp_ok(
        &app,
        &[
            "post",
            "create",
            file.to_str().expect("path"),
            "--post_title=Filed",
            "--post_status=publish",
            &format!("--post_author={author}"),
            "--post_category=News",
            "--tags_input=alpha,beta",
            "--meta_input={\"source\":\"cli\"}",
            "--porcelain",
        ],
    );
    let id: i64 = id.trim().parse().expect("post id");
    let (status, post) = app.get_json(&format!("/wp-json/wp/v2/posts/{id}")).await;
    assert_eq!(status, 200, "published and public at once");
    assert_eq!(post["title"]["rendered"], "Filed");
    assert_eq!(post["content"]["rendered"], "<p>From a file</p>\n");
    assert_eq!(post["author"].to_string(), author);
    assert_eq!(post["categories"], serde_json::json!([news]));
    assert_eq!(post["tags"].as_array().map(Vec::len), Some(2));
    let (_, tags) = app.get_json("/wp-json/wp/v2/tags").await;
    let names: Vec<&str> = tags
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["alpha", "beta"]);
    assert_eq!(
        wp_ok(&app, &["post", "meta", "get", &id.to_string(), "source"]),
        "cli\n"
    );

    // The same KSES as the API: as an author (no unfiltered_html) a script is removed.
    let out = app.cli(&[
        "post",
        "create",
        "--user=dana",
        "--post_title=Risky",
        "--post_content=<p>ok</p><script>alert(1)</script>",
        "--porcelain",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let risky = stdout(&out).trim().to_owned();
    let (_, post) = get_as(
        &app,
        admin,
        &format!("/wp-json/wp/v2/posts/{risky}?context=edit"),
    )
    .await;
    assert_eq!(post["content"]["raw"], "<p>ok</p>alert(1)");
    assert_eq!(post["status"], "draft");
    // And the same validation: an unknown status is refused, nothing is created.
    let err = wp_err(
        &app,
        &["post", "create", "--post_title=x", "--post_status=bogus"],
    );
    assert!(err.contains("status is not one of"), "{err}");
    let err = wp_err(
        &app,
        &["post", "create", "--post_title=x", "--post_category=Nope"],
    );
    assert_eq!(err, "Error: No such post category 'Nope'.\n");

    // Lists and get.
    let list = json_of_str(&wp_ok(&app, &["post", "list", "--format=json"]));
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    assert_eq!(
        list[0]
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(
            ["ID", "post_title", "post_name", "post_date", "post_status"]
                .map(String::from)
                .to_vec()
        )
    );
    assert_eq!(
        wp_ok(
            &app,
            &["post", "list", "--post_status=publish", "--field=ID"]
        ),
        format!("{id}\n")
    );
    assert_eq!(
        wp_ok(
            &app,
            &["post", "list", "--post_type=page", "--format=count"]
        ),
        "0\n"
    );
    let page = wp_ok(
        &app,
        &["page", "create", "--post_title=About", "--porcelain"],
    );
    assert_eq!(wp_ok(&app, &["page", "list", "--format=ids"]), page.clone());
    let got = json_of_str(&wp_ok(
        &app,
        &["post", "get", &id.to_string(), "--format=json"],
    ));
    assert_eq!(got["post_title"], "Filed");
    assert_eq!(got["post_name"], "filed");
    assert_eq!(got["post_type"], "post");
    assert_eq!(got["post_author"], author.as_str());

    // Update, seen by the running server.
    assert_eq!(
        wp_ok(
            &app,
            &["post", "update", &id.to_string(), "--post_title=Refiled"]
        ),
        format!("Success: Updated post {id}.\n")
    );
    let (_, post) = app.get_json(&format!("/wp-json/wp/v2/posts/{id}")).await;
    assert_eq!(post["title"]["rendered"], "Refiled");

    // Meta.
    let sid = id.to_string();
    assert_eq!(
        wp_ok(&app, &["post", "meta", "set", &sid, "mood", "calm"]),
        "Success: Updated custom field 'mood'.\n"
    );
    assert_eq!(
        wp_ok(&app, &["post", "meta", "set", &sid, "mood", "calm"]),
        "Success: Value passed for custom field 'mood' is unchanged.\n"
    );
    let meta = json_of_str(&wp_ok(
        &app,
        &["post", "meta", "list", &sid, "--format=json"],
    ));
    // In the order written (`meta_id`), as `get_post_meta()` lists them.
    assert_eq!(
        meta,
        serde_json::json!([
            {"post_id": id, "meta_key": "source", "meta_value": "cli"},
            {"post_id": id, "meta_key": "mood", "meta_value": "calm"},
        ])
    );
    assert_eq!(
        wp_ok(&app, &["post", "meta", "delete", &sid, "mood"]),
        "Success: Deleted custom field.\n"
    );
    let out = app.cli(&["post", "meta", "get", &sid, "mood"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());

    // Delete: to the trash, then for good.
    assert_eq!(
        wp_ok(&app, &["post", "delete", &sid]),
        format!("Success: Trashed post {id}.\n")
    );
    let (status, _) = app.get_json(&format!("/wp-json/wp/v2/posts/{id}")).await;
    assert_eq!(status, 401, "a trashed post is not public");
    assert_eq!(
        wp_ok(&app, &["post", "delete", &sid]),
        format!("Success: Deleted post {id}.\n")
    );
    let (status, _) = get_as(&app, admin, &format!("/wp-json/wp/v2/posts/{id}")).await;
    assert_eq!(status, 404);
    let err = wp_err(&app, &["post", "get", &sid]);
    assert_eq!(
        err,
        format!("Error: Could not find the post with ID {id}.\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn term_option_and_media_commands() {
    let app = TestApp::spawn().await;

    // Terms.
    assert_eq!(
        wp_ok(
            &app,
            &["term", "create", "post_tag", "Rust", "--description=Lang"]
        ),
        "Success: Created post_tag 2.\n"
    );
    let (_, tag) = app.get_json("/wp-json/wp/v2/tags/2").await;
    assert_eq!(tag["slug"], "rust");
    assert_eq!(tag["description"], "Lang");
    assert_eq!(
        wp_ok(
            &app,
            &["term", "update", "post_tag", "2", "--name=Rust lang"]
        ),
        "Success: Term updated.\n"
    );
    let (_, tag) = app.get_json("/wp-json/wp/v2/tags/2").await;
    assert_eq!(tag["name"], "Rust lang");
    let err = wp_err(&app, &["term", "create", "post_tag", "Rust lang"]);
    assert_eq!(
        err,
        "Error: A term with the name provided already exists in this taxonomy.\n"
    );
    let terms = json_of_str(&wp_ok(&app, &["term", "list", "category", "--format=json"]));
    assert_eq!(terms[0]["name"], "Uncategorized");
    assert_eq!(
        terms[0]
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(
            [
                "term_id",
                "term_taxonomy_id",
                "name",
                "slug",
                "description",
                "parent",
                "count"
            ]
            .map(String::from)
            .to_vec()
        )
    );
    let out = wp_ok(&app, &["term", "delete", "post_tag", "2"]);
    assert_eq!(out, "Deleted post_tag 2.\nSuccess: Deleted 1 of 1 terms.\n");
    let (status, _) = app.get_json("/wp-json/wp/v2/tags/2").await;
    assert_eq!(status, 404);
    wp_err(&app, &["term", "list", "nav_menu"]);

    // Options: the running server's index shows the new title on its next request.
    assert_eq!(
        wp_ok(&app, &["option", "update", "blogname", "CLI Site"]),
        "Success: Updated 'blogname' option.\n"
    );
    let (_, index) = app.get_json("/wp-json/").await;
    assert_eq!(index["name"], "CLI Site");
    assert_eq!(wp_ok(&app, &["option", "get", "blogname"]), "CLI Site\n");
    assert_eq!(
        wp_ok(&app, &["option", "update", "blogname", "CLI Site"]),
        "Success: Value passed for 'blogname' option is unchanged.\n"
    );
    let err = wp_err(&app, &["option", "update", "admin_email", "nope"]);
    assert!(err.starts_with("Error: "), "{err}");
    let err = wp_err(&app, &["option", "get", "active_plugins"]);
    assert_eq!(
        err,
        "Error: Could not get 'active_plugins' option. Does it exist?\n"
    );
    let listed = json_of_str(&wp_ok(
        &app,
        &["option", "list", "--search=blog*", "--format=json"],
    ));
    assert_eq!(listed[0]["option_name"], "blogname");
    assert_eq!(listed[0]["option_value"], "CLI Site");

    // Media: uploaded through the media route, set as the featured image.
    let post = wp_ok(
        &app,
        &[
            "post",
            "create",
            "--post_title=Pictured",
            "--post_status=publish",
            "--porcelain",
        ],
    );
    let post = post.trim().to_owned();
    let png = app.data_dir.path().join("red dot.png");
    std::fs::write(&png, tiny_png()).expect("write");
    let png = png.to_str().expect("path").to_owned();
    let out = wp_ok(
        &app,
        &[
            "media",
            "import",
            &png,
            &format!("--post_id={post}"),
            "--title=Red dot",
            "--featured_image",
        ],
    );
    let first = out.lines().next().unwrap_or_default().to_owned();
    assert!(
        first.starts_with(&format!("Imported file '{png}' as attachment ID ")),
        "{out}"
    );
    assert!(first.ends_with(&format!(" and attached to post {post} as featured image.")));
    assert_eq!(out.lines().nth(1), Some("Success: Imported 1 of 1 items."));
    let (_, p) = app.get_json(&format!("/wp-json/wp/v2/posts/{post}")).await;
    let media = p["featured_media"].as_i64().expect("featured");
    assert!(media > 0);
    let (status, m) = app.get_json(&format!("/wp-json/wp/v2/media/{media}")).await;
    assert_eq!(status, 200);
    assert_eq!(m["title"]["rendered"], "Red dot");
    assert_eq!(m["mime_type"], "image/png");
    assert_eq!(m["post"].to_string(), post);
    // The file is served by the running server.
    let file = app
        .client
        .get(
            m["source_url"]
                .as_str()
                .expect("url")
                .replace("http://127.0.0.1:8080", &app.base),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(file.status(), 200);
    // A URL is downloaded first: here the file the running server serves.
    let url = m["source_url"]
        .as_str()
        .expect("url")
        .replace("http://127.0.0.1:8080", &app.base);
    let again = wp_ok(&app, &["media", "import", &url, "--porcelain"]);
    let again = again.trim().to_owned();
    let (status, m2) = app.get_json(&format!("/wp-json/wp/v2/media/{again}")).await;
    assert_eq!(status, 200);
    assert_eq!(m2["mime_type"], "image/png");
    assert_eq!(m2["media_details"]["width"], 1);
    // A missing file: a warning, then an error.
    let out = app.cli(&["media", "import", "/nonexistent/x.png"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Warning: Unable to import file /nonexistent/x.png. Reason: File doesn't exist.\nError: No items imported.\n"
    );
}

/// The script of docs/recipes.md ("Scripts written for WP-CLI"), written for WP-CLI, with
/// `wp` replaced by `ferropress`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wp_cli_recipe_runs_unchanged() {
    let app = TestApp::spawn().await;
    let recipes = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/recipes.md"))
        .expect("recipes");
    let script = recipes
        .split_once("<!-- wp-cli-recipe -->\n```sh\n")
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .map(|(block, _)| block)
        .expect("the WP-CLI script block in docs/recipes.md");
    let script = script
        .lines()
        .map(|l| {
            l.replace("$(wp ", "$(ferropress ").replacen(
                "wp ",
                "ferropress ",
                usize::from(l.starts_with("wp ")),
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!script.contains("$(wp "));
    let png = app.data_dir.path().join("cover.png");
    std::fs::write(&png, tiny_png()).expect("write");
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_ferropress"))
        .parent()
        .expect("bin dir")
        .to_owned();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(&script)
        .arg("wp-cli-recipe.sh")
        .arg(&png)
        .env("PATH", path)
        .env("FERROPRESS_DATA_DIR", &app.storage.data_dir)
        .env("FERROPRESS_URL", &app.base);
    match &app.storage.database_url {
        Some(url) => {
            use secrecy::ExposeSecret as _;
            cmd.env("FERROPRESS_DATABASE_URL", url.expose_secret())
        }
        None => cmd.env_remove("FERROPRESS_DATABASE_URL"),
    };
    let out = cmd.output().expect("sh");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    let token = lines[0]
        .strip_prefix("Application Password for jane: ")
        .expect("token line");
    let (status, me) = get_as(&app, ("jane", token), "/wp-json/wp/v2/users/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["name"], "Jane Doe");
    let (post_id, media_id) = {
        let rest = lines[1]
            .strip_prefix("Featured image of post ")
            .expect("featured line");
        let (post, rest) = rest.split_once(": ").expect("colon");
        let (media, attachment) = rest.split_once(" (attachment ").expect("attachment");
        assert_eq!(
            format!("{media})"),
            attachment,
            "_thumbnail_id is the import"
        );
        (post.to_owned(), media.to_owned())
    };
    let listed = json_of_str(lines[2]);
    assert_eq!(
        listed,
        serde_json::json!([{
            "ID": post_id.parse::<i64>().expect("id"),
            "post_title": "Hello from the shell",
            "post_status": "publish"
        }])
    );
    assert_eq!(lines[3], format!("Success: Deleted post {post_id}."));
    let (status, _) = app
        .get_json(&format!("/wp-json/wp/v2/posts/{post_id}"))
        .await;
    assert_eq!(status, 404);
    let (status, media) = app
        .get_json(&format!("/wp-json/wp/v2/media/{media_id}"))
        .await;
    assert_eq!(status, 200, "the attachment stays, as in WordPress");
    assert!(
        media["source_url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&app.base)),
        "links use FERROPRESS_URL: {media}"
    );
    let (_, cats) = app
        .get_json("/wp-json/wp/v2/categories?slug=announcements")
        .await;
    assert_eq!(cats[0]["name"], "Announcements");
}

/// Before any administrator exists (no server has run on the data dir), a write says how
/// to make one; with one, `--user` picks who acts, and an unknown one is an error.
#[test]
fn commands_need_someone_to_act_as() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let out = cli(d, &["post", "create", "--post_title=x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with(
            "Error: No administrator to run as: create one with `ferropress user create"
        ),
        "{}",
        stderr(&out)
    );
    let out = cli(
        d,
        &[
            "user",
            "create",
            "root",
            "root@example.com",
            "--role=administrator",
            "--porcelain",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cli(d, &["post", "create", "--post_title=x", "--user=ghost"]);
    assert_eq!(
        stderr(&out),
        "Error: Invalid user ID, email or login: 'ghost'\n"
    );
    let out = cli(d, &["post", "create", "--post_title=x", "--porcelain"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let id = stdout(&out).trim().to_owned();
    let out = cli(d, &["post", "get", &id, "--field=post_author"]);
    assert_eq!(stdout(&out), "1\n");
    let out = cli(d, &["post", "list", "--post_type=nope"]);
    assert_eq!(
        stderr(&out),
        "Error: 'nope' is not a registered post type.\n"
    );
    let out = cli(d, &["post", "list", "--format=xml"]);
    assert_eq!(stderr(&out), "Error: Invalid format: xml\n");
}
