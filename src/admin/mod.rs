//! The admin screens: `wp-login.php` and the parts of `wp-admin/` that manage users and
//! Application Passwords (`profile.php`, `user-edit.php`, `users.php`, `user-new.php`,
//! `authorize-application.php`). Server-rendered askama templates; every form posts back
//! with a nonce (`wp_nonce_field()` / `check_admin_referer()`), so they work without
//! JavaScript. Mirrors `wp-admin/admin.php`'s `auth_redirect()` and `wp_die()`.

pub mod authorize_application;
pub mod login;
pub mod profile;
pub mod users;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::auth::Client;
use crate::auth::cookie::{self, LoggedIn, NonceKey};
use crate::caps::{Actor, Cap};
use crate::error::WpError;
use crate::site::Site;

/// The admin screens' routes.
pub fn routes(site: Arc<Site>) -> Router {
    Router::new()
        .route("/wp-login.php", get(login::get).post(login::post))
        .route("/wp-admin", get(dashboard))
        .route("/wp-admin/", get(dashboard))
        .route("/wp-admin/index.php", get(dashboard))
        .route(
            "/wp-admin/profile.php",
            get(profile::get_profile).post(profile::post_profile),
        )
        .route(
            "/wp-admin/user-edit.php",
            get(profile::get_user_edit).post(profile::post_user_edit),
        )
        .route("/wp-admin/users.php", get(users::get).post(users::post))
        .route(
            "/wp-admin/user-new.php",
            get(users::get_new).post(users::post_new),
        )
        .route(
            "/wp-admin/authorize-application.php",
            get(authorize_application::get).post(authorize_application::post),
        )
        .route("/wp-admin/admin-ajax.php", get(admin_ajax).post(admin_ajax))
        .route("/wp-admin/css/ferropress-admin.css", get(stylesheet))
        .route("/wp-admin/js/ferropress-admin.js", get(script))
        .layer(axum::middleware::from_fn(admin_headers))
        .with_state(site)
}

/// Headers of every admin and login page: `nocache_headers()`, `send_frame_options_header()`,
/// the referrer policy `wp-login.php` and `admin.php` send, and a content security policy
/// (scripts and styles come from our own files only).
async fn admin_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, must-revalidate, max-age=0, no-store, private"),
    );
    h.insert(
        header::EXPIRES,
        HeaderValue::from_static("Wed, 11 Jan 1984 05:00:00 GMT"),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             object-src 'none'; base-uri 'none'; frame-ancestors 'self'",
        ),
    );
    resp
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../templates/ferropress-admin.css"),
    )
        .into_response()
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../templates/ferropress-admin.js"),
    )
        .into_response()
}

/// `wp-admin/index.php`: ferropress has no dashboard, so the profile is the landing page.
async fn dashboard(_logged_in: AdminCtx) -> Response {
    Redirect::to("/wp-admin/profile.php").into_response()
}

/// `admin-ajax.php?action=rest-nonce` (`wp_ajax_rest_nonce()`): a fresh `wp_rest` nonce for
/// the logged-in user, which scripts send as `X-WP-Nonce`; `0` with 400 otherwise, as
/// `admin-ajax.php` answers an unknown action or a logged-out visitor.
async fn admin_ajax(
    axum::extract::State(site): axum::extract::State<Arc<Site>>,
    ctx: Ctx,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Response {
    let q = query_params(q.as_deref());
    if let (Some("rest-nonce"), Some(me)) = (q.get("action"), &ctx.logged_in) {
        return match cookie::nonce_key(&site).await {
            Ok(key) => me.nonce(key, "wp_rest").into_response(),
            Err(e) => die_error(&e),
        };
    }
    (StatusCode::BAD_REQUEST, "0").into_response()
}

/// What every admin handler knows about its request: transport, client, session.
pub struct Ctx {
    pub https: bool,
    pub client: Client,
    pub headers: HeaderMap,
    /// Path and query, for `redirect_to`.
    pub uri: String,
    pub logged_in: Option<LoggedIn>,
}

impl FromRequestParts<Arc<Site>> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, site: &Arc<Site>) -> Result<Self, Response> {
        let (transport, client) =
            crate::rest::transport_from(site, &parts.extensions, &parts.headers);
        let logged_in = cookie::validate_auth_cookie(site, &parts.headers)
            .await
            .map_err(|e| die_error(&e))?;
        Ok(Ctx {
            https: transport.https,
            client,
            headers: parts.headers.clone(),
            uri: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned()),
            logged_in,
        })
    }
}

/// A logged-in admin request (`auth_redirect()`): anyone else is sent to the login form,
/// which brings them back here afterwards.
pub struct AdminCtx {
    pub https: bool,
    pub client: Client,
    pub headers: HeaderMap,
    pub me: LoggedIn,
}

impl FromRequestParts<Arc<Site>> for AdminCtx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, site: &Arc<Site>) -> Result<Self, Response> {
        let ctx = Ctx::from_request_parts(parts, site).await?;
        match ctx.logged_in {
            Some(me) => Ok(AdminCtx {
                https: ctx.https,
                client: ctx.client,
                headers: ctx.headers,
                me,
            }),
            None => {
                let to = format!("/wp-login.php?redirect_to={}&reauth=1", urlencode(&ctx.uri));
                Err(Redirect::to(&to).into_response())
            }
        }
    }
}

impl AdminCtx {
    pub fn actor(&self) -> Actor<'_> {
        Actor {
            id: self.me.user.id,
            roles: &self.me.user.roles,
        }
    }

    pub fn can(&self, cap: Cap<'_>) -> bool {
        self.actor().can(cap)
    }

    /// The header bar and menu every admin page shows.
    pub fn layout(&self, key: &NonceKey, title: &str, current: &'static str) -> Layout {
        Layout {
            title: title.to_owned(),
            current,
            user_name: self.me.user.display_name.clone(),
            logout_url: format!(
                "/wp-login.php?action=logout&_wpnonce={}",
                self.me.nonce(key, "log-out")
            ),
            can_list_users: self.can(Cap::Primitive("list_users")),
            can_create_users: self.can(Cap::CreateUsers),
        }
    }

    /// `check_admin_referer( $action )`: the form's `_wpnonce` must be this session's nonce;
    /// otherwise the refusal to send back.
    pub fn check_admin_referer(
        &self,
        key: &NonceKey,
        form: &FormData,
        action: &str,
    ) -> Option<Response> {
        if self
            .me
            .verify(key, form.get("_wpnonce").unwrap_or(""), action)
        {
            None
        } else {
            tracing::info!(user = %self.me.user.login, action, "admin form refused: bad nonce");
            Some(nonce_ays())
        }
    }
}

/// What the admin page layout shows around the content.
pub struct Layout {
    pub title: String,
    pub current: &'static str,
    pub user_name: String,
    pub logout_url: String,
    pub can_list_users: bool,
    pub can_create_users: bool,
}

/// A posted `application/x-www-form-urlencoded` body, repeated names kept (`users[]`).
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub fn parse(body: &[u8]) -> Self {
        FormData(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

/// A query string's parameters.
pub fn query_params(query: Option<&str>) -> FormData {
    FormData::parse(query.unwrap_or("").as_bytes())
}

pub fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Renders a template into an HTML response.
pub fn render<T: Template>(status: StatusCode, tpl: &T) -> Response {
    match tpl.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering an admin template failed");
            die_error(&WpError::internal())
        }
    }
}

#[derive(Template)]
#[template(path = "die.html")]
struct DieTemplate<'a> {
    title: &'a str,
    /// HTML: built from escaped text (`wp_die`) or from our own markup (`wp_die_html`).
    message_html: &'a str,
    link: Option<(&'a str, &'a str)>,
}

/// `wp_die()`: a small page with a title, a message (plain text) and an optional link back.
pub fn wp_die(
    status: StatusCode,
    title: &str,
    message: &str,
    link: Option<(&str, &str)>,
) -> Response {
    wp_die_html(status, title, &esc_html(message), link)
}

/// `wp_die()` with a message that is already HTML (only ever our own markup around escaped
/// values).
pub fn wp_die_html(
    status: StatusCode,
    title: &str,
    message_html: &str,
    link: Option<(&str, &str)>,
) -> Response {
    let tpl = DieTemplate {
        title,
        message_html,
        link,
    };
    match tpl.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, esc_html(title)).into_response(),
    }
}

/// `esc_html()`: text made safe inside HTML elements and quoted attributes.
pub fn esc_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#039;"),
            c => out.push(c),
        }
    }
    out
}

fn die_error(e: &WpError) -> Response {
    wp_die(e.status, "Error", &e.message, None)
}

/// `wp_nonce_ays()`: the answer to a form whose nonce is missing, wrong or expired.
pub fn nonce_ays() -> Response {
    wp_die(
        StatusCode::FORBIDDEN,
        "Something went wrong.",
        "The link you followed has expired.",
        Some(("/wp-admin/", "Please try again.")),
    )
}

/// `date_i18n( 'F j, Y' )` of a stored instant, in UTC.
pub fn format_date(ts: i64) -> String {
    jiff::Timestamp::from_second(ts)
        .map(|t| t.strftime("%B %-d, %Y").to_string())
        .unwrap_or_default()
}

/// `wp_safe_redirect()`'s rule for `redirect_to`: a path on this site, or an absolute URL
/// under the site's address; anything else falls back to the admin.
pub fn safe_redirect_target(site: &Site, to: &str) -> String {
    let fallback = "/wp-admin/".to_owned();
    // Visible ASCII only: anything else cannot go into a `Location` header as is.
    if to.is_empty() || !to.chars().all(|c| c.is_ascii_graphic()) || to.contains('\\') {
        return fallback;
    }
    if to.starts_with('/') && !to.starts_with("//") {
        return to.to_owned();
    }
    let home = &site.config.home;
    if let Some(rest) = to.strip_prefix(home.as_str())
        && (rest.is_empty() || rest.starts_with('/'))
    {
        return if rest.is_empty() {
            "/".into()
        } else {
            rest.to_owned()
        };
    }
    fallback
}
