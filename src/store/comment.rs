//! The `comment` table (`wp_comments`): its row, the `WP_Comment_Query` the REST collection
//! builds, and that query's SQL, written once for both engines (only list membership and
//! case folding differ).

use super::sql::{Dialect, QuerySql, SqlBind};

/// A comment row. `approved` holds WordPress's `comment_approved` values: `1`, `0`, `spam`,
/// `trash`, `post-trashed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Comment {
    pub id: i64,
    pub post_id: i64,
    pub author_name: String,
    pub author_email: String,
    pub author_url: String,
    pub author_ip: String,
    /// `comment_date_gmt` as an instant.
    pub date: i64,
    pub content: String,
    pub approved: String,
    pub agent: String,
    pub comment_type: String,
    pub parent: i64,
    pub user_id: i64,
    /// `_wp_trash_meta_status`: the status before trashing or marking as spam.
    pub pre_trash_status: Option<String>,
    /// The status before the comment's post was trashed (`_wp_trash_meta_comments_status`).
    pub pre_post_trash_status: Option<String>,
}

/// The column list every engine selects, in `Comment` field order.
pub const COMMENT_COLUMNS: &str = "id, post_id, author_name, author_email, author_url, author_ip, \
     date, content, approved, agent, comment_type, parent, user_id, pre_trash_status, \
     pre_post_trash_status";

/// `orderby` of a comment query (the REST names, normalised as `normalize_query_param`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CommentOrderBy {
    /// `comment_date_gmt` (and `comment_date`: the same order for instants).
    #[default]
    Date,
    Id,
    /// The order of `include` (`comment__in`).
    Include,
    Post,
    Parent,
    Type,
}

/// A `WP_Comment_Query` as the REST collection parameters build it. Empty lists do not
/// filter.
#[derive(Debug, Clone, Default)]
pub struct CommentQuery {
    pub include: Vec<i64>,
    pub exclude: Vec<i64>,
    pub post_ids: Vec<i64>,
    pub parents: Vec<i64>,
    pub parents_exclude: Vec<i64>,
    /// `user_id IN (…)`.
    pub authors: Vec<i64>,
    pub authors_exclude: Vec<i64>,
    /// Compared without ASCII case.
    pub author_email: Option<String>,
    /// `comment_approved IN (…)`; empty: any status.
    pub statuses: Vec<String>,
    /// `comment_type IN (…)`; empty: any type.
    pub types: Vec<String>,
    /// The type of the comment's post (`post_type`); empty: any.
    pub post_types: Vec<String>,
    /// In the author name, email, URL, IP or content (`%search%`, case-insensitive).
    pub search: Option<String>,
    /// Date bounds (exclusive), as instants.
    pub after: Option<i64>,
    pub before: Option<i64>,
    pub orderby: CommentOrderBy,
    pub ascending: bool,
    pub limit: i64,
    pub offset: i64,
}

impl QuerySql {
    /// `col LIKE pattern`, folding ASCII case only on both engines (SQLite's LIKE).
    fn comment_like(&mut self, col: &str, pattern: &str) -> String {
        let p = self.push(SqlBind::Text(pattern.to_owned()));
        match self.dialect {
            Dialect::Sqlite => format!("{col} LIKE {p} ESCAPE '\\'"),
            Dialect::Postgres => {
                format!(
                    "lower({col} COLLATE \"C\") LIKE lower({p}::text COLLATE \"C\") ESCAPE '\\'"
                )
            }
        }
    }

    /// The WHERE clause of a comment query.
    pub fn comment_filter(&mut self, q: &CommentQuery) -> String {
        let mut parts: Vec<String> = vec!["1 = 1".to_owned()];
        for (col, negate, values) in [
            ("id", false, &q.include),
            ("id", true, &q.exclude),
            ("post_id", false, &q.post_ids),
            ("parent", false, &q.parents),
            ("parent", true, &q.parents_exclude),
            ("user_id", false, &q.authors),
            ("user_id", true, &q.authors_exclude),
        ] {
            if !values.is_empty() {
                parts.push(self.member(col, negate, SqlBind::Ints(values.clone())));
            }
        }
        for (col, values) in [("approved", &q.statuses), ("comment_type", &q.types)] {
            if !values.is_empty() {
                parts.push(self.member(col, false, SqlBind::Texts(values.clone())));
            }
        }
        if !q.post_types.is_empty() {
            let m = self.member("post_type", false, SqlBind::Texts(q.post_types.clone()));
            parts.push(format!("post_id IN (SELECT id FROM post WHERE {m})"));
        }
        if let Some(email) = &q.author_email {
            // MySQL's collation compares emails without case; ASCII folding on both engines.
            let p = self.push(SqlBind::Text(email.clone()));
            parts.push(self.dialect.eq_nocase("author_email", &p));
        }
        if let Some(search) = &q.search {
            // `WP_Comment_Query::get_search_sql()`: the whole string, in any of five columns.
            let like = format!(
                "%{}%",
                search
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            let cols: Vec<String> = [
                "author_name",
                "author_email",
                "author_url",
                "author_ip",
                "content",
            ]
            .iter()
            .map(|c| self.comment_like(c, &like))
            .collect();
            parts.push(format!("({})", cols.join(" OR ")));
        }
        for (op, bound) in [(">", q.after), ("<", q.before)] {
            if let Some(v) = bound {
                let p = self.push(SqlBind::Int(v));
                parts.push(format!("date {op} {p}"));
            }
        }
        parts.join(" AND ")
    }

    /// The ORDER BY clause of `q`: the column, then the id in the same direction
    /// (`WP_Comment_Query` adds `comment_ID` as the tie-break).
    pub fn comment_order(&mut self, q: &CommentQuery) -> String {
        let dir = if q.ascending { "ASC" } else { "DESC" };
        if q.orderby == CommentOrderBy::Include && !q.include.is_empty() {
            return self.position("comment.id", SqlBind::Ints(q.include.clone()));
        }
        let col = match q.orderby {
            CommentOrderBy::Id => return format!("id {dir}"),
            CommentOrderBy::Post => "post_id",
            CommentOrderBy::Parent => "parent",
            CommentOrderBy::Type => "comment_type",
            CommentOrderBy::Date | CommentOrderBy::Include => "date",
        };
        format!("{col} {dir}, id {dir}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_numbers_postgres_placeholders_in_bind_order() {
        let q = CommentQuery {
            post_ids: vec![1, 2],
            statuses: vec!["1".into()],
            search: Some("a_b".into()),
            after: Some(5),
            ..CommentQuery::default()
        };
        let mut sql = QuerySql::new(Dialect::Postgres);
        let f = sql.comment_filter(&q);
        assert!(f.contains("post_id = ANY($1)"));
        assert!(f.contains("approved = ANY($2)"));
        assert!(f.contains("date > $8"));
        assert_eq!(sql.binds.len(), 8);
        assert!(matches!(&sql.binds[2], SqlBind::Text(t) if t == "%a\\_b%"));
    }
}
