//! `/ferropress/health/live` and `/ferropress/health/ready` through a server's life: while it
//! starts (its database held by someone else), running, after losing its database, and
//! while it shuts down.

use std::time::Duration;

use ferropress::server;
use serde_json::Value;

use crate::helpers::*;

async fn probe(client: &reqwest::Client, base: &str, path: &str) -> (u16, Value, Option<String>) {
    let resp = client
        .get(format!("{base}{path}"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("health answers");
    let cache = resp
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let (status, body) = json_of(resp).await;
    (status, body, cache)
}

const LIVE: &str = "/ferropress/health/live";
const READY: &str = "/ferropress/health/ready";

#[tokio::test]
async fn health_while_running_needs_no_authentication_and_is_never_cached() {
    // Production: nothing else would answer an anonymous client without TLS.
    let app = TestApp::spawn_with(production).await;
    for _ in 0..2 {
        let (status, body, cache) = probe(&app.client, &app.base, LIVE).await;
        assert_eq!((status, &body["status"]), (200, &Value::from("ok")));
        assert_eq!(cache.as_deref(), Some("no-store"));
        let (status, body, cache) = probe(&app.client, &app.base, READY).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "ready");
        assert_eq!(cache.as_deref(), Some("no-store"));
    }
    // Credentials that fail do not turn health into a 401.
    let resp = app
        .client
        .get(app.url(READY))
        .basic_auth("nobody", Some("wrong wrong wrong wrong"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    app.stop().await;
}

/// Holds the database so that a server's start (its migrations) waits: a write lock on a
/// SQLite file, or the migration advisory lock in PostgreSQL. Released when dropped.
struct Blocker {
    release: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Blocker {
    fn hold(storage: &ferropress::config::StorageArgs) -> Self {
        use secrecy::ExposeSecret as _;
        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let (release, release_rx) = std::sync::mpsc::channel::<()>();
        let db = storage.data_dir.join("ferropress.db");
        let url = storage
            .database_url
            .as_ref()
            .map(|u| u.expose_secret().to_owned());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                use sqlx::{ConnectOptions as _, Connection as _};
                match url {
                    None => {
                        std::fs::create_dir_all(db.parent().expect("dir")).expect("dir");
                        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
                            .filename(&db)
                            .create_if_missing(true)
                            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                            .connect()
                            .await
                            .expect("open");
                        sqlx::raw_sql("BEGIN IMMEDIATE; CREATE TABLE held (x INTEGER);")
                            .execute(&mut conn)
                            .await
                            .expect("lock");
                        held_tx.send(()).expect("held");
                        let _ = release_rx.recv();
                        sqlx::raw_sql("ROLLBACK").execute(&mut conn).await.expect("rollback");
                        conn.close().await.expect("close");
                    }
                    Some(url) => {
                        let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
                        sqlx::raw_sql(
                            "SELECT pg_advisory_lock(hashtextextended('ferropress migrations ' || current_database() || '.' || current_schema(), 0))",
                        )
                        .execute(&mut conn)
                        .await
                        .expect("lock");
                        held_tx.send(()).expect("held");
                        let _ = release_rx.recv();
                        conn.close().await.expect("close");
                    }
                }
            });
        });
        held_rx.recv().expect("lock taken");
        Self {
            release: Some(release),
            thread: Some(thread),
        }
    }
}

impl Drop for Blocker {
    fn drop(&mut self) {
        drop(self.release.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[tokio::test]
async fn while_starting_live_answers_and_ready_says_starting() {
    install_provider();
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = storage_for(dir.path());
    let blocker = Blocker::hold(&storage);
    let starting = server::begin(default_args(), storage.clone())
        .await
        .expect("binds");
    let base = format!("http://{}", starting.addr);
    let client = reqwest::Client::new();
    // The start runs beside the probes (in this task: its future is not `'static`).
    let probes = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (status, body, _) = probe(&client, &base, LIVE).await;
        assert_eq!(status, 200, "{body}");
        let (status, body, cache) = probe(&client, &base, READY).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["reason"], "starting", "{body}");
        assert_eq!(cache.as_deref(), Some("no-store"));
        // The API itself is not served yet: 503 with Retry-After, not a wrong answer.
        let resp = client
            .get(format!("{base}/wp-json/wp/v2/posts"))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 503);
        assert_eq!(resp.headers()["retry-after"], "1");
        drop(blocker);
    };
    let (running, ()) = tokio::join!(starting.finish(), probes);
    let running = running.expect("the server starts once the database is free");
    let (status, body, _) = probe(&client, &base, READY).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = send(client.get(format!("{base}/wp-json/wp/v2/posts"))).await;
    assert_eq!(status, 200);
    running.stop().await.expect("stop");
}

#[tokio::test]
async fn ready_fails_when_the_database_is_lost() {
    let app = TestApp::spawn().await;
    let (status, body, _) = probe(&app.client, &app.base, READY).await;
    assert_eq!(status, 200, "{body}");
    match postgres_base_url() {
        None => {
            // The database file is taken away under the server (a volume gone, a file
            // deleted): the open descriptors would go on serving a file that no longer is
            // the site's.
            let db = app.data_dir.path().join("ferropress.db");
            let away = app.data_dir.path().join("moved-away.db");
            std::fs::rename(&db, &away).expect("move");
            let (status, body, _) = probe(&app.client, &app.base, READY).await;
            assert_eq!(status, 503, "{body}");
            assert_eq!(body["status"], "unavailable");
            assert!(
                body["reason"]
                    .as_str()
                    .expect("reason")
                    .contains("database file"),
                "{body}"
            );
            assert!(
                !body
                    .to_string()
                    .contains(app.data_dir.path().to_str().expect("utf-8")),
                "no path disclosed: {body}"
            );
            let (status, _, _) = probe(&app.client, &app.base, LIVE).await;
            assert_eq!(status, 200, "the process is alive");
            std::fs::rename(&away, &db).expect("move back");
            let (status, body, _) = probe(&app.client, &app.base, READY).await;
            assert_eq!(status, 200, "ready again once the file is back: {body}");
        }
        Some(_) => {
            // The site's tables are gone (its schema dropped).
            use secrecy::ExposeSecret as _;
            let url = app
                .storage
                .database_url
                .as_ref()
                .expect("url")
                .expose_secret()
                .to_owned();
            let base = require_postgres();
            let schema = url
                .rsplit("search_path%3D")
                .next()
                .expect("schema in url")
                .to_owned();
            admin_sql(base, format!("DROP SCHEMA \"{schema}\" CASCADE"));
            let (status, body, _) = probe(&app.client, &app.base, READY).await;
            assert_eq!(status, 503, "{body}");
            assert_eq!(body["reason"], "the database does not answer", "{body}");
            let (status, _, _) = probe(&app.client, &app.base, LIVE).await;
            assert_eq!(status, 200, "the process is alive");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn ready_turns_false_when_a_graceful_shutdown_begins() {
    let mut app = TestApp::spawn_with(|a| a.shutdown_drain_secs = 2).await;
    let (status, _, _) = probe(&app.client, &app.base, READY).await;
    assert_eq!(status, 200);
    app.server_mut().begin_shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Draining: still serving, but telling the load balancer to stop sending traffic.
    let (status, body, _) = probe(&app.client, &app.base, READY).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["reason"], "shutting down");
    let (status, _, _) = probe(&app.client, &app.base, LIVE).await;
    assert_eq!(status, 200);
    let (status, _) = app.get_json("/wp-json/wp/v2/posts").await;
    assert_eq!(status, 200, "requests are still served while draining");
    let base = app.base.clone();
    app.stop().await;
    let fresh = reqwest::Client::new();
    assert!(
        fresh.get(format!("{base}{LIVE}")).send().await.is_err(),
        "the listener is closed after the drain"
    );
}

#[tokio::test]
async fn the_binary_survives_sighup_and_drains_on_sigterm() {
    use std::io::BufRead as _;
    install_provider();
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = storage_for(dir.path());
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ferropress"));
    store_env(&mut cmd, &storage);
    cmd.args([
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--shutdown-drain-secs",
        "3",
    ])
    .env_remove("FERROPRESS_TLS_CERT")
    .env_remove("FERROPRESS_TLS_KEY")
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("serve");
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("banner");
    // "ferropress is serving http://127.0.0.1:PORT/wp-json/ (…)"
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("address in the banner")
        .trim_end_matches("/wp-json/")
        .to_owned();
    let client = reqwest::Client::new();
    let signal = |sig: &str| {
        let status = std::process::Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    };
    // `systemctl reload` on a server without TLS: nothing to reload, and it keeps serving.
    signal("-HUP");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, _, _) = probe(&client, &base, READY).await;
    assert_eq!(status, 200);
    // SIGTERM: not ready at once, still answering during the drain, then gone.
    signal("-TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, body, _) = probe(&client, &base, READY).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["reason"], "shutting down");
    let exit = tokio::task::spawn_blocking(move || child.wait().expect("wait"))
        .await
        .expect("join");
    assert!(exit.success(), "a clean exit after the drain: {exit}");
}
