//! The older category, Movable Type and Blogger methods: `wp.getCategories`, `wp.getTags`,
//! `wp.newCategory`, `wp.deleteCategory`, `wp.suggestCategories`, `mt.*`, `blogger.getPost`,
//! `getRecentPosts`, `newPost`, `editPost` (`class-wp-xmlrpc-server.php`), through the REST
//! routes.

use serde_json::{Value as Json, json};

use crate::caps::{Actor, Cap, PostRef};
use crate::store::{Post, User};

use super::blog::{actor_can, credentials};
use super::posts::iso_value;
use super::rest::{Rest, json_str};
use super::{Fault, RpcResult, Server, Value};

fn require_edit_posts(user: &User, what: &str) -> Result<(), Fault> {
    if actor_can(user, Cap::Primitive("edit_posts")) {
        Ok(())
    } else {
        Err(Fault::new(
            401,
            format!("Sorry, you must be able to edit posts on this site in order to view {what}."),
        ))
    }
}

/// Every term of `base` (`hide_empty` off), in the REST default order (by name).
async fn all_terms(
    rest: &Rest<'_>,
    base: &str,
    extra: &[(&str, &str)],
) -> Result<Vec<Json>, Fault> {
    let mut out = Vec::new();
    for page in 1..=100 {
        let p = page.to_string();
        let mut q = vec![
            ("per_page", "100"),
            ("page", p.as_str()),
            ("hide_empty", "false"),
        ];
        q.extend_from_slice(extra);
        let (_, items) = rest.get(&format!("/wp/v2/{base}"), &q).await?;
        let Json::Array(items) = items else { break };
        let n = items.len();
        out.extend(items);
        if n < 100 {
            break;
        }
    }
    Ok(out)
}

fn id_of(j: &Json, key: &str) -> i64 {
    j.get(key).and_then(Json::as_i64).unwrap_or(0)
}

/// `wp.getTags( blog_id, username, password )`: the tags used at least once.
pub async fn get_tags(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let user = s.login(&username, &password).await?;
    require_edit_posts(&user, "tags")?;
    let rest = Rest::new(s, user);
    let tags = all_terms(&rest, "tags", &[("hide_empty", "true")]).await?;
    Ok(Value::Array(
        tags.iter()
            .map(|t| {
                let link = crate::admin::esc_html(json_str(t, "link"));
                Value::object([
                    ("tag_id", Value::Int(id_of(t, "id"))),
                    ("name", Value::str(json_str(t, "name"))),
                    ("count", Value::Int(id_of(t, "count"))),
                    ("slug", Value::str(json_str(t, "slug"))),
                    ("html_url", Value::String(link.clone())),
                    ("rss_url", Value::String(format!("{link}feed/"))),
                ])
            })
            .collect(),
    ))
}

/// `mt.getCategoryList( blog_id, username, password )`.
pub async fn get_category_list(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let user = s.login(&username, &password).await?;
    require_edit_posts(&user, "categories")?;
    let rest = Rest::new(s, user);
    let cats = all_terms(&rest, "categories", &[]).await?;
    Ok(Value::Array(
        cats.iter()
            .map(|c| {
                Value::object([
                    ("categoryId", Value::Int(id_of(c, "id"))),
                    ("categoryName", Value::str(json_str(c, "name"))),
                ])
            })
            .collect(),
    ))
}

/// `wp.suggestCategories( blog_id, username, password, category, max_results )`: names
/// containing the text.
pub async fn suggest_categories(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let like = args.get(3).map(Value::as_php_string).unwrap_or_default();
    let max = args.get(4).map_or(0, Value::as_php_int);
    let user = s.login(&username, &password).await?;
    require_edit_posts(&user, "categories")?;
    let rest = Rest::new(s, user);
    let wanted = like.to_lowercase();
    let cats = all_terms(&rest, "categories", &[]).await?;
    // `number` 0 means no limit, as in get_terms().
    let limit = if max > 0 {
        usize::try_from(max).unwrap_or(usize::MAX)
    } else {
        usize::MAX
    };
    Ok(Value::Array(
        cats.iter()
            .filter(|c| json_str(c, "name").to_lowercase().contains(&wanted))
            .take(limit)
            .map(|c| {
                Value::object([
                    ("category_id", Value::Int(id_of(c, "id"))),
                    ("category_name", Value::str(json_str(c, "name"))),
                ])
            })
            .collect(),
    ))
}

/// `wp.newCategory( blog_id, username, password, category )`: the new (or existing) id.
pub async fn new_category(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let category = args.get(3).cloned().unwrap_or(Value::Struct(vec![]));
    let user = s.login(&username, &password).await?;
    if !actor_can(&user, Cap::Primitive("manage_categories")) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to add a category.",
        ));
    }
    let field = |k: &str| {
        category
            .get(k)
            .map(Value::as_php_string)
            .unwrap_or_default()
    };
    let mut body = serde_json::Map::new();
    body.insert("name".into(), Json::String(field("name")));
    if !field("slug").is_empty() {
        body.insert("slug".into(), Json::String(field("slug")));
    }
    let parent = category.get("parent_id").map_or(0, Value::as_php_int);
    if parent != 0 {
        body.insert("parent".into(), json!(parent));
    }
    if !field("description").is_empty() {
        body.insert("description".into(), Json::String(field("description")));
    }
    let rest = Rest::new(s, user);
    let (code, made) = rest.post("/wp/v2/categories", &Json::Object(body)).await?;
    match code {
        201 => Ok(Value::Int(id_of(&made, "id"))),
        // `term_exists`: the existing category's id.
        _ if json_str(&made, "code") == "term_exists" => Ok(Value::Int(
            made.get("data")
                .and_then(|d| d.get("term_id"))
                .and_then(Json::as_i64)
                .unwrap_or(0),
        )),
        _ => Err(Fault::new(500, "Sorry, the category could not be created.")),
    }
}

/// `wp.deleteCategory( blog_id, username, password, category_id )`: `wp_delete_term()`'s
/// answer (`false` when there is no such category).
pub async fn delete_category(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let id = args.get(3).map_or(0, Value::as_php_int);
    let user = s.login(&username, &password).await?;
    let rest = Rest::new(s, user.clone());
    let exists = id > 0 && rest.get(&format!("/wp/v2/categories/{id}"), &[]).await?.0 == 200;
    // map_meta_cap( 'delete_term' ): a missing term and the default category are never
    // deletable.
    if !exists
        || !actor_can(&user, Cap::Primitive("manage_categories"))
        || id == crate::rest::terms::DEFAULT_CATEGORY
    {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to delete this category.",
        ));
    }
    let (code, _) = rest
        .delete(&format!("/wp/v2/categories/{id}"), &[("force", "true")])
        .await?;
    Ok(Value::Bool(code == 200))
}

/// A post and whether the user may edit it; `None`: no such post.
async fn editable(s: &Server<'_>, user: &User, id: i64) -> Result<Option<(Post, bool)>, Fault> {
    let Some(post) = s.site.store.post_by_id(id).await?.filter(|_| id > 0) else {
        return Ok(None);
    };
    let ok = super::can_edit(s, user, &post);
    Ok(Some((post, ok)))
}

/// The category ids of a post (REST `categories`), `[]` for types without categories.
async fn post_category_ids(rest: &Rest<'_>, post: &Post) -> Result<Vec<i64>, Fault> {
    if post.post_type != "post" {
        return Ok(vec![]);
    }
    let (_, item) = rest
        .get(&format!("/wp/v2/posts/{}", post.id), &[("context", "edit")])
        .await?;
    Ok(match item.get("categories") {
        Some(Json::Array(a)) => a.iter().filter_map(Json::as_i64).collect(),
        _ => vec![],
    })
}

/// `mt.getPostCategories( post_id, username, password )`.
pub async fn get_post_categories(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let id = args.first().map_or(0, Value::as_php_int);
    let (username, password) = credentials(args, 1);
    let user = s.login(&username, &password).await?;
    let Some((post, ok)) = editable(s, &user, id).await? else {
        return Err(Fault::new(404, "Invalid post ID."));
    };
    if !ok {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to edit this post.",
        ));
    }
    let rest = Rest::new(s, user);
    let ids = post_category_ids(&rest, &post).await?;
    let mut out = Vec::new();
    for (i, cat) in ids.iter().enumerate() {
        let (_, c) = rest.get(&format!("/wp/v2/categories/{cat}"), &[]).await?;
        out.push(Value::object([
            ("categoryName", Value::str(json_str(&c, "name"))),
            ("categoryId", Value::String(cat.to_string())),
            ("isPrimary", Value::Bool(i == 0)),
        ]));
    }
    Ok(Value::Array(out))
}

/// `mt.setPostCategories( post_id, username, password, categories )`.
pub async fn set_post_categories(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let id = args.first().map_or(0, Value::as_php_int);
    let (username, password) = credentials(args, 1);
    let user = s.login(&username, &password).await?;
    let Some((post, ok)) = editable(s, &user, id).await? else {
        return Err(Fault::new(404, "Invalid post ID."));
    };
    if !ok {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to edit this post.",
        ));
    }
    let rest = Rest::new(s, user);
    let wanted: Vec<i64> = match args.get(3) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|c| c.get("categoryId").map(Value::as_php_int))
            .collect(),
        _ => vec![],
    };
    // wp_set_post_categories() keeps only categories that exist.
    let mut ids = Vec::new();
    for cat in wanted {
        if cat > 0 && rest.get(&format!("/wp/v2/categories/{cat}"), &[]).await?.0 == 200 {
            ids.push(cat);
        }
    }
    if post.post_type == "post" {
        rest.post(&format!("/wp/v2/posts/{id}"), &json!({ "categories": ids }))
            .await?;
    }
    Ok(Value::Bool(true))
}

/// `mt.getRecentPostTitles( blog_id, username, password, number )`.
pub async fn get_recent_post_titles(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let number = args
        .get(3)
        .map_or(10, |n| n.as_php_int().unsigned_abs())
        .min(100);
    let user = s.login(&username, &password).await?;
    let rest = Rest::new(s, user.clone());
    let items = recent_posts(s, &rest, &user, number).await?;
    if items.is_empty() {
        return Err(Fault::new(
            500,
            "Either there are no posts, or something went wrong.",
        ));
    }
    Ok(Value::Array(
        items
            .iter()
            .filter(|(_, ok)| *ok)
            .map(|(item, _)| {
                Value::object([
                    ("dateCreated", iso_value(json_str(item, "date"))),
                    ("userid", Value::String(id_of(item, "author").to_string())),
                    ("postid", Value::String(id_of(item, "id").to_string())),
                    ("title", Value::String(raw(item, "title"))),
                    ("post_status", Value::str(json_str(item, "status"))),
                    ("date_created_gmt", iso_value(json_str(item, "date_gmt"))),
                ])
            })
            .collect(),
    ))
}

fn raw(item: &Json, key: &str) -> String {
    item.get(key)
        .and_then(|v| v.get("raw").or(Some(v)))
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_owned()
}

/// `wp_get_recent_posts()` (posts of every status but trash, newest first), each with
/// whether the user may edit it (WordPress lists only those, but faults only on none at all).
async fn recent_posts(
    s: &Server<'_>,
    rest: &Rest<'_>,
    user: &User,
    number: u64,
) -> Result<Vec<(Json, bool)>, Fault> {
    let Some(pt) = s.site.post_type("post") else {
        return Ok(vec![]);
    };
    let actor = Actor {
        id: user.id,
        roles: &user.roles,
    };
    let per_page = number.max(1).to_string();
    // Without edit_posts nothing can be edited: only whether any post exists matters.
    let query: &[(&str, &str)] = if actor.can(Cap::Primitive("edit_posts")) {
        &[
            ("context", "edit"),
            ("status", "draft,publish,future,pending,private"),
            ("per_page", &per_page),
        ]
    } else {
        &[("per_page", "1")]
    };
    let (_, items) = rest.get("/wp/v2/posts", query).await?;
    let Json::Array(items) = items else {
        return Ok(vec![]);
    };
    Ok(items
        .into_iter()
        .map(|item| {
            let ok = actor.can(Cap::EditPost(PostRef {
                author: id_of(&item, "author"),
                status: json_str(&item, "status"),
                pre_trash_status: None,
                caps: &pt.caps,
            }));
            (item, ok)
        })
        .collect())
}

/// `mt.getTrackbackPings( post_id )`: ferropress receives no trackbacks, so an existing
/// post has none.
pub async fn get_trackback_pings(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    // IXR passes a lone argument itself; with several, WordPress looks up an array (none).
    let id = match args {
        [one] => one.as_php_int(),
        _ => 0,
    };
    if id > 0 && s.site.store.post_by_id(id).await?.is_some() {
        Ok(Value::Array(vec![]))
    } else {
        Err(Fault::new(404, "Sorry, no such post."))
    }
}

/// `mt.publishPost( post_id, username, password )`: the post id.
pub async fn publish_post(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let id = args.first().map_or(0, Value::as_php_int);
    let (username, password) = credentials(args, 1);
    let user = s.login(&username, &password).await?;
    let Some((post, ok)) = editable(s, &user, id).await? else {
        return Err(Fault::new(404, "Invalid post ID."));
    };
    if !ok || !actor_can(&user, Cap::Primitive("publish_posts")) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to publish this post.",
        ));
    }
    let Some(pt) = s.site.post_type(&post.post_type) else {
        return Err(Fault::new(404, "Invalid post ID."));
    };
    let rest = Rest::new(s, user);
    let (code, answer) = rest
        .post(
            &format!("/wp/v2/{}/{id}", pt.rest_base),
            &json!({ "status": "publish" }),
        )
        .await?;
    if code != 200 {
        return Err(Fault::new(500, json_str(&answer, "message")));
    }
    Ok(Value::Int(id))
}

/// `xmlrpc_getposttitle()`, `xmlrpc_getpostcategory()` and `xmlrpc_removepostdata()` in one
/// linear pass: the first `<title>` and `<category>` (case-insensitive), and the content
/// without any of them. Each tag's next position is searched for only once it has been
/// passed, and a closing tag found missing stays missing, so no text is scanned twice.
fn blogger_content(content: &str) -> (Option<String>, Option<Vec<String>>, String) {
    const TAGS: [(&str, &str); 2] = [("<title>", "</title>"), ("<category>", "</category>")];
    let lower = content.to_ascii_lowercase();
    let find_from = |needle: &str, from: usize| {
        lower
            .get(from..)
            .and_then(|t| t.find(needle))
            .map(|p| from + p)
    };
    // Next opening position of each tag (None: no more), and where its closing tag is next
    // (None: none after the cached position).
    let mut open: [Option<usize>; 2] = [find_from(TAGS[0].0, 0), find_from(TAGS[1].0, 0)];
    let mut close: [Option<Option<usize>>; 2] = [None, None];
    let mut title = None;
    let mut category = None;
    let mut rest = String::with_capacity(content.len());
    let mut i = 0;
    loop {
        for k in 0..2 {
            if open[k].is_some_and(|p| p < i) {
                open[k] = find_from(TAGS[k].0, i);
            }
        }
        let next = (0..2)
            .filter_map(|k| open[k].map(|p| (p, k)))
            .min_by_key(|(p, _)| *p);
        let Some((start, k)) = next else {
            rest.push_str(&content[i..]);
            break;
        };
        let (tag, end_tag) = TAGS[k];
        let inner = start + tag.len();
        // `(.+?)`: at least one character before the closing tag.
        let end = match close[k] {
            Some(Some(e)) if e > inner => Some(e),
            Some(None) => None,
            _ => {
                let e = find_from(end_tag, inner + 1);
                close[k] = Some(e);
                e
            }
        };
        let Some(end) = end else {
            rest.push_str(&content[i..inner]);
            i = inner;
            continue;
        };
        rest.push_str(&content[i..start]);
        let text = &content[inner..end];
        if k == 0 {
            title.get_or_insert_with(|| text.to_owned());
        } else if category.is_none() {
            category = Some(
                text.trim_matches(',')
                    .split(',')
                    .map(str::to_owned)
                    .collect(),
            );
        }
        i = end + end_tag.len();
    }
    (title, category, rest.trim().to_owned())
}

/// `blogger.getPost( appkey, post_id, username, password )`.
pub async fn blogger_get_post(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let id = args.get(1).map_or(0, Value::as_php_int);
    let (username, password) = credentials(args, 2);
    let user = s.login(&username, &password).await?;
    let Some((post, ok)) = editable(s, &user, id).await? else {
        return Err(Fault::new(404, "Invalid post ID."));
    };
    if !ok {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to edit this post.",
        ));
    }
    let rest = Rest::new(s, user);
    let cats = post_category_ids(&rest, &post).await?;
    let Some(pt) = s.site.post_type(&post.post_type) else {
        return Err(Fault::new(404, "Invalid post ID."));
    };
    let (_, item) = rest
        .get(
            &format!("/wp/v2/{}/{id}", pt.rest_base),
            &[("context", "edit")],
        )
        .await?;
    Ok(blogger_struct(&item, &cats))
}

fn blogger_struct(item: &Json, cats: &[i64]) -> Value {
    let cats = cats
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    Value::object([
        ("userid", Value::String(id_of(item, "author").to_string())),
        ("dateCreated", iso_value(json_str(item, "date"))),
        (
            "content",
            Value::String(format!(
                "<title>{}</title><category>{cats}</category>{}",
                raw(item, "title"),
                raw(item, "content")
            )),
        ),
        ("postid", Value::String(id_of(item, "id").to_string())),
    ])
}

/// `blogger.getRecentPosts( appkey, blog_id, username, password, number )`.
pub async fn blogger_get_recent_posts(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 2);
    let number = args
        .get(4)
        .map_or(10, |n| n.as_php_int().unsigned_abs())
        .min(100);
    let user = s.login(&username, &password).await?;
    if !actor_can(&user, Cap::Primitive("edit_posts")) {
        return Err(Fault::new(401, "Sorry, you are not allowed to edit posts."));
    }
    let rest = Rest::new(s, user.clone());
    let items = recent_posts(s, &rest, &user, number).await?;
    if items.is_empty() {
        return Err(Fault::new(
            500,
            "Either there are no posts, or something went wrong.",
        ));
    }
    let mut out = Vec::new();
    for (item, _) in items.iter().filter(|(_, ok)| *ok) {
        let cats: Vec<i64> = match item.get("categories") {
            Some(Json::Array(a)) => a.iter().filter_map(Json::as_i64).collect(),
            _ => vec![],
        };
        out.push(blogger_struct(item, &cats));
    }
    Ok(Value::Array(out))
}

/// The REST fields of a Blogger `content` string.
fn blogger_body(content: &str, publish: bool) -> serde_json::Map<String, Json> {
    let (title, cats, text) = blogger_content(content);
    let mut body = serde_json::Map::new();
    body.insert("title".into(), Json::String(title.unwrap_or_default()));
    body.insert("content".into(), Json::String(text));
    body.insert(
        "status".into(),
        json!(if publish { "publish" } else { "draft" }),
    );
    if let Some(cats) = cats {
        let ids: Vec<i64> = cats
            .iter()
            .map(|c| super::value::php_intval(c))
            .filter(|i| *i > 0)
            .collect();
        body.insert("categories".into(), json!(ids));
    }
    body
}

/// `blogger.newPost( appkey, blog_id, username, password, content, publish )`: the id.
pub async fn blogger_new_post(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 2);
    let content = args.get(4).map(Value::as_php_string).unwrap_or_default();
    let publish = args.get(5).is_some_and(Value::truthy);
    let user = s.login(&username, &password).await?;
    let cap = if publish {
        "publish_posts"
    } else {
        "edit_posts"
    };
    if !actor_can(&user, Cap::Primitive("edit_posts")) || !actor_can(&user, Cap::Primitive(cap)) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to post on this site.",
        ));
    }
    let rest = Rest::new(s, user);
    let (code, made) = rest
        .post(
            "/wp/v2/posts",
            &Json::Object(blogger_body(&content, publish)),
        )
        .await?;
    if code != 201 {
        return Err(Fault::new(500, json_str(&made, "message")));
    }
    Ok(Value::Int(id_of(&made, "id")))
}

/// `blogger.editPost( appkey, post_id, username, password, content, publish )`.
pub async fn blogger_edit_post(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let id = args.get(1).map_or(0, Value::as_php_int);
    let (username, password) = credentials(args, 2);
    let content = args.get(4).map(Value::as_php_string).unwrap_or_default();
    let publish = args.get(5).is_some_and(Value::truthy);
    let user = s.login(&username, &password).await?;
    let found = editable(s, &user, id)
        .await?
        .filter(|(p, _)| p.post_type == "post");
    let Some((post, ok)) = found else {
        return Err(Fault::new(404, "Sorry, no such post."));
    };
    if !ok {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to edit this post.",
        ));
    }
    if post.status == "publish" && !actor_can(&user, Cap::Primitive("publish_posts")) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to publish this post.",
        ));
    }
    let rest = Rest::new(s, user);
    let (code, _) = rest
        .post(
            &format!("/wp/v2/posts/{id}"),
            &Json::Object(blogger_body(&content, publish)),
        )
        .await?;
    if code != 200 {
        return Err(Fault::new(500, "Sorry, the post could not be updated."));
    }
    Ok(Value::Bool(true))
}

#[cfg(test)]
mod tests {
    use super::blogger_content;

    #[test]
    fn blogger_content_is_split_as_wordpress_does() {
        let (t, c, rest) = blogger_content(
            "<Title>Hi <b>there</b></TITLE><category>3,4,</category>\n Body <title>second</title>",
        );
        assert_eq!(t.as_deref(), Some("Hi <b>there</b>"));
        assert_eq!(c, Some(vec!["3".to_owned(), "4".to_owned()]));
        assert_eq!(rest, "Body");
        let (t, c, rest) = blogger_content("<title></title>plain");
        assert_eq!((t, c), (None, None));
        assert_eq!(rest, "<title></title>plain");
        // An earlier tag's close is found past a later open, as the regex does.
        let (t, _, rest) = blogger_content("<title>a<title>b</title>c");
        assert_eq!(t.as_deref(), Some("a<title>b"));
        assert_eq!(rest, "c");
    }

    /// Unclosed tags of both kinds, megabytes of them: one pass (the old search re-scanned
    /// the rest of the text per tag, minutes for this input).
    #[test]
    fn blogger_content_is_linear_on_unclosed_tags() {
        let hostile = "<title>x<category>y".repeat(200_000);
        let started = std::time::Instant::now();
        let (t, c, rest) = blogger_content(&hostile);
        assert_eq!((t, c), (None, None));
        assert_eq!(rest.len(), hostile.len());
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }
}
