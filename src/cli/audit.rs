//! `ferropress audit list` and `ferropress audit verify` (the audit log, `crate::audit`).

use anyhow::bail;
use clap::{Subcommand, ValueEnum};
use serde_json::Value;

use crate::audit::{Event, entry_json, verify};
use crate::config::StorageArgs;
use crate::store::AuditQuery;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List entries, newest first.
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Only entries about this user ID (`--user` is WP-CLI's global "run as").
        #[arg(long = "user_id")]
        user: Option<i64>,
        /// Only these events (repeatable or comma-separated), e.g. token.revoked.
        #[arg(long, value_delimiter = ',')]
        event: Vec<String>,
        /// At most this many entries.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Check the hash chain; exits 1 naming the first entry that does not verify.
    Verify,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

const COLUMNS: [&str; 8] = [
    "id", "date_gmt", "event", "user", "actor", "token", "ip", "data",
];

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

pub async fn run(cmd: AuditCommand, storage: &StorageArgs) -> anyhow::Result<()> {
    let store = crate::server::open_store(storage).await?;
    let result = run_on(cmd, store.as_ref()).await;
    store.close().await;
    result
}

async fn run_on(cmd: AuditCommand, store: &dyn crate::store::Store) -> anyhow::Result<()> {
    match cmd {
        AuditCommand::List {
            format,
            user,
            event,
            limit,
        } => {
            for e in &event {
                if Event::from_name(e).is_none() {
                    bail!("unknown event {e:?}");
                }
            }
            let (entries, _) = store
                .query_audit(&AuditQuery {
                    user_id: user,
                    events: event,
                    since: None,
                    before: None,
                    limit: limit.clamp(1, 1_000_000),
                    offset: 0,
                })
                .await?;
            let items: Vec<Value> = entries.iter().map(entry_json).collect();
            match format {
                Format::Json => println!("{}", Value::Array(items)),
                Format::Csv => {
                    println!("{}", COLUMNS.join(","));
                    for item in &items {
                        let row: Vec<String> = COLUMNS
                            .iter()
                            .map(|c| csv_field(&cell(&item[*c])))
                            .collect();
                        println!("{}", row.join(","));
                    }
                }
                Format::Table => {
                    let rows: Vec<Vec<String>> = items
                        .iter()
                        .map(|item| COLUMNS.iter().map(|c| cell(&item[*c])).collect())
                        .collect();
                    super::output::print_table(&COLUMNS.map(String::from), &rows);
                }
            }
            Ok(())
        }
        AuditCommand::Verify => match verify(store).await? {
            Ok(n) => {
                let noun = if n == 1 { "entry" } else { "entries" };
                println!("Success: the audit log verifies ({n} {noun}).");
                Ok(())
            }
            Err(broken) => bail!(
                "the audit log does not verify at entry {}: {}",
                broken.id,
                broken.reason
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_field("a"), "a");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("{\"x\":1}"), "\"{\"\"x\"\":1}\"");
    }
}
