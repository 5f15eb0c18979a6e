//! The embedded SQLite store: one file in the data dir, WAL journal, migrations embedded.
//!
//! A server and CLI commands may open the same file at once: WAL lets readers run beside
//! one writer and `busy_timeout` makes concurrent writers wait instead of failing.
//! `synchronous=FULL` so a write acknowledged to a client survives a crash of the machine.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use uuid::Uuid;

use super::*;
use crate::search::{
    FOLD_VERSION, FOLD_VERSION_OPTION, contains_pattern, fold, plain_contains_pattern,
};
use crate::store::comment::{COMMENT_COLUMNS, CommentSql, Dialect, SqlBind};

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
        backfill_folds(&pool).await?;
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

fn user_from_row(row: &SqliteRow) -> Result<User, sqlx::Error> {
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

fn app_password_from_row(row: &SqliteRow) -> Result<AppPassword, sqlx::Error> {
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

/// Published posts having the term (`_update_post_term_count`), computed per row.
const TERM_COUNT: &str = "(SELECT COUNT(*) FROM term_relationship r JOIN post p ON p.id = r.post_id \
     WHERE r.term_id = term.id AND p.status = 'publish')";
const TERM_COLUMNS: &str = "id, taxonomy, name, slug, description, parent, \
     (SELECT COUNT(*) FROM term_relationship r JOIN post p ON p.id = r.post_id \
     WHERE r.term_id = term.id AND p.status = 'publish') AS count";

fn term_from_row(row: &SqliteRow) -> Result<Term, sqlx::Error> {
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

fn post_from_row(row: &SqliteRow) -> Result<Post, sqlx::Error> {
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
const APP_PASSWORD_COLUMNS: &str = "uuid, user_id, app_id, name, created, last_used, last_ip, last_user_agent, expires, scopes, prev_valid_until";

#[async_trait]
impl Store for SqliteStore {
    /// The header of the WAL index (<https://www.sqlite.org/walformat.html>, "The WAL-Index
    /// Header"): every commit, by any connection of any process, rewrites it (frame count,
    /// change counter, salts, checksum). SQLite keeps two copies and writes the second
    /// first; copies that differ mean a commit is under way, and then nothing is cached.
    /// One `pread`, no lock and no round trip to a database thread: what `PRAGMA
    /// data_version` tells, at a fraction of its cost on every request.
    fn data_version(&self) -> Option<DataVersion> {
        read_data_version(&self.wal_index)
    }

    fn only_own_post_writes(&self, from: &DataVersion, to: &DataVersion) -> bool {
        self.own_writes.covers(from, to)
    }

    async fn count_users(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM user")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn create_user(&self, u: NewUser) -> StoreResult<User> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO user (login, email, nicename, display_name, first_name, last_name, nickname, \
             description, url, locale, roles, pass_hash, registered, display_name_fold, id) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, 0)) RETURNING id",
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
            "SELECT {USER_COLUMNS} FROM user WHERE id = ?"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn user_by_login(&self, login: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM user WHERE login = ?"
        )))
        .bind(login)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM user WHERE email = ?"
        )))
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn nicename_exists(&self, nicename: &str) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM user WHERE nicename = ?")
            .bind(nicename)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM user ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(user_from_row).collect::<Result<_, _>>()?)
    }

    async fn query_users(&self, q: &UserQuery) -> StoreResult<(Vec<User>, i64)> {
        // Built from fixed fragments and placeholders only; every value is bound.
        let (filter, binds) = user_filter(q);
        let (order_sql, order_binds) = user_order(q);
        let count_sql = format!("SELECT COUNT(*) FROM user WHERE {filter}");
        let page_sql = format!(
            "SELECT {USER_COLUMNS} FROM user WHERE {filter} ORDER BY {order_sql} LIMIT ? OFFSET ?"
        );
        let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql));
        let mut page = sqlx::query(sqlx::AssertSqlSafe(page_sql));
        for b in &binds {
            count = match b {
                Bind::Int(i) => count.bind(*i),
                Bind::Text(t) => count.bind(t.clone()),
            };
        }
        for b in binds.iter().chain(order_binds.iter()) {
            page = match b {
                Bind::Int(i) => page.bind(*i),
                Bind::Text(t) => page.bind(t.clone()),
            };
        }
        let total = count.fetch_one(&self.pool).await?;
        let rows = page
            .bind(q.limit)
            .bind(q.offset)
            .fetch_all(&self.pool)
            .await?;
        let users = rows.iter().map(user_from_row).collect::<Result<_, _>>()?;
        Ok((users, total))
    }

    async fn update_user(&self, u: &User) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE user SET login = ?, email = ?, nicename = ?, display_name = ?, first_name = ?, \
             last_name = ?, nickname = ?, description = ?, url = ?, locale = ?, roles = ?, pass_hash = ?, \
             display_name_fold = ? WHERE id = ?",
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
        .bind(fold(&u.display_name))
        .bind(u.id)
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
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM user WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Ok(None);
        }
        let uuids: Vec<String> =
            sqlx::query_scalar("SELECT uuid FROM application_password WHERE user_id = ?")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM application_password WHERE user_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let mut trashed_posts = vec![];
        let mut deleted_posts = vec![];
        if let Some(to) = reassign {
            sqlx::query("UPDATE post SET author = ? WHERE author = ?")
                .bind(to)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        } else {
            trashed_posts = sqlx::query_scalar(
                "UPDATE post SET pre_trash_status = status, status = 'trash', modified = ?, \
                 slug = CASE WHEN slug LIKE '%\\_\\_trashed' ESCAPE '\\' THEN slug ELSE slug || '__trashed' END \
                 WHERE author = ? AND post_type IN ('post', 'page') AND status != 'trash' RETURNING id",
            )
            .bind(now)
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            trashed_posts.sort_unstable();
            // `wp_trash_post()` trashes the post's comments with it.
            sqlx::query(
                "UPDATE comment SET pre_post_trash_status = approved, approved = 'post-trashed' \
                 WHERE post_id IN (SELECT value FROM json_each(?))",
            )
            .bind(json_array(&trashed_posts))
            .execute(&mut *tx)
            .await?;
            for post_type in delete_types {
                let doomed: Vec<(i64, i64)> = sqlx::query_as(
                    "SELECT id, parent FROM post WHERE author = ? AND post_type = ? ORDER BY id",
                )
                .bind(id)
                .bind(post_type)
                .fetch_all(&mut *tx)
                .await?;
                for (post_id, parent) in doomed {
                    sqlx::query("UPDATE post SET parent = ? WHERE parent = ?")
                        .bind(parent)
                        .bind(post_id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM postmeta WHERE post_id = ?")
                        .bind(post_id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM comment WHERE post_id = ?")
                        .bind(post_id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM post WHERE id = ?")
                        .bind(post_id)
                        .execute(&mut *tx)
                        .await?;
                    deleted_posts.push(post_id);
                }
            }
        }
        sqlx::query("DELETE FROM user WHERE id = ?")
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
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
            "SELECT {APP_PASSWORD_COLUMNS} FROM application_password WHERE user_id = ? ORDER BY created, rowid"
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
             WHERE password_hash = ? OR prev_password_hash = ?"
        )))
        .bind(hash)
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
        let done = sqlx::query("DELETE FROM application_password WHERE user_id = ? AND uuid = ?")
            .bind(user_id)
            .bind(uuid.to_string())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn rename_app_password(&self, user_id: i64, uuid: Uuid, name: &str) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE application_password SET name = ? WHERE user_id = ? AND uuid = ?")
                .bind(name)
                .bind(user_id)
                .bind(uuid.to_string())
                .execute(&self.pool)
                .await
                .map_err(map_write_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_all_app_passwords(&self, user_id: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM application_password WHERE user_id = ?")
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
            "UPDATE application_password SET expires = ?, scopes = ?, \
             expiry_warned = CASE WHEN expires IS ? THEN expiry_warned ELSE 0 END \
             WHERE user_id = ? AND uuid = ?",
        )
        .bind(expires)
        .bind(scopes)
        .bind(expires)
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
             prev_password_hash = CASE WHEN ? IS NULL THEN NULL ELSE password_hash END, \
             prev_valid_until = ?, password_hash = ? \
             WHERE user_id = ? AND uuid = ?",
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
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE application_password SET expiry_warned = 1 WHERE expiry_warned = 0 AND uuid IN \
             (SELECT uuid FROM application_password WHERE expires IS NOT NULL AND expiry_warned = 0 \
             AND expires > ? AND expires <= ? ORDER BY expires LIMIT ?) RETURNING {APP_PASSWORD_COLUMNS}",
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
        let rows = sqlx::query(
            "DELETE FROM application_password WHERE uuid IN (SELECT uuid FROM application_password \
             WHERE coalesce(last_used, created) < ? ORDER BY coalesce(last_used, created) LIMIT ?) \
             RETURNING user_id, uuid",
        )
        .bind(cutoff)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let uuid: String = row.try_get("uuid")?;
            let uuid = Uuid::parse_str(&uuid).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            out.push((row.try_get("user_id")?, uuid));
        }
        Ok(out)
    }

    async fn record_app_password_usage(&self, usage: &[AppPasswordUsage]) -> StoreResult<()> {
        if usage.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for u in usage {
            sqlx::query(
                "UPDATE application_password SET last_used = ?, last_ip = ?, last_user_agent = ? \
                 WHERE uuid = ? AND (last_used IS NULL OR last_used <= ?)",
            )
            .bind(u.last_used)
            .bind(&u.last_ip)
            .bind(&u.last_user_agent)
            .bind(u.uuid.to_string())
            .bind(u.last_used)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn insert_post(&self, p: &Post) -> StoreResult<i64> {
        insert_post_on(&mut *self.pool.acquire().await?, p).await
    }

    async fn set_post_guid(&self, id: i64, guid: &str) -> StoreResult<()> {
        sqlx::query("UPDATE post SET guid = ? WHERE id = ? AND guid = ''")
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
            "SELECT id FROM post WHERE post_type = ? AND status = 'future' AND date <= ?",
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
             WHERE post_type = ? AND status = 'future' AND date <= ? RETURNING id",
        )
        .bind(post_type)
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn create_post(&self, post: &NewPostWrite) -> StoreResult<i64> {
        self.writer.create_post(post.clone()).await
    }

    async fn post_by_id(&self, id: i64) -> StoreResult<Option<Post>> {
        let row = sqlx::query("SELECT * FROM post WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(post_from_row).transpose()?)
    }

    async fn query_posts(&self, q: &PostQuery) -> StoreResult<(Vec<Post>, i64)> {
        // Built from fixed fragments and placeholders only; every value is bound.
        let (filter, binds) = post_filter(q);
        let (order_sql, order_binds) = post_order(q);
        let count_sql = format!("SELECT COUNT(*) FROM post WHERE {filter}");
        // The page's ids first, then their rows: the sort (a temporary B-tree whenever the
        // statuses or the order rule out the index) then holds ids and sort keys rather
        // than whole posts, so deep pages of long posts do not spill it to disk.
        let page_sql = format!(
            "SELECT * FROM post WHERE id IN \
             (SELECT id FROM post WHERE {filter} ORDER BY {order_sql} LIMIT ? OFFSET ?) \
             ORDER BY {order_sql}"
        );
        let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql));
        let mut page = sqlx::query(sqlx::AssertSqlSafe(page_sql));
        for b in &binds {
            count = match b {
                Bind::Int(i) => count.bind(*i),
                Bind::Text(t) => count.bind(t.clone()),
            };
        }
        for b in binds.iter().chain(order_binds.iter()) {
            page = match b {
                Bind::Int(i) => page.bind(*i),
                Bind::Text(t) => page.bind(t.clone()),
            };
        }
        let total = count.fetch_one(&self.pool).await?;
        page = page.bind(q.limit).bind(q.offset);
        for b in &order_binds {
            page = match b {
                Bind::Int(i) => page.bind(*i),
                Bind::Text(t) => page.bind(t.clone()),
            };
        }
        let rows = page.fetch_all(&self.pool).await?;
        let posts = rows.iter().map(post_from_row).collect::<Result<_, _>>()?;
        Ok((posts, total))
    }

    async fn update_post(&self, p: &Post) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE post SET post_type = ?, status = ?, author = ?, title = ?, content = ?, excerpt = ?, \
             slug = ?, password = ?, parent = ?, menu_order = ?, comment_status = ?, ping_status = ?, \
             date = ?, date_floating = ?, modified = ?, pre_trash_status = ?, mime_type = ?, \
             featured_media = ?, post_format = ?, title_fold = ?, excerpt_fold = ?, content_fold = ? \
             WHERE id = ?",
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
        .bind(p.id)
        .execute(&self.pool)
        .await
        .map_err(map_write_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_post(&self, id: i64) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM postmeta WHERE post_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM term_relationship WHERE post_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM comment WHERE post_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM post WHERE id = ?")
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
        Ok(sqlx::query_as::<_, (i64, String, String)>(
            "SELECT post_id, meta_key, meta_value FROM postmeta \
             WHERE post_id IN (SELECT value FROM json_each(?)) ORDER BY id",
        )
        .bind(json_array(post_ids))
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
            "SELECT id, meta_key, meta_value FROM postmeta WHERE post_id = ? ORDER BY meta_key, id",
        )
        .bind(post_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn post_meta_by_id(&self, meta_id: i64) -> StoreResult<Option<(i64, String, String)>> {
        Ok(
            sqlx::query_as("SELECT post_id, meta_key, meta_value FROM postmeta WHERE id = ?")
                .bind(meta_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn add_post_meta(&self, post_id: i64, key: &str, value: &str) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO postmeta (post_id, meta_key, meta_value) VALUES (?, ?, ?) RETURNING id",
        )
        .bind(post_id)
        .bind(key)
        .bind(value)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn update_post_meta_by_id(&self, meta_id: i64, value: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE postmeta SET meta_value = ? WHERE id = ?")
            .bind(value)
            .bind(meta_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_post_meta_by_id(&self, meta_id: i64) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM postmeta WHERE id = ?")
            .bind(meta_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn clear_featured_media(&self, attachment_id: i64) -> StoreResult<()> {
        sqlx::query("UPDATE post SET featured_media = 0 WHERE featured_media = ?")
            .bind(attachment_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn slug_exists(&self, post_type: &str, slug: &str, except_id: i64) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM post WHERE post_type = ? AND slug = ? AND id != ?",
        )
        .bind(post_type)
        .bind(slug)
        .bind(except_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    async fn insert_comment(&self, c: &Comment) -> StoreResult<i64> {
        insert_comment_on(&mut *self.pool.acquire().await?, c).await
    }

    async fn comment_by_id(&self, id: i64) -> StoreResult<Option<Comment>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COMMENT_COLUMNS} FROM comment WHERE id = ?"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(comment_from_row).transpose()?)
    }

    async fn query_comments(&self, q: &CommentQuery) -> StoreResult<(Vec<Comment>, i64)> {
        let mut sql = CommentSql::new(Dialect::Sqlite);
        let filter = sql.filter(q);
        let n_filter = sql.binds.len();
        let order = sql.order(q);
        let count_sql = format!("SELECT COUNT(*) FROM comment WHERE {filter}");
        let page_sql = format!(
            "SELECT {COMMENT_COLUMNS} FROM comment WHERE {filter} ORDER BY {order} LIMIT ? OFFSET ?"
        );
        let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql));
        for b in &sql.binds[..n_filter] {
            count = match sqlite_bind(b) {
                Bind::Int(i) => count.bind(i),
                Bind::Text(t) => count.bind(t),
            };
        }
        let mut page = sqlx::query(sqlx::AssertSqlSafe(page_sql));
        for b in &sql.binds {
            page = match sqlite_bind(b) {
                Bind::Int(i) => page.bind(i),
                Bind::Text(t) => page.bind(t),
            };
        }
        let total = count.fetch_one(&self.pool).await?;
        let rows = page
            .bind(q.limit)
            .bind(q.offset)
            .fetch_all(&self.pool)
            .await?;
        let comments = rows
            .iter()
            .map(comment_from_row)
            .collect::<Result<_, _>>()?;
        Ok((comments, total))
    }

    async fn update_comment(&self, c: &Comment) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE comment SET post_id = ?, author_name = ?, author_email = ?, author_url = ?, \
             author_ip = ?, date = ?, content = ?, approved = ?, agent = ?, comment_type = ?, \
             parent = ?, user_id = ?, pre_trash_status = ?, pre_post_trash_status = ? WHERE id = ?",
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
        let parent: Option<i64> = sqlx::query_scalar("SELECT parent FROM comment WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(parent) = parent else {
            return Ok(false);
        };
        sqlx::query("UPDATE comment SET parent = ? WHERE parent = ?")
            .bind(parent)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM comment WHERE id = ?")
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
             AND parent IN (SELECT value FROM json_each(?))",
        )
        .bind(json_array(ids))
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
            "SELECT id FROM comment WHERE post_id = ? AND parent = ? AND approved != 'trash' \
             AND author_name = ? AND (? = '' OR author_email = ?) AND content = ? LIMIT 1",
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
                "SELECT MAX(date) FROM comment WHERE date >= ? AND (user_id = ? OR author_email = ?)",
            )
            .bind(since)
            .bind(user)
        } else {
            sqlx::query_scalar(
                "SELECT MAX(date) FROM comment WHERE date >= ? AND (author_ip = ? OR author_email = ?)",
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
                    "SELECT id FROM comment WHERE user_id = ? AND approved = '1' LIMIT 1",
                )
                .bind(uid)
                .fetch_optional(&self.pool)
                .await?
            }
            None => {
                sqlx::query_scalar(
                    "SELECT id FROM comment WHERE author_name = ? AND author_email = ? \
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
             WHERE post_id = ? AND approved <> 'post-trashed'",
        )
        .bind(post_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn set_option(&self, name: &str, value: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO option (name, value) VALUES (?, ?) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
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
             VALUES (?, ?, ?, ?, ?, ?, NULLIF(?, 0)) RETURNING id",
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
            "UPDATE term SET name = ?, slug = ?, description = ?, parent = ?, name_fold = ? WHERE id = ?",
        )
        .bind(&t.name)
        .bind(&t.slug)
        .bind(&t.description)
        .bind(t.parent)
        .bind(fold(&t.name))
        .bind(t.id)
        .execute(&self.pool)
        .await
        .map_err(map_write_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_term(&self, id: i64) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE term SET parent = (SELECT parent FROM term WHERE id = ?) WHERE parent = ?",
        )
        .bind(id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM term_relationship WHERE term_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM term WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn term_by_id(&self, id: i64) -> StoreResult<Option<Term>> {
        let sql = format!("SELECT {TERM_COLUMNS} FROM term WHERE id = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(term_from_row).transpose()?)
    }

    async fn query_terms(&self, q: &TermQuery) -> StoreResult<(Vec<Term>, i64)> {
        // Built from fixed fragments and placeholders only; every value is bound.
        let mut filter = String::from("taxonomy = ?");
        let mut binds = vec![Bind::Text(q.taxonomy.clone())];
        if !q.other_taxonomies.is_empty() {
            filter = String::from("(taxonomy = ? OR taxonomy IN (SELECT value FROM json_each(?)))");
            binds.push(json_list(&q.other_taxonomies));
        }
        push_in(&mut filter, &mut binds, " AND id IN", &q.include);
        push_in(&mut filter, &mut binds, " AND id NOT IN", &q.exclude);
        push_in(&mut filter, &mut binds, " AND slug IN", &q.slugs);
        if let Some(p) = q.parent {
            filter.push_str(" AND parent = ?");
            binds.push(Bind::Int(p));
        }
        if let Some(p) = q.post {
            filter.push_str(" AND id IN (SELECT term_id FROM term_relationship WHERE post_id = ?)");
            binds.push(Bind::Int(p));
        }
        if let Some(term) = &q.search {
            // `(t.name LIKE %s) OR (t.slug LIKE %s)`, as the collation compares.
            filter
                .push_str(" AND (name_fold LIKE ? ESCAPE '\\' OR lower(slug) LIKE ? ESCAPE '\\')");
            binds.push(Bind::Text(contains_pattern(term)));
            binds.push(Bind::Text(plain_contains_pattern(term)));
        }
        if q.hide_empty {
            filter.push_str(&format!(" AND {TERM_COUNT} > 0"));
        }
        let dir = if q.ascending { "ASC" } else { "DESC" };
        let mut order_binds = vec![];
        let order = match q.orderby {
            TermOrderBy::Include if !q.include.is_empty() => {
                order_binds.push(json_list(&q.include));
                position_order("term.id", q.include.len())
            }
            TermOrderBy::IncludeSlugs if !q.slugs.is_empty() => {
                order_binds.push(json_list(&q.slugs));
                position_order("term.slug", q.slugs.len())
            }
            TermOrderBy::Id => format!("id {dir}"),
            TermOrderBy::Slug => format!("slug {dir}, id {dir}"),
            TermOrderBy::Description => format!("description COLLATE NOCASE {dir}, id {dir}"),
            TermOrderBy::Count => format!("{TERM_COUNT} {dir}, id {dir}"),
            _ => format!("name_fold {dir}, id {dir}"),
        };
        let count_sql = format!("SELECT COUNT(*) FROM term WHERE {filter}");
        let page_sql = format!(
            "SELECT {TERM_COLUMNS} FROM term WHERE {filter} ORDER BY {order} LIMIT ? OFFSET ?"
        );
        let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql));
        let mut page = sqlx::query(sqlx::AssertSqlSafe(page_sql));
        for b in &binds {
            count = match b {
                Bind::Int(i) => count.bind(*i),
                Bind::Text(t) => count.bind(t.clone()),
            };
        }
        for b in binds.iter().chain(order_binds.iter()) {
            page = match b {
                Bind::Int(i) => page.bind(*i),
                Bind::Text(t) => page.bind(t.clone()),
            };
        }
        let total = count.fetch_one(&self.pool).await?;
        let rows = page
            .bind(q.limit)
            .bind(q.offset)
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
            "SELECT id FROM term WHERE taxonomy = ? AND name = ? COLLATE NOCASE AND id != ? \
             AND (? IS NULL OR parent = ?) ORDER BY id LIMIT 1",
        )
        .bind(taxonomy)
        .bind(name)
        .bind(except_id)
        .bind(parent)
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
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM term WHERE taxonomy = ? AND slug = ? AND id != ?",
        )
        .bind(taxonomy)
        .bind(slug)
        .bind(except_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    async fn children_summary(
        &self,
        post_type: &str,
        parents: &[i64],
    ) -> StoreResult<Vec<(i64, i64, i64)>> {
        if parents.is_empty() {
            return Ok(vec![]);
        }
        Ok(sqlx::query_as::<_, (i64, i64, i64)>(
            "SELECT c.parent, COUNT(*), (SELECT n.id FROM post n WHERE n.post_type = c.post_type \
             AND n.parent = c.parent ORDER BY n.date DESC, n.id DESC LIMIT 1) \
             FROM post c WHERE c.post_type = ? AND c.parent IN (SELECT value FROM json_each(?)) \
             GROUP BY c.parent",
        )
        .bind(post_type)
        .bind(json_array(parents))
        .fetch_all(&self.pool)
        .await?)
    }

    async fn post_terms(&self, post_ids: &[i64]) -> StoreResult<Vec<(i64, i64, String)>> {
        if post_ids.is_empty() {
            return Ok(vec![]);
        }
        Ok(sqlx::query_as::<_, (i64, i64, String)>(
            "SELECT r.post_id, r.term_id, t.taxonomy FROM term_relationship r \
             JOIN term t ON t.id = r.term_id WHERE r.post_id IN (SELECT value FROM json_each(?)) \
             ORDER BY t.name COLLATE NOCASE, t.id",
        )
        .bind(json_array(post_ids))
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

    async fn import_map(&self, source: &str, kind: &str) -> StoreResult<Vec<(i64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT old_id, new_id FROM import_map WHERE source = ? AND kind = ? ORDER BY old_id",
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

    async fn get_option(&self, name: &str) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM option WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn used_post_formats(&self) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT post_format FROM post WHERE post_format != '' ORDER BY post_format",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn delete_option(&self, name: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM option WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn add_option(&self, name: &str, value: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO option (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
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
             VALUES (?, ?, ?, ?, ?, ?, ?)",
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
             FROM session_token WHERE verifier = ?",
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
        let done = sqlx::query("DELETE FROM session_token WHERE verifier = ?")
            .bind(verifier)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_user_sessions(&self, user_id: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM session_token WHERE user_id = ?")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM session_token WHERE expiration < ?")
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
        // IMMEDIATE takes the write lock before the last hash is read: another writer (a CLI
        // command, a second connection) waits for the commit instead of forking the chain.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
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
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    "INSERT INTO webhook_outbox (hook, audit_id, event, payload, next_at) VALUES (?, ?, ?, ?, ?)",
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
        let mut cond = String::from("1 = 1");
        if q.user_id.is_some() {
            cond.push_str(" AND user_id = ?");
        }
        if !q.events.is_empty() {
            cond.push_str(" AND event IN (");
            cond.push_str(&vec!["?"; q.events.len()].join(", "));
            cond.push(')');
        }
        if q.since.is_some() {
            cond.push_str(" AND at >= ?");
        }
        if q.before.is_some() {
            cond.push_str(" AND at < ?");
        }
        macro_rules! bind_all {
            ($query:expr) => {{
                let mut query = $query;
                if let Some(u) = q.user_id {
                    query = query.bind(u);
                }
                for e in &q.events {
                    query = query.bind(e);
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
            "SELECT {} FROM audit_log WHERE {cond} ORDER BY id DESC LIMIT ? OFFSET ?",
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
            "SELECT {} FROM audit_log WHERE id > ? ORDER BY id LIMIT ?",
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // Rows are pruned as a prefix of the chain: up to the newest old row, so that what
        // is kept is contiguous and starts right after the anchor.
        let last: Option<(i64, String)> = sqlx::query_as(
            "SELECT id, hash FROM audit_log WHERE id <= (SELECT MAX(id) FROM audit_log WHERE at < ?) \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(before)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((last_id, hash)) = last else {
            return Ok(0);
        };
        let done = sqlx::query("DELETE FROM audit_log WHERE id <= ?")
            .bind(last_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO audit_anchor (one, last_id, hash) VALUES (1, ?, ?) \
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
            "INSERT INTO application_password_seen (uuid, kind, value, first_seen) VALUES (?, ?, ?, ?) \
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
        let rows: Vec<(i64, String, i64, String, String, i64)> = sqlx::query_as(
            "UPDATE webhook_outbox SET next_at = ? WHERE id IN \
             (SELECT id FROM webhook_outbox WHERE next_at <= ? ORDER BY id LIMIT ?) \
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
        sqlx::query("DELETE FROM webhook_outbox WHERE id = ?")
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
            "UPDATE webhook_outbox SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?",
        )
        .bind(attempts)
        .bind(next_at)
        .bind(error)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    /// A query through the pool, and the database file still the one this store opened:
    /// a file removed or replaced underneath (a volume unmounted, a restore into the
    /// live dir) would be served from the open descriptors until the next start.
    async fn ready(&self) -> Result<(), String> {
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

fn comment_from_row(row: &SqliteRow) -> Result<Comment, sqlx::Error> {
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

/// A shared comment-query value as SQLite binds it (lists as one JSON array).
fn sqlite_bind(b: &SqlBind) -> Bind {
    match b {
        SqlBind::Int(i) => Bind::Int(*i),
        SqlBind::Text(t) => Bind::Text(t.clone()),
        SqlBind::Ints(v) => json_list(v),
        SqlBind::Texts(v) => json_list(v),
    }
}

enum Bind {
    Int(i64),
    Text(String),
}

/// A list of values as one JSON array parameter, read back with `json_each`: SQLite allows
/// at most 32,766 parameters per statement, and WordPress's lists (`include`, `exclude`,
/// `slug`, …) have no length limit, so one parameter per item would fail on long lists.
fn json_array<T: serde::Serialize>(values: &[T]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned())
}

fn json_list<T: serde::Serialize>(values: &[T]) -> Bind {
    Bind::Text(json_array(values))
}

/// `{sql} (…values…)`, e.g. `AND id IN (…)`; nothing for an empty list (no condition).
fn push_in<T: serde::Serialize>(
    filter: &mut String,
    binds: &mut Vec<Bind>,
    sql: &str,
    values: &[T],
) {
    if values.is_empty() {
        return;
    }
    filter.push_str(sql);
    filter.push_str(" (SELECT value FROM json_each(?))");
    binds.push(json_list(values));
}

/// The WHERE clause of a user query and its values, in order.
fn user_filter(q: &UserQuery) -> (String, Vec<Bind>) {
    use crate::store::UserSearchColumn as C;
    let mut filter = String::from("1 = 1");
    let mut binds = vec![];
    push_in(&mut filter, &mut binds, " AND id IN", &q.include);
    push_in(&mut filter, &mut binds, " AND id NOT IN", &q.exclude);
    push_in(&mut filter, &mut binds, " AND nicename IN", &q.nicenames);
    for set in &q.role_sets {
        if set.is_empty() {
            filter.push_str(" AND 0 = 1");
            continue;
        }
        // `roles` is a space-separated list: match whole words.
        filter.push_str(
            " AND EXISTS (SELECT 1 FROM json_each(?) r WHERE (' ' || roles || ' ') LIKE r.value)",
        );
        let patterns: Vec<String> = set.iter().map(|r| format!("% {} %", r.as_str())).collect();
        binds.push(json_list(&patterns));
    }
    if let Some((term, columns)) = &q.search {
        let mut alternatives = vec![];
        for c in columns {
            let col = match c {
                C::Id => {
                    if let Ok(n) = term.trim().parse::<i64>() {
                        alternatives.push("id = ?".to_owned());
                        binds.push(Bind::Int(n));
                    }
                    continue;
                }
                C::Login => "lower(login)",
                C::Nicename => "lower(nicename)",
                C::Email => "lower(email)",
                C::Url => "lower(url)",
                C::DisplayName => "display_name_fold",
            };
            alternatives.push(format!("{col} LIKE ? ESCAPE '\\'"));
            binds.push(Bind::Text(if *c == C::DisplayName {
                contains_pattern(term)
            } else {
                plain_contains_pattern(term)
            }));
        }
        if alternatives.is_empty() {
            filter.push_str(" AND 0 = 1");
        } else {
            filter.push_str(&format!(" AND ({})", alternatives.join(" OR ")));
        }
    }
    if let Some(types) = &q.has_published_posts {
        if types.is_empty() {
            filter.push_str(" AND 0 = 1");
        } else {
            filter.push_str(
                " AND EXISTS (SELECT 1 FROM post WHERE post.author = user.id AND post.status = 'publish' \
                 AND post.post_type IN (SELECT value FROM json_each(?)))",
            );
            binds.push(json_list(types));
        }
    }
    (filter, binds)
}

/// The ORDER BY clause of a user query; ties broken by id in the same direction.
fn user_order(q: &UserQuery) -> (String, Vec<Bind>) {
    use crate::store::UserOrderBy as O;
    let dir = if q.ascending { "ASC" } else { "DESC" };
    match q.orderby {
        O::Include if !q.include.is_empty() => (
            position_order("user.id", q.include.len()),
            vec![json_list(&q.include)],
        ),
        O::IncludeSlugs if !q.nicenames.is_empty() => (
            position_order("user.nicename", q.nicenames.len()),
            vec![json_list(&q.nicenames)],
        ),
        O::Id => (format!("id {dir}"), vec![]),
        O::Registered => (format!("registered {dir}, id {dir}"), vec![]),
        other => {
            let col = match other {
                O::Name => "display_name_fold",
                O::Slug => "nicename COLLATE NOCASE",
                O::Email => "email COLLATE NOCASE",
                O::Url => "url COLLATE NOCASE",
                _ => "login COLLATE NOCASE",
            };
            (format!("{col} {dir}, id {dir}"), vec![])
        }
    }
}

/// The WHERE clause of a post query and its values, in order.
async fn insert_post_on(conn: &mut sqlx::SqliteConnection, p: &Post) -> StoreResult<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO post (post_type, status, author, title, content, excerpt, slug, password, parent, \
         menu_order, comment_status, ping_status, date, date_floating, modified, pre_trash_status, \
         mime_type, featured_media, post_format, title_fold, excerpt_fold, content_fold, guid, id) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, 0)) RETURNING id",
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

async fn set_post_meta_on(
    conn: &mut sqlx::SqliteConnection,
    post_id: i64,
    key: &str,
    values: &[String],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM postmeta WHERE post_id = ? AND meta_key = ?")
        .bind(post_id)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    add_post_meta_on(conn, post_id, key, values).await
}

async fn add_post_meta_on(
    conn: &mut sqlx::SqliteConnection,
    post_id: i64,
    key: &str,
    values: &[String],
) -> StoreResult<()> {
    for v in values {
        sqlx::query("INSERT INTO postmeta (post_id, meta_key, meta_value) VALUES (?, ?, ?)")
            .bind(post_id)
            .bind(key)
            .bind(v)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn set_post_terms_on(
    conn: &mut sqlx::SqliteConnection,
    post_id: i64,
    taxonomy: &str,
    term_ids: &[i64],
) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM term_relationship WHERE post_id = ? \
         AND term_id IN (SELECT id FROM term WHERE taxonomy = ?)",
    )
    .bind(post_id)
    .bind(taxonomy)
    .execute(&mut *conn)
    .await?;
    add_post_terms_on(conn, post_id, taxonomy, term_ids).await
}

async fn add_post_terms_on(
    conn: &mut sqlx::SqliteConnection,
    post_id: i64,
    taxonomy: &str,
    term_ids: &[i64],
) -> StoreResult<()> {
    if term_ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT OR IGNORE INTO term_relationship (post_id, term_id) \
         SELECT ?, id FROM term WHERE id IN (SELECT value FROM json_each(?)) AND taxonomy = ?",
    )
    .bind(post_id)
    .bind(json_array(term_ids))
    .bind(taxonomy)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn create_post_on(
    conn: &mut sqlx::SqliteConnection,
    post: &NewPostWrite,
) -> StoreResult<i64> {
    let id = insert_post_on(conn, &post.post).await?;
    // An id the database has just chosen was never used before (AUTOINCREMENT): no meta or
    // term rows name it, so there is nothing to replace, only rows to add.
    let fresh = post.post.id == 0;
    if let Some(prefix) = &post.guid_id_prefix {
        sqlx::query("UPDATE post SET guid = ? WHERE id = ?")
            .bind(format!("{prefix}{id}"))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    for (key, values) in &post.meta {
        if fresh {
            add_post_meta_on(conn, id, key, values).await?;
        } else {
            set_post_meta_on(conn, id, key, values).await?;
        }
    }
    for (taxonomy, ids) in &post.terms {
        if fresh {
            add_post_terms_on(conn, id, taxonomy, ids).await?;
        } else {
            set_post_terms_on(conn, id, taxonomy, ids).await?;
        }
    }
    if let Some(key) = &post.import {
        set_import_map_on(conn, key, id).await?;
    }
    for (key, comment) in &post.comments {
        let mut c = comment.clone();
        c.post_id = id;
        let cid = insert_comment_on(conn, &c).await?;
        set_import_map_on(conn, key, cid).await?;
    }
    Ok(id)
}

async fn insert_comment_on(conn: &mut sqlx::SqliteConnection, c: &Comment) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO comment (post_id, author_name, author_email, author_url, author_ip, date, \
         content, approved, agent, comment_type, parent, user_id, pre_trash_status, \
         pre_post_trash_status, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, 0)) RETURNING id",
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
    conn: &mut sqlx::SqliteConnection,
    key: &ImportKey,
    new_id: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO import_map (source, kind, old_id, new_id) VALUES (?, ?, ?, ?) \
         ON CONFLICT (source, kind, old_id) DO UPDATE SET new_id = excluded.new_id",
    )
    .bind(&key.source)
    .bind(key.kind)
    .bind(key.old_id)
    .bind(new_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
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
        conn: sqlx::SqliteConnection,
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
    mut conn: sqlx::SqliteConnection,
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
    conn: &mut sqlx::SqliteConnection,
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
            match create_post_on(conn, &job.post).await {
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
    conn: &mut sqlx::SqliteConnection,
    batch: &[CreateJob],
    results: &mut Vec<StoreResult<i64>>,
) -> Result<(), sqlx::Error> {
    for job in batch {
        sqlx::query("SAVEPOINT create_post")
            .execute(&mut *conn)
            .await?;
        let result = create_post_on(conn, &job.post).await;
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

fn post_filter(q: &PostQuery) -> (String, Vec<Bind>) {
    let mut filter = String::from("post_type = ?");
    let mut binds = vec![Bind::Text(q.post_type.clone())];
    if !q.other_post_types.is_empty() {
        filter = String::from("(post_type = ? OR post_type IN (SELECT value FROM json_each(?)))");
        binds.push(json_list(&q.other_post_types));
    }
    push_in(&mut filter, &mut binds, " AND status IN", &q.statuses);
    push_in(&mut filter, &mut binds, " AND author IN", &q.authors);
    push_in(
        &mut filter,
        &mut binds,
        " AND author NOT IN",
        &q.authors_exclude,
    );
    push_in(&mut filter, &mut binds, " AND id IN", &q.include);
    push_in(&mut filter, &mut binds, " AND id NOT IN", &q.exclude);
    push_in(&mut filter, &mut binds, " AND parent IN", &q.parents);
    push_in(
        &mut filter,
        &mut binds,
        " AND parent NOT IN",
        &q.parents_exclude,
    );
    push_in(&mut filter, &mut binds, " AND slug IN", &q.slugs);
    push_in(&mut filter, &mut binds, " AND mime_type IN", &q.mime_types);
    push_in(&mut filter, &mut binds, " AND post_format IN", &q.formats);
    if let Some(m) = q.menu_order {
        filter.push_str(" AND menu_order = ?");
        binds.push(Bind::Int(m));
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
            // parse_search(): `(title LIKE t OR excerpt LIKE t OR content LIKE t)`, or for
            // `-t`, `NOT LIKE` joined by AND.
            let (op, joiner) = if clause.exclude {
                ("NOT LIKE", " AND ")
            } else {
                ("LIKE", " OR ")
            };
            let mut parts: Vec<String> = columns
                .iter()
                .map(|c| format!("{c} {op} ? ESCAPE '\\'"))
                .collect();
            binds.extend(columns.iter().map(|_| Bind::Text(clause.pattern.clone())));
            if search.attachment_file {
                let not = if clause.exclude { "NOT " } else { "" };
                parts.push(format!(
                    "{not}EXISTS (SELECT 1 FROM postmeta WHERE postmeta.post_id = post.id \
                     AND meta_key = '_wp_attached_file' AND lower(meta_value) LIKE ? ESCAPE '\\')"
                ));
                binds.push(Bind::Text(clause.file_pattern.clone()));
            }
            filter.push_str(&format!(" AND ({})", parts.join(joiner)));
        }
        if q.search_skips_protected {
            filter.push_str(" AND password = ''");
        }
    }
    let tax: Vec<String> = q
        .tax_query
        .iter()
        .map(|clause| {
            binds.push(Bind::Text(clause.taxonomy.clone()));
            binds.push(json_list(&clause.terms));
            let terms = "SELECT id FROM term WHERE taxonomy = ? \
                         AND id IN (SELECT value FROM json_each(?))";
            match clause.operator {
                TaxOperator::In => format!(
                    "id IN (SELECT post_id FROM term_relationship WHERE term_id IN ({terms}))"
                ),
                TaxOperator::NotIn => format!(
                    "id NOT IN (SELECT post_id FROM term_relationship WHERE term_id IN ({terms}))"
                ),
                // Every listed term exists in the taxonomy and the post has each of them.
                TaxOperator::And => {
                    binds.push(Bind::Text(clause.taxonomy.clone()));
                    binds.push(json_list(&clause.terms));
                    let n = distinct_count(&clause.terms);
                    format!(
                        "(SELECT COUNT(*) FROM ({terms})) = {n} AND (SELECT COUNT(*) FROM \
                         term_relationship r WHERE r.post_id = post.id AND r.term_id IN ({terms})) = {n}"
                    )
                }
            }
        })
        .collect();
    if !tax.is_empty() {
        let joiner = if q.tax_or { " OR " } else { " AND " };
        filter.push_str(&format!(" AND (({}))", tax.join(&format!("){joiner}("))));
    }
    for (sql, bound) in [
        (" AND date > ?", q.after),
        (" AND date < ?", q.before),
        (" AND modified > ?", q.modified_after),
        (" AND modified < ?", q.modified_before),
    ] {
        if let Some(v) = bound {
            filter.push_str(sql);
            binds.push(Bind::Int(v));
        }
    }
    (filter, binds)
}

/// The ORDER BY clause; ties broken by id in the same direction, as MySQL's order is
/// stable enough for WordPress's tests only with it.
fn post_order(q: &PostQuery) -> (String, Vec<Bind>) {
    let (order, mut binds) = post_own_order(q);
    let Some(relevance) = q.search.as_ref().and_then(|s| s.relevance.as_ref()) else {
        return (order, binds);
    };
    let mut rel_binds = vec![];
    let rank = match relevance {
        RelevanceOrder::Single(t) => {
            rel_binds.push(Bind::Text(t.clone()));
            "(title_fold LIKE ? ESCAPE '\\') DESC".to_owned()
        }
        RelevanceOrder::Cases {
            sentence,
            title_terms,
        } => {
            let like = |n: usize| vec!["title_fold LIKE ? ESCAPE '\\'"; n];
            let mut cases = String::from("(CASE ");
            if let Some(s) = sentence {
                cases.push_str("WHEN title_fold LIKE ? ESCAPE '\\' THEN 1 ");
                rel_binds.push(Bind::Text(s.clone()));
            }
            if !title_terms.is_empty() {
                cases.push_str(&format!(
                    "WHEN {} THEN 2 ",
                    like(title_terms.len()).join(" AND ")
                ));
                rel_binds.extend(title_terms.iter().map(|t| Bind::Text(t.clone())));
                if title_terms.len() > 1 {
                    cases.push_str(&format!(
                        "WHEN {} THEN 3 ",
                        like(title_terms.len()).join(" OR ")
                    ));
                    rel_binds.extend(title_terms.iter().map(|t| Bind::Text(t.clone())));
                }
            }
            if let Some(s) = sentence {
                cases.push_str(
                    "WHEN excerpt_fold LIKE ? ESCAPE '\\' THEN 4 \
                     WHEN content_fold LIKE ? ESCAPE '\\' THEN 5 ",
                );
                rel_binds.push(Bind::Text(s.clone()));
                rel_binds.push(Bind::Text(s.clone()));
            }
            cases.push_str("ELSE 6 END) ASC");
            cases
        }
    };
    rel_binds.append(&mut binds);
    (format!("{rank}, {order}"), rel_binds)
}

/// The query's own `orderby`, after the relevance of a search.
fn post_own_order(q: &PostQuery) -> (String, Vec<Bind>) {
    use crate::store::PostOrderBy as O;
    let dir = if q.ascending { "ASC" } else { "DESC" };
    match q.orderby {
        O::Include if !q.include.is_empty() => (
            position_order("post.id", q.include.len()),
            vec![json_list(&q.include)],
        ),
        O::IncludeSlugs if !q.slugs.is_empty() => (
            position_order("post.slug", q.slugs.len()),
            vec![json_list(&q.slugs)],
        ),
        other => {
            let col = match other {
                O::Id => "id",
                O::Title => "title_fold",
                O::Slug => "slug",
                O::Modified => "modified",
                O::MenuOrder => "menu_order",
                O::Parent => "parent",
                O::Author => "author",
                _ => "date",
            };
            (format!("{col} {dir}, id {dir}"), vec![])
        }
    }
}

/// Fills the `*_fold` columns of rows written before migration 0010, a bounded batch at a
/// time (the folding is Rust code: `crate::search::fold`).
async fn backfill_folds(pool: &SqlitePool) -> StoreResult<()> {
    const BATCH: i64 = 256;
    let version: Option<String> = sqlx::query_scalar("SELECT value FROM option WHERE name = ?")
        .bind(FOLD_VERSION_OPTION)
        .fetch_optional(pool)
        .await?;
    let current = version.as_deref() == Some(FOLD_VERSION);
    if !current {
        // First start after migration 0010, or `fold` changed since: fold every row again.
        sqlx::raw_sql(
            r#"UPDATE post SET title_fold = NULL, excerpt_fold = NULL, content_fold = NULL;
               UPDATE term SET name_fold = NULL;
               UPDATE user SET display_name_fold = NULL;"#,
        )
        .execute(pool)
        .await?;
    }
    loop {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT id, title, excerpt, content FROM post WHERE title_fold IS NULL \
             OR excerpt_fold IS NULL OR content_fold IS NULL LIMIT ?",
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
                "UPDATE post SET title_fold = ?, excerpt_fold = ?, content_fold = ? WHERE id = ?",
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
            "SELECT id, name FROM term WHERE name_fold IS NULL LIMIT ?",
            "UPDATE term SET name_fold = ? WHERE id = ?",
        ),
        (
            "SELECT id, display_name FROM user WHERE display_name_fold IS NULL LIMIT ?",
            "UPDATE user SET display_name_fold = ? WHERE id = ?",
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
            "INSERT INTO option (name, value) VALUES (?, ?) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(FOLD_VERSION_OPTION)
        .bind(FOLD_VERSION)
        .execute(pool)
        .await?;
    }
    Ok(())
}

/// How many different values.
fn distinct_count(values: &[i64]) -> usize {
    values
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len()
}

/// Position in a given list (MySQL's `FIELD()`, which `orderby=include` uses): the first
/// index of the value in the JSON array bound for it, values not in it last. `col` names its
/// table: `json_each` has columns of its own (`id`, `key`, `value`, …).
fn position_order(col: &str, n: usize) -> String {
    format!("COALESCE((SELECT MIN(key) FROM json_each(?) WHERE value = {col}), {n}) ASC")
}

fn audit_row(r: &SqliteRow) -> Result<AuditEntry, sqlx::Error> {
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
