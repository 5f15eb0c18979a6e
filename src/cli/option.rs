//! `ferropress option get|update|list`: WP-CLI's `Option_Command` (wp-cli/entity-command)
//! for the options the REST settings route exposes (`register_initial_settings()`); reads
//! and writes go through `/wp/v2/settings` as an administrator, with its validation.

use anyhow::{anyhow, bail};
use clap::Subcommand;
use serde_json::{Map, Value, json};

use crate::config::StorageArgs;

use super::local::{GlobalArgs, Local};
use super::output::{FormatArgs, Formatter, Item, scalar, success};

#[derive(Debug, Subcommand)]
pub enum OptionCommand {
    /// Get the value for an option.
    Get {
        /// Key for the option.
        key: String,
        /// Get the value in a particular format: plaintext or json.
        #[arg(long)]
        format: Option<String>,
    },
    /// Update an option value.
    Update {
        /// The name of the option to update.
        key: String,
        /// The new value.
        value: String,
    },
    /// List options and their values.
    List {
        /// Use wildcards ( * and ? ) to match option name.
        #[arg(long)]
        search: Option<String>,
        #[command(flatten)]
        format: FormatArgs,
    },
}

/// `fnmatch()` with `*` and `?`, iterative (no backtracking blow-up on hostile patterns).
fn wildcard(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The option's value as `get_option()` returns it (booleans as "1" or "").
fn option_value(v: &Value) -> String {
    scalar(v)
}

pub async fn run(
    cmd: OptionCommand,
    storage: &StorageArgs,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    let local = Local::open(storage, global).await?;
    let api = local.rest().await?;
    let names = crate::rest::settings::option_names();
    match cmd {
        OptionCommand::Get { key, format } => {
            let not_found = || anyhow!("Could not get '{key}' option. Does it exist?");
            let rest_name = names
                .iter()
                .find(|(_, option)| *option == key)
                .map(|(name, _)| *name)
                .ok_or_else(not_found)?;
            let settings = api.get("/wp/v2/settings", &[]).await?;
            let v = settings.get(rest_name).ok_or_else(not_found)?;
            match format.as_deref() {
                Some("json") => println!("{}", json!(option_value(v))),
                _ => println!("{}", option_value(v)),
            }
        }
        OptionCommand::Update { key, value } => {
            let Some(rest_name) = names
                .iter()
                .find(|(_, option)| *option == key)
                .map(|(name, _)| *name)
            else {
                bail!("Could not update option '{key}'.");
            };
            let settings = api.get("/wp/v2/settings", &[]).await?;
            if settings.get(rest_name).map(option_value).as_deref() == Some(value.as_str()) {
                success(&format!("Value passed for '{key}' option is unchanged."));
                return Ok(());
            }
            let mut body = Map::new();
            body.insert(rest_name.to_owned(), Value::String(value));
            api.post("/wp/v2/settings", &Value::Object(body)).await?;
            success(&format!("Updated '{key}' option."));
        }
        OptionCommand::List { search, format } => {
            let settings = api.get("/wp/v2/settings", &[]).await?;
            let items: Vec<Item> = names
                .iter()
                .filter(|(_, option)| search.as_deref().is_none_or(|p| wildcard(p, option)))
                .filter_map(|(name, option)| {
                    let v = settings.get(*name)?;
                    let mut o = Map::new();
                    o.insert("option_name".into(), json!(option));
                    o.insert("option_value".into(), json!(option_value(v)));
                    Some(o)
                })
                .collect();
            Formatter {
                args: &format,
                default_fields: &["option_name", "option_value"],
                prefix: "",
            }
            .items(&items)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn wildcards_match_as_fnmatch() {
        assert!(wildcard("blog*", "blogname"));
        assert!(wildcard("*_format", "date_format"));
        assert!(wildcard("p?sts_per_page", "posts_per_page"));
        assert!(!wildcard("blog", "blogname"));
        assert!(wildcard("*", ""));
    }
}
