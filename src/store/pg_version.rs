//! The PostgreSQL store's data version, for the read caches (`crate::cache`), exact across
//! the instances sharing the database.
//!
//! Every table has a statement trigger (`ferropress_data_changed`, installed at start-up for
//! every table of the schema) that calls `pg_notify` in the writing transaction, so the
//! notification is sent when, and only when, the write commits, whoever made it (an
//! instance, the CLI, `migrate-store`, psql). Each instance keeps one connection LISTENing,
//! and counts what arrives: that count is its data version.
//!
//! A notification travels on its own, so an instance could answer a request before it has
//! read a notification for a commit acknowledged before the request arrived. Each request
//! therefore waits for a round trip on the listening connection that began after the
//! request did (a "fence"): PostgreSQL sends a listener every notification committed before
//! one of its queries ends before that query's answer, so after the fence the count covers
//! every commit acknowledged before the request. Requests arriving together share one
//! fence, so under load this costs a fraction of a round trip each (against the several
//! reads a request makes without the cache).
//!
//! While the listening connection is down nothing is cached (`current` is `None`); when it
//! is back, the version moves, so nothing read before is served again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio::sync::{Notify, watch};

use super::DataVersion;

/// The channel the trigger notifies on (one per database; schemas sharing a database only
/// invalidate each other's caches more often).
pub const CHANNEL: &str = "ferropress_data_changed";
/// The `application_name` of the listening connection (seen in `pg_stat_activity`).
pub const LISTENER_APPLICATION_NAME: &str = "ferropress-listener";
/// A request waits this long at most for its fence, then goes without the cache.
const FENCE_TIMEOUT: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The trigger function and one trigger per table of the current schema lacking it (tables
/// added by later migrations get theirs at the next start). Runs after the migrations,
/// under their advisory lock.
pub const INSTALL_TRIGGERS: &str = r#"
CREATE OR REPLACE FUNCTION ferropress_data_changed() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    PERFORM pg_notify('ferropress_data_changed', '');
    RETURN NULL;
END
$f$;
DO $d$
DECLARE t regclass;
BEGIN
    FOR t IN
        SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
          AND c.relname <> '_sqlx_migrations'
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

pub struct Versions {
    /// Whether the listening connection is up (and LISTENing).
    live: AtomicBool,
    /// Notifications read, plus one per (re)connection.
    version: AtomicU64,
    /// The number of the last fence begun.
    started: AtomicU64,
    /// A request wants a fence.
    wanted: Notify,
    /// The number of the last fence ended (or given up on: then `live` is false).
    done: watch::Sender<u64>,
}

impl Versions {
    /// Starts the listener task; it ends when the returned handle is aborted.
    pub fn start(opts: &PgConnectOptions) -> (Arc<Self>, tokio::task::JoinHandle<()>) {
        let this = Arc::new(Self {
            live: AtomicBool::new(false),
            version: AtomicU64::new(0),
            started: AtomicU64::new(0),
            wanted: Notify::new(),
            done: watch::Sender::new(0),
        });
        // Named so that it can be told apart in `pg_stat_activity` (an application name
        // given in the URL is kept, as a prefix).
        let name = match opts.get_application_name() {
            Some(own) => format!("{own} {LISTENER_APPLICATION_NAME}"),
            None => LISTENER_APPLICATION_NAME.to_owned(),
        };
        let opts = opts.clone().application_name(&name);
        let task = tokio::spawn(listen(this.clone(), opts));
        (this, task)
    }

    /// The version of everything committed before this call, or `None` when it cannot be
    /// told (the listening connection is down, or the fence took too long).
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
        if !self.live.load(SeqCst) {
            return None;
        }
        let mut v = [0u8; 48];
        v[..8].copy_from_slice(&self.version.load(SeqCst).to_le_bytes());
        Some(DataVersion(v))
    }

    /// The connection is gone: no caching, the version moves, waiting requests go on
    /// without the cache.
    fn lost(&self) {
        self.live.store(false, SeqCst);
        self.version.fetch_add(1, SeqCst);
        self.done.send_replace(self.started.load(SeqCst));
    }
}

async fn listen(v: Arc<Versions>, opts: PgConnectOptions) {
    let mut backoff = Duration::from_millis(50);
    loop {
        let err = session(&v, &opts, &mut backoff).await;
        v.lost();
        tracing::warn!(error = ?err.err(), retry_in = ?backoff,
            "PostgreSQL notification connection lost: read caches off until it is back");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One listening connection, until it fails.
async fn session(
    v: &Versions,
    opts: &PgConnectOptions,
    backoff: &mut Duration,
) -> Result<(), sqlx::Error> {
    // A pool of one, as PgListener wants; reconnection is done here (a new session), so the
    // version moves on every reconnection.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_with(opts.clone())
        .await?;
    let mut l = PgListener::connect_with(&pool).await?;
    l.ignore_pool_close_event(true);
    l.eager_reconnect(false);
    l.listen(CHANNEL).await?;
    // Anything may have been committed while nobody listened.
    v.version.fetch_add(1, SeqCst);
    v.live.store(true, SeqCst);
    *backoff = Duration::from_millis(50);
    tracing::info!("PostgreSQL notification connection up: read caches on");
    loop {
        tokio::select! {
            biased;
            () = v.wanted.notified() => {
                let id = v.started.fetch_add(1, SeqCst) + 1;
                sqlx::raw_sql("SELECT 1").execute(&mut l).await?;
                // Notifications that came in with the fence's answer were buffered.
                if l.next_buffered().is_some() {
                    while l.next_buffered().is_some() {}
                    v.version.fetch_add(1, SeqCst);
                }
                v.done.send_replace(id);
            }
            // Cancel-safe: sqlx consumes a message from its buffer only once it is whole.
            n = l.try_recv() => {
                if n?.is_none() {
                    return Ok(());
                }
                while l.next_buffered().is_some() {}
                v.version.fetch_add(1, SeqCst);
            }
        }
    }
}
