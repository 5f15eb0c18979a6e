//! Media items as XML-RPC shows them (`_prepare_media_item()`).

use serde_json::Value as Json;

use crate::caps::{Actor, Cap};

use super::blog::credentials;
use super::posts::iso_value;
use super::rest::{Rest, json_str};
use super::{Fault, RpcResult, Server, Value};

/// `_prepare_media_item()` of attachment `id`, read through REST; `None` if it can't be read.
pub async fn media_item(rest: &Rest<'_>, id: i64) -> Result<Option<Value>, Fault> {
    let (status, m) = rest
        .get(&format!("/wp/v2/media/{id}"), &[("context", "edit")])
        .await?;
    if status != 200 {
        return Ok(None);
    }
    let raw = |k: &str| {
        m.get(k)
            .and_then(|v| v.get("raw").or(Some(v)))
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let link = json_str(&m, "source_url").to_owned();
    let details = m.get("media_details").cloned().unwrap_or(Json::Null);
    let thumbnail = details
        .get("sizes")
        .and_then(|s| s.get("thumbnail"))
        .and_then(|t| t.get("source_url"))
        .and_then(Json::as_str)
        .map_or_else(|| link.clone(), str::to_owned);
    Ok(Some(Value::object([
        ("attachment_id", Value::String(id.to_string())),
        ("date_created_gmt", iso_value(json_str(&m, "date_gmt"))),
        (
            "parent",
            Value::Int(m.get("post").and_then(Json::as_i64).unwrap_or(0)),
        ),
        ("link", Value::String(link)),
        ("title", Value::String(raw("title"))),
        ("caption", Value::String(raw("caption"))),
        ("description", Value::String(raw("description"))),
        ("metadata", metadata(&details)),
        ("type", Value::str(json_str(&m, "mime_type"))),
        ("thumbnail", Value::String(thumbnail)),
    ])))
}

/// `wp_get_attachment_metadata()` from REST's `media_details`: REST adds the `full` size and
/// each size's `source_url`, and spells the stored `mime-type` as `mime_type`.
fn metadata(details: &Json) -> Value {
    let mut details = details.clone();
    let Json::Object(o) = &mut details else {
        return Value::Bool(false);
    };
    if o.is_empty() {
        return Value::Bool(false);
    }
    if let Some(Json::Object(sizes)) = o.get_mut("sizes") {
        sizes.remove("full");
        for size in sizes.values_mut() {
            if let Json::Object(size) = size
                && let Some(m) = size.remove("mime_type")
            {
                size.insert("mime-type".into(), m);
            }
        }
    }
    to_value(&details, true)
}

/// JSON as XML-RPC values (`strip_urls`: drop `source_url`, which metadata does not hold).
fn to_value(j: &Json, strip_urls: bool) -> Value {
    match j {
        Json::Null => Value::str(""),
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => n
            .as_i64()
            .map_or_else(|| Value::Double(n.as_f64().unwrap_or(0.0)), Value::Int),
        Json::String(s) => Value::str(s),
        Json::Array(a) => Value::Array(a.iter().map(|x| to_value(x, strip_urls)).collect()),
        Json::Object(o) => Value::Struct(
            o.iter()
                .filter(|(k, _)| !(strip_urls && *k == "source_url"))
                .map(|(k, v)| (k.clone(), to_value(v, strip_urls)))
                .collect(),
        ),
    }
}

/// `metaWeblog.newMediaObject` and `wp.uploadFile( blog_id, username, password, data )`:
/// `data` is `{name, type, bits, overwrite, post_id}`; stored through the REST upload route
/// (type and content checks, sub-sizes), titled with the file name as WordPress does.
pub async fn new_media_object(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let data = args.get(3).cloned().unwrap_or(Value::Struct(vec![]));
    let name = crate::media::sanitize_file_name(
        &data
            .get("name")
            .map(Value::as_php_string)
            .unwrap_or_default(),
    );
    let content_type = data
        .get("type")
        .map(Value::as_php_string)
        .unwrap_or_default();
    // A file spooled to disk as the request arrived is streamed to the upload route.
    let (bits, spooled) = match data.get("bits") {
        Some(Value::Base64(b)) => (b.clone(), None),
        Some(Value::File(f)) => (Vec::new(), Some(f.clone())),
        Some(other) => (other.as_php_string().into_bytes(), None),
        None => (Vec::new(), None),
    };
    let user = s.login(&username, &password).await?;
    let actor = Actor {
        id: user.id,
        roles: &user.roles,
    };
    if !actor.can(Cap::Primitive("upload_files")) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to upload files.",
        ));
    }
    let post_id = data.get("post_id").map_or(0, Value::as_php_int);
    if post_id != 0 {
        let post = s.site.store.post_by_id(post_id).await?;
        if !post.is_some_and(|p| super::can_edit(s, &user, &p)) {
            return Err(Fault::new(
                401,
                "Sorry, you are not allowed to edit this post.",
            ));
        }
    }
    let rest = Rest::new(s, user);
    let post = post_id.to_string();
    let mut query = vec![("title", name.as_str())];
    if post_id != 0 {
        query.push(("post", post.as_str()));
    }
    let content_type = if content_type.is_empty() {
        "application/octet-stream"
    } else {
        content_type.as_str()
    };
    let (code, made) = match spooled {
        Some(f) => {
            rest.upload_file("/wp/v2/media", &query, &name, content_type, &f.path)
                .await?
        }
        None => {
            rest.upload("/wp/v2/media", &query, &name, content_type, bits)
                .await?
        }
    };
    if code != 201 {
        // `wp_upload_bits()`'s error, as WordPress words it.
        let why = json_str(&made, "message");
        return Err(Fault::new(
            500,
            format!("Could not write file {name} ({why})."),
        ));
    }
    let id = made.get("id").and_then(Json::as_i64).unwrap_or(0);
    let Some(Value::Struct(mut item)) = media_item(&rest, id).await? else {
        return Err(Fault::new(500, "Could not read the uploaded file."));
    };
    let get = |k: &str| {
        item.iter()
            .find(|(n, _)| n == k)
            .map_or(Value::str(""), |(_, v)| v.clone())
    };
    let (attachment_id, title, link) = (get("attachment_id"), get("title"), get("link"));
    item.push(("id".to_owned(), attachment_id));
    item.push(("file".to_owned(), title));
    item.push(("url".to_owned(), link));
    Ok(Value::Struct(item))
}

/// `wp.getMediaItem( blog_id, username, password, attachment_id )`.
pub async fn get_media_item(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let id = args.get(3).map_or(0, Value::as_php_int);
    let user = s.login(&username, &password).await?;
    if !super::blog::actor_can(&user, Cap::Primitive("upload_files")) {
        return Err(Fault::new(
            403,
            "Sorry, you are not allowed to upload files.",
        ));
    }
    let invalid = || Fault::new(404, "Invalid attachment ID.");
    let is_attachment = id > 0
        && s.site
            .store
            .post_by_id(id)
            .await?
            .is_some_and(|p| p.post_type == "attachment");
    if !is_attachment {
        return Err(invalid());
    }
    let rest = Rest::new(s, user);
    media_item(&rest, id).await?.ok_or_else(invalid)
}

/// `wp.getMediaLibrary( blog_id, username, password, filter )`: `parent_id`, `mime_type`,
/// `offset`, `number` (all by default), newest first.
pub async fn get_media_library(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let filter = args.get(3).cloned().unwrap_or(Value::Struct(vec![]));
    let user = s.login(&username, &password).await?;
    if !super::blog::actor_can(&user, Cap::Primitive("upload_files")) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to upload files.",
        ));
    }
    let parent = filter
        .get("parent_id")
        .map(|v| v.as_php_int().unsigned_abs().to_string());
    let mime = filter.get("mime_type").map(Value::as_php_string);
    let mut skip = filter
        .get("offset")
        .map_or(0, |v| v.as_php_int().unsigned_abs());
    // -1 (or absent): every item, read in pages.
    let mut wanted = filter
        .get("number")
        .map_or(u64::MAX, |v| match v.as_php_int() {
            n if n < 0 => u64::MAX,
            n => n.unsigned_abs(),
        });
    let rest = Rest::new(s, user);
    let mut out = Vec::new();
    while wanted > 0 {
        let per_page = wanted.min(100);
        let per_page_s = per_page.to_string();
        let skip_s = skip.to_string();
        let mut q = vec![
            ("context", "edit"),
            ("per_page", per_page_s.as_str()),
            ("offset", skip_s.as_str()),
        ];
        if let Some(p) = parent.as_deref().filter(|p| *p != "0") {
            q.push(("parent", p));
        }
        if let Some(m) = mime.as_deref().filter(|m| !m.is_empty()) {
            q.push(("mime_type", m));
        }
        let (_, items) = rest.get("/wp/v2/media", &q).await?;
        let Json::Array(items) = items else { break };
        let n = items.len() as u64;
        for item in &items {
            let id = item.get("id").and_then(Json::as_i64).unwrap_or(0);
            if let Some(v) = media_item(&rest, id).await? {
                out.push(v);
            }
        }
        if n < per_page {
            break;
        }
        wanted = wanted.saturating_sub(n);
        skip += n;
    }
    Ok(Value::Array(out))
}
