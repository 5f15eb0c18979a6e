//! Where media files live: `wp_upload_dir()`'s base, either the uploads dir on local disk or
//! an S3-compatible bucket (`--media-store s3://bucket/prefix`), so that instances sharing a
//! PostgreSQL database share their uploads without a shared file system. Every user of
//! uploaded files goes through [`MediaStore`]: REST and XML-RPC uploads, sub-sizes, edits,
//! deletes, the importers, backups, `migrate-media`, and serving `/wp-content/uploads/…`.
//!
//! Files are received into a local scratch dir first (`.upload-tmp` in the uploads dir, never
//! served): the content checks, `Content-MD5` and the image editor need them whole. A bucket
//! then gets them streamed from disk: one PUT up to [`MULTIPART_THRESHOLD`], a multipart
//! upload above it, with at most [`PARTS_IN_FLIGHT`] parts in memory. Names are made unique
//! as `wp_unique_filename()` makes them, but with a create-only write (`If-None-Match: *`)
//! instead of a look first, so two instances never take one name.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use futures_util::StreamExt as _;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::signer::Signer as _;
use object_store::{
    Attribute, Attributes, GetOptions, GetRange, ObjectStore as _, ObjectStoreExt as _, PutMode,
    PutMultipartOptions, PutOptions, PutPayload, RetryConfig, WriteMultipart,
};
use secrecy::ExposeSecret as _;
use serde_json::Value;
use tokio::io::AsyncReadExt as _;

use crate::config::{MediaRedirect, MediaStoreArgs, S3Location};
use crate::error::WpResult;
use crate::media;
use crate::work::CpuPool;

/// Files up to this size go to a bucket in one PUT (read into memory once); larger ones in a
/// multipart upload.
pub const MULTIPART_THRESHOLD: u64 = 8 << 20;
/// The size of a multipart upload's parts (S3 wants at least 5 MiB but for the last).
const PART_SIZE: usize = 8 << 20;
/// Parts uploading at once: memory per upload is about `(PARTS_IN_FLIGHT + 1) * PART_SIZE`.
const PARTS_IN_FLIGHT: usize = 2;
/// Files `migrate-media` copies at once.
const MIGRATE_CONCURRENCY: usize = 4;
/// How long a presigned redirect stays valid.
const PRESIGNED_FOR: Duration = Duration::from_secs(3600);
/// Name candidates tried against a bucket before an upload gives up (each is a request).
const MAX_NAME_TRIES: usize = 1000;
/// A year, as the local uploads are served.
const CACHE_CONTROL: &str = "public, max-age=31536000";

/// The uploads: a directory or a bucket. Cheap to clone.
#[derive(Clone)]
pub struct MediaStore(Arc<Backend>);

enum Backend {
    Local { root: PathBuf },
    S3(Bucket),
}

struct Bucket {
    client: AmazonS3,
    location: S3Location,
    /// This instance's own scratch dir (the uploads dir's `.upload-tmp`).
    scratch: PathBuf,
    redirect: MediaRedirect,
    public_url: Option<String>,
}

impl std::fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Scratch space of an uploads dir: hidden, so it is never served, and on the same file
/// system as the uploads, so that placing a file there is a rename.
fn scratch_of(uploads_dir: &Path) -> PathBuf {
    uploads_dir.join(".upload-tmp")
}

/// A store path (`2026/12/a.png`) that names a file below the base: plain segments only.
pub fn safe_rel(rel: &str) -> bool {
    !rel.is_empty()
        && rel
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != ".." && !s.contains('\\'))
}

fn join_rel(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

fn dir_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

/// An object store error as an I/O error of the matching kind.
fn io_error(e: object_store::Error) -> io::Error {
    let kind = match &e {
        object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. } => {
            io::ErrorKind::AlreadyExists
        }
        object_store::Error::NotFound { .. } => io::ErrorKind::NotFound,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e)
}

fn bad_path(rel: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("not a plain relative path: {rel:?}"),
    )
}

impl MediaStore {
    /// The uploads dir on local disk.
    pub fn local(root: impl Into<PathBuf>) -> Self {
        Self(Arc::new(Backend::Local { root: root.into() }))
    }

    /// The store `args` describe: the bucket of `--media-store`, else `uploads_dir`. With a
    /// bucket, `uploads_dir` holds only this instance's scratch files.
    pub fn open(uploads_dir: PathBuf, args: &MediaStoreArgs) -> anyhow::Result<Self> {
        let Some(location) = &args.media_store else {
            return Ok(Self::local(uploads_dir));
        };
        // The HTTP client's TLS is rustls with the process's one provider (ring).
        let _ = rustls::crypto::ring::default_provider().install_default();
        // The standard AWS_* variables first (session token, web identity, container and
        // instance credentials), then what the flags say.
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(&location.bucket)
            .with_allow_http(args.s3_allow_http)
            // A store that is down fails a request in seconds, not minutes.
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(20),
                ..RetryConfig::default()
            });
        if let Some(endpoint) = &args.s3_endpoint {
            b = b.with_endpoint(endpoint);
        }
        if let Some(region) = &args.s3_region {
            b = b.with_region(region);
        }
        if let Some(key) = &args.s3_access_key_id {
            b = b.with_access_key_id(key);
        }
        if let Some(secret) = &args.s3_secret_access_key {
            b = b.with_secret_access_key(secret.expose_secret());
        }
        let client = b
            .build()
            .with_context(|| format!("configuring --media-store {location}"))?;
        let public_url = args
            .media_public_url
            .as_ref()
            .map(|u| u.trim_end_matches('/').to_owned());
        if args.media_redirect == MediaRedirect::Public && public_url.is_none() {
            bail!("--media-redirect public needs --media-public-url");
        }
        Ok(Self(Arc::new(Backend::S3(Bucket {
            client,
            location: location.clone(),
            scratch: scratch_of(&uploads_dir),
            redirect: args.media_redirect,
            public_url,
        }))))
    }

    /// For logs and messages: the directory, or `s3://bucket/prefix`.
    pub fn describe(&self) -> String {
        match &*self.0 {
            Backend::Local { root } => root.display().to_string(),
            Backend::S3(b) => b.location.to_string(),
        }
    }

    /// Where files being received or made are written first (local disk, never served).
    pub fn temp_dir(&self) -> PathBuf {
        match &*self.0 {
            Backend::Local { root } => scratch_of(root),
            Backend::S3(b) => b.scratch.clone(),
        }
    }

    /// The uploads dir, when the files are on local disk.
    pub fn local_root(&self) -> Option<&Path> {
        match &*self.0 {
            Backend::Local { root } => Some(root),
            Backend::S3(_) => None,
        }
    }

    /// The local file of `rel`, when the files are on local disk.
    pub fn local_path(&self, rel: &str) -> Option<PathBuf> {
        self.local_root()
            .filter(|_| safe_rel(rel))
            .map(|root| root.join(rel))
    }

    /// Fails when the bucket cannot be reached with these settings (checked at start, so a
    /// wrong endpoint or key is reported before the first upload).
    pub async fn check(&self) -> anyhow::Result<()> {
        let Backend::S3(b) = &*self.0 else {
            return Ok(());
        };
        let probe = b.key(".ferropress-probe").unwrap_or_default();
        match b.client.head(&probe).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(anyhow::Error::new(e).context(format!(
                "--media-store {}: the bucket cannot be reached",
                b.location
            ))),
        }
    }

    /// `wp_unique_filename()` and the move: stores the local file `tmp` as `subdir/<name>`
    /// under the first name of `media::unique_names(filename)` that is free, never
    /// overwriting anything. Returns the name. A local store moves `tmp`; a bucket copies it
    /// (`tmp` stays, as the source of sub-sizes, until its owner removes it).
    pub async fn place_unique(
        &self,
        tmp: &Path,
        subdir: &str,
        filename: &str,
    ) -> io::Result<String> {
        match &*self.0 {
            Backend::Local { root } => {
                let dir = if subdir.is_empty() {
                    root.clone()
                } else {
                    media::safe_join(root, subdir).ok_or_else(|| bad_path(subdir))?
                };
                tokio::fs::create_dir_all(&dir).await?;
                for candidate in media::unique_names(filename) {
                    let path = dir.join(&candidate);
                    // Reserving the name with create_new makes two concurrent uploads of one
                    // name safe.
                    match tokio::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(&path)
                        .await
                    {
                        Ok(_) => {
                            tokio::fs::rename(tmp, &path).await?;
                            return Ok(candidate);
                        }
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                        Err(e) => return Err(e),
                    }
                }
                Err(io::Error::other("no free file name"))
            }
            Backend::S3(b) => {
                for candidate in media::unique_names(filename).take(MAX_NAME_TRIES) {
                    match b
                        .put_file(tmp, &join_rel(subdir, &candidate), PutMode::Create)
                        .await
                    {
                        Ok(()) => return Ok(candidate),
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                        Err(e) => return Err(e),
                    }
                }
                Err(io::Error::other("no free file name"))
            }
        }
    }

    /// Stores the local file `tmp` (in [`Self::temp_dir`]) as `rel`, replacing what is
    /// there (an importer keeps its source's paths). `tmp` is moved (local) or copied.
    pub async fn put(&self, tmp: &Path, rel: &str) -> io::Result<()> {
        match &*self.0 {
            Backend::Local { root } => {
                let dest = media::safe_join(root, rel)
                    .filter(|_| safe_rel(rel))
                    .ok_or_else(|| bad_path(rel))?;
                if let Some(dir) = dest.parent() {
                    tokio::fs::create_dir_all(dir).await?;
                }
                tokio::fs::rename(tmp, &dest).await
            }
            Backend::S3(b) => b.put_file(tmp, rel, PutMode::Overwrite).await,
        }
    }

    /// A local copy of the stored file `rel` to read (the image editor's input): the file
    /// itself on local disk, or downloaded into the scratch dir and removed when dropped.
    pub async fn local_copy(&self, rel: &str) -> io::Result<LocalCopy> {
        match &*self.0 {
            Backend::Local { root } => {
                let path = media::safe_join(root, rel)
                    .filter(|_| safe_rel(rel))
                    .ok_or_else(|| bad_path(rel))?;
                Ok(LocalCopy {
                    path,
                    temporary: false,
                })
            }
            Backend::S3(b) => {
                let key = b.key(rel).ok_or_else(|| bad_path(rel))?;
                tokio::fs::create_dir_all(&b.scratch).await?;
                let copy = LocalCopy {
                    path: b
                        .scratch
                        .join(format!("{}.part", uuid::Uuid::new_v4().simple())),
                    temporary: true,
                };
                let got = b.client.get(&key).await.map_err(io_error)?;
                let mut stream = got.into_stream();
                let mut file = tokio::fs::File::create(&copy.path).await?;
                while let Some(chunk) = stream.next().await {
                    tokio::io::AsyncWriteExt::write_all(&mut file, &chunk.map_err(io_error)?)
                        .await?;
                }
                tokio::io::AsyncWriteExt::flush(&mut file).await?;
                Ok(copy)
            }
        }
    }

    /// `wp_generate_attachment_metadata()` for the stored file `rel`, read from its local
    /// copy `src`: the image work runs on `cpu` (its 503 when full, as every caller answers
    /// it), and the sub-sizes are stored beside `rel`. A sub-size the store refuses is left
    /// out of the metadata, as one the editor cannot write.
    pub async fn generate_metadata(
        &self,
        cpu: &CpuPool,
        src: &Path,
        rel: &str,
        mime: &str,
        budget: u64,
    ) -> WpResult<Value> {
        let (out_dir, scratch) = match &*self.0 {
            Backend::Local { root } => {
                let dir = media::safe_join(root, dir_of(rel)).unwrap_or_else(|| root.clone());
                (dir, None)
            }
            Backend::S3(b) => {
                let dir = b
                    .scratch
                    .join(format!("sizes-{}", uuid::Uuid::new_v4().simple()));
                let made = tokio::fs::create_dir_all(&dir).await;
                if let Err(e) = made {
                    tracing::error!(error = %e, "creating a scratch dir for sub-sizes failed");
                }
                (dir.clone(), Some(ScratchDir(dir)))
            }
        };
        let (src, file, mime, out) = (
            src.to_owned(),
            rel.to_owned(),
            mime.to_owned(),
            out_dir.clone(),
        );
        let mut metadata = cpu
            .run(move || media::generate_metadata(&src, &file, &mime, budget, &out))
            .await?;
        let sizes = metadata.get_mut("sizes").and_then(Value::as_object_mut);
        if let (Backend::S3(b), Some(sizes)) = (&*self.0, sizes) {
            let mut failed = vec![];
            for (size, v) in sizes.iter() {
                let Some(name) = v["file"].as_str() else {
                    continue;
                };
                let stored = b
                    .put_file(
                        &out_dir.join(name),
                        &join_rel(dir_of(rel), name),
                        PutMode::Overwrite,
                    )
                    .await;
                if let Err(e) = stored {
                    tracing::warn!(error = %e, file = name, "could not store an image sub-size");
                    failed.push(size.clone());
                }
            }
            for size in failed {
                sizes.remove(&size);
            }
        }
        drop(scratch);
        Ok(metadata)
    }

    /// Removes every file of an attachment (`wp_delete_attachment_files()`): the original
    /// and its sub-sizes. Failures are logged; the attachment is gone either way.
    pub async fn delete_attachment(&self, file: &str, metadata: &Value) {
        for rel in media::attachment_files(file, metadata) {
            let removed = match &*self.0 {
                Backend::Local { root } => match media::safe_join(root, &rel) {
                    Some(path) if safe_rel(&rel) => match tokio::fs::remove_file(&path).await {
                        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                        r => r,
                    },
                    _ => Ok(()),
                },
                Backend::S3(b) => match b.key(&rel) {
                    // Deleting a key that is not there succeeds.
                    Some(key) => b.client.delete(&key).await.map_err(io_error),
                    None => Ok(()),
                },
            };
            if let Err(e) = removed {
                tracing::warn!(error = %e, file = %rel, "could not remove an upload");
            }
        }
    }

    /// `GET /wp-content/uploads/<rel>` from a bucket (a local store is served by the
    /// server's `ServeDir`): streamed with `ETag`, `Last-Modified`, `Cache-Control`,
    /// conditional requests and single ranges, or redirected as `--media-redirect` says.
    /// `rel` has been decoded and checked for hidden names by the caller.
    pub async fn respond(&self, rel: &str, headers: &HeaderMap) -> Response {
        let Backend::S3(b) = &*self.0 else {
            return not_found();
        };
        let Some(key) = b.key(rel).filter(|_| safe_rel(rel)) else {
            return not_found();
        };
        match b.redirect {
            MediaRedirect::Serve => b.stream(&key, rel, headers).await,
            MediaRedirect::Presigned => {
                match b
                    .client
                    .signed_url(axum::http::Method::GET, &key, PRESIGNED_FOR)
                    .await
                {
                    // The URL is good for an hour: clients may keep the redirect a while.
                    Ok(url) => redirect(url.as_str(), "private, max-age=600"),
                    Err(e) => unavailable(&e),
                }
            }
            MediaRedirect::Public => {
                let base = b.public_url.as_deref().unwrap_or("");
                let path: Vec<String> = rel.split('/').map(encode_segment).collect();
                redirect(&format!("{base}/{}", path.join("/")), CACHE_CONTROL)
            }
        }
    }

    /// `migrate-media`: copies every file below the local uploads dir `dir` (hidden names
    /// left out) into the bucket under the same path. A file already there with the same
    /// size is skipped, so a second run (or one after an interruption) copies only what is
    /// missing. The local files are left as they are.
    pub async fn copy_from_local(&self, dir: &Path) -> anyhow::Result<MigrateReport> {
        let Backend::S3(_) = &*self.0 else {
            bail!("migrate-media copies into a bucket: give --media-store s3://bucket/prefix");
        };
        let files = crate::backup::upload_files(dir)?;
        let mut report = MigrateReport::default();
        let mut results = futures_util::stream::iter(files)
            .map(|(rel, path)| {
                let store = self.clone();
                async move {
                    let outcome = store.copy_one(&path, &rel).await;
                    (rel, outcome)
                }
            })
            .buffer_unordered(MIGRATE_CONCURRENCY);
        while let Some((rel, outcome)) = results.next().await {
            match outcome {
                Ok(Some(bytes)) => {
                    report.copied += 1;
                    report.bytes += bytes;
                }
                Ok(None) => report.skipped += 1,
                Err(e) => {
                    tracing::warn!(error = %e, file = %rel, "could not copy into the bucket");
                    eprintln!("Warning: {rel}: {e}");
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }

    /// One file of `migrate-media`: `Some(bytes)` copied, `None` already there.
    async fn copy_one(&self, path: &Path, rel: &str) -> io::Result<Option<u64>> {
        let Backend::S3(b) = &*self.0 else {
            return Ok(None);
        };
        let size = tokio::fs::metadata(path).await?.len();
        let key = b.key(rel).ok_or_else(|| bad_path(rel))?;
        match b.client.head(&key).await {
            Ok(meta) if meta.size == size => return Ok(None),
            Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(io_error(e)),
        }
        b.put_file(path, rel, PutMode::Overwrite).await?;
        Ok(Some(size))
    }
}

/// What `migrate-media` did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MigrateReport {
    pub copied: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Bytes copied.
    pub bytes: u64,
}

/// A readable local copy of a stored file ([`MediaStore::local_copy`]).
pub struct LocalCopy {
    path: PathBuf,
    temporary: bool,
}

impl LocalCopy {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LocalCopy {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A scratch directory removed (with its files) when dropped.
struct ScratchDir(PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Bucket {
    /// The object key of `rel`: `prefix/rel`.
    fn key(&self, rel: &str) -> Option<Key> {
        if !safe_rel(rel) {
            return None;
        }
        let prefix = self.location.prefix.split('/').filter(|s| !s.is_empty());
        Some(Key::from_iter(prefix.chain(rel.split('/'))))
    }

    /// Streams the local file `src` to `rel`. `PutMode::Create` fails with `AlreadyExists`
    /// when the key is taken; a large file first takes the key with an empty object (the
    /// multipart completion itself cannot be conditional), then fills it.
    async fn put_file(&self, src: &Path, rel: &str, mode: PutMode) -> io::Result<()> {
        let key = self.key(rel).ok_or_else(|| bad_path(rel))?;
        let size = tokio::fs::metadata(src).await?.len();
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, content_type(rel).into());
        attributes.insert(Attribute::CacheControl, CACHE_CONTROL.into());
        if size <= MULTIPART_THRESHOLD {
            let bytes = tokio::fs::read(src).await?;
            let opts = PutOptions {
                mode,
                attributes,
                ..PutOptions::default()
            };
            self.client
                .put_opts(&key, PutPayload::from(bytes), opts)
                .await
                .map_err(io_error)?;
            return Ok(());
        }
        let reserved = matches!(mode, PutMode::Create);
        if reserved {
            let opts = PutOptions {
                mode: PutMode::Create,
                ..PutOptions::default()
            };
            self.client
                .put_opts(&key, PutPayload::default(), opts)
                .await
                .map_err(io_error)?;
        }
        let uploaded = self.put_multipart(&key, src, attributes).await;
        if uploaded.is_err() && reserved {
            let _ = self.client.delete(&key).await;
        }
        uploaded
    }

    async fn put_multipart(&self, key: &Key, src: &Path, attributes: Attributes) -> io::Result<()> {
        let opts = PutMultipartOptions {
            attributes,
            ..PutMultipartOptions::default()
        };
        let upload = self
            .client
            .put_multipart_opts(key, opts)
            .await
            .map_err(io_error)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut file = tokio::fs::File::open(src).await?;
        let mut buf = vec![0u8; 1 << 20];
        let written: io::Result<()> = async {
            loop {
                let n = file.read(&mut buf).await?;
                if n == 0 {
                    return Ok(());
                }
                writer
                    .wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(io_error)?;
                writer.write(&buf[..n]);
            }
        }
        .await;
        match written {
            Ok(()) => writer.finish().await.map(|_| ()).map_err(io_error),
            Err(e) => {
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }

    /// Serves the object at `key` as `ServeDir` serves a local file.
    async fn stream(&self, key: &Key, rel: &str, headers: &HeaderMap) -> Response {
        let meta = match self.client.head(key).await {
            Ok(m) => m,
            Err(object_store::Error::NotFound { .. }) => return not_found(),
            Err(e) => return unavailable(&e),
        };
        let modified = meta.last_modified.timestamp();
        let etag = match &meta.e_tag {
            Some(t) => format!("\"{}\"", t.trim_matches('"')),
            None => format!("\"{:x}-{modified:x}\"", meta.size),
        };
        let last_modified = jiff::Timestamp::from_second(modified)
            .map(|t| jiff::fmt::rfc2822::DateTimePrinter::new().timestamp_to_rfc9110_string(&t))
            .ok()
            .and_then(Result::ok);
        if not_modified(headers, &etag, modified) {
            let mut resp = StatusCode::NOT_MODIFIED.into_response();
            set_validators(resp.headers_mut(), &etag, last_modified.as_deref());
            return resp;
        }
        // `If-Range` with another validator: the whole file.
        let if_range_ok = headers
            .get(header::IF_RANGE)
            .is_none_or(|v| v.to_str().is_ok_and(|v| v.trim() == etag));
        let range = match headers.get(header::RANGE).filter(|_| if_range_ok) {
            None => None,
            Some(v) => match parse_range(v.to_str().unwrap_or(""), meta.size) {
                Some(r) => Some(r),
                None => {
                    let mut resp = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
                    set(
                        resp.headers_mut(),
                        header::CONTENT_RANGE,
                        &format!("bytes */{}", meta.size),
                    );
                    return resp;
                }
            },
        };
        let opts = GetOptions {
            range: range.map(|(start, end)| GetRange::Bounded(start..end + 1)),
            ..GetOptions::default()
        };
        let got = match self.client.get_opts(key, opts).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return not_found(),
            Err(e) => return unavailable(&e),
        };
        let length = got.range.end - got.range.start;
        let body = Body::from_stream(got.into_stream());
        let mut resp = body.into_response();
        let h = resp.headers_mut();
        set(h, header::CONTENT_TYPE, &content_type(rel));
        set(h, header::CONTENT_LENGTH, &length.to_string());
        h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        set_validators(h, &etag, last_modified.as_deref());
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if let Some((start, end)) = range {
            set(
                h,
                header::CONTENT_RANGE,
                &format!("bytes {start}-{end}/{}", meta.size),
            );
            *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
        }
        resp
    }
}

/// The type a web server gives the file (the table `ServeDir` uses for local uploads).
fn content_type(rel: &str) -> String {
    mime_guess::from_path(rel)
        .first_or_octet_stream()
        .essence_str()
        .to_owned()
}

/// The caching headers of a file and of its 304: `ETag`, `Last-Modified`, `Cache-Control`.
fn set_validators(h: &mut HeaderMap, etag: &str, last_modified: Option<&str>) {
    set(h, header::ETAG, etag);
    if let Some(lm) = last_modified {
        set(h, header::LAST_MODIFIED, lm);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
}

fn set(h: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

/// `If-None-Match` (any listed tag, or `*`), else `If-Modified-Since` at or after the
/// object's time.
fn not_modified(headers: &HeaderMap, etag: &str, modified: i64) -> bool {
    if let Some(inm) = headers.get(header::IF_NONE_MATCH) {
        return inm
            .to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            jiff::fmt::rfc2822::DateTimeParser::new()
                .parse_timestamp(v.trim())
                .ok()
        })
        .is_some_and(|since| since.as_second() >= modified)
}

/// One `bytes=` range of a `size`-byte object, as inclusive offsets; `None` when it cannot
/// be served (malformed, several ranges, or past the end), which is a 416 as `ServeDir`
/// answers.
pub fn parse_range(value: &str, size: u64) -> Option<(u64, u64)> {
    let spec = value.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') || size == 0 {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = (start.trim(), end.trim());
    if start.is_empty() {
        let n: u64 = end.parse().ok()?;
        if n == 0 {
            return None;
        }
        return Some((size.saturating_sub(n), size - 1));
    }
    let start: u64 = start.parse().ok()?;
    let end = if end.is_empty() {
        size - 1
    } else {
        end.parse::<u64>().ok()?.min(size - 1)
    };
    (start <= end && start < size).then_some((start, end))
}

/// A path segment as a URL path segment (unreserved characters kept).
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn redirect(location: &str, cache_control: &'static str) -> Response {
    let mut resp = StatusCode::FOUND.into_response();
    set(resp.headers_mut(), header::LOCATION, location);
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    resp
}

/// The page a missing upload gets (as the local uploads' 404).
pub fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html("<!DOCTYPE html><title>Not Found</title><h1>Not Found</h1>"),
    )
        .into_response()
}

/// The bucket did not answer: 503, try again shortly.
fn unavailable(e: &object_store::Error) -> Response {
    tracing::error!(error = %e, "reading from the media store failed");
    let mut resp = (
        StatusCode::SERVICE_UNAVAILABLE,
        "The media store is unavailable.",
    )
        .into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=-1000", 100), Some((0, 99)));
        assert_eq!(parse_range("bytes=50-1000", 100), Some((50, 99)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=5-2", 100), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("bytes=-0", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
        assert_eq!(parse_range("bytes=0-0", 0), None);
    }

    #[test]
    fn keys_stay_below_the_prefix() {
        assert!(safe_rel("2026/12/a.png"));
        for bad in ["", "/a", "a//b", "../a", "a/./b", "a\\b", "a/"] {
            assert!(!safe_rel(bad), "{bad}");
        }
        assert_eq!(encode_segment("a b+é.png"), "a%20b%2B%C3%A9.png");
    }
}
