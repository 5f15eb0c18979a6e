//! The embedded SQLite store: one file in the data dir, WAL journal, migrations embedded.
//!
//! A server and CLI commands may open the same file at once: WAL lets readers run beside
//! one writer and `busy_timeout` makes concurrent writers wait instead of failing.
//! `synchronous=FULL` so a write acknowledged to a client survives a crash of the machine.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Transaction;
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions, SqliteSynchronous,
};

use super::queries::{self, Engine};
use super::sql::{Conn, Dialect, json_array};
use super::*;

/// The database file inside the data dir.
pub const FILE_NAME: &str = "ferropress.db";

/// The migrations this build applies.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

pub struct SqliteStore {
    pool: SqlitePool,
    /// The database file and its (device, inode) when opened, for the readiness check.
    path: std::path::PathBuf,
    file_id: (u64, u64),
    /// The WAL index (`ferropress.db-shm`), whose header tells the database version.
    wal_index: std::fs::File,
    writer: PostWriter,
    /// The post writer's commits, for `only_own_post_writes`.
    own_writes: std::sync::Arc<super::own_writes::PostWriteLog>,
}

impl SqliteStore {
    /// Opens (creating if needed) `ferropress.db` in `data_dir` and applies migrations.
    pub async fn open(data_dir: &Path) -> StoreResult<Self> {
        Self::open_file(&data_dir.join(FILE_NAME)).await
    }

    /// Opens (creating if needed) the database file `path` and applies migrations.
    pub async fn open_file(path: &Path) -> StoreResult<Self> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(opts.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        queries::backfill_folds(&pool).await?;
        let writer_conn = sqlx::ConnectOptions::connect(&opts).await?;
        // The writer's connection stays open for the store's life, so SQLite keeps the WAL
        // index file (it removes it only when the last connection closes).
        let mut shm = path.as_os_str().to_owned();
        shm.push("-shm");
        let open_shm = || {
            std::fs::File::open(&shm).map_err(|e| {
                StoreError::Other(format!("opening {}: {e}", Path::new(&shm).display()))
            })
        };
        let wal_index = open_shm()?;
        let own_writes = std::sync::Arc::default();
        let writer =
            PostWriter::start(writer_conn, open_shm()?, std::sync::Arc::clone(&own_writes));
        let file_id = {
            use std::os::unix::fs::MetadataExt as _;
            let m = std::fs::metadata(path)
                .map_err(|e| StoreError::Other(format!("reading {}: {e}", path.display())))?;
            (m.dev(), m.ino())
        };
        Ok(Self {
            pool,
            path: path.to_owned(),
            file_id,
            wal_index,
            writer,
            own_writes,
        })
    }

    /// Runs `PRAGMA integrity_check` and returns its answer (`ok` when healthy).
    pub async fn integrity_check(&self) -> StoreResult<String> {
        Ok(sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&self.pool)
            .await?)
    }

    /// The pool, for `migrate-store`, which reads every table as it is.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// `Store::data_version` of the WAL index `file`: its header, when both copies agree.
fn read_data_version(file: &std::fs::File) -> Option<DataVersion> {
    use std::os::unix::fs::FileExt;
    let mut both = [0u8; 96];
    file.read_exact_at(&mut both, 0).ok()?;
    let (first, second) = both.split_at(48);
    if first != second {
        return None;
    }
    let mut v = [0u8; 48];
    v.copy_from_slice(first);
    Some(DataVersion(v))
}

/// The header's `iChange`, which every commit (and nothing else) increments by one
/// (`walIndexWriteHdr`, native byte order).
fn commit_count(v: &DataVersion) -> u32 {
    u32::from_ne_bytes([v.0[8], v.0[9], v.0[10], v.0[11]])
}

/// Maps SQLite's "UNIQUE constraint failed: table.column" to the collision it means.
fn conflict_of(err: &sqlx::Error) -> Option<Conflict> {
    let db = err.as_database_error()?;
    if !db.is_unique_violation() {
        return None;
    }
    let msg = db.message();
    Some(if msg.contains("user.login") {
        Conflict::UserLogin
    } else if msg.contains("user.email") {
        Conflict::UserEmail
    } else if msg.contains("user.nicename") {
        Conflict::UserNicename
    } else if msg.contains("term.taxonomy") || msg.contains("term.slug") {
        Conflict::TermSlug
    } else if msg.contains("application_password.user_id")
        || msg.contains("application_password.name")
    {
        Conflict::AppPasswordName
    } else {
        Conflict::AppPasswordHash
    })
}

// Lists as one JSON array, read with `json_each`.
sql::impl_conn!(
    SqliteConnection,
    sqlx::sqlite::SqliteArguments,
    Dialect::Sqlite,
    json_array,
    conflict_of
);

#[async_trait]
impl Engine for SqliteStore {
    type Db = Sqlite;

    fn db_pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The header of the WAL index (<https://www.sqlite.org/walformat.html>, "The WAL-Index
    /// Header"): every commit, by any connection of any process, rewrites it (frame count,
    /// change counter, salts, checksum). SQLite keeps two copies and writes the second
    /// first; copies that differ mean a commit is under way, and then nothing is cached.
    /// One `pread`, no lock and no round trip to a database thread: what `PRAGMA
    /// data_version` tells, at a fraction of its cost on every request.
    fn engine_data_version(&self) -> Option<DataVersion> {
        read_data_version(&self.wal_index)
    }

    fn engine_only_own_post_writes(&self, from: &DataVersion, to: &DataVersion) -> bool {
        self.own_writes.covers(from, to)
    }

    async fn write_post(&self, post: &NewPostWrite) -> StoreResult<i64> {
        self.writer.create_post(post.clone()).await
    }

    async fn write_usage(&self, usage: &[AppPasswordUsage]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for u in usage {
            let s = sql::stmt(
                "UPDATE application_password SET last_used = $1, last_ip = $2, last_user_agent = $3 \
                 WHERE uuid = $4 AND (last_used IS NULL OR last_used <= $1)",
            )
            .bind(u.last_used)
            .bind(&u.last_ip)
            .bind(&u.last_user_agent)
            .bind(u.uuid.to_string());
            tx.run(s).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// IMMEDIATE takes the write lock before the last hash is read: another writer (a CLI
    /// command, a second connection) waits for the commit instead of forking the chain.
    async fn begin_audit_chain(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// A query through the pool, and the database file still the one this store opened:
    /// a file removed or replaced underneath (a volume unmounted, a restore into the
    /// live dir) would be served from the open descriptors until the next start.
    async fn check_ready(&self) -> Result<(), String> {
        use std::os::unix::fs::MetadataExt as _;
        match std::fs::metadata(&self.path) {
            Ok(m) if (m.dev(), m.ino()) == self.file_id => {}
            found => {
                let why = found.err().map(|e| e.to_string());
                tracing::warn!(path = %self.path.display(), error = ?why, "readiness check: the database file is not the one opened");
                return Err(
                    "the database file was removed or replaced since it was opened".to_owned(),
                );
            }
        }
        queries::migrations_ready(&self.pool, &MIGRATOR).await
    }
}

/// Creates the posts of all requests through one connection, committing those that
/// arrived meanwhile in one transaction (group commit). With `synchronous=FULL` every
/// commit waits for the disk; concurrent creations share that wait instead of queueing for
/// one each. Each creation is a savepoint of its own, so one failing leaves the others,
/// and nobody is answered before the commit that holds their post is on disk.
struct PostWriter {
    jobs: tokio::sync::mpsc::Sender<CreateJob>,
}

struct CreateJob {
    post: NewPostWrite,
    reply: tokio::sync::oneshot::Sender<StoreResult<i64>>,
}

/// At most this many creations share a commit, so none waits behind a very long batch.
const MAX_BATCH: usize = 64;

impl PostWriter {
    fn start(
        conn: SqliteConnection,
        wal_index: std::fs::File,
        log: std::sync::Arc<super::own_writes::PostWriteLog>,
    ) -> Self {
        let (jobs, rx) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(run_post_writer(conn, rx, wal_index, log));
        Self { jobs }
    }

    async fn create_post(&self, post: NewPostWrite) -> StoreResult<i64> {
        let gone = || StoreError::Other("the post writer has stopped".into());
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(CreateJob { post, reply })
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn run_post_writer(
    mut conn: SqliteConnection,
    mut rx: tokio::sync::mpsc::Receiver<CreateJob>,
    wal_index: std::fs::File,
    log: std::sync::Arc<super::own_writes::PostWriteLog>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        match write_batch(&mut conn, &batch, &wal_index, &log).await {
            Ok(results) => {
                for (job, result) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(result);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, posts = batch.len(), "creating posts failed");
                let message = e.to_string();
                for job in batch {
                    let _ = job.reply.send(Err(StoreError::Other(message.clone())));
                }
            }
        }
    }
}

/// One transaction for the batch; `Err` when the transaction itself failed (nothing kept).
async fn write_batch(
    conn: &mut SqliteConnection,
    batch: &[CreateJob],
    wal_index: &std::fs::File,
    log: &super::own_writes::PostWriteLog,
) -> Result<Vec<StoreResult<i64>>, sqlx::Error> {
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    // The write lock is held from here to COMMIT: no other commit, by any process, can
    // come in between, so if the commit counter has moved by exactly one after COMMIT,
    // the version before and after bracket this batch alone.
    let before = read_data_version(wal_index);
    let mut results = Vec::with_capacity(batch.len());
    // A savepoint per post costs two round trips each, and posts rarely fail: the batch is
    // written whole first, and only if a post fails is it undone and written again post by
    // post, each in a savepoint of its own, so the others still go in.
    let mut outcome = sqlx::query("SAVEPOINT batch")
        .execute(&mut *conn)
        .await
        .map(|_| ());
    if outcome.is_ok() {
        for job in batch {
            match queries::create_post_on(conn, &job.post).await {
                Ok(id) => results.push(Ok(id)),
                Err(_) => break,
            }
        }
        if results.len() < batch.len() {
            results.clear();
            outcome = sqlx::query("ROLLBACK TO batch")
                .execute(&mut *conn)
                .await
                .map(|_| ());
            if outcome.is_ok() {
                outcome = write_each(conn, batch, &mut results).await;
            }
        }
    }
    if outcome.is_ok() {
        outcome = sqlx::query("COMMIT").execute(&mut *conn).await.map(|_| ());
    }
    match outcome {
        Ok(()) => {
            if let (Some(before), Some(after)) = (before, read_data_version(wal_index))
                && commit_count(&after) == commit_count(&before).wrapping_add(1)
            {
                log.record(before, after);
            }
            Ok(results)
        }
        Err(e) => {
            // Leave the connection usable for the next batch.
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            Err(e)
        }
    }
}

/// The posts of a batch one by one, each in a savepoint: a failing one leaves the others.
async fn write_each(
    conn: &mut SqliteConnection,
    batch: &[CreateJob],
    results: &mut Vec<StoreResult<i64>>,
) -> Result<(), sqlx::Error> {
    for job in batch {
        sqlx::query("SAVEPOINT create_post")
            .execute(&mut *conn)
            .await?;
        let result = queries::create_post_on(conn, &job.post).await;
        let end = if result.is_ok() {
            "RELEASE create_post"
        } else {
            "ROLLBACK TO create_post; RELEASE create_post"
        };
        sqlx::raw_sql(end).execute(&mut *conn).await?;
        results.push(result);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_post(id: i64, title: &str) -> NewPostWrite {
        NewPostWrite {
            post: Post {
                id,
                post_type: "post".into(),
                status: "draft".into(),
                author: 0,
                title: title.into(),
                content: String::new(),
                excerpt: String::new(),
                slug: String::new(),
                password: String::new(),
                parent: 0,
                menu_order: 0,
                comment_status: "open".into(),
                ping_status: "open".into(),
                date: 0,
                date_floating: true,
                modified: 0,
                pre_trash_status: None,
                mime_type: String::new(),
                featured_media: 0,
                format: String::new(),
                guid: String::new(),
            },
            meta: vec![("k".into(), vec!["v".into()])],
            terms: vec![],
            guid_id_prefix: Some("http://x/?p=".into()),
            import: None,
            comments: vec![],
        }
    }

    /// A post that fails in a batch (an id already taken) fails alone: the batch is written
    /// again post by post and the others are created, with their meta and guid.
    #[tokio::test]
    async fn a_failing_post_leaves_the_rest_of_its_batch() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = std::sync::Arc::new(SqliteStore::open(dir.path()).await.expect("open"));
        let taken = store
            .create_post(&new_post(0, "first"))
            .await
            .expect("first");
        // Queued before the writer runs again, so it commits them as one batch.
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let store = store.clone();
                let id = if i == 5 { taken } else { 0 };
                tokio::spawn(
                    async move { store.create_post(&new_post(id, &format!("p{i}"))).await },
                )
            })
            .collect();
        let mut results = vec![];
        for t in tasks {
            results.push(t.await.expect("task"));
        }
        for (i, r) in results.iter().enumerate() {
            if i == 5 {
                assert!(r.is_err(), "the taken id fails");
                continue;
            }
            let id = *r.as_ref().expect("created");
            let post = store.post_by_id(id).await.expect("read").expect("exists");
            assert_eq!(post.title, format!("p{i}"));
            assert_eq!(post.guid, format!("http://x/?p={id}"));
            let meta = store.post_meta(&[id]).await.expect("meta");
            assert_eq!(meta, vec![(id, "k".to_owned(), "v".to_owned())]);
        }
    }
}
