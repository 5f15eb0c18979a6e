//! What the two engines share below the queries: a statement and its values (`Stmt`), the
//! connection interface each engine implements (`Conn`), the few SQL fragments that differ
//! between SQLite and PostgreSQL (`Dialect`), and the builder of the collection queries'
//! clauses (`QuerySql`).
//!
//! Statements use `$n` placeholders on both engines: sqlx binds SQLite's `$n` by its number
//! (`sqlx-sqlite` 0.9, `SqliteArguments::bind`), as PostgreSQL does.

use std::borrow::Cow;

use async_trait::async_trait;
use sqlx::FromRow;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use super::{
    Conflict, PostQuery, RelevanceOrder, StoreError, StoreResult, TaxOperator, TermOrderBy,
    TermQuery, UserQuery,
};
use crate::search::{contains_pattern, plain_contains_pattern};

/// A value bound to a statement. A list is one parameter (a JSON array read with `json_each`
/// on SQLite, an array on PostgreSQL): WordPress's lists (`include`, `slug`, …) have no
/// length limit, and one parameter per item would run into the engines' limits.
#[derive(Debug, Clone)]
pub enum SqlBind {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Bool(bool),
    Ints(Vec<i64>),
    Texts(Vec<String>),
}

impl From<i64> for SqlBind {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<Option<i64>> for SqlBind {
    fn from(v: Option<i64>) -> Self {
        Self::OptInt(v)
    }
}

impl From<bool> for SqlBind {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

impl From<&str> for SqlBind {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}

impl From<String> for SqlBind {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

impl From<&String> for SqlBind {
    fn from(v: &String) -> Self {
        Self::Text(v.clone())
    }
}

impl From<Option<&str>> for SqlBind {
    fn from(v: Option<&str>) -> Self {
        Self::OptText(v.map(str::to_owned))
    }
}

impl From<&Option<String>> for SqlBind {
    fn from(v: &Option<String>) -> Self {
        Self::OptText(v.clone())
    }
}

impl From<&[i64]> for SqlBind {
    fn from(v: &[i64]) -> Self {
        Self::Ints(v.to_vec())
    }
}

impl From<&[String]> for SqlBind {
    fn from(v: &[String]) -> Self {
        Self::Texts(v.to_vec())
    }
}

/// One statement with its values, in placeholder order.
#[derive(Debug)]
pub struct Stmt {
    pub sql: Cow<'static, str>,
    pub binds: Vec<SqlBind>,
    /// A unique violation is a `StoreError::Conflict` (else a database error, as any other).
    pub conflicts: bool,
}

/// A statement of fixed text (`&'static str`) or built from fixed fragments and
/// placeholders only (`String`): every value is bound.
pub fn stmt(sql: impl Into<Cow<'static, str>>) -> Stmt {
    Stmt {
        sql: sql.into(),
        binds: vec![],
        conflicts: false,
    }
}

impl Stmt {
    pub fn bind(mut self, v: impl Into<SqlBind>) -> Self {
        self.binds.push(v.into());
        self
    }

    pub fn bind_all(mut self, binds: &[SqlBind]) -> Self {
        self.binds.extend_from_slice(binds);
        self
    }

    /// Unique violations become `StoreError::Conflict`.
    pub fn conflicts(mut self) -> Self {
        self.conflicts = true;
        self
    }

    /// The error of a failed run: a conflict when asked for and `conflict_of` knows it.
    pub fn error(
        conflicts: bool,
        err: sqlx::Error,
        conflict_of: fn(&sqlx::Error) -> Option<Conflict>,
    ) -> StoreError {
        match conflict_of(&err).filter(|_| conflicts) {
            Some(c) => StoreError::Conflict(c),
            None => StoreError::Db(err),
        }
    }
}

/// A row type both engines decode (`sqlx::FromRow` derived or written generically).
pub trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// A connection (pooled, or inside a transaction) of one engine: runs statements, binding
/// their values as the engine stores them.
#[async_trait]
pub trait Conn: Send {
    const DIALECT: Dialect;

    /// Runs a statement; the number of rows it changed.
    async fn run(&mut self, s: Stmt) -> StoreResult<u64>;
    async fn all<T: Record>(&mut self, s: Stmt) -> StoreResult<Vec<T>>;
    async fn opt<T: Record>(&mut self, s: Stmt) -> StoreResult<Option<T>>;

    async fn one<T: Record>(&mut self, s: Stmt) -> StoreResult<T> {
        self.opt(s)
            .await?
            .ok_or(StoreError::Db(sqlx::Error::RowNotFound))
    }

    /// The first column of every row.
    async fn col<T: Send + Unpin + 'static>(&mut self, s: Stmt) -> StoreResult<Vec<T>>
    where
        (T,): Record,
    {
        Ok(self
            .all::<(T,)>(s)
            .await?
            .into_iter()
            .map(|(v,)| v)
            .collect())
    }

    /// The first column of the only row.
    async fn val<T: Send + Unpin + 'static>(&mut self, s: Stmt) -> StoreResult<T>
    where
        (T,): Record,
    {
        Ok(self.one::<(T,)>(s).await?.0)
    }
}

/// A list as SQLite binds it: one JSON array.
pub fn json_array<T: serde::Serialize>(values: Vec<T>) -> String {
    serde_json::to_string(&values).unwrap_or_else(|_| "[]".to_owned())
}

/// Implements `Conn` for an engine's connection type: its values bound into `$args` (lists
/// through `$list`), unique violations recognised by `$conflict_of`.
macro_rules! impl_conn {
    ($conn:ty, $args:ty, $dialect:expr, $list:path, $conflict_of:path) => {
        fn arguments(binds: Vec<$crate::store::sql::SqlBind>) -> Result<$args, sqlx::Error> {
            use sqlx::Arguments as _;
            use $crate::store::sql::SqlBind;
            let mut args = <$args>::default();
            for b in binds {
                match b {
                    SqlBind::Int(v) => args.add(v),
                    SqlBind::OptInt(v) => args.add(v),
                    SqlBind::Text(v) => args.add(v),
                    SqlBind::OptText(v) => args.add(v),
                    SqlBind::Bool(v) => args.add(v),
                    SqlBind::Ints(v) => args.add($list(v)),
                    SqlBind::Texts(v) => args.add($list(v)),
                }
                .map_err(sqlx::Error::Encode)?;
            }
            Ok(args)
        }

        #[async_trait::async_trait]
        impl $crate::store::sql::Conn for $conn {
            const DIALECT: $crate::store::sql::Dialect = $dialect;

            async fn run(
                &mut self,
                s: $crate::store::sql::Stmt,
            ) -> $crate::store::StoreResult<u64> {
                let conflicts = s.conflicts;
                let args = arguments(s.binds)?;
                let done = sqlx::query_with(sqlx::AssertSqlSafe(s.sql), args).execute(self);
                done.await
                    .map(|done| done.rows_affected())
                    .map_err(|e| $crate::store::sql::Stmt::error(conflicts, e, $conflict_of))
            }

            async fn all<T: $crate::store::sql::Record>(
                &mut self,
                s: $crate::store::sql::Stmt,
            ) -> $crate::store::StoreResult<Vec<T>> {
                let conflicts = s.conflicts;
                let args = arguments(s.binds)?;
                let rows = sqlx::query_as_with(sqlx::AssertSqlSafe(s.sql), args).fetch_all(self);
                rows.await
                    .map_err(|e| $crate::store::sql::Stmt::error(conflicts, e, $conflict_of))
            }

            async fn opt<T: $crate::store::sql::Record>(
                &mut self,
                s: $crate::store::sql::Stmt,
            ) -> $crate::store::StoreResult<Option<T>> {
                let conflicts = s.conflicts;
                let args = arguments(s.binds)?;
                let row =
                    sqlx::query_as_with(sqlx::AssertSqlSafe(s.sql), args).fetch_optional(self);
                row.await
                    .map_err(|e| $crate::store::sql::Stmt::error(conflicts, e, $conflict_of))
            }
        }
    };
}
pub(crate) use impl_conn;

/// What differs in the SQL text of the two engines. PostgreSQL is made to compare as SQLite
/// does: LIKE and `COLLATE NOCASE` fold ASCII case only, text sorts by bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `col IN (list)` or `col NOT IN (list)`, the list bound at `p`.
    pub fn member(self, col: &str, negate: bool, p: &str) -> String {
        match (self, negate) {
            (Dialect::Sqlite, false) => format!("{col} IN (SELECT value FROM json_each({p}))"),
            (Dialect::Sqlite, true) => format!("{col} NOT IN (SELECT value FROM json_each({p}))"),
            (Dialect::Postgres, false) => format!("{col} = ANY({p})"),
            (Dialect::Postgres, true) => format!("{col} <> ALL({p})"),
        }
    }

    /// A text column lower-cased in ASCII only.
    pub fn lower(self, col: &str) -> String {
        match self {
            Dialect::Sqlite => format!("lower({col})"),
            Dialect::Postgres => format!("lower({col} COLLATE \"C\")"),
        }
    }

    /// A text column to sort ignoring ASCII case.
    pub fn nocase(self, col: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{col} COLLATE NOCASE"),
            Dialect::Postgres => format!("lower({col} COLLATE \"C\")"),
        }
    }

    /// A text column to sort by bytes.
    pub fn bytes(self, col: &str) -> String {
        match self {
            Dialect::Sqlite => col.to_owned(),
            Dialect::Postgres => format!("{col} COLLATE \"C\""),
        }
    }

    /// `col` equals the text bound at `p`, ignoring ASCII case.
    pub fn eq_nocase(self, col: &str, p: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{col} = {p} COLLATE NOCASE"),
            Dialect::Postgres => {
                format!("lower({col} COLLATE \"C\") = lower({p}::text COLLATE \"C\")")
            }
        }
    }

    /// The id of a new row of `table`: the one bound at `p`, or the next one when it is 0.
    pub fn new_id(self, table: &str, p: &str) -> String {
        match self {
            Dialect::Sqlite => format!("NULLIF({p}, 0)"),
            Dialect::Postgres => format!(
                "COALESCE(NULLIF({p}, 0), nextval(pg_get_serial_sequence('{table}', 'id')))"
            ),
        }
    }

    /// Position in the list bound at `p` (MySQL's `FIELD()`, which `orderby=include` uses):
    /// the first index of the value, values not in it last. `col` names its table (SQLite's
    /// `json_each` has columns of its own: `id`, `key`, `value`, …).
    pub fn position(self, col: &str, p: &str, list: &SqlBind) -> String {
        match (self, list) {
            (Dialect::Sqlite, SqlBind::Ints(v)) => position_json(col, p, v.len()),
            (Dialect::Sqlite, SqlBind::Texts(v)) => position_json(col, p, v.len()),
            (Dialect::Postgres, SqlBind::Texts(_)) => {
                format!("array_position({p}::text[], {col}) ASC NULLS LAST")
            }
            _ => format!("array_position({p}::bigint[], {col}) ASC NULLS LAST"),
        }
    }

    /// Row locks on what a `SELECT` reads (PostgreSQL: instances share the database).
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }
}

fn position_json(col: &str, p: &str, n: usize) -> String {
    format!("COALESCE((SELECT MIN(key) FROM json_each({p}) WHERE value = {col}), {n}) ASC")
}

/// The clauses of a collection query and the values they bind, in placeholder order.
pub struct QuerySql {
    pub dialect: Dialect,
    pub binds: Vec<SqlBind>,
}

impl QuerySql {
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            binds: vec![],
        }
    }

    /// Adds a value and returns its placeholder.
    pub fn push(&mut self, b: SqlBind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }

    /// `col IN (list)` or `col NOT IN (list)`.
    pub fn member(&mut self, col: &str, negate: bool, list: SqlBind) -> String {
        let p = self.push(list);
        self.dialect.member(col, negate, &p)
    }

    /// ` AND col IN (list)` (or `NOT IN`); nothing for an empty list (no condition).
    fn and_member<T>(&mut self, filter: &mut String, col: &str, negate: bool, values: &[T])
    where
        for<'a> &'a [T]: Into<SqlBind>,
    {
        if !values.is_empty() {
            let m = self.member(col, negate, values.into());
            filter.push_str(" AND ");
            filter.push_str(&m);
        }
    }

    /// Position in a list (`orderby=include`), bound here.
    pub fn position(&mut self, col: &str, list: SqlBind) -> String {
        let order = self
            .dialect
            .position(col, &format!("${}", self.binds.len() + 1), &list);
        self.binds.push(list);
        order
    }

    /// The WHERE clause of a user query.
    pub fn user_filter(&mut self, q: &UserQuery) -> String {
        use crate::store::UserSearchColumn as C;
        let d = self.dialect;
        let mut filter = String::from("1 = 1");
        self.and_member(&mut filter, "id", false, &q.include);
        self.and_member(&mut filter, "id", true, &q.exclude);
        self.and_member(&mut filter, "nicename", false, &q.nicenames);
        for set in &q.role_sets {
            if set.is_empty() {
                filter.push_str(" AND 0 = 1");
                continue;
            }
            // `roles` is a space-separated list: match whole words.
            let words: Vec<String> = set.iter().map(|r| format!("% {} %", r.as_str())).collect();
            let p = self.push(SqlBind::Texts(words));
            filter.push_str(&match d {
                Dialect::Sqlite => format!(
                    " AND EXISTS (SELECT 1 FROM json_each({p}) r WHERE (' ' || roles || ' ') LIKE r.value)"
                ),
                Dialect::Postgres => format!(" AND (' ' || roles || ' ') LIKE ANY({p})"),
            });
        }
        if let Some((term, columns)) = &q.search {
            let mut alternatives = vec![];
            for c in columns {
                let col = match c {
                    C::Id => {
                        if let Ok(n) = term.trim().parse::<i64>() {
                            let p = self.push(SqlBind::Int(n));
                            alternatives.push(format!("id = {p}"));
                        }
                        continue;
                    }
                    C::Login => d.lower("login"),
                    C::Nicename => d.lower("nicename"),
                    C::Email => d.lower("email"),
                    C::Url => d.lower("url"),
                    C::DisplayName => "display_name_fold".to_owned(),
                };
                let p = self.push(SqlBind::Text(if *c == C::DisplayName {
                    contains_pattern(term)
                } else {
                    plain_contains_pattern(term)
                }));
                alternatives.push(format!("{col} LIKE {p} ESCAPE '\\'"));
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
                let m = self.member("post.post_type", false, SqlBind::Texts(types.clone()));
                filter.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM post WHERE post.author = \"user\".id \
                     AND post.status = 'publish' AND {m})"
                ));
            }
        }
        filter
    }

    /// The ORDER BY clause of a user query; ties broken by id in the same direction.
    pub fn user_order(&mut self, q: &UserQuery) -> String {
        use crate::store::UserOrderBy as O;
        let d = self.dialect;
        let dir = if q.ascending { "ASC" } else { "DESC" };
        match q.orderby {
            O::Include if !q.include.is_empty() => {
                self.position("\"user\".id", SqlBind::Ints(q.include.clone()))
            }
            O::IncludeSlugs if !q.nicenames.is_empty() => {
                self.position("\"user\".nicename", SqlBind::Texts(q.nicenames.clone()))
            }
            O::Id => format!("id {dir}"),
            O::Registered => format!("registered {dir}, id {dir}"),
            other => {
                let col = match other {
                    O::Name => d.bytes("display_name_fold"),
                    O::Slug => d.nocase("nicename"),
                    O::Email => d.nocase("email"),
                    O::Url => d.nocase("url"),
                    _ => d.nocase("login"),
                };
                format!("{col} {dir}, id {dir}")
            }
        }
    }

    /// The WHERE clause of a term query.
    pub fn term_filter(&mut self, q: &TermQuery) -> String {
        let d = self.dialect;
        let tax = self.push(SqlBind::Text(q.taxonomy.clone()));
        let mut filter = format!("taxonomy = {tax}");
        if !q.other_taxonomies.is_empty() {
            let others = self.member(
                "taxonomy",
                false,
                SqlBind::Texts(q.other_taxonomies.clone()),
            );
            filter = format!("(taxonomy = {tax} OR {others})");
        }
        self.and_member(&mut filter, "id", false, &q.include);
        self.and_member(&mut filter, "id", true, &q.exclude);
        self.and_member(&mut filter, "slug", false, &q.slugs);
        if let Some(parent) = q.parent {
            let p = self.push(SqlBind::Int(parent));
            filter.push_str(&format!(" AND parent = {p}"));
        }
        if let Some(post) = q.post {
            let p = self.push(SqlBind::Int(post));
            filter.push_str(&format!(
                " AND id IN (SELECT term_id FROM term_relationship WHERE post_id = {p})"
            ));
        }
        if let Some(term) = &q.search {
            // `(t.name LIKE %s) OR (t.slug LIKE %s)`, as the collation compares.
            let p = self.push(SqlBind::Text(contains_pattern(term)));
            let s = self.push(SqlBind::Text(plain_contains_pattern(term)));
            let slug = d.lower("slug");
            filter.push_str(&format!(
                " AND (name_fold LIKE {p} ESCAPE '\\' OR {slug} LIKE {s} ESCAPE '\\')"
            ));
        }
        if q.hide_empty {
            filter.push_str(&format!(" AND {TERM_COUNT} > 0"));
        }
        filter
    }

    /// The ORDER BY clause of a term query; ties broken by id in the same direction.
    pub fn term_order(&mut self, q: &TermQuery) -> String {
        let d = self.dialect;
        let dir = if q.ascending { "ASC" } else { "DESC" };
        match q.orderby {
            TermOrderBy::Include if !q.include.is_empty() => {
                self.position("term.id", SqlBind::Ints(q.include.clone()))
            }
            TermOrderBy::IncludeSlugs if !q.slugs.is_empty() => {
                self.position("term.slug", SqlBind::Texts(q.slugs.clone()))
            }
            TermOrderBy::Id => format!("id {dir}"),
            TermOrderBy::Slug => format!("{} {dir}, id {dir}", d.bytes("slug")),
            TermOrderBy::Description => format!("{} {dir}, id {dir}", d.nocase("description")),
            TermOrderBy::Count => format!("{TERM_COUNT} {dir}, id {dir}"),
            _ => format!("{} {dir}, id {dir}", d.bytes("name_fold")),
        }
    }

    /// The WHERE clause of a post query.
    pub fn post_filter(&mut self, q: &PostQuery) -> String {
        let mut filter = format!(
            "post_type = {}",
            self.push(SqlBind::Text(q.post_type.clone()))
        );
        if !q.other_post_types.is_empty() {
            let m = self.member(
                "post_type",
                false,
                SqlBind::Texts(q.other_post_types.clone()),
            );
            filter = format!("({filter} OR {m})");
        }
        self.and_member(&mut filter, "status", false, &q.statuses);
        self.and_member(&mut filter, "author", false, &q.authors);
        self.and_member(&mut filter, "author", true, &q.authors_exclude);
        if q.include_or_parents && !q.include.is_empty() && !q.parents.is_empty() {
            let ids = self.member("id", false, q.include.as_slice().into());
            let parents = self.member("parent", false, q.parents.as_slice().into());
            filter.push_str(&format!(" AND ({ids} OR {parents})"));
        } else {
            self.and_member(&mut filter, "id", false, &q.include);
            self.and_member(&mut filter, "parent", false, &q.parents);
        }
        self.and_member(&mut filter, "id", true, &q.exclude);
        self.and_member(&mut filter, "parent", true, &q.parents_exclude);
        self.and_member(&mut filter, "slug", false, &q.slugs);
        self.and_member(&mut filter, "mime_type", false, &q.mime_types);
        self.and_member(&mut filter, "post_format", false, &q.formats);
        if let Some(m) = q.menu_order {
            let p = self.push(SqlBind::Int(m));
            filter.push_str(&format!(" AND menu_order = {p}"));
        }
        if let Some(search) = q.search.as_ref().filter(|s| !s.clauses.is_empty()) {
            let columns: Vec<&str> = [
                (search.title, "title_fold"),
                (search.excerpt, "excerpt_fold"),
                (search.content, "content_fold"),
            ]
            .into_iter()
            .filter_map(|(on, col)| on.then_some(col))
            .collect();
            let meta_value = self.dialect.lower("meta_value");
            for clause in &search.clauses {
                // parse_search(): `(title LIKE t OR excerpt LIKE t OR content LIKE t)`, or
                // for `-t`, `NOT LIKE` joined by AND.
                let (op, joiner) = if clause.exclude {
                    ("NOT LIKE", " AND ")
                } else {
                    ("LIKE", " OR ")
                };
                let p = self.push(SqlBind::Text(clause.pattern.clone()));
                let mut parts: Vec<String> = columns
                    .iter()
                    .map(|c| format!("{c} {op} {p} ESCAPE '\\'"))
                    .collect();
                if search.attachment_file {
                    let not = if clause.exclude { "NOT " } else { "" };
                    let f = self.push(SqlBind::Text(clause.file_pattern.clone()));
                    parts.push(format!(
                        "{not}EXISTS (SELECT 1 FROM postmeta WHERE postmeta.post_id = post.id \
                         AND meta_key = '_wp_attached_file' AND {meta_value} LIKE {f} ESCAPE '\\')"
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
            let t = self.push(SqlBind::Text(clause.taxonomy.clone()));
            let ids = self.member("id", false, SqlBind::Ints(clause.terms.clone()));
            let terms = format!("SELECT id FROM term WHERE taxonomy = {t} AND {ids}");
            tax.push(match clause.operator {
                TaxOperator::In => format!(
                    "id IN (SELECT post_id FROM term_relationship WHERE term_id IN ({terms}))"
                ),
                TaxOperator::NotIn => format!(
                    "id NOT IN (SELECT post_id FROM term_relationship WHERE term_id IN ({terms}))"
                ),
                // Every listed term exists in the taxonomy and the post has each of them.
                TaxOperator::And => {
                    let n = distinct_count(&clause.terms);
                    format!(
                        "(SELECT COUNT(*) FROM ({terms}) AS t) = {n} AND (SELECT COUNT(*) FROM \
                         term_relationship r WHERE r.post_id = post.id AND r.term_id IN ({terms})) = {n}"
                    )
                }
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
                let p = self.push(SqlBind::Int(v));
                filter.push_str(&format!(" AND {sql} {p}"));
            }
        }
        filter
    }

    /// The ORDER BY clause of a post query: a search's relevance (`parse_search_order()`)
    /// when asked, then the query's own order, ties broken by id in the same direction (MySQL's
    /// order is stable enough for WordPress's tests only with it).
    pub fn post_order(&mut self, q: &PostQuery) -> String {
        let Some(relevance) = q.search.as_ref().and_then(|s| s.relevance.clone()) else {
            return self.post_own_order(q);
        };
        let rank = match relevance {
            RelevanceOrder::Single(t) => {
                let p = self.push(SqlBind::Text(t));
                format!("(title_fold LIKE {p} ESCAPE '\\') DESC")
            }
            RelevanceOrder::Cases {
                sentence,
                title_terms,
            } => {
                let sentence = sentence.map(|s| self.push(SqlBind::Text(s)));
                let titles: Vec<String> = title_terms
                    .into_iter()
                    .map(|t| {
                        let p = self.push(SqlBind::Text(t));
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
        format!("{rank}, {}", self.post_own_order(q))
    }

    /// The query's own `orderby`.
    fn post_own_order(&mut self, q: &PostQuery) -> String {
        use crate::store::PostOrderBy as O;
        let dir = if q.ascending { "ASC" } else { "DESC" };
        match q.orderby {
            O::Include if !q.include.is_empty() => {
                self.position("post.id", SqlBind::Ints(q.include.clone()))
            }
            O::IncludeSlugs if !q.slugs.is_empty() => {
                self.position("post.slug", SqlBind::Texts(q.slugs.clone()))
            }
            other => {
                let col = match other {
                    O::Id => "id".to_owned(),
                    O::Title => self.dialect.bytes("title_fold"),
                    O::Slug => self.dialect.bytes("slug"),
                    O::Modified => "modified".to_owned(),
                    O::MenuOrder => "menu_order".to_owned(),
                    O::Parent => "parent".to_owned(),
                    O::Author => "author".to_owned(),
                    _ => "date".to_owned(),
                };
                format!("{col} {dir}, id {dir}")
            }
        }
    }
}

/// Published posts having the term (`_update_post_term_count`), computed per row.
pub const TERM_COUNT: &str = "(SELECT COUNT(*) FROM term_relationship r JOIN post p ON p.id = r.post_id \
     WHERE r.term_id = term.id AND p.status = 'publish')";

/// How many different values.
fn distinct_count(values: &[i64]) -> usize {
    values
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_filter_numbers_placeholders_in_bind_order_on_both_engines() {
        let q = PostQuery {
            post_type: "post".into(),
            statuses: vec!["publish".into()],
            include: vec![3, 4],
            after: Some(5),
            ..PostQuery::default()
        };
        for d in [Dialect::Sqlite, Dialect::Postgres] {
            let mut sql = QuerySql::new(d);
            let f = sql.post_filter(&q);
            assert!(f.starts_with("post_type = $1 AND "), "{f}");
            assert!(f.ends_with(" AND date > $4"), "{f}");
            assert_eq!(sql.binds.len(), 4);
        }
        let mut sql = QuerySql::new(Dialect::Sqlite);
        assert!(
            sql.post_filter(&q)
                .contains("id IN (SELECT value FROM json_each($3))")
        );
    }
}
