//! `_embed`: `WP_REST_Server::embed_links()`. Every `embeddable` link of a response (or of
//! each item of a collection) is fetched as the same user with `context=embed` and placed
//! under `_embedded[rel]`; errors are embedded as their envelope. A collection link without
//! `per_page` is fetched with its handler's `per_page` maximum.

use std::collections::HashMap;

use axum::body::{Body, to_bytes};
use axum::http::Request;
use serde_json::{Map, Value};
use tower::ServiceExt;

use crate::auth::Auth;
use crate::site::Site;

use super::{PREFIX, Transport};

/// Embedded responses larger than this are left out rather than buffered.
const MAX_EMBED_BYTES: usize = 8 * 1024 * 1024;

/// The embedding of one response: `rels` limits which link relations (empty: all).
pub struct Embedder<'a> {
    pub site: &'a Site,
    pub auth: &'a Auth,
    pub transport: Transport,
    pub rels: &'a [String],
    cache: HashMap<String, Value>,
}

impl<'a> Embedder<'a> {
    /// `rels` is sorted and without duplicates (`global_params::Reader::finish`).
    pub fn new(site: &'a Site, auth: &'a Auth, transport: Transport, rels: &'a [String]) -> Self {
        Self {
            site,
            auth,
            transport,
            rels,
            cache: HashMap::new(),
        }
    }

    /// Adds `_embedded` to an item, or to every item of a collection.
    pub async fn embed(&mut self, data: &mut Value) {
        match data {
            Value::Array(items) => {
                for item in items {
                    self.embed_item(item).await;
                }
            }
            item => self.embed_item(item).await,
        }
    }

    async fn embed_item(&mut self, item: &mut Value) {
        let Some(links) = item.get("_links").and_then(Value::as_object).cloned() else {
            return;
        };
        let mut embedded = Map::new();
        for (rel, list) in links {
            if !self.rels.is_empty() && self.rels.binary_search(&rel).is_err() {
                continue;
            }
            let Some(list) = list.as_array() else {
                continue;
            };
            let mut embeds = vec![];
            for link in list {
                if link.get("embeddable") != Some(&Value::Bool(true)) {
                    continue;
                }
                let Some(href) = link.get("href").and_then(Value::as_str) else {
                    continue;
                };
                if let Some(v) = self.fetch(href).await {
                    embeds.push(v);
                }
            }
            if !embeds.is_empty() {
                embedded.insert(rel, Value::Array(embeds));
            }
        }
        if !embedded.is_empty()
            && let Some(o) = item.as_object_mut()
        {
            o.insert("_embedded".into(), Value::Object(embedded));
        }
    }

    /// A GET of one of our own routes with `context=embed`, as the same user.
    async fn fetch(&mut self, href: &str) -> Option<Value> {
        if let Some(v) = self.cache.get(href) {
            return Some(v.clone());
        }
        let root = format!("{}{PREFIX}", self.site.config.home);
        let rest = href.strip_prefix(&root)?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        // The serializer is not Send: finish it before awaiting.
        let query = {
            let mut ser = form_urlencoded::Serializer::new(String::new());
            let mut per_page = false;
            for (k, v) in form_urlencoded::parse(query.as_bytes()) {
                if k != "context" {
                    // PHP's `empty()`: "" and "0" ask for nothing.
                    per_page |= k == "per_page" && !v.is_empty() && v != "0";
                    ser.append_pair(&k, &v);
                }
            }
            ser.append_pair("context", "embed");
            // A collection is embedded whole up to its handler's `per_page` maximum (a post
            // with 30 tags embeds 30, not the first 10), as `embed_links()` asks.
            if !per_page && let Some(max) = super::registry::per_page_maximum(self.site, path) {
                ser.append_pair("per_page", &max.to_string());
            }
            ser.finish()
        };
        // Embedded resources are held to the token's scopes like requests of their own;
        // a refusal is embedded as the error, as WordPress embeds any error.
        if let Err(e) =
            crate::auth::scopes::check_path(self.site, self.auth, path, &axum::http::Method::GET)
        {
            let value = e.body();
            self.cache.insert(href.to_owned(), value.clone());
            return Some(value);
        }
        let uri = format!("{path}?{query}");
        let router = self.site.api()?;
        let mut req = Request::get(uri).body(Body::empty()).ok()?;
        req.extensions_mut().insert(self.auth.clone());
        req.extensions_mut().insert(self.transport);
        let resp = router.oneshot(req).await.ok()?;
        let bytes = to_bytes(resp.into_body(), MAX_EMBED_BYTES).await.ok()?;
        let value: Value = serde_json::from_slice(&bytes).ok()?;
        self.cache.insert(href.to_owned(), value.clone());
        Some(value)
    }
}
