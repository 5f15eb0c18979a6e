//! The PostgreSQL store: several ferropress instances behind a load balancer share one
//! database. Same tables, constraints, queries (`queries.rs`) and behaviour as the SQLite
//! store (`sqlite.rs`).
//!
//! Reads are cached per instance only as long as the data version says nothing changed
//! (`pg_version.rs`: a version sequence bumped by triggers, read by a fence per request), so
//! a revocation or a role change made through one instance holds on every other instance
//! from the next request on.
//! Writes are acknowledged after PostgreSQL commits them (`synchronous_commit` as the server
//! is configured, `on` by default).

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, Postgres};
use sqlx::{Connection, Transaction};

use super::queries::{self, Engine};
use super::sql::{Conn, Dialect, stmt};
use super::*;

/// Connections per instance. Several instances share the server's `max_connections`
/// (100 by default), so this stays modest.
const MAX_CONNECTIONS: u32 = 16;

/// The migrations this build applies.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

pub struct PostgresStore {
    pool: PgPool,
    /// The data version (`pg_version.rs`), and the task serving its fences.
    versions: std::sync::Arc<super::pg_version::Versions>,
    fences: tokio::task::JoinHandle<()>,
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.fences.abort();
    }
}

/// Whether a `--database-url` names PostgreSQL.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl PostgresStore {
    /// Connects to `url` and applies the migrations, one instance at a time.
    pub async fn open(url: &SecretString) -> StoreResult<Self> {
        let opts = PgConnectOptions::from_str(url.expose_secret())?;
        migrate(&opts).await?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts.clone())
            .await?;
        queries::backfill_folds(&pool).await?;
        let (versions, fences) = super::pg_version::Versions::start(&opts);
        Ok(Self {
            pool,
            versions,
            fences,
        })
    }

    /// The pool, for `migrate-store`, which writes every table in one transaction.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Applies the embedded migrations under a session-level advisory lock, so that instances
/// starting at the same moment apply them one after the other and the later ones find them
/// done.
///
/// sqlx's migrator locks too, but on a key derived from the database name alone (instances
/// using different schemas of one database would wait for each other), and it returns
/// without unlocking when a migration fails, which would leave a pooled connection holding
/// the lock. Here the lock is keyed on database and schema and taken on a connection of its
/// own that is closed afterwards, which releases the lock whatever happened.
async fn migrate(opts: &PgConnectOptions) -> StoreResult<()> {
    let mut conn = PgConnection::connect_with(opts).await?;
    let result = migrate_locked(&mut conn).await;
    // Closing ends the session, and with it the advisory lock (also after an error).
    let closed = conn.close().await;
    result?;
    Ok(closed?)
}

async fn migrate_locked(conn: &mut PgConnection) -> StoreResult<()> {
    let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(&mut *conn)
        .await?;
    let Some(schema) = schema else {
        return Err(StoreError::Other(
            "PostgreSQL: no schema of the search_path exists to create the tables in".into(),
        ));
    };
    sqlx::query(
        "SELECT pg_advisory_lock(hashtextextended('ferropress migrations ' || current_database() || '.' || $1, 0))",
    )
    .bind(&schema)
    .execute(&mut *conn)
    .await?;
    let mut migrator = sqlx::migrate!("migrations/postgres");
    migrator.set_locking(false);
    migrator.run(&mut *conn).await?;
    // The data version's triggers, on every table including those of later migrations.
    sqlx::raw_sql(super::pg_version::INSTALL_TRIGGERS)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Maps a unique violation to the collision it means, by constraint name (see the
/// migration); unnamed cases fall back as in the SQLite store.
fn conflict_of(err: &sqlx::Error) -> Option<Conflict> {
    let db = err.as_database_error()?;
    if !db.is_unique_violation() {
        return None;
    }
    Some(match db.constraint() {
        Some("user_login_key") => Conflict::UserLogin,
        Some("user_email_key") => Conflict::UserEmail,
        Some("user_nicename_key") => Conflict::UserNicename,
        Some("application_password_user_id_name_key") => Conflict::AppPasswordName,
        Some("term_taxonomy_slug") => Conflict::TermSlug,
        _ => Conflict::AppPasswordHash,
    })
}

/// `pg_advisory_xact_lock` key of the idle-token sweep (`--revoke-unused-after`).
pub const IDLE_SWEEP_LOCK: i64 = 0x6665_7272_6f18_0001;

// Lists as arrays.
sql::impl_conn!(
    PgConnection,
    sqlx::postgres::PgArguments,
    Dialect::Postgres,
    std::convert::identity,
    conflict_of
);

#[async_trait]
impl Engine for PostgresStore {
    type Db = Postgres;

    fn db_pool(&self) -> &PgPool {
        &self.pool
    }

    async fn engine_current_data_version(&self) -> Option<DataVersion> {
        self.versions.current().await
    }

    /// Several instances flush at the same time. Each row update waits for a concurrent one
    /// to commit and then re-checks `last_used <= new` on the committed row (READ COMMITTED),
    /// so the newest use wins whatever the order. The rows are locked in uuid order first, so
    /// two flushes touching the same tokens cannot deadlock.
    async fn write_usage(&self, usage: &[AppPasswordUsage]) -> StoreResult<()> {
        let mut sorted: Vec<&AppPasswordUsage> = usage.iter().collect();
        sorted.sort_by_key(|u| u.uuid);
        let uuids: Vec<String> = sorted.iter().map(|u| u.uuid.to_string()).collect();
        let used: Vec<i64> = sorted.iter().map(|u| u.last_used).collect();
        let ips: Vec<&str> = sorted.iter().map(|u| u.last_ip.as_str()).collect();
        let agents: Vec<&str> = sorted.iter().map(|u| u.last_user_agent.as_str()).collect();

        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "SELECT 1 FROM application_password WHERE uuid = ANY($1) ORDER BY uuid FOR UPDATE",
        )
        .bind(&uuids)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE application_password AS a \
             SET last_used = u.last_used, last_ip = u.last_ip, last_user_agent = u.last_user_agent \
             FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[]) \
                  AS u(uuid, last_used, last_ip, last_user_agent) \
             WHERE a.uuid = u.uuid AND (a.last_used IS NULL OR a.last_used <= u.last_used)",
        )
        .bind(&uuids)
        .bind(&used)
        .bind(&ips)
        .bind(&agents)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One chain writer at a time across every instance sharing the database: the lock is
    /// held until commit, so the last hash read is still the last when the rows go in.
    async fn begin_audit_chain(&self) -> StoreResult<Transaction<'static, Postgres>> {
        let mut tx = self.pool.begin().await?;
        tx.run(stmt(
            "SELECT pg_advisory_xact_lock(hashtextextended('ferropress audit chain', 0))",
        ))
        .await?;
        Ok(tx)
    }

    /// Instances sharing the database sweep one at a time: whoever does not get the lock
    /// leaves this round to the one that did.
    async fn lock_idle_sweep(&self, tx: &mut Transaction<'static, Postgres>) -> StoreResult<bool> {
        tx.val(stmt("SELECT pg_try_advisory_xact_lock($1)").bind(IDLE_SWEEP_LOCK))
            .await
    }

    async fn sync_ids(&self) -> StoreResult<()> {
        for table in ["\"user\"", "post", "comment", "term"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), 1))"
            )))
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    async fn shut_down(&self) {
        self.fences.abort();
        self.pool.close().await;
    }

    async fn check_ready(&self) -> Result<(), String> {
        queries::migrations_ready(&self.pool, &MIGRATOR).await
    }
}
