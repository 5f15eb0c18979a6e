//! Every query of the `Store`, written once for both engines: `Store` is implemented for any
//! `Engine`, and the engine files (`sqlite.rs`, `postgres.rs`) hold only what truly differs
//! (connecting, binding, error mapping, locking, the SQLite group commit, the PostgreSQL
//! data version). SQL fragments that differ come from `Dialect`.

use async_trait::async_trait;
use sqlx::{Database, Pool, Transaction};
use uuid::Uuid;

use super::comment::COMMENT_COLUMNS;
use super::sql::{Conn, Dialect, QuerySql, SqlBind, Stmt, stmt};
use super::*;
use crate::search::{FOLD_VERSION, FOLD_VERSION_OPTION, fold};

const USER_COLUMNS: &str = "id, login, email, nicename, display_name, first_name, last_name, nickname, \
     description, url, locale, roles, pass_hash, registered";
const APP_PASSWORD_COLUMNS: &str = "uuid, user_id, app_id, name, created, last_used, last_ip, last_user_agent, expires, scopes, prev_valid_until";
const POST_COLUMNS: &str = "id, post_type, status, author, title, content, excerpt, slug, password, \
     parent, menu_order, comment_status, ping_status, date, date_floating, modified, pre_trash_status, \
     mime_type, featured_media, post_format, guid";
const SESSION_COLUMNS: &str = "verifier, user_id, expiration, login, ip, user_agent, pass_frag";

/// `id, …, count` of a term, the count as `sql::TERM_COUNT` computes it.
fn term_columns() -> String {
    format!(
        "id, taxonomy, name, slug, description, parent, {} AS count",
        sql::TERM_COUNT
    )
}

/// What an engine provides to the shared queries, and the behaviour only it has.
#[async_trait]
pub trait Engine: Send + Sync + 'static {
    type Db: Database<Connection: Conn>;

    fn db_pool(&self) -> &Pool<Self::Db>;

    /// `Store::data_version`.
    fn engine_data_version(&self) -> Option<DataVersion> {
        None
    }

    /// `Store::only_own_post_writes`.
    fn engine_only_own_post_writes(&self, _from: &DataVersion, _to: &DataVersion) -> bool {
        false
    }

    /// `Store::current_data_version`.
    async fn engine_current_data_version(&self) -> Option<DataVersion> {
        self.engine_data_version()
    }

    /// `Store::create_post`: by default one transaction.
    async fn write_post(&self, post: &NewPostWrite) -> StoreResult<i64> {
        let mut tx = self.db_pool().begin().await?;
        let id = create_post_on(&mut *tx, post).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// `Store::record_app_password_usage`.
    async fn write_usage(&self, usage: &[AppPasswordUsage]) -> StoreResult<()>;

    /// A transaction holding the audit chain's write lock, so that concurrent writers, in
    /// this process or another, never fork the chain.
    async fn begin_audit_chain(&self) -> StoreResult<Transaction<'static, Self::Db>>;

    /// Whether this transaction may run the idle-token sweep (instances sharing a database
    /// take turns).
    async fn lock_idle_sweep(&self, _tx: &mut Transaction<'static, Self::Db>) -> StoreResult<bool> {
        Ok(true)
    }

    /// `Store::sync_id_sequences`.
    async fn sync_ids(&self) -> StoreResult<()> {
        Ok(())
    }

    /// `Store::close`.
    async fn shut_down(&self) {
        self.db_pool().close().await;
    }

    /// `Store::ready`.
    async fn check_ready(&self) -> Result<(), String>;
}

/// Binds `$1` login … `$12` pass_hash, `$13` the folded display name of a `User` or
/// `NewUser`.
macro_rules! bind_user {
    ($s:expr, $u:expr) => {
        $s.bind(&$u.login)
            .bind(&$u.email)
            .bind(&$u.nicename)
            .bind(&$u.display_name)
            .bind(&$u.first_name)
            .bind(&$u.last_name)
            .bind(&$u.nickname)
            .bind(&$u.description)
            .bind(&$u.url)
            .bind(&$u.locale)
            .bind(roles_to_string(&$u.roles))
            .bind(&$u.pass_hash)
            .bind(fold(&$u.display_name))
    };
}

fn dialect<E: Engine>() -> Dialect {
    <<E::Db as Database>::Connection as Conn>::DIALECT
}

/// `SELECT EXISTS (…)`.
async fn exists<C: Conn + ?Sized>(c: &mut C, s: Stmt) -> StoreResult<bool> {
    c.val::<bool>(s).await
}

#[async_trait]
impl<E: Engine> Store for E {
    fn data_version(&self) -> Option<DataVersion> {
        self.engine_data_version()
    }

    async fn current_data_version(&self) -> Option<DataVersion> {
        self.engine_current_data_version().await
    }

    fn only_own_post_writes(&self, from: &DataVersion, to: &DataVersion) -> bool {
        self.engine_only_own_post_writes(from, to)
    }

    async fn count_users(&self) -> StoreResult<i64> {
        let mut c = self.db_pool().acquire().await?;
        c.val(stmt(r#"SELECT COUNT(*) FROM "user""#)).await
    }

    async fn create_user(&self, u: NewUser) -> StoreResult<User> {
        let sql = format!(
            r#"INSERT INTO "user" (login, email, nicename, display_name, first_name, last_name, nickname,
             description, url, locale, roles, pass_hash, display_name_fold, registered, id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, {}) RETURNING id"#,
            dialect::<E>().new_id("\"user\"", "$15")
        );
        let s = bind_user!(stmt(sql), u).bind(u.registered).bind(u.id);
        let id: i64 = self.db_pool().acquire().await?.val(s.conflicts()).await?;
        self.user_by_id(id)
            .await?
            .ok_or_else(|| StoreError::Other("user vanished after insert".into()))
    }

    async fn user_by_id(&self, id: i64) -> StoreResult<Option<User>> {
        let mut c = self.db_pool().acquire().await?;
        let sql = format!(r#"SELECT {USER_COLUMNS} FROM "user" WHERE id = $1"#);
        c.opt(stmt(sql).bind(id)).await
    }

    async fn user_by_login(&self, login: &str) -> StoreResult<Option<User>> {
        user_where(self, &dialect::<E>().eq_nocase("login", "$1"), login).await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        user_where(self, &dialect::<E>().eq_nocase("email", "$1"), email).await
    }

    async fn nicename_exists(&self, nicename: &str) -> StoreResult<bool> {
        let mut c = self.db_pool().acquire().await?;
        let sql = r#"SELECT EXISTS (SELECT 1 FROM "user" WHERE nicename = $1)"#;
        exists(&mut *c, stmt(sql).bind(nicename)).await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let mut c = self.db_pool().acquire().await?;
        let sql = format!(r#"SELECT {USER_COLUMNS} FROM "user" ORDER BY id"#);
        c.all(stmt(sql)).await
    }

    async fn query_users(&self, q: &UserQuery) -> StoreResult<(Vec<User>, i64)> {
        let mut sql = QuerySql::new(dialect::<E>());
        let filter = sql.user_filter(q);
        let count =
            stmt(format!(r#"SELECT COUNT(*) FROM "user" WHERE {filter}"#)).bind_all(&sql.binds);
        let order = sql.user_order(q);
        let limit = sql.push(SqlBind::Int(q.limit));
        let offset = sql.push(SqlBind::Int(q.offset));
        let page = stmt(format!(
            r#"SELECT {USER_COLUMNS} FROM "user" WHERE {filter} ORDER BY {order} LIMIT {limit} OFFSET {offset}"#
        ))
        .bind_all(&sql.binds);
        let mut c = self.db_pool().acquire().await?;
        let total = c.val(count).await?;
        Ok((c.all(page).await?, total))
    }

    async fn update_user(&self, u: &User) -> StoreResult<bool> {
        let sql = r#"UPDATE "user" SET login = $1, email = $2, nicename = $3, display_name = $4,
             first_name = $5, last_name = $6, nickname = $7, description = $8, url = $9,
             locale = $10, roles = $11, pass_hash = $12, display_name_fold = $13 WHERE id = $14"#;
        let s = bind_user!(stmt(sql), u).bind(u.id);
        let mut c = self.db_pool().acquire().await?;
        Ok(c.run(s.conflicts()).await? > 0)
    }

    async fn delete_user(
        &self,
        id: i64,
        reassign: Option<i64>,
        delete_types: &[String],
        now: i64,
    ) -> StoreResult<Option<DeletedUser>> {
        let d = dialect::<E>();
        let mut tx = self.db_pool().begin().await?;
        // PostgreSQL locks the row: a concurrent deletion of the same user waits, then finds
        // nothing.
        let sql = format!(r#"SELECT id FROM "user" WHERE id = $1{}"#, d.for_update());
        if tx.opt::<(i64,)>(stmt(sql).bind(id)).await?.is_none() {
            return Ok(None);
        }
        let uuids: Vec<String> = tx
            .col(
                stmt("DELETE FROM application_password WHERE user_id = $1 RETURNING uuid").bind(id),
            )
            .await?;
        let mut trashed_posts = vec![];
        let mut deleted_posts = vec![];
        if let Some(to) = reassign {
            tx.run(
                stmt("UPDATE post SET author = $1 WHERE author = $2")
                    .bind(to)
                    .bind(id),
            )
            .await?;
        } else {
            // The suffix test ignores ASCII case, as SQLite's LIKE.
            let sql = format!(
                "UPDATE post SET pre_trash_status = status, status = 'trash', modified = $1, \
                 slug = CASE WHEN {} LIKE '%\\_\\_trashed' ESCAPE '\\' THEN slug ELSE slug || '__trashed' END \
                 WHERE author = $2 AND post_type IN ('post', 'page') AND status <> 'trash' RETURNING id",
                d.lower("slug")
            );
            trashed_posts = tx.col(stmt(sql).bind(now).bind(id)).await?;
            trashed_posts.sort_unstable();
            // `wp_trash_post()` trashes the post's comments with it.
            let sql = format!(
                "UPDATE comment SET pre_post_trash_status = approved, approved = 'post-trashed' \
                 WHERE {}",
                d.member("post_id", false, "$1")
            );
            tx.run(stmt(sql).bind(trashed_posts.as_slice())).await?;
            for post_type in delete_types {
                let doomed: Vec<(i64, i64)> = tx
                    .all(
                        stmt("SELECT id, parent FROM post WHERE author = $1 AND post_type = $2 ORDER BY id")
                            .bind(id)
                            .bind(post_type),
                    )
                    .await?;
                for (post_id, parent) in doomed {
                    tx.run(
                        stmt("UPDATE post SET parent = $1 WHERE parent = $2")
                            .bind(parent)
                            .bind(post_id),
                    )
                    .await?;
                    for sql in [
                        "DELETE FROM postmeta WHERE post_id = $1",
                        "DELETE FROM comment WHERE post_id = $1",
                        "DELETE FROM post WHERE id = $1",
                    ] {
                        tx.run(stmt(sql).bind(post_id)).await?;
                    }
                    deleted_posts.push(post_id);
                }
            }
        }
        tx.run(stmt(r#"DELETE FROM "user" WHERE id = $1"#).bind(id))
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
        let mut c = self.db_pool().acquire().await?;
        c.run(
            stmt(
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
            .conflicts(),
        )
        .await?;
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
        // Insertion order: SQLite's rowid, PostgreSQL's identity column.
        let seq = match dialect::<E>() {
            Dialect::Sqlite => "rowid",
            Dialect::Postgres => "seq",
        };
        let sql = format!(
            "SELECT {APP_PASSWORD_COLUMNS} FROM application_password WHERE user_id = $1 ORDER BY created, {seq}"
        );
        let mut c = self.db_pool().acquire().await?;
        c.all(stmt(sql).bind(user_id)).await
    }

    async fn app_password_by_hash(&self, hash: &str) -> StoreResult<Option<(AppPassword, String)>> {
        let sql = format!(
            "SELECT {APP_PASSWORD_COLUMNS}, password_hash, prev_password_hash FROM application_password \
             WHERE password_hash = $1 OR prev_password_hash = $1"
        );
        let mut c = self.db_pool().acquire().await?;
        let Some(row) = c.opt::<HashedAppPassword>(stmt(sql).bind(hash)).await? else {
            return Ok(None);
        };
        let mut item = row.item;
        if row.password_hash == hash {
            // The current secret is not limited by a rotation's grace.
            item.prev_valid_until = None;
            return Ok(Some((item, row.password_hash)));
        }
        // A previous secret without a grace end is never valid.
        item.prev_valid_until = Some(item.prev_valid_until.unwrap_or(0));
        Ok(row.prev_password_hash.map(|p| (item, p)))
    }

    async fn delete_app_password(&self, user_id: i64, uuid: Uuid) -> StoreResult<bool> {
        let sql = "DELETE FROM application_password WHERE user_id = $1 AND uuid = $2";
        let mut c = self.db_pool().acquire().await?;
        Ok(c.run(stmt(sql).bind(user_id).bind(uuid.to_string()))
            .await?
            > 0)
    }

    async fn rename_app_password(&self, user_id: i64, uuid: Uuid, name: &str) -> StoreResult<bool> {
        let sql = "UPDATE application_password SET name = $1 WHERE user_id = $2 AND uuid = $3";
        let s = stmt(sql).bind(name).bind(user_id).bind(uuid.to_string());
        let mut c = self.db_pool().acquire().await?;
        Ok(c.run(s.conflicts()).await? > 0)
    }

    async fn delete_all_app_passwords(&self, user_id: i64) -> StoreResult<u64> {
        let sql = "DELETE FROM application_password WHERE user_id = $1";
        let mut c = self.db_pool().acquire().await?;
        c.run(stmt(sql).bind(user_id)).await
    }

    async fn set_app_password_limits(
        &self,
        user_id: i64,
        uuid: Uuid,
        expires: Option<i64>,
        scopes: Option<&str>,
    ) -> StoreResult<bool> {
        // A new expiry is warned about again (`token.expiring`).
        let sql = "UPDATE application_password SET expires = $1, scopes = $2, \
             expiry_warned = CASE WHEN expires IS NOT DISTINCT FROM $1 THEN expiry_warned ELSE 0 END \
             WHERE user_id = $3 AND uuid = $4";
        let s = stmt(sql)
            .bind(expires)
            .bind(scopes)
            .bind(user_id)
            .bind(uuid.to_string());
        let mut c = self.db_pool().acquire().await?;
        Ok(c.run(s).await? > 0)
    }

    async fn rotate_app_password(
        &self,
        user_id: i64,
        uuid: Uuid,
        password_hash: &str,
        prev_valid_until: Option<i64>,
    ) -> StoreResult<bool> {
        // The old hash is kept only while it has a grace period.
        let sql = "UPDATE application_password SET \
             prev_password_hash = CASE WHEN $1 IS NULL THEN NULL ELSE password_hash END, \
             prev_valid_until = $2, password_hash = $3 \
             WHERE user_id = $4 AND uuid = $5";
        let s = stmt(sql)
            .bind(prev_valid_until)
            .bind(prev_valid_until)
            .bind(password_hash)
            .bind(user_id)
            .bind(uuid.to_string());
        let mut c = self.db_pool().acquire().await?;
        Ok(c.run(s.conflicts()).await? > 0)
    }

    async fn claim_expiring_app_passwords(
        &self,
        after: i64,
        until: i64,
        limit: i64,
    ) -> StoreResult<Vec<AppPassword>> {
        // `expiry_warned = 0` again in the outer condition: an instance that waited for
        // another's row lock re-checks it and skips what the other claimed.
        let sql = format!(
            "UPDATE application_password SET expiry_warned = 1 WHERE expiry_warned = 0 AND uuid IN \
             (SELECT uuid FROM application_password WHERE expires IS NOT NULL AND expiry_warned = 0 \
             AND expires > $1 AND expires <= $2 ORDER BY expires LIMIT $3) RETURNING {APP_PASSWORD_COLUMNS}",
        );
        let mut c = self.db_pool().acquire().await?;
        c.all(stmt(sql).bind(after).bind(until).bind(limit)).await
    }

    async fn revoke_unused_app_passwords(
        &self,
        cutoff: i64,
        limit: i64,
    ) -> StoreResult<Vec<(i64, Uuid)>> {
        let mut tx = self.db_pool().begin().await?;
        if !self.lock_idle_sweep(&mut tx).await? {
            return Ok(Vec::new());
        }
        let rows: Vec<(i64, String)> = tx
            .all(
                stmt(
                    "DELETE FROM application_password WHERE uuid IN (SELECT uuid FROM application_password \
                     WHERE coalesce(last_used, created) < $1 ORDER BY coalesce(last_used, created) LIMIT $2) \
                     RETURNING user_id, uuid",
                )
                .bind(cutoff)
                .bind(limit),
            )
            .await?;
        tx.commit().await?;
        rows.into_iter()
            .map(|(user_id, uuid)| -> StoreResult<(i64, Uuid)> {
                let uuid = Uuid::parse_str(&uuid).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
                Ok((user_id, uuid))
            })
            .collect()
    }

    async fn record_app_password_usage(&self, usage: &[AppPasswordUsage]) -> StoreResult<()> {
        if usage.is_empty() {
            return Ok(());
        }
        self.write_usage(usage).await
    }

    async fn insert_post(&self, p: &Post) -> StoreResult<i64> {
        insert_post_on(&mut *self.db_pool().acquire().await?, p).await
    }

    async fn set_post_guid(&self, id: i64, guid: &str) -> StoreResult<()> {
        let sql = "UPDATE post SET guid = $1 WHERE id = $2 AND guid = ''";
        let mut c = self.db_pool().acquire().await?;
        c.run(stmt(sql).bind(guid).bind(id)).await?;
        Ok(())
    }

    async fn publish_due_posts(&self, post_type: &str, now: i64) -> StoreResult<Vec<i64>> {
        let mut c = self.db_pool().acquire().await?;
        // Read first (on the index): the check runs every second and should not take the
        // write lock when nothing is due, which is nearly always.
        let due: Vec<i64> = c
            .col(
                stmt(
                    "SELECT id FROM post WHERE post_type = $1 AND status = 'future' AND date <= $2",
                )
                .bind(post_type)
                .bind(now),
            )
            .await?;
        if due.is_empty() {
            return Ok(due);
        }
        c.col(
            stmt(
                "UPDATE post SET status = 'publish' \
                 WHERE post_type = $1 AND status = 'future' AND date <= $2 RETURNING id",
            )
            .bind(post_type)
            .bind(now),
        )
        .await
    }

    async fn create_post(&self, post: &NewPostWrite) -> StoreResult<i64> {
        self.write_post(post).await
    }

    async fn post_by_id(&self, id: i64) -> StoreResult<Option<Post>> {
        let mut c = self.db_pool().acquire().await?;
        let sql = format!("SELECT {POST_COLUMNS} FROM post WHERE id = $1");
        c.opt(stmt(sql).bind(id)).await
    }

    async fn query_posts(&self, q: &PostQuery) -> StoreResult<(Vec<Post>, i64)> {
        let mut sql = QuerySql::new(dialect::<E>());
        let filter = sql.post_filter(q);
        let count = stmt(format!("SELECT COUNT(*) FROM post WHERE {filter}")).bind_all(&sql.binds);
        let order = sql.post_order(q);
        let limit = sql.push(SqlBind::Int(q.limit));
        let offset = sql.push(SqlBind::Int(q.offset));
        let page = match sql.dialect {
            // The page's ids first, then their rows: the sort (a temporary B-tree whenever the
            // statuses or the order rule out the index) then holds ids and sort keys rather
            // than whole posts, so deep pages of long posts do not spill it to disk.
            Dialect::Sqlite => format!(
                "SELECT {POST_COLUMNS} FROM post WHERE id IN \
                 (SELECT id FROM post WHERE {filter} ORDER BY {order} LIMIT {limit} OFFSET {offset}) \
                 ORDER BY {order}"
            ),
            Dialect::Postgres => format!(
                "SELECT {POST_COLUMNS} FROM post WHERE {filter} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
            ),
        };
        let mut c = self.db_pool().acquire().await?;
        let total = c.val(count).await?;
        Ok((c.all(stmt(page).bind_all(&sql.binds)).await?, total))
    }

    async fn used_post_formats(&self) -> StoreResult<Vec<String>> {
        let sql =
            "SELECT DISTINCT post_format FROM post WHERE post_format <> '' ORDER BY post_format";
        let mut c = self.db_pool().acquire().await?;
        c.col(stmt(sql)).await
    }

    async fn update_post(&self, p: &Post) -> StoreResult<bool> {
        let s = stmt(
            "UPDATE post SET post_type = $1, status = $2, author = $3, title = $4, content = $5, \
             excerpt = $6, slug = $7, password = $8, parent = $9, menu_order = $10, \
             comment_status = $11, ping_status = $12, date = $13, date_floating = $14, \
             modified = $15, pre_trash_status = $16, mime_type = $17, featured_media = $18, \
             post_format = $19, title_fold = $20, excerpt_fold = $21, content_fold = $22 \
             WHERE id = $23",
        );
        let s = bind_post(s, p).bind(p.id).conflicts();
        let mut c = self.db_pool().acquire().await?;
        Ok(c.run(s).await? > 0)
    }

    async fn delete_post(&self, id: i64) -> StoreResult<bool> {
        let mut tx = self.db_pool().begin().await?;
        for sql in [
            "DELETE FROM postmeta WHERE post_id = $1",
            "DELETE FROM term_relationship WHERE post_id = $1",
            "DELETE FROM comment WHERE post_id = $1",
        ] {
            tx.run(stmt(sql).bind(id)).await?;
        }
        let done = tx
            .run(stmt("DELETE FROM post WHERE id = $1").bind(id))
            .await?;
        tx.commit().await?;
        Ok(done > 0)
    }

    async fn post_meta(&self, post_ids: &[i64]) -> StoreResult<Vec<(i64, String, String)>> {
        if post_ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT post_id, meta_key, meta_value FROM postmeta WHERE {} ORDER BY id",
            dialect::<E>().member("post_id", false, "$1")
        );
        let mut c = self.db_pool().acquire().await?;
        c.all(stmt(sql).bind(post_ids)).await
    }

    async fn set_post_meta(&self, post_id: i64, key: &str, values: &[String]) -> StoreResult<()> {
        let mut tx = self.db_pool().begin().await?;
        set_post_meta_on(&mut *tx, post_id, key, values).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn post_meta_rows(&self, post_id: i64) -> StoreResult<Vec<(i64, String, String)>> {
        let sql = "SELECT id, meta_key, meta_value FROM postmeta WHERE post_id = $1 ORDER BY meta_key, id";
        let mut c = self.db_pool().acquire().await?;
        c.all(stmt(sql).bind(post_id)).await
    }

    async fn post_meta_by_id(&self, meta_id: i64) -> StoreResult<Option<(i64, String, String)>> {
        let sql = "SELECT post_id, meta_key, meta_value FROM postmeta WHERE id = $1";
        let mut c = self.db_pool().acquire().await?;
        c.opt(stmt(sql).bind(meta_id)).await
    }

    async fn add_post_meta(&self, post_id: i64, key: &str, value: &str) -> StoreResult<i64> {
        let sql =
            "INSERT INTO postmeta (post_id, meta_key, meta_value) VALUES ($1, $2, $3) RETURNING id";
        let mut c = self.db_pool().acquire().await?;
        c.val(stmt(sql).bind(post_id).bind(key).bind(value)).await
    }

    async fn update_post_meta_by_id(&self, meta_id: i64, value: &str) -> StoreResult<bool> {
        let sql = "UPDATE postmeta SET meta_value = $1 WHERE id = $2";
        let mut c = self.db_pool().acquire().await?;
        Ok(c.run(stmt(sql).bind(value).bind(meta_id)).await? > 0)
    }

    async fn delete_post_meta_by_id(&self, meta_id: i64) -> StoreResult<bool> {
        let sql = "DELETE FROM postmeta WHERE id = $1";
        let mut c = self.db_pool().acquire().await?;
        Ok(c.run(stmt(sql).bind(meta_id)).await? > 0)
    }

    async fn clear_featured_media(&self, attachment_id: i64) -> StoreResult<()> {
        let sql = "UPDATE post SET featured_media = 0 WHERE featured_media = $1";
        let mut c = self.db_pool().acquire().await?;
        c.run(stmt(sql).bind(attachment_id)).await?;
        Ok(())
    }

    async fn slug_exists(&self, post_type: &str, slug: &str, except_id: i64) -> StoreResult<bool> {
        let sql =
            "SELECT EXISTS (SELECT 1 FROM post WHERE post_type = $1 AND slug = $2 AND id <> $3)";
        let s = stmt(sql).bind(post_type).bind(slug).bind(except_id);
        exists(&mut *self.db_pool().acquire().await?, s).await
    }

    async fn insert_term(&self, t: &Term) -> StoreResult<i64> {
        let sql = format!(
            "INSERT INTO term (taxonomy, name, slug, description, parent, name_fold, id) \
             VALUES ($1, $2, $3, $4, $5, $6, {}) RETURNING id",
            dialect::<E>().new_id("term", "$7")
        );
        let s = stmt(sql)
            .bind(&t.taxonomy)
            .bind(&t.name)
            .bind(&t.slug)
            .bind(&t.description)
            .bind(t.parent)
            .bind(fold(&t.name))
            .bind(t.id);
        let mut c = self.db_pool().acquire().await?;
        c.val(s.conflicts()).await
    }

    async fn update_term(&self, t: &Term) -> StoreResult<bool> {
        let sql = "UPDATE term SET name = $1, slug = $2, description = $3, parent = $4, name_fold = $5 \
             WHERE id = $6";
        let s = stmt(sql)
            .bind(&t.name)
            .bind(&t.slug)
            .bind(&t.description)
            .bind(t.parent)
            .bind(fold(&t.name))
            .bind(t.id);
        let mut c = self.db_pool().acquire().await?;
        Ok(c.run(s.conflicts()).await? > 0)
    }

    async fn delete_term(&self, id: i64) -> StoreResult<bool> {
        let mut tx = self.db_pool().begin().await?;
        for sql in [
            "UPDATE term SET parent = (SELECT parent FROM term WHERE id = $1) WHERE parent = $1",
            "DELETE FROM term_relationship WHERE term_id = $1",
        ] {
            tx.run(stmt(sql).bind(id)).await?;
        }
        let done = tx
            .run(stmt("DELETE FROM term WHERE id = $1").bind(id))
            .await?;
        tx.commit().await?;
        Ok(done > 0)
    }

    async fn term_by_id(&self, id: i64) -> StoreResult<Option<Term>> {
        let sql = format!("SELECT {} FROM term WHERE id = $1", term_columns());
        let mut c = self.db_pool().acquire().await?;
        c.opt(stmt(sql).bind(id)).await
    }

    async fn query_terms(&self, q: &TermQuery) -> StoreResult<(Vec<Term>, i64)> {
        let mut sql = QuerySql::new(dialect::<E>());
        let filter = sql.term_filter(q);
        let count = stmt(format!("SELECT COUNT(*) FROM term WHERE {filter}")).bind_all(&sql.binds);
        let order = sql.term_order(q);
        let limit = sql.push(SqlBind::Int(q.limit));
        let offset = sql.push(SqlBind::Int(q.offset));
        let page = stmt(format!(
            "SELECT {} FROM term WHERE {filter} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
            term_columns()
        ))
        .bind_all(&sql.binds);
        let mut c = self.db_pool().acquire().await?;
        let total = c.val(count).await?;
        Ok((c.all(page).await?, total))
    }

    async fn term_named(
        &self,
        taxonomy: &str,
        name: &str,
        parent: Option<i64>,
        except_id: i64,
    ) -> StoreResult<Option<i64>> {
        let sql = format!(
            "SELECT id FROM term WHERE taxonomy = $1 AND {} AND id <> $3 \
             AND ($4 IS NULL OR parent = $4) ORDER BY id LIMIT 1",
            dialect::<E>().eq_nocase("name", "$2")
        );
        let s = stmt(sql)
            .bind(taxonomy)
            .bind(name)
            .bind(except_id)
            .bind(parent);
        let mut c = self.db_pool().acquire().await?;
        Ok(c.opt::<(i64,)>(s).await?.map(|(id,)| id))
    }

    async fn term_slug_exists(
        &self,
        taxonomy: &str,
        slug: &str,
        except_id: i64,
    ) -> StoreResult<bool> {
        let sql =
            "SELECT EXISTS (SELECT 1 FROM term WHERE taxonomy = $1 AND slug = $2 AND id <> $3)";
        let s = stmt(sql).bind(taxonomy).bind(slug).bind(except_id);
        exists(&mut *self.db_pool().acquire().await?, s).await
    }

    async fn children_summary(
        &self,
        post_type: &str,
        parents: &[i64],
    ) -> StoreResult<Vec<(i64, i64, i64)>> {
        if parents.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT c.parent, COUNT(*), (SELECT n.id FROM post n WHERE n.post_type = c.post_type \
             AND n.parent = c.parent ORDER BY n.date DESC, n.id DESC LIMIT 1) \
             FROM post c WHERE c.post_type = $1 AND {} GROUP BY c.parent, c.post_type",
            dialect::<E>().member("c.parent", false, "$2")
        );
        let mut c = self.db_pool().acquire().await?;
        c.all(stmt(sql).bind(post_type).bind(parents)).await
    }

    async fn post_terms(&self, post_ids: &[i64]) -> StoreResult<Vec<(i64, i64, String)>> {
        if post_ids.is_empty() {
            return Ok(vec![]);
        }
        let d = dialect::<E>();
        let sql = format!(
            "SELECT r.post_id, r.term_id, t.taxonomy FROM term_relationship r \
             JOIN term t ON t.id = r.term_id WHERE {} ORDER BY {}, t.id",
            d.member("r.post_id", false, "$1"),
            d.nocase("t.name")
        );
        let mut c = self.db_pool().acquire().await?;
        c.all(stmt(sql).bind(post_ids)).await
    }

    async fn set_post_terms(
        &self,
        post_id: i64,
        taxonomy: &str,
        term_ids: &[i64],
    ) -> StoreResult<()> {
        let mut tx = self.db_pool().begin().await?;
        set_post_terms_on(&mut *tx, post_id, taxonomy, term_ids).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn insert_comment(&self, c: &Comment) -> StoreResult<i64> {
        insert_comment_on(&mut *self.db_pool().acquire().await?, c).await
    }

    async fn comment_by_id(&self, id: i64) -> StoreResult<Option<Comment>> {
        let sql = format!("SELECT {COMMENT_COLUMNS} FROM comment WHERE id = $1");
        let mut c = self.db_pool().acquire().await?;
        c.opt(stmt(sql).bind(id)).await
    }

    async fn query_comments(&self, q: &CommentQuery) -> StoreResult<(Vec<Comment>, i64)> {
        let mut sql = QuerySql::new(dialect::<E>());
        let filter = sql.comment_filter(q);
        let count =
            stmt(format!("SELECT COUNT(*) FROM comment WHERE {filter}")).bind_all(&sql.binds);
        let order = sql.comment_order(q);
        let limit = sql.push(SqlBind::Int(q.limit));
        let offset = sql.push(SqlBind::Int(q.offset));
        let page = stmt(format!(
            "SELECT {COMMENT_COLUMNS} FROM comment WHERE {filter} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
        ))
        .bind_all(&sql.binds);
        let mut c = self.db_pool().acquire().await?;
        let total = c.val(count).await?;
        Ok((c.all(page).await?, total))
    }

    async fn update_comment(&self, c: &Comment) -> StoreResult<bool> {
        let s = stmt(
            "UPDATE comment SET post_id = $1, author_name = $2, author_email = $3, author_url = $4, \
             author_ip = $5, date = $6, content = $7, approved = $8, agent = $9, comment_type = $10, \
             parent = $11, user_id = $12, pre_trash_status = $13, pre_post_trash_status = $14 WHERE id = $15",
        );
        let s = bind_comment(s, c).bind(c.id);
        let mut conn = self.db_pool().acquire().await?;
        Ok(conn.run(s).await? > 0)
    }

    async fn delete_comment(&self, id: i64) -> StoreResult<bool> {
        let mut tx = self.db_pool().begin().await?;
        let parent: Option<(i64,)> = tx
            .opt(stmt("SELECT parent FROM comment WHERE id = $1").bind(id))
            .await?;
        let Some((parent,)) = parent else {
            return Ok(false);
        };
        tx.run(
            stmt("UPDATE comment SET parent = $1 WHERE parent = $2")
                .bind(parent)
                .bind(id),
        )
        .await?;
        tx.run(stmt("DELETE FROM comment WHERE id = $1").bind(id))
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn comments_with_children(&self, ids: &[i64]) -> StoreResult<Vec<i64>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT DISTINCT parent FROM comment WHERE approved IN ('0', '1') AND {}",
            dialect::<E>().member("parent", false, "$1")
        );
        let mut c = self.db_pool().acquire().await?;
        c.col(stmt(sql).bind(ids)).await
    }

    async fn comment_duplicate(
        &self,
        post_id: i64,
        parent: i64,
        author: &str,
        email: &str,
        content: &str,
    ) -> StoreResult<bool> {
        let s = stmt(
            "SELECT id FROM comment WHERE post_id = $1 AND parent = $2 AND approved <> 'trash' \
             AND author_name = $3 AND ($4 = '' OR author_email = $4) AND content = $5 LIMIT 1",
        )
        .bind(post_id)
        .bind(parent)
        .bind(author)
        .bind(email)
        .bind(content);
        let mut c = self.db_pool().acquire().await?;
        Ok(c.opt::<(i64,)>(s).await?.is_some())
    }

    async fn last_comment_date(
        &self,
        since: i64,
        by_user: Option<i64>,
        ip: &str,
        email: &str,
    ) -> StoreResult<Option<i64>> {
        let s = if let Some(user) = by_user {
            stmt("SELECT MAX(date) FROM comment WHERE date >= $1 AND (user_id = $2 OR author_email = $3)")
                .bind(since)
                .bind(user)
        } else {
            stmt("SELECT MAX(date) FROM comment WHERE date >= $1 AND (author_ip = $2 OR author_email = $3)")
                .bind(since)
                .bind(ip)
        };
        let mut c = self.db_pool().acquire().await?;
        c.val(s.bind(email)).await
    }

    async fn has_approved_comment(
        &self,
        user_id: Option<i64>,
        author: &str,
        email: &str,
    ) -> StoreResult<bool> {
        let s = match user_id {
            Some(uid) => {
                stmt("SELECT id FROM comment WHERE user_id = $1 AND approved = '1' LIMIT 1")
                    .bind(uid)
            }
            None => stmt(
                "SELECT id FROM comment WHERE author_name = $1 AND author_email = $2 \
                 AND approved = '1' LIMIT 1",
            )
            .bind(author)
            .bind(email),
        };
        let mut c = self.db_pool().acquire().await?;
        Ok(c.opt::<(i64,)>(s).await?.is_some())
    }

    async fn trash_post_comments(&self, post_id: i64) -> StoreResult<()> {
        let sql = "UPDATE comment SET pre_post_trash_status = approved, approved = 'post-trashed' \
             WHERE post_id = $1 AND approved <> 'post-trashed'";
        let mut c = self.db_pool().acquire().await?;
        c.run(stmt(sql).bind(post_id)).await?;
        Ok(())
    }

    async fn import_map(&self, source: &str, kind: &str) -> StoreResult<Vec<(i64, i64)>> {
        let sql =
            "SELECT old_id, new_id FROM import_map WHERE source = $1 AND kind = $2 ORDER BY old_id";
        let mut c = self.db_pool().acquire().await?;
        c.all(stmt(sql).bind(source).bind(kind)).await
    }

    async fn set_import_map(&self, key: &ImportKey, new_id: i64) -> StoreResult<()> {
        set_import_map_on(&mut *self.db_pool().acquire().await?, key, new_id).await
    }

    async fn insert_imported_comment(&self, key: &ImportKey, c: &Comment) -> StoreResult<i64> {
        let mut tx = self.db_pool().begin().await?;
        let id = insert_comment_on(&mut *tx, c).await?;
        set_import_map_on(&mut *tx, key, id).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn sync_id_sequences(&self) -> StoreResult<()> {
        self.sync_ids().await
    }

    async fn get_option(&self, name: &str) -> StoreResult<Option<String>> {
        let mut c = self.db_pool().acquire().await?;
        get_option_on(&mut *c, name).await
    }

    async fn set_option(&self, name: &str, value: &str) -> StoreResult<()> {
        let mut c = self.db_pool().acquire().await?;
        set_option_on(&mut *c, name, value).await
    }

    async fn delete_option(&self, name: &str) -> StoreResult<()> {
        let mut c = self.db_pool().acquire().await?;
        c.run(stmt("DELETE FROM option WHERE name = $1").bind(name))
            .await?;
        Ok(())
    }

    async fn add_option(&self, name: &str, value: &str) -> StoreResult<bool> {
        let sql = "INSERT INTO option (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
        let mut c = self.db_pool().acquire().await?;
        Ok(c.run(stmt(sql).bind(name).bind(value)).await? > 0)
    }

    async fn create_session(&self, s: &Session) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO session_token ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        );
        let q = stmt(sql)
            .bind(&s.verifier)
            .bind(s.user_id)
            .bind(s.expiration)
            .bind(s.login)
            .bind(&s.ip)
            .bind(&s.user_agent)
            .bind(&s.pass_frag);
        let mut c = self.db_pool().acquire().await?;
        c.run(q).await?;
        Ok(())
    }

    async fn session_by_verifier(&self, verifier: &str) -> StoreResult<Option<Session>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM session_token WHERE verifier = $1");
        let mut c = self.db_pool().acquire().await?;
        c.opt(stmt(sql).bind(verifier)).await
    }

    async fn delete_session(&self, verifier: &str) -> StoreResult<bool> {
        let sql = "DELETE FROM session_token WHERE verifier = $1";
        let mut c = self.db_pool().acquire().await?;
        Ok(c.run(stmt(sql).bind(verifier)).await? > 0)
    }

    async fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64> {
        let sql = "DELETE FROM session_token WHERE expiration < $1";
        let mut c = self.db_pool().acquire().await?;
        c.run(stmt(sql).bind(now)).await
    }

    async fn delete_user_sessions(&self, user_id: i64) -> StoreResult<u64> {
        let sql = "DELETE FROM session_token WHERE user_id = $1";
        let mut c = self.db_pool().acquire().await?;
        c.run(stmt(sql).bind(user_id)).await
    }

    async fn append_audit(
        &self,
        entries: &[NewAuditEntry],
        now: i64,
    ) -> StoreResult<Vec<AuditEntry>> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_audit_chain().await?;
        let last: Option<(i64, String)> = tx
            .opt(stmt(
                "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1",
            ))
            .await?;
        let last = match last {
            Some(l) => l,
            None => tx
                .opt(stmt("SELECT last_id, hash FROM audit_anchor WHERE one = 1"))
                .await?
                .unwrap_or((0, audit::GENESIS_HASH.to_owned())),
        };
        let rows = audit::chain(entries, last.0, &last.1);
        for (row, new) in rows.iter().zip(entries) {
            tx.run(
                stmt(
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
                .bind(&row.hash),
            )
            .await?;
            for hook in &new.hooks {
                tx.run(
                    stmt(
                        "INSERT INTO webhook_outbox (hook, audit_id, event, payload, next_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(hook)
                    .bind(row.id)
                    .bind(&row.event)
                    .bind(crate::webhooks::payload(row))
                    .bind(now),
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(rows)
    }

    async fn query_audit(&self, q: &AuditQuery) -> StoreResult<(Vec<AuditEntry>, i64)> {
        let mut sql = QuerySql::new(dialect::<E>());
        let mut cond = String::from("1 = 1");
        if let Some(u) = q.user_id {
            cond.push_str(&format!(" AND user_id = {}", sql.push(SqlBind::Int(u))));
        }
        if !q.events.is_empty() {
            let m = sql.member("event", false, SqlBind::Texts(q.events.clone()));
            cond.push_str(&format!(" AND {m}"));
        }
        if let Some(s) = q.since {
            cond.push_str(&format!(" AND at >= {}", sql.push(SqlBind::Int(s))));
        }
        if let Some(b) = q.before {
            cond.push_str(&format!(" AND at < {}", sql.push(SqlBind::Int(b))));
        }
        let count =
            stmt(format!("SELECT COUNT(*) FROM audit_log WHERE {cond}")).bind_all(&sql.binds);
        let limit = sql.push(SqlBind::Int(q.limit));
        let offset = sql.push(SqlBind::Int(q.offset));
        let page = stmt(format!(
            "SELECT {} FROM audit_log WHERE {cond} ORDER BY id DESC LIMIT {limit} OFFSET {offset}",
            audit::AUDIT_COLUMNS
        ))
        .bind_all(&sql.binds);
        let mut c = self.db_pool().acquire().await?;
        let total = c.val(count).await?;
        Ok((c.all(page).await?, total))
    }

    async fn audit_chain(&self, after_id: i64, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let sql = format!(
            "SELECT {} FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2",
            audit::AUDIT_COLUMNS
        );
        let mut c = self.db_pool().acquire().await?;
        c.all(stmt(sql).bind(after_id).bind(limit)).await
    }

    async fn audit_anchor(&self) -> StoreResult<Option<(i64, String)>> {
        let mut c = self.db_pool().acquire().await?;
        c.opt(stmt("SELECT last_id, hash FROM audit_anchor WHERE one = 1"))
            .await
    }

    async fn prune_audit(&self, before: i64) -> StoreResult<u64> {
        let mut tx = self.begin_audit_chain().await?;
        // Rows are pruned as a prefix of the chain: up to the newest old row, so that what
        // is kept is contiguous and starts right after the anchor.
        let last: Option<(i64, String)> = tx
            .opt(
                stmt(
                    "SELECT id, hash FROM audit_log WHERE id <= (SELECT MAX(id) FROM audit_log WHERE at < $1) \
                     ORDER BY id DESC LIMIT 1",
                )
                .bind(before),
            )
            .await?;
        let Some((last_id, hash)) = last else {
            return Ok(0);
        };
        let done = tx
            .run(stmt("DELETE FROM audit_log WHERE id <= $1").bind(last_id))
            .await?;
        tx.run(
            stmt(
                "INSERT INTO audit_anchor (one, last_id, hash) VALUES (1, $1, $2) \
                 ON CONFLICT (one) DO UPDATE SET last_id = excluded.last_id, hash = excluded.hash",
            )
            .bind(last_id)
            .bind(&hash),
        )
        .await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn mark_token_seen(
        &self,
        uuid: Uuid,
        kind: &str,
        value: &str,
        at: i64,
    ) -> StoreResult<bool> {
        let s = stmt(
            "INSERT INTO application_password_seen (uuid, kind, value, first_seen) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(uuid.to_string())
        .bind(kind)
        .bind(value)
        .bind(at);
        let mut c = self.db_pool().acquire().await?;
        Ok(c.run(s).await? > 0)
    }

    async fn claim_webhooks(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<OutboxItem>> {
        // PostgreSQL: SKIP LOCKED, so instances claiming at the same moment take different rows.
        let skip_locked = match dialect::<E>() {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE webhook_outbox SET next_at = $1 WHERE id IN \
             (SELECT id FROM webhook_outbox WHERE next_at <= $2 ORDER BY id LIMIT $3{skip_locked}) \
             RETURNING id, hook, audit_id, event, payload, attempts"
        );
        let mut c = self.db_pool().acquire().await?;
        let mut items: Vec<OutboxItem> = c
            .all(stmt(sql).bind(lease_until).bind(now).bind(limit))
            .await?;
        items.sort_by_key(|i| i.id);
        Ok(items)
    }

    async fn webhook_done(&self, id: i64) -> StoreResult<()> {
        let mut c = self.db_pool().acquire().await?;
        c.run(stmt("DELETE FROM webhook_outbox WHERE id = $1").bind(id))
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
        let sql =
            "UPDATE webhook_outbox SET attempts = $1, next_at = $2, last_error = $3 WHERE id = $4";
        let s = stmt(sql).bind(attempts).bind(next_at).bind(error).bind(id);
        let mut c = self.db_pool().acquire().await?;
        c.run(s).await?;
        Ok(())
    }

    async fn close(&self) {
        self.shut_down().await;
    }

    async fn ready(&self) -> Result<(), String> {
        self.check_ready().await
    }

    fn pool_status(&self) -> Option<PoolStatus> {
        let pool = self.db_pool();
        Some(PoolStatus {
            size: pool.size(),
            idle: pool.num_idle(),
            max: pool.options().get_max_connections(),
        })
    }
}

/// An Application Password row with its hashes (`app_password_by_hash`).
#[derive(sqlx::FromRow)]
struct HashedAppPassword {
    #[sqlx(flatten)]
    item: AppPassword,
    password_hash: String,
    prev_password_hash: Option<String>,
}

/// The user whose row satisfies `cond` with `$1` bound to `value`.
async fn user_where<E: Engine>(e: &E, cond: &str, value: &str) -> StoreResult<Option<User>> {
    let sql = format!(r#"SELECT {USER_COLUMNS} FROM "user" WHERE {cond}"#);
    let mut c = e.db_pool().acquire().await?;
    c.opt(stmt(sql).bind(value)).await
}

fn roles_to_string(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Binds a post's columns in `INSERT`/`UPDATE` order: `$1` post_type … `$19` post_format,
/// `$20`–`$22` the folded title, excerpt and content.
fn bind_post(s: Stmt, p: &Post) -> Stmt {
    s.bind(&p.post_type)
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
}

/// Binds a comment's columns but the id, `$1` post_id … `$14` pre_post_trash_status.
fn bind_comment(s: Stmt, c: &Comment) -> Stmt {
    s.bind(c.post_id)
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
}

pub(super) async fn insert_post_on<C: Conn + ?Sized>(c: &mut C, p: &Post) -> StoreResult<i64> {
    let sql = format!(
        "INSERT INTO post (post_type, status, author, title, content, excerpt, slug, password, parent, \
         menu_order, comment_status, ping_status, date, date_floating, modified, pre_trash_status, \
         mime_type, featured_media, post_format, title_fold, excerpt_fold, content_fold, guid, id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
         $20, $21, $22, $23, {}) RETURNING id",
        C::DIALECT.new_id("post", "$24")
    );
    let s = bind_post(stmt(sql), p).bind(&p.guid).bind(p.id);
    c.val(s.conflicts()).await
}

async fn insert_comment_on<C: Conn + ?Sized>(conn: &mut C, c: &Comment) -> StoreResult<i64> {
    let sql = format!(
        "INSERT INTO comment (post_id, author_name, author_email, author_url, author_ip, date, \
         content, approved, agent, comment_type, parent, user_id, pre_trash_status, \
         pre_post_trash_status, id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, {}) \
         RETURNING id",
        C::DIALECT.new_id("comment", "$15")
    );
    conn.val(bind_comment(stmt(sql), c).bind(c.id)).await
}

async fn set_import_map_on<C: Conn + ?Sized>(
    c: &mut C,
    key: &ImportKey,
    new_id: i64,
) -> StoreResult<()> {
    let s = stmt(
        "INSERT INTO import_map (source, kind, old_id, new_id) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (source, kind, old_id) DO UPDATE SET new_id = excluded.new_id",
    )
    .bind(&key.source)
    .bind(key.kind)
    .bind(key.old_id)
    .bind(new_id);
    c.run(s).await?;
    Ok(())
}

async fn set_post_meta_on<C: Conn + ?Sized>(
    c: &mut C,
    post_id: i64,
    key: &str,
    values: &[String],
) -> StoreResult<()> {
    c.run(
        stmt("DELETE FROM postmeta WHERE post_id = $1 AND meta_key = $2")
            .bind(post_id)
            .bind(key),
    )
    .await?;
    add_post_meta_on(c, post_id, key, values).await
}

async fn add_post_meta_on<C: Conn + ?Sized>(
    c: &mut C,
    post_id: i64,
    key: &str,
    values: &[String],
) -> StoreResult<()> {
    match C::DIALECT {
        Dialect::Sqlite => {
            for v in values {
                let sql =
                    "INSERT INTO postmeta (post_id, meta_key, meta_value) VALUES ($1, $2, $3)";
                c.run(stmt(sql).bind(post_id).bind(key).bind(v)).await?;
            }
        }
        Dialect::Postgres => {
            // One statement; WITH ORDINALITY keeps the values' order in the ids.
            let sql = "INSERT INTO postmeta (post_id, meta_key, meta_value) \
                 SELECT $1, $2, v FROM UNNEST($3::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n";
            c.run(stmt(sql).bind(post_id).bind(key).bind(values))
                .await?;
        }
    }
    Ok(())
}

async fn set_post_terms_on<C: Conn + ?Sized>(
    c: &mut C,
    post_id: i64,
    taxonomy: &str,
    term_ids: &[i64],
) -> StoreResult<()> {
    c.run(
        stmt(
            "DELETE FROM term_relationship WHERE post_id = $1 \
             AND term_id IN (SELECT id FROM term WHERE taxonomy = $2)",
        )
        .bind(post_id)
        .bind(taxonomy),
    )
    .await?;
    add_post_terms_on(c, post_id, taxonomy, term_ids).await
}

async fn add_post_terms_on<C: Conn + ?Sized>(
    c: &mut C,
    post_id: i64,
    taxonomy: &str,
    term_ids: &[i64],
) -> StoreResult<()> {
    if term_ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO term_relationship (post_id, term_id) \
         SELECT $1, id FROM term WHERE {} AND taxonomy = $3 ON CONFLICT DO NOTHING",
        C::DIALECT.member("id", false, "$2")
    );
    c.run(stmt(sql).bind(post_id).bind(term_ids).bind(taxonomy))
        .await?;
    Ok(())
}

/// The entries of `list` whose key comes no later in it, in their order.
fn last_of_each<V>(list: &[(String, V)]) -> Vec<(&str, &V)> {
    let mut seen = std::collections::HashSet::new();
    let mut last: Vec<_> = list
        .iter()
        .rev()
        .filter(|(k, _)| seen.insert(k.as_str()))
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    last.reverse();
    last
}

/// `Store::create_post` on one connection, inside the caller's transaction.
pub(super) async fn create_post_on<C: Conn + ?Sized>(
    c: &mut C,
    post: &NewPostWrite,
) -> StoreResult<i64> {
    let id = insert_post_on(c, &post.post).await?;
    // An id the database has just chosen was never used before (AUTOINCREMENT, or a
    // sequence): no meta or term rows name it, so there is nothing to replace, only rows to add.
    let fresh = post.post.id == 0;
    if let Some(prefix) = &post.guid_id_prefix {
        c.run(
            stmt("UPDATE post SET guid = $1 WHERE id = $2")
                .bind(format!("{prefix}{id}"))
                .bind(id),
        )
        .await?;
    }
    // A later list for the same key replaces an earlier one (the default category, then
    // the request's own list), so a fresh post adds only the last list of each key.
    for (key, values) in last_of_each(&post.meta) {
        if fresh {
            add_post_meta_on(c, id, key, values).await?;
        } else {
            set_post_meta_on(c, id, key, values).await?;
        }
    }
    for (taxonomy, ids) in last_of_each(&post.terms) {
        if fresh {
            add_post_terms_on(c, id, taxonomy, ids).await?;
        } else {
            set_post_terms_on(c, id, taxonomy, ids).await?;
        }
    }
    if let Some(key) = &post.import {
        set_import_map_on(c, key, id).await?;
    }
    for (key, comment) in &post.comments {
        let mut comment = comment.clone();
        comment.post_id = id;
        let cid = insert_comment_on(c, &comment).await?;
        set_import_map_on(c, key, cid).await?;
    }
    Ok(id)
}

async fn get_option_on<C: Conn + ?Sized>(c: &mut C, name: &str) -> StoreResult<Option<String>> {
    let row: Option<(String,)> = c
        .opt(stmt("SELECT value FROM option WHERE name = $1").bind(name))
        .await?;
    Ok(row.map(|(v,)| v))
}

async fn set_option_on<C: Conn + ?Sized>(c: &mut C, name: &str, value: &str) -> StoreResult<()> {
    c.run(
        stmt(
            "INSERT INTO option (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value),
    )
    .await?;
    Ok(())
}

/// Fills the `*_fold` columns of rows written before migration 0010, a bounded batch at a
/// time (the folding is Rust code: `crate::search::fold`). Instances starting together may
/// fill the same rows: they write the same values.
pub(super) async fn backfill_folds<DB: Database<Connection: Conn>>(
    pool: &Pool<DB>,
) -> StoreResult<()> {
    const BATCH: i64 = 256;
    let version = get_option_on(&mut *pool.acquire().await?, FOLD_VERSION_OPTION).await?;
    let current = version.as_deref() == Some(FOLD_VERSION);
    if !current {
        // First start after migration 0010, or `fold` changed since: fold every row again.
        for sql in [
            "UPDATE post SET title_fold = NULL, excerpt_fold = NULL, content_fold = NULL",
            "UPDATE term SET name_fold = NULL",
            r#"UPDATE "user" SET display_name_fold = NULL"#,
        ] {
            pool.acquire().await?.run(stmt(sql)).await?;
        }
    }
    loop {
        let rows: Vec<(i64, String, String, String)> = pool
            .acquire()
            .await?
            .all(
                stmt(
                    "SELECT id, title, excerpt, content FROM post WHERE title_fold IS NULL \
                     OR excerpt_fold IS NULL OR content_fold IS NULL LIMIT $1",
                )
                .bind(BATCH),
            )
            .await?;
        if rows.is_empty() {
            break;
        }
        let mut tx = pool.begin().await?;
        for (id, title, excerpt, content) in rows {
            tx.run(
                stmt("UPDATE post SET title_fold = $1, excerpt_fold = $2, content_fold = $3 WHERE id = $4")
                    .bind(fold(&title))
                    .bind(fold(&excerpt))
                    .bind(fold(&content))
                    .bind(id),
            )
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
                pool.acquire().await?.all(stmt(select).bind(BATCH)).await?;
            if rows.is_empty() {
                break;
            }
            let mut tx = pool.begin().await?;
            for (id, text) in rows {
                tx.run(stmt(update).bind(fold(&text)).bind(id)).await?;
            }
            tx.commit().await?;
        }
    }
    if !current {
        set_option_on(
            &mut *pool.acquire().await?,
            FOLD_VERSION_OPTION,
            FOLD_VERSION,
        )
        .await?;
    }
    Ok(())
}

/// The readiness check's query: every migration this build embeds applied.
pub(super) async fn migrations_ready<DB: Database<Connection: Conn>>(
    pool: &Pool<DB>,
    migrator: &sqlx::migrate::Migrator,
) -> Result<(), String> {
    let unanswered = |e: StoreError| {
        tracing::warn!(error = %e, "readiness check: the database query failed");
        "the database does not answer".to_owned()
    };
    let mut c = pool.acquire().await.map_err(|e| unanswered(e.into()))?;
    let applied: Option<i64> = c
        .val(stmt(
            "SELECT MAX(version) FROM _sqlx_migrations WHERE success",
        ))
        .await
        .map_err(unanswered)?;
    migrations_current(migrator, applied)
}
