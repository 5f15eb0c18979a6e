//! Posts of every type: `wp.getPost`, `wp.getPosts`, `wp.newPost`, `wp.editPost`,
//! `wp.deletePost` (`class-wp-xmlrpc-server.php`).
//!
//! Each method checks what `wp_xmlrpc_server` checks itself (its own fault messages), then
//! reads or writes through the REST routes as the same user, so capabilities, KSES, slugs,
//! terms, stickiness and revisions follow the one implementation the REST API uses.

use serde_json::{Map, Value as Json, json};

use crate::caps::{Actor, Cap, PostRef};
use crate::post_types::PostType;

use super::custom_fields;
use super::rest::{Rest, json_str};
use super::{Fault, RpcResult, Server, Value, minimum_args};

/// `xmlrpc_default_post_fields`.
const DEFAULT_FIELDS: [&str; 3] = ["post", "terms", "custom_fields"];

/// The REST route of a post type (`attachment` is `media`).
fn route_of(s: &Server<'_>, post_type: &str) -> Option<String> {
    if post_type == "attachment" {
        return Some("/wp/v2/media".to_owned());
    }
    s.site
        .post_type(post_type)
        .map(|t| format!("/wp/v2/{}", t.rest_base))
}

/// The post's type from the store, to know its route; `None`: no such post.
async fn post_type_of(s: &Server<'_>, id: i64) -> Result<Option<String>, Fault> {
    if id <= 0 {
        return Ok(None);
    }
    Ok(s.site.store.post_by_id(id).await?.map(|p| p.post_type))
}

/// `wp.getPost( blog_id, username, password, post_id, fields )`.
pub async fn get_post(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 4)?;
    let id = args[3].as_php_int();
    let fields = super::fields_or(args.get(4), &DEFAULT_FIELDS);
    let user = s.login(&args[1], &args[2]).await?;
    let rest = Rest::new(s, user);
    let invalid = || Fault::new(404, "Invalid post ID.");
    let Some(post_type) = post_type_of(s, id).await? else {
        return Err(invalid());
    };
    let Some(route) = route_of(s, &post_type) else {
        return Err(invalid());
    };
    let (status, item) = rest
        .get(&format!("{route}/{id}"), &[("context", "edit")])
        .await?;
    match status {
        200 => prepare_post(&rest, &item, &fields).await,
        401 | 403 => Err(Fault::new(
            401,
            "Sorry, you are not allowed to edit this post.",
        )),
        _ => Err(invalid()),
    }
}

/// `wp.getPosts( blog_id, username, password, filter, fields )`: `wp_get_recent_posts()`
/// (10 newest of every status but trash by default), only the posts the user may edit.
pub async fn get_posts(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 3)?;
    let filter = args.get(3).cloned().unwrap_or(Value::Struct(vec![]));
    let fields = super::fields_or(args.get(4), &DEFAULT_FIELDS);
    let user = s.login(&args[1], &args[2]).await?;
    let type_name = filter
        .get("post_type")
        .map_or_else(|| "post".to_owned(), Value::as_php_string);
    let Some(pt) = s.site.post_type(&type_name).cloned() else {
        return Err(Fault::new(403, "Invalid post type."));
    };
    let actor = Actor {
        id: user.id,
        roles: &user.roles,
    };
    if !actor.can(Cap::Primitive(&pt.caps.edit_posts)) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to edit posts in this post type.",
        ));
    }
    let number = filter
        .get("number")
        .map_or(10, |n| n.as_php_int().unsigned_abs());
    let offset = filter
        .get("offset")
        .map_or(0, |n| n.as_php_int().unsigned_abs());
    let statuses = filter.get("post_status").map_or_else(
        || "draft,publish,future,pending,private".to_owned(),
        |v| match v {
            Value::Array(a) => a
                .iter()
                .map(Value::as_php_string)
                .collect::<Vec<_>>()
                .join(","),
            other => other.as_php_string(),
        },
    );
    let (orderby, order) = match filter.get("orderby") {
        Some(o) => (
            rest_orderby(&o.as_php_string()),
            filter
                .get("order")
                .map_or_else(|| "desc".to_owned(), |v| v.as_php_string().to_lowercase()),
        ),
        None => ("date", "desc".to_owned()),
    };
    let order = if order == "asc" { "asc" } else { "desc" };
    let search = filter.get("s").map(Value::as_php_string);
    let rest = Rest::new(s, user.clone());
    let route = format!("/wp/v2/{}", pt.rest_base);
    let mut out = Vec::new();
    // Pages of at most 100, as REST serves them; a `number` of 0 is WordPress's "none".
    let mut wanted = number;
    let mut skip = offset;
    while wanted > 0 {
        let per_page = wanted.min(100);
        let mut q: Vec<(&str, String)> = vec![
            ("context", "edit".to_owned()),
            ("status", statuses.clone()),
            ("per_page", per_page.to_string()),
            ("offset", skip.to_string()),
            ("orderby", orderby.to_owned()),
            ("order", order.to_owned()),
        ];
        if let Some(term) = &search {
            q.push(("search", term.clone()));
        }
        let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, items) = rest.get(&route, &q).await?;
        let Json::Array(items) = items else {
            if status == 400 {
                break;
            }
            return Err(Fault::new(500, "Sorry, the posts could not be read."));
        };
        let n = items.len() as u64;
        for item in &items {
            if can_edit(&actor, &pt, item) {
                out.push(prepare_post(&rest, item, &fields).await?);
            }
        }
        if n < per_page {
            break;
        }
        wanted -= n;
        skip += n;
    }
    Ok(Value::Array(out))
}

/// `edit_post` on a REST item, decided in `caps`.
fn can_edit(actor: &Actor<'_>, pt: &PostType, item: &Json) -> bool {
    let status = json_str(item, "status");
    actor.can(Cap::EditPost(PostRef {
        author: item.get("author").and_then(Json::as_i64).unwrap_or(0),
        status,
        pre_trash_status: None,
        caps: &pt.caps,
    }))
}

/// WP_Query's `orderby` names as the REST collection's.
fn rest_orderby(o: &str) -> &'static str {
    match o.trim().to_ascii_lowercase().as_str() {
        "title" | "post_title" => "title",
        "id" => "id",
        "modified" | "post_modified" => "modified",
        "name" | "post_name" => "slug",
        "parent" | "post_parent" => "parent",
        "author" | "post_author" => "author",
        "menu_order" => "menu_order",
        _ => "date",
    }
}

/// `_prepare_post()` from the REST item in the edit context.
pub async fn prepare_post(rest: &Rest<'_>, item: &Json, fields: &[String]) -> RpcResult {
    let id = item.get("id").and_then(Json::as_i64).unwrap_or(0);
    let post_type = json_str(item, "type");
    let raw = |k: &str| {
        item.get(k)
            .and_then(|v| v.get("raw").or(Some(v)))
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let int = |k: &str| item.get(k).and_then(Json::as_i64).unwrap_or(0);
    let mut status = json_str(item, "status").to_owned();
    // "Consider future posts as published."
    if status == "future" {
        status = "publish".to_owned();
    }
    let thumbnail = match int("featured_media") {
        0 => Value::Array(vec![]),
        media => super::media::media_item(rest, media)
            .await?
            .unwrap_or(Value::Array(vec![])),
    };
    let format = match json_str(item, "format") {
        "" => "standard",
        f => f,
    };
    let post_fields: Vec<(&str, Value)> = vec![
        ("post_title", Value::String(raw("title"))),
        ("post_date", iso_value(json_str(item, "date"))),
        ("post_date_gmt", iso_value(json_str(item, "date_gmt"))),
        ("post_modified", iso_value(json_str(item, "modified"))),
        (
            "post_modified_gmt",
            iso_value(json_str(item, "modified_gmt")),
        ),
        ("post_status", Value::String(status)),
        ("post_type", Value::str(post_type)),
        ("post_name", Value::str(json_str(item, "slug"))),
        ("post_author", Value::String(int("author").to_string())),
        ("post_password", Value::str(json_str(item, "password"))),
        ("post_excerpt", Value::String(raw("excerpt"))),
        ("post_content", Value::String(raw("content"))),
        ("post_parent", Value::String(int("parent").to_string())),
        ("post_mime_type", Value::str(json_str(item, "mime_type"))),
        ("link", Value::str(json_str(item, "link"))),
        ("guid", Value::String(raw("guid"))),
        ("menu_order", Value::Int(int("menu_order"))),
        (
            "comment_status",
            Value::str(json_str(item, "comment_status")),
        ),
        ("ping_status", Value::str(json_str(item, "ping_status"))),
        (
            "sticky",
            Value::Bool(
                post_type == "post" && item.get("sticky").and_then(Json::as_bool) == Some(true),
            ),
        ),
        ("post_thumbnail", thumbnail),
        ("post_format", Value::str(format)),
    ];
    let has = |f: &str| fields.iter().any(|x| x == f);
    let mut out = vec![("post_id".to_owned(), Value::String(id.to_string()))];
    for (name, v) in post_fields {
        if has("post") || has(name) {
            out.push((name.to_owned(), v));
        }
    }
    if has("taxonomies") || has("terms") {
        out.push(("terms".to_owned(), post_terms(rest, item).await?));
    }
    if has("custom_fields") {
        out.push((
            "custom_fields".to_owned(),
            custom_fields::get_custom_fields(rest.site(), rest.user(), id).await?,
        ));
    }
    if has("enclosure") {
        let e = custom_fields::enclosure(rest.site(), id).await?;
        out.push(("enclosure".to_owned(), e.unwrap_or(Value::Array(vec![]))));
    }
    Ok(Value::Struct(out))
}

/// The post's terms of every taxonomy (`wp_get_object_terms()`: by name), as
/// `_prepare_term()` gives them.
async fn post_terms(rest: &Rest<'_>, item: &Json) -> RpcResult {
    let mut terms: Vec<Json> = Vec::new();
    for tax in crate::rest::terms::TAXONOMIES {
        let Some(Json::Array(ids)) = item.get(tax.post_field) else {
            continue;
        };
        if ids.is_empty() {
            continue;
        }
        let include = ids
            .iter()
            .filter_map(Json::as_i64)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let (_, found) = rest
            .get(
                &format!("/wp/v2/{}", tax.rest_base),
                &[
                    ("include", &include),
                    ("per_page", "100"),
                    ("hide_empty", "false"),
                ],
            )
            .await?;
        if let Json::Array(found) = found {
            terms.extend(found);
        }
    }
    // The format is a term of `post_format` in WordPress; here it is a field of the post
    // (docs/compat.md "xmlrpc-format-term").
    let format = json_str(item, "format");
    if !format.is_empty() && format != "standard" {
        let mut name = format.to_owned();
        if let Some(first) = name.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        terms.push(json!({
            "id": 0, "name": name, "slug": format!("post-format-{format}"),
            "taxonomy": "post_format", "description": "", "parent": 0, "count": 0,
        }));
    }
    terms.sort_by_key(|t| json_str(t, "name").to_lowercase());
    Ok(Value::Array(terms.iter().map(prepare_term).collect()))
}

/// `_prepare_term()` of a REST term.
pub fn prepare_term(t: &Json) -> Value {
    let int = |k: &str| t.get(k).and_then(Json::as_i64).unwrap_or(0);
    Value::object([
        ("term_id", Value::String(int("id").to_string())),
        ("name", Value::str(json_str(t, "name"))),
        ("slug", Value::str(json_str(t, "slug"))),
        ("term_group", Value::str("0")),
        ("term_taxonomy_id", Value::String(int("id").to_string())),
        ("taxonomy", Value::str(json_str(t, "taxonomy"))),
        ("description", Value::str(json_str(t, "description"))),
        ("parent", Value::String(int("parent").to_string())),
        ("count", Value::Int(int("count"))),
        ("filter", Value::str("raw")),
        ("custom_fields", Value::Array(vec![])),
    ])
}

/// A REST date (`2026-12-07T10:54:54`) as `_convert_date()` sends it (`20261207T10:54:54`).
pub fn iso_value(rest_date: &str) -> Value {
    if rest_date.len() < 19 {
        return Value::DateTime("00000000T00:00:00Z".to_owned());
    }
    Value::DateTime(format!(
        "{}{}{}T{}",
        &rest_date[0..4],
        &rest_date[5..7],
        &rest_date[8..10],
        &rest_date[11..19]
    ))
}

/// An `IXR_Date` (or a date string) as REST's `YYYY-MM-DDTHH:MM:SS`, and whether it was
/// marked as UTC (`Z`).
pub(super) fn rest_date(v: &Value) -> Option<(String, bool)> {
    let s = v.as_php_string();
    let s = s.trim();
    let digits: String = s.chars().filter(char::is_ascii_digit).take(14).collect();
    if digits.len() < 14 || digits.bytes().all(|b| b == b'0') {
        return None;
    }
    let utc = s.ends_with('Z') || s.ends_with("+00:00") || s.ends_with("+0000");
    Some((
        format!(
            "{}-{}-{}T{}:{}:{}",
            &digits[0..4],
            &digits[4..6],
            &digits[6..8],
            &digits[8..10],
            &digits[10..12],
            &digits[12..14]
        ),
        utc,
    ))
}

/// `wp.newPost( blog_id, username, password, content_struct )`.
pub async fn new_post(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 4)?;
    let user = s.login(&args[1], &args[2]).await?;
    let content = args[3].clone();
    insert_post(s, user, &content, None).await
}

/// `wp.editPost( blog_id, username, password, post_id, content_struct )`.
pub async fn edit_post(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 5)?;
    let id = args[3].as_php_int();
    let user = s.login(&args[1], &args[2]).await?;
    let Some(existing) = s.site.store.post_by_id(id).await?.filter(|_| id > 0) else {
        return Err(Fault::new(404, "Invalid post ID."));
    };
    let content = args[4].clone();
    if let Some(since) = content.get("if_not_modified_since") {
        let modified = jiff::Timestamp::from_second(existing.modified).ok();
        let since = rest_date(since).and_then(|(d, _)| {
            d.parse::<jiff::civil::DateTime>()
                .ok()
                .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
                .map(|z| z.timestamp())
        });
        if let (Some(m), Some(since)) = (modified, since)
            && m > since
        {
            return Err(Fault::new(
                409,
                "There is a revision of this post that is more recent.",
            ));
        }
    }
    insert_post(s, user, &content, Some(existing)).await?;
    Ok(Value::Bool(true))
}

/// `_insert_post()`: WordPress's own checks and messages, then the REST route writes.
async fn insert_post(
    s: &mut Server<'_>,
    user: std::sync::Arc<crate::store::User>,
    content: &Value,
    existing: Option<crate::store::Post>,
) -> RpcResult {
    let field = |k: &str| content.get(k);
    let type_name = field("post_type").map_or_else(
        || {
            existing
                .as_ref()
                .map_or_else(|| "post".to_owned(), |p| p.post_type.clone())
        },
        Value::as_php_string,
    );
    let Some(pt) = s.site.post_type(&type_name).cloned() else {
        return Err(Fault::new(403, "Invalid post type."));
    };
    let actor = Actor {
        id: user.id,
        roles: &user.roles,
    };
    let can = |cap: &str| actor.can(Cap::Primitive(cap));
    if let Some(p) = &existing {
        let post_ref = PostRef {
            author: p.author,
            status: &p.status,
            pre_trash_status: p.pre_trash_status.as_deref(),
            caps: &pt.caps,
        };
        if !actor.can(Cap::EditPost(post_ref)) {
            return Err(Fault::new(
                401,
                "Sorry, you are not allowed to edit this post.",
            ));
        }
        if p.post_type != pt.name {
            return Err(Fault::new(401, "The post type may not be changed."));
        }
    } else if !can(&pt.caps.create_posts) || !can(&pt.caps.edit_posts) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to post on this site.",
        ));
    }
    let mut status = field("post_status").map_or_else(
        || {
            existing
                .as_ref()
                .map_or_else(|| "draft".to_owned(), |p| p.status.clone())
        },
        Value::as_php_string,
    );
    match status.as_str() {
        "draft" | "pending" => {}
        "private" if !can(&pt.caps.publish_posts) => {
            return Err(Fault::new(
                401,
                "Sorry, you are not allowed to create private posts in this post type.",
            ));
        }
        "publish" | "future" if !can(&pt.caps.publish_posts) => {
            return Err(Fault::new(
                401,
                "Sorry, you are not allowed to publish posts in this post type.",
            ));
        }
        "private" | "publish" | "future" | "trash" => {}
        _ => status = "draft".to_owned(),
    }
    let password = field("post_password").map_or_else(
        || {
            existing
                .as_ref()
                .map(|p| p.password.clone())
                .unwrap_or_default()
        },
        Value::as_php_string,
    );
    if !password.is_empty() && !can(&pt.caps.publish_posts) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to create password protected posts in this post type.",
        ));
    }
    let mut body = Map::new();
    let author = field("post_author").map_or(0, |a| a.as_php_int().abs());
    if author != 0 && author != user.id {
        if !can(&pt.caps.edit_others_posts) {
            return Err(Fault::new(
                401,
                "Sorry, you are not allowed to create posts as this user.",
            ));
        }
        if s.site.store.user_by_id(author).await?.is_none() {
            return Err(Fault::new(404, "Invalid author ID."));
        }
        body.insert("author".into(), json!(author));
    } else if existing.is_none() || field("post_author").is_some() {
        body.insert("author".into(), json!(user.id));
    }
    for (xml, rest_name) in [
        ("post_title", "title"),
        ("post_content", "content"),
        ("post_excerpt", "excerpt"),
        ("post_name", "slug"),
    ] {
        if let Some(v) = field(xml) {
            body.insert(rest_name.into(), Json::String(v.as_php_string()));
        }
    }
    if field("post_status").is_some() || existing.is_none() {
        body.insert("status".into(), Json::String(status.clone()));
    }
    if field("post_password").is_some() {
        body.insert("password".into(), Json::String(password.clone()));
    }
    for k in ["comment_status", "ping_status"] {
        if let Some(v) = field(k).map(Value::as_php_string)
            && (v == "open" || v == "closed")
        {
            body.insert(k.into(), Json::String(v));
        }
    }
    if pt.hierarchical
        && let Some(parent) = field("post_parent")
    {
        body.insert("parent".into(), json!(parent.as_php_int()));
    }
    if pt.supports("page-attributes")
        && let Some(order) = field("menu_order")
    {
        body.insert("menu_order".into(), json!(order.as_php_int()));
    }
    // post_date_gmt wins over post_date; a date marked Z is UTC either way.
    if let Some((d, _)) = field("post_date_gmt").and_then(rest_date) {
        body.insert("date_gmt".into(), Json::String(d));
    } else if let Some((d, utc)) = field("post_date").and_then(rest_date) {
        body.insert(
            if utc { "date_gmt" } else { "date" }.into(),
            Json::String(d),
        );
    }
    // `_toggle_sticky()`.
    if pt.name == "post" {
        if status == "private" || !password.is_empty() {
            if field("sticky").is_some_and(Value::truthy) {
                return Err(Fault::new(401, "Sorry, you cannot stick a private post."));
            }
            if existing.is_some() {
                body.insert("sticky".into(), json!(false));
            }
        } else if let Some(sticky) = field("sticky") {
            if !can(&pt.caps.edit_others_posts) {
                return Err(Fault::new(
                    401,
                    "Sorry, you are not allowed to make posts sticky.",
                ));
            }
            body.insert("sticky".into(), json!(validate_boolean(sticky)));
        }
    }
    if let Some(thumb) = field("post_thumbnail") {
        let id = thumb.as_php_int().abs();
        if thumb.truthy() && s.site.store.post_by_id(id).await?.is_none() {
            return Err(Fault::new(404, "Invalid attachment ID."));
        }
        body.insert(
            "featured_media".into(),
            json!(if thumb.truthy() { id } else { 0 }),
        );
    }
    let rest = Rest::new(s, user.clone());
    if field("terms").is_some() || field("terms_names").is_some() {
        terms_input(&rest, &actor, &pt, content, &mut body).await?;
    }
    if let Some(format) = field("post_format") {
        let f = format.as_php_string();
        body.insert(
            "format".into(),
            Json::String(if f.is_empty() { "standard".into() } else { f }),
        );
    }
    let route = format!("/wp/v2/{}", pt.rest_base);
    let (code, answer) = match &existing {
        Some(p) => {
            rest.post(&format!("{route}/{}", p.id), &Json::Object(body))
                .await?
        }
        None => rest.post(&route, &Json::Object(body)).await?,
    };
    if !(200..300).contains(&code) {
        let message = json_str(&answer, "message");
        return Err(Fault::new(
            500,
            if message.is_empty() {
                "Sorry, the post could not be created."
            } else {
                message
            },
        ));
    }
    let id = answer.get("id").and_then(Json::as_i64).unwrap_or(0);
    if let Some(fields) = field("custom_fields") {
        custom_fields::set_custom_fields(s.site, &user, id, fields).await?;
    }
    custom_fields::add_enclosure_if_new(s.site, id, field("enclosure")).await?;
    Ok(Value::String(id.to_string()))
}

/// `wp_validate_boolean()`.
fn validate_boolean(v: &Value) -> bool {
    match v {
        Value::String(s) if s.eq_ignore_ascii_case("false") => false,
        other => other.truthy(),
    }
}

/// `terms` (ids per taxonomy) and `terms_names` (names, created when missing) as the REST
/// fields of each taxonomy, with `_insert_post()`'s checks.
async fn terms_input(
    rest: &Rest<'_>,
    actor: &Actor<'_>,
    pt: &PostType,
    content: &Value,
    body: &mut Map<String, Json>,
) -> Result<(), Fault> {
    let taxonomy = |name: &str| {
        crate::rest::terms::TAXONOMIES
            .iter()
            .find(|t| t.name == name && pt.name == "post")
    };
    let mut chosen: Vec<(&'static str, Vec<i64>)> = Vec::new();
    fn add(chosen: &mut Vec<(&'static str, Vec<i64>)>, field: &'static str, id: i64) {
        match chosen.iter_mut().find(|(f, _)| *f == field) {
            Some((_, ids)) => ids.push(id),
            None => chosen.push((field, vec![id])),
        }
    }
    let unsupported = || {
        Fault::new(
            401,
            "Sorry, one of the given taxonomies is not supported by the post type.",
        )
    };
    let cannot_assign = || {
        Fault::new(
            401,
            "Sorry, you are not allowed to assign a term to one of the given taxonomies.",
        )
    };
    if let Some(Value::Struct(by_tax)) = content.get("terms") {
        for (name, ids) in by_tax {
            let tax = taxonomy(name).ok_or_else(unsupported)?;
            if !tax.can_assign(actor) {
                return Err(cannot_assign());
            }
            // An empty list clears the taxonomy's terms.
            chosen.retain(|(f, _)| *f != tax.post_field);
            chosen.push((tax.post_field, vec![]));
            for id in items_of(ids) {
                let id = id.as_php_int();
                let found = rest
                    .get(&format!("/wp/v2/{}/{id}", tax.rest_base), &[])
                    .await?;
                if found.0 != 200 || id <= 0 {
                    return Err(Fault::new(403, "Invalid term ID."));
                }
                add(&mut chosen, tax.post_field, id);
            }
        }
    }
    if let Some(Value::Struct(by_tax)) = content.get("terms_names") {
        for (name, names) in by_tax {
            let tax = taxonomy(name).ok_or_else(unsupported)?;
            if !tax.can_assign(actor) {
                return Err(cannot_assign());
            }
            for term_name in items_of(names) {
                let term_name = term_name.as_php_string();
                let id = match super::terms::term_by_name(rest, tax, &term_name).await? {
                    Some(id) => id,
                    None => {
                        if !actor.can(Cap::Primitive("manage_categories")) {
                            return Err(Fault::new(
                                401,
                                "Sorry, you are not allowed to add a term to one of the given taxonomies.",
                            ));
                        }
                        let (code, made) = rest
                            .post(
                                &format!("/wp/v2/{}", tax.rest_base),
                                &json!({ "name": term_name }),
                            )
                            .await?;
                        if code != 201 {
                            return Err(Fault::new(500, json_str(&made, "message")));
                        }
                        made.get("id").and_then(Json::as_i64).unwrap_or(0)
                    }
                };
                add(&mut chosen, tax.post_field, id);
            }
        }
    }
    for (field, ids) in chosen {
        body.insert(field.into(), json!(ids));
    }
    Ok(())
}

/// `wp.deletePost( blog_id, username, password, post_id )`: `wp_delete_post()` trashes what
/// can be trashed and deletes the rest (and what is already in the trash).
pub async fn delete_post(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 4)?;
    let id = args[3].as_php_int();
    let user = s.login(&args[1], &args[2]).await?;
    let Some(post) = s.site.store.post_by_id(id).await?.filter(|_| id > 0) else {
        return Err(Fault::new(404, "Invalid post ID."));
    };
    let Some(route) = route_of(s, &post.post_type) else {
        return Err(Fault::new(404, "Invalid post ID."));
    };
    let rest = Rest::new(s, user);
    delete_through_rest(
        &rest,
        &format!("{route}/{id}"),
        &post,
        "Sorry, you are not allowed to delete this post.",
        "Sorry, the post could not be deleted.",
    )
    .await
}

/// `wp_delete_post()` through the REST route: to the trash, or for good when the post is
/// already there or is an attachment (which has no trash); `true`, or the method's faults.
pub async fn delete_through_rest(
    rest: &Rest<'_>,
    route: &str,
    post: &crate::store::Post,
    refused: &str,
    failed: &str,
) -> RpcResult {
    let force = post.status == "trash" || post.post_type == "attachment";
    let (code, _) = rest
        .delete(route, &[("force", if force { "true" } else { "false" })])
        .await?;
    match code {
        200 => Ok(Value::Bool(true)),
        401 | 403 => Err(Fault::new(401, refused)),
        _ => Err(Fault::new(500, failed)),
    }
}

/// The items of a `terms`/`terms_names` list (an empty string is none, as PHP's loop sees it).
fn items_of(v: &Value) -> Vec<Value> {
    match v {
        Value::String(s) if s.is_empty() => vec![],
        other => other.items(),
    }
}
