//! `wp-admin/authorize-application.php`: an application asks the logged-in user for an
//! Application Password (`app_name`, `app_id`, `success_url`, `reject_url`). Approving
//! creates one and redirects to `success_url` with `site_url`, `user_login` and `password`
//! (or shows the password when there is no `success_url`); rejecting redirects to
//! `reject_url` (by default `success_url` with `success=false`).
//!
//! The request is checked as `wp_is_authorize_application_password_request_valid()` and
//! `wp_is_authorize_application_redirect_url_valid()` (`wp-admin/includes/user.php`, WordPress
//! 6.3.2 and later) do, on display and again when the form is posted.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use uuid::Uuid;

use super::{
    AdminCtx, FormData, Layout, esc_html, query_params, render, urlencode, wp_die, wp_die_html,
};
use crate::application_passwords;
use crate::auth::app_passwords::chunk;
use crate::auth::cookie;
use crate::config::Environment;
use crate::site::Site;

#[derive(Template)]
#[template(path = "authorize_application.html")]
struct AuthorizeTemplate<'a> {
    layout: Layout,
    nonce: String,
    req: &'a AuthRequest,
    /// The scopes asked for, one per line ("everything" when none).
    scopes: Vec<String>,
    user_login: &'a str,
    /// "You will be sent to …" for approval, with the password masked.
    success_preview: Option<String>,
    new_password: Option<String>,
    error: Option<String>,
}

/// The four parameters, from the query (display) or the form (post).
pub struct AuthRequest {
    pub app_name: String,
    pub app_id: String,
    pub success_url: String,
    pub reject_url: String,
    /// ferropress (issue 18): the scopes the application asks for (`scopes=posts:write,…`),
    /// shown before approval; empty: everything the user can do.
    pub scopes: String,
    /// The expiry asked for (`expires=90d`, a date or an RFC 3339 time); the user may pick
    /// another on the form. Empty: never (or the site's maximum).
    pub expires: String,
}

impl AuthRequest {
    /// The scope list as asked: entries separated by commas or spaces.
    fn scope_list(&self) -> Vec<String> {
        self.scopes
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The token's limits, or why the request for them is not valid.
    fn limits(&self, site: &Site) -> Result<application_passwords::Limits, &'static str> {
        let list = self.scope_list();
        let scopes = if list.is_empty() {
            None
        } else {
            crate::auth::scopes::parse(site, &list)
                .map_err(|_| "The requested scopes are not valid.")?
        };
        let expires = if self.expires.is_empty() {
            None
        } else {
            Some(
                crate::auth::scopes::parse_expires(&self.expires, crate::site::now())
                    .map_err(|_| "The requested expiry is not valid.")?,
            )
        };
        Ok(application_passwords::Limits { expires, scopes })
    }
}

impl AuthRequest {
    fn from(p: &FormData) -> Self {
        let get = |k| p.get(k).unwrap_or("").to_owned();
        let success_url = get("success_url");
        let mut reject_url = get("reject_url");
        if reject_url.is_empty() && !success_url.is_empty() {
            reject_url = add_query_args(&success_url, &[("success", "false")]);
        }
        AuthRequest {
            app_name: get("app_name"),
            app_id: get("app_id"),
            success_url,
            reject_url,
            scopes: get("scopes"),
            expires: get("expires"),
        }
    }
}

/// `add_query_arg()`: appends already-encoded pairs before any `#fragment`.
fn add_query_args(url: &str, pairs: &[(&str, &str)]) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let mut out = base.to_owned();
    for (k, v) in pairs {
        out.push(if out.contains('?') { '&' } else { '?' });
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// `wp_is_authorize_application_redirect_url_valid()`: `Err(message)` for a URL without a
/// scheme and host, a `javascript:` or `data:` URL, or plain `http` outside `local`.
fn redirect_url_valid(url: &str, environment: Environment) -> Result<(), &'static str> {
    if url.is_empty() {
        return Ok(());
    }
    let format = "Invalid URL format.";
    let Some((scheme, rest)) = url.split_once(':') else {
        return Err(format);
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'));
    if !scheme_ok {
        return Err(format);
    }
    let host = rest
        .strip_prefix("//")
        .map(|r| {
            let authority = r.split(['/', '?', '#']).next().unwrap_or("");
            let host = authority.rsplit('@').next().unwrap_or("");
            host.split(':').next().unwrap_or("")
        })
        .unwrap_or("");
    let scheme = scheme.to_ascii_lowercase();
    if host.is_empty() || scheme == "javascript" || scheme == "data" {
        return Err(format);
    }
    if scheme == "http" && environment != Environment::Local {
        return Err("The URL must be served over a secure connection.");
    }
    Ok(())
}

/// `wp_is_authorize_application_password_request_valid()`: every problem's message.
fn request_errors(site: &Site, r: &AuthRequest) -> Vec<&'static str> {
    let env = site.config.environment;
    let mut errors = vec![];
    for url in [&r.success_url, &r.reject_url] {
        if let Err(e) = redirect_url_valid(url, env) {
            errors.push(e);
        }
    }
    if !r.app_id.is_empty() && !crate::application_passwords::is_uuid(&r.app_id) {
        errors.push("The application ID must be a UUID.");
    }
    if let Err(e) = r.limits(site) {
        errors.push(e);
    }
    errors
}

/// The checks of the page before the form: a valid request, no Basic auth, and Application
/// Passwords available to this user; otherwise WordPress's `wp_die()` page to send back.
fn precheck(site: &Site, ctx: &AdminCtx, r: &AuthRequest) -> Option<Response> {
    let errors = request_errors(site, r);
    if !errors.is_empty() {
        let message = format!(
            "The Authorize Application request is not allowed. {}",
            errors.join(" ")
        );
        return Some(wp_die(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Cannot Authorize Application",
            &message,
            None,
        ));
    }
    let back = if r.reject_url.is_empty() {
        "/wp-admin/".to_owned()
    } else {
        add_query_args(&r.reject_url, &[("error", "disabled")])
    };
    let go_back = |message: &str| {
        let html = esc_html(message);
        wp_die_html(
            StatusCode::NOT_IMPLEMENTED,
            "Cannot Authorize Application",
            &html,
            Some((&back, "Go Back")),
        )
    };
    if ctx.headers.contains_key(header::AUTHORIZATION) {
        return Some(go_back(
            "Your website appears to use Basic Authentication, which is not currently compatible with Application Passwords.",
        ));
    }
    let supported = site.config.app_passwords_available(ctx.https);
    if !supported || !site.config.app_password_gate.allows(&ctx.me.user.roles) {
        return Some(go_back(if supported {
            "Application passwords are not available for your account. Please contact the site administrator for assistance."
        } else {
            "Application passwords are not available."
        }));
    }
    None
}

/// `GET`: the request to approve or reject.
pub async fn get(State(site): State<Arc<Site>>, ctx: AdminCtx, RawQuery(q): RawQuery) -> Response {
    let r = AuthRequest::from(&query_params(q.as_deref()));
    if let Some(resp) = precheck(&site, &ctx, &r) {
        return resp;
    }
    page(&site, &ctx, &r, None, None, StatusCode::OK).await
}

async fn page(
    site: &Site,
    ctx: &AdminCtx,
    r: &AuthRequest,
    new_password: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let key = match cookie::nonce_key(site).await {
        Ok(k) => k,
        Err(e) => return wp_die(e.status, "Error", &e.message, None),
    };
    let success_preview = (!r.success_url.is_empty()).then(|| {
        add_query_args(
            &r.success_url,
            &[
                ("site_url", &urlencode(&site.config.home)),
                ("user_login", &urlencode(&ctx.me.user.login)),
                ("password", "[------]"),
            ],
        )
    });
    let tpl = AuthorizeTemplate {
        layout: ctx.layout(key, "Authorize Application", "authorize"),
        nonce: ctx.me.nonce(key, "authorize_application_password"),
        req: r,
        scopes: r.scope_list(),
        user_login: &ctx.me.user.login,
        success_preview,
        new_password,
        error,
    };
    render(status, &tpl)
}

/// `POST` (`action=authorize_application_password`): `approve` or `reject`.
pub async fn post(State(site): State<Arc<Site>>, ctx: AdminCtx, body: Bytes) -> Response {
    let form = FormData::parse(&body);
    let key = match cookie::nonce_key(&site).await {
        Ok(k) => k,
        Err(e) => return wp_die(e.status, "Error", &e.message, None),
    };
    if let Some(resp) = ctx.check_admin_referer(key, &form, "authorize_application_password") {
        return resp;
    }
    let r = AuthRequest::from(&form);
    // WordPress redirects before validating; the URLs are checked here first, so a forged
    // post cannot send the new password to a `javascript:` or plain-HTTP address.
    if let Some(resp) = precheck(&site, &ctx, &r) {
        return resp;
    }
    if form.has("reject") {
        let to = if r.reject_url.is_empty() {
            "/wp-admin/".to_owned()
        } else {
            r.reject_url.clone()
        };
        tracing::info!(user = %ctx.me.user.login, app = ?r.app_name, "application authorization rejected");
        return redirect_anywhere(&to);
    }
    if !form.has("approve") {
        return page(&site, &ctx, &r, None, None, StatusCode::OK).await;
    }
    let app_id = Uuid::parse_str(&r.app_id).ok();
    // `precheck` has validated them.
    let limits = r.limits(&site).unwrap_or_default();
    match application_passwords::create_by(
        &site,
        ctx.me.user.id,
        &r.app_name,
        app_id,
        limits,
        &crate::audit::By::user(ctx.me.user.id, &ctx.client),
    )
    .await
    {
        Ok((token, _)) => {
            tracing::info!(user = %ctx.me.user.login, app = ?r.app_name, "application authorized");
            if r.success_url.is_empty() {
                let shown = chunk(token.expose_secret());
                page(&site, &ctx, &r, Some(shown), None, StatusCode::OK).await
            } else {
                let to = add_query_args(
                    &r.success_url,
                    &[
                        ("site_url", &urlencode(&site.config.home)),
                        ("user_login", &urlencode(&ctx.me.user.login)),
                        ("password", &urlencode(token.expose_secret())),
                    ],
                );
                redirect_anywhere(&to)
            }
        }
        Err(e) => page(&site, &ctx, &r, None, Some(e.message), e.status).await,
    }
}

/// `wp_redirect()` (not `wp_safe_redirect`: the application's address is elsewhere). A
/// 302, as WordPress sends.
fn redirect_anywhere(to: &str) -> Response {
    match axum::http::HeaderValue::from_str(to) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => wp_die(
            StatusCode::BAD_REQUEST,
            "Cannot Authorize Application",
            "Invalid URL format.",
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application_passwords::is_uuid;

    #[test]
    fn redirect_urls_as_wordpress_checks_them() {
        let prod = Environment::Production;
        assert!(redirect_url_valid("", prod).is_ok());
        assert!(redirect_url_valid("https://app.example/cb?x=1", prod).is_ok());
        assert!(redirect_url_valid("myapp://callback", prod).is_ok());
        assert!(redirect_url_valid("http://app.example/cb", prod).is_err());
        assert!(redirect_url_valid("http://127.0.0.1:9/cb", Environment::Local).is_ok());
        assert!(redirect_url_valid("javascript://x/%0aalert(1)", Environment::Local).is_err());
        assert!(redirect_url_valid("data://x/y", Environment::Local).is_err());
        assert!(redirect_url_valid("/relative", Environment::Local).is_err());
        assert!(redirect_url_valid("https:/nohost", prod).is_err());
    }

    #[test]
    fn uuids_and_query_args() {
        assert!(is_uuid("a3f3c1d2-1b2c-4d5e-8f90-0123456789ab"));
        assert!(!is_uuid("A3F3C1D2-1B2C-4D5E-8F90-0123456789AB"));
        assert!(!is_uuid("nope"));
        assert_eq!(
            add_query_args("https://a/b#f", &[("x", "1")]),
            "https://a/b?x=1#f"
        );
        assert_eq!(
            add_query_args("https://a/b?y=2", &[("x", "1")]),
            "https://a/b?y=2&x=1"
        );
    }
}
