//! `ferropress backup` / `ferropress restore`: an online snapshot taken while clients write,
//! restored into a new data dir, serves exactly what had been acknowledged; damaged,
//! altered and hostile archives are refused and leave nothing behind.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ferropress::caps::Role;
use ferropress::config::StorageArgs;
use serde_json::{Value, json};

use crate::helpers::*;

const WRITERS: usize = 10;

/// A small PNG whose bytes depend on `seed`.
pub fn pattern_png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = image::GrayImage::from_fn(w, h, |x, y| image::Luma([(x * 7 + y * 13) as u8 ^ seed]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

/// (title, content) of every post a writer saw acknowledged (201), by id.
type Acked = Arc<std::sync::Mutex<BTreeMap<i64, (String, String)>>>;

async fn write_until(
    app_base: String,
    client: reqwest::Client,
    token: String,
    writer: usize,
    stop: Arc<AtomicBool>,
    acked: Acked,
) {
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let title = format!("writer {writer} post {n}");
        let content = format!("<p>content of {writer}/{n}</p>");
        let resp = client
            .post(format!("{app_base}/wp-json/wp/v2/posts"))
            .basic_auth("backup-admin", Some(&token))
            .json(&json!({"title": title, "content": content, "status": "publish"}))
            .send()
            .await;
        let Ok(resp) = resp else { continue };
        if resp.status().as_u16() == 201 {
            let v: Value = resp.json().await.expect("json");
            let id = v["id"].as_i64().expect("id");
            acked.lock().expect("lock").insert(id, (title, content));
        }
    }
}

/// Every post of a site through REST (edit context): id -> (title.raw, content.raw).
async fn posts_of(
    base: &str,
    client: &reqwest::Client,
    token: &str,
) -> BTreeMap<i64, (String, String)> {
    let mut out = BTreeMap::new();
    for page in 1.. {
        let resp = client
            .get(format!(
                "{base}/wp-json/wp/v2/posts?context=edit&per_page=100&page={page}&status=any"
            ))
            .basic_auth("backup-admin", Some(token))
            .send()
            .await
            .expect("list");
        let total_pages: u32 = resp.headers()["x-wp-totalpages"]
            .to_str()
            .expect("header")
            .parse()
            .expect("number");
        let (status, list) = json_of(resp).await;
        assert_eq!(status, 200, "{list}");
        for p in list.as_array().expect("array") {
            out.insert(
                p["id"].as_i64().expect("id"),
                (
                    p["title"]["raw"].as_str().expect("title").to_owned(),
                    p["content"]["raw"].as_str().expect("content").to_owned(),
                ),
            );
        }
        if page >= total_pages {
            break;
        }
    }
    out
}

async fn run_cli(storage: StorageArgs, args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli_with(&storage, &args)
    })
    .await
    .expect("cli")
}

fn sqlite_integrity(db: &Path) -> String {
    let db = db.to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            use sqlx::ConnectOptions as _;
            let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&db)
                .connect()
                .await
                .expect("open restored db");
            let check: String = sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_one(&mut conn)
                .await
                .expect("integrity_check");
            check
        })
    })
    .join()
    .expect("thread")
}

#[tokio::test]
async fn a_backup_taken_while_ten_clients_write_restores_exactly_the_acknowledged_content() {
    let app = TestApp::spawn().await;
    let (_, token) = app
        .user_with_token("backup-admin", Role::Administrator)
        .await;
    // An upload, to come back byte for byte.
    let upload = pattern_png(100, 100, 3);
    let (status, media) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/media"))
            .basic_auth("backup-admin", Some(&token))
            .header("content-type", "image/png")
            .header("content-disposition", "attachment; filename=\"notes.png\"")
            .body(upload.clone()),
    )
    .await;
    assert_eq!(status, 201, "{media}");
    let source_path = media["source_url"]
        .as_str()
        .expect("source_url")
        .trim_start_matches(&app.base)
        .to_owned();

    let stop = Arc::new(AtomicBool::new(false));
    let acked: Acked = Arc::default();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            tokio::spawn(write_until(
                app.base.clone(),
                app.client.clone(),
                token.clone(),
                w,
                stop.clone(),
                acked.clone(),
            ))
        })
        .collect();
    // Let the writers get going, then back up under them.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let before = acked.lock().expect("lock").clone();
    let out_dir = tempfile::tempdir().expect("tempdir");
    let archive = out_dir.path().join("site.tar.gz");
    let out = run_cli(
        app.storage.clone(),
        vec![
            "backup".into(),
            "--to".into(),
            archive.display().to_string(),
        ],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.expect("writer");
    }
    let all = acked.lock().expect("lock").clone();
    assert!(
        before.len() >= WRITERS,
        "the writers were writing when the backup began: {} posts",
        before.len()
    );
    assert!(all.len() > before.len(), "and went on during it");
    eprintln!(
        "backup under {WRITERS} writers: {} posts acknowledged before it began, {} in all",
        before.len(),
        all.len()
    );

    if postgres_base_url().is_some() {
        // PostgreSQL: the database is PostgreSQL's to back up; the archive has the uploads.
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stderr(&out).contains("pg_dump"), "{}", stderr(&out));
        let gz = flate2::read::GzDecoder::new(std::fs::File::open(&archive).expect("archive"));
        let names: String = tar::Archive::new(gz)
            .entries()
            .expect("tar")
            .map(|e| format!("{}\n", e.expect("entry").path().expect("path").display()))
            .collect();
        assert!(!names.contains("ferropress.db"), "{names}");
        assert!(names.contains("manifest.json"), "{names}");
        assert!(names.contains("notes"), "{names}");
        return;
    }
    assert!(out.status.success(), "backup failed: {}", stderr(&out));

    // Restore into a new dir, and serve it.
    let new_dir = tempfile::tempdir().expect("tempdir");
    let site_dir = new_dir.path().join("restored");
    let restored_storage = StorageArgs::sqlite(&site_dir);
    let out = run_cli(
        restored_storage.clone(),
        vec!["restore".into(), archive.display().to_string()],
    )
    .await;
    assert!(out.status.success(), "restore failed: {}", stderr(&out));
    assert_eq!(
        sqlite_integrity(&site_dir.join("ferropress.db")),
        "ok",
        "the restored database passes integrity_check"
    );

    let restored = TestApp::spawn_at(new_dir, restored_storage, |_| {}).await;
    // The same Application Password works: users and tokens came back too.
    let got = posts_of(&restored.base, &restored.client, &token).await;
    eprintln!("the restored site serves {} of them", got.len());
    for (id, post) in &before {
        assert_eq!(
            got.get(id),
            Some(post),
            "post {id}, acknowledged before the backup began, is in it as acknowledged"
        );
    }
    for (id, post) in &got {
        assert_eq!(
            all.get(id),
            Some(post),
            "post {id} of the backup was acknowledged to a client, with this content"
        );
    }
    // The snapshot is one moment: every post up to its newest is in it (ids grow with
    // each commit; no gap left by a half-copied state).
    let newest = *got.keys().max().expect("posts");
    let acked_up_to_newest: Vec<i64> = all.keys().copied().filter(|id| *id <= newest).collect();
    let restored_ids: Vec<i64> = got.keys().copied().collect();
    assert_eq!(
        restored_ids, acked_up_to_newest,
        "no acknowledged post missing below the newest"
    );

    let served = restored
        .client
        .get(restored.url(&source_path))
        .send()
        .await
        .expect("upload");
    assert_eq!(served.status(), 200);
    assert_eq!(
        served.bytes().await.expect("bytes").as_ref(),
        upload.as_slice()
    );
    restored.stop().await;
    app.stop().await;
}

/// A finished SQLite site's archive (uncompressed tar) and the data dir it came from.
async fn small_archive() -> (TestApp, tempfile::TempDir, std::path::PathBuf) {
    let app = TestApp::spawn().await;
    let (_, token) = app
        .user_with_token("backup-admin", Role::Administrator)
        .await;
    let (status, _) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/media"))
            .basic_auth("backup-admin", Some(&token))
            .header("content-type", "image/png")
            .header("content-disposition", "attachment; filename=\"notes.png\"")
            .body(pattern_png(20, 20, 9)),
    )
    .await;
    assert_eq!(status, 201);
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = dir.path().join("site.tar");
    let out = run_cli(
        app.storage.clone(),
        vec![
            "backup".into(),
            "--to".into(),
            archive.display().to_string(),
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    (app, dir, archive)
}

fn restore_into(archive: &Path, data_dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["restore", archive.to_str().expect("utf-8")];
    args.extend_from_slice(extra);
    cli_with(&StorageArgs::sqlite(data_dir), &args)
}

#[tokio::test]
async fn a_tampered_archive_is_refused_and_leaves_nothing() {
    let (app, dir, archive) = small_archive().await;
    let target = dir.path().join("restored");

    // A byte of the upload changed (the manifest unchanged): the checksum catches it.
    let mut bytes = std::fs::read(&archive).expect("read");
    let at = bytes
        .windows(4)
        .position(|w| w == b"\x89PNG")
        .expect("upload content in the tar");
    bytes[at + 20] ^= 0x55;
    let tampered = dir.path().join("tampered.tar");
    std::fs::write(&tampered, &bytes).expect("write");
    let out = restore_into(&tampered, &target, &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("checksum"), "{}", stderr(&out));
    assert!(!target.exists(), "a failed restore leaves no data dir");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("restore"))
        .collect();
    assert!(leftovers.is_empty(), "no staging dir left: {leftovers:?}");

    // Truncated: refused too.
    let truncated = dir.path().join("truncated.tar");
    let whole = std::fs::read(&archive).expect("read");
    std::fs::write(&truncated, &whole[..whole.len() / 2]).expect("write");
    let out = restore_into(&truncated, &target, &[]);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(!target.exists());

    // The intact archive restores; a second restore over it needs --force.
    let out = restore_into(&archive, &target, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = restore_into(&archive, &target, &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    // A refused --force restore (tampered) keeps the site that was there.
    let out = restore_into(&tampered, &target, &["--force"]);
    assert!(!out.status.success());
    assert!(
        target.join("uploads").is_dir(),
        "the site is left as it was"
    );
    let out = restore_into(&archive, &target, &["--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    app.stop().await;
}

/// A tar with one member named `name` (written raw: the tar crate refuses such names).
fn hostile_tar(name: &[u8], kind: tar::EntryType, link: Option<&[u8]>, body: &[u8]) -> Vec<u8> {
    let mut header = tar::Header::new_old();
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    if let Some(link) = link {
        header.as_old_mut().linkname[..link.len()].copy_from_slice(link);
    }
    header.set_entry_type(kind);
    header.set_size(body.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    let mut out = header.as_bytes().to_vec();
    out.extend_from_slice(body);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out.extend_from_slice(&[0u8; 1024]);
    out
}

#[test]
fn hostile_archives_write_nothing_outside_the_data_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("site");
    let escape = dir.path().join("escaped.txt");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "parent dir",
            hostile_tar(b"../escaped.txt", tar::EntryType::Regular, None, b"owned"),
        ),
        (
            "parent dir below uploads",
            hostile_tar(
                b"uploads/../../escaped.txt",
                tar::EntryType::Regular,
                None,
                b"owned",
            ),
        ),
        (
            "absolute path",
            hostile_tar(
                escape.to_str().expect("utf-8").as_bytes(),
                tar::EntryType::Regular,
                None,
                b"owned",
            ),
        ),
        (
            "symlink",
            hostile_tar(
                b"uploads/link",
                tar::EntryType::Symlink,
                Some(escape.to_str().expect("utf-8").as_bytes()),
                b"",
            ),
        ),
        (
            "hard link",
            hostile_tar(
                b"uploads/hard",
                tar::EntryType::Link,
                Some(b"../escaped.txt"),
                b"",
            ),
        ),
        (
            "unknown member",
            hostile_tar(b"run.sh", tar::EntryType::Regular, None, b"#!/bin/sh"),
        ),
    ];
    for (what, tar) in cases {
        let file = dir.path().join("hostile.tar");
        std::fs::write(&file, tar).expect("write");
        let out = restore_into(&file, &target, &[]);
        assert!(!out.status.success(), "{what}: refused");
        assert!(stderr(&out).contains("refused"), "{what}: {}", stderr(&out));
        assert!(!escape.exists(), "{what}: nothing written outside");
        assert!(!target.exists(), "{what}: no data dir left");
    }
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["hostile.tar".to_owned()], "nothing else left");
}

fn scheduled_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("backup dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ferropress-") && n.ends_with(".tar.gz"))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn scheduled_backups_keep_the_newest_ones() {
    let backups = tempfile::tempdir().expect("tempdir");
    let dir = backups.path().to_owned();
    let app = TestApp::spawn_with(|a| {
        a.backup_every = Some(Duration::from_secs(1));
        a.backup_dir = Some(dir.clone());
        a.backup_keep = 2;
    })
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let first_two = loop {
        let names = scheduled_in(&dir);
        if names.len() >= 2 {
            break names;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no scheduled backups: {names:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(first_two.len(), 2, "{first_two:?}");
    // A third one replaces the oldest.
    let later = loop {
        let names = scheduled_in(&dir);
        if names.last() != first_two.last() && names.len() == 2 {
            break names;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no third backup: {names:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        !later.contains(&first_two[0]),
        "the oldest is deleted: {later:?}"
    );
    assert_eq!(later[0], first_two[1]);
    // Each is a complete backup.
    let target = backups.path().join("restored");
    let out = restore_into(&dir.join(&later[0]), &target, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    app.stop().await;
}
