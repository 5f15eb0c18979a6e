//! Storage: one `Store` interface, implemented by the embedded SQLite store and, for
//! several instances sharing one database, by the PostgreSQL store. Every query is written
//! once (`queries.rs`, on `sql.rs`'s statements and dialect); `sqlite.rs` and `postgres.rs`
//! hold only what differs between the engines.

pub mod audit;
pub mod comment;
pub mod own_writes;
pub mod pg_version;
pub mod postgres;
mod queries;
mod sql;
pub mod sqlite;

pub use audit::{AuditEntry, AuditQuery, NewAuditEntry, OutboxItem};
pub use comment::{Comment, CommentOrderBy, CommentQuery};

use async_trait::async_trait;
use uuid::Uuid;

use crate::caps::Role;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; the value names what collided.
    #[error("conflict on {0}")]
    Conflict(Conflict),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Other(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    UserLogin,
    UserEmail,
    UserNicename,
    AppPasswordName,
    AppPasswordHash,
    TermSlug,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Conflict::UserLogin => "user login",
            Conflict::UserEmail => "user email",
            Conflict::UserNicename => "user nicename",
            Conflict::AppPasswordName => "application password name",
            Conflict::AppPasswordHash => "application password hash",
            Conflict::TermSlug => "term slug",
        })
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub email: String,
    pub nicename: String,
    pub display_name: String,
    pub first_name: String,
    pub last_name: String,
    pub nickname: String,
    pub description: String,
    pub url: String,
    pub locale: String,
    pub roles: Vec<Role>,
    pub pass_hash: String,
    pub registered: i64,
}

/// `roles` is stored as the space-separated role names.
impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for User
where
    &'r str: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
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
            roles: roles
                .split_whitespace()
                .filter_map(|r| r.parse().ok())
                .collect(),
            pass_hash: row.try_get("pass_hash")?,
            registered: row.try_get("registered")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    /// 0: the store picks it (an import gives the source's id when it is free).
    pub id: i64,
    pub login: String,
    pub email: String,
    pub nicename: String,
    pub display_name: String,
    pub first_name: String,
    pub last_name: String,
    pub nickname: String,
    pub description: String,
    pub url: String,
    pub locale: String,
    pub roles: Vec<Role>,
    pub pass_hash: String,
    pub registered: i64,
}

/// `orderby` of a user query (`WP_User_Query`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UserOrderBy {
    /// `display_name`.
    #[default]
    Name,
    Id,
    Login,
    /// `user_nicename`.
    Slug,
    Email,
    Url,
    Registered,
    /// The order of `include` (by login when `include` is empty).
    Include,
    /// The order of `nicenames` (by login when `nicenames` is empty).
    IncludeSlugs,
}

/// A column a user search looks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSearchColumn {
    /// Equality with the id (the term must be an integer to match).
    Id,
    Login,
    Nicename,
    Email,
    Url,
    DisplayName,
}

/// A `WP_User_Query` as the REST collection parameters build it. Empty lists do not filter.
/// Text comparisons (search, ordering by text columns) are case-insensitive, as on
/// WordPress's MySQL collation.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    pub include: Vec<i64>,
    pub exclude: Vec<i64>,
    /// `user_nicename IN (…)`.
    pub nicenames: Vec<String>,
    /// Role conditions, all of which must hold; each is satisfied by a user who has at least
    /// one of its roles. An empty condition matches nobody (e.g. only unknown roles asked).
    pub role_sets: Vec<Vec<Role>>,
    /// Users any of whose given columns contains the term (`%term%`; `Id`: equals it).
    pub search: Option<(String, Vec<UserSearchColumn>)>,
    /// Only users with at least one `publish` post of one of these post types.
    pub has_published_posts: Option<Vec<String>>,
    pub orderby: UserOrderBy,
    pub ascending: bool,
    pub limit: i64,
    pub offset: i64,
}

/// What `delete_user` removed or changed besides the user row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeletedUser {
    /// The user's Application Passwords, revoked.
    pub app_passwords: Vec<Uuid>,
    /// Posts moved to the trash (when nothing was reassigned).
    pub trashed_posts: Vec<i64>,
    /// Posts deleted for good (when nothing was reassigned).
    pub deleted_posts: Vec<i64>,
}

/// An Application Password record, without its hash.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AppPassword {
    #[sqlx(try_from = "String")]
    pub uuid: Uuid,
    pub user_id: i64,
    pub app_id: String,
    pub name: String,
    pub created: i64,
    pub last_used: Option<i64>,
    pub last_ip: Option<String>,
    pub last_user_agent: Option<String>,
    /// Unix time after which the token is refused (`None`: never, as in WordPress).
    pub expires: Option<i64>,
    /// Space-separated scopes (`crate::auth::scopes`); `None`: unrestricted.
    pub scopes: Option<String>,
    /// Until when the secret a rotation replaced is still accepted.
    pub prev_valid_until: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewAppPassword {
    pub uuid: Uuid,
    pub user_id: i64,
    pub app_id: String,
    pub name: String,
    pub password_hash: String,
    pub created: i64,
    pub expires: Option<i64>,
    pub scopes: Option<String>,
}

/// A login session (`WP_Session_Tokens`): stored under the SHA-256 verifier of the token
/// the cookie carries, never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Session {
    pub verifier: String,
    pub user_id: i64,
    pub expiration: i64,
    pub login: i64,
    pub ip: String,
    pub user_agent: String,
    /// Fingerprint of the password hash the session began with (`pass_frag`).
    pub pass_frag: String,
}

/// One recorded use of an Application Password (coalesced before it is written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPasswordUsage {
    pub uuid: Uuid,
    pub last_used: i64,
    pub last_ip: String,
    pub last_user_agent: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Post {
    pub id: i64,
    pub post_type: String,
    pub status: String,
    pub author: i64,
    pub title: String,
    pub content: String,
    pub excerpt: String,
    pub slug: String,
    pub password: String,
    pub parent: i64,
    pub menu_order: i64,
    pub comment_status: String,
    pub ping_status: String,
    pub date: i64,
    pub date_floating: bool,
    pub modified: i64,
    pub pre_trash_status: Option<String>,
    /// `post_mime_type`: the file's type for attachments, empty otherwise.
    pub mime_type: String,
    /// The featured image's attachment id (`_thumbnail_id`), 0 for none.
    pub featured_media: i64,
    /// The post format (`get_post_format()`): `aside`, `gallery`, …; empty for `standard`.
    #[sqlx(rename = "post_format")]
    pub format: String,
    /// `guid`, set once after creation (empty in rows older than migration 0012).
    pub guid: String,
}

/// A term of a taxonomy (`category`, `post_tag`). `count` is the number of published
/// posts that have it, computed when read.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Term {
    pub id: i64,
    pub taxonomy: String,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub parent: i64,
    pub count: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TermOrderBy {
    #[default]
    Name,
    Id,
    Slug,
    Description,
    Count,
    /// The order of `include`.
    Include,
    /// The order of `slugs`.
    IncludeSlugs,
}

/// A `get_terms()` query as the REST collection parameters build it.
#[derive(Debug, Clone, Default)]
pub struct TermQuery {
    pub taxonomy: String,
    /// Further taxonomies matched besides `taxonomy` (the search's several subtypes).
    pub other_taxonomies: Vec<String>,
    pub include: Vec<i64>,
    pub exclude: Vec<i64>,
    pub slugs: Vec<String>,
    pub parent: Option<i64>,
    /// Only terms assigned to this post.
    pub post: Option<i64>,
    /// In the name or slug, ignoring case and accents (`crate::search::fold`).
    pub search: Option<String>,
    pub hide_empty: bool,
    pub orderby: TermOrderBy,
    pub ascending: bool,
    pub limit: i64,
    pub offset: i64,
}

/// `orderby` of a post query.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PostOrderBy {
    #[default]
    Date,
    Id,
    Title,
    Slug,
    Modified,
    MenuOrder,
    Parent,
    Author,
    /// The order of `include`.
    Include,
    /// The order of `slugs`.
    IncludeSlugs,
}

/// A `WP_Query` as the REST collection parameters build it. Empty lists do not filter.
#[derive(Debug, Clone, Default)]
pub struct PostQuery {
    pub post_type: String,
    /// Further post types matched besides `post_type` (the search's several subtypes).
    pub other_post_types: Vec<String>,
    pub statuses: Vec<String>,
    pub authors: Vec<i64>,
    pub authors_exclude: Vec<i64>,
    pub include: Vec<i64>,
    pub exclude: Vec<i64>,
    pub slugs: Vec<String>,
    pub parents: Vec<i64>,
    /// `include` and `parents` both given: a post matching either (the images a page's
    /// galleries name or show attached, in one query).
    pub include_or_parents: bool,
    pub parents_exclude: Vec<i64>,
    pub menu_order: Option<i64>,
    /// `post_mime_type IN (…)`.
    pub mime_types: Vec<String>,
    /// `s`: the conditions of `WP_Query::parse_search()` (see `crate::search`).
    pub search: Option<PostSearch>,
    /// A search leaves out password-protected posts: `WP_Query::parse_search()` adds
    /// `post_password = ''` when the visitor is logged out.
    pub search_skips_protected: bool,
    /// Publication date bounds (exclusive), as instants.
    pub after: Option<i64>,
    pub before: Option<i64>,
    pub modified_after: Option<i64>,
    pub modified_before: Option<i64>,
    /// `tax_query` clauses, all of which must hold (any one when `tax_or`).
    pub tax_query: Vec<TaxClause>,
    pub tax_or: bool,
    /// Post formats (`post_format` values, `""` for standard): any of them.
    pub formats: Vec<String>,
    pub orderby: PostOrderBy,
    pub limit: i64,
    pub offset: i64,
    pub ascending: bool,
}

/// One term of a post search: a LIKE pattern (`ESCAPE '\\'`) of folded text
/// (`crate::search::fold`), which one of the searched columns must match, or, with `exclude`,
/// none of them may match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchClause {
    pub pattern: String,
    /// For the attached file's name (`_wp_attached_file`, JSON text, compared lower-cased).
    pub file_pattern: String,
    pub exclude: bool,
}

/// `parse_search_order()`: how search results are ranked with `orderby=relevance`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelevanceOrder {
    /// One piece searched: titles matching the pattern first.
    Single(String),
    /// `CASE`: 1 the title contains the sentence, 2 every title term, 3 any title term
    /// (only with more than one), 4 the excerpt contains the sentence, 5 the content, else 6.
    /// No sentence when the search has a negative term; no title terms past six.
    Cases {
        sentence: Option<String>,
        title_terms: Vec<String>,
    },
}

/// A post search (`WP_Query::parse_search()`): every clause holds, in the chosen columns
/// (`search_columns`) and, for attachments, the attached file's name (`_wp_attached_file`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostSearch {
    pub clauses: Vec<SearchClause>,
    pub title: bool,
    pub excerpt: bool,
    pub content: bool,
    pub attachment_file: bool,
    /// Comes before the query's own order when set.
    pub relevance: Option<RelevanceOrder>,
}

/// `WP_Tax_Query` operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaxOperator {
    /// Any of the terms.
    In,
    /// Every one of the terms, each of which must exist in the taxonomy.
    And,
    /// None of the terms.
    NotIn,
}

/// One clause of a `tax_query`, term ids of one taxonomy (children already added).
/// `In` with no existing term of the taxonomy matches nothing; `NotIn` ignores unknown ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxClause {
    pub taxonomy: String,
    pub terms: Vec<i64>,
    pub operator: TaxOperator,
}

/// See `Store::data_version`: compared for equality only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataVersion(pub [u8; 48]);

/// What `Store::create_post` writes in one transaction.
#[derive(Debug, Clone)]
pub struct NewPostWrite {
    pub post: Post,
    pub meta: Vec<(String, Vec<String>)>,
    pub terms: Vec<(String, Vec<i64>)>,
    /// When the guid is the `?p=` link, which needs the new id: the link without it, for the
    /// store to complete in the same write (else `post.guid` is stored as it is).
    pub guid_id_prefix: Option<String>,
    /// Set by `ferropress import`: the `import_map` row recorded in the same transaction as
    /// the post, so an interrupted import never creates it twice.
    pub import: Option<ImportKey>,
    /// Comments written with the post (`ferropress import`), each with its `import_map` row;
    /// their `post_id` is set to the new post's.
    pub comments: Vec<(ImportKey, Comment)>,
}

/// One row of `import_map`: an object of a source site and the id it got here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportKey {
    /// The source site's address (or the WXR file's `base_site_url`).
    pub source: String,
    /// `user`, `term`, `post`, `comment`.
    pub kind: &'static str,
    pub old_id: i64,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A value that changes whenever anything was committed to the database, by this
    /// process or any other (the CLI, another server), so in-memory read caches know they
    /// are current. `None`: the store cannot tell (now, or cheaply), and nothing may be
    /// served from a cache.
    fn data_version(&self) -> Option<DataVersion> {
        None
    }
    /// `data_version` for a request starting now: covers every commit acknowledged before
    /// the call, by any process. Stores that must ask their server (PostgreSQL,
    /// `pg_version.rs`) wait here for the answer.
    async fn current_data_version(&self) -> Option<DataVersion> {
        self.data_version()
    }
    /// Whether every commit that moved the database from `from` to `to` was one of this
    /// store's own `create_post` batches (posts, their meta, terms and comments, nothing
    /// else), so what was read of other tables at `from` still holds at `to`
    /// (`own_writes.rs`). `false` when the store cannot tell.
    fn only_own_post_writes(&self, from: &DataVersion, to: &DataVersion) -> bool {
        let _ = (from, to);
        false
    }
    // Users.
    async fn count_users(&self) -> StoreResult<i64>;
    async fn create_user(&self, user: NewUser) -> StoreResult<User>;
    async fn user_by_id(&self, id: i64) -> StoreResult<Option<User>>;
    /// Case-insensitive, as WordPress's `get_user_by( 'login' )` on MySQL.
    async fn user_by_login(&self, login: &str) -> StoreResult<Option<User>>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    async fn nicename_exists(&self, nicename: &str) -> StoreResult<bool>;
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    /// Matching users for one page, and the total number of matches.
    async fn query_users(&self, q: &UserQuery) -> StoreResult<(Vec<User>, i64)>;
    /// Writes every column of an existing user but `id` and `registered` (login, email,
    /// nicename, names, url, locale, roles, password hash); false when the id is gone.
    /// Unique collisions come back as `Conflict::{UserLogin, UserEmail, UserNicename}`.
    async fn update_user(&self, user: &User) -> StoreResult<bool>;
    /// `wp_delete_user()`, in ONE transaction: revokes the user's Application Passwords;
    /// with `reassign`, gives every post of the user (any type) to that user; without, moves
    /// the user's `post` and `page` posts that are not already trashed to the trash as
    /// `wp_trash_post()` does (status → `trash`, `pre_trash_status` = old status, slug +
    /// `__trashed` unless already suffixed, `modified` = `now`; the author id is kept), and
    /// deletes for good the user's posts of the types in `delete_types` (with their meta; their
    /// children move up to the deleted post's parent); then deletes the user. `None` when the
    /// user did not exist (nothing changed).
    async fn delete_user(
        &self,
        id: i64,
        reassign: Option<i64>,
        delete_types: &[String],
        now: i64,
    ) -> StoreResult<Option<DeletedUser>>;

    // Application Passwords.
    async fn create_app_password(&self, new: NewAppPassword) -> StoreResult<AppPassword>;
    async fn app_passwords_for_user(&self, user_id: i64) -> StoreResult<Vec<AppPassword>>;
    /// The record whose hash (or previous hash, during a rotation's grace) is `hash`, and
    /// the stored hash that matched, found by index.
    async fn app_password_by_hash(&self, hash: &str) -> StoreResult<Option<(AppPassword, String)>>;
    async fn delete_app_password(&self, user_id: i64, uuid: Uuid) -> StoreResult<bool>;
    /// Whether a token of that user with that uuid was renamed.
    async fn rename_app_password(&self, user_id: i64, uuid: Uuid, name: &str) -> StoreResult<bool>;
    async fn delete_all_app_passwords(&self, user_id: i64) -> StoreResult<u64>;
    /// Sets a token's expiry and scopes; whether the token exists.
    async fn set_app_password_limits(
        &self,
        user_id: i64,
        uuid: Uuid,
        expires: Option<i64>,
        scopes: Option<&str>,
    ) -> StoreResult<bool>;
    /// Replaces a token's secret. With `prev_valid_until` the old secret stays accepted
    /// until then; without, it stops at once. Whether the token exists.
    async fn rotate_app_password(
        &self,
        user_id: i64,
        uuid: Uuid,
        password_hash: &str,
        prev_valid_until: Option<i64>,
    ) -> StoreResult<bool>;
    /// Marks at most `limit` tokens expiring after `after` and at the latest at `until` as
    /// warned, if they were not yet, and returns them (the `token.expiring` event is sent once
    /// per token, whichever instance claims it).
    async fn claim_expiring_app_passwords(
        &self,
        after: i64,
        until: i64,
        limit: i64,
    ) -> StoreResult<Vec<AppPassword>>;
    /// Deletes at most `limit` tokens last used (or, never used, created) before `cutoff`;
    /// returns their (user id, uuid).
    async fn revoke_unused_app_passwords(
        &self,
        cutoff: i64,
        limit: i64,
    ) -> StoreResult<Vec<(i64, Uuid)>>;
    /// Applies coalesced usage records; a record never moves `last_used` backwards.
    async fn record_app_password_usage(&self, usage: &[AppPasswordUsage]) -> StoreResult<()>;

    // Posts.
    /// `post.id` 0: the store picks the id; else that id is used (an import keeping the
    /// source's ids). The same holds for `insert_term`, `insert_comment`, `create_user`.
    async fn insert_post(&self, post: &Post) -> StoreResult<i64>;
    /// Sets the `guid` of a post that has none yet (WordPress never changes it afterwards).
    async fn set_post_guid(&self, id: i64, guid: &str) -> StoreResult<()>;
    /// Publishes scheduled posts whose date has come (`date <= now`), touching nothing
    /// else of them (an edit made meanwhile is kept). Returns their ids.
    async fn publish_due_posts(&self, post_type: &str, now: i64) -> StoreResult<Vec<i64>>;
    /// A new post with its meta and terms (taxonomy, term ids), all or nothing.
    async fn create_post(&self, post: &NewPostWrite) -> StoreResult<i64>;
    async fn post_by_id(&self, id: i64) -> StoreResult<Option<Post>>;
    /// Matching posts for one page, and the total number of matches.
    async fn query_posts(&self, q: &PostQuery) -> StoreResult<(Vec<Post>, i64)>;
    /// The post formats some post has (`aside`, …), which WordPress has terms for.
    async fn used_post_formats(&self) -> StoreResult<Vec<String>>;
    /// Writes every column of an existing post; false when the id is gone.
    async fn update_post(&self, post: &Post) -> StoreResult<bool>;
    /// Deletes the post, its meta, its term assignments and its comments
    /// (`wp_delete_post()` deletes every comment of the post).
    async fn delete_post(&self, id: i64) -> StoreResult<bool>;
    /// Meta of these posts as (post id, key, value as JSON text), in the order written.
    async fn post_meta(&self, post_ids: &[i64]) -> StoreResult<Vec<(i64, String, String)>>;
    /// Replaces every value of `key` on a post with `values` (none: the key is deleted),
    /// atomically.
    async fn set_post_meta(&self, post_id: i64, key: &str, values: &[String]) -> StoreResult<()>;
    /// `has_meta()`: one post's meta rows as (meta id, key, value as JSON text), by key then
    /// id.
    async fn post_meta_rows(&self, post_id: i64) -> StoreResult<Vec<(i64, String, String)>>;
    /// `get_metadata_by_mid()`: (post id, key, value as JSON text) of one meta row.
    async fn post_meta_by_id(&self, meta_id: i64) -> StoreResult<Option<(i64, String, String)>>;
    /// `add_post_meta()`: one more value of `key`; its meta id.
    async fn add_post_meta(&self, post_id: i64, key: &str, value: &str) -> StoreResult<i64>;
    /// `update_metadata_by_mid()`; false when the row is gone.
    async fn update_post_meta_by_id(&self, meta_id: i64, value: &str) -> StoreResult<bool>;
    /// `delete_metadata_by_mid()`; false when the row is gone.
    async fn delete_post_meta_by_id(&self, meta_id: i64) -> StoreResult<bool>;
    /// Unsets a deleted attachment wherever it was the featured image.
    async fn clear_featured_media(&self, attachment_id: i64) -> StoreResult<()>;
    /// Whether another post of the type (not `except_id`) has the slug.
    async fn slug_exists(&self, post_type: &str, slug: &str, except_id: i64) -> StoreResult<bool>;

    // Terms.
    /// Inserts a term; a taken slug is `Conflict::TermSlug`.
    async fn insert_term(&self, term: &Term) -> StoreResult<i64>;
    async fn update_term(&self, term: &Term) -> StoreResult<bool>;
    /// Deletes a term and its assignments; its children move to its parent.
    async fn delete_term(&self, id: i64) -> StoreResult<bool>;
    async fn term_by_id(&self, id: i64) -> StoreResult<Option<Term>>;
    /// Matching terms for one page, and the total number of matches.
    async fn query_terms(&self, q: &TermQuery) -> StoreResult<(Vec<Term>, i64)>;
    /// The id of a term of the taxonomy with this name (case-insensitive), under `parent`
    /// when given, other than `except_id` (`term_exists()`).
    async fn term_named(
        &self,
        taxonomy: &str,
        name: &str,
        parent: Option<i64>,
        except_id: i64,
    ) -> StoreResult<Option<i64>>;
    async fn term_slug_exists(
        &self,
        taxonomy: &str,
        slug: &str,
        except_id: i64,
    ) -> StoreResult<bool>;
    /// For each of `parents` having children of `post_type` (revisions): (parent, number
    /// of children, newest child by date then id). One query for a whole page of posts.
    async fn children_summary(
        &self,
        post_type: &str,
        parents: &[i64],
    ) -> StoreResult<Vec<(i64, i64, i64)>>;
    /// (post id, term id, taxonomy) of these posts' terms.
    async fn post_terms(&self, post_ids: &[i64]) -> StoreResult<Vec<(i64, i64, String)>>;
    /// Makes `term_ids` (of `taxonomy`) the post's terms of that taxonomy, atomically.
    async fn set_post_terms(
        &self,
        post_id: i64,
        taxonomy: &str,
        term_ids: &[i64],
    ) -> StoreResult<()>;

    // Comments.
    async fn insert_comment(&self, comment: &Comment) -> StoreResult<i64>;
    async fn comment_by_id(&self, id: i64) -> StoreResult<Option<Comment>>;
    /// Matching comments for one page, and the total number of matches.
    async fn query_comments(&self, q: &CommentQuery) -> StoreResult<(Vec<Comment>, i64)>;
    /// Writes every column of an existing comment; false when the id is gone.
    async fn update_comment(&self, comment: &Comment) -> StoreResult<bool>;
    /// `wp_delete_comment( $id, true )`: deletes the comment; its replies move up to its
    /// parent. False when the id is gone.
    async fn delete_comment(&self, id: i64) -> StoreResult<bool>;
    /// Those of `ids` that have at least one approved or held reply
    /// (`WP_Comment::get_children()` with status `all`).
    async fn comments_with_children(&self, ids: &[i64]) -> StoreResult<Vec<i64>>;
    /// `wp_allow_comment()`'s duplicate check: a comment on the post under the same parent,
    /// not trashed, by the same author name (and, when `email` is not empty, the same email),
    /// with the same content.
    async fn comment_duplicate(
        &self,
        post_id: i64,
        parent: i64,
        author: &str,
        email: &str,
        content: &str,
    ) -> StoreResult<bool>;
    /// `wp_check_comment_flood()`'s query: the newest comment date at or after `since` by the
    /// user (`by_user` Some) or the IP (None), or with `email`.
    async fn last_comment_date(
        &self,
        since: i64,
        by_user: Option<i64>,
        ip: &str,
        email: &str,
    ) -> StoreResult<Option<i64>>;
    /// `check_comment()`'s "previously approved" test: an approved comment by the user
    /// (`Some`), else by this author name and email.
    async fn has_approved_comment(
        &self,
        user_id: Option<i64>,
        author: &str,
        email: &str,
    ) -> StoreResult<bool>;
    /// `wp_trash_post_comments()`: the post's comments become `post-trashed`, remembering
    /// their status (only `wp_untrash_post()`, which the REST API never calls, restores it:
    /// a trashed post published again through the API keeps them so).
    async fn trash_post_comments(&self, post_id: i64) -> StoreResult<()>;

    // Import bookkeeping (`ferropress import`).
    /// Every (old id, new id) recorded for this source and kind.
    async fn import_map(&self, source: &str, kind: &str) -> StoreResult<Vec<(i64, i64)>>;
    /// Records (or replaces) where an object of the source went.
    async fn set_import_map(&self, key: &ImportKey, new_id: i64) -> StoreResult<()>;
    /// A comment of the source and its `import_map` row, in one transaction: an interrupted
    /// import never leaves the comment without its row (a duplicate on the re-run) or the
    /// row without its comment.
    async fn insert_imported_comment(&self, key: &ImportKey, comment: &Comment)
    -> StoreResult<i64>;
    /// After rows were inserted with the ids they had elsewhere (an import keeps them when
    /// free): new rows' ids continue after the highest. SQLite's AUTOINCREMENT does so by
    /// itself.
    async fn sync_id_sequences(&self) -> StoreResult<()> {
        Ok(())
    }

    // Options.
    async fn get_option(&self, name: &str) -> StoreResult<Option<String>>;
    async fn set_option(&self, name: &str, value: &str) -> StoreResult<()>;
    /// `delete_option()`.
    async fn delete_option(&self, name: &str) -> StoreResult<()>;
    /// `add_option()`: writes the option only if it does not exist yet; whether it did.
    /// Instances starting together on one database agree on the first value written.
    async fn add_option(&self, name: &str, value: &str) -> StoreResult<bool>;

    // Login sessions (admin screens and cookie-authenticated REST).
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    /// The session with this verifier, expired or not (the caller checks `expiration`).
    async fn session_by_verifier(&self, verifier: &str) -> StoreResult<Option<Session>>;
    /// Whether the session existed.
    async fn delete_session(&self, verifier: &str) -> StoreResult<bool>;
    /// Forgets sessions that expired before `now`; how many.
    async fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64>;
    /// `WP_Session_Tokens::destroy_all()`: forgets every session of a user; how many.
    async fn delete_user_sessions(&self, user_id: i64) -> StoreResult<u64>;

    // Audit log and webhook outbox (`crate::audit`, `crate::webhooks`).
    /// Appends entries to the hash chain and queues their webhook deliveries, in one
    /// transaction that holds the chain's write lock while it reads the last hash (so
    /// concurrent writers, in this process or another, never fork the chain).
    async fn append_audit(
        &self,
        entries: &[NewAuditEntry],
        now: i64,
    ) -> StoreResult<Vec<AuditEntry>>;
    /// Matching entries for one page, newest first, and the total number of matches.
    async fn query_audit(&self, q: &AuditQuery) -> StoreResult<(Vec<AuditEntry>, i64)>;
    /// Up to `limit` entries with `id > after_id`, oldest first (for `audit verify`).
    async fn audit_chain(&self, after_id: i64, limit: i64) -> StoreResult<Vec<AuditEntry>>;
    /// The last pruned entry's (id, hash), where the kept chain starts.
    async fn audit_anchor(&self) -> StoreResult<Option<(i64, String)>>;
    /// Deletes entries older than `before` (oldest first, never one newer than a kept one)
    /// and moves the anchor to the last one deleted, in one transaction; how many.
    async fn prune_audit(&self, before: i64) -> StoreResult<u64>;
    /// Remembers that a token was seen with this (kind, value); whether it is the first time.
    async fn mark_token_seen(
        &self,
        uuid: Uuid,
        kind: &str,
        value: &str,
        at: i64,
    ) -> StoreResult<bool>;
    /// Claims up to `limit` deliveries due at `now`, leasing them until `lease_until` (another
    /// instance does not take them meanwhile).
    async fn claim_webhooks(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<OutboxItem>>;
    /// Removes a delivery (delivered, or given up).
    async fn webhook_done(&self, id: i64) -> StoreResult<()>;
    /// Records a failed attempt; the delivery is tried again at `next_at`.
    async fn webhook_retry(
        &self,
        id: i64,
        attempts: i64,
        next_at: i64,
        error: &str,
    ) -> StoreResult<()>;

    /// Waits for in-flight queries and closes the connections.
    async fn close(&self);

    /// Whether the database answers and has every migration this build embeds applied
    /// (the readiness check of `/ferropress/health/ready`); `Err` says why not.
    async fn ready(&self) -> Result<(), String>;

    /// The connection pool's state, for the metrics.
    fn pool_status(&self) -> Option<PoolStatus> {
        None
    }
}

/// Connections of a store's pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    pub size: u32,
    pub idle: usize,
    pub max: u32,
}

/// The newest migration of `migrator`, and whether `applied` (the versions recorded as
/// applied successfully) reaches it.
pub(crate) fn migrations_current(
    migrator: &sqlx::migrate::Migrator,
    applied: Option<i64>,
) -> Result<(), String> {
    let want = migrator.iter().map(|m| m.version).max().unwrap_or(0);
    match applied {
        Some(v) if v >= want => Ok(()),
        Some(v) => Err(format!(
            "database migrations not applied: at version {v}, this build needs {want}"
        )),
        None => Err("database migrations not applied".to_owned()),
    }
}
