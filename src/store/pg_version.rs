//! The PostgreSQL store's data version, for the read caches (`crate::cache`), exact across
//! the instances sharing the database.
//!
//! Every table has a statement trigger (`ferropress_data_changed`, installed at start-up for
//! every table of the schema, so tables of later migrations too) that, in the writing
//! transaction, takes a shared transaction-level advisory lock and bumps the sequence
//! `ferropress_data_version`, whoever writes (an instance, the CLI, `migrate-store`, psql).
//! Writers never wait for each other there: the lock is shared and a sequence is not
//! transactional.
//!
//! Each request then asks, in one round trip on a connection kept for this, for the
//! sequence's value and whether that lock is free (a non-blocking exclusive try). Free means
//! no writing transaction is under way, so every bump the value counts belongs to a write
//! that is over, and the value is a version: the data read afterwards is at least that
//! recent, and any later commit moves the value. Taken means a write is under way: that
//! request does without the cache. Requests arriving together share one round trip (a
//! "fence" begun after each of them arrived), so under load this costs a fraction of a
//! round trip each; a revocation acknowledged by one instance is seen by every other on its
//! next request.
//!
//! LISTEN/NOTIFY was the first design (tried, measured): a `pg_notify` in every writing
//! transaction serializes the commits of the whole database (PostgreSQL holds a
//! database-wide lock from queuing the notification until the commit is flushed), which cut
//! drafts created per second on PostgreSQL from 1,917 to 660 in the same run, and the
//! fence was needed anyway because a notification is delivered after the commit is
//! acknowledged.
//!
//! While the connection is down nothing is cached (`current` is `None`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use tokio::sync::{Notify, watch};

use super::DataVersion;

/// The `application_name` of the fence connection (seen in `pg_stat_activity`).
pub const FENCE_APPLICATION_NAME: &str = "ferropress-version";
/// A request waits this long at most for its fence, then goes without the cache.
const FENCE_TIMEOUT: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// High half of the advisory lock key ("fprv"); the low half is the sequence's oid, so each
/// schema has its own key. `INSTALL_TRIGGERS` computes the same.
const LOCK_KEY_TAG: i64 = 0x6670_7276 << 32;

/// The sequence, the trigger function and one trigger per table of the current schema
/// lacking it. The audit log, the webhook outbox, the seen-networks list and the import map
/// never change a cached answer (posts and credentials): their frequent writes (a flush every
/// few seconds, delivery retries) must not empty every instance's cache. Runs after the migrations, under their advisory lock. The function names the
/// sequence and the lock by oid, so it works whatever the writer's `search_path`.
pub const INSTALL_TRIGGERS: &str = r#"
CREATE SEQUENCE IF NOT EXISTS ferropress_data_version;
DO $d$
DECLARE
    seq oid := 'ferropress_data_version'::regclass::oid;
    t regclass;
BEGIN
    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION ferropress_data_changed() RETURNS trigger
        LANGUAGE plpgsql AS $b$
        BEGIN
            PERFORM pg_advisory_xact_lock_shared(%s);
            PERFORM nextval(%s::oid::regclass);
            RETURN NULL;
        END
        $b$$f$, (x'6670727600000000'::bigint + seq::bigint), seq::bigint);
    FOR t IN
        SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
          AND c.relname NOT IN ('_sqlx_migrations', 'audit_log', 'audit_anchor',
                                'webhook_outbox', 'application_password_seen', 'import_map')
          AND NOT EXISTS (SELECT 1 FROM pg_trigger g
                          WHERE g.tgrelid = c.oid AND g.tgname = 'ferropress_data_changed')
    LOOP
        EXECUTE format('CREATE TRIGGER ferropress_data_changed AFTER INSERT OR UPDATE OR DELETE '
                       'OR TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION '
                       'ferropress_data_changed()', t);
    END LOOP;
END
$d$;
"#;

/// Read first (the scan), then the try: a bump counted in `last_value` whose transaction is
/// still open holds the shared lock, and the try fails. The lock, if taken, goes with the
/// statement's own transaction.
const FENCE: &str = "SELECT last_value, pg_try_advisory_xact_lock($1) FROM ferropress_data_version";

/// `version` when the last fence found a write under way (or none was made).
const UNSTABLE: u64 = u64::MAX;

pub struct Versions {
    /// Whether the fence connection is up.
    live: AtomicBool,
    /// What the last fence found: the sequence's value, or `UNSTABLE`.
    version: AtomicU64,
    /// The number of the last fence begun.
    started: AtomicU64,
    /// A request wants a fence.
    wanted: Notify,
    /// The number of the last fence ended (or given up on: then `live` is false).
    done: watch::Sender<u64>,
}

impl Versions {
    /// Starts the fence task; it ends when the returned handle is aborted.
    pub fn start(opts: &PgConnectOptions) -> (Arc<Self>, tokio::task::JoinHandle<()>) {
        let this = Arc::new(Self {
            live: AtomicBool::new(false),
            version: AtomicU64::new(UNSTABLE),
            started: AtomicU64::new(0),
            wanted: Notify::new(),
            done: watch::Sender::new(0),
        });
        // Named so that it can be told apart in `pg_stat_activity` (an application name
        // given in the URL is kept, as a prefix).
        let name = match opts.get_application_name() {
            Some(own) => format!("{own} {FENCE_APPLICATION_NAME}"),
            None => FENCE_APPLICATION_NAME.to_owned(),
        };
        let opts = opts.clone().application_name(&name);
        let task = tokio::spawn(fences(this.clone(), opts));
        (this, task)
    }

    /// The version of everything committed before this call, or `None` when it cannot be
    /// told (a write is under way, the connection is down, or the fence took too long).
    pub async fn current(&self) -> Option<DataVersion> {
        if !self.live.load(SeqCst) {
            return None;
        }
        // A fence numbered above the last one begun begins after this point.
        let ticket = self.started.load(SeqCst) + 1;
        let mut done = self.done.subscribe();
        self.wanted.notify_one();
        match tokio::time::timeout(FENCE_TIMEOUT, done.wait_for(|d| *d >= ticket)).await {
            Ok(Ok(_)) => {}
            _ => return None,
        }
        let v = self.version.load(SeqCst);
        if v == UNSTABLE || !self.live.load(SeqCst) {
            return None;
        }
        let mut bytes = [0u8; 48];
        bytes[..8].copy_from_slice(&v.to_le_bytes());
        Some(DataVersion(bytes))
    }

    /// The connection is gone: no caching; waiting requests go on without the cache.
    fn lost(&self) {
        self.live.store(false, SeqCst);
        self.version.store(UNSTABLE, SeqCst);
        self.done.send_replace(self.started.load(SeqCst));
    }
}

async fn fences(v: Arc<Versions>, opts: PgConnectOptions) {
    let mut backoff = Duration::from_millis(50);
    loop {
        let err = session(&v, &opts, &mut backoff).await;
        v.lost();
        tracing::warn!(error = ?err.err(), retry_in = ?backoff,
            "PostgreSQL data version connection lost: read caches off until it is back");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection, serving fences until it fails.
async fn session(
    v: &Versions,
    opts: &PgConnectOptions,
    backoff: &mut Duration,
) -> Result<(), sqlx::Error> {
    let mut conn = PgConnection::connect_with(opts).await?;
    let oid: i64 = sqlx::query_scalar("SELECT 'ferropress_data_version'::regclass::oid::bigint")
        .fetch_one(&mut conn)
        .await?;
    let key = LOCK_KEY_TAG + oid;
    v.live.store(true, SeqCst);
    *backoff = Duration::from_millis(50);
    tracing::info!("PostgreSQL data version connection up: read caches on");
    loop {
        v.wanted.notified().await;
        let id = v.started.fetch_add(1, SeqCst) + 1;
        let (value, free): (i64, bool) =
            sqlx::query_as(FENCE).bind(key).fetch_one(&mut conn).await?;
        let found = match u64::try_from(value) {
            Ok(n) if free && n != UNSTABLE => n,
            _ => UNSTABLE,
        };
        v.version.store(found, SeqCst);
        v.done.send_replace(id);
    }
}
