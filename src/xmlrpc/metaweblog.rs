//! The MetaWeblog and Blogger APIs of desktop blogging clients: `metaWeblog.getPost`,
//! `getRecentPosts`, `newPost`, `editPost`, `getCategories`, and `blogger.deletePost`
//! (`mw_*` and `blogger_*` in `class-wp-xmlrpc-server.php`), through the REST routes.

use serde_json::{Map, Value as Json, json};

use crate::caps::{Actor, Cap, PostRef};
use crate::rest::terms::TAXONOMIES;

use super::blog::credentials;
use super::custom_fields;
use super::posts::iso_value;
use super::rest::{Rest, json_str};
use super::{Fault, RpcResult, Server, Value};

/// `get_extended()`: the content before `<!--more-->`, after it, and the more link's text.
pub fn get_extended(content: &str) -> (String, String, String) {
    let Some(start) = content.find("<!--more") else {
        return (content.to_owned(), String::new(), String::new());
    };
    let Some(end) = content[start..].find("-->").map(|e| start + e) else {
        return (content.to_owned(), String::new(), String::new());
    };
    let more_text = content[start + "<!--more".len()..end].trim().to_owned();
    let main = content[..start].to_owned();
    let extended = content[end + 3..]
        .trim_start_matches(['\r', '\n'])
        .to_owned();
    (main, extended, more_text)
}

/// The names of the post's terms of one taxonomy, by name as `wp_get_object_terms()` sorts.
async fn term_names(rest: &Rest<'_>, item: &Json, field: &str) -> Result<Vec<String>, Fault> {
    let Some(tax) = TAXONOMIES.iter().find(|t| t.post_field == field) else {
        return Ok(vec![]);
    };
    let ids: Vec<String> = match item.get(field) {
        Some(Json::Array(a)) => a
            .iter()
            .filter_map(Json::as_i64)
            .map(|i| i.to_string())
            .collect(),
        _ => vec![],
    };
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let include = ids.join(",");
    let (_, found) = rest
        .get(
            &format!("/wp/v2/{}", tax.rest_base),
            &[("include", &include), ("per_page", "100")],
        )
        .await?;
    let mut names: Vec<String> = match found {
        Json::Array(a) => a.iter().map(|t| json_str(t, "name").to_owned()).collect(),
        _ => vec![],
    };
    names.sort_by_key(|n| n.to_lowercase());
    Ok(names)
}

/// The struct `mw_getPost` and `mw_getRecentPosts` answer, from the REST item (edit context).
async fn mw_struct(s: &Server<'_>, rest: &Rest<'_>, item: &Json, string_id: bool) -> RpcResult {
    let id = item.get("id").and_then(Json::as_i64).unwrap_or(0);
    let raw = |k: &str| {
        item.get(k)
            .and_then(|v| v.get("raw").or(Some(v)))
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let author = item.get("author").and_then(Json::as_i64).unwrap_or(0);
    let author_name = s
        .site
        .store
        .user_by_id(author)
        .await?
        .map(|u| u.display_name)
        .unwrap_or_default();
    let (main, extended, more_text) = get_extended(&raw("content"));
    let open = |k: &str| Value::Int(i64::from(json_str(item, k) == "open"));
    let mut status = json_str(item, "status").to_owned();
    if status == "future" {
        status = "publish".to_owned();
    }
    let format = match json_str(item, "format") {
        "" => "standard",
        f => f,
    };
    let link = json_str(item, "link").to_owned();
    let tags = term_names(rest, item, "tags").await?.join(", ");
    Ok(Value::object([
        ("dateCreated", iso_value(json_str(item, "date"))),
        ("userid", Value::String(author.to_string())),
        (
            "postid",
            if string_id {
                Value::String(id.to_string())
            } else {
                Value::Int(id)
            },
        ),
        ("description", Value::String(main)),
        ("title", Value::String(raw("title"))),
        ("link", Value::String(link.clone())),
        ("permaLink", Value::String(link)),
        (
            "categories",
            Value::Array(
                term_names(rest, item, "categories")
                    .await?
                    .into_iter()
                    .map(Value::String)
                    .collect(),
            ),
        ),
        ("mt_excerpt", Value::String(raw("excerpt"))),
        ("mt_text_more", Value::String(extended)),
        ("wp_more_text", Value::String(more_text)),
        ("mt_allow_comments", open("comment_status")),
        ("mt_allow_pings", open("ping_status")),
        ("mt_keywords", Value::String(tags)),
        ("wp_slug", Value::str(json_str(item, "slug"))),
        ("wp_password", Value::str(json_str(item, "password"))),
        ("wp_author_id", Value::String(author.to_string())),
        ("wp_author_display_name", Value::String(author_name)),
        ("date_created_gmt", iso_value(json_str(item, "date_gmt"))),
        ("post_status", Value::String(status)),
        (
            "custom_fields",
            custom_fields::get_custom_fields(rest.site(), rest.user(), id).await?,
        ),
        ("wp_post_format", Value::str(format)),
        (
            "sticky",
            Value::Bool(item.get("sticky").and_then(Json::as_bool) == Some(true)),
        ),
        ("date_modified", iso_value(json_str(item, "modified"))),
        (
            "date_modified_gmt",
            iso_value(json_str(item, "modified_gmt")),
        ),
        (
            "wp_post_thumbnail",
            Value::Int(
                item.get("featured_media")
                    .and_then(Json::as_i64)
                    .unwrap_or(0),
            ),
        ),
    ]))
}

/// `metaWeblog.getPost( post_id, username, password )`.
pub async fn get_post(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let id = args.first().map_or(0, Value::as_php_int);
    let (username, password) = credentials(args, 1);
    let user = s.login(&username, &password).await?;
    let Some(post) = s.site.store.post_by_id(id).await?.filter(|_| id > 0) else {
        return Err(Fault::new(404, "Invalid post ID."));
    };
    let Some(pt) = s.site.post_type(&post.post_type) else {
        return Err(Fault::new(404, "Invalid post ID."));
    };
    let route = format!("/wp/v2/{}/{id}", pt.rest_base);
    let rest = Rest::new(s, user);
    let (code, item) = rest.get(&route, &[("context", "edit")]).await?;
    match code {
        200 => {
            let mut resp = mw_struct(s, &rest, &item, false).await?;
            // `mw_getPost` adds the member only when the post has an enclosure.
            if let (Value::Struct(m), Some(e)) =
                (&mut resp, custom_fields::enclosure(s.site, id).await?)
            {
                m.push(("enclosure".to_owned(), e));
            }
            Ok(resp)
        }
        401 | 403 => Err(Fault::new(
            401,
            "Sorry, you are not allowed to edit this post.",
        )),
        _ => Err(Fault::new(404, "Invalid post ID.")),
    }
}

/// `metaWeblog.getRecentPosts( blog_id, username, password, number )`: the newest posts of
/// every status but trash (10 by default) that the user may edit.
pub async fn get_recent_posts(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let number = args
        .get(3)
        .map_or(10, |n| n.as_php_int().unsigned_abs())
        .min(100);
    let user = s.login(&username, &password).await?;
    let actor = Actor {
        id: user.id,
        roles: &user.roles,
    };
    if !actor.can(Cap::Primitive("edit_posts")) {
        return Err(Fault::new(401, "Sorry, you are not allowed to edit posts."));
    }
    let Some(pt) = s.site.post_type("post").cloned() else {
        return Ok(Value::Array(vec![]));
    };
    let rest = Rest::new(s, user.clone());
    let per_page = number.to_string();
    let (_, items) = rest
        .get(
            "/wp/v2/posts",
            &[
                ("context", "edit"),
                ("status", "draft,publish,future,pending,private"),
                ("per_page", &per_page),
            ],
        )
        .await?;
    let mut out = Vec::new();
    if number > 0
        && let Json::Array(items) = items
    {
        for item in &items {
            let editable = actor.can(Cap::EditPost(PostRef {
                author: item.get("author").and_then(Json::as_i64).unwrap_or(0),
                status: json_str(item, "status"),
                pre_trash_status: None,
                caps: &pt.caps,
            }));
            if editable {
                out.push(mw_struct(s, &rest, item, true).await?);
            }
        }
    }
    Ok(Value::Array(out))
}

/// `mt_allow_comments` / `mt_allow_pings`: `open`, `closed`, or 0/1 (2: closed for comments).
fn open_or_closed(v: &Value, pings: bool) -> Option<&'static str> {
    let s = v.as_php_string();
    if s == "open" {
        return Some("open");
    }
    if s == "closed" {
        return Some("closed");
    }
    let numeric = !s.trim().is_empty() && s.trim().parse::<f64>().is_ok();
    if !numeric {
        return None;
    }
    match v.as_php_int() {
        0 => Some("closed"),
        2 if !pings => Some("closed"),
        1 => Some("open"),
        _ => None,
    }
}

/// The REST body for a MetaWeblog content struct, with `mw_newPost`/`mw_editPost`'s checks.
async fn mw_body(
    s: &Server<'_>,
    rest: &Rest<'_>,
    user: &crate::store::User,
    content: &Value,
    post_type: &str,
    publish: bool,
    existing: Option<&crate::store::Post>,
) -> Result<Map<String, Json>, Fault> {
    let actor = Actor {
        id: user.id,
        roles: &user.roles,
    };
    let can = |c: &str| actor.can(Cap::Primitive(c));
    let field = |k: &str| content.get(k);
    let mut body = Map::new();
    if let Some(f) = field("wp_post_format") {
        let f = crate::formatting::sanitize_key(&f.as_php_string());
        let known = [
            "standard", "aside", "chat", "gallery", "link", "image", "quote", "status", "video",
            "audio",
        ];
        if !known.contains(&f.as_str()) {
            return Err(Fault::new(404, "Invalid post format."));
        }
        body.insert("format".into(), Json::String(f));
    }
    if let Some(author) = field("wp_author_id").map(Value::as_php_int) {
        let current = existing.map_or(user.id, |p| p.author);
        if author != user.id || current != user.id {
            let (cap, message) = if post_type == "page" {
                ("edit_others_pages", "pages")
            } else {
                ("edit_others_posts", "posts")
            };
            if !can(cap) {
                return Err(Fault::new(
                    401,
                    if existing.is_some() {
                        format!(
                            "Sorry, you are not allowed to change the {} author as this user.",
                            &message[..message.len() - 1]
                        )
                    } else {
                        format!("Sorry, you are not allowed to create {message} as this user.")
                    },
                ));
            }
            if existing.is_none() && s.site.store.user_by_id(author).await?.is_none() {
                return Err(Fault::new(404, "Invalid author ID."));
            }
            body.insert("author".into(), json!(author));
        }
    }
    if let Some(t) = field("title") {
        body.insert("title".into(), Json::String(t.as_php_string()));
    }
    let more = field("mt_text_more")
        .map(Value::as_php_string)
        .unwrap_or_default();
    if field("description").is_some() || !more.is_empty() || existing.is_none() {
        let mut text = field("description").map_or_else(
            || existing.map(|p| p.content.clone()).unwrap_or_default(),
            Value::as_php_string,
        );
        if !more.is_empty() {
            text.push_str("<!--more-->");
            text.push_str(&more);
        }
        body.insert("content".into(), Json::String(text));
    }
    if let Some(e) = field("mt_excerpt") {
        body.insert("excerpt".into(), Json::String(e.as_php_string()));
    }
    // The status: `publish` argument, then `{type}_status`.
    let mut status = if publish { "publish" } else { "draft" }.to_owned();
    if let Some(v) = field(&format!("{post_type}_status")).map(Value::as_php_string)
        && matches!(v.as_str(), "draft" | "pending" | "private" | "publish")
    {
        status = v;
    }
    body.insert("status".into(), Json::String(status));
    for (k, rest_name, pings) in [
        ("mt_allow_comments", "comment_status", false),
        ("mt_allow_pings", "ping_status", true),
    ] {
        if let Some(v) = field(k).and_then(|v| open_or_closed(v, pings)) {
            body.insert(rest_name.into(), json!(v));
        }
    }
    if let Some(slug) = field("wp_slug") {
        body.insert("slug".into(), Json::String(slug.as_php_string()));
    }
    if let Some(pw) = field("wp_password") {
        body.insert("password".into(), Json::String(pw.as_php_string()));
    }
    if post_type == "page" {
        if let Some(p) = field("wp_page_parent_id") {
            body.insert("parent".into(), json!(p.as_php_int()));
        }
        if let Some(o) = field("wp_page_order") {
            body.insert("menu_order".into(), json!(o.as_php_int()));
        }
    }
    if let Some(date) = field("date_created_gmt").filter(|d| d.truthy()) {
        body.insert("date_gmt".into(), Json::String(rest_date(date)));
    } else if let Some(date) = field("dateCreated").filter(|d| d.truthy()) {
        let utc = date.as_php_string().ends_with('Z');
        body.insert(
            if utc { "date_gmt" } else { "date" }.into(),
            Json::String(rest_date(date)),
        );
    }
    if post_type == "post" {
        if let Some(Value::Array(names)) = field("categories") {
            let cat = &TAXONOMIES[0];
            let mut ids = Vec::new();
            for n in names {
                if let Some(id) = super::terms::term_by_name(rest, cat, &n.as_php_string()).await? {
                    ids.push(id);
                }
            }
            body.insert("categories".into(), json!(ids));
        }
        if let Some(k) = field("mt_keywords") {
            let names: Vec<String> = match k {
                Value::Array(a) => a.iter().map(Value::as_php_string).collect(),
                other => other
                    .as_php_string()
                    .split(',')
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .collect(),
            };
            let tag = &TAXONOMIES[1];
            let mut ids = Vec::new();
            for n in names {
                let id = match super::terms::term_by_name(rest, tag, &n).await? {
                    Some(id) => Some(id),
                    None => {
                        let (code, made) = rest
                            .post(&format!("/wp/v2/{}", tag.rest_base), &json!({ "name": n }))
                            .await?;
                        (code == 201)
                            .then(|| made.get("id").and_then(Json::as_i64))
                            .flatten()
                    }
                };
                ids.extend(id);
            }
            body.insert("tags".into(), json!(ids));
        }
        if let Some(sticky) = field("sticky") {
            body.insert("sticky".into(), json!(sticky.truthy()));
        }
    }
    if let Some(thumb) = field("wp_post_thumbnail") {
        let id = thumb.as_php_int();
        if id != 0 && s.site.store.post_by_id(id).await?.is_none() {
            return Err(Fault::new(404, "Invalid attachment ID."));
        }
        body.insert("featured_media".into(), json!(id.max(0)));
    }
    Ok(body)
}

/// An `IXR_Date` as REST's `YYYY-MM-DDTHH:MM:SS`.
fn rest_date(v: &Value) -> String {
    let digits: String = v
        .as_php_string()
        .chars()
        .filter(char::is_ascii_digit)
        .chain(std::iter::repeat('0'))
        .take(14)
        .collect();
    format!(
        "{}-{}-{}T{}:{}:{}",
        &digits[0..4],
        &digits[4..6],
        &digits[6..8],
        &digits[8..10],
        &digits[10..12],
        &digits[12..14]
    )
}

/// `metaWeblog.newPost( blog_id, username, password, content_struct, publish )`.
pub async fn new_post(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let content = args.get(3).cloned().unwrap_or(Value::Struct(vec![]));
    let publish = args.get(4).is_some_and(Value::truthy);
    let user = s.login(&username, &password).await?;
    let post_type = match content.get("post_type").map(Value::as_php_string) {
        None => "post".to_owned(),
        Some(t) if t.is_empty() || t == "post" => "post".to_owned(),
        Some(t) if t == "page" => "page".to_owned(),
        Some(_) => return Err(Fault::new(401, "Invalid post type.")),
    };
    let wants_publish = publish
        || content
            .get(&format!("{post_type}_status"))
            .is_some_and(|v| v.as_php_string() == "publish");
    let (cap, message) = if post_type == "page" {
        (
            if wants_publish {
                "publish_pages"
            } else {
                "edit_pages"
            },
            "Sorry, you are not allowed to publish pages on this site.",
        )
    } else {
        (
            if wants_publish {
                "publish_posts"
            } else {
                "edit_posts"
            },
            "Sorry, you are not allowed to publish posts on this site.",
        )
    };
    let actor = Actor {
        id: user.id,
        roles: &user.roles,
    };
    let create = if post_type == "page" {
        "edit_pages"
    } else {
        "edit_posts"
    };
    if !actor.can(Cap::Primitive(create)) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to publish posts on this site.",
        ));
    }
    if !actor.can(Cap::Primitive(cap)) {
        return Err(Fault::new(401, message));
    }
    let rest = Rest::new(s, user.clone());
    let body = mw_body(s, &rest, &user, &content, &post_type, publish, None).await?;
    let route = if post_type == "page" {
        "/wp/v2/pages"
    } else {
        "/wp/v2/posts"
    };
    let (code, made) = rest.post(route, &Json::Object(body)).await?;
    if code != 201 {
        return Err(Fault::new(500, json_str(&made, "message")));
    }
    let id = made.get("id").and_then(Json::as_i64).unwrap_or(0);
    write_meta(s, &user, id, &content).await?;
    Ok(Value::String(id.to_string()))
}

/// `metaWeblog.editPost( post_id, username, password, content_struct, publish )`.
pub async fn edit_post(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let id = args.first().map_or(0, Value::as_php_int);
    let (username, password) = credentials(args, 1);
    let content = args.get(3).cloned().unwrap_or(Value::Struct(vec![]));
    let publish = args.get(4).is_some_and(Value::truthy);
    let user = s.login(&username, &password).await?;
    let Some(post) = s.site.store.post_by_id(id).await?.filter(|_| id > 0) else {
        return Err(Fault::new(404, "Invalid post ID."));
    };
    let actor = Actor {
        id: user.id,
        roles: &user.roles,
    };
    let Some(pt) = s.site.post_type(&post.post_type).cloned() else {
        return Err(Fault::new(401, "Invalid post type."));
    };
    if !super::can_edit(s, &user, &post) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to edit this post.",
        ));
    }
    if post.post_type != "post" && post.post_type != "page" {
        return Err(Fault::new(401, "Invalid post type."));
    }
    if let Some(t) = content.get("post_type").map(Value::as_php_string)
        && !t.is_empty()
        && t != post.post_type
    {
        return Err(Fault::new(401, "The post type may not be changed."));
    }
    let rest = Rest::new(s, user.clone());
    let body = mw_body(
        s,
        &rest,
        &user,
        &content,
        &post.post_type,
        publish,
        Some(&post),
    )
    .await?;
    let status = json_str(&Json::Object(body.clone()), "status").to_owned();
    if (status == "publish" || status == "private")
        && !actor.can(Cap::Primitive(&pt.caps.publish_posts))
    {
        return Err(Fault::new(
            401,
            if post.post_type == "page" {
                "Sorry, you are not allowed to publish this page."
            } else {
                "Sorry, you are not allowed to publish this post."
            },
        ));
    }
    let (code, answer) = rest
        .post(
            &format!("/wp/v2/{}/{id}", pt.rest_base),
            &Json::Object(body),
        )
        .await?;
    if code != 200 {
        return Err(Fault::new(500, json_str(&answer, "message")));
    }
    write_meta(s, &user, id, &content).await?;
    Ok(Value::Bool(true))
}

/// The `custom_fields` and `enclosure` of a MetaWeblog write, after the post is saved.
async fn write_meta(
    s: &Server<'_>,
    user: &crate::store::User,
    id: i64,
    content: &Value,
) -> Result<(), Fault> {
    if let Some(fields) = content.get("custom_fields") {
        custom_fields::set_custom_fields(s.site, user, id, fields).await?;
    }
    custom_fields::add_enclosure_if_new(s.site, id, content.get("enclosure")).await
}

/// `metaWeblog.getCategories( blog_id, username, password )`.
pub async fn get_categories(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let user = s.login(&username, &password).await?;
    if !super::blog::actor_can(&user, Cap::Primitive("edit_posts")) {
        return Err(Fault::new(
            401,
            "Sorry, you must be able to edit posts on this site in order to view categories.",
        ));
    }
    let rest = Rest::new(s, user);
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let p = page.to_string();
        let (_, items) = rest
            .get(
                "/wp/v2/categories",
                &[("per_page", "100"), ("page", &p), ("hide_empty", "false")],
            )
            .await?;
        let Json::Array(items) = items else { break };
        for c in &items {
            let link = crate::admin::esc_html(json_str(c, "link"));
            out.push(Value::object([
                (
                    "categoryId",
                    Value::Int(c.get("id").and_then(Json::as_i64).unwrap_or(0)),
                ),
                (
                    "parentId",
                    Value::Int(c.get("parent").and_then(Json::as_i64).unwrap_or(0)),
                ),
                ("description", Value::str(json_str(c, "name"))),
                (
                    "categoryDescription",
                    Value::str(json_str(c, "description")),
                ),
                ("categoryName", Value::str(json_str(c, "name"))),
                ("htmlUrl", Value::String(link.clone())),
                ("rssUrl", Value::String(format!("{link}feed/"))),
            ]));
        }
        if items.len() < 100 || page >= 100 {
            break;
        }
        page += 1;
    }
    Ok(Value::Array(out))
}

/// `blogger.deletePost( appkey, post_id, username, password, publish )` (also
/// `metaWeblog.deletePost`): posts only.
pub async fn delete_post(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let id = args.get(1).map_or(0, Value::as_php_int);
    let (username, password) = credentials(args, 2);
    let user = s.login(&username, &password).await?;
    let post = s
        .site
        .store
        .post_by_id(id)
        .await?
        .filter(|p| id > 0 && p.post_type == "post");
    let Some(post) = post else {
        return Err(Fault::new(404, "Sorry, no such post."));
    };
    let rest = Rest::new(s, user);
    super::posts::delete_through_rest(
        &rest,
        &format!("/wp/v2/posts/{id}"),
        &post,
        "Sorry, you are not allowed to delete this post.",
        "Sorry, the post could not be deleted.",
    )
    .await
}
