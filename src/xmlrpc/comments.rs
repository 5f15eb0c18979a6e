//! The comment methods of `class-wp-xmlrpc-server.php`: `wp.getComment`, `wp.getComments`,
//! `wp.newComment`, `wp.editComment`, `wp.deleteComment`, `wp.getCommentCount`,
//! `wp.getCommentStatusList`.
//!
//! Writes go through the REST comments routes (approval, floods, duplicates, KSES and
//! status changes have one implementation); reads use WordPress's XML-RPC rule
//! (`edit_comment` for one comment, `moderate_comments` or `status = approve` for a list),
//! which is not the REST one, so they read the store and decide in `caps`.

use serde_json::{Map, Value as Json, json};

use crate::caps::{Actor, Cap};
use crate::store::{Comment, CommentQuery, Post, User};

use super::blog::{actor_can, credentials, date_value};
use super::rest::{Rest, json_str};
use super::{Fault, RpcResult, Server, Value};

/// `get_comment_statuses()`: the statuses `wp.editComment` accepts, and their labels.
const STATUSES: [(&str, &str); 4] = [
    ("hold", "Unapproved"),
    ("approve", "Approved"),
    ("spam", "Spam"),
    ("trash", "Trash"),
];

fn actor(user: &User) -> Actor<'_> {
    Actor {
        id: user.id,
        roles: &user.roles,
    }
}

fn invalid_comment() -> Fault {
    Fault::new(404, "Invalid comment ID.")
}

fn invalid_post() -> Fault {
    Fault::new(404, "Invalid post ID.")
}

/// The argument at `i`, or PHP's `null` (an empty string) when it was not sent.
fn arg(args: &[Value], i: usize) -> Value {
    args.get(i).cloned().unwrap_or(Value::str(""))
}

/// `get_comment()` and the comment's post.
async fn load(s: &Server<'_>, id: i64) -> Result<Option<(Comment, Option<Post>)>, Fault> {
    if id <= 0 {
        return Ok(None);
    }
    let Some(c) = s.site.store.comment_by_id(id).await? else {
        return Ok(None);
    };
    let post = if c.post_id > 0 {
        s.site.store.post_by_id(c.post_id).await?
    } else {
        None
    };
    Ok(Some((c, post)))
}

/// `current_user_can( 'edit_comment', $id )`.
fn can_edit_comment(s: &Server<'_>, user: &User, post: Option<&Post>) -> bool {
    crate::rest::comments::can_edit_comment(s.site, &actor(user), post)
}

/// `get_the_title()` outside the admin: the private and protected prefixes, then the
/// `the_title` filters.
fn the_title(post: Option<&Post>) -> String {
    let Some(p) = post else {
        return String::new();
    };
    let title = if !p.password.is_empty() {
        format!("Protected: {}", p.title)
    } else if p.status == "private" {
        format!("Private: {}", p.title)
    } else {
        p.title.clone()
    };
    crate::formatting::the_title(&title)
}

/// `_prepare_comment()`. `private_fields`: whether the author's email and IP are shown
/// (docs/compat.md "xmlrpc-comments").
fn prepare_comment(
    s: &Server<'_>,
    c: &Comment,
    post: Option<&Post>,
    private_fields: bool,
) -> Value {
    let status = match c.approved.as_str() {
        "0" => "hold",
        "1" => "approve",
        other => other,
    };
    let private = |v: &str| Value::str(if private_fields { v } else { "" });
    Value::object([
        ("date_created_gmt", date_value(c.date)),
        ("user_id", Value::String(c.user_id.to_string())),
        ("comment_id", Value::String(c.id.to_string())),
        ("parent", Value::String(c.parent.to_string())),
        ("status", Value::str(status)),
        ("content", Value::str(c.content.as_str())),
        (
            "link",
            Value::String(crate::rest::comments::comment_link(s.site, c, post)),
        ),
        ("post_id", Value::String(c.post_id.to_string())),
        ("post_title", Value::String(the_title(post))),
        ("author", Value::str(c.author_name.as_str())),
        ("author_url", Value::str(c.author_url.as_str())),
        ("author_email", private(&c.author_email)),
        ("author_ip", private(&c.author_ip)),
        ("type", Value::str(c.comment_type.as_str())),
    ])
}

/// `wp.getComment( blog_id, username, password, comment_id )`.
pub async fn get_comment(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let id = arg(args, 3).as_php_int();
    let user = s.login(&username, &password).await?;
    let Some((c, post)) = load(s, id).await? else {
        return Err(invalid_comment());
    };
    if !can_edit_comment(s, &user, post.as_ref()) {
        return Err(Fault::new(
            403,
            "Sorry, you are not allowed to moderate or edit this comment.",
        ));
    }
    Ok(prepare_comment(s, &c, post.as_ref(), true))
}

/// `wp.getComments( blog_id, username, password, filter )`: `status`, `post_id`,
/// `post_type`, `offset`, `number` (10; 0 is all), newest first.
pub async fn get_comments(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let filter = args.get(3).cloned().unwrap_or(Value::Struct(vec![]));
    let user = s.login(&username, &password).await?;
    let status = filter
        .get("status")
        .map(Value::as_php_string)
        .unwrap_or_default();
    let moderator = actor_can(&user, Cap::Primitive("moderate_comments"));
    if !moderator && status != "approve" {
        return Err(Fault::new(401, "Invalid comment status."));
    }
    let post_id = filter
        .get("post_id")
        .map_or(0, |v| v.as_php_int().unsigned_abs());
    let mut post_types = vec![];
    if let Some(t) = filter.get("post_type") {
        let name = t.as_php_string();
        let pt = if name == "attachment" {
            Some(&*crate::post_types::ATTACHMENT)
        } else {
            s.site.post_type(&name)
        };
        match pt {
            Some(pt) if pt.supports("comments") => post_types.push(name),
            _ => return Err(Fault::new(404, "Invalid post type.")),
        }
    }
    let mut skip = filter
        .get("offset")
        .map_or(0, |v| v.as_php_int().unsigned_abs());
    // `WP_Comment_Query` has no LIMIT for a `number` of 0: every comment, read in pages.
    let mut wanted = filter
        .get("number")
        .map_or(10, |v| v.as_php_int().unsigned_abs());
    if wanted == 0 {
        wanted = u64::MAX;
    }
    let mut q = CommentQuery {
        post_ids: if post_id > 0 {
            vec![i64::try_from(post_id).unwrap_or(i64::MAX)]
        } else {
            vec![]
        },
        statuses: crate::rest::comments::query_statuses(&status),
        post_types,
        ..CommentQuery::default()
    };
    let mut out = Vec::new();
    while wanted > 0 {
        let per_page = wanted.min(100);
        q.limit = i64::try_from(per_page).unwrap_or(100);
        q.offset = i64::try_from(skip).unwrap_or(i64::MAX);
        let (page, _) = s.site.store.query_comments(&q).await?;
        let n = page.len() as u64;
        for c in &page {
            let post = if c.post_id > 0 {
                s.site.store.post_by_id(c.post_id).await?
            } else {
                None
            };
            let private = moderator || can_edit_comment(s, &user, post.as_ref());
            out.push(prepare_comment(s, c, post.as_ref(), private));
        }
        if n < per_page {
            break;
        }
        wanted = wanted.saturating_sub(n);
        skip += n;
    }
    Ok(Value::Array(out))
}

/// PHP's `is_numeric()` of an argument.
fn is_numeric(v: &Value) -> bool {
    match v {
        Value::Int(_) | Value::Double(_) => true,
        Value::String(t) => {
            let t = t.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
            let t = t.trim_end_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
            !t.is_empty() && super::value::numeric_prefix(t).len() == t.len()
        }
        _ => false,
    }
}

/// `wp.newComment( blog_id, username, password, post, content_struct )`: `post` is an id or
/// the post's URL; the comment is the logged-in user's (anonymous comments over XML-RPC
/// are off, WordPress's `xmlrpc_allow_anonymous_comments` default).
pub async fn new_comment(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let target = arg(args, 3);
    let content = arg(args, 4);
    let user = s.login(&username, &password).await?;
    let post_id = if is_numeric(&target) {
        target.as_php_int().abs()
    } else {
        super::pingback::url_to_postid(s, &target.as_php_string()).await?
    };
    if post_id == 0 {
        return Err(invalid_post());
    }
    let Some(post) = s.site.store.post_by_id(post_id).await? else {
        return Err(invalid_post());
    };
    if post.comment_status != "open" {
        return Err(Fault::new(403, "Sorry, comments are closed for this item."));
    }
    let refused = || Fault::new(403, "Sorry, you are not allowed to comment on this post.");
    let pt = s.site.post_type(&post.post_type);
    if post.status == "publish" && !super::can_edit(s, &user, &post) && !post.password.is_empty() {
        return Err(refused());
    }
    if post.status == "private"
        && !pt.is_some_and(|pt| {
            actor(&user).can(Cap::ReadPost(crate::rest::posts::post_ref(&post, pt)))
        })
    {
        return Err(refused());
    }
    let text = content
        .get("content")
        .map(Value::as_php_string)
        .unwrap_or_default();
    let text = crate::formatting::php_trim(&text);
    let parent = content
        .get("comment_parent")
        .map_or(0, |v| v.as_php_int().abs());
    if text.is_empty() {
        return Err(Fault::new(403, "Comment is required."));
    }
    let rest = Rest::new(s, user);
    let (code, answer) = rest
        .post(
            "/wp/v2/comments",
            &json!({ "post": post_id, "content": text, "parent": parent }),
        )
        .await?;
    match answer.get("id").and_then(Json::as_i64) {
        Some(id) if code == 201 => Ok(Value::Int(id)),
        _ => Err(Fault::new(
            403,
            rest_message(&answer, "Something went wrong."),
        )),
    }
}

/// A REST error's message, or `fallback`.
fn rest_message(answer: &Json, fallback: &str) -> String {
    let m = json_str(answer, "message");
    if m.is_empty() { fallback } else { m }.to_owned()
}

/// `wp.editComment( blog_id, username, password, comment_id, content_struct )`: `status`
/// (`hold`, `approve`, `spam`, `trash`), `date_created_gmt`, `content`, `author`,
/// `author_url`, `author_email`.
pub async fn edit_comment(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let id = arg(args, 3).as_php_int();
    let content = arg(args, 4);
    let user = s.login(&username, &password).await?;
    let Some((_, post)) = load(s, id).await? else {
        return Err(invalid_comment());
    };
    if !can_edit_comment(s, &user, post.as_ref()) {
        return Err(Fault::new(
            403,
            "Sorry, you are not allowed to moderate or edit this comment.",
        ));
    }
    let mut body = Map::new();
    if let Some(status) = content.get("status") {
        // `in_array( …, true )`: only these strings, not an int or a list.
        let name = match status {
            Value::String(s) => s.as_str(),
            _ => "",
        };
        let rest_status = match name {
            "hold" => "hold",
            "approve" => "approved",
            "spam" => "spam",
            "trash" => "trash",
            _ => return Err(Fault::new(401, "Invalid comment status.")),
        };
        body.insert("status".into(), json!(rest_status));
    }
    if let Some(date) = content.get("date_created_gmt").filter(|d| d.truthy())
        && let Some(d) = super::posts::rest_date(date)
    {
        // "We know this is supposed to be GMT": the `Z` is forced.
        body.insert("date_gmt".into(), json!(d.0));
    }
    for (xmlrpc, rest) in [
        ("content", "content"),
        ("author", "author_name"),
        ("author_url", "author_url"),
        ("author_email", "author_email"),
    ] {
        if let Some(v) = content.get(xmlrpc) {
            body.insert(rest.into(), json!(v.as_php_string()));
        }
    }
    let rest = Rest::new(s, user);
    let (code, answer) = rest
        .post(&format!("/wp/v2/comments/{id}"), &Json::Object(body))
        .await?;
    if code == 200 {
        Ok(Value::Bool(true))
    } else {
        Err(Fault::new(
            500,
            rest_message(&answer, "Sorry, the comment could not be updated."),
        ))
    }
}

/// `wp.deleteComment( blog_id, username, password, comment_id )`: `wp_delete_comment()`
/// trashes, unless the comment is already in the trash or spam.
pub async fn delete_comment(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let id = arg(args, 3).as_php_int();
    let user = s.login(&username, &password).await?;
    let Some((c, post)) = load(s, id).await? else {
        return Err(invalid_comment());
    };
    if !can_edit_comment(s, &user, post.as_ref()) {
        return Err(Fault::new(
            403,
            "Sorry, you are not allowed to delete this comment.",
        ));
    }
    let force = if matches!(c.approved.as_str(), "trash" | "spam") {
        "true"
    } else {
        "false"
    };
    let rest = Rest::new(s, user);
    let (code, _) = rest
        .delete(&format!("/wp/v2/comments/{id}"), &[("force", force)])
        .await?;
    Ok(Value::Bool(code == 200))
}

/// `wp.getCommentCount( blog_id, username, password, post_id )`: `wp_count_comments()`.
pub async fn get_comment_count(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let id = arg(args, 3).as_php_int();
    let user = s.login(&username, &password).await?;
    let post = if id > 0 {
        s.site.store.post_by_id(id).await?
    } else {
        None
    };
    let Some(post) = post else {
        return Err(invalid_post());
    };
    if !super::can_edit(s, &user, &post) {
        return Err(Fault::new(
            403,
            "Sorry, you are not allowed to access details of this post.",
        ));
    }
    let mut counts = [0i64; 3];
    for (slot, status) in counts.iter_mut().zip(["1", "0", "spam"]) {
        let q = CommentQuery {
            post_ids: vec![id],
            statuses: vec![status.to_owned()],
            limit: 0,
            ..CommentQuery::default()
        };
        *slot = s.site.store.query_comments(&q).await?.1;
    }
    let [approved, moderated, spam] = counts;
    Ok(Value::object([
        ("approved", Value::Int(approved)),
        ("awaiting_moderation", Value::Int(moderated)),
        ("spam", Value::Int(spam)),
        // `get_comment_count()`: every status but the two trashed ones.
        ("total_comments", Value::Int(approved + moderated + spam)),
    ]))
}

/// `wp.getCommentStatusList( blog_id, username, password )`: `get_comment_statuses()`.
pub async fn get_comment_status_list(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let user = s.login(&username, &password).await?;
    if !actor_can(&user, Cap::Primitive("publish_posts")) {
        return Err(Fault::new(
            403,
            "Sorry, you are not allowed to access details about this site.",
        ));
    }
    Ok(Value::object(
        STATUSES.iter().map(|(k, v)| (*k, Value::str(*v))),
    ))
}
