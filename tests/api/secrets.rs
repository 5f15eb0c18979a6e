//! The real binary end to end: `serve` on port 0 with its first-run output, a token made
//! with the CLI used over HTTP, and the token found nowhere on disk or in the logs.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use crate::helpers::*;

fn find_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn token_never_reaches_disk_logs_or_errors() {
    install_provider();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferropress"));
    store_env(&mut child, &storage_for(dir.path()));
    let mut child = child
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("FERROPRESS_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    // Trace logging fills a pipe quickly (PostgreSQL's connection and migration logs alone
    // exceed its 64 KiB): drain stderr all along so the server never blocks on it.
    let mut stderr_pipe = child.stderr.take().expect("stderr");
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr_pipe.read_to_string(&mut text);
        text
    });
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("first line");
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("serving URL")
        .trim_end_matches("/wp-json/")
        .to_owned();
    let mut banner = String::new();
    for _ in 0..6 {
        stdout.read_line(&mut banner).expect("banner");
    }
    assert!(banner.contains("username: admin"), "{banner}");
    let admin_password = banner
        .lines()
        .find_map(|l| l.trim().strip_prefix("password: "))
        .expect("admin password")
        .to_owned();
    assert_eq!(admin_password.len(), 24);

    let out = cli(
        dir.path(),
        &[
            "user",
            "create",
            "alice",
            "alice@example.com",
            "--role=author",
            "--user_pass=s3cret",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cli(
        dir.path(),
        &[
            "user",
            "application-password",
            "create",
            "alice",
            "My Integration",
            "--porcelain",
        ],
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(token.len(), 24);

    let client = reqwest::Client::new();
    let resp = client
        .post(format!("{base}/wp-json/wp/v2/posts"))
        .basic_auth("alice", Some(chunked(&token)))
        .json(&serde_json::json!({"title":"My Post","status":"draft"}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 201);
    // A wrong token close to the real one: its error must not echo anything back.
    let near = format!("{}x", &token[..23]);
    let resp = client
        .get(format!("{base}/wp-json/wp/v2/users/me"))
        .basic_auth("alice", Some(&near))
        .send()
        .await
        .expect("send");
    let err = resp.text().await.expect("body");
    assert!(!err.contains(&token[..23]), "{err}");
    // The admin's account password does not work as an API credential either.
    let resp = client
        .get(format!("{base}/wp-json/wp/v2/users/me"))
        .basic_auth("admin", Some(&admin_password))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 401);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("wait");
    assert!(exit.success(), "graceful shutdown exits 0: {exit:?}");
    let mut logs = String::new();
    stdout.read_to_string(&mut logs).expect("stdout");
    logs.push_str(&stderr_reader.join().expect("stderr reader"));
    assert!(
        logs.contains("path=/wp-json/wp/v2/posts") || logs.contains("/wp-json/wp/v2/posts"),
        "one line per request"
    );

    for secret in [token.as_str(), &chunked(&token), &token[..12], &token[12..]] {
        assert!(!logs.contains(secret), "secret in logs");
    }
    for entry in std::fs::read_dir(dir.path()).expect("read dir") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("read");
        assert!(
            !find_bytes(&bytes, token.as_bytes()),
            "token found in {}",
            path.display()
        );
        assert!(
            !find_bytes(&bytes, admin_password.as_bytes()),
            "admin password found in {}",
            path.display()
        );
    }
}
