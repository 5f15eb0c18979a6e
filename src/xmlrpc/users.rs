//! Users: `wp.getUser`, `wp.getUsers`, `wp.getAuthors`, `wp.editProfile`
//! (`class-wp-xmlrpc-server.php`). Reads come from the store, capabilities from `caps`, and
//! profile changes go through `users::update_user` (`wp_update_user()`), as over REST.

use crate::caps::{Cap, Role};
use crate::store::{UserOrderBy, UserQuery};

use super::blog::{actor_can, prepare_user};
use super::{Fault, RpcResult, Server, Value, minimum_args};

/// `wp.getUser( blog_id, username, password, user_id, fields )`.
pub async fn get_user(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 4)?;
    let id = args[3].as_php_int();
    let fields = super::fields_or(args.get(4), &["all"]);
    let user = s.login(&args[1], &args[2]).await?;
    if !actor_can(&user, Cap::EditUser(id)) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to edit this user.",
        ));
    }
    match s.site.store.user_by_id(id).await?.filter(|_| id > 0) {
        Some(u) => Ok(prepare_user(&u, &fields)),
        None => Err(Fault::new(404, "Invalid user ID.")),
    }
}

/// `wp.getUsers( blog_id, username, password, filter, fields )`: `number` (50), `offset`,
/// `orderby`, `order`, `role`, `who`; only the users the caller may edit.
pub async fn get_users(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 3)?;
    let filter = args.get(3).cloned().unwrap_or(Value::Struct(vec![]));
    let fields = super::fields_or(args.get(4), &["all"]);
    let user = s.login(&args[1], &args[2]).await?;
    if !actor_can(&user, Cap::Primitive("list_users")) {
        return Err(Fault::new(401, "Sorry, you are not allowed to list users."));
    }
    let mut q = UserQuery {
        // WP_User_Query's default order: by login.
        orderby: UserOrderBy::Login,
        ascending: true,
        limit: filter
            .get("number")
            .map_or(50, |n| n.as_php_int().abs())
            .min(1000),
        offset: filter.get("offset").map_or(0, |n| n.as_php_int().abs()),
        ..UserQuery::default()
    };
    if let Some(o) = filter.get("orderby") {
        q.orderby = match o.as_php_string().to_ascii_lowercase().as_str() {
            "id" => UserOrderBy::Id,
            "display_name" | "name" => UserOrderBy::Name,
            "nicename" | "user_nicename" => UserOrderBy::Slug,
            "email" | "user_email" => UserOrderBy::Email,
            "url" | "user_url" => UserOrderBy::Url,
            "registered" | "user_registered" => UserOrderBy::Registered,
            _ => UserOrderBy::Login,
        };
        q.ascending = filter
            .get("order")
            .is_none_or(|v| !v.as_php_string().eq_ignore_ascii_case("desc"));
    }
    if let Some(role) = filter.get("role") {
        let Ok(role) = role.as_php_string().parse::<Role>() else {
            return Err(Fault::new(403, "Invalid role."));
        };
        q.role_sets = vec![vec![role]];
    }
    if filter
        .get("who")
        .is_some_and(|w| w.as_php_string() == "authors")
    {
        // `who=authors`: users with a level above 0, i.e. who may edit posts.
        q.role_sets.push(vec![
            Role::Administrator,
            Role::Editor,
            Role::Author,
            Role::Contributor,
        ]);
    }
    let (users, _) = s.site.store.query_users(&q).await?;
    Ok(Value::Array(
        users
            .iter()
            .filter(|u| actor_can(&user, Cap::EditUser(u.id)))
            .map(|u| prepare_user(u, &fields))
            .collect(),
    ))
}

/// `wp.getAuthors( blog_id, username, password )`: every user, as `get_users()` lists them.
pub async fn get_authors(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = super::blog::credentials(args, 1);
    let user = s.login(&username, &password).await?;
    if !actor_can(&user, Cap::Primitive("edit_posts")) {
        return Err(Fault::new(401, "Sorry, you are not allowed to edit posts."));
    }
    let q = UserQuery {
        orderby: UserOrderBy::Login,
        ascending: true,
        limit: 10_000,
        ..UserQuery::default()
    };
    let (users, _) = s.site.store.query_users(&q).await?;
    Ok(Value::Array(
        users
            .iter()
            .map(|u| {
                Value::object([
                    ("user_id", Value::String(u.id.to_string())),
                    ("user_login", Value::str(&u.login)),
                    ("display_name", Value::str(&u.display_name)),
                ])
            })
            .collect(),
    ))
}

/// `wp.editProfile( blog_id, username, password, content_struct )`.
pub async fn edit_profile(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 4)?;
    let user = s.login(&args[1], &args[2]).await?;
    if !actor_can(&user, Cap::EditUser(user.id)) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to edit your profile.",
        ));
    }
    let c = &args[3];
    let field = |k: &str| c.get(k).map(Value::as_php_string);
    let changes = crate::users::UserChanges {
        profile: crate::users::Profile {
            first_name: field("first_name"),
            last_name: field("last_name"),
            url: field("url"),
            display_name: field("display_name"),
            nickname: field("nickname"),
            nicename: field("nicename"),
            description: field("bio"),
            locale: None,
        },
        email: None,
        password: None,
        roles: None,
    };
    crate::users::update_user(s.site, (*user).clone(), changes)
        .await
        .map_err(|e| Fault::new(500, e.message))?;
    Ok(Value::Bool(true))
}
