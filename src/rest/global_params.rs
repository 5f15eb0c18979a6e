//! Global parameters that reshape any REST response after dispatch: `_fields`
//! (`rest_filter_response_fields()`) and `_envelope` (`WP_REST_Server::envelope_response()`).

use std::collections::HashMap;

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value};

use crate::auth::Auth;
use crate::site::Site;

use super::json_response;

/// Levels of a `_fields` path kept (`a.b.c` is 3). Deeper levels could only filter inside
/// objects nested deeper than any response has; keeping them let `a.a.a…` build a tree
/// whose recursive drop overflowed the stack.
const MAX_FIELD_DEPTH: usize = 64;

/// A response body larger than this is passed through untouched rather than buffered.
const MAX_RESHAPE_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Default)]
pub struct GlobalParams {
    /// `_fields`, as the nested tree of accepted field names.
    fields: Option<FieldTree>,
    envelope: bool,
    /// `_embed`: the link relations to embed (empty: all).
    embed: Option<Vec<String>>,
}

/// `{"title": {"rendered": Leaf}, "id": Leaf}`: what `_fields=id,title.rendered` keeps.
/// A map, not a list: `_fields=a1,a2,…` with 100,000 names was a scan of the list per name.
/// Its order does not matter: the filtered response keeps the response's own order.
#[derive(Debug, Default)]
struct FieldTree(HashMap<String, Node>);

#[derive(Debug)]
enum Node {
    Leaf,
    Tree(FieldTree),
}

impl FieldTree {
    fn get(&self, key: &str) -> Option<&Node> {
        self.0.get(key)
    }

    /// Adds `a.b.c`; a parent already accepted whole keeps its sub-fields. A loop, not
    /// recursion, and at most `MAX_FIELD_DEPTH` levels, so `a.a.a…` cannot overflow the stack.
    fn insert(&mut self, path: &[&str]) {
        let path = &path[..path.len().min(MAX_FIELD_DEPTH)];
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut tree = self;
        for p in parents {
            let node = tree
                .0
                .entry((*p).to_owned())
                .or_insert_with(|| Node::Tree(FieldTree::default()));
            match node {
                Node::Tree(t) => tree = t,
                Node::Leaf => return,
            }
        }
        tree.0.insert((*last).to_owned(), Node::Leaf);
    }

    /// `_rest_array_intersect_key_recursive()`.
    fn filter(&self, value: Value) -> Value {
        let Value::Object(map) = value else {
            return value;
        };
        let mut out = Map::new();
        for (k, v) in map {
            match self.get(&k) {
                None => {}
                Some(Node::Leaf) => {
                    out.insert(k, v);
                }
                Some(Node::Tree(t)) => {
                    let filtered = if v.is_object() { t.filter(v) } else { v };
                    out.insert(k, filtered);
                }
            }
        }
        // PHP serializes an emptied associative array as `[]`.
        if out.is_empty() {
            Value::Array(vec![])
        } else {
            Value::Object(out)
        }
    }
}

/// A `previous` item of a delete response as WordPress builds it: the controller's
/// `prepare_item_for_response()` keeps only the fields `_fields` names at the top level, so
/// `_fields=deleted,previous.slug` leaves `previous` empty.
pub fn previous_item(params: &super::params::Params, item: Value) -> Value {
    let list = match params.get("_fields") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(","),
        _ => return item,
    };
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("_fields", &list)
        .finish();
    match GlobalParams::from_query(Some(&query)).fields {
        Some(tree) => tree.filter(item),
        None => item,
    }
}

/// Reads the global parameters pair by pair, so the REST pipeline can read them in the
/// same pass over the query string as its other parameters (`_jsonp`, `context`).
#[derive(Debug, Default)]
pub struct Reader {
    params: GlobalParams,
    fields: Vec<String>,
}

impl Reader {
    /// One decoded `key=value` pair of the query string.
    pub fn read(&mut self, k: &str, v: &str) {
        match k {
            "_envelope" => self.params.envelope = true,
            // `rest_parse_embed_param()`: present, or a list of relations.
            "_embed" | "_embed[]" => {
                let rels = self.params.embed.get_or_insert_with(Vec::new);
                rels.extend(
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty() && *s != "1" && *s != "true")
                        .map(str::to_owned),
                );
            }
            // `wp_parse_list()`: comma- or space-separated, or `_fields[]=`.
            "_fields" | "_fields[]" => self.fields.extend(
                v.split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            ),
            _ => {}
        }
    }

    pub fn finish(self) -> GlobalParams {
        let Self { mut params, fields } = self;
        if !fields.is_empty() {
            let mut tree = FieldTree::default();
            for f in &fields {
                let parts: Vec<&str> = f.split('.').collect();
                // A sub-field of a field accepted whole adds nothing.
                let mut covered = false;
                let mut node = &tree;
                for p in &parts[..parts.len() - 1] {
                    match node.get(p) {
                        Some(Node::Leaf) => {
                            covered = true;
                            break;
                        }
                        Some(Node::Tree(t)) => node = t,
                        None => break,
                    }
                }
                if !covered {
                    tree.insert(&parts);
                }
            }
            params.fields = Some(tree);
        }
        // Sorted and unique, so that each link relation is looked up in log time
        // (`Embedder`), however long the list sent.
        if let Some(rels) = &mut params.embed {
            rels.sort_unstable();
            rels.dedup();
        }
        params
    }
}

impl GlobalParams {
    pub fn from_query(query: Option<&str>) -> Self {
        let mut reader = Reader::default();
        for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            reader.read(&k, &v);
        }
        reader.finish()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_none() && !self.envelope && self.embed.is_none()
    }

    /// Applies `_fields` to a successful JSON response, then `_envelope`. `links_apart`:
    /// the response's `_links` are links, not data (the indexes), so `_fields` keeps them.
    pub async fn apply(
        &self,
        resp: Response,
        links_apart: bool,
        embedder: Option<(&Site, &Auth, super::Transport)>,
    ) -> Response {
        if self.is_empty() {
            return resp;
        }
        let (parts, body) = resp.into_parts();
        let Ok(bytes) = to_bytes(body, MAX_RESHAPE_BYTES).await else {
            return json_response(StatusCode::INTERNAL_SERVER_ERROR, &Value::Null);
        };
        let Ok(mut data) = serde_json::from_slice::<Value>(&bytes) else {
            return Response::from_parts(parts, Body::from(bytes));
        };
        let ok = parts.status.as_u16() < 400;
        // A collection's items carry their links as data, so `_fields` filters them before
        // `_embed` looks at them; a single item's links are embedded first.
        let is_collection = data.is_array();
        if let (Some(rels), Some((site, auth, transport))) = (&self.embed, embedder)
            && ok
            && !is_collection
        {
            super::embed::Embedder::new(site, auth, transport, rels)
                .embed(&mut data)
                .await;
        }
        if let Some(tree) = &self.fields
            && ok
        {
            let links = if links_apart {
                data.get("_links").cloned()
            } else {
                None
            };
            data = match data {
                Value::Array(items) => {
                    Value::Array(items.into_iter().map(|i| tree.filter(i)).collect())
                }
                other => tree.filter(other),
            };
            if let Some(l) = links {
                if !data.is_object() {
                    data = Value::Object(Map::new());
                }
                if let Some(o) = data.as_object_mut() {
                    o.insert("_links".into(), l);
                }
            }
        }
        if let (Some(rels), Some((site, auth, transport))) = (&self.embed, embedder)
            && ok
            && is_collection
        {
            super::embed::Embedder::new(site, auth, transport, rels)
                .embed(&mut data)
                .await;
        }
        if self.envelope {
            let envelope = serde_json::json!({
                "body": data,
                "status": parts.status.as_u16(),
                "headers": envelope_headers(&parts.headers),
            });
            return json_response(StatusCode::OK, &envelope);
        }
        let mut resp = json_response(parts.status, &data);
        for (name, value) in &parts.headers {
            if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
                resp.headers_mut().append(name.clone(), value.clone());
            }
        }
        resp
    }
}

/// The response's own headers (not the ones every REST response gets), as WordPress names
/// them; the pagination totals are numbers there.
fn envelope_headers(headers: &HeaderMap) -> Value {
    let mut out = Map::new();
    for (name, value) in headers {
        let name = name.as_str();
        if name == "content-type" || name == "content-length" {
            continue;
        }
        let wp_name = match name {
            "x-wp-total" => "X-WP-Total".to_owned(),
            "x-wp-totalpages" => "X-WP-TotalPages".to_owned(),
            other => other
                .split('-')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join("-"),
        };
        let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
        let v = match (wp_name.as_str(), text.parse::<i64>()) {
            ("X-WP-Total" | "X-WP-TotalPages", Ok(n)) => Value::from(n),
            _ => Value::String(text),
        };
        match out.get_mut(&wp_name) {
            Some(Value::String(prev)) => {
                prev.push_str(", ");
                prev.push_str(v.as_str().unwrap_or_default());
            }
            _ => {
                out.insert(wp_name, v);
            }
        }
    }
    if out.is_empty() {
        Value::Array(vec![])
    } else {
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filter(fields: &str, v: Value) -> Value {
        let p = GlobalParams::from_query(Some(&format!("_fields={fields}")));
        p.fields.expect("fields").filter(v)
    }

    #[test]
    fn nested_fields_and_whole_parents() {
        let post = json!({"id": 1, "title": {"raw": "r", "rendered": "x"}, "slug": "s"});
        assert_eq!(
            filter("id,title.rendered", post.clone()),
            json!({"id": 1, "title": {"rendered": "x"}})
        );
        assert_eq!(
            filter("title,title.rendered", post.clone()),
            json!({"title": {"raw": "r", "rendered": "x"}})
        );
        assert_eq!(filter("bogus", post.clone()), json!([]));
        assert_eq!(filter("id.sub", post), json!({"id": 1}));
    }
}
