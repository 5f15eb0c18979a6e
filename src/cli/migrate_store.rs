//! `ferropress migrate-store --from sqlite:PATH --to postgres://…`: copies a SQLite data dir
//! into an empty PostgreSQL database, ids, hashes and all, then checks the row counts.
//!
//! The copy reads one consistent SQLite snapshot and writes in one PostgreSQL transaction:
//! either everything arrives or nothing does. Columns are taken from the PostgreSQL schema,
//! so a column added to both engines' migrations is copied without changes here; a table
//! this command does not know stops it instead of being left behind.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use secrecy::{ExposeSecret as _, SecretString};
use sqlx::{AssertSqlSafe, Postgres, QueryBuilder, Row as _};

use crate::config::parse_secret;
use crate::store::postgres::{PostgresStore, is_postgres_url};
use crate::store::sqlite::{FILE_NAME, SqliteStore};

#[derive(Debug, clap::Args)]
pub struct MigrateStoreArgs {
    /// The source: `sqlite:PATH`, PATH being a data dir or its `ferropress.db` file.
    #[arg(long)]
    pub from: String,
    /// The target: `postgres://…`, a database without users, tokens or posts.
    #[arg(
        long,
        env = "FERROPRESS_DATABASE_URL",
        hide_env_values = true,
        value_parser = parse_secret
    )]
    pub to: SecretString,
}

/// Every table, parents before children (foreign keys). Options are seeded by the
/// migrations on both sides, so they are upserted.
const TABLES: &[&str] = &[
    "user",
    "session_token",
    "application_password",
    "post",
    "postmeta",
    "comment",
    "term",
    "term_relationship",
    "option",
    "audit_log",
    "audit_anchor",
    "webhook_outbox",
    "application_password_seen",
    "import_map",
];
/// Tables that must be empty in the target before the copy.
const MUST_BE_EMPTY: &[&str] = &[
    "user",
    "session_token",
    "application_password",
    "post",
    "postmeta",
    "comment",
    "term_relationship",
    "audit_log",
    "audit_anchor",
    "webhook_outbox",
    "application_password_seen",
    "import_map",
];
/// Tables whose `id` comes from a sequence that must continue after the copied ids.
const ID_SEQUENCES: &[&str] = &[
    "user",
    "post",
    "postmeta",
    "comment",
    "term",
    "webhook_outbox",
];
/// Rows per INSERT (PostgreSQL allows 65,535 parameters per statement).
const CHUNK: i64 = 500;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Int,
    Text,
    Bool,
}

/// One column value, as read from SQLite and bound for PostgreSQL.
enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(Option<bool>),
}

pub async fn run(args: MigrateStoreArgs) -> anyhow::Result<()> {
    let Some(path) = args.from.strip_prefix("sqlite:") else {
        bail!("--from must be sqlite:PATH (a data dir or its {FILE_NAME})");
    };
    let mut file = PathBuf::from(path);
    if file.is_dir() {
        file = file.join(FILE_NAME);
    }
    if !file.is_file() {
        bail!("no SQLite database at {}", file.display());
    }
    if !is_postgres_url(args.to.expose_secret()) {
        bail!("--to must start with postgres:// or postgresql://");
    }

    let source = SqliteStore::open_file(&file)
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    let target = PostgresStore::open(&args.to)
        .await
        .context("opening the PostgreSQL database")?;

    // One read transaction: a server still writing to the file does not tear the copy.
    let mut src = source.pool().begin().await?;
    let mut dst = target.pool().begin().await?;
    // Nobody else writes these tables until the copy commits.
    sqlx::query(
        r#"LOCK TABLE "user", session_token, application_password, post, postmeta, comment, term, term_relationship, option, audit_log, audit_anchor, webhook_outbox, application_password_seen, import_map IN SHARE ROW EXCLUSIVE MODE"#,
    )
    .execute(&mut *dst)
    .await?;

    let known: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
           AND table_name NOT LIKE '\\_sqlx%' ORDER BY table_name",
    )
    .fetch_all(&mut *dst)
    .await?;
    if let Some(t) = known.iter().find(|t| !TABLES.contains(&t.as_str())) {
        bail!("migrate-store does not know how to copy table {t}");
    }
    for table in MUST_BE_EMPTY {
        let n: i64 =
            sqlx::query_scalar(AssertSqlSafe(format!(r#"SELECT COUNT(*) FROM "{table}""#)))
                .fetch_one(&mut *dst)
                .await?;
        if n > 0 {
            bail!(
                "the PostgreSQL database already has {n} row(s) in {table}; migrate-store copies into an empty database only"
            );
        }
    }

    let mut counts = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let n: i64 =
            sqlx::query_scalar(AssertSqlSafe(format!(r#"SELECT COUNT(*) FROM "{table}""#)))
                .fetch_one(&mut *src)
                .await?;
        counts.push(n);
    }
    let mut progress = Progress::new(counts.iter().sum());

    for (table, &expected) in TABLES.iter().zip(&counts) {
        let columns = target_columns(&mut dst, table).await?;
        let list = columns
            .iter()
            .map(|(c, _)| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let mut after: i64 = 0;
        let mut copied: i64 = 0;
        progress.table(table, expected);
        loop {
            let rows = sqlx::query(AssertSqlSafe(format!(
                r#"SELECT rowid, {list} FROM "{table}" WHERE rowid > ? ORDER BY rowid LIMIT ?"#
            )))
            .bind(after)
            .bind(CHUNK)
            .fetch_all(&mut *src)
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get(0)?;
            let mut values = Vec::with_capacity(rows.len());
            for row in &rows {
                let mut vals = Vec::with_capacity(columns.len());
                for (i, (_, kind)) in columns.iter().enumerate() {
                    // Column 0 is the rowid.
                    vals.push(match kind {
                        Kind::Int => Value::Int(row.try_get(i + 1)?),
                        Kind::Text => Value::Text(row.try_get(i + 1)?),
                        Kind::Bool => Value::Bool(row.try_get(i + 1)?),
                    });
                }
                values.push(vals);
            }
            let mut insert: QueryBuilder<Postgres> =
                QueryBuilder::new(format!(r#"INSERT INTO "{table}" ({list}) "#));
            insert.push_values(values, |mut b, vals| {
                for v in vals {
                    match v {
                        Value::Int(x) => b.push_bind(x),
                        Value::Text(x) => b.push_bind(x),
                        Value::Bool(x) => b.push_bind(x),
                    };
                }
            });
            // Seeded by the migrations on both sides: the copy wins.
            if *table == "option" {
                insert.push(" ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value");
            }
            if *table == "term" {
                insert.push(
                    " ON CONFLICT (id) DO UPDATE SET taxonomy = EXCLUDED.taxonomy, \
                     name = EXCLUDED.name, slug = EXCLUDED.slug, \
                     description = EXCLUDED.description, parent = EXCLUDED.parent, \
                     name_fold = EXCLUDED.name_fold",
                );
            }
            insert.build().execute(&mut *dst).await?;
            copied += i64::try_from(rows.len())?;
            progress.advance(i64::try_from(rows.len())?, copied);
        }
    }
    progress.finish();

    // Ids continue after the highest ever used, as SQLite's AUTOINCREMENT would (its
    // counter may be above MAX(id) when the newest rows were deleted).
    for table in ID_SEQUENCES {
        let used: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM sqlite_sequence WHERE name = ?")
                .bind(table)
                .fetch_optional(&mut *src)
                .await?;
        sqlx::query(AssertSqlSafe(format!(
            r#"SELECT setval(pg_get_serial_sequence('"{table}"', 'id'), GREATEST(v, 1), v > 0)
               FROM (SELECT GREATEST($1, (SELECT COALESCE(MAX(id), 0) FROM "{table}")) AS v) AS s"#
        )))
        .bind(used.unwrap_or(0))
        .execute(&mut *dst)
        .await?;
    }

    // Row counts must match before anything is committed.
    let mut summary = vec![];
    for (table, &expected) in TABLES.iter().zip(&counts) {
        let got: i64 =
            sqlx::query_scalar(AssertSqlSafe(format!(r#"SELECT COUNT(*) FROM "{table}""#)))
                .fetch_one(&mut *dst)
                .await?;
        if got != expected {
            bail!(
                "row count mismatch in {table}: {expected} in SQLite, {got} in PostgreSQL; nothing was committed"
            );
        }
        summary.push(format!("{got} {table}"));
    }
    dst.commit().await?;
    src.rollback().await?;
    target.pool().close().await;
    source.pool().close().await;
    println!(
        "Success: Copied {} (row counts verified).",
        summary.join(", ")
    );
    Ok(())
}

/// The target table's columns and how to read them, in table order. Columns generated by
/// PostgreSQL alone (`GENERATED ALWAYS`: the insertion order of Application Passwords) are
/// left to it; rows are copied in SQLite's rowid order so that order is kept.
async fn target_columns(
    dst: &mut sqlx::PgConnection,
    table: &str,
) -> anyhow::Result<Vec<(String, Kind)>> {
    let rows = sqlx::query(
        "SELECT column_name::text AS name, data_type::text AS ty FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 \
           AND NOT (is_identity = 'YES' AND identity_generation = 'ALWAYS') \
         ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *dst)
    .await?;
    let mut columns = Vec::with_capacity(rows.len());
    for row in rows {
        let name: String = row.try_get("name")?;
        let ty: String = row.try_get("ty")?;
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            bail!("unexpected column name {name:?} in {table}");
        }
        let kind = match ty.as_str() {
            "bigint" | "integer" | "smallint" => Kind::Int,
            "text" | "character varying" => Kind::Text,
            "boolean" => Kind::Bool,
            other => bail!("migrate-store cannot copy {table}.{name} of type {other}"),
        };
        columns.push((name, kind));
    }
    Ok(columns)
}

/// Progress on stderr: a bar redrawn in place on a terminal, a line now and then otherwise.
struct Progress {
    total: i64,
    done: i64,
    tty: bool,
    table: String,
    table_rows: i64,
    last_line: Instant,
}

impl Progress {
    fn new(total: i64) -> Self {
        Self {
            total,
            done: 0,
            tty: std::io::stderr().is_terminal(),
            table: String::new(),
            table_rows: 0,
            last_line: Instant::now(),
        }
    }

    fn table(&mut self, name: &str, rows: i64) {
        self.table = name.to_owned();
        self.table_rows = rows;
        if !self.tty {
            eprintln!("migrate-store: copying {name} ({rows} rows)");
        }
        self.draw(0);
    }

    fn advance(&mut self, rows: i64, table_done: i64) {
        self.done += rows;
        if self.tty || self.last_line.elapsed() >= Duration::from_secs(1) {
            self.last_line = Instant::now();
            self.draw(table_done);
        }
    }

    fn draw(&self, table_done: i64) {
        let pct = (self.done * 100).checked_div(self.total).unwrap_or(100);
        if self.tty {
            let filled = usize::try_from(pct / 5).unwrap_or(0);
            let mut err = std::io::stderr();
            let _ = write!(
                err,
                "\r[{}{}] {pct:>3}% {} {table_done}/{}\x1b[K",
                "#".repeat(filled),
                " ".repeat(20 - filled.min(20)),
                self.table,
                self.table_rows
            );
            let _ = err.flush();
        } else if table_done > 0 {
            eprintln!(
                "migrate-store: {pct:>3}% {} {table_done}/{}",
                self.table, self.table_rows
            );
        }
    }

    fn finish(&self) {
        if self.tty {
            eprintln!("\r[{}] 100% done\x1b[K", "#".repeat(20));
        } else {
            eprintln!("migrate-store: 100% copied {} rows", self.done);
        }
    }
}
