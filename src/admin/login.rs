//! `wp-login.php`: the login form (`wp_signon()` with `wp_authenticate_username_password()`
//! and `wp_authenticate_email_password()`) and `action=logout` (`wp_logout()`).
//!
//! Only the account password logs in. Application Passwords are refused here as in
//! WordPress, where `wp_authenticate_application_password()` runs for API requests only:
//! a token is simply not the account password. Failures go through the same throttle as
//! failed Basic auth (`auth::throttle`), which WordPress core does not have.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::{ExposeSecret, SecretString};

use super::{
    Ctx, FormData, esc_html, query_params, render, safe_redirect_target, wp_die, wp_die_html,
};
use crate::auth::cookie;
use crate::auth::password;
use crate::auth::throttle;
use crate::formatting::is_email;
use crate::site::Site;
use crate::store::User;
use crate::work::Priority;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTemplate<'a> {
    /// An error, already HTML (WordPress's messages carry `<strong>`); every value in it is
    /// escaped where it is built.
    error: Option<String>,
    message: Option<&'a str>,
    user_login: &'a str,
    redirect_to: &'a str,
    remember: bool,
}

fn page(status: StatusCode, tpl: &LoginTemplate<'_>) -> Response {
    render(status, tpl)
}

/// `GET /wp-login.php`: the form, or `action=logout`.
pub async fn get(State(site): State<Arc<Site>>, ctx: Ctx, RawQuery(q): RawQuery) -> Response {
    let q = query_params(q.as_deref());
    if q.get("action") == Some("logout") {
        return logout(&site, ctx, &q).await;
    }
    let redirect_to = q.get("redirect_to").unwrap_or("");
    // Already logged in and not asked to log in again: straight on.
    if ctx.logged_in.is_some() && !q.has("reauth") {
        return Redirect::to(&safe_redirect_target(&site, redirect_to)).into_response();
    }
    let message = if q.get("loggedout") == Some("true") {
        Some("You are now logged out.")
    } else {
        None
    };
    page(
        StatusCode::OK,
        &LoginTemplate {
            error: None,
            message,
            user_login: "",
            redirect_to,
            remember: false,
        },
    )
}

/// `POST /wp-login.php`: `log`, `pwd`, `rememberme`, `redirect_to`.
pub async fn post(State(site): State<Arc<Site>>, ctx: Ctx, body: Bytes) -> Response {
    let form = FormData::parse(&body);
    let login = form.get("log").unwrap_or("").trim().to_owned();
    let pass = SecretString::from(form.get("pwd").unwrap_or("").to_owned());
    let remember = form.get("rememberme") == Some("forever");
    let redirect_to = form.get("redirect_to").unwrap_or("").to_owned();
    let fail = |status: StatusCode, error: String| {
        page(
            status,
            &LoginTemplate {
                error: Some(error),
                message: None,
                user_login: &login,
                redirect_to: &redirect_to,
                remember,
            },
        )
    };

    // Login CSRF: WordPress's form has no nonce (there is no session to bind one to). A
    // browser says when a form was posted from another site; such a post could log the
    // visitor into someone else's account, so it is refused.
    if ctx
        .headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
    {
        tracing::info!(ip = %ctx.client.ip, "login refused: posted from another site");
        return fail(
            StatusCode::FORBIDDEN,
            "<strong>Error:</strong> Log in from this site's own login form.".to_owned(),
        );
    }
    if login.is_empty() || pass.expose_secret().is_empty() {
        let mut errors = vec![];
        if login.is_empty() {
            errors.push("<strong>Error:</strong> The username field is empty.");
        }
        if pass.expose_secret().is_empty() {
            errors.push("<strong>Error:</strong> The password field is empty.");
        }
        return fail(StatusCode::OK, errors.join("<br>"));
    }

    let throttle = &site.auth_throttle;
    // Reserved before the (slow) check, so parallel guesses verify at most the burst.
    let attempt = match throttle.reserve(&ctx.client.ip, &login).await {
        Ok(a) => a,
        Err(wait) => {
            site.audit
                .auth_failure(crate::audit::Event::AuthThrottled, &login, &ctx.client.ip);
            tracing::warn!(user = ?login, ip = %ctx.client.ip, "login refused: too many failures from this IP");
            return too_many(fail, throttle::retry_after_secs(wait));
        }
    };

    // A flood against one account spends its budget: its checks then wait behind everyone
    // else's and give their place up to them (`crate::work::Priority`).
    let priority = if attempt.account_limited().is_some() {
        Priority::Low
    } else {
        Priority::Normal
    };
    match authenticate(&site, &login, pass, priority).await {
        Ok(Ok(user)) => {
            attempt.refund();
            site.metrics
                .auth(crate::metrics::AuthKind::AccountPassword, true);
            crate::audit::record(
                &site,
                crate::audit::Record::new(
                    crate::audit::Event::LoginSucceeded,
                    user.id,
                    &crate::audit::By::user(user.id, &ctx.client),
                ),
            )
            .await;
            let (token, _) = match cookie::create_session(&site, &user, remember, &ctx.client).await
            {
                Ok(t) => t,
                Err(e) => return wp_die(e.status, "Error", &e.message, None),
            };
            let max_age = remember.then_some(cookie::REMEMBER_SECS);
            let mut resp = Redirect::to(&safe_redirect_target(&site, &redirect_to)).into_response();
            resp.headers_mut().append(
                header::SET_COOKIE,
                cookie::session_cookie(&site, &token, max_age, ctx.https),
            );
            resp
        }
        Ok(Err(error)) => {
            let failure = attempt.fail();
            site.audit
                .auth_failure(crate::audit::Event::LoginFailed, &login, &ctx.client.ip);
            site.metrics
                .auth(crate::metrics::AuthKind::AccountPassword, false);
            tracing::warn!(
                user = ?login,
                ip = %ctx.client.ip,
                user_agent = ?ctx.client.user_agent,
                auth_failures_total = failure.failures,
                "login failed"
            );
            if let Some(wait) = failure.throttled {
                return too_many(fail, throttle::retry_after_secs(wait));
            }
            fail(StatusCode::OK, error)
        }
        // Nothing was verified (storage error, or the CPU queue is full): not a failure.
        Err(e) => {
            attempt.refund();
            if e.status == StatusCode::SERVICE_UNAVAILABLE {
                let secs = e.retry_after.map_or(1, |s| u64::from(s.get()));
                return with_retry_after(
                    fail(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "<strong>Error:</strong> The server is too busy to check your password now. Please try again shortly.".to_owned(),
                    ),
                    secs,
                );
            }
            wp_die(e.status, "Error", &e.message, None)
        }
    }
}

fn with_retry_after(mut resp: Response, secs: u64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

fn too_many(fail: impl Fn(StatusCode, String) -> Response, secs: u64) -> Response {
    let resp = fail(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "<strong>Error:</strong> Too many failed login attempts. Please try again in {secs} seconds."
        ),
    );
    with_retry_after(resp, secs)
}

/// `wp_authenticate()` for the form: the user, or WordPress's error message (HTML).
async fn authenticate(
    site: &Site,
    login: &str,
    pass: SecretString,
    priority: Priority,
) -> Result<Result<User, String>, crate::error::WpError> {
    let by_email = is_email(login);
    let login_key = if login.contains('\0') { "" } else { login };
    let user = if by_email {
        site.store.user_by_email(login_key).await?
    } else {
        site.store.user_by_login(login_key).await?
    };
    let hash = user.as_ref().map(|u| u.pass_hash.clone());
    let ok = password::verify_in(&site.cpu, priority, pass, hash, password::dummy_hash).await?;
    let shown = esc_html(login);
    match user {
        None if by_email => Ok(Err(
            "<strong>Error:</strong> Unknown email address. Check again or try your username."
                .to_owned(),
        )),
        None => Ok(Err(format!(
            "<strong>Error:</strong> The username <strong>{shown}</strong> is not registered on this site. If you are unsure of your username, try your email address instead."
        ))),
        Some(u) if ok => Ok(Ok(u)),
        Some(_) if by_email => Ok(Err(format!(
            "<strong>Error:</strong> The password you entered for the email address <strong>{shown}</strong> is incorrect."
        ))),
        Some(u) => {
            let shown = esc_html(&u.login);
            Ok(Err(format!(
                "<strong>Error:</strong> The password you entered for the username <strong>{shown}</strong> is incorrect."
            )))
        }
    }
}

/// `action=logout`: with the `log-out` nonce, ends the session (server side, so the cookie
/// is worthless even if kept) and clears the cookie; without it, asks first
/// (`wp_nonce_ays( 'log-out' )`).
async fn logout(site: &Site, ctx: Ctx, q: &FormData) -> Response {
    let Some(me) = ctx.logged_in else {
        return Redirect::to("/wp-login.php?loggedout=true").into_response();
    };
    let key = match cookie::nonce_key(site).await {
        Ok(k) => k,
        Err(e) => return wp_die(e.status, "Error", &e.message, None),
    };
    if !me.verify(key, q.get("_wpnonce").unwrap_or(""), "log-out") {
        let url = format!(
            "/wp-login.php?action=logout&amp;_wpnonce={}",
            me.nonce(key, "log-out")
        );
        let message = format!(
            "You are attempting to log out of ferropress.</p><p>Do you really want to <a href=\"{url}\">log out</a>?"
        );
        return wp_die_html(
            StatusCode::FORBIDDEN,
            "You are attempting to log out of ferropress",
            &message,
            None,
        );
    }
    if let Err(e) = cookie::destroy_session(site, &me.session).await {
        return wp_die(e.status, "Error", &e.message, None);
    }
    tracing::info!(user = %me.user.login, "logged out");
    let mut resp = Redirect::to("/wp-login.php?loggedout=true").into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, cookie::clear_cookie(site, ctx.https));
    resp
}
