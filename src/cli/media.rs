//! `ferropress media import <file|url>...`: WP-CLI's `Media_Command::import()`
//! (wp-cli/media-command). Each file is uploaded to `POST /wp/v2/media` as an administrator
//! (`cli::local`), so type checks, sizes and metadata are those of a client's upload; the
//! featured image is set through the post's own route.

use anyhow::{Context as _, anyhow, bail};
use clap::Args;
use serde_json::json;

use crate::config::StorageArgs;

use super::local::{Api, GlobalArgs, Local, MAX_IMPORT_BYTES};
use super::output::success;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Path to file or files to be imported; a URL is downloaded first.
    #[arg(required = true)]
    pub files: Vec<String>,
    /// ID of the post to attach the imported files to.
    #[arg(long = "post_id")]
    pub post_id: Option<i64>,
    /// Attachment title (post title field).
    #[arg(long)]
    pub title: Option<String>,
    /// Caption for attachment (post excerpt field).
    #[arg(long)]
    pub caption: Option<String>,
    /// Alt text for image (saved as post meta).
    #[arg(long)]
    pub alt: Option<String>,
    /// "Description" field (post content) of attachment post.
    #[arg(long)]
    pub desc: Option<String>,
    /// Set the imported image as the Featured Image of the post it is attached to.
    #[arg(long = "featured_image")]
    pub featured_image: bool,
    /// Output just the new attachment ID.
    #[arg(long)]
    pub porcelain: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum MediaCommand {
    /// Create attachments from local files or URLs.
    Import(ImportArgs),
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// The file's bytes and name: read from disk, or downloaded (bounded like an upload).
async fn fetch(source: &str) -> anyhow::Result<(Vec<u8>, String)> {
    if !is_url(source) {
        let path = std::path::Path::new(source);
        if !path.is_file() {
            bail!("File doesn't exist.");
        }
        let meta = std::fs::metadata(path)?;
        if meta.len() > MAX_IMPORT_BYTES {
            bail!("File is too large.");
        }
        let bytes = std::fs::read(path)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok((bytes, name));
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .user_agent(concat!("ferropress/", env!("CARGO_PKG_VERSION")))
        .timeout(std::time::Duration::from_secs(300))
        .build()?;
    let mut resp = client.get(source).send().await?;
    if !resp.status().is_success() {
        bail!("{}", resp.status());
    }
    let mut bytes = vec![];
    while let Some(chunk) = resp.chunk().await? {
        if (bytes.len() + chunk.len()) as u64 > MAX_IMPORT_BYTES {
            bail!("File is too large.");
        }
        bytes.extend_from_slice(&chunk);
    }
    // The name is the last path segment, without the query (`download_url()`).
    let path = source.split(['?', '#']).next().unwrap_or(source);
    let name = path.rsplit('/').next().unwrap_or("").to_owned();
    Ok((bytes, name))
}

async fn import_one(
    local: &Local,
    api: &Api<'_>,
    args: &ImportArgs,
    source: &str,
) -> anyhow::Result<i64> {
    let (bytes, name) = fetch(source).await?;
    let content_type = crate::media::filetype(&name).map_or("application/octet-stream", |t| t.1);
    let post = args.post_id.map(|p| p.to_string());
    let mut query: Vec<(&str, &str)> = vec![];
    for (k, v) in [
        ("post", &post),
        ("title", &args.title),
        ("caption", &args.caption),
        ("alt_text", &args.alt),
        ("description", &args.desc),
    ] {
        if let Some(v) = v {
            query.push((k, v));
        }
    }
    let made = api
        .upload("/wp/v2/media", &query, &name, content_type, bytes)
        .await?;
    let id = made["id"].as_i64().context("attachment id")?;
    if args.featured_image
        && let Some(post_id) = args.post_id
    {
        let post = local
            .site
            .store
            .post_by_id(post_id)
            .await?
            .ok_or_else(|| anyhow!("Invalid post ID {post_id}."))?;
        let base = local
            .site
            .post_type(&post.post_type)
            .map(|pt| pt.rest_base.clone())
            .ok_or_else(|| anyhow!("'{}' is not a registered post type.", post.post_type))?;
        api.post(
            &format!("/wp/v2/{base}/{post_id}"),
            &json!({ "featured_media": id }),
        )
        .await?;
    }
    Ok(id)
}

pub async fn run(
    cmd: MediaCommand,
    storage: &StorageArgs,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    let MediaCommand::Import(args) = cmd;
    let local = Local::open(storage, global).await?;
    if args.featured_image && args.post_id.is_none() {
        bail!("Featured image requires --post_id.");
    }
    let api = local.rest().await?;
    let mut done = 0;
    for source in &args.files {
        match import_one(&local, &api, &args, source).await {
            Ok(id) => {
                done += 1;
                if args.porcelain {
                    println!("{id}");
                    continue;
                }
                let mut line = format!("Imported file '{source}' as attachment ID {id}");
                if let Some(post) = args.post_id {
                    line.push_str(&format!(" and attached to post {post}"));
                    if args.featured_image {
                        line.push_str(" as featured image");
                    }
                }
                println!("{line}.");
            }
            Err(e) => eprintln!("Warning: Unable to import file {source}. Reason: {e}"),
        }
    }
    let total = args.files.len();
    if done < total {
        if done == 0 {
            bail!("No items imported.");
        }
        bail!("Only imported {done} of {total} items.");
    }
    if !args.porcelain {
        success(&format!("Imported {done} of {total} items."));
    }
    Ok(())
}
