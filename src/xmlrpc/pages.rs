//! Pages: `wp.getPage`, `wp.getPages`, `wp.getPageList`, `wp.newPage`, `wp.editPage`,
//! `wp.deletePage` (`class-wp-xmlrpc-server.php`); writes are the MetaWeblog ones with
//! `post_type` page, as in WordPress.

use serde_json::Value as Json;

use crate::caps::{Actor, Cap, PostRef};

use super::blog::credentials;
use super::posts::iso_value;
use super::rest::{Rest, json_str};
use super::{Fault, RpcResult, Server, Value, metaweblog};

/// `_prepare_page()` from the REST page (edit context).
async fn prepare_page(s: &Server<'_>, rest: &Rest<'_>, item: &Json) -> RpcResult {
    let raw = |k: &str| {
        item.get(k)
            .and_then(|v| v.get("raw").or(Some(v)))
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let int = |k: &str| item.get(k).and_then(Json::as_i64).unwrap_or(0);
    let author = s.site.store.user_by_id(int("author")).await?;
    let author_name = author.map(|u| u.display_name).unwrap_or_default();
    let parent = int("parent");
    let parent_title = if parent > 0 {
        let (_, p) = rest
            .get(&format!("/wp/v2/pages/{parent}"), &[("context", "edit")])
            .await?;
        p.get("title")
            .and_then(|t| t.get("raw"))
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned()
    } else {
        String::new()
    };
    let (main, extended, _) = metaweblog::get_extended(&raw("content"));
    let link = json_str(item, "link").to_owned();
    let open = |k: &str| Value::Int(i64::from(json_str(item, k) == "open"));
    let template = match json_str(item, "template") {
        "" => "default",
        t => t,
    };
    Ok(Value::object([
        ("dateCreated", iso_value(json_str(item, "date"))),
        ("userid", Value::String(int("author").to_string())),
        ("page_id", Value::Int(int("id"))),
        ("page_status", Value::str(json_str(item, "status"))),
        ("description", Value::String(main)),
        ("title", Value::String(raw("title"))),
        ("link", Value::String(link.clone())),
        ("permaLink", Value::String(link)),
        ("categories", Value::Array(vec![])),
        ("excerpt", Value::String(raw("excerpt"))),
        ("text_more", Value::String(extended)),
        ("mt_allow_comments", open("comment_status")),
        ("mt_allow_pings", open("ping_status")),
        ("wp_slug", Value::str(json_str(item, "slug"))),
        ("wp_password", Value::str(json_str(item, "password"))),
        ("wp_author", Value::String(author_name.clone())),
        ("wp_page_parent_id", Value::Int(parent)),
        ("wp_page_parent_title", Value::String(parent_title)),
        ("wp_page_order", Value::Int(int("menu_order"))),
        ("wp_author_id", Value::String(int("author").to_string())),
        ("wp_author_display_name", Value::String(author_name)),
        ("date_created_gmt", iso_value(json_str(item, "date_gmt"))),
        (
            "custom_fields",
            super::custom_fields::get_custom_fields(s.site, rest.user(), int("id")).await?,
        ),
        ("wp_page_template", Value::str(template)),
    ]))
}

fn can_edit_page(s: &Server<'_>, actor: &Actor<'_>, author: i64, status: &str) -> bool {
    s.site.post_type("page").is_some_and(|pt| {
        actor.can(Cap::EditPost(PostRef {
            author,
            status,
            pre_trash_status: None,
            caps: &pt.caps,
        }))
    })
}

/// `wp.getPage( blog_id, page_id, username, password )`.
pub async fn get_page(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let id = args.get(1).map_or(0, Value::as_php_int);
    let (username, password) = credentials(args, 2);
    let user = s.login(&username, &password).await?;
    let Some(post) = s.site.store.post_by_id(id).await?.filter(|_| id > 0) else {
        return Err(Fault::new(404, "Invalid post ID."));
    };
    // edit_page is edit_post for whatever the id names.
    if !super::can_edit(s, &user, &post) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to edit this page.",
        ));
    }
    if post.post_type != "page" {
        return Err(Fault::new(404, "Sorry, no such page."));
    }
    let rest = Rest::new(s, user);
    let (_, item) = rest
        .get(&format!("/wp/v2/pages/{id}"), &[("context", "edit")])
        .await?;
    prepare_page(s, &rest, &item).await
}

/// `wp.getPages( blog_id, username, password, num_pages )`: 10 by default, every status.
pub async fn get_pages(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let number = args.get(3).map_or(10, Value::as_php_int);
    let user = s.login(&username, &password).await?;
    let actor = Actor {
        id: user.id,
        roles: &user.roles,
    };
    if !actor.can(Cap::Primitive("edit_pages")) {
        return Err(Fault::new(401, "Sorry, you are not allowed to edit pages."));
    }
    // get_posts(): a number below 1 means every page.
    let per_page = if number < 1 { 100 } else { number.min(100) };
    let rest = Rest::new(s, user.clone());
    let pp = per_page.to_string();
    let (_, items) = rest
        .get(
            "/wp/v2/pages",
            &[
                ("context", "edit"),
                ("status", "publish,future,draft,pending,private"),
                ("per_page", &pp),
            ],
        )
        .await?;
    let mut out = Vec::new();
    if let Json::Array(items) = items {
        for item in &items {
            let author = item.get("author").and_then(Json::as_i64).unwrap_or(0);
            if can_edit_page(s, &actor, author, json_str(item, "status")) {
                out.push(prepare_page(s, &rest, item).await?);
            }
        }
    }
    Ok(Value::Array(out))
}

/// `wp.getPageList( blog_id, username, password )`: every page, by id, as database strings.
pub async fn get_page_list(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let user = s.login(&username, &password).await?;
    if !super::blog::actor_can(&user, Cap::Primitive("edit_pages")) {
        return Err(Fault::new(401, "Sorry, you are not allowed to edit pages."));
    }
    let rest = Rest::new(s, user);
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let p = page.to_string();
        let (_, items) = rest
            .get(
                "/wp/v2/pages",
                &[
                    ("context", "edit"),
                    ("status", "publish,future,draft,pending,private,trash"),
                    ("per_page", "100"),
                    ("page", &p),
                    ("orderby", "id"),
                    ("order", "asc"),
                ],
            )
            .await?;
        let Json::Array(items) = items else { break };
        for item in &items {
            let int = |k: &str| item.get(k).and_then(Json::as_i64).unwrap_or(0);
            let title = item
                .get("title")
                .and_then(|t| t.get("raw"))
                .and_then(Json::as_str)
                .unwrap_or("");
            out.push(Value::object([
                ("page_id", Value::String(int("id").to_string())),
                ("page_title", Value::str(title)),
                ("page_parent_id", Value::String(int("parent").to_string())),
                ("dateCreated", iso_value(json_str(item, "date"))),
                ("date_created_gmt", iso_value(json_str(item, "date_gmt"))),
            ]));
        }
        if items.len() < 100 || page >= 1000 {
            break;
        }
        page += 1;
    }
    Ok(Value::Array(out))
}

/// `wp.newPage( blog_id, username, password, content, publish )`: `metaWeblog.newPost` of a page.
pub async fn new_page(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let mut args = args.to_vec();
    set_page_type(&mut args, 3);
    metaweblog::new_post(s, &args).await
}

/// `wp.editPage( blog_id, page_id, username, password, content, publish )`.
pub async fn edit_page(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let id = args.get(1).map_or(0, Value::as_php_int);
    let (username, password) = credentials(args, 2);
    let user = s.login(&username, &password).await?;
    let post = s.site.store.post_by_id(id).await?;
    let Some(post) = post.filter(|p| id > 0 && p.post_type == "page") else {
        return Err(Fault::new(404, "Sorry, no such page."));
    };
    let actor = Actor {
        id: user.id,
        roles: &user.roles,
    };
    if !can_edit_page(s, &actor, post.author, &post.status) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to edit this page.",
        ));
    }
    let mut mw = vec![
        Value::Int(id),
        username,
        password,
        args.get(4).cloned().unwrap_or(Value::Struct(vec![])),
        args.get(5).cloned().unwrap_or(Value::Bool(false)),
    ];
    set_page_type(&mut mw, 3);
    metaweblog::edit_post(s, &mw).await
}

/// `$args[n]['post_type'] = 'page'`.
fn set_page_type(args: &mut Vec<Value>, n: usize) {
    while args.len() <= n {
        args.push(Value::Struct(vec![]));
    }
    if let Value::Struct(m) = &mut args[n] {
        m.retain(|(k, _)| k != "post_type");
        m.push(("post_type".to_owned(), Value::str("page")));
    } else {
        args[n] = Value::object([("post_type", Value::str("page"))]);
    }
}

/// `wp.deletePage( blog_id, username, password, page_id )`.
pub async fn delete_page(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let id = args.get(3).map_or(0, Value::as_php_int);
    let user = s.login(&username, &password).await?;
    let post = s.site.store.post_by_id(id).await?;
    let Some(post) = post.filter(|p| id > 0 && p.post_type == "page") else {
        return Err(Fault::new(404, "Sorry, no such page."));
    };
    let rest = Rest::new(s, user);
    super::posts::delete_through_rest(
        &rest,
        &format!("/wp/v2/pages/{id}"),
        &post,
        "Sorry, you are not allowed to delete this page.",
        "Failed to delete the page.",
    )
    .await
}
