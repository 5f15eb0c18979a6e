//! `ferropress import wordpress`: reads a live WordPress site through its REST API
//! (`context=edit`, authenticated with an Application Password, page by page) and hands
//! what it reads to the same [`Importer`] as a WXR file.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context as _, anyhow, bail};
use futures_util::StreamExt as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{Importer, Report};
use crate::rest::revisions::{self, REVISION};
use crate::wxr::php_meta_value;
use crate::wxr::read::{Author, Comment, Item, Term};

/// Items per page (`per_page`'s maximum).
const PER_PAGE: u32 = 100;

/// The source site and who reads it.
pub struct Source {
    /// The site's address, e.g. `https://example.com` (its REST API at `/wp-json/`).
    pub url: String,
    pub user: String,
    pub app_password: SecretString,
}

struct Client<'a> {
    http: reqwest::Client,
    source: &'a Source,
    delay: std::time::Duration,
    /// The importer's leaves to send a request to the source (`--concurrency`).
    requests: Arc<Semaphore>,
}

/// A collection the user may not read (`rest_cannot_read` and the like: revisions of a post
/// the user cannot edit).
#[derive(Debug, thiserror::Error)]
#[error("{0}: HTTP {1}, not readable with this user's rights")]
struct Unreadable(String, reqwest::StatusCode);

impl Client<'_> {
    /// One page of a collection, and the number of pages (`X-WP-TotalPages`). Only while no
    /// download is under way (it takes a leave without letting downloads finish: see
    /// [`Importer::source_request`]).
    async fn page(&self, route: &str, query: &str, page: u32) -> anyhow::Result<(Vec<Value>, u32)> {
        let leave = self.requests.clone().acquire_owned().await?;
        self.page_with(leave, route, query, page).await
    }

    /// [`Self::page`] with a leave already taken, held until the page and `--delay` are over.
    async fn page_with(
        &self,
        _leave: OwnedSemaphorePermit,
        route: &str,
        query: &str,
        page: u32,
    ) -> anyhow::Result<(Vec<Value>, u32)> {
        let url = format!(
            "{}/wp-json/{route}?context=edit&per_page={PER_PAGE}&page={page}{query}",
            self.source.url
        );
        let resp = self
            .http
            .get(&url)
            .basic_auth(
                &self.source.user,
                Some(self.source.app_password.expose_secret()),
            )
            .send()
            .await
            .with_context(|| format!("requesting {url}"))?;
        let status = resp.status();
        let pages = resp
            .headers()
            .get("x-wp-totalpages")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        let body: Value = resp
            .json()
            .await
            .with_context(|| format!("reading {url}"))?;
        tokio::time::sleep(self.delay).await;
        if !status.is_success() {
            // Past the last page WordPress answers 400 rest_post_invalid_page_number.
            if body["code"]
                .as_str()
                .is_some_and(|c| c.ends_with("invalid_page_number"))
            {
                return Ok((vec![], pages));
            }
            if matches!(
                status,
                reqwest::StatusCode::UNAUTHORIZED | reqwest::StatusCode::FORBIDDEN
            ) {
                return Err(Unreadable(url, status).into());
            }
            bail!(
                "{url}: HTTP {status}: {}",
                body["message"].as_str().unwrap_or("no message")
            );
        }
        match body {
            Value::Array(items) => Ok((items, pages)),
            _ => Err(anyhow!("{url}: not a list")),
        }
    }

    /// Every item of a collection.
    async fn all(&self, route: &str, query: &str) -> anyhow::Result<Vec<Value>> {
        let mut out = vec![];
        let mut page = 1;
        loop {
            let (items, pages) = self.page(route, query, page).await?;
            let done = items.is_empty() || page >= pages;
            out.extend(items);
            if done {
                return Ok(out);
            }
            page += 1;
        }
    }
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Object(o) => o
            .get("raw")
            .or_else(|| o.get("rendered"))
            .map(s)
            .unwrap_or_default(),
        other => other.to_string(),
    }
}

fn id(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

/// A REST date (`2026-12-07T10:00:00`) as MySQL writes it.
fn mysql(v: &Value) -> String {
    v.as_str().map(|d| d.replace('T', " ")).unwrap_or_default()
}

/// Imports everything the user can read on the source site.
pub async fn import(mut importer: Importer, source: Source) -> anyhow::Result<Report> {
    let opts = importer.options();
    let concurrency = opts.concurrency.max(1);
    let client = Client {
        http: opts.client.clone(),
        source: &source,
        delay: opts.delay,
        requests: importer.source_requests(),
    };
    importer.set_source(&source.url).await?;

    // Users, with their roles; which had Application Passwords.
    for u in client.all("wp/v2/users", "&orderby=id&order=asc").await? {
        let login = s(&u["username"]);
        let tokens = client
            .page(
                &format!("wp/v2/users/{}/application-passwords", id(&u["id"])),
                "",
                1,
            )
            .await
            .map(|(t, _)| t.len())
            .unwrap_or(0);
        if tokens > 0 {
            importer.report.had_app_passwords.push(login.clone());
        }
        let registered = u["registered_date"]
            .as_str()
            .and_then(|d| d.parse::<jiff::Timestamp>().ok())
            .map(jiff::Timestamp::as_second);
        importer
            .author(Author {
                id: id(&u["id"]),
                login,
                email: s(&u["email"]),
                display_name: s(&u["name"]),
                first_name: s(&u["first_name"]),
                last_name: s(&u["last_name"]),
                roles: u["roles"]
                    .as_array()
                    .map(|r| r.iter().map(s).collect())
                    .unwrap_or_default(),
                nickname: s(&u["nickname"]),
                description: s(&u["description"]),
                url: s(&u["url"]),
                slug: s(&u["slug"]),
                registered,
            })
            .await?;
    }

    // Terms, parents first; their slugs by id for the posts.
    let mut term_slugs: HashMap<i64, (String, String, String)> = HashMap::new();
    for (route, taxonomy) in [("wp/v2/categories", "category"), ("wp/v2/tags", "post_tag")] {
        let terms = client
            .all(route, "&orderby=id&order=asc&hide_empty=false")
            .await?;
        let slug_of: HashMap<i64, String> = terms
            .iter()
            .map(|t| (id(&t["id"]), s(&t["slug"])))
            .collect();
        let mut ordered: Vec<&Value> = vec![];
        let mut placed = std::collections::HashSet::new();
        let mut rest: Vec<&Value> = terms.iter().collect();
        while !rest.is_empty() {
            let before = rest.len();
            let (ready, later): (Vec<&Value>, Vec<&Value>) = rest.into_iter().partition(|t| {
                let p = id(&t["parent"]);
                p == 0 || !slug_of.contains_key(&p) || placed.contains(&p)
            });
            for t in ready {
                placed.insert(id(&t["id"]));
                ordered.push(t);
            }
            rest = later;
            if rest.len() == before {
                ordered.append(&mut rest);
            }
        }
        for t in ordered {
            term_slugs.insert(
                id(&t["id"]),
                (taxonomy.to_owned(), s(&t["slug"]), s(&t["name"])),
            );
            importer
                .term(Term {
                    id: id(&t["id"]),
                    taxonomy: taxonomy.to_owned(),
                    slug: s(&t["slug"]),
                    parent_slug: slug_of.get(&id(&t["parent"])).cloned().unwrap_or_default(),
                    name: s(&t["name"]),
                    description: s(&t["description"]),
                })
                .await?;
        }
    }

    // Comments by post (any status the REST API lists for an editor).
    let mut comments: HashMap<i64, Vec<Comment>> = HashMap::new();
    for status in ["approve", "hold", "spam", "trash"] {
        let list = client
            .all(
                "wp/v2/comments",
                &format!("&status={status}&orderby=id&order=asc"),
            )
            .await?;
        for c in list {
            let approved = match c["status"].as_str().unwrap_or("") {
                "approved" => "1",
                "hold" | "unapproved" => "0",
                other => other,
            }
            .to_owned();
            comments.entry(id(&c["post"])).or_default().push(Comment {
                id: id(&c["id"]),
                author: s(&c["author_name"]),
                author_email: s(&c["author_email"]),
                author_url: s(&c["author_url"]),
                author_ip: s(&c["author_ip"]),
                date: mysql(&c["date"]),
                date_gmt: mysql(&c["date_gmt"]),
                content: s(&c["content"]),
                approved,
                comment_type: s(&c["type"]),
                parent: id(&c["parent"]),
                user_id: id(&c["author"]),
                agent: s(&c["author_user_agent"]),
            });
        }
    }
    for list in comments.values_mut() {
        list.sort_by_key(|c| c.id);
    }

    // Media first (featured images then link at once), pages, posts, this site's types.
    let mut bases: Vec<(String, String)> = vec![
        ("media".into(), String::new()),
        ("pages".into(), "&status=any".into()),
        ("posts".into(), "&status=any".into()),
    ];
    for pt in &importer.site().config.post_types {
        if !matches!(pt.name.as_str(), "post" | "page" | "attachment") {
            bases.push((pt.rest_base.clone(), "&status=any".into()));
        }
    }
    // Posts with revisions here and there: (id there, rest base, how many).
    let mut revisioned: Vec<(i64, String, u64)> = vec![];
    for (base, query) in bases {
        let keeps_revisions = importer
            .site()
            .post_type_by_base(&base)
            .is_some_and(revisions::supported);
        let mut page = 1;
        loop {
            // Downloads of media items are under way meanwhile: the leave is taken while
            // they go on.
            let leave = importer.source_request().await?;
            let (items, pages) = client
                .page_with(
                    leave,
                    &format!("wp/v2/{base}"),
                    &format!("{query}&orderby=id&order=asc"),
                    page,
                )
                .await?;
            let done = items.is_empty() || page >= pages;
            for p in items {
                let count = p["_links"]["version-history"][0]["count"]
                    .as_u64()
                    .unwrap_or(0);
                if keeps_revisions && count > 0 {
                    revisioned.push((id(&p["id"]), base.clone(), count));
                }
                let item = to_item(
                    &p,
                    &term_slugs,
                    comments.remove(&id(&p["id"])).unwrap_or_default(),
                );
                importer.item(Box::new(item)).await?;
            }
            if done {
                break;
            }
            page += 1;
        }
    }

    // Revisions, once their posts are written (readable only by who may edit the post:
    // the others are counted as skipped). Their lists are fetched `--concurrency` at once.
    importer.flush().await?;
    let mut lists = futures_util::stream::iter(revisioned)
        .map(|(post, base, count)| {
            let client = &client;
            async move {
                let list = client
                    .all(
                        &format!("wp/v2/{base}/{post}/revisions"),
                        "&orderby=id&order=asc",
                    )
                    .await;
                (count, list)
            }
        })
        .buffer_unordered(concurrency);
    while let Some((count, list)) = lists.next().await {
        match list {
            Ok(list) => {
                for r in list {
                    importer.revision(Box::new(to_revision(&r))).await?;
                }
            }
            Err(e) if e.is::<Unreadable>() => importer.report.revisions.skipped += count,
            Err(e) => return Err(e),
        }
    }
    importer.finish().await
}

/// A REST revision as the item it would be in a WXR file.
fn to_revision(r: &Value) -> Item {
    Item {
        title: s(&r["title"]),
        guid: s(&r["guid"]),
        author_id: Some(id(&r["author"])),
        content: s(&r["content"]),
        excerpt: s(&r["excerpt"]),
        post_id: id(&r["id"]),
        post_date: mysql(&r["date"]),
        post_date_gmt: mysql(&r["date_gmt"]),
        post_modified: mysql(&r["modified"]),
        post_modified_gmt: mysql(&r["modified_gmt"]),
        // What `_wp_put_post_revision()` writes.
        comment_status: "closed".into(),
        ping_status: "closed".into(),
        post_name: s(&r["slug"]),
        status: "inherit".into(),
        post_parent: id(&r["parent"]),
        post_type: REVISION.into(),
        ..Item::default()
    }
}

/// A REST post (or media item) as the WXR item it would be.
fn to_item(
    p: &Value,
    term_slugs: &HashMap<i64, (String, String, String)>,
    comments: Vec<Comment>,
) -> Item {
    let post_type = s(&p["type"]);
    let media = post_type == "attachment";
    let mut meta: Vec<(String, String)> = vec![];
    if let Some(m) = p["meta"].as_object() {
        for (k, v) in m {
            match v {
                // A multi-valued key: one row per value.
                Value::Array(values) => {
                    for x in values {
                        meta.push((k.clone(), php_meta_value(&x.to_string())));
                    }
                }
                Value::String(x) if x.is_empty() => {}
                _ => meta.push((k.clone(), php_meta_value(&v.to_string()))),
            }
        }
    }
    let featured = id(&p["featured_media"]);
    if featured > 0 {
        meta.push(("_thumbnail_id".into(), featured.to_string()));
    }
    if media {
        let file = p["media_details"]["file"].as_str().unwrap_or_default();
        if !file.is_empty() {
            meta.push(("_wp_attached_file".into(), file.to_owned()));
        }
        let alt = s(&p["alt_text"]);
        if !alt.is_empty() {
            meta.push(("_wp_attachment_image_alt".into(), alt));
        }
    }
    let mut terms = vec![];
    for key in ["categories", "tags"] {
        for t in p[key].as_array().into_iter().flatten() {
            if let Some(t) = term_slugs.get(&id(t)) {
                terms.push(t.clone());
            }
        }
    }
    if let Some(f) = p["format"].as_str().filter(|f| *f != "standard") {
        terms.push((
            "post_format".into(),
            format!("post-format-{f}"),
            f.to_owned(),
        ));
    }
    Item {
        title: s(&p["title"]),
        guid: s(&p["guid"]),
        creator: String::new(),
        author_id: Some(id(&p["author"])),
        // An attachment's description is its content, its caption its excerpt.
        content: if media {
            s(&p["description"])
        } else {
            s(&p["content"])
        },
        excerpt: if media {
            s(&p["caption"])
        } else {
            s(&p["excerpt"])
        },
        post_id: id(&p["id"]),
        post_date: mysql(&p["date"]),
        post_date_gmt: mysql(&p["date_gmt"]),
        post_modified: mysql(&p["modified"]),
        post_modified_gmt: mysql(&p["modified_gmt"]),
        comment_status: s(&p["comment_status"]),
        ping_status: s(&p["ping_status"]),
        post_name: s(&p["slug"]),
        status: s(&p["status"]),
        post_parent: if media {
            id(&p["post"])
        } else {
            id(&p["parent"])
        },
        menu_order: id(&p["menu_order"]),
        post_type,
        post_password: s(&p["password"]),
        is_sticky: p["sticky"].as_bool().unwrap_or(false),
        attachment_url: s(&p["source_url"]),
        terms,
        meta,
        comments,
    }
}
