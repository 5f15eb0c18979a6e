//! The site and the caller: `wp.getUsersBlogs`, `blogger.getUserInfo`, `wp.getProfile`, the
//! status, format and template lists (`class-wp-xmlrpc-server.php`).

use crate::caps::Cap;
use crate::store::User;

use super::{Fault, RpcResult, Server, Value, minimum_args};

/// `blogger.getUsersBlogs( appkey, username, password )`; `wp.getUsersBlogs` puts a blog id
/// first and comes here, as WordPress does on a single site.
pub async fn get_users_blogs(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 3)?;
    let user = s.login(&args[1], &args[2]).await?;
    let is_admin = actor_can(&user, Cap::Primitive("manage_options"));
    let site = s.site;
    let name = site
        .store
        .get_option("blogname")
        .await
        .map_err(Fault::from)?
        .unwrap_or_default();
    Ok(Value::Array(vec![Value::object([
        ("isAdmin", Value::Bool(is_admin)),
        ("url", Value::String(format!("{}/", site.config.home))),
        ("blogid", Value::str("1")),
        ("blogName", Value::String(name)),
        (
            "xmlrpc",
            Value::String(format!("{}/xmlrpc.php", site.config.home)),
        ),
    ])]))
}

/// `blogger.getUserInfo( appkey, username, password )`.
pub async fn get_user_info(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let user = s.login(&username, &password).await?;
    if !actor_can(&user, Cap::Primitive("edit_posts")) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to access user data on this site.",
        ));
    }
    Ok(Value::object([
        ("nickname", Value::str(&user.nickname)),
        ("userid", Value::Int(user.id)),
        ("url", Value::str(&user.url)),
        ("lastname", Value::str(&user.last_name)),
        ("firstname", Value::str(&user.first_name)),
    ]))
}

/// `wp.getProfile( blog_id, username, password, fields )`.
pub async fn get_profile(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 3)?;
    let user = s.login(&args[1], &args[2]).await?;
    if !actor_can(&user, Cap::EditUser(user.id)) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to edit your profile.",
        ));
    }
    let fields = super::fields_or(args.get(3), &["all"]);
    Ok(prepare_user(&user, &fields))
}

/// `_prepare_user()`: `user_id` always, then `all`, `basic` or the named fields.
pub fn prepare_user(user: &User, fields: &[String]) -> Value {
    let all: [(&str, Value); 11] = [
        ("username", Value::str(&user.login)),
        ("first_name", Value::str(&user.first_name)),
        ("last_name", Value::str(&user.last_name)),
        ("registered", date_value(user.registered)),
        ("bio", Value::str(&user.description)),
        ("email", Value::str(&user.email)),
        ("nickname", Value::str(&user.nickname)),
        ("nicename", Value::str(&user.nicename)),
        ("url", Value::str(&user.url)),
        ("display_name", Value::str(&user.display_name)),
        (
            "roles",
            Value::Array(user.roles.iter().map(|r| Value::str(r.as_str())).collect()),
        ),
    ];
    let mut out = vec![("user_id".to_owned(), Value::String(user.id.to_string()))];
    let has = |f: &str| fields.iter().any(|x| x == f);
    let basic = [
        "username",
        "email",
        "registered",
        "display_name",
        "nicename",
    ];
    for (name, v) in all {
        if has("all") || has(name) || (has("basic") && basic.contains(&name)) {
            out.push((name.to_owned(), v));
        }
    }
    Value::Struct(out)
}

/// `_convert_date()`: a GMT timestamp as `dateTime.iso8601` (`20261207T10:54:55`).
pub fn date_value(timestamp: i64) -> Value {
    let formatted = jiff::Timestamp::from_second(timestamp)
        .map(|t| t.strftime("%Y%m%dT%H:%M:%S").to_string())
        .unwrap_or_else(|_| "00000000T00:00:00".to_owned());
    Value::DateTime(formatted)
}

/// `wp.getPostStatusList( blog_id, username, password )`: `get_post_statuses()`.
pub async fn get_post_status_list(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let user = s.login(&username, &password).await?;
    require(&user, "edit_posts")?;
    Ok(Value::object([
        ("draft", Value::str("Draft")),
        ("pending", Value::str("Pending Review")),
        ("private", Value::str("Private")),
        ("publish", Value::str("Published")),
    ]))
}

/// `wp.getPageStatusList( blog_id, username, password )`: `get_page_statuses()`.
pub async fn get_page_status_list(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let user = s.login(&username, &password).await?;
    require(&user, "edit_pages")?;
    Ok(Value::object([
        ("draft", Value::str("Draft")),
        ("private", Value::str("Private")),
        ("publish", Value::str("Published")),
    ]))
}

/// `wp.getPageTemplates( blog_id, username, password )`: no theme, so only `Default`
/// (docs/compat.md "no-page-templates").
pub async fn get_page_templates(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let user = s.login(&username, &password).await?;
    require(&user, "edit_pages")?;
    Ok(Value::object([("Default", Value::str("default"))]))
}

/// `wp.getPostFormats( blog_id, username, password, filter )`: `get_post_format_strings()`.
/// The headless theme declares no `post-formats` support, so `show-supported` changes nothing.
pub async fn get_post_formats(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let user = s.login(&username, &password).await?;
    require(&user, "edit_posts")?;
    Ok(Value::object(
        [
            ("standard", "Standard"),
            ("aside", "Aside"),
            ("chat", "Chat"),
            ("gallery", "Gallery"),
            ("link", "Link"),
            ("image", "Image"),
            ("quote", "Quote"),
            ("status", "Status"),
            ("video", "Video"),
            ("audio", "Audio"),
        ]
        .map(|(k, v)| (k, Value::str(v))),
    ))
}

/// The username and password at `first` and `first + 1`; a missing one is an empty string
/// (PHP reads an unset index as `null`), which then fails the login.
pub fn credentials(args: &[Value], first: usize) -> (Value, Value) {
    let at = |i: usize| args.get(i).cloned().unwrap_or(Value::str(""));
    (at(first), at(first + 1))
}

pub fn actor_can(user: &User, cap: Cap<'_>) -> bool {
    crate::caps::Actor {
        id: user.id,
        roles: &user.roles,
    }
    .can(cap)
}

/// The 403 the site-detail methods answer without the capability.
fn require(user: &User, cap: &str) -> Result<(), Fault> {
    if actor_can(user, Cap::Primitive(cap)) {
        Ok(())
    } else {
        Err(Fault::new(
            403,
            "Sorry, you are not allowed to access details about this site.",
        ))
    }
}
