//! `pingback.ping` and `pingback.extensions.getPingbacks` as WordPress answers them for a
//! post whose pings are closed: ferropress never fetches the source page (so it can't be
//! used to make requests to other hosts), and stores no pingbacks. Every fault is then
//! masked as `xmlrpc_pingback_error()` does by default: code 0, no message (only 48,
//! "already registered", is kept, and it can't happen here).

use crate::store::PostQuery;

use super::{Fault, RpcResult, Server, Value};

/// `pingback_error()` after the default `xmlrpc_pingback_error` filter.
fn pingback_error() -> Fault {
    Fault::new(0, "")
}

/// `url_to_postid()` for the links ferropress makes: `?p=`, `?page_id=`,
/// `?attachment_id=`, `/slug/`, `/parent/child/` (pages), `/type/slug/`.
pub(super) async fn url_to_postid(s: &Server<'_>, url: &str) -> Result<i64, Fault> {
    let strip = |u: &str| {
        let u = u.split_once("://").map_or(u, |(_, rest)| rest);
        u.strip_prefix("www.").unwrap_or(u).to_owned()
    };
    let home = strip(&s.site.config.home);
    let Some(rest) = strip(url).strip_prefix(&home).map(str::to_owned) else {
        return Ok(0);
    };
    let rest = rest.split('#').next().unwrap_or("");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if matches!(k.as_ref(), "p" | "page_id" | "attachment_id") {
            let id = super::value::php_intval(&v);
            return Ok(if id > 0 && s.site.store.post_by_id(id).await?.is_some() {
                id
            } else {
                0
            });
        }
    }
    let segments: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let Some(slug) = segments.last() else {
        return Ok(0);
    };
    let types: Vec<String> = match segments.first().and_then(|t| s.site.post_type(t)) {
        Some(pt) if segments.len() > 1 && !pt.builtin => vec![pt.name.clone()],
        _ => vec!["post".to_owned(), "page".to_owned()],
    };
    for post_type in types {
        let q = PostQuery {
            post_type,
            slugs: vec![(*slug).to_owned()],
            statuses: vec!["publish".to_owned()],
            limit: 1,
            ..PostQuery::default()
        };
        if let Some(p) = s.site.store.query_posts(&q).await?.0.first() {
            return Ok(p.id);
        }
    }
    Ok(0)
}

/// `pingback.ping( source, target )`.
pub async fn ping(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let from = args
        .first()
        .map(Value::as_php_string)
        .unwrap_or_default()
        .replace("&amp;", "&");
    let to = args
        .get(1)
        .map(Value::as_php_string)
        .unwrap_or_default()
        .replace("&amp;", "&");
    if from.is_empty() || from == "0" {
        return Err(pingback_error());
    }
    // strpos() of the home address without its scheme: not found, or at the very start.
    let home = s.site.config.home.clone();
    let bare = ["http://www.", "http://", "https://www.", "https://"]
        .iter()
        .fold(home, |h, p| h.replace(p, ""));
    if to.find(&bare).is_none_or(|i| i == 0) {
        return Err(pingback_error());
    }
    let id = url_to_postid(s, &to).await?;
    if id == 0 {
        return Err(pingback_error());
    }
    if url_to_postid(s, &from).await? == id {
        return Err(pingback_error());
    }
    // pings_open(): no post takes pingbacks here.
    Err(pingback_error())
}

/// `pingback.extensions.getPingbacks( url )`: none, for any post.
pub async fn get_pingbacks(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    // IXR passes a lone argument itself; an array finds no post.
    let url = match args {
        [one] => one.as_php_string(),
        _ => String::new(),
    };
    if url_to_postid(s, &url).await? == 0 {
        return Err(pingback_error());
    }
    Ok(Value::Array(vec![]))
}
