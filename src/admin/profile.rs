//! `wp-admin/profile.php` and `wp-admin/user-edit.php?user_id=N`: a user's details and the
//! "Application Passwords" section of `user-edit.php` (name field, "Add New Application
//! Password", the new password shown once, the table, "Revoke" and "Revoke all").
//!
//! WordPress drives that section with JavaScript through the REST API; here each button is a
//! form posted to the page with a nonce, so it works without JavaScript (the script only adds
//! the Copy button and confirmations). Records are created and revoked through
//! `application_passwords`, as the REST API and the CLI do; who may manage whose passwords is
//! `caps::Cap::ManageAppPasswords` (`edit_user`), as in WordPress.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::ExposeSecret;
use uuid::Uuid;

use super::{AdminCtx, FormData, Layout, format_date, query_params, render, wp_die};
use crate::application_passwords;
use crate::auth::app_passwords::chunk;
use crate::auth::cookie::{self, NonceKey};
use crate::caps::Cap;
use crate::site::Site;
use crate::store::User;

/// One row of the Application Passwords table.
pub struct Row {
    pub uuid: String,
    pub name: String,
    pub created: String,
    pub last_used: String,
    pub last_ip: String,
    pub last_user_agent: String,
    /// The expiry date, or "Never".
    pub expires: String,
    /// The scopes, or "Everything".
    pub scopes: String,
}

/// A row of the Activity table (the audit log entries about the user, `crate::audit`).
pub struct ActivityRow {
    pub date: String,
    pub event: String,
    pub by: String,
    pub ip: String,
    pub details: String,
}

/// Entries shown in the Activity table, newest first.
const ACTIVITY_ROWS: i64 = 20;

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfileTemplate {
    layout: Layout,
    user: User,
    roles: String,
    is_self: bool,
    form_action: String,
    nonce: String,
    /// The section can create passwords: HTTPS or `local`, and the user's role allows them.
    available: bool,
    /// Why not, when not: no HTTPS outside `local` (`wp_is_application_passwords_supported`).
    needs_https: bool,
    items: Vec<Row>,
    /// `None`: the viewer may not read this user's activity.
    activity: Option<Vec<ActivityRow>>,
    /// `--max-token-lifetime` is set: "no expiry chosen" means the maximum, not never.
    max_lifetime: bool,
    new_name: String,
    new_password: Option<(String, String)>,
    notice: Option<&'static str>,
    error: Option<String>,
}

/// What the page shows beyond the user and their passwords.
#[derive(Default)]
struct Outcome {
    new_name: String,
    new_password: Option<(String, String)>,
    notice: Option<&'static str>,
    error: Option<String>,
}

pub async fn get_profile(
    State(site): State<Arc<Site>>,
    ctx: AdminCtx,
    RawQuery(q): RawQuery,
) -> Response {
    let me = (*ctx.me.user).clone();
    let outcome = Outcome {
        notice: notice_of(&query_params(q.as_deref())),
        ..Outcome::default()
    };
    show(&site, &ctx, me, StatusCode::OK, outcome).await
}

pub async fn get_user_edit(
    State(site): State<Arc<Site>>,
    ctx: AdminCtx,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query_params(q.as_deref());
    let target = match target_user(&site, &ctx, q.get("user_id")).await {
        Ok(u) => u,
        Err(resp) => return resp,
    };
    if target.id == ctx.me.user.id {
        // `user-edit.php` sends users to their own profile screen.
        return Redirect::to("/wp-admin/profile.php").into_response();
    }
    let outcome = Outcome {
        notice: notice_of(&q),
        ..Outcome::default()
    };
    show(&site, &ctx, target, StatusCode::OK, outcome).await
}

pub async fn post_profile(State(site): State<Arc<Site>>, ctx: AdminCtx, body: Bytes) -> Response {
    let me = (*ctx.me.user).clone();
    act(&site, &ctx, me, &FormData::parse(&body)).await
}

pub async fn post_user_edit(
    State(site): State<Arc<Site>>,
    ctx: AdminCtx,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let q = query_params(q.as_deref());
    let id = form.get("user_id").or(q.get("user_id"));
    let target = match target_user(&site, &ctx, id).await {
        Ok(u) => u,
        Err(resp) => return resp,
    };
    act(&site, &ctx, target, &form).await
}

fn notice_of(q: &FormData) -> Option<&'static str> {
    match q.get("revoked") {
        Some("one") => Some("Application password revoked."),
        Some("all") => Some("All application passwords revoked."),
        _ => None,
    }
}

/// The user `user-edit.php` is about, if the current user may edit them.
async fn target_user(site: &Site, ctx: &AdminCtx, id: Option<&str>) -> Result<User, Response> {
    let invalid = || {
        wp_die(
            StatusCode::NOT_FOUND,
            "Invalid user ID.",
            "Invalid user ID.",
            None,
        )
    };
    let Some(id) = id.and_then(|s| s.parse::<i64>().ok()).filter(|i| *i > 0) else {
        return Err(invalid());
    };
    if !ctx.can(Cap::EditUser(id)) {
        return Err(wp_die(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "Sorry, you are not allowed to edit this user.",
            None,
        ));
    }
    match site.store.user_by_id(id).await {
        Ok(Some(u)) => Ok(u),
        Ok(None) => Err(invalid()),
        Err(e) => {
            let e = crate::error::WpError::from(e);
            Err(wp_die(e.status, "Error", &e.message, None))
        }
    }
}

fn nonce_action(user_id: i64) -> String {
    format!("application-passwords_{user_id}")
}

fn page_url(target: &User, is_self: bool) -> String {
    if is_self {
        "/wp-admin/profile.php".to_owned()
    } else {
        format!("/wp-admin/user-edit.php?user_id={}", target.id)
    }
}

/// Handles one posted button of the section.
async fn act(site: &Site, ctx: &AdminCtx, target: User, form: &FormData) -> Response {
    let key = match cookie::nonce_key(site).await {
        Ok(k) => k,
        Err(e) => return wp_die(e.status, "Error", &e.message, None),
    };
    if let Some(resp) = ctx.check_admin_referer(key, form, &nonce_action(target.id)) {
        return resp;
    }
    if !ctx.can(Cap::ManageAppPasswords(target.id)) {
        return wp_die(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "Sorry, you are not allowed to manage application passwords for this user.",
            None,
        );
    }
    let is_self = target.id == ctx.me.user.id;
    let back = page_url(&target, is_self);
    let sep = if back.contains('?') { '&' } else { '?' };
    match form.get("action").unwrap_or("") {
        "create-application-password" => {
            if !site.config.app_passwords_available(ctx.https)
                || !site.config.app_password_gate.allows(&target.roles)
            {
                return wp_die(
                    StatusCode::FORBIDDEN,
                    "Forbidden",
                    "Application passwords are not available.",
                    None,
                );
            }
            let name = form.get("new_application_password_name").unwrap_or("");
            let limits = match form_limits(site, form) {
                Ok(l) => l,
                Err(message) => {
                    let outcome = Outcome {
                        new_name: name.to_owned(),
                        error: Some(message),
                        ..Outcome::default()
                    };
                    return show_with_key(site, ctx, key, target, StatusCode::BAD_REQUEST, outcome)
                        .await;
                }
            };
            match application_passwords::create_by(
                site,
                target.id,
                name,
                None,
                limits,
                &crate::audit::By::user(ctx.me.user.id, &ctx.client),
            )
            .await
            {
                Ok((token, item)) => {
                    let outcome = Outcome {
                        new_password: Some((item.name, chunk(token.expose_secret()))),
                        ..Outcome::default()
                    };
                    show_with_key(site, ctx, key, target, StatusCode::OK, outcome).await
                }
                Err(e) => {
                    let outcome = Outcome {
                        new_name: name.to_owned(),
                        error: Some(e.message),
                        ..Outcome::default()
                    };
                    show_with_key(site, ctx, key, target, e.status, outcome).await
                }
            }
        }
        "revoke-application-password" => {
            let uuid = form.get("uuid").and_then(|u| Uuid::parse_str(u).ok());
            let deleted = match uuid {
                Some(uuid) => {
                    application_passwords::delete_by(
                        site,
                        target.id,
                        uuid,
                        &crate::audit::By::user(ctx.me.user.id, &ctx.client),
                    )
                    .await
                }
                None => Ok(false),
            };
            match deleted {
                Ok(true) => Redirect::to(&format!("{back}{sep}revoked=one")).into_response(),
                Ok(false) => {
                    let outcome = Outcome {
                        error: Some("Invalid application password UUID.".into()),
                        ..Outcome::default()
                    };
                    show_with_key(site, ctx, key, target, StatusCode::NOT_FOUND, outcome).await
                }
                Err(e) => wp_die(e.status, "Error", &e.message, None),
            }
        }
        // ferropress's rotation (issue 18): a new secret for the same token, shown once.
        "rotate-application-password" => {
            let uuid = form.get("uuid").and_then(|u| Uuid::parse_str(u).ok());
            let grace = form
                .get("grace")
                .and_then(crate::auth::scopes::parse_duration)
                .unwrap_or(0);
            let name = match application_passwords::list(site, target.id).await {
                Ok(items) => items
                    .into_iter()
                    .find(|i| Some(i.uuid) == uuid)
                    .map(|i| i.name),
                Err(e) => return wp_die(e.status, "Error", &e.message, None),
            };
            let rotated = match (uuid, name) {
                (Some(uuid), Some(name)) => application_passwords::rotate(
                    site,
                    target.id,
                    uuid,
                    grace,
                    &crate::audit::By::user(ctx.me.user.id, &ctx.client),
                )
                .await
                .map(|t| t.map(|t| (name, t))),
                _ => Ok(None),
            };
            match rotated {
                Ok(Some((name, token))) => {
                    let outcome = Outcome {
                        new_password: Some((name, chunk(token.expose_secret()))),
                        ..Outcome::default()
                    };
                    show_with_key(site, ctx, key, target, StatusCode::OK, outcome).await
                }
                Ok(None) => {
                    let outcome = Outcome {
                        error: Some("Invalid application password UUID.".into()),
                        ..Outcome::default()
                    };
                    show_with_key(site, ctx, key, target, StatusCode::NOT_FOUND, outcome).await
                }
                Err(e) => wp_die(e.status, "Error", &e.message, None),
            }
        }
        "revoke-all-application-passwords" => {
            match application_passwords::delete_all_by(
                site,
                target.id,
                &crate::audit::By::user(ctx.me.user.id, &ctx.client),
            )
            .await
            {
                Ok(_) => Redirect::to(&format!("{back}{sep}revoked=all")).into_response(),
                Err(e) => wp_die(e.status, "Error", &e.message, None),
            }
        }
        _ => wp_die(StatusCode::BAD_REQUEST, "Error", "Unknown action.", None),
    }
}

/// The expiry and scopes chosen on the form: "Expires" (30 days, 90 days, 1 year, a custom
/// date, never; not chosen: the site's maximum, if any) and "Access" (everything, read
/// only, or a custom scope list).
fn form_limits(site: &Site, form: &FormData) -> Result<application_passwords::Limits, String> {
    use crate::auth::scopes;
    let now = crate::site::now();
    let expires = match form.get("new_application_password_expires").unwrap_or("") {
        "" => None,
        "custom" => {
            let date = form
                .get("new_application_password_expires_date")
                .unwrap_or("");
            if date.is_empty() {
                return Err("Choose the date the application password expires.".into());
            }
            Some(scopes::parse_expires(date, now)?)
        }
        other => Some(scopes::parse_expires(other, now)?),
    };
    let scopes = match form.get("new_application_password_access").unwrap_or("") {
        "read" => Some("read".to_owned()),
        "custom" => {
            let list: Vec<String> = form
                .get("new_application_password_scopes")
                .unwrap_or("")
                .split([',', ' '])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            scopes::parse(site, &list).map_err(|bad| {
                format!("\"{bad}\" is not a scope: use read or <resource>:<read|write>, such as posts:write.")
            })?
        }
        _ => None,
    };
    Ok(application_passwords::Limits { expires, scopes })
}

async fn show(
    site: &Site,
    ctx: &AdminCtx,
    target: User,
    status: StatusCode,
    outcome: Outcome,
) -> Response {
    match cookie::nonce_key(site).await {
        Ok(key) => show_with_key(site, ctx, key, target, status, outcome).await,
        Err(e) => wp_die(e.status, "Error", &e.message, None),
    }
}

async fn show_with_key(
    site: &Site,
    ctx: &AdminCtx,
    key: &NonceKey,
    target: User,
    status: StatusCode,
    outcome: Outcome,
) -> Response {
    let is_self = target.id == ctx.me.user.id;
    let items = match application_passwords::list(site, target.id).await {
        Ok(items) => items,
        Err(e) => return wp_die(e.status, "Error", &e.message, None),
    };
    let rows = items
        .into_iter()
        .map(|i| Row {
            uuid: i.uuid.to_string(),
            name: i.name,
            created: format_date(i.created),
            last_used: i.last_used.map_or_else(|| "—".to_owned(), format_date),
            last_ip: i
                .last_ip
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "—".to_owned()),
            last_user_agent: i
                .last_user_agent
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "—".to_owned()),
            expires: i.expires.map_or_else(|| "Never".to_owned(), format_date),
            scopes: i
                .scopes
                .map_or_else(|| "Everything".to_owned(), |s| s.replace(' ', ", ")),
        })
        .collect();
    let activity = match activity(site, ctx, &target).await {
        Ok(a) => a,
        Err(e) => return wp_die(e.status, "Error", &e.message, None),
    };
    let supported = site.config.app_passwords_available(ctx.https);
    let title = if is_self {
        "Profile".to_owned()
    } else {
        format!("Edit User {}", target.login)
    };
    let roles = target
        .roles
        .iter()
        .map(|r| r.display_name())
        .collect::<Vec<_>>()
        .join(", ");
    let tpl = ProfileTemplate {
        layout: ctx.layout(key, &title, if is_self { "profile" } else { "users" }),
        roles,
        is_self,
        form_action: page_url(&target, is_self),
        nonce: ctx.me.nonce(key, &nonce_action(target.id)),
        available: supported && site.config.app_password_gate.allows(&target.roles),
        needs_https: !supported,
        items: rows,
        activity,
        max_lifetime: site.config.max_token_lifetime.is_some(),
        new_name: outcome.new_name,
        new_password: outcome.new_password,
        notice: outcome.notice,
        error: outcome.error,
        user: target,
    };
    render(status, &tpl)
}

/// The latest audit entries about `target`, when the viewer may read them
/// (`caps::can_read_audit_log`), with who did each.
async fn activity(
    site: &Site,
    ctx: &AdminCtx,
    target: &User,
) -> Result<Option<Vec<ActivityRow>>, crate::error::WpError> {
    let actor = crate::caps::Actor {
        id: ctx.me.user.id,
        roles: &ctx.me.user.roles,
    };
    if !crate::caps::can_read_audit_log(&actor, Some(target.id)) {
        return Ok(None);
    }
    let (entries, _) = site
        .store
        .query_audit(&crate::store::AuditQuery {
            user_id: Some(target.id),
            limit: ACTIVITY_ROWS,
            ..crate::store::AuditQuery::default()
        })
        .await?;
    let mut logins: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
    for e in &entries {
        if e.actor_id != 0 && !logins.contains_key(&e.actor_id) {
            let login = site
                .store
                .user_by_id(e.actor_id)
                .await?
                .map_or_else(|| format!("#{}", e.actor_id), |u| u.login);
            logins.insert(e.actor_id, login);
        }
    }
    Ok(Some(
        entries
            .into_iter()
            .map(|e| ActivityRow {
                date: jiff::Timestamp::from_second(e.at)
                    .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default(),
                by: logins
                    .get(&e.actor_id)
                    .cloned()
                    .unwrap_or_else(|| "—".to_owned()),
                ip: if e.ip.is_empty() {
                    "—".to_owned()
                } else {
                    e.ip
                },
                details: if e.data == "{}" {
                    String::new()
                } else {
                    e.data
                },
                event: e.event,
            })
            .collect(),
    ))
}
