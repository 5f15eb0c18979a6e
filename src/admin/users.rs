//! `wp-admin/users.php` (the list, with the bulk "Change role to…" action) and
//! `wp-admin/user-new.php` (create a user), enough to make one dedicated user per
//! integration. Capabilities as WordPress: `list_users`, `promote_users`, `create_users`.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::{AdminCtx, FormData, Layout, query_params, render, wp_die};
use crate::auth::cookie;
use crate::caps::{Actor, Cap, Role};
use crate::site::Site;
use crate::users::{InsertUser, Profile, insert_user_with_profile};

pub struct UserRow {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub email: String,
    pub roles: String,
    pub is_self: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersTemplate {
    layout: Layout,
    nonce: String,
    users: Vec<UserRow>,
    roles: Vec<(&'static str, &'static str)>,
    can_promote: bool,
    notice: Option<String>,
    error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "user_new.html")]
struct UserNewTemplate<'a> {
    layout: Layout,
    nonce: String,
    roles: Vec<(&'static str, &'static str)>,
    form: &'a FormData,
    role: &'a str,
    error: Option<String>,
}

fn role_choices() -> Vec<(&'static str, &'static str)> {
    Role::ALL
        .iter()
        .map(|r| (r.as_str(), r.display_name()))
        .collect()
}

fn forbidden(message: &str) -> Response {
    wp_die(StatusCode::FORBIDDEN, "Forbidden", message, None)
}

/// `GET /wp-admin/users.php`.
pub async fn get(State(site): State<Arc<Site>>, ctx: AdminCtx, RawQuery(q): RawQuery) -> Response {
    if !ctx.can(Cap::Primitive("list_users")) {
        return forbidden("Sorry, you are not allowed to list users.");
    }
    let q = query_params(q.as_deref());
    let (notice, error) = match q.get("update") {
        Some("add") => (Some("New user created.".to_owned()), None),
        Some("promote") => (Some("Changed roles.".to_owned()), None),
        Some("err_admin_role") => (
            None,
            Some("The current user’s role must have user editing capabilities."),
        ),
        _ => (None, None),
    };
    list(&site, &ctx, notice, error).await
}

async fn list(
    site: &Site,
    ctx: &AdminCtx,
    notice: Option<String>,
    error: Option<&'static str>,
) -> Response {
    let key = match cookie::nonce_key(site).await {
        Ok(k) => k,
        Err(e) => return wp_die(e.status, "Error", &e.message, None),
    };
    let users = match site.store.list_users().await {
        Ok(u) => u,
        Err(e) => {
            let e = crate::error::WpError::from(e);
            return wp_die(e.status, "Error", &e.message, None);
        }
    };
    let rows = users
        .into_iter()
        .map(|u| UserRow {
            id: u.id,
            is_self: u.id == ctx.me.user.id,
            name: format!("{} {}", u.first_name, u.last_name)
                .trim()
                .to_owned(),
            roles: u
                .roles
                .iter()
                .map(|r| r.display_name())
                .collect::<Vec<_>>()
                .join(", "),
            login: u.login,
            email: u.email,
        })
        .collect();
    let tpl = UsersTemplate {
        layout: ctx.layout(key, "Users", "users"),
        nonce: ctx.me.nonce(key, "bulk-users"),
        users: rows,
        roles: role_choices(),
        can_promote: ctx.can(Cap::PromoteUser(0)),
        notice,
        error,
    };
    render(StatusCode::OK, &tpl)
}

/// `POST /wp-admin/users.php`: `action=promote` (`changeit`), `new_role`, `users[]`.
pub async fn post(State(site): State<Arc<Site>>, ctx: AdminCtx, body: Bytes) -> Response {
    let form = FormData::parse(&body);
    let key = match cookie::nonce_key(&site).await {
        Ok(k) => k,
        Err(e) => return wp_die(e.status, "Error", &e.message, None),
    };
    if let Some(resp) = ctx.check_admin_referer(key, &form, "bulk-users") {
        return resp;
    }
    if !ctx.can(Cap::PromoteUser(0)) {
        return forbidden("Sorry, you are not allowed to edit this user.");
    }
    // No role chosen (the placeholder) or no user ticked: nothing to do, as in WordPress.
    let chosen = form.get("new_role").unwrap_or("");
    if chosen.is_empty() || form.all("users[]").is_empty() {
        return Redirect::to("/wp-admin/users.php").into_response();
    }
    let Ok(role) = chosen.parse::<Role>() else {
        return forbidden("Sorry, you are not allowed to give users that role.");
    };
    let mut update = "promote";
    for id in form.all("users[]") {
        let Ok(id) = id.parse::<i64>() else { continue };
        if !ctx.can(Cap::PromoteUser(id)) {
            return forbidden("Sorry, you are not allowed to edit this user.");
        }
        // An administrator cannot take away their own right to manage users.
        let roles = [role];
        let after = Actor { id, roles: &roles };
        if id == ctx.me.user.id && !after.has_primitive("promote_users") {
            update = "err_admin_role";
            continue;
        }
        let user = match site.store.user_by_id(id).await {
            Ok(Some(u)) => u,
            Ok(None) => continue,
            Err(e) => {
                let e = crate::error::WpError::from(e);
                return wp_die(e.status, "Error", &e.message, None);
            }
        };
        let changes = crate::users::UserChanges {
            roles: Some(vec![role]),
            ..Default::default()
        };
        if let Err(e) = crate::users::update_user_by(
            &site,
            user,
            changes,
            &crate::audit::By::user(ctx.me.user.id, &ctx.client),
        )
        .await
        {
            return wp_die(e.status, "Error", &e.message, None);
        }
        tracing::info!(by = %ctx.me.user.login, user_id = id, role = %role, "role changed");
    }
    Redirect::to(&format!("/wp-admin/users.php?update={update}")).into_response()
}

/// `GET /wp-admin/user-new.php`.
pub async fn get_new(State(site): State<Arc<Site>>, ctx: AdminCtx) -> Response {
    new_form(&site, &ctx, &FormData(vec![]), None, StatusCode::OK).await
}

async fn new_form(
    site: &Site,
    ctx: &AdminCtx,
    form: &FormData,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    if !ctx.can(Cap::CreateUsers) {
        return forbidden("Sorry, you are not allowed to create users.");
    }
    let key = match cookie::nonce_key(site).await {
        Ok(k) => k,
        Err(e) => return wp_die(e.status, "Error", &e.message, None),
    };
    let default_role = site
        .store
        .get_option("default_role")
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| "subscriber".into());
    let role = form.get("role").unwrap_or(&default_role).to_owned();
    let tpl = UserNewTemplate {
        layout: ctx.layout(key, "Add New User", "user-new"),
        nonce: ctx.me.nonce(key, "create-user"),
        roles: role_choices(),
        form,
        role: &role,
        error,
    };
    render(status, &tpl)
}

/// `POST /wp-admin/user-new.php`: `user_login`, `email`, `first_name`, `last_name`, `pass1`,
/// `role` (`edit_user()` in `wp-admin/includes/user.php`).
pub async fn post_new(State(site): State<Arc<Site>>, ctx: AdminCtx, body: Bytes) -> Response {
    let form = FormData::parse(&body);
    let key = match cookie::nonce_key(&site).await {
        Ok(k) => k,
        Err(e) => return wp_die(e.status, "Error", &e.message, None),
    };
    if let Some(resp) = ctx.check_admin_referer(key, &form, "create-user") {
        return resp;
    }
    if !ctx.can(Cap::CreateUsers) {
        return forbidden("Sorry, you are not allowed to create users.");
    }
    let login = form.get("user_login").unwrap_or("").trim();
    let email = form.get("email").unwrap_or("").trim();
    let password = form.get("pass1").unwrap_or("");
    let mut errors = vec![];
    if login.is_empty() {
        errors.push("<strong>Error:</strong> Please enter a username.");
    }
    if email.is_empty() {
        errors.push("<strong>Error:</strong> Please enter an email address.");
    }
    if password.is_empty() {
        errors.push("<strong>Error:</strong> Please enter a password.");
    }
    let Some(role) = form.get("role").and_then(|r| r.parse::<Role>().ok()) else {
        return forbidden("Sorry, you are not allowed to give users that role.");
    };
    if !errors.is_empty() {
        return new_form(
            &site,
            &ctx,
            &form,
            Some(errors.join("<br>")),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let profile = Profile {
        first_name: form.get("first_name").map(str::to_owned),
        last_name: form.get("last_name").map(str::to_owned),
        ..Profile::default()
    };
    let created = insert_user_with_profile(
        &site,
        InsertUser {
            login,
            email,
            password,
            roles: vec![role],
        },
        profile,
    )
    .await;
    match created {
        Ok(user) => {
            tracing::info!(by = %ctx.me.user.login, user = %user.login, role = %role, "user created");
            Redirect::to(&format!("/wp-admin/users.php?update=add&id={}", user.id)).into_response()
        }
        Err(e) => {
            let msg = format!("<strong>Error:</strong> {}", super::esc_html(&e.message));
            new_form(&site, &ctx, &form, Some(msg), e.status).await
        }
    }
}
