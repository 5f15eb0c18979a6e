//! Media in an S3-compatible bucket (`--media-store s3://bucket/prefix`), against a real S3
//! server: `s3s-fs` (`cargo install s3s-fs --version 0.14.1 --locked --features binary`,
//! which `.ci/run` does), started per test on 127.0.0.1, port 0, with signed requests.
//! Uploads, sub-sizes, multipart uploads, ranges, caching headers, deletes, redirects and
//! `migrate-media`; and two instances on one PostgreSQL database and one bucket, without a
//! shared directory. The bucket is checked by listing it directly, not through ferropress.
//!
//! Without `s3s-fs` the tests say that they skipped, unless `FERROPRESS_REQUIRE_S3=1` (CI),
//! where they fail.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ferropress::caps::Role;
use ferropress::config::{MediaRedirect, MediaStoreArgs, S3Location, StorageArgs};
use futures_util::TryStreamExt as _;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::{ObjectStore as _, ObjectStoreExt as _};
use reqwest::header;
use serde_json::Value;
use tempfile::TempDir;

use crate::helpers::*;

const REQUIRE_VAR: &str = "FERROPRESS_REQUIRE_S3";
const ACCESS_KEY: &str = "ferropress-test";
const SECRET_KEY: &str = "ferropress-test-secret-key";
const BUCKET: &str = "media";

/// A running `s3s-fs` with one bucket, stopped (by its PID) when dropped.
struct S3Server {
    child: Child,
    endpoint: String,
    _root: TempDir,
}

fn s3s_fs_binary() -> Option<PathBuf> {
    let home_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|d| d.join("bin"));
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(home_bin)
        .map(|d| d.join("s3s-fs"))
        .find(|p| p.is_file())
}

impl S3Server {
    /// `None` (the test skips) when `s3s-fs` is not installed, unless CI requires it.
    fn start() -> Option<Self> {
        let Some(bin) = s3s_fs_binary() else {
            let msg = "media on S3: s3s-fs not found (cargo install s3s-fs --version 0.14.1 --locked --features binary)";
            assert!(
                std::env::var(REQUIRE_VAR).as_deref() != Ok("1"),
                "{msg} and {REQUIRE_VAR}=1"
            );
            println!("{msg}: skipped");
            return None;
        };
        let root = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(root.path().join(BUCKET)).expect("bucket dir");
        let mut child = Command::new(bin)
            .args(["--host", "127.0.0.1", "--port", "0"])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root.path())
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start s3s-fs");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        // The address it bound is in its log; the log is drained until it exits.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(at) = line.find("server is running at http://")
                    && let Some(tx) = tx.take()
                {
                    let addr = line[at + "server is running at ".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_owned();
                    let _ = tx.send(addr);
                }
            }
        });
        let endpoint = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(e) => e,
            Err(_) => {
                let _ = child.kill();
                panic!("s3s-fs did not report its address");
            }
        };
        Some(Self {
            child,
            endpoint,
            _root: root,
        })
    }

    /// The media settings of an instance keeping its media under `prefix`.
    fn media_args(&self, prefix: &str) -> MediaStoreArgs {
        MediaStoreArgs {
            media_store: Some(
                S3Location::parse(&format!("s3://{BUCKET}/{prefix}")).expect("location"),
            ),
            s3_endpoint: Some(self.endpoint.clone()),
            s3_region: Some("us-east-1".into()),
            s3_access_key_id: Some(ACCESS_KEY.into()),
            s3_secret_access_key: Some(SECRET_KEY.into()),
            s3_allow_http: true,
            ..MediaStoreArgs::default()
        }
    }

    /// The bucket, reached directly.
    fn bucket(&self) -> AmazonS3 {
        AmazonS3Builder::new()
            .with_bucket_name(BUCKET)
            .with_endpoint(&self.endpoint)
            .with_region("us-east-1")
            .with_access_key_id(ACCESS_KEY)
            .with_secret_access_key(SECRET_KEY)
            .with_allow_http(true)
            .build()
            .expect("bucket client")
    }

    /// Every key below `prefix`, sorted.
    async fn keys(&self, prefix: &str) -> Vec<String> {
        let prefix = object_store::path::Path::from(prefix);
        let mut keys: Vec<String> = self
            .bucket()
            .list(Some(&prefix))
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await
            .expect("list the bucket");
        keys.sort();
        keys
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server whose media is in the bucket under `prefix`; `database_url`: on that PostgreSQL
/// database (shared with other instances), else the store of the data dir.
async fn instance(s3: &S3Server, prefix: &str, database_url: Option<&str>) -> TestApp {
    instance_with(s3.media_args(prefix), database_url).await
}

async fn instance_with(media: MediaStoreArgs, database_url: Option<&str>) -> TestApp {
    install_provider();
    let data_dir = tempfile::tempdir().expect("tempdir");
    let mut storage = match database_url {
        Some(url) => StorageArgs::sqlite(data_dir.path()).with_database_url(Some(url)),
        None => storage_for(data_dir.path()),
    };
    storage.media = media;
    TestApp::spawn_at(data_dir, storage, |_| {}).await
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 17])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

async fn upload(app: &TestApp, login: &str, token: &str, name: &str, bytes: Vec<u8>) -> Value {
    let mime = if name.ends_with(".png") {
        "image/png"
    } else {
        "text/plain"
    };
    let (status, item) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/media"))
            .basic_auth(login, Some(token))
            .header(header::CONTENT_TYPE, mime)
            .header(
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            )
            .body(bytes),
    )
    .await;
    assert_eq!(status, 201, "{item}");
    item
}

async fn delete(app: &TestApp, login: &str, token: &str, id: i64) {
    let (status, body) = send(
        app.client
            .delete(app.url(&format!("/wp-json/wp/v2/media/{id}?force=true")))
            .basic_auth(login, Some(token)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// `/wp-content/uploads/<rel>` of a `source_url`, on `app`.
fn on(app: &TestApp, source_url: &str) -> String {
    let rel = source_url
        .split("/wp-content/uploads/")
        .nth(1)
        .expect("uploads URL");
    app.url(&format!("/wp-content/uploads/{rel}"))
}

/// The store paths (`YYYY/MM/name`) of an attachment: the original and its sub-sizes.
fn files_of(item: &Value) -> Vec<String> {
    let file = item["media_details"]["file"]
        .as_str()
        .expect("file")
        .to_owned();
    let dir = file.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
    let mut out = vec![file];
    for size in item["media_details"]["sizes"]
        .as_object()
        .expect("sizes")
        .values()
    {
        if let Some(name) = size["file"].as_str() {
            out.push(format!("{dir}/{name}"));
        }
    }
    out.sort();
    out.dedup();
    out
}

async fn get_bytes(app: &TestApp, url: &str) -> (u16, Vec<u8>) {
    let resp = app.client.get(url).send().await.expect("send");
    let status = resp.status().as_u16();
    (status, resp.bytes().await.expect("body").to_vec())
}

/// Every file below `dir`, scratch files included.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// No file of the site is on local disk, and no scratch file is left behind.
fn no_local_files(app: &TestApp) {
    let left = files_below(&app.data_dir.path().join("uploads"));
    assert!(left.is_empty(), "local files: {left:?}");
}

#[tokio::test]
async fn a_bucket_keeps_uploads_sub_sizes_and_large_files_serves_ranges_and_deletes() {
    let Some(s3) = S3Server::start() else {
        return;
    };
    let prefix = "site-one";
    let app = instance(&s3, prefix, None).await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;

    // An image: the original and its sub-sizes go to the bucket, nothing to local disk.
    let bytes = png(400, 320);
    let item = upload(&app, "alice", &token, "photo.png", bytes.clone()).await;
    let sizes = item["media_details"]["sizes"].as_object().expect("sizes");
    assert!(
        sizes.contains_key("medium") && sizes.contains_key("thumbnail"),
        "{item}"
    );
    let files = files_of(&item);
    assert_eq!(files.len(), 3, "original, medium, thumbnail: {files:?}");
    let expected: Vec<String> = files.iter().map(|f| format!("{prefix}/{f}")).collect();
    assert_eq!(s3.keys(prefix).await, expected);
    no_local_files(&app);

    // Served back byte for byte, with the caching headers of local files.
    let source = item["source_url"].as_str().expect("source_url");
    let resp = app.client.get(source).send().await.expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    let h = resp.headers().clone();
    assert_eq!(h[header::CONTENT_TYPE], "image/png");
    assert_eq!(h[header::CACHE_CONTROL], "public, max-age=31536000");
    assert_eq!(h[header::ACCEPT_RANGES], "bytes");
    assert_eq!(h[header::CONTENT_LENGTH], bytes.len().to_string().as_str());
    assert!(h.contains_key(header::LAST_MODIFIED));
    let etag = h[header::ETAG].to_str().expect("etag").to_owned();
    assert_eq!(resp.bytes().await.expect("body").to_vec(), bytes);
    let again = app
        .client
        .get(source)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("send");
    assert_eq!(again.status().as_u16(), 304);
    let since = app
        .client
        .get(source)
        .header(header::IF_MODIFIED_SINCE, h[header::LAST_MODIFIED].clone())
        .send()
        .await
        .expect("send");
    assert_eq!(since.status().as_u16(), 304);
    let thumb = &item["media_details"]["sizes"]["thumbnail"];
    let (status, thumb_bytes) =
        get_bytes(&app, thumb["source_url"].as_str().expect("thumbnail url")).await;
    assert_eq!(status, 200);
    let decoded = image::load_from_memory(&thumb_bytes).expect("a thumbnail");
    assert_eq!((decoded.width(), decoded.height()), (150, 150));

    // Ranges: one range is a 206, several or none satisfiable a 416.
    let ranged = app
        .client
        .get(source)
        .header(header::RANGE, "bytes=10-19")
        .send()
        .await
        .expect("send");
    assert_eq!(ranged.status().as_u16(), 206);
    assert_eq!(
        ranged.headers()[header::CONTENT_RANGE],
        format!("bytes 10-19/{}", bytes.len()).as_str()
    );
    assert_eq!(ranged.bytes().await.expect("body").to_vec(), &bytes[10..20]);
    for bad in [format!("bytes={}-", bytes.len()), "bytes=0-1,4-5".into()] {
        let resp = app
            .client
            .get(source)
            .header(header::RANGE, bad.as_str())
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status().as_u16(), 416, "{bad}");
        assert_eq!(
            resp.headers()[header::CONTENT_RANGE],
            format!("bytes */{}", bytes.len()).as_str()
        );
    }

    // A file larger than the single-PUT threshold goes up in parts; a range across a part
    // boundary comes back right.
    let big: Vec<u8> = (0..17 * 1024 * 1024 + 123)
        .map(|i: usize| b"abcdefghijklmnopqrstuvwxyz\n"[i % 27])
        .collect();
    let threshold = usize::try_from(ferropress::media_store::MULTIPART_THRESHOLD).expect("usize");
    assert!(big.len() > 2 * threshold);
    let large = upload(&app, "alice", &token, "large.txt", big.clone()).await;
    let large_url = large["source_url"].as_str().expect("source_url");
    let resp = app.client.get(large_url).send().await.expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    // A multipart object's ETag ends in its part count (17 MiB in 8 MiB parts: 3).
    let etag = resp.headers()[header::ETAG]
        .to_str()
        .expect("etag")
        .to_owned();
    assert!(etag.ends_with("-3\""), "not a three-part upload: {etag}");
    let body = resp.bytes().await.expect("body");
    assert!(body == big, "the large file came back different");
    let (from, to) = (threshold - 5, threshold + 5);
    let ranged = app
        .client
        .get(large_url)
        .header(header::RANGE, format!("bytes={from}-{to}"))
        .send()
        .await
        .expect("send");
    assert_eq!(ranged.status().as_u16(), 206);
    assert_eq!(
        ranged.bytes().await.expect("body").to_vec(),
        &big[from..=to]
    );

    // The same name again gets the next free one (the bucket's create-only write).
    let second = upload(&app, "alice", &token, "photo.png", png(40, 30)).await;
    let second_file = second["media_details"]["file"].as_str().expect("file");
    assert!(second_file.ends_with("/photo-1.png"), "{second_file}");

    // Hidden names and missing files are not found.
    for path in [
        "/wp-content/uploads/.upload-tmp/x",
        "/wp-content/uploads/2020/01/none.png",
    ] {
        let resp = app.client.get(app.url(path)).send().await.expect("send");
        assert_eq!(resp.status().as_u16(), 404, "{path}");
    }

    // Deleting an attachment deletes every object of it, and only those.
    delete(&app, "alice", &token, item["id"].as_i64().expect("id")).await;
    let left = s3.keys(prefix).await;
    assert!(
        files
            .iter()
            .all(|f| !left.contains(&format!("{prefix}/{f}"))),
        "{left:?}"
    );
    assert_eq!(
        left.len(),
        2,
        "the large file and photo-1.png stay: {left:?}"
    );
    let (status, _) = get_bytes(&app, source).await;
    assert_eq!(status, 404);
    no_local_files(&app);
}

#[tokio::test]
async fn a_bucket_can_be_served_through_presigned_redirects() {
    let Some(s3) = S3Server::start() else {
        return;
    };
    let mut media = s3.media_args("presigned");
    media.media_redirect = MediaRedirect::Presigned;
    let app = instance_with(media, None).await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;
    let bytes = png(20, 10);
    let item = upload(&app, "alice", &token, "signed.png", bytes.clone()).await;
    let source = item["source_url"].as_str().expect("source_url");
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = no_redirects.get(source).send().await.expect("send");
    assert_eq!(resp.status().as_u16(), 302);
    let location = resp.headers()[header::LOCATION]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(location.starts_with(&s3.endpoint), "{location}");
    assert!(location.contains("X-Amz-Signature="), "{location}");
    // The bucket serves the signed URL; the same URL without its signature is refused.
    let signed = no_redirects.get(&location).send().await.expect("send");
    assert_eq!(signed.status().as_u16(), 200);
    assert_eq!(signed.bytes().await.expect("body").to_vec(), bytes);
    let unsigned = location.split('?').next().expect("path");
    let refused = no_redirects.get(unsigned).send().await.expect("send");
    assert_eq!(refused.status().as_u16(), 403);
}

#[tokio::test]
async fn migrate_media_copies_local_uploads_into_the_bucket_once() {
    let Some(s3) = S3Server::start() else {
        return;
    };
    // A site with local uploads.
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;
    let bytes = png(400, 320);
    let item = upload(&app, "alice", &token, "old.png", bytes.clone()).await;
    let files = files_of(&item);
    assert_eq!(files.len(), 3, "{files:?}");
    let storage = app.storage.clone();
    let data_dir = app.stop().await;

    let prefix = "migrated";
    let migrate = |storage: &StorageArgs| {
        cli_on_bucket(&s3, storage, prefix)
            .arg("migrate-media")
            .output()
            .expect("run migrate-media")
    };
    let out = migrate(&storage);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Copied 3 files"), "{}", stdout(&out));
    let expected: Vec<String> = files.iter().map(|f| format!("{prefix}/{f}")).collect();
    assert_eq!(s3.keys(prefix).await, expected);
    // The secret is never printed.
    assert!(!stdout(&out).contains(SECRET_KEY) && !stderr(&out).contains(SECRET_KEY));

    // Again: nothing to copy. After an interruption: only what is missing.
    let out = migrate(&storage);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Copied 0 files (0 bytes)")
            && stdout(&out).contains("3 already there"),
        "{}",
        stdout(&out)
    );
    let original = object_store::path::Path::from(format!("{prefix}/{}", files[0]));
    s3.bucket().delete(&original).await.expect("delete one");
    let out = migrate(&storage);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Copied 1 files") && stdout(&out).contains("2 already there"),
        "{}",
        stdout(&out)
    );

    // The site then runs on the bucket, its attachment unchanged, without the local files.
    std::fs::remove_dir_all(data_dir.path().join("uploads")).expect("remove local uploads");
    let mut storage = storage;
    storage.media = s3.media_args(prefix);
    let app = TestApp::spawn_at(data_dir, storage, |_| {}).await;
    let source = item["source_url"].as_str().expect("source_url");
    let (status, served) = get_bytes(&app, &on(&app, source)).await;
    assert_eq!(status, 200);
    assert_eq!(served, bytes);
}

/// `ferropress` with the bucket's settings (credentials in the environment, as advised).
fn cli_on_bucket(s3: &S3Server, storage: &StorageArgs, prefix: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferropress"));
    store_env(&mut cmd, storage);
    cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .arg("--media-store")
        .arg(format!("s3://{BUCKET}/{prefix}"))
        .args(["--s3-endpoint", &s3.endpoint, "--s3-allow-http", "true"]);
    cmd
}

#[tokio::test]
async fn xml_rpc_uploads_and_media_import_go_to_the_bucket() {
    use base64::Engine as _;
    let Some(s3) = S3Server::start() else {
        return;
    };
    let prefix = "other-ways-in";
    let app = instance(&s3, prefix, None).await;
    let (_, token) = app.user_with_token("alice", Role::Author).await;

    // wp.uploadFile: the spooled file goes through the same upload route.
    let b64 = base64::engine::general_purpose::STANDARD.encode(b"hello from XML-RPC\n");
    let call = format!(
        "<methodCall><methodName>wp.uploadFile</methodName><params>\
         <param><value><int>1</int></value></param><param><value>alice</value></param>\
         <param><value>{token}</value></param><param><value><struct>\
         <member><name>name</name><value>hello.txt</value></member>\
         <member><name>type</name><value>text/plain</value></member>\
         <member><name>bits</name><value><base64>{b64}</base64></value></member>\
         </struct></value></param></params></methodCall>"
    );
    let resp = app
        .client
        .post(app.url("/xmlrpc.php"))
        .header(header::CONTENT_TYPE, "text/xml")
        .body(call)
        .send()
        .await
        .expect("send");
    let xml = resp.text().await.expect("body");
    assert!(!xml.contains("<fault>"), "{xml}");
    let keys = s3.keys(prefix).await;
    assert!(
        keys.len() == 1 && keys[0].ends_with("/hello.txt"),
        "{keys:?}"
    );

    // `media import` (the CLI, beside the running server): the image and its sub-sizes.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("imported.png");
    std::fs::write(&file, png(400, 320)).expect("write");
    let out = cli_on_bucket(&s3, &app.storage, prefix)
        .args(["media", "import"])
        .arg(&file)
        .arg("--porcelain")
        .output()
        .expect("run media import");
    assert!(out.status.success(), "{}", stderr(&out));
    let keys = s3.keys(prefix).await;
    let imported: Vec<&String> = keys.iter().filter(|k| k.contains("/imported")).collect();
    assert_eq!(imported.len(), 3, "original, medium, thumbnail: {keys:?}");
    // Served by the server from the bucket.
    let id = stdout(&out).trim().to_owned();
    let (status, item) = app.get_json(&format!("/wp-json/wp/v2/media/{id}")).await;
    assert_eq!(status, 200, "{item}");
    let (status, _) = get_bytes(&app, item["source_url"].as_str().expect("url")).await;
    assert_eq!(status, 200);
    no_local_files(&app);
}

#[tokio::test]
#[ignore = "PostgreSQL only: run by postgres::pass"]
async fn two_instances_share_one_bucket_without_a_shared_directory() {
    let url = fresh_database_url();
    let Some(s3) = S3Server::start() else {
        return;
    };
    let prefix = "shared";
    let a = instance(&s3, prefix, Some(&url)).await;
    let b = instance(&s3, prefix, Some(&url)).await;
    assert_ne!(a.data_dir.path(), b.data_dir.path());
    let (_, token) = a.user_with_token("alice", Role::Editor).await;

    // Uploaded through A, served by B: the original and its sub-sizes.
    let bytes = png(400, 320);
    let item = upload(&a, "alice", &token, "shared.png", bytes.clone()).await;
    let source = item["source_url"].as_str().expect("source_url");
    let (status, served) = get_bytes(&b, &on(&b, source)).await;
    assert_eq!(status, 200);
    assert_eq!(served, bytes);
    let sizes = item["media_details"]["sizes"].as_object().expect("sizes");
    assert!(sizes.len() >= 2, "{item}");
    for size in sizes.values() {
        let url = size["source_url"].as_str().expect("size url");
        let (status, body) = get_bytes(&b, &on(&b, url)).await;
        assert_eq!(status, 200, "{url}");
        let img = image::load_from_memory(&body).expect("an image");
        assert_eq!(
            (i64::from(img.width()), i64::from(img.height())),
            (
                size["width"].as_i64().expect("width"),
                size["height"].as_i64().expect("height")
            )
        );
    }
    no_local_files(&a);
    no_local_files(&b);

    // One name through A, then through B: B finds it taken in the bucket (with nothing on
    // its own disk to tell it) and takes the next one; nothing is overwritten.
    let one = upload(&a, "alice", &token, "race.png", png(30, 20)).await;
    let two = upload(&b, "alice", &token, "race.png", png(20, 30)).await;
    let second = two["media_details"]["file"].as_str().expect("file");
    assert!(second.ends_with("/race-1.png"), "{second}");
    for (item, (w, h)) in [(&one, (30, 20)), (&two, (20, 30))] {
        let url = item["source_url"].as_str().expect("source_url");
        let (_, body) = get_bytes(&a, &on(&a, url)).await;
        let img = image::load_from_memory(&body).expect("an image");
        assert_eq!((img.width(), img.height()), (w, h));
    }

    // Deleted through B: every object of it is gone from the bucket.
    let files = files_of(&item);
    delete(&b, "alice", &token, item["id"].as_i64().expect("id")).await;
    let left = s3.keys(prefix).await;
    for f in &files {
        assert!(
            !left.contains(&format!("{prefix}/{f}")),
            "{f} left: {left:?}"
        );
    }
    assert_eq!(left.len(), 2, "the two race.png files stay: {left:?}");
    let (status, _) = get_bytes(&a, &on(&a, source)).await;
    assert_eq!(status, 404);
}
