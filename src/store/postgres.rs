//! The PostgreSQL store: several ferropress instances behind a load balancer share one
//! database. Same tables, constraints and behaviour as the SQLite store (`sqlite.rs`).
//!
//! Reads are cached per instance only as long as the data version says nothing changed
//! (`pg_version.rs`: a version sequence bumped by triggers, read by a fence per request), so a revocation or a role
//! change made through one instance holds on every other instance from the next request on.
//! Writes are acknowledged after PostgreSQL commits them (`synchronous_commit` as the server
//! is configured, `on` by default).

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Row};
use uuid::Uuid;

use super::*;
use crate::search::{
    FOLD_VERSION, FOLD_VERSION_OPTION, contains_pattern, fold, plain_contains_pattern,
};
use crate::store::comment::{COMMENT_COLUMNS, CommentSql, Dialect, SqlBind};

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
        backfill_folds(&pool).await?;
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

/// Fills the `*_fold` columns of rows written before migration 0010, a bounded batch at a
/// time (the folding is Rust code, `crate::search::fold`, the same as the SQLite store's).
/// Instances starting together may fill the same rows: they write the same values.
async fn backfill_folds(pool: &PgPool) -> StoreResult<()> {
    const BATCH: i64 = 256;
    let version: Option<String> = sqlx::query_scalar("SELECT value FROM option WHERE name = $1")
        .bind(FOLD_VERSION_OPTION)
        .fetch_optional(pool)
        .await?;
    let current = version.as_deref() == Some(FOLD_VERSION);
    if !current {
        // First start after migration 0010, or `fold` changed since: fold every row again.
        sqlx::raw_sql(
            r#"UPDATE post SET title_fold = NULL, excerpt_fold = NULL, content_fold = NULL;
               UPDATE term SET name_fold = NULL;
               UPDATE "user" SET display_name_fold = NULL;"#,
        )
        .execute(pool)
        .await?;
    }
    loop {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT id, title, excerpt, content FROM post WHERE title_fold IS NULL \
             OR excerpt_fold IS NULL OR content_fold IS NULL LIMIT $1",
        )
        .bind(BATCH)
        .fetch_all(pool)
        .await?;
        if rows.is_empty() {
            break;
        }
        let mut tx = pool.begin().await?;
        for (id, title, excerpt, content) in rows {
            sqlx::query(
                "UPDATE post SET title_fold = $1, excerpt_fold = $2, content_fold = $3 WHERE id = $4",
            )
            .bind(fold(&title))
            .bind(fold(&excerpt))
            .bind(fold(&content))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    }
    for (select, update) in [
        (
            "SELECT id, name FROM term WHERE name_fold IS NULL LIMIT $1",
            "UPDATE term SET name_fold = $1 WHERE id = $2",
        ),
        (
            r#"SELECT id, display_name FROM "user" WHERE display_name_fold IS NULL LIMIT $1"#,
            r#"UPDATE "user" SET display_name_fold = $1 WHERE id = $2"#,
        ),
    ] {
        loop {
            let rows: Vec<(i64, String)> =
                sqlx::query_as(select).bind(BATCH).fetch_all(pool).await?;
            if rows.is_empty() {
                break;
            }
            let mut tx = pool.begin().await?;
            for (id, text) in rows {
                sqlx::query(update)
                    .bind(fold(&text))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
    }
    if !current {
        sqlx::query(
            "INSERT INTO option (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(FOLD_VERSION_OPTION)
        .bind(FOLD_VERSION)
        .execute(pool)
        .await?;
    }
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

fn map_write_err(err: sqlx::Error) -> StoreError {
    match conflict_of(&err) {
        Some(c) => StoreError::Conflict(c),
        None => StoreError::Db(err),
    }
}

fn parse_roles(s: &str) -> Vec<Role> {
    s.split_whitespace()
        .filter_map(|r| Role::from_str(r).ok())
        .collect()
}

fn roles_to_string(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn user_from_row(row: &PgRow) -> Result<User, sqlx::Error> {
    let roles: String = row.try_get("roles")?;
    Ok(User {
        id: row.try_get("id")?,
        login: row.try_get("login")?,
        email: row.try_get("email")?,
        nicename: row.try_get("nicename")?,
        display_name: row.try_get("display_name")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        nickname: row.try_get("nickname")?,
        description: row.try_get("description")?,
        url: row.try_get("url")?,
        locale: row.try_get("locale")?,
        roles: parse_roles(&roles),
        pass_hash: row.try_get("pass_hash")?,
        registered: row.try_get("registered")?,
    })
}

fn app_password_from_row(row: &PgRow) -> Result<AppPassword, sqlx::Error> {
    let uuid: String = row.try_get("uuid")?;
    Ok(AppPassword {
        uuid: Uuid::parse_str(&uuid).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        user_id: row.try_get("user_id")?,
        app_id: row.try_get("app_id")?,
        name: row.try_get("name")?,
        created: row.try_get("created")?,
        last_used: row.try_get("last_used")?,
        last_ip: row.try_get("last_ip")?,
        last_user_agent: row.try_get("last_user_agent")?,
        expires: row.try_get("expires")?,
        scopes: row.try_get("scopes")?,
        prev_valid_until: row.try_get("prev_valid_until")?,
    })
}

fn comment_from_row(row: &PgRow) -> Result<Comment, sqlx::Error> {
    Ok(Comment {
        id: row.try_get("id")?,
        post_id: row.try_get("post_id")?,
        author_name: row.try_get("author_name")?,
        author_email: row.try_get("author_email")?,
        author_url: row.try_get("author_url")?,
        author_ip: row.try_get("author_ip")?,
        date: row.try_get("date")?,
        content: row.try_get("content")?,
        approved: row.try_get("approved")?,
        agent: row.try_get("agent")?,
        comment_type: row.try_get("comment_type")?,
        parent: row.try_get("parent")?,
        user_id: row.try_get("user_id")?,
        pre_trash_status: row.try_get("pre_trash_status")?,
        pre_post_trash_status: row.try_get("pre_post_trash_status")?,
    })
}

fn post_from_row(row: &PgRow) -> Result<Post, sqlx::Error> {
    Ok(Post {
        id: row.try_get("id")?,
        post_type: row.try_get("post_type")?,
        status: row.try_get("status")?,
        author: row.try_get("author")?,
        title: row.try_get("title")?,
        content: row.try_get("content")?,
        excerpt: row.try_get("excerpt")?,
        slug: row.try_get("slug")?,
        password: row.try_get("password")?,
        parent: row.try_get("parent")?,
        menu_order: row.try_get("menu_order")?,
        comment_status: row.try_get("comment_status")?,
        ping_status: row.try_get("ping_status")?,
        date: row.try_get("date")?,
        date_floating: row.try_get("date_floating")?,
        modified: row.try_get("modified")?,
        pre_trash_status: row.try_get("pre_trash_status")?,
        mime_type: row.try_get("mime_type")?,
        featured_media: row.try_get("featured_media")?,
        format: row.try_get("post_format")?,
        guid: row.try_get("guid")?,
    })
}

const USER_COLUMNS: &str = "id, login, email, nicename, display_name, first_name, last_name, nickname, \
     description, url, locale, roles, pass_hash, registered";
/// `pg_advisory_xact_lock` key of the idle-token sweep (`--revoke-unused-after`).
pub const IDLE_SWEEP_LOCK: i64 = 0x6665_7272_6f18_0001;
const APP_PASSWORD_COLUMNS: &str = "uuid, user_id, app_id, name, created, last_used, last_ip, last_user_agent, expires, scopes, prev_valid_until";
/// Published posts having the term (`_update_post_term_count`), computed per row.
const TERM_COUNT: &str = "(SELECT COUNT(*) FROM term_relationship r JOIN post p ON p.id = r.post_id \
     WHERE r.term_id = term.id AND p.status = 'publish')";
const TERM_COLUMNS: &str = "id, taxonomy, name, slug, description, parent, \
     (SELECT COUNT(*) FROM term_relationship r JOIN post p ON p.id = r.post_id \
     WHERE r.term_id = term.id AND p.status = 'publish') AS count";

fn term_from_row(row: &PgRow) -> Result<Term, sqlx::Error> {
    Ok(Term {
        id: row.try_get("id")?,
        taxonomy: row.try_get("taxonomy")?,
        name: row.try_get("name")?,
        slug: row.try_get("slug")?,
        description: row.try_get("description")?,
        parent: row.try_get("parent")?,
        count: row.try_get("count")?,
    })
}

const POST_COLUMNS: &str = "id, post_type, status, author, title, content, excerpt, slug, password, \
     parent, menu_order, comment_status, ping_status, date, date_floating, modified, pre_trash_status, \
     mime_type, featured_media, post_format, guid";

#[async_trait]
impl Store for PostgresStore {
    async fn count_users(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(r#"SELECT COUNT(*) FROM "user""#)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn create_user(&self, u: NewUser) -> StoreResult<User> {
        let id: i64 = sqlx::query_scalar(
            r#"INSERT INTO "user" (login, email, nicename, display_name, first_name, last_name, nickname,
             description, url, locale, roles, pass_hash, registered, display_name_fold, id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, COALESCE(NULLIF($15, 0), nextval(pg_get_serial_sequence('"user"', 'id')))) RETURNING id"#,
        )
        .bind(&u.login)
        .bind(&u.email)
        .bind(&u.nicename)
        .bind(&u.display_name)
        .bind(&u.first_name)
        .bind(&u.last_name)
        .bind(&u.nickname)
        .bind(&u.description)
        .bind(&u.url)
        .bind(&u.locale)
        .bind(roles_to_string(&u.roles))
        .bind(&u.pass_hash)
        .bind(u.registered)
        .bind(fold(&u.display_name))
        .bind(u.id)
        .fetch_one(&self.pool)
        .await
        .map_err(map_write_err)?;
        self.user_by_id(id)
            .await?
            .ok_or_else(|| StoreError::Other("user vanished after insert".into()))
    }

    async fn user_by_id(&self, id: i64) -> StoreResult<Option<User>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            r#"SELECT {USER_COLUMNS} FROM "user" WHERE id = $1"#
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn user_by_login(&self, login: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            r#"SELECT {USER_COLUMNS} FROM "user" WHERE lower(login COLLATE "C") = lower($1::text COLLATE "C")"#
        )))
        .bind(login)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            r#"SELECT {USER_COLUMNS} FROM "user" WHERE lower(email COLLATE "C") = lower($1::text COLLATE "C")"#
        )))
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn nicename_exists(&self, nicename: &str) -> StoreResult<bool> {
        Ok(
            sqlx::query_scalar(r#"SELECT EXISTS (SELECT 1 FROM "user" WHERE nicename = $1)"#)
                .bind(nicename)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            r#"SELECT {USER_COLUMNS} FROM "user" ORDER BY id"#
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(user_from_row).collect::<Result<_, _>>()?)
    }

    async fn query_users(&self, q: &UserQuery) -> StoreResult<(Vec<User>, i64)> {
        // Built from fixed fragments and numbered placeholders only; every value is bound.
        let mut sql = QuerySql::default();
        let filter = sql.user_filter(q);
        let count_sql = format!(r#"SELECT COUNT(*) FROM "user" WHERE {filter}"#);
        let count_binds = sql.binds.len();
        let order = sql.user_order(q);
        let limit = sql.push(Bind::Int(q.limit));
        let offset = sql.push(Bind::Int(q.offset));
        let page_sql = format!(
            r#"SELECT {USER_COLUMNS} FROM "user" WHERE {filter} ORDER BY {order} LIMIT {limit} OFFSET {offset}"#
        );
        let total = sql
            .bind_scalar(
                sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql)),
                count_binds,
            )
            .fetch_one(&self.pool)
            .await?;
        let rows = sql
            .bind_all(sqlx::query(sqlx::AssertSqlSafe(page_sql)))
            .fetch_all(&self.pool)
            .await?;
        let users = rows.iter().map(user_from_row).collect::<Result<_, _>>()?;
        Ok((users, total))
    }

    async fn update_user(&self, u: &User) -> StoreResult<bool> {
        let done = sqlx::query(
            r#"UPDATE "user" SET login = $1, email = $2, nicename = $3, display_name = $4,
             first_name = $5, last_name = $6, nickname = $7, description = $8, url = $9,
             locale = $10, roles = $11, pass_hash = $12, display_name_fold = $14 WHERE id = $13"#,
        )
        .bind(&u.login)
        .bind(&u.email)
        .bind(&u.nicename)
        .bind(&u.display_name)
        .bind(&u.first_name)
        .bind(&u.last_name)
        .bind(&u.nickname)
        .bind(&u.description)
        .bind(&u.url)
        .bind(&u.locale)
        .bind(roles_to_string(&u.roles))
        .bind(&u.pass_hash)
        .bind(u.id)
        .bind(fold(&u.display_name))
        .execute(&self.pool)
        .await
        .map_err(map_write_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_user(
        &self,
        id: i64,
        reassign: Option<i64>,
        delete_types: &[String],
        now: i64,
    ) -> StoreResult<Option<DeletedUser>> {
        let mut tx = self.pool.begin().await?;
        // Locks the row: a concurrent deletion of the same user waits, then finds nothing.
        let exists: Option<i64> =
            sqlx::query_scalar(r#"SELECT id FROM "user" WHERE id = $1 FOR UPDATE"#)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Ok(None);
        }
        let uuids: Vec<String> = sqlx::query_scalar(
            "DELETE FROM application_password WHERE user_id = $1 RETURNING uuid",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let mut trashed_posts = vec![];
        let mut deleted_posts = vec![];
        if let Some(to) = reassign {
            sqlx::query("UPDATE post SET author = $1 WHERE author = $2")
                .bind(to)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        } else {
            // SQLite's LIKE ignores ASCII case: so does this suffix test.
            trashed_posts = sqlx::query_scalar(
                "UPDATE post SET pre_trash_status = status, status = 'trash', modified = $1, \
                 slug = CASE WHEN lower(slug COLLATE \"C\") LIKE '%\\_\\_trashed' ESCAPE '\\' \
                             THEN slug ELSE slug || '__trashed' END \
                 WHERE author = $2 AND post_type IN ('post', 'page') AND status <> 'trash' RETURNING id",
            )
            .bind(now)
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            trashed_posts.sort_unstable();
            // `wp_trash_post()` trashes the post's comments with it.
            sqlx::query(
                "UPDATE comment SET pre_post_trash_status = approved, approved = 'post-trashed' \
                 WHERE post_id = ANY($1)",
            )
            .bind(&trashed_posts)
            .execute(&mut *tx)
            .await?;
            for post_type in delete_types {
                let doomed: Vec<(i64, i64)> = sqlx::query_as(
                    "SELECT id, parent FROM post WHERE author = $1 AND post_type = $2 ORDER BY id",
                )
                .bind(id)
                .bind(post_type)
                .fetch_all(&mut *tx)
                .await?;
                for (post_id, parent) in doomed {
                    sqlx::query("UPDATE post SET parent = $1 WHERE parent = $2")
                        .bind(parent)
                        .bind(post_id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM postmeta WHERE post_id = $1")
                        .bind(post_id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM comment WHERE post_id = $1")
                        .bind(post_id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM post WHERE id = $1")
                        .bind(post_id)
                        .execute(&mut *tx)
                        .await?;
                    deleted_posts.push(post_id);
                }
            }
        }
        sqlx::query(r#"DELETE FROM "user" WHERE id = $1"#)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let app_passwords = uuids
            .iter()
            .filter_map(|u| Uuid::parse_str(u).ok())
            .collect();
        Ok(Some(DeletedUser {
            app_passwords,
            trashed_posts,
            deleted_posts,
        }))
    }

    async fn create_app_password(&self, new: NewAppPassword) -> StoreResult<AppPassword> {
        sqlx::query(
            "INSERT INTO application_password \
             (uuid, user_id, app_id, name, password_hash, created, expires, scopes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(new.uuid.to_string())
        .bind(new.user_id)
        .bind(&new.app_id)
        .bind(&new.name)
        .bind(&new.password_hash)
        .bind(new.created)
        .bind(new.expires)
        .bind(&new.scopes)
        .execute(&self.pool)
        .await
        .map_err(map_write_err)?;
        Ok(AppPassword {
            uuid: new.uuid,
            user_id: new.user_id,
            app_id: new.app_id,
            name: new.name,
            created: new.created,
            last_used: None,
            last_ip: None,
            last_user_agent: None,
            expires: new.expires,
            scopes: new.scopes,
            prev_valid_until: None,
        })
    }

    async fn app_passwords_for_user(&self, user_id: i64) -> StoreResult<Vec<AppPassword>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {APP_PASSWORD_COLUMNS} FROM application_password WHERE user_id = $1 ORDER BY created, seq"
        )))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(app_password_from_row)
            .collect::<Result<_, _>>()?)
    }

    async fn app_password_by_hash(&self, hash: &str) -> StoreResult<Option<(AppPassword, String)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {APP_PASSWORD_COLUMNS}, password_hash, prev_password_hash FROM application_password \
             WHERE password_hash = $1 OR prev_password_hash = $1"
        )))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut item = app_password_from_row(&row)?;
        let current: String = row.try_get("password_hash")?;
        if current == hash {
            // The current secret is not limited by a rotation's grace.
            item.prev_valid_until = None;
            return Ok(Some((item, current)));
        }
        let prev: Option<String> = row.try_get("prev_password_hash")?;
        // A previous secret without a grace end is never valid.
        item.prev_valid_until = Some(item.prev_valid_until.unwrap_or(0));
        Ok(prev.map(|p| (item, p)))
    }

    async fn delete_app_password(&self, user_id: i64, uuid: Uuid) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM application_password WHERE user_id = $1 AND uuid = $2")
            .bind(user_id)
            .bind(uuid.to_string())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn rename_app_password(&self, user_id: i64, uuid: Uuid, name: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE application_password SET name = $1 WHERE user_id = $2 AND uuid = $3",
        )
        .bind(name)
        .bind(user_id)
        .bind(uuid.to_string())
        .execute(&self.pool)
        .await
        .map_err(map_write_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_all_app_passwords(&self, user_id: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM application_password WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn set_app_password_limits(
        &self,
        user_id: i64,
        uuid: Uuid,
        expires: Option<i64>,
        scopes: Option<&str>,
    ) -> StoreResult<bool> {
        // A new expiry is warned about again (`token.expiring`).
        let done = sqlx::query(
            "UPDATE application_password SET expires = $1, scopes = $2, \
             expiry_warned = CASE WHEN expires IS NOT DISTINCT FROM $1 THEN expiry_warned ELSE 0 END \
             WHERE user_id = $3 AND uuid = $4",
        )
        .bind(expires)
        .bind(scopes)
        .bind(user_id)
        .bind(uuid.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn rotate_app_password(
        &self,
        user_id: i64,
        uuid: Uuid,
        password_hash: &str,
        prev_valid_until: Option<i64>,
    ) -> StoreResult<bool> {
        // The old hash is kept only while it has a grace period.
        let done = sqlx::query(
            "UPDATE application_password SET \
             prev_password_hash = CASE WHEN $1 IS NULL THEN NULL ELSE password_hash END, \
             prev_valid_until = $2, password_hash = $3 \
             WHERE user_id = $4 AND uuid = $5",
        )
        .bind(prev_valid_until)
        .bind(prev_valid_until)
        .bind(password_hash)
        .bind(user_id)
        .bind(uuid.to_string())
        .execute(&self.pool)
        .await
        .map_err(map_write_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn claim_expiring_app_passwords(
        &self,
        after: i64,
        until: i64,
        limit: i64,
    ) -> StoreResult<Vec<AppPassword>> {
        // `expiry_warned = 0` again in the outer condition: an instance that waited for
        // another's row lock re-checks it and skips what the other claimed.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE application_password SET expiry_warned = 1 WHERE expiry_warned = 0 AND uuid IN \
             (SELECT uuid FROM application_password WHERE expires IS NOT NULL AND expiry_warned = 0 \
             AND expires > $1 AND expires <= $2 ORDER BY expires LIMIT $3) RETURNING {APP_PASSWORD_COLUMNS}",
        )))
        .bind(after)
        .bind(until)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(app_password_from_row)
            .collect::<Result<_, _>>()
            .map_err(Into::into)
    }

    async fn revoke_unused_app_passwords(
        &self,
        cutoff: i64,
        limit: i64,
    ) -> StoreResult<Vec<(i64, Uuid)>> {
        // Instances sharing the database sweep one at a time: whoever does not get the
        // lock leaves this round to the one that did.
        let mut tx = self.pool.begin().await?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(IDLE_SWEEP_LOCK)
            .fetch_one(&mut *tx)
            .await?;
        if !locked {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "DELETE FROM application_password WHERE uuid IN (SELECT uuid FROM application_password \
             WHERE coalesce(last_used, created) < $1 ORDER BY coalesce(last_used, created) LIMIT $2) \
             RETURNING user_id, uuid",
        )
        .bind(cutoff)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let uuid: String = row.try_get("uuid")?;
            let uuid = Uuid::parse_str(&uuid).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            out.push((row.try_get("user_id")?, uuid));
        }
        Ok(out)
    }

    /// Several instances flush at the same time. Each row update waits for a concurrent one
    /// to commit and then re-checks `last_used <= new` on the committed row (READ COMMITTED),
    /// so the newest use wins whatever the order. The rows are locked in uuid order first, so
    /// two flushes touching the same tokens cannot deadlock.
    async fn record_app_password_usage(&self, usage: &[AppPasswordUsage]) -> StoreResult<()> {
        if usage.is_empty() {
            return Ok(());
        }
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

    async fn insert_post(&self, p: &Post) -> StoreResult<i64> {
        insert_post_on(&mut *self.pool.acquire().await?, p).await
    }

    /// In one transaction: an interrupted import must not leave a post without its
    /// `import_map` row.
    async fn create_post(&self, post: &NewPostWrite) -> StoreResult<i64> {
        let mut tx = self.pool.begin().await?;
        let id = insert_post_on(&mut tx, &post.post).await?;
        if let Some(prefix) = &post.guid_id_prefix {
            sqlx::query("UPDATE post SET guid = $1 WHERE id = $2")
                .bind(format!("{prefix}{id}"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        for (key, values) in &post.meta {
            set_post_meta_on(&mut tx, id, key, values).await?;
        }
        for (taxonomy, ids) in &post.terms {
            set_post_terms_on(&mut tx, id, taxonomy, ids).await?;
        }
        if let Some(key) = &post.import {
            set_import_map_on(&mut tx, key, id).await?;
        }
        for (key, comment) in &post.comments {
            let mut c = comment.clone();
            c.post_id = id;
            let cid = insert_comment_on(&mut tx, &c).await?;
            set_import_map_on(&mut tx, key, cid).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    async fn set_post_guid(&self, id: i64, guid: &str) -> StoreResult<()> {
        sqlx::query("UPDATE post SET guid = $1 WHERE id = $2 AND guid = ''")
            .bind(guid)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn publish_due_posts(&self, post_type: &str, now: i64) -> StoreResult<Vec<i64>> {
        // Read first (on the index): the check runs every second and should not take the
        // write lock when nothing is due, which is nearly always.
        let due: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM post WHERE post_type = $1 AND status = 'future' AND date <= $2",
        )
        .bind(post_type)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        if due.is_empty() {
            return Ok(due);
        }
        Ok(sqlx::query_scalar(
            "UPDATE post SET status = 'publish' \
             WHERE post_type = $1 AND status = 'future' AND date <= $2 RETURNING id",
        )
        .bind(post_type)
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn post_by_id(&self, id: i64) -> StoreResult<Option<Post>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {POST_COLUMNS} FROM post WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(post_from_row).transpose()?)
    }

    async fn query_posts(&self, q: &PostQuery) -> StoreResult<(Vec<Post>, i64)> {
        // Built from fixed fragments and numbered placeholders only; every value is bound.
        let mut sql = QuerySql::default();
        let filter = sql.filter(q);
        let count_sql = format!("SELECT COUNT(*) FROM post WHERE {filter}");
        let count_binds = sql.binds.len();
        let order = sql.order(q);
        let limit = sql.push(Bind::Int(q.limit));
        let offset = sql.push(Bind::Int(q.offset));
        let page_sql = format!(
            "SELECT {POST_COLUMNS} FROM post WHERE {filter} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
        );
        let total = sql
            .bind_scalar(
                sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql)),
                count_binds,
            )
            .fetch_one(&self.pool)
            .await?;
        let rows = sql
            .bind_all(sqlx::query(sqlx::AssertSqlSafe(page_sql)))
            .fetch_all(&self.pool)
            .await?;
        let posts = rows.iter().map(post_from_row).collect::<Result<_, _>>()?;
        Ok((posts, total))
    }

    async fn update_post(&self, p: &Post) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE post SET post_type = $1, status = $2, author = $3, title = $4, content = $5, \
             excerpt = $6, slug = $7, password = $8, parent = $9, menu_order = $10, \
             comment_status = $11, ping_status = $12, date = $13, date_floating = $14, \
             modified = $15, pre_trash_status = $16, mime_type = $17, featured_media = $18, \
             post_format = $19, title_fold = $21, excerpt_fold = $22, content_fold = $23 \
             WHERE id = $20",
        )
        .bind(&p.post_type)
        .bind(&p.status)
        .bind(p.author)
        .bind(&p.title)
        .bind(&p.content)
        .bind(&p.excerpt)
        .bind(&p.slug)
        .bind(&p.password)
        .bind(p.parent)
        .bind(p.menu_order)
        .bind(&p.comment_status)
        .bind(&p.ping_status)
        .bind(p.date)
        .bind(p.date_floating)
        .bind(p.modified)
        .bind(&p.pre_trash_status)
        .bind(&p.mime_type)
        .bind(p.featured_media)
        .bind(&p.format)
        .bind(p.id)
        .bind(fold(&p.title))
        .bind(fold(&p.excerpt))
        .bind(fold(&p.content))
        .execute(&self.pool)
        .await
        .map_err(map_write_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_post(&self, id: i64) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM postmeta WHERE post_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM term_relationship WHERE post_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM comment WHERE post_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM post WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn post_meta(&self, post_ids: &[i64]) -> StoreResult<Vec<(i64, String, String)>> {
        if post_ids.is_empty() {
            return Ok(vec![]);
        }
        Ok(sqlx::query_as(
            "SELECT post_id, meta_key, meta_value FROM postmeta WHERE post_id = ANY($1) ORDER BY id",
        )
        .bind(post_ids)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn set_post_meta(&self, post_id: i64, key: &str, values: &[String]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        set_post_meta_on(&mut tx, post_id, key, values).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn post_meta_rows(&self, post_id: i64) -> StoreResult<Vec<(i64, String, String)>> {
        Ok(sqlx::query_as(
            "SELECT id, meta_key, meta_value FROM postmeta WHERE post_id = $1 ORDER BY meta_key, id",
        )
        .bind(post_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn post_meta_by_id(&self, meta_id: i64) -> StoreResult<Option<(i64, String, String)>> {
        Ok(
            sqlx::query_as("SELECT post_id, meta_key, meta_value FROM postmeta WHERE id = $1")
                .bind(meta_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn add_post_meta(&self, post_id: i64, key: &str, value: &str) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO postmeta (post_id, meta_key, meta_value) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(post_id)
        .bind(key)
        .bind(value)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn update_post_meta_by_id(&self, meta_id: i64, value: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE postmeta SET meta_value = $1 WHERE id = $2")
            .bind(value)
            .bind(meta_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_post_meta_by_id(&self, meta_id: i64) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM postmeta WHERE id = $1")
            .bind(meta_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn clear_featured_media(&self, attachment_id: i64) -> StoreResult<()> {
        sqlx::query("UPDATE post SET featured_media = 0 WHERE featured_media = $1")
            .bind(attachment_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn slug_exists(&self, post_type: &str, slug: &str, except_id: i64) -> StoreResult<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM post WHERE post_type = $1 AND slug = $2 AND id <> $3)",
        )
        .bind(post_type)
        .bind(slug)
        .bind(except_id)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn insert_comment(&self, c: &Comment) -> StoreResult<i64> {
        insert_comment_on(&mut *self.pool.acquire().await?, c).await
    }

    async fn comment_by_id(&self, id: i64) -> StoreResult<Option<Comment>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COMMENT_COLUMNS} FROM comment WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(comment_from_row).transpose()?)
    }

    async fn query_comments(&self, q: &CommentQuery) -> StoreResult<(Vec<Comment>, i64)> {
        let mut sql = CommentSql::new(Dialect::Postgres);
        let filter = sql.filter(q);
        let n_filter = sql.binds.len();
        let order = sql.order(q);
        let limit = sql.push(SqlBind::Int(q.limit));
        let offset = sql.push(SqlBind::Int(q.offset));
        let count_sql = format!("SELECT COUNT(*) FROM comment WHERE {filter}");
        let page_sql = format!(
            "SELECT {COMMENT_COLUMNS} FROM comment WHERE {filter} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
        );
        let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql));
        for b in &sql.binds[..n_filter] {
            count = match b {
                SqlBind::Int(v) => count.bind(*v),
                SqlBind::Text(v) => count.bind(v.clone()),
                SqlBind::Ints(v) => count.bind(v.clone()),
                SqlBind::Texts(v) => count.bind(v.clone()),
            };
        }
        let mut page = sqlx::query(sqlx::AssertSqlSafe(page_sql));
        for b in &sql.binds {
            page = match b {
                SqlBind::Int(v) => page.bind(*v),
                SqlBind::Text(v) => page.bind(v.clone()),
                SqlBind::Ints(v) => page.bind(v.clone()),
                SqlBind::Texts(v) => page.bind(v.clone()),
            };
        }
        let total = count.fetch_one(&self.pool).await?;
        let rows = page.fetch_all(&self.pool).await?;
        let comments = rows
            .iter()
            .map(comment_from_row)
            .collect::<Result<_, _>>()?;
        Ok((comments, total))
    }

    async fn update_comment(&self, c: &Comment) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE comment SET post_id = $1, author_name = $2, author_email = $3, author_url = $4, \
             author_ip = $5, date = $6, content = $7, approved = $8, agent = $9, comment_type = $10, \
             parent = $11, user_id = $12, pre_trash_status = $13, pre_post_trash_status = $14 WHERE id = $15",
        )
        .bind(c.post_id)
        .bind(&c.author_name)
        .bind(&c.author_email)
        .bind(&c.author_url)
        .bind(&c.author_ip)
        .bind(c.date)
        .bind(&c.content)
        .bind(&c.approved)
        .bind(&c.agent)
        .bind(&c.comment_type)
        .bind(c.parent)
        .bind(c.user_id)
        .bind(&c.pre_trash_status)
        .bind(&c.pre_post_trash_status)
        .bind(c.id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_comment(&self, id: i64) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let parent: Option<i64> = sqlx::query_scalar("SELECT parent FROM comment WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(parent) = parent else {
            return Ok(false);
        };
        sqlx::query("UPDATE comment SET parent = $1 WHERE parent = $2")
            .bind(parent)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM comment WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn comments_with_children(&self, ids: &[i64]) -> StoreResult<Vec<i64>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT parent FROM comment WHERE approved IN ('0', '1') \
             AND parent = ANY($1)",
        )
        .bind(ids)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn comment_duplicate(
        &self,
        post_id: i64,
        parent: i64,
        author: &str,
        email: &str,
        content: &str,
    ) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM comment WHERE post_id = $1 AND parent = $2 AND approved <> 'trash' \
             AND author_name = $3 AND ($4 = '' OR author_email = $5) AND content = $6 LIMIT 1",
        )
        .bind(post_id)
        .bind(parent)
        .bind(author)
        .bind(email)
        .bind(email)
        .bind(content)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    async fn last_comment_date(
        &self,
        since: i64,
        by_user: Option<i64>,
        ip: &str,
        email: &str,
    ) -> StoreResult<Option<i64>> {
        let q = if let Some(user) = by_user {
            sqlx::query_scalar(
                "SELECT MAX(date) FROM comment WHERE date >= $1 AND (user_id = $2 OR author_email = $3)",
            )
            .bind(since)
            .bind(user)
        } else {
            sqlx::query_scalar(
                "SELECT MAX(date) FROM comment WHERE date >= $1 AND (author_ip = $2 OR author_email = $3)",
            )
            .bind(since)
            .bind(ip)
        };
        Ok(q.bind(email).fetch_one(&self.pool).await?)
    }

    async fn has_approved_comment(
        &self,
        user_id: Option<i64>,
        author: &str,
        email: &str,
    ) -> StoreResult<bool> {
        let found: Option<i64> = match user_id {
            Some(uid) => {
                sqlx::query_scalar(
                    "SELECT id FROM comment WHERE user_id = $1 AND approved = '1' LIMIT 1",
                )
                .bind(uid)
                .fetch_optional(&self.pool)
                .await?
            }
            None => {
                sqlx::query_scalar(
                    "SELECT id FROM comment WHERE author_name = $1 AND author_email = $2 \
                     AND approved = '1' LIMIT 1",
                )
                .bind(author)
                .bind(email)
                .fetch_optional(&self.pool)
                .await?
            }
        };
        Ok(found.is_some())
    }

    async fn trash_post_comments(&self, post_id: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE comment SET pre_post_trash_status = approved, approved = 'post-trashed' \
             WHERE post_id = $1 AND approved <> 'post-trashed'",
        )
        .bind(post_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn import_map(&self, source: &str, kind: &str) -> StoreResult<Vec<(i64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT old_id, new_id FROM import_map WHERE source = $1 AND kind = $2 ORDER BY old_id",
        )
        .bind(source)
        .bind(kind)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn set_import_map(&self, key: &ImportKey, new_id: i64) -> StoreResult<()> {
        set_import_map_on(&mut *self.pool.acquire().await?, key, new_id).await
    }

    async fn insert_imported_comment(&self, key: &ImportKey, c: &Comment) -> StoreResult<i64> {
        let mut tx = self.pool.begin().await?;
        let id = insert_comment_on(&mut tx, c).await?;
        set_import_map_on(&mut tx, key, id).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn sync_id_sequences(&self) -> StoreResult<()> {
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

    async fn set_option(&self, name: &str, value: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO option (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn insert_term(&self, t: &Term) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO term (taxonomy, name, slug, description, parent, name_fold, id) \
             VALUES ($1, $2, $3, $4, $5, $6, COALESCE(NULLIF($7, 0), nextval(pg_get_serial_sequence('term', 'id')))) RETURNING id",
        )
        .bind(&t.taxonomy)
        .bind(&t.name)
        .bind(&t.slug)
        .bind(&t.description)
        .bind(t.parent)
        .bind(fold(&t.name))
        .bind(t.id)
        .fetch_one(&self.pool)
        .await
        .map_err(map_write_err)?)
    }

    async fn update_term(&self, t: &Term) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE term SET name = $1, slug = $2, description = $3, parent = $4, name_fold = $6 \
             WHERE id = $5",
        )
        .bind(&t.name)
        .bind(&t.slug)
        .bind(&t.description)
        .bind(t.parent)
        .bind(t.id)
        .bind(fold(&t.name))
        .execute(&self.pool)
        .await
        .map_err(map_write_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_term(&self, id: i64) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE term SET parent = (SELECT parent FROM term WHERE id = $1) WHERE parent = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM term_relationship WHERE term_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM term WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn term_by_id(&self, id: i64) -> StoreResult<Option<Term>> {
        let sql = format!("SELECT {TERM_COLUMNS} FROM term WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(term_from_row).transpose()?)
    }

    async fn query_terms(&self, q: &TermQuery) -> StoreResult<(Vec<Term>, i64)> {
        // Built from fixed fragments and numbered placeholders only; every value is bound.
        let mut sql = QuerySql::default();
        let tax = sql.push(Bind::Text(q.taxonomy.clone()));
        let mut filter = format!("taxonomy = {tax}");
        if !q.other_taxonomies.is_empty() {
            let others = sql.push(Bind::Texts(q.other_taxonomies.clone()));
            filter = format!("(taxonomy = {tax} OR taxonomy = ANY({others}))");
        }
        if !q.include.is_empty() {
            let p = sql.push(Bind::Ints(q.include.clone()));
            filter.push_str(&format!(" AND id = ANY({p})"));
        }
        if !q.exclude.is_empty() {
            let p = sql.push(Bind::Ints(q.exclude.clone()));
            filter.push_str(&format!(" AND id <> ALL({p})"));
        }
        if !q.slugs.is_empty() {
            let p = sql.push(Bind::Texts(q.slugs.clone()));
            filter.push_str(&format!(" AND slug = ANY({p})"));
        }
        if let Some(parent) = q.parent {
            let p = sql.push(Bind::Int(parent));
            filter.push_str(&format!(" AND parent = {p}"));
        }
        if let Some(post) = q.post {
            let p = sql.push(Bind::Int(post));
            filter.push_str(&format!(
                " AND id IN (SELECT term_id FROM term_relationship WHERE post_id = {p})"
            ));
        }
        if let Some(term) = &q.search {
            // `(t.name LIKE %s) OR (t.slug LIKE %s)`, as the collation compares.
            let p = sql.push(Bind::Text(contains_pattern(term)));
            let s = sql.push(Bind::Text(plain_contains_pattern(term)));
            filter.push_str(&format!(
                " AND (name_fold LIKE {p} ESCAPE '\\' \
                 OR lower(slug COLLATE \"C\") LIKE {s} ESCAPE '\\')"
            ));
        }
        if q.hide_empty {
            filter.push_str(&format!(" AND {TERM_COUNT} > 0"));
        }
        let count_sql = format!("SELECT COUNT(*) FROM term WHERE {filter}");
        let count_binds = sql.binds.len();
        let dir = if q.ascending { "ASC" } else { "DESC" };
        let order = match q.orderby {
            TermOrderBy::Include if !q.include.is_empty() => {
                let p = sql.push(Bind::Ints(q.include.clone()));
                format!("array_position({p}::bigint[], id) ASC NULLS LAST")
            }
            TermOrderBy::IncludeSlugs if !q.slugs.is_empty() => {
                let p = sql.push(Bind::Texts(q.slugs.clone()));
                format!("array_position({p}::text[], slug) ASC NULLS LAST")
            }
            TermOrderBy::Id => format!("id {dir}"),
            TermOrderBy::Slug => format!("slug COLLATE \"C\" {dir}, id {dir}"),
            TermOrderBy::Description => {
                format!("lower(description COLLATE \"C\") {dir}, id {dir}")
            }
            TermOrderBy::Count => format!("{TERM_COUNT} {dir}, id {dir}"),
            _ => format!("name_fold COLLATE \"C\" {dir}, id {dir}"),
        };
        let limit = sql.push(Bind::Int(q.limit));
        let offset = sql.push(Bind::Int(q.offset));
        let page_sql = format!(
            "SELECT {TERM_COLUMNS} FROM term WHERE {filter} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
        );
        let total = sql
            .bind_scalar(
                sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql)),
                count_binds,
            )
            .fetch_one(&self.pool)
            .await?;
        let rows = sql
            .bind_all(sqlx::query(sqlx::AssertSqlSafe(page_sql)))
            .fetch_all(&self.pool)
            .await?;
        let terms = rows.iter().map(term_from_row).collect::<Result<_, _>>()?;
        Ok((terms, total))
    }

    async fn term_named(
        &self,
        taxonomy: &str,
        name: &str,
        parent: Option<i64>,
        except_id: i64,
    ) -> StoreResult<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM term WHERE taxonomy = $1 \
             AND lower(name COLLATE \"C\") = lower($2::text COLLATE \"C\") AND id <> $3 \
             AND ($4::bigint IS NULL OR parent = $4) ORDER BY id LIMIT 1",
        )
        .bind(taxonomy)
        .bind(name)
        .bind(except_id)
        .bind(parent)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn term_slug_exists(
        &self,
        taxonomy: &str,
        slug: &str,
        except_id: i64,
    ) -> StoreResult<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM term WHERE taxonomy = $1 AND slug = $2 AND id <> $3)",
        )
        .bind(taxonomy)
        .bind(slug)
        .bind(except_id)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn children_summary(
        &self,
        post_type: &str,
        parents: &[i64],
    ) -> StoreResult<Vec<(i64, i64, i64)>> {
        if parents.is_empty() {
            return Ok(vec![]);
        }
        Ok(sqlx::query_as(
            "SELECT c.parent, COUNT(*), (SELECT n.id FROM post n WHERE n.post_type = c.post_type \
             AND n.parent = c.parent ORDER BY n.date DESC, n.id DESC LIMIT 1) \
             FROM post c WHERE c.post_type = $1 AND c.parent = ANY($2) GROUP BY c.parent, c.post_type",
        )
        .bind(post_type)
        .bind(parents)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn post_terms(&self, post_ids: &[i64]) -> StoreResult<Vec<(i64, i64, String)>> {
        if post_ids.is_empty() {
            return Ok(vec![]);
        }
        Ok(sqlx::query_as(
            "SELECT r.post_id, r.term_id, t.taxonomy FROM term_relationship r \
             JOIN term t ON t.id = r.term_id WHERE r.post_id = ANY($1) \
             ORDER BY lower(t.name COLLATE \"C\"), t.id",
        )
        .bind(post_ids)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn set_post_terms(
        &self,
        post_id: i64,
        taxonomy: &str,
        term_ids: &[i64],
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        set_post_terms_on(&mut tx, post_id, taxonomy, term_ids).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_option(&self, name: &str) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM option WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn used_post_formats(&self) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT post_format FROM post WHERE post_format <> '' ORDER BY post_format",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn delete_option(&self, name: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM option WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn add_option(&self, name: &str, value: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO option (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn create_session(&self, s: &Session) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO session_token (verifier, user_id, expiration, login, ip, user_agent, pass_frag) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&s.verifier)
        .bind(s.user_id)
        .bind(s.expiration)
        .bind(s.login)
        .bind(&s.ip)
        .bind(&s.user_agent)
        .bind(&s.pass_frag)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session_by_verifier(&self, verifier: &str) -> StoreResult<Option<Session>> {
        let row: Option<(String, i64, i64, i64, String, String, String)> = sqlx::query_as(
            "SELECT verifier, user_id, expiration, login, ip, user_agent, pass_frag \
             FROM session_token WHERE verifier = $1",
        )
        .bind(verifier)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(
            |(verifier, user_id, expiration, login, ip, user_agent, pass_frag)| Session {
                verifier,
                user_id,
                expiration,
                login,
                ip,
                user_agent,
                pass_frag,
            },
        ))
    }

    async fn delete_session(&self, verifier: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM session_token WHERE verifier = $1")
            .bind(verifier)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_user_sessions(&self, user_id: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM session_token WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM session_token WHERE expiration < $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn append_audit(
        &self,
        entries: &[NewAuditEntry],
        now: i64,
    ) -> StoreResult<Vec<AuditEntry>> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.pool.begin().await?;
        // One chain writer at a time across every instance sharing the database: the lock is
        // held until commit, so the last hash read below is still the last when we insert.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('ferropress audit chain', 0))")
            .execute(&mut *tx)
            .await?;
        let last: Option<(i64, String)> =
            sqlx::query_as("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?;
        let last = match last {
            Some(l) => l,
            None => sqlx::query_as("SELECT last_id, hash FROM audit_anchor WHERE one = 1")
                .fetch_optional(&mut *tx)
                .await?
                .unwrap_or((0, audit::GENESIS_HASH.to_owned())),
        };
        let rows = audit::chain(entries, last.0, &last.1);
        for (row, new) in rows.iter().zip(entries) {
            sqlx::query(
                "INSERT INTO audit_log (id, at, event, user_id, actor_id, token, ip, user_agent, data, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(row.id)
            .bind(row.at)
            .bind(&row.event)
            .bind(row.user_id)
            .bind(row.actor_id)
            .bind(&row.token)
            .bind(&row.ip)
            .bind(&row.user_agent)
            .bind(&row.data)
            .bind(&row.prev_hash)
            .bind(&row.hash)
            .execute(&mut *tx)
            .await?;
            for hook in &new.hooks {
                sqlx::query(
                    "INSERT INTO webhook_outbox (hook, audit_id, event, payload, next_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(hook)
                .bind(row.id)
                .bind(&row.event)
                .bind(crate::webhooks::payload(row))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(rows)
    }

    async fn query_audit(&self, q: &AuditQuery) -> StoreResult<(Vec<AuditEntry>, i64)> {
        let mut cond = String::from("TRUE");
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if q.user_id.is_some() {
            cond.push_str(&format!(" AND user_id = {}", next()));
        }
        if !q.events.is_empty() {
            cond.push_str(&format!(" AND event = ANY({})", next()));
        }
        if q.since.is_some() {
            cond.push_str(&format!(" AND at >= {}", next()));
        }
        if q.before.is_some() {
            cond.push_str(&format!(" AND at < {}", next()));
        }
        let (limit, offset) = (next(), next());
        macro_rules! bind_all {
            ($query:expr) => {{
                let mut query = $query;
                if let Some(u) = q.user_id {
                    query = query.bind(u);
                }
                if !q.events.is_empty() {
                    query = query.bind(&q.events);
                }
                if let Some(s) = q.since {
                    query = query.bind(s);
                }
                if let Some(b) = q.before {
                    query = query.bind(b);
                }
                query
            }};
        }
        let total: i64 = bind_all!(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM audit_log WHERE {cond}"
        ))))
        .fetch_one(&self.pool)
        .await?;
        let rows = bind_all!(sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM audit_log WHERE {cond} ORDER BY id DESC LIMIT {limit} OFFSET {offset}",
            audit::AUDIT_COLUMNS
        ))))
        .bind(q.limit)
        .bind(q.offset)
        .fetch_all(&self.pool)
        .await?;
        Ok((rows.iter().map(audit_row).collect::<Result<_, _>>()?, total))
    }

    async fn audit_chain(&self, after_id: i64, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2",
            audit::AUDIT_COLUMNS
        )))
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(audit_row).collect::<Result<_, _>>()?)
    }

    async fn audit_anchor(&self) -> StoreResult<Option<(i64, String)>> {
        Ok(
            sqlx::query_as("SELECT last_id, hash FROM audit_anchor WHERE one = 1")
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn prune_audit(&self, before: i64) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('ferropress audit chain', 0))")
            .execute(&mut *tx)
            .await?;
        let last: Option<(i64, String)> = sqlx::query_as(
            "SELECT id, hash FROM audit_log WHERE id <= (SELECT MAX(id) FROM audit_log WHERE at < $1) \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(before)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((last_id, hash)) = last else {
            return Ok(0);
        };
        let done = sqlx::query("DELETE FROM audit_log WHERE id <= $1")
            .bind(last_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO audit_anchor (one, last_id, hash) VALUES (1, $1, $2) \
             ON CONFLICT (one) DO UPDATE SET last_id = excluded.last_id, hash = excluded.hash",
        )
        .bind(last_id)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    async fn mark_token_seen(
        &self,
        uuid: Uuid,
        kind: &str,
        value: &str,
        at: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO application_password_seen (uuid, kind, value, first_seen) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(uuid.to_string())
        .bind(kind)
        .bind(value)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn claim_webhooks(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<OutboxItem>> {
        // SKIP LOCKED: instances claiming at the same moment take different rows.
        let rows: Vec<(i64, String, i64, String, String, i64)> = sqlx::query_as(
            "UPDATE webhook_outbox SET next_at = $1 WHERE id IN \
             (SELECT id FROM webhook_outbox WHERE next_at <= $2 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING id, hook, audit_id, event, payload, attempts",
        )
        .bind(lease_until)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut items: Vec<OutboxItem> = rows
            .into_iter()
            .map(
                |(id, hook, audit_id, event, payload, attempts)| OutboxItem {
                    id,
                    hook,
                    audit_id,
                    event,
                    payload,
                    attempts,
                },
            )
            .collect();
        items.sort_by_key(|i| i.id);
        Ok(items)
    }

    async fn webhook_done(&self, id: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM webhook_outbox WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn webhook_retry(
        &self,
        id: i64,
        attempts: i64,
        next_at: i64,
        error: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE webhook_outbox SET attempts = $1, next_at = $2, last_error = $3 WHERE id = $4",
        )
        .bind(attempts)
        .bind(next_at)
        .bind(error)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn current_data_version(&self) -> Option<DataVersion> {
        self.versions.current().await
    }

    async fn close(&self) {
        self.fences.abort();
        self.pool.close().await;
    }

    async fn ready(&self) -> Result<(), String> {
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await
                .map_err(|e| {
                    tracing::warn!(error = %e, "readiness check: the database query failed");
                    "the database does not answer".to_owned()
                })?;
        migrations_current(&MIGRATOR, applied)
    }

    fn pool_status(&self) -> Option<PoolStatus> {
        Some(PoolStatus {
            size: self.pool.size(),
            idle: self.pool.num_idle(),
            max: self.pool.options().get_max_connections(),
        })
    }
}

enum Bind {
    Int(i64),
    Text(String),
    Ints(Vec<i64>),
    Texts(Vec<String>),
}

/// A post query's clauses with `$n` placeholders, and the values in placeholder order.
/// The same conditions as `sqlite.rs`'s `post_filter`/`post_order`; where PostgreSQL would
/// differ, the SQL says how SQLite behaves: LIKE folds ASCII case only, text sorts by bytes
/// (`COLLATE "C"`); searches and text sorts use the `*_fold` columns, the same on both.
#[derive(Default)]
struct QuerySql {
    binds: Vec<Bind>,
}

impl QuerySql {
    /// Adds a value and returns its placeholder.
    fn push(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }

    /// Binds the first `n` values to a scalar query.
    fn bind_scalar<'q>(
        &self,
        mut q: sqlx::query::QueryScalar<'q, sqlx::Postgres, i64, sqlx::postgres::PgArguments>,
        n: usize,
    ) -> sqlx::query::QueryScalar<'q, sqlx::Postgres, i64, sqlx::postgres::PgArguments> {
        for b in &self.binds[..n] {
            q = match b {
                Bind::Int(v) => q.bind(*v),
                Bind::Text(v) => q.bind(v.clone()),
                Bind::Ints(v) => q.bind(v.clone()),
                Bind::Texts(v) => q.bind(v.clone()),
            };
        }
        q
    }

    /// Binds every value to a query.
    fn bind_all<'q>(
        &self,
        mut q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        for b in &self.binds {
            q = match b {
                Bind::Int(v) => q.bind(*v),
                Bind::Text(v) => q.bind(v.clone()),
                Bind::Ints(v) => q.bind(v.clone()),
                Bind::Texts(v) => q.bind(v.clone()),
            };
        }
        q
    }

    /// `sqlite.rs`'s `user_filter`: LIKE and text order fold ASCII case only, as there.
    fn user_filter(&mut self, q: &UserQuery) -> String {
        use crate::store::UserSearchColumn as C;
        let mut filter = String::from("TRUE");
        if !q.include.is_empty() {
            let p = self.push(Bind::Ints(q.include.clone()));
            filter.push_str(&format!(" AND id = ANY({p})"));
        }
        if !q.exclude.is_empty() {
            let p = self.push(Bind::Ints(q.exclude.clone()));
            filter.push_str(&format!(" AND id <> ALL({p})"));
        }
        if !q.nicenames.is_empty() {
            let p = self.push(Bind::Texts(q.nicenames.clone()));
            filter.push_str(&format!(" AND nicename = ANY({p})"));
        }
        for set in &q.role_sets {
            if set.is_empty() {
                filter.push_str(" AND FALSE");
                continue;
            }
            // `roles` is a space-separated list: match whole words.
            let words: Vec<String> = set.iter().map(|r| format!("% {} %", r.as_str())).collect();
            let p = self.push(Bind::Texts(words));
            filter.push_str(&format!(" AND (' ' || roles || ' ') LIKE ANY({p})"));
        }
        if let Some((term, columns)) = &q.search {
            let mut alternatives = vec![];
            for c in columns {
                let col = match c {
                    C::Id => {
                        if let Ok(n) = term.trim().parse::<i64>() {
                            let p = self.push(Bind::Int(n));
                            alternatives.push(format!("id = {p}"));
                        }
                        continue;
                    }
                    C::Login => "lower(login COLLATE \"C\")",
                    C::Nicename => "lower(nicename COLLATE \"C\")",
                    C::Email => "lower(email COLLATE \"C\")",
                    C::Url => "lower(url COLLATE \"C\")",
                    C::DisplayName => "display_name_fold",
                };
                let p = self.push(Bind::Text(if *c == C::DisplayName {
                    contains_pattern(term)
                } else {
                    plain_contains_pattern(term)
                }));
                alternatives.push(format!("{col} LIKE {p} ESCAPE '\\'"));
            }
            if alternatives.is_empty() {
                filter.push_str(" AND FALSE");
            } else {
                filter.push_str(&format!(" AND ({})", alternatives.join(" OR ")));
            }
        }
        if let Some(types) = &q.has_published_posts {
            if types.is_empty() {
                filter.push_str(" AND FALSE");
            } else {
                let p = self.push(Bind::Texts(types.clone()));
                filter.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM post WHERE post.author = \"user\".id \
                     AND post.status = 'publish' AND post.post_type = ANY({p}))"
                ));
            }
        }
        filter
    }

    /// `sqlite.rs`'s `user_order`; `COLLATE NOCASE` there is ASCII folding, then bytes.
    fn user_order(&mut self, q: &UserQuery) -> String {
        use crate::store::UserOrderBy as O;
        let dir = if q.ascending { "ASC" } else { "DESC" };
        match q.orderby {
            O::Include if !q.include.is_empty() => {
                let p = self.push(Bind::Ints(q.include.clone()));
                format!("array_position({p}::bigint[], id) ASC NULLS LAST")
            }
            O::IncludeSlugs if !q.nicenames.is_empty() => {
                let p = self.push(Bind::Texts(q.nicenames.clone()));
                format!("array_position({p}::text[], nicename) ASC NULLS LAST")
            }
            O::Id => format!("id {dir}"),
            O::Registered => format!("registered {dir}, id {dir}"),
            other => {
                let col = match other {
                    O::Name => "display_name_fold COLLATE \"C\"",
                    O::Slug => "lower(nicename COLLATE \"C\")",
                    O::Email => "lower(email COLLATE \"C\")",
                    O::Url => "lower(url COLLATE \"C\")",
                    _ => "lower(login COLLATE \"C\")",
                };
                format!("{col} {dir}, id {dir}")
            }
        }
    }

    fn filter(&mut self, q: &PostQuery) -> String {
        let mut filter = format!("post_type = {}", self.push(Bind::Text(q.post_type.clone())));
        if !q.other_post_types.is_empty() {
            let p = self.push(Bind::Texts(q.other_post_types.clone()));
            filter = format!("({filter} OR post_type = ANY({p}))");
        }
        if !q.statuses.is_empty() {
            let p = self.push(Bind::Texts(q.statuses.clone()));
            filter.push_str(&format!(" AND status = ANY({p})"));
        }
        for (col, op, values) in [
            ("author", "= ANY", &q.authors),
            ("author", "<> ALL", &q.authors_exclude),
            ("id", "= ANY", &q.include),
            ("id", "<> ALL", &q.exclude),
            ("parent", "= ANY", &q.parents),
            ("parent", "<> ALL", &q.parents_exclude),
        ] {
            if !values.is_empty() {
                let p = self.push(Bind::Ints(values.clone()));
                filter.push_str(&format!(" AND {col} {op}({p})"));
            }
        }
        if !q.slugs.is_empty() {
            let p = self.push(Bind::Texts(q.slugs.clone()));
            filter.push_str(&format!(" AND slug = ANY({p})"));
        }
        if !q.mime_types.is_empty() {
            let p = self.push(Bind::Texts(q.mime_types.clone()));
            filter.push_str(&format!(" AND mime_type = ANY({p})"));
        }
        if !q.formats.is_empty() {
            let p = self.push(Bind::Texts(q.formats.clone()));
            filter.push_str(&format!(" AND post_format = ANY({p})"));
        }
        if let Some(m) = q.menu_order {
            let p = self.push(Bind::Int(m));
            filter.push_str(&format!(" AND menu_order = {p}"));
        }
        if let Some(search) = q.search.as_ref().filter(|s| !s.clauses.is_empty()) {
            let mut columns = vec![];
            for (on, col) in [
                (search.title, "title_fold"),
                (search.excerpt, "excerpt_fold"),
                (search.content, "content_fold"),
            ] {
                if on {
                    columns.push(col);
                }
            }
            for clause in &search.clauses {
                // parse_search(): `(title LIKE t OR excerpt LIKE t OR content LIKE t)`, or
                // for `-t`, `NOT LIKE` joined by AND.
                let (op, joiner) = if clause.exclude {
                    ("NOT LIKE", " AND ")
                } else {
                    ("LIKE", " OR ")
                };
                let p = self.push(Bind::Text(clause.pattern.clone()));
                let mut parts: Vec<String> = columns
                    .iter()
                    .map(|c| format!("{c} {op} {p} ESCAPE '\\'"))
                    .collect();
                if search.attachment_file {
                    let not = if clause.exclude { "NOT " } else { "" };
                    let f = self.push(Bind::Text(clause.file_pattern.clone()));
                    parts.push(format!(
                        "{not}EXISTS (SELECT 1 FROM postmeta WHERE postmeta.post_id = post.id \
                         AND meta_key = '_wp_attached_file' \
                         AND lower(meta_value COLLATE \"C\") LIKE {f} ESCAPE '\\')"
                    ));
                }
                filter.push_str(&format!(" AND ({})", parts.join(joiner)));
            }
            if q.search_skips_protected {
                filter.push_str(" AND password = ''");
            }
        }
        let mut tax = vec![];
        for clause in &q.tax_query {
            let t = self.push(Bind::Text(clause.taxonomy.clone()));
            let ids = self.push(Bind::Ints(clause.terms.clone()));
            let terms = format!("SELECT id FROM term WHERE taxonomy = {t} AND id = ANY({ids})");
            tax.push(match clause.operator {
                TaxOperator::In => format!(
                    "id IN (SELECT post_id FROM term_relationship WHERE term_id IN ({terms}))"
                ),
                TaxOperator::NotIn => format!(
                    "id NOT IN (SELECT post_id FROM term_relationship WHERE term_id IN ({terms}))"
                ),
                // Every listed term exists in the taxonomy and the post has each of them.
                TaxOperator::And => format!(
                    "(SELECT COUNT(*) FROM ({terms}) AS t) = \
                     (SELECT COUNT(DISTINCT v) FROM UNNEST({ids}::bigint[]) AS v) \
                     AND (SELECT COUNT(*) FROM term_relationship r WHERE r.post_id = post.id \
                     AND r.term_id IN ({terms})) = (SELECT COUNT(DISTINCT v) FROM UNNEST({ids}::bigint[]) AS v)"
                ),
            });
        }
        if !tax.is_empty() {
            let joiner = if q.tax_or { ") OR (" } else { ") AND (" };
            filter.push_str(&format!(" AND (({}))", tax.join(joiner)));
        }
        for (sql, bound) in [
            ("date >", q.after),
            ("date <", q.before),
            ("modified >", q.modified_after),
            ("modified <", q.modified_before),
        ] {
            if let Some(v) = bound {
                let p = self.push(Bind::Int(v));
                filter.push_str(&format!(" AND {sql} {p}"));
            }
        }
        filter
    }

    /// The ORDER BY clause: a search's relevance (`parse_search_order()`) when asked, then
    /// the query's own order, ties broken by id in the same direction.
    fn order(&mut self, q: &PostQuery) -> String {
        let Some(relevance) = q.search.as_ref().and_then(|s| s.relevance.clone()) else {
            return self.own_order(q);
        };
        let rank = match relevance {
            RelevanceOrder::Single(t) => {
                let p = self.push(Bind::Text(t));
                format!("(title_fold LIKE {p} ESCAPE '\\') DESC")
            }
            RelevanceOrder::Cases {
                sentence,
                title_terms,
            } => {
                let sentence = sentence.map(|s| self.push(Bind::Text(s)));
                let titles: Vec<String> = title_terms
                    .into_iter()
                    .map(|t| {
                        let p = self.push(Bind::Text(t));
                        format!("title_fold LIKE {p} ESCAPE '\\'")
                    })
                    .collect();
                let mut cases = String::from("(CASE ");
                if let Some(p) = &sentence {
                    cases.push_str(&format!("WHEN title_fold LIKE {p} ESCAPE '\\' THEN 1 "));
                }
                if !titles.is_empty() {
                    cases.push_str(&format!("WHEN {} THEN 2 ", titles.join(" AND ")));
                    if titles.len() > 1 {
                        cases.push_str(&format!("WHEN {} THEN 3 ", titles.join(" OR ")));
                    }
                }
                if let Some(p) = &sentence {
                    cases.push_str(&format!(
                        "WHEN excerpt_fold LIKE {p} ESCAPE '\\' THEN 4 \
                         WHEN content_fold LIKE {p} ESCAPE '\\' THEN 5 "
                    ));
                }
                cases.push_str("ELSE 6 END) ASC");
                cases
            }
        };
        format!("{rank}, {}", self.own_order(q))
    }

    /// The query's own `orderby`.
    fn own_order(&mut self, q: &PostQuery) -> String {
        use crate::store::PostOrderBy as O;
        let dir = if q.ascending { "ASC" } else { "DESC" };
        match q.orderby {
            // Position in the given list (the first one for repeated values), others last.
            O::Include if !q.include.is_empty() => {
                let p = self.push(Bind::Ints(q.include.clone()));
                format!("array_position({p}::bigint[], id) ASC NULLS LAST")
            }
            O::IncludeSlugs if !q.slugs.is_empty() => {
                let p = self.push(Bind::Texts(q.slugs.clone()));
                format!("array_position({p}::text[], slug) ASC NULLS LAST")
            }
            other => {
                let col = match other {
                    O::Id => "id",
                    O::Title => "title_fold COLLATE \"C\"",
                    O::Slug => "slug COLLATE \"C\"",
                    O::Modified => "modified",
                    O::MenuOrder => "menu_order",
                    O::Parent => "parent",
                    O::Author => "author",
                    _ => "date",
                };
                format!("{col} {dir}, id {dir}")
            }
        }
    }
}

fn audit_row(r: &PgRow) -> Result<AuditEntry, sqlx::Error> {
    Ok(AuditEntry {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        event: r.try_get("event")?,
        user_id: r.try_get("user_id")?,
        actor_id: r.try_get("actor_id")?,
        token: r.try_get("token")?,
        ip: r.try_get("ip")?,
        user_agent: r.try_get("user_agent")?,
        data: r.try_get("data")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

async fn insert_post_on(conn: &mut sqlx::PgConnection, p: &Post) -> StoreResult<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO post (post_type, status, author, title, content, excerpt, slug, password, parent, \
         menu_order, comment_status, ping_status, date, date_floating, modified, pre_trash_status, \
         mime_type, featured_media, post_format, title_fold, excerpt_fold, content_fold, guid, id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
         $20, $21, $22, $23, COALESCE(NULLIF($24, 0), nextval(pg_get_serial_sequence('post', 'id')))) RETURNING id",
    )
    .bind(&p.post_type)
    .bind(&p.status)
    .bind(p.author)
    .bind(&p.title)
    .bind(&p.content)
    .bind(&p.excerpt)
    .bind(&p.slug)
    .bind(&p.password)
    .bind(p.parent)
    .bind(p.menu_order)
    .bind(&p.comment_status)
    .bind(&p.ping_status)
    .bind(p.date)
    .bind(p.date_floating)
    .bind(p.modified)
    .bind(&p.pre_trash_status)
    .bind(&p.mime_type)
    .bind(p.featured_media)
    .bind(&p.format)
    .bind(fold(&p.title))
    .bind(fold(&p.excerpt))
    .bind(fold(&p.content))
    .bind(&p.guid)
    .bind(p.id)
    .fetch_one(&mut *conn)
    .await
    .map_err(map_write_err)?;
    Ok(id)
}

async fn insert_comment_on(conn: &mut sqlx::PgConnection, c: &Comment) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO comment (post_id, author_name, author_email, author_url, author_ip, date, \
         content, approved, agent, comment_type, parent, user_id, pre_trash_status, \
         pre_post_trash_status, id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, COALESCE(NULLIF($15, 0), nextval(pg_get_serial_sequence('comment', 'id')))) RETURNING id",
    )
    .bind(c.post_id)
    .bind(&c.author_name)
    .bind(&c.author_email)
    .bind(&c.author_url)
    .bind(&c.author_ip)
    .bind(c.date)
    .bind(&c.content)
    .bind(&c.approved)
    .bind(&c.agent)
    .bind(&c.comment_type)
    .bind(c.parent)
    .bind(c.user_id)
    .bind(&c.pre_trash_status)
    .bind(&c.pre_post_trash_status)
    .bind(c.id)
    .fetch_one(&mut *conn)
    .await?)
}

async fn set_import_map_on(
    conn: &mut sqlx::PgConnection,
    key: &ImportKey,
    new_id: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO import_map (source, kind, old_id, new_id) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (source, kind, old_id) DO UPDATE SET new_id = EXCLUDED.new_id",
    )
    .bind(&key.source)
    .bind(key.kind)
    .bind(key.old_id)
    .bind(new_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn set_post_meta_on(
    conn: &mut sqlx::PgConnection,
    post_id: i64,
    key: &str,
    values: &[String],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM postmeta WHERE post_id = $1 AND meta_key = $2")
        .bind(post_id)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    // One statement; WITH ORDINALITY keeps the values' order in the ids.
    sqlx::query(
        "INSERT INTO postmeta (post_id, meta_key, meta_value) \
         SELECT $1, $2, v FROM UNNEST($3::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n",
    )
    .bind(post_id)
    .bind(key)
    .bind(values)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn set_post_terms_on(
    conn: &mut sqlx::PgConnection,
    post_id: i64,
    taxonomy: &str,
    term_ids: &[i64],
) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM term_relationship WHERE post_id = $1 \
         AND term_id IN (SELECT id FROM term WHERE taxonomy = $2)",
    )
    .bind(post_id)
    .bind(taxonomy)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO term_relationship (post_id, term_id) \
         SELECT $1, id FROM term WHERE id = ANY($2) AND taxonomy = $3 \
         ON CONFLICT DO NOTHING",
    )
    .bind(post_id)
    .bind(term_ids)
    .bind(taxonomy)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
