//! Every resource has a bound (issue 14): the read cache counts every byte it holds, silent
//! connections are closed and their number is capped, image sub-sizes are made only within
//! a pixel budget decided from the header, id lists of any length work, and request
//! targets have a length limit answered with an error, not a hang.

use std::time::Duration;

use ferropress::caps::Role;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt as _;

use crate::helpers::*;

/// Generous bound on waits that the fixed code finishes in about a second; the old code
/// never finished them.
const PATIENCE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_flood_of_distinct_urls_keeps_the_read_cache_within_its_byte_cap() {
    if postgres_base_url().is_some() {
        // PostgreSQL never uses the read cache.
        return;
    }
    let app = TestApp::spawn().await;
    // 5,000 distinct 1.8 KB request targets, all answered `[]`: their keys alone (9 MB)
    // are more than the cache's cap, and they are more than its entry bound.
    let workers = 16;
    let per_worker = 320;
    let pad = "x".repeat(1800);
    let mut tasks = vec![];
    for w in 0..workers {
        let (client, base, pad) = (app.client.clone(), app.base.clone(), pad.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..per_worker {
                let url = format!("{base}/wp-json/wp/v2/posts?search=nothing&u{w}x{i}={pad}");
                let resp = client.get(url).send().await.expect("send");
                assert_eq!(resp.status(), 200);
                assert_eq!(resp.text().await.expect("body"), "[]");
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker");
    }
    let stats = app.site.cache.response_stats();
    assert!(stats.entries > 0, "answers are cached: {stats:?}");
    assert!(stats.entries <= stats.max_entries, "{stats:?}");
    assert!(stats.bytes <= stats.max_bytes, "{stats:?}");
    // Keys count: every entry holds a key of more than 1,800 bytes.
    assert!(stats.bytes >= stats.entries * 1800, "{stats:?}");

    // A request target longer than any a client repeats is answered but not kept.
    let before = app.site.cache.response_stats();
    let long = format!(
        "/wp-json/wp/v2/posts?search=nothing&long={}",
        "y".repeat(4000)
    );
    let (status, body) = app.get_json(&long).await;
    assert_eq!((status, body), (200, json!([])));
    assert_eq!(app.site.cache.response_stats().entries, before.entries);
}

#[tokio::test]
async fn silent_connections_are_closed_and_their_number_is_bounded() {
    let max = 20;
    let app = TestApp::spawn_with(|a| {
        a.security.max_connections = max;
        a.security.header_read_timeout_secs = 1;
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    // More connections than the bound, none of which ever sends a byte.
    let extra = 5;
    let mut conns = vec![];
    for _ in 0..max + extra {
        conns.push(
            tokio::net::TcpStream::connect(&addr)
                .await
                .expect("connect"),
        );
    }
    let mut reads = vec![];
    for mut c in conns {
        reads.push(tokio::spawn(async move {
            let mut got = vec![];
            let done = tokio::time::timeout(PATIENCE, c.read_to_end(&mut got)).await;
            (done.is_ok(), String::from_utf8_lossy(&got).into_owned())
        }));
    }
    let (mut closed_silently, mut refused) = (0, 0);
    for r in reads {
        let (closed, text) = r.await.expect("reader");
        // Every one of them is closed by the server, none is left hanging.
        assert!(closed, "a silent connection was never closed");
        if text.is_empty() {
            closed_silently += 1;
        } else {
            // Past the bound: an immediate 503 with Retry-After and WordPress's envelope.
            assert!(text.starts_with("HTTP/1.1 503 "), "{text}");
            assert!(
                text.to_ascii_lowercase().contains("retry-after: 1"),
                "{text}"
            );
            let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
            let v: Value = serde_json::from_str(body).expect("JSON body");
            assert_eq!(v["code"], "rest_too_many_connections");
            assert_eq!(v["data"]["status"], 503);
            refused += 1;
        }
    }
    assert_eq!(
        refused, extra as usize,
        "only connections past the bound are refused"
    );
    assert_eq!(closed_silently, max as usize);

    // The slots they held are free again.
    let (status, _) = app.get_json("/wp-json/").await;
    assert_eq!(status, 200);

    // A kept-alive connection idle after its answer is closed too.
    let mut c = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    tokio::io::AsyncWriteExt::write_all(&mut c, b"GET /wp-json/ HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut got = vec![];
    let done = tokio::time::timeout(PATIENCE, c.read_to_end(&mut got)).await;
    assert!(
        done.is_ok(),
        "an idle kept-alive connection was never closed"
    );
    assert!(
        got.starts_with(b"HTTP/1.1 200 "),
        "{}",
        String::from_utf8_lossy(&got)
    );
}

#[tokio::test]
async fn silent_tls_connections_are_closed_and_bounded_too() {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("cert");
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).expect("write cert");
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).expect("write key");
    let app = TestApp::spawn_with(|a| {
        a.tls_cert = Some(cert_path.clone());
        a.tls_key = Some(key_path.clone());
        a.security.max_connections = 3;
        a.security.header_read_timeout_secs = 1;
    })
    .await;
    let addr = app.base.trim_start_matches("https://").to_owned();
    let mut reads = vec![];
    for _ in 0..6 {
        let mut c = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        reads.push(tokio::spawn(async move {
            let mut got = vec![];
            let done = tokio::time::timeout(PATIENCE, c.read_to_end(&mut got)).await;
            (done.is_ok(), got.len())
        }));
    }
    for r in reads {
        // Closed without a byte: past the bound at once, the others when the handshake
        // does not start within --header-read-timeout-secs.
        assert_eq!(r.await.expect("reader"), (true, 0));
    }
    let (status, _) = app.get_json("/wp-json/").await;
    assert_eq!(status, 200);
}

/// A PNG of `w`×`h` black 8-bit grey pixels: tiny on disk, `w * h` bytes once decoded.
fn black_png(w: u32, h: u32) -> Vec<u8> {
    let img = image::GrayImage::new(w, h);
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

#[tokio::test]
async fn an_image_over_the_pixel_budget_is_kept_without_sub_sizes() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("uploader", Role::Author).await;
    // 6300×6300 = 39.7 MP: under the old 40 MP decode limit, over the 25 MP budget.
    let bomb = black_png(6300, 6300);
    assert!(bomb.len() < 1_000_000, "a small file: {} bytes", bomb.len());
    let (status, item) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/media"))
            .basic_auth("uploader", Some(&token))
            .header(CONTENT_TYPE, "image/png")
            .header(CONTENT_DISPOSITION, "attachment; filename=\"bomb.png\"")
            .timeout(PATIENCE)
            .body(bomb),
    )
    .await;
    // WordPress keeps an upload its image editor cannot load, with the dimensions read
    // from the header and no sub-sizes (`wp_create_image_subsizes()`).
    assert_eq!(status, 201, "{item}");
    let details = &item["media_details"];
    assert_eq!(details["width"], 6300);
    assert_eq!(details["height"], 6300);
    assert_eq!(details["sizes"], json!({}), "{details}");
    let dir = app.data_dir.path().join("uploads");
    let mut files = vec![];
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p.file_name().expect("name").to_string_lossy().into_owned());
            }
        }
    }
    assert!(
        !files.iter().any(|f| f.starts_with("bomb-")),
        "no sub-size written: {files:?}"
    );
}

/// 40,000 ids (more than SQLite's 32,766 bound parameters per statement), with `real` at
/// positions 20,000, 30,000, … in that order.
fn many_ids(real: &[i64]) -> Vec<i64> {
    let mut ids: Vec<i64> = (100_000..140_000).collect();
    for (i, id) in real.iter().enumerate() {
        ids[20_000 + 10_000 * i] = *id;
    }
    ids
}

fn ids_of(list: &Value) -> Vec<i64> {
    list.as_array()
        .expect("list")
        .iter()
        .map(|i| i["id"].as_i64().expect("id"))
        .collect()
}

#[tokio::test]
async fn include_and_exclude_lists_of_40000_ids_are_answered() {
    let app = TestApp::spawn().await;
    let (boss, token) = app.user_with_token("boss", Role::Administrator).await;
    let other = app.create_user("other", Role::Editor).await;
    let create = |path: &str, body: Value| {
        app.client
            .post(app.url(path))
            .basic_auth("boss", Some(&token))
            .json(&body)
    };
    let mut posts = vec![];
    let mut cats = vec![];
    for name in ["First", "Second"] {
        let (status, post) = send(create(
            "/wp-json/wp/v2/posts",
            json!({"title": name, "status": "publish"}),
        ))
        .await;
        assert_eq!(status, 201, "{post}");
        posts.push(post["id"].as_i64().expect("id"));
        let (status, cat) = send(create("/wp-json/wp/v2/categories", json!({"name": name}))).await;
        assert_eq!(status, 201, "{cat}");
        cats.push(cat["id"].as_i64().expect("id"));
    }

    // The URL cannot carry 40,000 ids; a GET's JSON body can (WordPress merges it).
    let get = |path: &str, body: Value| {
        app.client
            .get(app.url(path))
            .basic_auth("boss", Some(&token))
            .timeout(PATIENCE)
            .json(&body)
    };
    for (path, a, b) in [
        ("/wp-json/wp/v2/posts", posts[0], posts[1]),
        ("/wp-json/wp/v2/categories", cats[0], cats[1]),
        ("/wp-json/wp/v2/users", boss.id, other.id),
    ] {
        let (status, list) = send(get(path, json!({"include": many_ids(&[b, a])}))).await;
        assert_eq!(status, 200, "{path} include: {list}");
        let mut found = ids_of(&list);
        found.sort_unstable();
        assert_eq!(found, vec![a.min(b), a.max(b)], "{path} include");

        let (status, list) = send(get(
            path,
            json!({"include": many_ids(&[b, a]), "orderby": "include"}),
        ))
        .await;
        assert_eq!(status, 200, "{path} orderby=include: {list}");
        assert_eq!(ids_of(&list), vec![b, a], "{path} orderby=include");

        let (status, list) = send(get(path, json!({"exclude": many_ids(&[a])}))).await;
        assert_eq!(status, 200, "{path} exclude: {list}");
        let found = ids_of(&list);
        assert!(
            !found.contains(&a) && found.contains(&b),
            "{path} exclude: {found:?}"
        );
    }
    // Posts filtered by 40,000 categories.
    let (status, list) = send(get(
        "/wp-json/wp/v2/posts",
        json!({"categories": many_ids(&[cats[0]])}),
    ))
    .await;
    assert_eq!(status, 200, "categories: {list}");
    let (status, list) = send(get(
        "/wp-json/wp/v2/posts",
        json!({"categories_exclude": many_ids(&[cats[0]])}),
    ))
    .await;
    assert_eq!(status, 200, "categories_exclude: {list}");
}

#[tokio::test]
async fn overlong_request_targets_are_refused_with_an_error() {
    let app = TestApp::spawn().await;
    // Past --max-header-bytes (16 KiB): WordPress's envelope with 414.
    let (status, body) = app
        .get_json(&format!("/wp-json/wp/v2/posts?x={}", "a".repeat(20 * 1024)))
        .await;
    assert_eq!(status, 414, "{body}");
    assert_eq!(body["code"], "rest_uri_too_long");
    assert_eq!(body["data"]["status"], 414);
    // 1 MB: refused before it is buffered (hyper's own 431), promptly.
    let resp = app
        .client
        .get(app.url(&format!("/wp-json/wp/v2/posts?x={}", "a".repeat(1 << 20))))
        .timeout(PATIENCE)
        .send()
        .await;
    match resp {
        Ok(r) => assert!(matches!(r.status().as_u16(), 414 | 431), "{}", r.status()),
        // The server may close the connection while the client is still sending.
        Err(e) => assert!(!e.is_timeout(), "{e}"),
    }
    let (status, _) = app.get_json("/wp-json/").await;
    assert_eq!(status, 200);
}

/// `--max-image-pixels` is the server's own setting: the same 400×400 image gets sub-sizes
/// under the default budget and none under a budget of 100,000 pixels.
#[tokio::test]
async fn the_pixel_budget_follows_the_servers_setting() {
    async fn sizes(app: &TestApp) -> Value {
        let (_, token) = app.user_with_token("uploader", Role::Author).await;
        let (status, item) = send(
            app.client
                .post(app.url("/wp-json/wp/v2/media"))
                .basic_auth("uploader", Some(&token))
                .header(CONTENT_TYPE, "image/png")
                .header(CONTENT_DISPOSITION, "attachment; filename=\"square.png\"")
                .timeout(PATIENCE)
                .body(black_png(400, 400)),
        )
        .await;
        assert_eq!(status, 201, "{item}");
        assert_eq!(item["media_details"]["width"], 400);
        item["media_details"]["sizes"].clone()
    }
    let roomy = TestApp::spawn().await;
    assert!(sizes(&roomy).await.get("thumbnail").is_some());
    let tight = TestApp::spawn_with(|a| a.security.max_image_pixels = 100_000).await;
    assert_eq!(sizes(&tight).await, json!({}));
}
