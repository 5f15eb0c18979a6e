//! Users: `wp_insert_user()`, `wp_update_user()` and `wp_delete_user()` (`user.php`,
//! `wp-admin/includes/user.php`): the checks and defaults every way of creating, changing or
//! removing a user goes through (CLI, first run, REST).

use axum::http::StatusCode;

use crate::auth::password;
use crate::caps::Role;
use crate::error::WpError;
use crate::formatting::{is_email, sanitize_title, sanitize_user_strict};
use crate::site::{Site, now};
use crate::store::{Conflict, DeletedUser, NewUser, StoreError, User};

pub struct InsertUser<'a> {
    pub login: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub roles: Vec<Role>,
}

/// The optional profile fields of `wp_insert_user()`. `None` (or empty) takes WordPress's
/// default: display name from first/last name or the login, nickname = login, nicename
/// from the login.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub display_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub nickname: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub locale: Option<String>,
    pub nicename: Option<String>,
}

/// Changes `wp_update_user()` applies to an existing user; `None` leaves a field alone.
/// `roles`, when given, replace the user's roles.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub profile: Profile,
    pub email: Option<String>,
    pub password: Option<String>,
    pub roles: Option<Vec<Role>>,
}

/// WordPress passes `wp_insert_user` errors through REST without a status: HTTP 500 with
/// `"data": null`.
fn insert_error(code: &'static str, message: &str) -> WpError {
    let mut e = WpError::new(StatusCode::INTERNAL_SERVER_ERROR, code, message);
    e.data_null = true;
    e
}

fn user_url_too_long() -> WpError {
    insert_error(
        "user_url_too_long",
        "User URL may not be longer than 100 characters.",
    )
}

fn user_nicename_too_long() -> WpError {
    insert_error(
        "user_nicename_too_long",
        "Nicename may not be longer than 50 characters.",
    )
}

/// `esc_url_raw()` for user URLs: protocol-less values get `http://`, unsafe protocols give
/// an empty string, spaces and control characters are dropped.
pub fn esc_url_raw(input: &str) -> String {
    const PROTOCOLS: &[&str] = &[
        "http", "https", "ftp", "ftps", "mailto", "news", "irc", "irc6", "ircs", "gopher", "nntp",
        "feed", "telnet", "mms", "rtsp", "sms", "svn", "tel", "fax", "xmpp", "webcal", "urn",
    ];
    let url: String = input
        .trim()
        .chars()
        .filter(|c| !c.is_control() && *c != ' ')
        .collect();
    if url.is_empty() {
        return url;
    }
    let scheme_end = url.find(':');
    let path_start = url.find(['/', '?', '#']);
    match scheme_end {
        Some(colon) if path_start.is_none_or(|p| colon < p) => {
            let scheme = url[..colon].to_ascii_lowercase();
            if PROTOCOLS.contains(&scheme.as_str()) {
                url
            } else {
                String::new()
            }
        }
        _ if url.starts_with(['/', '#', '?']) => url,
        _ => format!("http://{url}"),
    }
}

/// The display name `wp_insert_user()` derives when none is given.
fn default_display_name(login: &str, first: &str, last: &str) -> String {
    match (first.is_empty(), last.is_empty()) {
        (false, false) => format!("{first} {last}"),
        (false, true) => first.to_owned(),
        (true, false) => last.to_owned(),
        (true, true) => login.to_owned(),
    }
}

async fn nicename_taken(site: &Site, nicename: &str, except_id: i64) -> Result<bool, WpError> {
    if except_id <= 0 {
        return Ok(site.store.nicename_exists(nicename).await?);
    }
    let q = crate::store::UserQuery {
        nicenames: vec![nicename.to_owned()],
        exclude: vec![except_id],
        limit: 1,
        ..crate::store::UserQuery::default()
    };
    Ok(site.store.query_users(&q).await?.1 > 0)
}

/// A unique `user_nicename` from a wanted one (`-2`, `-3`, … appended within 50
/// characters), not counting the user `except_id` itself.
async fn unique_nicename(site: &Site, wanted: &str, except_id: i64) -> Result<String, WpError> {
    let mut nicename = wanted.to_owned();
    let mut suffix: u32 = 2;
    while nicename_taken(site, &nicename, except_id).await? {
        let base: String = wanted.chars().take(49 - suffix.to_string().len()).collect();
        nicename = format!("{base}-{suffix}");
        suffix += 1;
    }
    Ok(nicename)
}

/// The `user_nicename` for a wanted slug: `sanitize_title(sanitize_user(slug, true))`.
fn nicename_of(slug: &str) -> String {
    sanitize_title(&sanitize_user_strict(slug))
}

/// `wp_hash_password()`, on the bounded CPU pool (503 when its queue is full).
async fn hash_password(site: &Site, plain: &str) -> Result<String, WpError> {
    password::hash_in(&site.cpu, plain.into()).await
}

pub async fn insert_user(site: &Site, new: InsertUser<'_>) -> Result<User, WpError> {
    insert_user_with_profile(site, new, Profile::default()).await
}

/// `wp_insert_user()` with profile fields.
pub async fn insert_user_with_profile(
    site: &Site,
    new: InsertUser<'_>,
    profile: Profile,
) -> Result<User, WpError> {
    let login = sanitize_user_strict(new.login).trim().to_owned();
    if login.is_empty() {
        return Err(insert_error(
            "empty_user_login",
            "Cannot create a user with an empty login name.",
        ));
    }
    if login != new.login {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "invalid_username",
            "This username is invalid because it uses illegal characters. Please enter a valid username.",
        ));
    }
    if login.chars().count() > 60 {
        return Err(insert_error(
            "user_login_too_long",
            "Username may not be longer than 60 characters.",
        ));
    }
    let email = new.email.trim();
    if !is_email(email) {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "invalid_email",
            "Invalid email address.",
        ));
    }
    if new.password.is_empty() {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "empty_password",
            "Passwords cannot be empty.",
        ));
    }
    if new.password.contains('\\') {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "illegal_password",
            "Passwords cannot contain the \"\\\" character.",
        ));
    }
    if site.store.user_by_login(&login).await?.is_some() {
        return Err(insert_error(
            "existing_user_login",
            "Sorry, that username already exists!",
        ));
    }
    if site.store.user_by_email(email).await?.is_some() {
        return Err(insert_error(
            "existing_user_email",
            "Sorry, that email address is already used!",
        ));
    }

    let url = esc_url_raw(profile.url.as_deref().unwrap_or(""));
    if url.chars().count() > 100 {
        return Err(user_url_too_long());
    }

    // user_nicename: the given slug (at most 50 characters) or the login's first 50
    // characters, sanitised as a title, made unique.
    let base = match profile.nicename.as_deref().filter(|n| !n.is_empty()) {
        Some(wanted) => {
            let n = nicename_of(wanted);
            if n.chars().count() > 50 {
                return Err(user_nicename_too_long());
            }
            n
        }
        None => sanitize_title(&login.chars().take(50).collect::<String>()),
    };
    let base = if base.is_empty() {
        "user".to_owned()
    } else {
        base
    };
    let nicename = unique_nicename(site, &base, 0).await?;

    let pass_hash = hash_password(site, new.password).await?;

    let first_name = profile.first_name.unwrap_or_default();
    let last_name = profile.last_name.unwrap_or_default();
    let display_name = profile
        .display_name
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| default_display_name(&login, &first_name, &last_name));
    let nickname = profile
        .nickname
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| login.clone());
    let created = site
        .store
        .create_user(NewUser {
            login: login.clone(),
            email: email.to_owned(),
            nicename,
            display_name,
            first_name,
            last_name,
            nickname,
            description: profile.description.unwrap_or_default(),
            url,
            locale: profile.locale.unwrap_or_default(),
            roles: new.roles,
            pass_hash,
            registered: now(),
        })
        .await;
    match created {
        Ok(u) => Ok(u),
        Err(StoreError::Conflict(Conflict::UserLogin)) => Err(insert_error(
            "existing_user_login",
            "Sorry, that username already exists!",
        )),
        Err(StoreError::Conflict(Conflict::UserEmail)) => Err(insert_error(
            "existing_user_email",
            "Sorry, that email address is already used!",
        )),
        Err(e) => Err(e.into()),
    }
}

/// `wp_update_user()`: applies the changes to `user` and writes them. Callers check
/// permissions and the REST-level collisions (email, slug) first; a collision that slips
/// through a race is still refused by the store's unique indexes.
pub async fn update_user(
    site: &Site,
    mut user: User,
    changes: UserChanges,
) -> Result<User, WpError> {
    let p = changes.profile;
    if let Some(email) = changes.email {
        let email = email.trim().to_owned();
        if !is_email(&email) {
            return Err(WpError::new(
                StatusCode::BAD_REQUEST,
                "invalid_email",
                "Invalid email address.",
            ));
        }
        user.email = email;
    }
    if let Some(v) = p.first_name {
        user.first_name = v;
    }
    if let Some(v) = p.last_name {
        user.last_name = v;
    }
    if let Some(v) = p.description {
        user.description = v;
    }
    if let Some(v) = p.locale {
        user.locale = v;
    }
    if let Some(v) = p.url {
        let url = esc_url_raw(&v);
        if url.chars().count() > 100 {
            return Err(user_url_too_long());
        }
        user.url = url;
    }
    // An emptied display name or nickname falls back to the login, as on update in WordPress.
    if let Some(v) = p.display_name {
        user.display_name = if v.is_empty() { user.login.clone() } else { v };
    }
    if let Some(v) = p.nickname {
        user.nickname = if v.is_empty() { user.login.clone() } else { v };
    }
    if let Some(wanted) = p.nicename.filter(|n| !n.is_empty()) {
        let n = nicename_of(&wanted);
        if n.chars().count() > 50 {
            return Err(user_nicename_too_long());
        }
        if !n.is_empty() && n != user.nicename {
            user.nicename = unique_nicename(site, &n, user.id).await?;
        }
    }
    if let Some(roles) = changes.roles {
        user.roles = roles;
    }
    if let Some(plain) = changes.password {
        user.pass_hash = hash_password(site, &plain).await?;
    }
    match site.store.update_user(&user).await {
        Ok(true) => Ok(user),
        Ok(false) => Err(WpError::rest_user_invalid_id()),
        Err(StoreError::Conflict(Conflict::UserEmail)) => Err(insert_error(
            "existing_user_email",
            "Sorry, that email address is already used!",
        )),
        Err(StoreError::Conflict(Conflict::UserNicename)) => Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_user_invalid_slug",
            "Invalid slug.",
        )),
        Err(e) => Err(e.into()),
    }
}

/// `wp_delete_user()`: revokes the user's Application Passwords and reassigns, trashes or
/// deletes their posts, all in one store transaction; then forgets the revoked tokens' pending
/// usage. `None` when the user did not exist.
pub async fn delete_user(
    site: &Site,
    id: i64,
    reassign: Option<i64>,
) -> Result<Option<DeletedUser>, WpError> {
    // Types deleted with their author (`delete_with_user`): custom types supporting authors.
    // `post` and `page` go to the trash instead, as `wp_delete_post()` does for them.
    let delete_types: Vec<String> = site
        .config
        .post_types
        .iter()
        .filter(|pt| !pt.builtin && pt.supports("author"))
        .map(|pt| pt.name.clone())
        .collect();
    let Some(done) = site
        .store
        .delete_user(id, reassign, &delete_types, now())
        .await?
    else {
        return Ok(None);
    };
    for uuid in &done.app_passwords {
        site.usage.forget(uuid);
    }
    tracing::info!(
        user_id = id,
        reassign = ?reassign,
        revoked = done.app_passwords.len(),
        trashed = done.trashed_posts.len(),
        deleted_posts = done.deleted_posts.len(),
        "user deleted"
    );
    Ok(Some(done))
}

/// Finds a user the way WP-CLI's user fetcher does: numeric ID, then login, then email.
pub async fn find_user(site: &Site, key: &str) -> Result<Option<User>, WpError> {
    if let Ok(id) = key.parse::<i64>()
        && let Some(u) = site.store.user_by_id(id).await?
    {
        return Ok(Some(u));
    }
    if let Some(u) = site.store.user_by_login(key).await? {
        return Ok(Some(u));
    }
    Ok(site.store.user_by_email(key).await?)
}
