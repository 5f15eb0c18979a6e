//! `ferropress post …` (and `page …`): WP-CLI's `Post_Command` and `Post_Meta_Command`
//! (wp-cli/entity-command). Writes are REST requests to `/wp/v2/{rest_base}` as an
//! administrator (`cli::local`): the same validation, KSES, slugs, guid and revisions as a
//! client's request. Reads map the REST `edit` context back to `WP_Post` field names.

use std::io::Read as _;

use anyhow::{Context as _, anyhow, bail};
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use crate::config::StorageArgs;
use crate::site::Site;

use super::local::{Api, GlobalArgs, Local, parse_id};
use super::output::{FormatArgs, Formatter, Item, scalar, success};

/// `wp_insert_post()` fields a command may set (`--post_title=…`).
#[derive(Debug, Clone, Default, Args)]
pub struct PostFields {
    /// The post type (`post`, `page` or a type of ferropress.toml).
    #[arg(long = "post_type")]
    pub post_type: Option<String>,
    /// The post title.
    #[arg(long = "post_title")]
    pub post_title: Option<String>,
    /// The post content.
    #[arg(long = "post_content")]
    pub post_content: Option<String>,
    /// The post excerpt.
    #[arg(long = "post_excerpt")]
    pub post_excerpt: Option<String>,
    /// The post status (draft, publish, pending, private, future).
    #[arg(long = "post_status")]
    pub post_status: Option<String>,
    /// The ID of the user who added the post.
    #[arg(long = "post_author")]
    pub post_author: Option<String>,
    /// The date of the post (`Y-m-d H:i:s`, site time).
    #[arg(long = "post_date")]
    pub post_date: Option<String>,
    /// The date of the post in GMT.
    #[arg(long = "post_date_gmt")]
    pub post_date_gmt: Option<String>,
    /// The post name (slug).
    #[arg(long = "post_name")]
    pub post_name: Option<String>,
    /// The password to access the post.
    #[arg(long = "post_password")]
    pub post_password: Option<String>,
    /// The post's parent ID.
    #[arg(long = "post_parent")]
    pub post_parent: Option<String>,
    /// The order the post is displayed in.
    #[arg(long = "menu_order")]
    pub menu_order: Option<String>,
    /// Whether the post can accept comments (open or closed).
    #[arg(long = "comment_status")]
    pub comment_status: Option<String>,
    /// Whether the post can accept pings (open or closed).
    #[arg(long = "ping_status")]
    pub ping_status: Option<String>,
    /// Category names, slugs or IDs (comma-separated).
    #[arg(long = "post_category")]
    pub post_category: Option<String>,
    /// Tag names (comma-separated); missing tags are created.
    #[arg(long = "tags_input")]
    pub tags_input: Option<String>,
    /// Post meta values keyed by meta key, as a JSON object.
    #[arg(long = "meta_input")]
    pub meta_input: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PostCommand {
    /// Create a new post.
    Create {
        /// Read post content from <file>; `-` reads standard input.
        file: Option<String>,
        #[command(flatten)]
        fields: PostFields,
        /// Output just the new post id.
        #[arg(long)]
        porcelain: bool,
    },
    /// Update one or more existing posts.
    Update {
        /// One or more IDs of posts to update.
        #[arg(required = true)]
        ids: Vec<String>,
        /// Read post content from <file> (the last argument); `-` reads standard input.
        #[arg(long = "file", hide = true)]
        file: Option<String>,
        #[command(flatten)]
        fields: PostFields,
    },
    /// Get details about a post.
    Get {
        /// The ID of the post to get.
        id: String,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Get a list of posts.
    List {
        /// One or more post types, comma-separated (default `post`).
        #[arg(long = "post_type")]
        post_type: Option<String>,
        /// Post status(es), comma-separated (default `any`).
        #[arg(long = "post_status")]
        post_status: Option<String>,
        /// Author ID(s), comma-separated.
        #[arg(long)]
        author: Option<String>,
        /// Search keyword.
        #[arg(long)]
        s: Option<String>,
        /// Post slug.
        #[arg(long)]
        name: Option<String>,
        /// Post IDs, comma-separated.
        #[arg(long = "post__in")]
        post_in: Option<String>,
        /// Category ID (`cat`).
        #[arg(long)]
        cat: Option<String>,
        /// Tag ID (`tag_id`).
        #[arg(long = "tag_id")]
        tag_id: Option<String>,
        /// Number of posts to show (`-1` for all).
        #[arg(long = "posts_per_page", allow_hyphen_values = true)]
        posts_per_page: Option<i64>,
        /// Page of results.
        #[arg(long)]
        paged: Option<i64>,
        /// Order by: date, title, ID, modified, name, menu_order, author, parent.
        #[arg(long)]
        orderby: Option<String>,
        /// ASC or DESC.
        #[arg(long)]
        order: Option<String>,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Delete an existing post (to the trash unless --force).
    Delete {
        /// One or more IDs of posts to delete.
        #[arg(required = true)]
        ids: Vec<String>,
        /// Skip the trash bin.
        #[arg(long)]
        force: bool,
    },
    /// Add, update, delete and list post custom fields.
    #[command(subcommand)]
    Meta(MetaCommand),
}

#[derive(Debug, Subcommand)]
pub enum MetaCommand {
    /// Get meta field value.
    Get {
        id: String,
        key: String,
        /// Render output in a particular format (var_export ignored).
        #[arg(long)]
        format: Option<String>,
    },
    /// Update a meta field.
    #[command(visible_alias = "update")]
    Set {
        id: String,
        key: String,
        value: String,
    },
    /// Delete a meta field.
    Delete {
        id: String,
        key: Option<String>,
        /// Delete all meta for the object.
        #[arg(long)]
        all: bool,
    },
    /// List all metadata associated with an object.
    List {
        id: String,
        /// Limit output to metadata of specific keys (comma-separated).
        #[arg(long)]
        keys: Option<String>,
        #[command(flatten)]
        format: FormatArgs,
    },
}

const POST_FIELDS: &[&str] = &["ID", "post_title", "post_name", "post_date", "post_status"];

/// The post type's REST base, with WP-CLI's message for an unknown type.
fn rest_base(site: &Site, post_type: &str) -> anyhow::Result<String> {
    site.post_type(post_type)
        .map(|pt| pt.rest_base.clone())
        .ok_or_else(|| anyhow!("'{post_type}' is not a registered post type."))
}

/// `read_from_file_or_stdin()`.
fn read_content(file: &str) -> anyhow::Result<String> {
    if file == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("Unable to read content from STDIN.")?;
        return Ok(s);
    }
    std::fs::read_to_string(file).map_err(|_| anyhow!("Unable to read content from '{file}'."))
}

/// `get_category_ids()`: each of names, slugs or IDs must be an existing category.
async fn category_ids(local: &Local, list: &str) -> anyhow::Result<Vec<i64>> {
    let mut ids = vec![];
    for raw in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let found = term_exists(local, "category", raw).await?;
        match found {
            Some(id) => ids.push(id),
            None => bail!("No such post category '{raw}'."),
        }
    }
    Ok(ids)
}

/// `term_exists()`: an ID, then a slug, then a name.
pub async fn term_exists(local: &Local, taxonomy: &str, raw: &str) -> anyhow::Result<Option<i64>> {
    let store = &local.site.store;
    if let Ok(id) = raw.parse::<i64>() {
        return Ok(store
            .term_by_id(id)
            .await?
            .filter(|t| t.taxonomy == taxonomy)
            .map(|t| t.id));
    }
    let slug = crate::formatting::sanitize_title(raw);
    let q = crate::store::TermQuery {
        taxonomy: taxonomy.to_owned(),
        slugs: vec![slug],
        limit: 1,
        ..Default::default()
    };
    if let Some(t) = store.query_terms(&q).await?.0.first() {
        return Ok(Some(t.id));
    }
    Ok(store.term_named(taxonomy, raw, None, 0).await?)
}

/// `tags_input`: names of tags, created when missing (`wp_set_post_tags()`).
async fn tag_ids(local: &Local, api: &Api<'_>, list: &str) -> anyhow::Result<Vec<i64>> {
    let mut ids = vec![];
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let id = match term_exists(local, "post_tag", name).await? {
            Some(id) => id,
            None => {
                let made = api.post("/wp/v2/tags", &json!({ "name": name })).await?;
                made["id"].as_i64().context("tag id")?
            }
        };
        ids.push(id);
    }
    Ok(ids)
}

/// `Y-m-d H:i:s` as the REST date format (`T` between date and time).
fn rest_date(s: &str) -> String {
    s.trim().replacen(' ', "T", 1)
}

/// The REST body for `fields`, and the meta keys the post type does not register (written
/// with `update_post_meta()`, which has no checks of its own).
async fn rest_body(
    local: &Local,
    api: &Api<'_>,
    post_type: &str,
    fields: PostFields,
    content: Option<String>,
) -> anyhow::Result<(Map<String, Value>, Vec<(String, String)>)> {
    let mut body = Map::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            body.insert(k.to_owned(), Value::String(v));
        }
    };
    put("title", fields.post_title);
    put("content", content.or(fields.post_content));
    put("excerpt", fields.post_excerpt);
    put("status", fields.post_status);
    put("slug", fields.post_name);
    put("password", fields.post_password);
    put("comment_status", fields.comment_status);
    put("ping_status", fields.ping_status);
    put("date", fields.post_date.as_deref().map(rest_date));
    put("date_gmt", fields.post_date_gmt.as_deref().map(rest_date));
    for (k, v) in [
        ("author", fields.post_author),
        ("parent", fields.post_parent),
        ("menu_order", fields.menu_order),
    ] {
        if let Some(v) = v {
            let n: i64 = v
                .trim()
                .parse()
                .map_err(|_| anyhow!("Invalid value for --{k}: '{v}'"))?;
            body.insert(k.to_owned(), json!(n));
        }
    }
    if let Some(list) = fields.post_category {
        body.insert(
            "categories".into(),
            json!(category_ids(local, &list).await?),
        );
    }
    if let Some(list) = fields.tags_input {
        body.insert("tags".into(), json!(tag_ids(local, api, &list).await?));
    }
    let mut unregistered = vec![];
    if let Some(raw) = fields.meta_input {
        let Ok(Value::Object(meta)) = serde_json::from_str::<Value>(&raw) else {
            bail!("Invalid JSON: --meta_input must be a JSON object.");
        };
        let pt = local.site.post_type(post_type);
        let mut registered = Map::new();
        for (k, v) in meta {
            if k == "_thumbnail_id" {
                body.insert(
                    "featured_media".into(),
                    json!(scalar(&v).parse::<i64>().unwrap_or(0)),
                );
            } else if pt.is_some_and(|pt| pt.meta.iter().any(|m| m.key == k)) {
                registered.insert(k, v);
            } else {
                unregistered.push((k, scalar(&v)));
            }
        }
        if !registered.is_empty() {
            body.insert("meta".into(), Value::Object(registered));
        }
    }
    Ok((body, unregistered))
}

/// A REST post (context `edit`) under `WP_Post`'s field names.
fn post_item(p: &Value) -> Item {
    let raw = |k: &str| {
        p.get(k)
            .and_then(|v| v.get("raw").or(Some(v)))
            .map(scalar)
            .unwrap_or_default()
    };
    let date = |k: &str| raw(k).replacen('T', " ", 1);
    let mut o = Map::new();
    o.insert("ID".into(), p["id"].clone());
    o.insert("post_author".into(), json!(raw("author")));
    o.insert("post_date".into(), json!(date("date")));
    o.insert("post_date_gmt".into(), json!(date("date_gmt")));
    o.insert("post_content".into(), json!(raw("content")));
    o.insert("post_title".into(), json!(raw("title")));
    o.insert("post_excerpt".into(), json!(raw("excerpt")));
    o.insert("post_status".into(), json!(raw("status")));
    o.insert("comment_status".into(), json!(raw("comment_status")));
    o.insert("ping_status".into(), json!(raw("ping_status")));
    o.insert("post_password".into(), json!(raw("password")));
    o.insert("post_name".into(), json!(raw("slug")));
    o.insert("post_modified".into(), json!(date("modified")));
    o.insert("post_modified_gmt".into(), json!(date("modified_gmt")));
    o.insert(
        "post_parent".into(),
        json!(p["parent"].as_i64().unwrap_or(0)),
    );
    o.insert("guid".into(), json!(raw("guid")));
    o.insert(
        "menu_order".into(),
        json!(p["menu_order"].as_i64().unwrap_or(0)),
    );
    o.insert("post_type".into(), json!(raw("type")));
    o.insert("post_mime_type".into(), json!(raw("mime_type")));
    o.insert("url".into(), json!(raw("link")));
    o
}

/// The post with this ID and its REST route.
async fn find_post(local: &Local, raw: &str) -> anyhow::Result<(i64, String)> {
    let id = parse_id("post", raw)?;
    let post = local
        .site
        .store
        .post_by_id(id)
        .await?
        .ok_or_else(|| anyhow!("Could not find the post with ID {id}."))?;
    let base = rest_base(&local.site, &post.post_type)?;
    Ok((id, format!("/wp/v2/{base}/{id}")))
}

pub async fn run(
    cmd: PostCommand,
    default_type: &str,
    storage: &StorageArgs,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    let local = Local::open(storage, global).await?;
    match cmd {
        PostCommand::Create {
            file,
            fields,
            porcelain,
        } => {
            let post_type = fields
                .post_type
                .clone()
                .unwrap_or_else(|| default_type.to_owned());
            let base = rest_base(&local.site, &post_type)?;
            let content = file.as_deref().map(read_content).transpose()?;
            let api = local.rest().await?;
            let (body, unregistered) = rest_body(&local, &api, &post_type, fields, content).await?;
            let made = api
                .post(&format!("/wp/v2/{base}"), &Value::Object(body))
                .await?;
            let id = made["id"].as_i64().context("post id")?;
            for (k, v) in unregistered {
                local.site.store.set_post_meta(id, &k, &[v]).await?;
            }
            if porcelain {
                println!("{id}");
            } else {
                success(&format!("Created post {id}."));
            }
        }
        PostCommand::Update { ids, file, fields } => {
            // `wp post update 12 file.txt`: a last argument that is not an ID is the file.
            let mut ids = ids;
            let mut file = file;
            if ids.len() > 1 && ids.last().is_some_and(|l| l.parse::<i64>().is_err()) {
                file = ids.pop();
            }
            let content = file.as_deref().map(read_content).transpose()?;
            let api = local.rest().await?;
            for raw in &ids {
                let (id, route) = find_post(&local, raw).await?;
                let post_type = local
                    .site
                    .store
                    .post_by_id(id)
                    .await?
                    .map(|p| p.post_type)
                    .unwrap_or_default();
                let (body, unregistered) =
                    rest_body(&local, &api, &post_type, fields.clone(), content.clone()).await?;
                if body.is_empty() && unregistered.is_empty() {
                    bail!("Need some fields to update.");
                }
                if !body.is_empty() {
                    api.post(&route, &Value::Object(body)).await?;
                }
                for (k, v) in unregistered {
                    local.site.store.set_post_meta(id, &k, &[v]).await?;
                }
                success(&format!("Updated post {id}."));
            }
        }
        PostCommand::Get { id, format } => {
            let (_, route) = find_post(&local, &id).await?;
            let api = local.rest().await?;
            let post = api.get(&route, &[("context", "edit")]).await?;
            Formatter {
                args: &format,
                default_fields: &[],
                prefix: "post",
            }
            .item(&post_item(&post))?;
        }
        PostCommand::List {
            post_type,
            post_status,
            author,
            s,
            name,
            post_in,
            cat,
            tag_id,
            posts_per_page,
            paged,
            orderby,
            order,
            format,
        } => {
            let api = local.rest().await?;
            let types = post_type.unwrap_or_else(|| default_type.to_owned());
            let status = post_status.unwrap_or_else(|| "any".to_owned());
            let orderby = orderby.map(|o| match o.as_str() {
                "ID" => "id".to_owned(),
                "name" | "post_name" => "slug".to_owned(),
                "post_title" => "title".to_owned(),
                "post_date" => "date".to_owned(),
                other => other.to_owned(),
            });
            let order = order.map(|o| o.to_ascii_lowercase());
            let mut q: Vec<(&str, &str)> = vec![("context", "edit"), ("status", &status)];
            for (k, v) in [
                ("author", &author),
                ("search", &s),
                ("slug", &name),
                ("include", &post_in),
                ("categories", &cat),
                ("tags", &tag_id),
                ("orderby", &orderby),
                ("order", &order),
            ] {
                if let Some(v) = v {
                    q.push((k, v));
                }
            }
            let mut items = vec![];
            for t in types.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                let route = format!("/wp/v2/{}", rest_base(&local.site, t)?);
                let posts = match (posts_per_page.filter(|n| *n > 0), paged) {
                    (Some(n), page) => {
                        let (n, page) = (n.to_string(), page.unwrap_or(1).to_string());
                        let mut q = q.clone();
                        q.push(("per_page", &n));
                        q.push(("page", &page));
                        match api.get(&route, &q).await? {
                            Value::Array(a) => a,
                            _ => vec![],
                        }
                    }
                    (None, _) => api.get_all(&route, &q).await?,
                };
                items.extend(posts.iter().map(post_item));
            }
            Formatter {
                args: &format,
                default_fields: POST_FIELDS,
                prefix: "post",
            }
            .items(&items)?;
        }
        PostCommand::Delete { ids, force } => {
            let api = local.rest().await?;
            let mut failed = 0;
            for raw in &ids {
                let (id, route) = match find_post(&local, raw).await {
                    Ok(found) => found,
                    Err(e) => {
                        eprintln!("Warning: {e}");
                        failed += 1;
                        continue;
                    }
                };
                // `delete_callback()`: a post already in the trash is deleted for good.
                let in_trash = local
                    .site
                    .store
                    .post_by_id(id)
                    .await?
                    .is_some_and(|p| p.status == "trash");
                let force = force || in_trash;
                let query: &[(&str, &str)] = if force { &[("force", "true")] } else { &[] };
                match api.delete(&route, query).await {
                    Ok(_) if force => success(&format!("Deleted post {id}.")),
                    Ok(_) => success(&format!("Trashed post {id}.")),
                    Err(e) => {
                        eprintln!("Warning: Failed deleting post {id}: {e}");
                        failed += 1;
                    }
                }
            }
            if failed > 0 {
                bail!("Failed deleting {failed} of {} posts.", ids.len());
            }
        }
        PostCommand::Meta(cmd) => meta(&local, cmd).await?,
    }
    Ok(())
}

/// Whether the post's type registers `key` (then the REST `meta` field validates it).
async fn registered_key(local: &Local, id: i64, key: &str) -> anyhow::Result<bool> {
    let post = local.site.store.post_by_id(id).await?;
    Ok(post
        .and_then(|p| local.site.post_type(&p.post_type).cloned())
        .is_some_and(|pt| pt.meta.iter().any(|m| m.key == key)))
}

/// The post's meta rows as `get_post_meta()` has them: ferropress keeps the featured image
/// in its own column, WordPress under `_thumbnail_id`.
async fn meta_rows(local: &Local, id: i64) -> anyhow::Result<Vec<(i64, String, String)>> {
    let mut rows = local.site.store.post_meta(&[id]).await?;
    if let Some(p) = local.site.store.post_by_id(id).await?
        && p.featured_media > 0
    {
        rows.insert(
            0,
            (id, "_thumbnail_id".into(), p.featured_media.to_string()),
        );
    }
    Ok(rows)
}

async fn meta(local: &Local, cmd: MetaCommand) -> anyhow::Result<()> {
    let store = &local.site.store;
    match cmd {
        MetaCommand::Get { id, key, format } => {
            let (id, _) = find_post(local, &id).await?;
            let rows = meta_rows(local, id).await?;
            // `get_metadata( 'post', $id, $key, true )`: the first value.
            let Some((_, _, value)) = rows.iter().find(|(_, k, _)| *k == key) else {
                return Err(super::Halt(1).into());
            };
            match format.as_deref() {
                Some("json") => println!("{}", Value::String(value.clone())),
                _ => println!("{value}"),
            }
        }
        MetaCommand::Set { id, key, value } => {
            let (id, route) = find_post(local, &id).await?;
            let current = meta_rows(local, id).await?;
            let old: Vec<&str> = current
                .iter()
                .filter(|(_, k, _)| *k == key)
                .map(|(_, _, v)| v.as_str())
                .collect();
            if old == [value.as_str()] {
                success(&format!(
                    "Value passed for custom field '{key}' is unchanged."
                ));
                return Ok(());
            }
            if key == "_thumbnail_id" {
                let media: i64 = value.trim().parse().unwrap_or(0);
                local
                    .rest()
                    .await?
                    .post(&route, &json!({ "featured_media": media }))
                    .await?;
            } else if registered_key(local, id, &key).await? {
                let mut meta = Map::new();
                meta.insert(key.clone(), Value::String(value));
                local
                    .rest()
                    .await?
                    .post(&route, &json!({ "meta": meta }))
                    .await?;
            } else {
                store.set_post_meta(id, &key, &[value]).await?;
            }
            success(&format!("Updated custom field '{key}'."));
        }
        MetaCommand::Delete { id, key, all } => {
            let (id, route) = find_post(local, &id).await?;
            let keys: Vec<String> = match (key, all) {
                (Some(k), false) => vec![k],
                (None, true) => {
                    let mut ks: Vec<String> = store
                        .post_meta(&[id])
                        .await?
                        .into_iter()
                        .map(|(_, k, _)| k)
                        .collect();
                    ks.dedup();
                    ks
                }
                _ => bail!("Please specify a meta key, or use the --all flag."),
            };
            let existing = meta_rows(local, id).await?;
            if !all && !existing.iter().any(|(_, k, _)| keys.contains(k)) {
                bail!("Failed to delete custom field.");
            }
            for k in &keys {
                if k == "_thumbnail_id" {
                    local
                        .rest()
                        .await?
                        .post(&route, &json!({ "featured_media": 0 }))
                        .await?;
                } else if registered_key(local, id, k).await? {
                    let mut meta = Map::new();
                    meta.insert(k.clone(), Value::Null);
                    local
                        .rest()
                        .await?
                        .post(&route, &json!({ "meta": meta }))
                        .await?;
                } else {
                    store.set_post_meta(id, k, &[]).await?;
                }
            }
            success(if all {
                "Deleted all custom fields."
            } else {
                "Deleted custom field."
            });
        }
        MetaCommand::List { id, keys, format } => {
            let (id, _) = find_post(local, &id).await?;
            let wanted: Option<Vec<&str>> = keys.as_deref().map(|k| k.split(',').collect());
            let items: Vec<Item> = meta_rows(local, id)
                .await?
                .into_iter()
                .filter(|(_, k, _)| wanted.as_ref().is_none_or(|w| w.contains(&k.as_str())))
                .map(|(pid, k, v)| {
                    let mut o = Map::new();
                    o.insert("post_id".into(), json!(pid));
                    o.insert("meta_key".into(), json!(k));
                    o.insert("meta_value".into(), json!(v));
                    o
                })
                .collect();
            Formatter {
                args: &format,
                default_fields: &["post_id", "meta_key", "meta_value"],
                prefix: "",
            }
            .items(&items)?;
        }
    }
    Ok(())
}
