//! `ferropress term …`: WP-CLI's `Term_Command` (wp-cli/entity-command) for `category` and
//! `post_tag`. Writes are REST requests to `/wp/v2/categories` and `/wp/v2/tags` as an
//! administrator (`cli::local`), so names, slugs and parents are checked as over HTTP.

use anyhow::{Context as _, anyhow, bail};
use clap::Subcommand;
use serde_json::{Map, Value, json};

use crate::config::StorageArgs;

use super::local::{GlobalArgs, Local};
use super::output::{FormatArgs, Formatter, Item, success};

#[derive(Debug, Subcommand)]
pub enum TermCommand {
    /// Create a new term.
    Create {
        /// Taxonomy for the new term (category or post_tag).
        taxonomy: String,
        /// A name for the new term.
        term: String,
        /// A unique slug for the new term.
        #[arg(long)]
        slug: Option<String>,
        /// A description for the new term.
        #[arg(long)]
        description: Option<String>,
        /// A parent for the new term.
        #[arg(long)]
        parent: Option<i64>,
        /// Output just the new term id.
        #[arg(long)]
        porcelain: bool,
    },
    /// List terms in a taxonomy.
    List {
        /// List terms of one or more taxonomies.
        #[arg(required = true)]
        taxonomies: Vec<String>,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Get details about a term.
    Get {
        taxonomy: String,
        /// ID of the term to get.
        term: String,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Update an existing term.
    Update {
        taxonomy: String,
        /// ID of the term to update.
        term: String,
        /// A new name for the term.
        #[arg(long)]
        name: Option<String>,
        /// A new slug for the term.
        #[arg(long)]
        slug: Option<String>,
        /// A new description for the term.
        #[arg(long)]
        description: Option<String>,
        /// A new parent for the term.
        #[arg(long)]
        parent: Option<i64>,
    },
    /// Delete existing terms.
    Delete {
        taxonomy: String,
        /// One or more IDs of terms to delete.
        #[arg(required = true)]
        terms: Vec<String>,
    },
}

const TERM_FIELDS: &[&str] = &[
    "term_id",
    "term_taxonomy_id",
    "name",
    "slug",
    "description",
    "parent",
    "count",
];

/// The REST route of a taxonomy, with WP-CLI's message for any other.
fn route(taxonomy: &str) -> anyhow::Result<&'static str> {
    match taxonomy {
        "category" => Ok("/wp/v2/categories"),
        "post_tag" => Ok("/wp/v2/tags"),
        other => Err(anyhow!("Taxonomy {other} doesn't exist.")),
    }
}

/// A REST term under `WP_Term`'s field names.
fn term_item(t: &Value, taxonomy: &str) -> Item {
    let mut o = Map::new();
    o.insert("term_id".into(), t["id"].clone());
    o.insert("term_taxonomy_id".into(), t["id"].clone());
    o.insert("name".into(), t["name"].clone());
    o.insert("slug".into(), t["slug"].clone());
    o.insert("description".into(), t["description"].clone());
    o.insert("parent".into(), json!(t["parent"].as_i64().unwrap_or(0)));
    o.insert("count".into(), t["count"].clone());
    o.insert("taxonomy".into(), json!(taxonomy));
    o
}

fn body(
    name: Option<String>,
    slug: Option<String>,
    description: Option<String>,
    parent: Option<i64>,
) -> Value {
    let mut b = Map::new();
    for (k, v) in [("name", name), ("slug", slug), ("description", description)] {
        if let Some(v) = v {
            b.insert(k.into(), json!(v));
        }
    }
    if let Some(p) = parent {
        b.insert("parent".into(), json!(p));
    }
    Value::Object(b)
}

/// The term's ID, with WP-CLI's message when it is not one of the taxonomy.
async fn term_id(local: &Local, taxonomy: &str, raw: &str) -> anyhow::Result<i64> {
    let id = raw.trim().parse::<i64>().ok();
    let found = match id {
        Some(id) => local.site.store.term_by_id(id).await?,
        None => None,
    };
    found
        .filter(|t| t.taxonomy == taxonomy)
        .map(|t| t.id)
        .ok_or_else(|| anyhow!("Term doesn't exist."))
}

pub async fn run(
    cmd: TermCommand,
    storage: &StorageArgs,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    let local = Local::open(storage, global).await?;
    match cmd {
        TermCommand::Create {
            taxonomy,
            term,
            slug,
            description,
            parent,
            porcelain,
        } => {
            let route = route(&taxonomy)?;
            let api = local.rest().await?;
            let made = api
                .post(route, &body(Some(term), slug, description, parent))
                .await?;
            let id = made["id"].as_i64().context("term id")?;
            if porcelain {
                println!("{id}");
            } else {
                success(&format!("Created {taxonomy} {id}."));
            }
        }
        TermCommand::List { taxonomies, format } => {
            let api = local.rest().await?;
            let mut items = vec![];
            for taxonomy in &taxonomies {
                let route = route(taxonomy)?;
                let terms = api
                    .get_all(route, &[("context", "edit"), ("hide_empty", "false")])
                    .await?;
                items.extend(terms.iter().map(|t| term_item(t, taxonomy)));
            }
            Formatter {
                args: &format,
                default_fields: TERM_FIELDS,
                prefix: "",
            }
            .items(&items)?;
        }
        TermCommand::Get {
            taxonomy,
            term,
            format,
        } => {
            let route = route(&taxonomy)?;
            let id = term_id(&local, &taxonomy, &term).await?;
            let api = local.rest().await?;
            let t = api
                .get(&format!("{route}/{id}"), &[("context", "edit")])
                .await?;
            Formatter {
                args: &format,
                default_fields: &[],
                prefix: "",
            }
            .item(&term_item(&t, &taxonomy))?;
        }
        TermCommand::Update {
            taxonomy,
            term,
            name,
            slug,
            description,
            parent,
        } => {
            let route = route(&taxonomy)?;
            let id = term_id(&local, &taxonomy, &term).await?;
            let b = body(name, slug, description, parent);
            if b.as_object().is_some_and(Map::is_empty) {
                bail!("Need some fields to update.");
            }
            local
                .rest()
                .await?
                .post(&format!("{route}/{id}"), &b)
                .await?;
            success("Term updated.");
        }
        TermCommand::Delete { taxonomy, terms } => {
            let route = route(&taxonomy)?;
            let api = local.rest().await?;
            let (mut done, mut failed) = (0, 0);
            for raw in &terms {
                let deleted = match term_id(&local, &taxonomy, raw).await {
                    Ok(id) => api
                        .delete(&format!("{route}/{id}"), &[("force", "true")])
                        .await
                        .map(|_| id),
                    Err(e) => Err(e),
                };
                match deleted {
                    Ok(id) => {
                        println!("Deleted {taxonomy} {id}.");
                        done += 1;
                    }
                    Err(e) => {
                        eprintln!("Warning: {e}");
                        failed += 1;
                    }
                }
            }
            // `report_batch_operation_results()`.
            let total = terms.len();
            match (done, failed) {
                (_, 0) => success(&format!("Deleted {done} of {total} terms.")),
                (0, _) => bail!("No terms deleted."),
                _ => bail!("Only deleted {done} of {total} terms."),
            }
        }
    }
    Ok(())
}
