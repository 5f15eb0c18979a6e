//! The site as the WP-CLI commands see it: the store of `--data-dir`/`--database-url` and
//! the site's own REST router, called in-process as an administrator. Every write goes
//! through the same route handler (validation, KSES, store, caches) as an HTTP request;
//! a running server sees it on its next request, because its read caches belong to the
//! database version every commit moves (`crate::cache`).

use std::sync::Arc;

use anyhow::{anyhow, bail};
use clap::Args;
use serde_json::Value as Json;

use crate::caps::Role;
use crate::config::{SiteConfig, StorageArgs};
use crate::site::Site;
use crate::store::User;
use crate::xmlrpc::rest::Rest;

/// WP-CLI's global `--url` and `--user`.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Global parameters")]
pub struct GlobalArgs {
    /// The site address links are made with (WordPress's `home`); default
    /// `http://` + FERROPRESS_BIND, as `serve` does.
    #[arg(long = "url", global = true, env = "FERROPRESS_URL")]
    pub url: Option<String>,
    /// Run as this user (ID, login or email); default: the first administrator.
    #[arg(long = "user", id = "as_user", value_name = "USER", global = true)]
    pub user: Option<String>,
}

/// Largest upload `media import` takes (the REST route's own limit for this process).
pub const MAX_IMPORT_BYTES: u64 = 1 << 30;
/// Largest JSON body a command sends (a long `--post_content` file).
const MAX_BODY_BYTES: usize = 256 << 20;

pub struct Local {
    pub site: Arc<Site>,
    pub global: GlobalArgs,
}

impl Local {
    /// Opens the store and builds the REST router over it.
    pub async fn open(storage: &StorageArgs, global: &GlobalArgs) -> anyhow::Result<Self> {
        let post_types = crate::post_types::load(&storage.data_dir)?;
        let store = crate::server::open_store(storage).await?;
        let home = match &global.url {
            Some(u) => u.clone(),
            None => {
                let bind =
                    std::env::var("FERROPRESS_BIND").unwrap_or_else(|_| "127.0.0.1:8080".into());
                format!("http://{bind}")
            }
        }
        .trim_end_matches('/')
        .to_owned();
        let uploads_dir = std::env::var_os("FERROPRESS_UPLOADS_DIR")
            .map_or_else(|| storage.data_dir.join("uploads"), Into::into);
        let media = crate::media_store::MediaStore::open(uploads_dir, &storage.media)?;
        let config = SiteConfig {
            max_body_bytes: MAX_BODY_BYTES,
            max_upload_bytes: MAX_IMPORT_BYTES,
            max_token_lifetime: std::env::var("FERROPRESS_MAX_TOKEN_LIFETIME")
                .ok()
                .and_then(|v| crate::config::parse_duration_arg(&v).ok()),
            ..SiteConfig::offline(post_types, home, media)
        };
        let site = Site::new(store, config);
        // Events recorded here (tokens created or revoked, role and password changes) notify
        // the webhooks too, through the outbox the server delivers from.
        site.audit
            .set_hooks(crate::webhooks::load(&storage.data_dir)?);
        // Builds the routes and keeps them in `site.api`; the HTTP pipeline is not needed.
        let _ = crate::rest::routes(site.clone());
        Ok(Self {
            site,
            global: global.clone(),
        })
    }

    /// The user commands run as: `--user`, or the administrator with the lowest ID.
    pub async fn actor(&self) -> anyhow::Result<Arc<User>> {
        if let Some(key) = &self.global.user {
            return Ok(Arc::new(self.require_user(key).await?));
        }
        let users = self.site.store.list_users().await?;
        users
            .into_iter()
            .filter(|u| u.roles.contains(&Role::Administrator))
            .min_by_key(|u| u.id)
            .map(Arc::new)
            .ok_or_else(|| {
                anyhow!(
                    "No administrator to run as: create one with `ferropress user create <login> <email> --role=administrator`."
                )
            })
    }

    /// WP-CLI's user fetcher: ID, login or email.
    pub async fn require_user(&self, key: &str) -> anyhow::Result<User> {
        crate::users::find_user(&self.site, key)
            .await?
            .ok_or_else(|| anyhow!("Invalid user ID, email or login: '{key}'"))
    }

    /// The REST API as the acting user.
    pub async fn rest(&self) -> anyhow::Result<Api<'_>> {
        let user = self.actor().await?;
        Ok(Api {
            rest: Rest::for_user(&self.site, user, false),
        })
    }
}

/// REST requests whose error answers become the command's `Error:` line.
pub struct Api<'a> {
    rest: Rest<'a>,
}

fn answer(result: Result<(u16, Json), crate::xmlrpc::Fault>) -> anyhow::Result<Json> {
    let (status, body) = result.map_err(|f| anyhow!("{}", f.message))?;
    if status >= 400 {
        // `rest_invalid_param` names the parameters; the reasons are in `data.params`, and
        // they are what `wp_insert_*()` would have said.
        let details: Vec<&str> = body
            .pointer("/data/params")
            .and_then(Json::as_object)
            .map(|p| p.values().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        let message = if details.is_empty() {
            body.get("message")
                .and_then(Json::as_str)
                .map_or_else(|| format!("request failed ({status})"), str::to_owned)
        } else {
            details.join(" ")
        };
        bail!("{}", strip_tags(&message));
    }
    Ok(body)
}

/// WP-CLI prints `WP_Error` messages as text; some WordPress messages carry markup.
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

impl Api<'_> {
    pub async fn get(&self, route: &str, query: &[(&str, &str)]) -> anyhow::Result<Json> {
        answer(self.rest.get(route, query).await)
    }

    pub async fn post(&self, route: &str, body: &Json) -> anyhow::Result<Json> {
        answer(self.rest.post(route, body).await)
    }

    pub async fn delete(&self, route: &str, query: &[(&str, &str)]) -> anyhow::Result<Json> {
        answer(self.rest.delete(route, query).await)
    }

    pub async fn upload(
        &self,
        route: &str,
        query: &[(&str, &str)],
        filename: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> anyhow::Result<Json> {
        answer(
            self.rest
                .upload(route, query, filename, content_type, bytes)
                .await,
        )
    }

    /// Every page of a collection (`per_page=100`), as WP-CLI's lists are unpaginated.
    pub async fn get_all(&self, route: &str, query: &[(&str, &str)]) -> anyhow::Result<Vec<Json>> {
        let mut all = vec![];
        for page in 1.. {
            let page_s = page.to_string();
            let mut q: Vec<(&str, &str)> = query.to_vec();
            q.push(("per_page", "100"));
            q.push(("page", &page_s));
            let body = match self.get(route, &q).await {
                Ok(b) => b,
                // A last page of exactly 100: the next page number is out of range.
                Err(_) if page > 1 => break,
                Err(e) => return Err(e),
            };
            let Json::Array(items) = body else {
                bail!("unexpected answer from {route}");
            };
            let n = items.len();
            all.extend(items);
            if n < 100 {
                break;
            }
        }
        Ok(all)
    }
}

/// An ID argument, with WP-CLI's message for anything else.
pub fn parse_id(kind: &str, raw: &str) -> anyhow::Result<i64> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| anyhow!("Could not find the {kind} with ID {raw}."))
}
