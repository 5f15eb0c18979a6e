//! Users: `wp_insert_user()` from `user.php`, the checks and defaults every way of creating
//! a user goes through (CLI, first run, REST).

use axum::http::StatusCode;

use crate::auth::password;
use crate::caps::Role;
use crate::error::WpError;
use crate::formatting::{is_email, sanitize_title, sanitize_user_strict};
use crate::site::{Site, now};
use crate::store::{Conflict, NewUser, StoreError, User};

pub struct InsertUser<'a> {
    pub login: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub roles: Vec<Role>,
}

/// WordPress passes `wp_insert_user` errors through REST without a status: HTTP 500 with
/// `"data": null`.
fn insert_error(code: &'static str, message: &str) -> WpError {
    let mut e = WpError::new(StatusCode::INTERNAL_SERVER_ERROR, code, message);
    e.data_null = true;
    e
}

pub async fn insert_user(site: &Site, new: InsertUser<'_>) -> Result<User, WpError> {
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

    // user_nicename: sanitize_title of the login, at most 50 characters, made unique.
    let base: String = sanitize_title(&login).chars().take(50).collect();
    let base = if base.is_empty() {
        "user".to_owned()
    } else {
        base
    };
    let mut nicename = base.clone();
    let mut suffix = 2;
    while site.store.nicename_exists(&nicename).await? {
        nicename = format!("{base}-{suffix}");
        suffix += 1;
    }

    let plain = new.password.to_owned();
    let pass_hash = tokio::task::spawn_blocking(move || password::hash(&plain))
        .await
        .map_err(|_| WpError::internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            WpError::internal()
        })?;

    let created = site
        .store
        .create_user(NewUser {
            login: login.clone(),
            email: email.to_owned(),
            nicename,
            display_name: login.clone(),
            nickname: login.clone(),
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
