//! `ferropress backup` and `ferropress restore`: one archive (tar, gzip when the name ends
//! in `.gz`/`.tgz`) holding a consistent copy of the SQLite database, taken while the
//! server runs (`VACUUM INTO`: one read transaction, writers go on beside it in WAL mode),
//! the uploads and `ferropress.toml`, with a manifest (`manifest.json`, last member) giving
//! every file's size and SHA-256.
//!
//! A restore unpacks into a staging directory beside the data dir, refuses any member that
//! is not a plain file or directory with a relative path below it (no `..`, no absolute
//! path, no link: a hostile archive writes nowhere else), checks every checksum and the
//! database's `PRAGMA integrity_check`, and only then renames the staging directory into
//! place, so a failed restore leaves the data dir as it was.
//!
//! PostgreSQL sites: the database is backed up with PostgreSQL's own tools (`pg_dump`);
//! the archive then holds the uploads and `ferropress.toml` only. Media in a bucket
//! (`--media-store s3://…`) is not copied either: the bucket keeps it (its versioning or
//! replication is its backup), and a restored site points at the same bucket.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use sqlx::ConnectOptions as _;
use sqlx::sqlite::SqliteConnectOptions;

use crate::store::sqlite::FILE_NAME as DB_FILE;

/// The manifest's member name; written last.
pub const MANIFEST: &str = "manifest.json";
/// The uploads' directory inside the archive (and inside a restored data dir).
pub const UPLOADS: &str = "uploads";
/// The post types configuration of the data dir.
pub const SITE_TOML: &str = "ferropress.toml";
const FORMAT: &str = "ferropress-backup";
const FORMAT_VERSION: u32 = 1;
/// A manifest larger than this is not one we wrote.
const MAX_MANIFEST_BYTES: u64 = 64 << 20;

/// What `manifest.json` says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub ferropress_version: String,
    /// RFC 3339, UTC.
    pub created: String,
    /// `sqlite` (the database is in the archive) or `postgres` (uploads only).
    pub store: String,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// What `backup` should copy.
#[derive(Debug, Clone)]
pub struct Source {
    pub data_dir: PathBuf,
    /// The local uploads dir; `None` when media lives in a bucket (not archived).
    pub uploads_dir: Option<PathBuf>,
    /// PostgreSQL site: the database is not copied.
    pub postgres: bool,
}

/// A directory removed when dropped, unless kept.
struct Scratch(Option<PathBuf>);

impl Scratch {
    fn new_beside(target: &Path, what: &str) -> anyhow::Result<Self> {
        let parent = parent_of(target);
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        let name = target
            .file_name()
            .map_or_else(|| "ferropress".into(), |n| n.to_string_lossy().into_owned());
        let dir = parent.join(format!(".{name}.{what}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        private_dir(&dir);
        Ok(Self(Some(dir)))
    }

    fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or(Path::new("."))
    }

    fn keep(mut self) -> PathBuf {
        self.0.take().unwrap_or_default()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn private_dir(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
}

fn private_file(file: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600));
    }
}

fn gzipped_name(path: &Path) -> bool {
    let name = path.to_string_lossy().to_ascii_lowercase();
    name.ends_with(".gz") || name.ends_with(".tgz")
}

/// A writer that hashes what goes through it.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes what goes through it.
struct HashingReader<R> {
    inner: R,
    hash: Sha256,
    bytes: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Takes a snapshot of the SQLite database at `db` into `into` (`VACUUM INTO`), then checks
/// the copy's integrity.
async fn snapshot_sqlite(db: &Path, into: &Path) -> anyhow::Result<()> {
    let mut conn = SqliteConnectOptions::new()
        .filename(db)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(30))
        .connect()
        .await
        .with_context(|| format!("opening {}", db.display()))?;
    let target = into
        .to_str()
        .context("the backup's directory is not UTF-8")?;
    sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(&mut conn)
        .await
        .context("copying the database (VACUUM INTO)")?;
    sqlx::Connection::close(conn).await?;
    let check = integrity_check(into).await?;
    if check != "ok" {
        bail!("the database copy fails its integrity check: {check}");
    }
    Ok(())
}

/// `PRAGMA integrity_check` of the database file at `path` (`ok` when sound), and that it
/// is a ferropress database (its migrations table exists).
async fn integrity_check(path: &Path) -> anyhow::Result<String> {
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .connect()
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .context("running PRAGMA integrity_check")?;
    let ours: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&mut conn)
    .await
    .context("reading the database schema")?;
    sqlx::Connection::close(conn).await?;
    if ours == 0 {
        return Ok("not a ferropress database (no migrations table)".into());
    }
    Ok(rows.join("; "))
}

/// Files below `uploads` (relative paths with `/`), sorted. Hidden names (the in-progress
/// `.upload-tmp`) and anything that is not a regular file or directory are left out.
pub(crate) fn upload_files(uploads: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    if !uploads.is_dir() {
        return Ok(out);
    }
    let mut stack = vec![(String::new(), uploads.to_owned())];
    while let Some((rel, dir)) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                tracing::warn!(path = %entry.path().display(), "not backed up: the name is not UTF-8");
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let child = if rel.is_empty() {
                name.to_owned()
            } else {
                format!("{rel}/{name}")
            };
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push((child, entry.path()));
            } else if kind.is_file() {
                out.push((child, entry.path()));
            } else {
                tracing::warn!(path = %entry.path().display(), "not backed up: not a regular file");
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Appends `file` as `name`, hashing what is written; the file must not change length
/// while it is copied.
fn append_file<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    file: &Path,
) -> anyhow::Result<Option<FileEntry>> {
    let mut f = match std::fs::File::open(file) {
        Ok(f) => f,
        // Deleted since it was listed (media deleted meanwhile): not part of the snapshot.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("opening {}", file.display())),
    };
    let meta = f.metadata()?;
    let size = meta.len();
    let mut header = tar::Header::new_ustar();
    header
        .set_path(name)
        .with_context(|| format!("naming {name} in the archive"))?;
    header.set_size(size);
    header.set_mode(0o600);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mtime(
        meta.modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs()),
    );
    header.set_cksum();
    let mut reader = HashingReader {
        inner: (&mut f).take(size),
        hash: Sha256::new(),
        bytes: 0,
    };
    tar.append(&header, &mut reader)
        .with_context(|| format!("archiving {}", file.display()))?;
    if reader.bytes != size {
        bail!("{} changed while it was being backed up", file.display());
    }
    Ok(Some(FileEntry {
        path: name.to_owned(),
        size,
        sha256: hex(&reader.hash.finalize()),
    }))
}

fn append_bytes<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    data: &[u8],
) -> anyhow::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_path(name)?;
    header.set_size(data.len() as u64);
    header.set_mode(0o600);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mtime(u64::try_from(crate::site::now()).unwrap_or(0));
    header.set_cksum();
    tar.append(&header, data)?;
    Ok(())
}

/// Writes the archive `to`: the database snapshot (SQLite), `ferropress.toml`, the uploads,
/// then the manifest. Written to a temporary name beside `to` and renamed when complete.
pub async fn backup(source: &Source, to: &Path) -> anyhow::Result<Manifest> {
    let scratch = Scratch::new_beside(to, "backup")?;
    let snapshot = scratch.path().join(DB_FILE);
    if !source.postgres {
        let db = source.data_dir.join(DB_FILE);
        if !db.is_file() {
            bail!("no ferropress database in {}", source.data_dir.display());
        }
        snapshot_sqlite(&db, &snapshot).await?;
    }
    let partial = scratch.path().join("archive.partial");
    let source = source.clone();
    let gzip = gzipped_name(to);
    let manifest = tokio::task::spawn_blocking(move || -> anyhow::Result<Manifest> {
        let out = std::fs::File::create(&partial)
            .with_context(|| format!("creating {}", partial.display()))?;
        private_file(&partial);
        let out = std::io::BufWriter::new(out);
        let sink: Box<dyn Write> = if gzip {
            Box::new(flate2::write::GzEncoder::new(
                out,
                flate2::Compression::default(),
            ))
        } else {
            Box::new(out)
        };
        let mut tar = tar::Builder::new(sink);
        let mut files = Vec::new();
        if !source.postgres {
            files.extend(append_file(&mut tar, DB_FILE, &snapshot)?);
        }
        let toml = source.data_dir.join(SITE_TOML);
        if toml.is_file() {
            files.extend(append_file(&mut tar, SITE_TOML, &toml)?);
        }
        let uploads = match &source.uploads_dir {
            Some(dir) => upload_files(dir)?,
            None => vec![],
        };
        for (rel, path) in uploads {
            files.extend(append_file(&mut tar, &format!("{UPLOADS}/{rel}"), &path)?);
        }
        let manifest = Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            ferropress_version: env!("CARGO_PKG_VERSION").into(),
            created: jiff::Timestamp::now().to_string(),
            store: if source.postgres {
                "postgres"
            } else {
                "sqlite"
            }
            .into(),
            files,
        };
        append_bytes(&mut tar, MANIFEST, &serde_json::to_vec_pretty(&manifest)?)?;
        let mut sink = tar.into_inner()?;
        sink.flush()?;
        drop(sink);
        let file = std::fs::OpenOptions::new().write(true).open(&partial)?;
        file.sync_all()?;
        Ok(manifest)
    })
    .await??;
    let partial = scratch.path().join("archive.partial");
    std::fs::rename(&partial, to).with_context(|| format!("writing {}", to.display()))?;
    sync_dir(&parent_of(to));
    Ok(manifest)
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Whether `dir` holds anything.
fn non_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}

/// A member's path, if it is one a backup holds: relative, plain names only, UTF-8, and
/// the manifest, the database, `ferropress.toml` or something below `uploads/`.
fn member_path(raw: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for c in raw.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str()?),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    let path = parts.join("/");
    let allowed = matches!(path.as_str(), MANIFEST | DB_FILE | SITE_TOML | UPLOADS)
        || path.starts_with("uploads/");
    (allowed && !parts.is_empty()).then_some(path)
}

/// Unpacks `archive` into `staging`, checking every member, and returns the manifest and
/// what was unpacked (path -> size, SHA-256).
fn unpack(
    archive: &Path,
    staging: &Path,
) -> anyhow::Result<(Manifest, BTreeMap<String, FileEntry>)> {
    let mut file =
        std::fs::File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    let mut magic = [0u8; 2];
    let gz = file.read(&mut magic)? == 2 && magic == [0x1f, 0x8b];
    drop(file);
    let file = std::io::BufReader::new(std::fs::File::open(archive)?);
    let reader: Box<dyn Read> = if gz {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut tar = tar::Archive::new(reader);
    let mut unpacked = BTreeMap::new();
    let mut manifest = None;
    for entry in tar.entries().context("reading the archive")? {
        let mut entry = entry.context("reading the archive")?;
        let raw = entry
            .path()
            .context("reading a member's name")?
            .into_owned();
        let Some(path) = member_path(&raw) else {
            bail!(
                "archive member {:?} is outside what a backup holds: refused",
                raw.display().to_string()
            );
        };
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            let dir = staging.join(&path);
            std::fs::create_dir_all(&dir)?;
            continue;
        }
        if !kind.is_file() {
            bail!("archive member {path:?} is not a plain file ({kind:?}): refused");
        }
        if path == MANIFEST {
            if manifest.is_some() {
                bail!("the archive holds two manifests");
            }
            let mut text = Vec::new();
            (&mut entry)
                .take(MAX_MANIFEST_BYTES + 1)
                .read_to_end(&mut text)?;
            if text.len() as u64 > MAX_MANIFEST_BYTES {
                bail!("the manifest is too large");
            }
            let m: Manifest = serde_json::from_slice(&text).context("reading the manifest")?;
            manifest = Some(m);
            continue;
        }
        if path == UPLOADS {
            bail!("archive member {path:?} should be a directory");
        }
        let target = staging.join(&path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .with_context(|| {
                format!("archive member {path:?}: appears twice or cannot be written")
            })?;
        let mut w = Hashing {
            inner: std::io::BufWriter::new(out),
            hash: Sha256::new(),
            bytes: 0,
        };
        std::io::copy(&mut entry, &mut w).with_context(|| format!("unpacking {path}"))?;
        let out = w
            .inner
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?;
        out.sync_all()?;
        private_file(&target);
        unpacked.insert(
            path.clone(),
            FileEntry {
                path,
                size: w.bytes,
                sha256: hex(&w.hash.finalize()),
            },
        );
    }
    let manifest = manifest.context("the archive has no manifest.json: not a ferropress backup")?;
    Ok((manifest, unpacked))
}

/// Every file the manifest lists was unpacked with its size and checksum, and nothing else.
fn verify(manifest: &Manifest, unpacked: &BTreeMap<String, FileEntry>) -> anyhow::Result<()> {
    if manifest.format != FORMAT || manifest.format_version != FORMAT_VERSION {
        bail!(
            "not a ferropress backup this version reads (format {:?} version {})",
            manifest.format,
            manifest.format_version
        );
    }
    let mut listed = std::collections::BTreeSet::new();
    for f in &manifest.files {
        if !listed.insert(f.path.as_str()) {
            bail!("the manifest lists {} twice", f.path);
        }
        match unpacked.get(&f.path) {
            None => bail!(
                "{} is listed in the manifest but missing from the archive",
                f.path
            ),
            Some(got) if got != f => bail!(
                "{} does not match its checksum (archive damaged or altered): size {} sha256 {}, manifest says size {} sha256 {}",
                f.path,
                got.size,
                got.sha256,
                f.size,
                f.sha256
            ),
            Some(_) => {}
        }
    }
    if let Some(extra) = unpacked.keys().find(|p| !listed.contains(p.as_str())) {
        bail!("{extra} is in the archive but not in its manifest (archive altered)");
    }
    if manifest.store == "sqlite" && !unpacked.contains_key(DB_FILE) {
        bail!("the archive of a SQLite site holds no database");
    }
    Ok(())
}

/// What `restore` did.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    pub replaced: bool,
}

/// Restores `archive` as the data dir `data_dir`. A non-empty `data_dir` is refused unless
/// `force`; then it is replaced as a whole once the new one is checked.
pub async fn restore(archive: &Path, data_dir: &Path, force: bool) -> anyhow::Result<Restored> {
    let exists = data_dir.exists();
    if exists && !data_dir.is_dir() {
        bail!("{} exists and is not a directory", data_dir.display());
    }
    let occupied = exists && non_empty(data_dir);
    if occupied && !force {
        bail!(
            "{} is not empty: refusing to overwrite a site (stop its server, then use --force to replace it)",
            data_dir.display()
        );
    }
    let staging = Scratch::new_beside(data_dir, "restore")?;
    let (archive_path, staging_path) = (archive.to_owned(), staging.path().to_owned());
    let (manifest, unpacked) =
        tokio::task::spawn_blocking(move || unpack(&archive_path, &staging_path)).await??;
    verify(&manifest, &unpacked)?;
    let db = staging.path().join(DB_FILE);
    if db.exists() {
        let check = integrity_check(&db).await?;
        if check != "ok" {
            bail!("the restored database fails its integrity check: {check}");
        }
        private_file(&db);
    }
    sync_dir(staging.path());
    // Swap: the old data dir aside, the new one in, the old one removed.
    let parent = parent_of(data_dir);
    let aside = if exists {
        let name = data_dir
            .file_name()
            .map_or_else(|| "ferropress".into(), |n| n.to_string_lossy().into_owned());
        let aside = parent.join(format!(
            ".{name}.replaced-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::rename(data_dir, &aside)
            .with_context(|| format!("moving {} aside", data_dir.display()))?;
        Some(aside)
    } else {
        None
    };
    if let Err(e) = std::fs::rename(staging.path(), data_dir) {
        if let Some(aside) = &aside {
            let _ = std::fs::rename(aside, data_dir);
        }
        return Err(e)
            .with_context(|| format!("moving the restored site to {}", data_dir.display()));
    }
    let _ = staging.keep();
    sync_dir(&parent);
    if let Some(aside) = aside {
        let _ = std::fs::remove_dir_all(aside);
    }
    Ok(Restored {
        manifest,
        replaced: occupied,
    })
}

/// Name prefix and suffix of scheduled backups.
const SCHEDULED_PREFIX: &str = "ferropress-";
const SCHEDULED_SUFFIX: &str = ".tar.gz";

/// Takes a backup into `dir` every `every`, keeping the newest `keep`. Runs until dropped;
/// a failed backup is logged and tried again at the next time.
pub async fn schedule(source: Source, dir: PathBuf, every: Duration, keep: usize) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        // UTC, sortable, unique to the millisecond: `ferropress-20261207T133000.123Z.tar.gz`.
        let stamp = jiff::Timestamp::now()
            .strftime("%Y%m%dT%H%M%S%.3fZ")
            .to_string();
        let to = dir.join(format!("{SCHEDULED_PREFIX}{stamp}{SCHEDULED_SUFFIX}"));
        let started = std::time::Instant::now();
        match backup(&source, &to).await {
            Ok(m) => tracing::info!(
                file = %to.display(),
                files = m.files.len(),
                millis = started.elapsed().as_millis() as u64,
                "scheduled backup written"
            ),
            Err(e) => {
                tracing::error!(file = %to.display(), error = format!("{e:#}"), "scheduled backup failed");
                continue;
            }
        }
        if let Err(e) = prune(&dir, keep) {
            tracing::error!(dir = %dir.display(), error = format!("{e:#}"), "deleting old backups failed");
        }
    }
}

/// Deletes scheduled backups in `dir` beyond the newest `keep` (by name: UTC time).
fn prune(dir: &Path, keep: usize) -> anyhow::Result<()> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with(SCHEDULED_PREFIX) && n.ends_with(SCHEDULED_SUFFIX))
        .collect();
    names.sort();
    let excess = names.len().saturating_sub(keep);
    for old in &names[..excess] {
        std::fs::remove_file(dir.join(old))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_paths_stay_below_the_data_dir() {
        for ok in [
            "manifest.json",
            "ferropress.db",
            "./ferropress.toml",
            "uploads",
            "uploads/2026/12/a.png",
        ] {
            assert!(member_path(Path::new(ok)).is_some(), "{ok}");
        }
        for bad in [
            "../x",
            "uploads/../../x",
            "/etc/passwd",
            "/uploads/a",
            "run.sh",
            "ferropress.db/../x",
            "",
            ".",
        ] {
            assert_eq!(member_path(Path::new(bad)), None, "{bad}");
        }
    }

    #[test]
    fn pruning_keeps_the_newest_scheduled_backups() {
        let dir = std::env::temp_dir().join(format!("ferropress-prune-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&dir).expect("dir");
        for n in [
            "ferropress-20261201T000000.000Z.tar.gz",
            "ferropress-20261203T000000.000Z.tar.gz",
            "ferropress-20261202T000000.000Z.tar.gz",
            "other.tar.gz",
        ] {
            std::fs::write(dir.join(n), b"x").expect("write");
        }
        prune(&dir, 2).expect("prune");
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "ferropress-20261202T000000.000Z.tar.gz",
                "ferropress-20261203T000000.000Z.tar.gz",
                "other.tar.gz"
            ]
        );
        std::fs::remove_dir_all(dir).expect("cleanup");
    }
}
