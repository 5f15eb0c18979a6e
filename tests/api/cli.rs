//! The `ferropress` command line, run as a process.

use crate::helpers::*;

#[test]
fn user_and_application_password_lifecycle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();

    let out = cli(
        d,
        &[
            "user",
            "create",
            "alice",
            "alice@example.com",
            "--role=author",
            "--user_pass=s3cret",
            "--porcelain",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let id: i64 = stdout(&out).trim().parse().expect("id");

    let out = cli(d, &["user", "list", "--format=json"]);
    let users: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(users[0]["ID"], id);
    assert_eq!(users[0]["roles"], "author");

    let out = cli(
        d,
        &[
            "user",
            "application-password",
            "create",
            "alice",
            "My Integration",
            "--porcelain",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().to_owned();
    assert_eq!(token.len(), 24);
    assert!(token.chars().all(|c| c.is_ascii_alphanumeric()));

    // Same name again: WordPress's duplicate-name refusal, non-zero exit, nothing on stdout.
    let out = cli(
        d,
        &[
            "user",
            "application-password",
            "create",
            "alice",
            "My Integration",
        ],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("Each application name should be unique."),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());

    let app_id = "2b2a6c1e-8a4b-4f0e-9a65-5c1b7b0f5e11";
    let out = cli(
        d,
        &[
            "user",
            "application-password",
            "create",
            "alice@example.com",
            "CI",
            &format!("--app-id={app_id}"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("Success: Created application password.\nPassword: "));

    let out = cli(
        d,
        &[
            "user",
            "application-password",
            "list",
            &id.to_string(),
            "--format=json",
        ],
    );
    let items: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let items = items.as_array().expect("array");
    assert_eq!(items.len(), 2);
    // Newest first (WP-CLI's `--orderby=created --order=desc`), which may be either when
    // both were made in the same second.
    let ci = items.iter().find(|i| i["name"] == "CI").expect("CI listed");
    assert_eq!(ci["app_id"], app_id);
    assert!(!stdout(&out).contains(&token), "the token is never listed");
    assert!(!stdout(&out).contains("$generic$"), "nor its hash");

    let table = stdout(&cli(d, &["user", "application-password", "list", "alice"]));
    assert!(table.starts_with("uuid"), "{table}");
    assert!(table.contains("My Integration"));

    let out = cli(
        d,
        &["user", "application-password", "delete", "alice", "--all"],
    );
    assert!(out.status.success());
    assert_eq!(
        stdout(&out).trim(),
        "Success: Deleted all application passwords."
    );
    let out = cli(
        d,
        &[
            "user",
            "application-password",
            "list",
            "alice",
            "--format=json",
        ],
    );
    assert_eq!(stdout(&out).trim(), "[]");
}

#[test]
fn errors_go_to_stderr_with_non_zero_exit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let cases: &[&[&str]] = &[
        &[
            "user",
            "create",
            "bob",
            "bob@example.com",
            "--role=overlord",
        ],
        &["user", "create", "bob", "not-an-email"],
        &["user", "application-password", "create", "ghost", "x"],
        &["user", "application-password", "delete", "ghost", "--all"],
        &["user", "application-password", "list", "ghost"],
    ];
    for args in cases {
        let out = cli(d, args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            stderr(&out).starts_with("Error: "),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let out = cli(
        d,
        &[
            "user",
            "create",
            "bob",
            "bob@example.com",
            "--user_pass=x",
            "--porcelain",
        ],
    );
    assert!(out.status.success());
    let out = cli(
        d,
        &[
            "user",
            "create",
            "bob",
            "other@example.com",
            "--user_pass=x",
        ],
    );
    assert!(stderr(&out).contains("Sorry, that username already exists!"));
    let out = cli(
        d,
        &[
            "user",
            "create",
            "bobby",
            "BOB@example.com",
            "--user_pass=x",
        ],
    );
    assert!(stderr(&out).contains("Sorry, that email address is already used!"));
    let out = cli(
        d,
        &[
            "user",
            "application-password",
            "create",
            "bob",
            "<script>x</script>",
        ],
    );
    assert!(
        stderr(&out).contains("An application name is required"),
        "{}",
        stderr(&out)
    );
    let out = cli(
        d,
        &[
            "user",
            "application-password",
            "delete",
            "bob",
            "00000000-0000-4000-8000-000000000000",
        ],
    );
    assert!(!out.status.success());
}

#[test]
fn create_without_password_prints_a_generated_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = cli(
        dir.path(),
        &["user", "create", "eve", "eve@example.com", "--role=editor"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("Success: Created user 1."), "{text}");
    let pw = text
        .lines()
        .find_map(|l| l.strip_prefix("Password: "))
        .expect("password line");
    assert_eq!(pw.len(), 24);
}

#[test]
fn doctor_reports_weak_settings() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    // A data dir made by serve (through the CLI, which opens the store the same way).
    let out = cli_with(
        &ferropress::config::StorageArgs::sqlite(&data),
        &[
            "user",
            "create",
            "alice",
            "alice@example.com",
            "--porcelain",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doctor = |extra: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ferropress"));
        for var in [
            "FERROPRESS_DATABASE_URL",
            "FERROPRESS_BIND",
            "FERROPRESS_ENVIRONMENT",
        ] {
            cmd.env_remove(var);
        }
        cmd.arg("--data-dir").arg(&data).arg("doctor").args(extra);
        cmd.output().expect("run doctor")
    };

    let out = doctor(&[]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("no problems found"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("data dir"), "{}", stdout(&out));

    // World-readable data dir and database file.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(
        data.join("ferropress.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let out = doctor(&[]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("PROBLEM data dir"), "{text}");
    assert!(text.contains("PROBLEM database file"), "{text}");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    std::fs::set_permissions(
        data.join("ferropress.db"),
        std::fs::Permissions::from_mode(0o600),
    )
    .expect("chmod");

    // Plain HTTP on a public address, and `local` there.
    let out = doctor(&["--bind", "0.0.0.0:8080"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("PROBLEM plain HTTP on 0.0.0.0:8080"),
        "{}",
        stdout(&out)
    );
    let out = doctor(&["--bind", "0.0.0.0:8080", "--trusted-proxy", "10.0.0.1"]);
    assert!(out.status.success(), "{}", stdout(&out));
    let out = doctor(&[
        "--bind",
        "0.0.0.0:8080",
        "--trusted-proxy",
        "10.0.0.1",
        "--environment",
        "local",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("environment `local`"),
        "{}",
        stdout(&out)
    );

    // Throttle switched off, through the environment as serve would read it.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ferropress"));
    cmd.env_remove("FERROPRESS_DATABASE_URL")
        .env("FERROPRESS_AUTH_FAILURES_PER_MINUTE", "0")
        .arg("--data-dir")
        .arg(&data)
        .arg("doctor");
    let out = cmd.output().expect("doctor");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("throttle per IP is disabled"),
        "{}",
        stdout(&out)
    );
}
