//! Crash safety (issue 9): the real binary is killed with SIGKILL while 20 clients create
//! posts and Application Passwords; after a restart on the same data, every write that was
//! answered 2xx is there, and SQLite's `PRAGMA integrity_check` says `ok`.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::*;

const CLIENTS: usize = 20;

/// Starts `ferropress serve` on `storage`; returns the child and its base URL.
fn serve(storage: &ferropress::config::StorageArgs) -> (Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferropress"));
    store_env(&mut cmd, storage);
    let mut child = cmd
        .args(["serve", "--bind", "127.0.0.1:0", "--usage-flush-secs", "1"])
        .env("FERROPRESS_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let mut err = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = err.read_to_string(&mut sink);
    });
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("first line");
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = out.read_to_string(&mut sink);
    });
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("serving URL in {first:?}"))
        .trim_end_matches("/wp-json/")
        .to_owned();
    (child, base)
}

#[derive(Default)]
struct Confirmed {
    posts: Vec<(i64, String)>,
    tokens: Vec<(String, String)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_loses_no_acknowledged_write() {
    install_provider();
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = storage_for(dir.path());
    let out = cli_with(
        &storage,
        &[
            "user",
            "create",
            "boss",
            "boss@example.com",
            "--role=administrator",
            "--porcelain",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cli_with(
        &storage,
        &[
            "user",
            "application-password",
            "create",
            "boss",
            "crash",
            "--porcelain",
        ],
    );
    let token = stdout(&out).trim().to_owned();
    assert_eq!(token.len(), 24, "{}", stderr(&out));

    let (mut child, base) = serve(&storage);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let confirmed = Arc::new(Mutex::new(Confirmed::default()));
    let mut tasks = vec![];
    for c in 0..CLIENTS {
        let (client, base, token, confirmed) = (
            client.clone(),
            base.clone(),
            token.clone(),
            confirmed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let name = format!("crash-{c}-{i}");
                let (path, body) = if i % 2 == 0 {
                    (
                        "/wp-json/wp/v2/posts",
                        json!({"title": name, "status": "publish"}),
                    )
                } else {
                    (
                        "/wp-json/wp/v2/users/me/application-passwords",
                        json!({"name": name}),
                    )
                };
                let resp = client
                    .post(format!("{base}{path}"))
                    .basic_auth("boss", Some(&token))
                    .json(&body)
                    .send()
                    .await;
                let Ok(resp) = resp else { return };
                if !resp.status().is_success() {
                    continue;
                }
                let Ok(v) = resp.json::<Value>().await else {
                    return;
                };
                let mut done = confirmed.lock().expect("lock");
                if i % 2 == 0 {
                    done.posts.push((v["id"].as_i64().expect("id"), name));
                } else {
                    let uuid = v["uuid"].as_str().expect("uuid").to_owned();
                    done.tokens.push((uuid, name));
                }
            }
        }));
    }
    // Kill in the middle of the traffic: once a good number of writes are acknowledged.
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let n = {
            let d = confirmed.lock().expect("lock");
            d.posts.len() + d.tokens.len()
        };
        if n >= 150 || started.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    for t in tasks {
        t.await.expect("client task");
    }
    let done = std::mem::take(&mut *confirmed.lock().expect("lock"));
    assert!(
        !done.posts.is_empty() && !done.tokens.is_empty(),
        "traffic ran"
    );

    // Restart on the same data and look for every acknowledged write.
    let (mut child, base) = serve(&storage);
    let mut lost = vec![];
    for (id, name) in &done.posts {
        let resp = client
            .get(format!("{base}/wp-json/wp/v2/posts/{id}?context=edit"))
            .basic_auth("boss", Some(&token))
            .send()
            .await
            .expect("get post");
        let ok = resp.status() == 200
            && resp.json::<Value>().await.expect("json")["title"]["raw"] == json!(name);
        if !ok {
            lost.push(format!("post {id} ({name})"));
        }
    }
    for (uuid, name) in &done.tokens {
        let resp = client
            .get(format!(
                "{base}/wp-json/wp/v2/users/me/application-passwords/{uuid}"
            ))
            .basic_auth("boss", Some(&token))
            .send()
            .await
            .expect("get token");
        let ok = resp.status() == 200
            && resp.json::<Value>().await.expect("json")["name"] == json!(name);
        if !ok {
            lost.push(format!("token {uuid} ({name})"));
        }
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    let integrity = if storage.database_url.is_none() {
        use sqlx::Connection as _;
        let mut conn = sqlx::SqliteConnection::connect(&format!(
            "sqlite://{}",
            dir.path().join("ferropress.db").display()
        ))
        .await
        .expect("open sqlite");
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&mut conn)
            .await
            .expect("integrity_check");
        conn.close().await.expect("close");
        rows.join("; ")
    } else {
        "n/a (PostgreSQL)".to_owned()
    };
    eprintln!(
        "crash test ({}): {} posts and {} tokens acknowledged before SIGKILL, {} lost; \
         integrity_check: {integrity}",
        if storage.database_url.is_none() {
            "SQLite"
        } else {
            "PostgreSQL"
        },
        done.posts.len(),
        done.tokens.len(),
        lost.len()
    );
    assert!(lost.is_empty(), "lost acknowledged writes: {lost:?}");
    if storage.database_url.is_none() {
        assert_eq!(integrity, "ok");
    }
}
