//! The REST server: `/wp-json/` routing, authentication before dispatch, and the headers
//! WordPress sends on every REST response (`WP_REST_Server::serve_request`).

pub mod application_passwords;
pub mod audit;
pub mod batch;
pub mod comments;
pub mod embed;
pub mod global_params;
pub mod index;
pub mod media;
pub mod params;
pub mod plugins;
pub mod post_statuses;
pub mod post_types;
pub mod posts;
pub mod registry;
pub mod revisions;
pub mod search;
pub mod settings;
pub mod terms;
pub mod themes;
pub mod users;

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::auth::{self, Auth, Client};
use crate::error::WpError;
use crate::site::Site;

use global_params::GlobalParams;

pub const JSON_CONTENT_TYPE: &str = "application/json; charset=UTF-8";

/// The REST API prefix (`rest_get_url_prefix()`).
pub const PREFIX: &str = "/wp-json";

pub fn json_body(value: &Value) -> String {
    value.to_string()
}

/// A JSON response with WordPress's content type.
pub fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut resp = (status, json_body(value)).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    resp
}

impl FromRequestParts<Arc<Site>> for Auth {
    type Rejection = WpError;

    async fn from_request_parts(parts: &mut Parts, _: &Arc<Site>) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Auth>().cloned().unwrap_or_default())
    }
}

/// The client a request came from (IP and user agent), as the pipeline resolved it
/// (`$_SERVER['REMOTE_ADDR']`, `HTTP_USER_AGENT`).
impl FromRequestParts<Arc<Site>> for Client {
    type Rejection = WpError;

    async fn from_request_parts(parts: &mut Parts, _: &Arc<Site>) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Client>()
            .cloned()
            .unwrap_or_default())
    }
}

/// All REST routes, under `/wp-json`. The pipeline wraps the whole router, not each route,
/// so that it sees every answer as sent, including axum's own for unrouted methods.
pub fn routes(site: Arc<Site>) -> Router {
    routes_of(Api::new(site))
}

/// `routes` of an [`Api`] already made (the server also calls it directly).
pub fn routes_of(api: Api) -> Router {
    Router::new().nest_service(PREFIX, api)
}

/// Whether a path is the REST API's (`/wp-json` and below), as `routes` routes it.
pub fn is_rest_path(path: &str) -> bool {
    path.strip_prefix(PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The REST API: its pipeline (`rest_pipeline`) before the router of its routes. It is
/// given requests with their `/wp-json` path; the routes see the path below it.
#[derive(Clone)]
pub struct Api {
    site: Arc<Site>,
    router: Router,
}

impl Api {
    pub fn new(site: Arc<Site>) -> Self {
        let router = api_router(site.clone());
        site.set_api(router.clone());
        Self { site, router }
    }

    /// Answers a request to `/wp-json` or below.
    pub async fn handle(&self, mut req: Request) -> Response {
        // Nested in a router (`routes_of`), the request comes without its `/wp-json`: the
        // pipeline reads the whole path, as when it is called directly.
        if let Some(original) = req.extensions().get::<axum::extract::OriginalUri>() {
            *req.uri_mut() = original.0.clone();
        }
        rest_pipeline(&self.site, req, |mut req| {
            below_prefix(&mut req);
            let router = self.router.clone();
            async move {
                match tower::ServiceExt::oneshot(router, req).await {
                    Ok(resp) => resp,
                    Err(never) => match never {},
                }
            }
        })
        .await
    }
}

impl tower::Service<Request> for Api {
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response, Self::Error>> + Send>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let api = self.clone();
        Box::pin(async move { Ok(api.handle(req).await) })
    }
}

/// A REST path without its `/wp-json` prefix (`/` for the index).
fn rest_path(path: &str) -> &str {
    match path.strip_prefix(PREFIX) {
        Some("") | None => "/",
        Some(rest) => rest,
    }
}

/// Rewrites the request's URI to the path below `/wp-json`, as the routes are written.
fn below_prefix(req: &mut Request) {
    let uri = req.uri();
    let path = rest_path(uri.path());
    let new = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    if let Ok(new) = new.parse::<Uri>() {
        *req.uri_mut() = new;
    }
}

fn api_router(site: Arc<Site>) -> Router {
    Router::new()
        .merge(index::routes())
        .merge(post_types::routes())
        .merge(post_statuses::routes())
        .merge(media::routes())
        .merge(terms::routes())
        .merge(comments::routes())
        .merge(posts::routes())
        .merge(revisions::routes())
        .merge(users::routes())
        .merge(application_passwords::routes())
        .merge(settings::routes())
        .merge(search::routes())
        .merge(themes::routes())
        .merge(plugins::routes())
        .merge(batch::routes())
        .merge(audit::routes())
        .fallback(no_route)
        .method_not_allowed_fallback(no_route)
        .with_state(site)
}

async fn no_route() -> WpError {
    WpError::rest_no_route()
}

/// Rewrites a request into the canonical form the router matches, as WordPress's rewrite
/// rules and `WP_REST_Server::serve_request` do: `?rest_route=/x` and `/index.php/wp-json/x`
/// become `/wp-json/x`; the route loses its trailing slash and is matched case-insensitively;
/// `?_method=` or `X-HTTP-Method-Override` replaces the method.
pub fn canonicalize<B>(mut req: axum::http::Request<B>) -> axum::http::Request<B> {
    let uri = req.uri().clone();
    let path = uri.path();
    let query = uri.query().unwrap_or("");

    let mut route: Option<(Cow<'_, str>, Cow<'_, str>)> = None;
    if path == "/" || path == "/index.php" {
        let mut rest_route = None;
        let mut rest_query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            if k == "rest_route" {
                rest_route = Some(v.into_owned());
            } else {
                rest_query.append_pair(&k, &v);
            }
        }
        if let Some(r) = rest_route {
            let encoded: String = r
                .split('/')
                .map(|seg| form_urlencoded::byte_serialize(seg.as_bytes()).collect::<String>())
                .collect::<Vec<_>>()
                .join("/");
            route = Some((Cow::Owned(encoded), Cow::Owned(rest_query.finish())));
        }
    } else if let Some(rest) = path
        .strip_prefix("/index.php/wp-json")
        .or_else(|| path.strip_prefix(PREFIX))
        && (rest.is_empty() || rest.starts_with('/'))
    {
        route = Some((Cow::Borrowed(rest), Cow::Borrowed(query)));
    }
    let Some((route, query)) = route else {
        return req;
    };

    // Already canonical (the usual case): the URI is kept as it came, not made again.
    let canonical = uri.scheme().is_none()
        && uri.authority().is_none()
        && path.strip_prefix(PREFIX) == Some(route.as_ref())
        && !route.ends_with('/')
        && !route.bytes().any(|b| b.is_ascii_uppercase());
    if !canonical {
        let mut route = route.to_ascii_lowercase();
        while route.ends_with('/') {
            route.pop();
        }
        let route = if route.is_empty() || route.starts_with('/') {
            route
        } else {
            format!("/{route}")
        };
        let new = if query.is_empty() {
            format!("{PREFIX}{route}")
        } else {
            format!("{PREFIX}{route}?{query}")
        };
        if let Ok(new_uri) = new.parse::<Uri>() {
            *req.uri_mut() = new_uri;
        }
    }

    // Without `%` a key can only be `_method` if the text is there as such.
    let may_override = query.contains("_method") || query.contains('%');
    let override_method = may_override
        .then(|| {
            form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "_method")
                .map(|(_, v)| v.into_owned())
        })
        .flatten()
        .or_else(|| {
            req.headers()
                .get("x-http-method-override")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
    if let Some(m) = override_method
        && let Ok(method) = Method::from_bytes(m.to_ascii_uppercase().as_bytes())
    {
        *req.method_mut() = method;
    }
    req
}

/// How a request reached us: over HTTPS or not, and from which client address. Forwarded
/// headers count only when the peer is a `--trusted-proxy`.
#[derive(Debug, Clone, Copy)]
pub struct Transport {
    pub https: bool,
}

impl FromRequestParts<Arc<Site>> for Transport {
    type Rejection = WpError;

    async fn from_request_parts(
        parts: &mut Parts,
        site: &Arc<Site>,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Transport>()
            .copied()
            .unwrap_or(Transport {
                https: site.config.tls,
            }))
    }
}

/// Whether a request came over HTTPS: ours, or a `--trusted-proxy`'s saying so
/// (`transport_from`'s `https`, without making the `Client`).
pub fn is_https(site: &Site, extensions: &axum::http::Extensions, headers: &HeaderMap) -> bool {
    site.config.tls
        || (extensions
            .get::<ConnectInfo<SocketAddr>>()
            .is_some_and(|ci| {
                site.config
                    .trusted_proxies
                    .iter()
                    .any(|c| c.contains(ci.0.ip()))
            })
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("https")))
}

pub fn transport_of(site: &Site, req: &Request) -> (Transport, Client) {
    transport_from(site, req.extensions(), req.headers())
}

/// `transport_of` from a request's parts (for extractors, such as the admin screens').
pub fn transport_from(
    site: &Site,
    extensions: &axum::http::Extensions,
    headers: &HeaderMap,
) -> (Transport, Client) {
    let https = is_https(site, extensions, headers);
    let ip = client_ip(site, extensions, headers);
    (
        Transport { https },
        Client {
            ip: ip.map(|i| i.to_string()).unwrap_or_default(),
            user_agent: user_agent(headers).into_owned(),
        },
    )
}

/// The client's address: the peer's, or behind a `--trusted-proxy` the right-most
/// forwarded address that is not one of our proxies.
fn client_ip(
    site: &Site,
    extensions: &axum::http::Extensions,
    headers: &HeaderMap,
) -> Option<IpAddr> {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip());
    let trusted = |ip: IpAddr| site.config.trusted_proxies.iter().any(|c| c.contains(ip));
    let via_proxy = peer.is_some_and(trusted);
    let mut ip = peer;
    if via_proxy && let Some(xff) = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        for hop in xff.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(addr) => {
                    ip = Some(addr);
                    if !trusted(addr) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
    }
    ip
}

/// `HTTP_USER_AGENT` (invalid UTF-8 replaced; empty when absent).
fn user_agent(headers: &HeaderMap) -> Cow<'_, str> {
    headers
        .get(header::USER_AGENT)
        .map_or(Cow::Borrowed(""), |v| String::from_utf8_lossy(v.as_bytes()))
}

/// An IP address as text, written on the stack (`Client::ip` without the allocation).
struct IpText {
    buf: [u8; 48],
    len: usize,
}

impl IpText {
    fn new(ip: Option<IpAddr>) -> Self {
        use std::io::Write as _;
        let mut buf = [0u8; 48];
        let mut cursor = std::io::Cursor::new(&mut buf[..]);
        // The longest address (an IPv4-mapped IPv6 one) is 45 characters: it always fits.
        if let Some(ip) = ip
            && write!(cursor, "{ip}").is_err()
        {
            cursor.set_position(0);
        }
        let len = usize::try_from(cursor.position()).unwrap_or(0);
        Self { buf, len }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

/// What the pipeline reads of the query string, in one pass: the global parameters,
/// `_jsonp` and whether `context=edit`.
struct QueryFlags {
    globals: GlobalParams,
    /// `_jsonp` as `judge_jsonp` judges it.
    jsonp: Result<Option<String>, ()>,
    edit_context: bool,
}

impl QueryFlags {
    fn parse(query: &str) -> Self {
        let mut globals = global_params::Reader::default();
        let mut callback = None;
        let mut edit_context = false;
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            globals.read(&k, &v);
            if k == "_jsonp" {
                callback = Some(Ok(v.into_owned()));
            } else if k.starts_with("_jsonp[") {
                callback = Some(Err(()));
            } else if k == "context" && v == "edit" {
                edit_context = true;
            }
        }
        Self {
            globals: globals.finish(),
            jsonp: judge_jsonp(callback),
            edit_context,
        }
    }
}

/// Authentication before dispatch (`rest_authentication_errors`), `OPTIONS` answers, then
/// what `rest_post_dispatch` adds (`Allow`, `_fields`), `_envelope`, `_jsonp`, and the common
/// headers.
///
/// The request is read once: its query string in one pass (`QueryFlags`), its client
/// borrowed, not copied (`ClientRef`), until a handler is to run. A posts answer is cached
/// (`crate::cache`) as it leaves this pipeline, `Allow`, `_fields`, `_envelope`, `_jsonp`
/// and the common headers applied, so a hit needs only what varies per request: the CORS
/// headers for its `Origin`, the REST nonce of a cookie session, the metrics' route.
async fn rest_pipeline<F, Fut>(site: &Arc<Site>, mut req: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let uri = req.uri().clone();
    let query = uri.query().unwrap_or("");
    let origin = req.headers().get(header::ORIGIN).cloned();
    let is_get = req.method() == Method::GET || req.method() == Method::HEAD;
    let is_options = req.method() == Method::OPTIONS;
    let transport = Transport {
        https: is_https(site, req.extensions(), req.headers()),
    };
    let https = transport.https;
    let ip = IpText::new(client_ip(site, req.extensions(), req.headers()));
    let user_agent_header = req.headers().get(header::USER_AGENT).cloned();
    let user_agent = user_agent_header
        .as_ref()
        .map_or(Cow::Borrowed(""), |v| String::from_utf8_lossy(v.as_bytes()));
    let client = auth::ClientRef {
        ip: ip.as_str(),
        user_agent: &user_agent,
    };
    let QueryFlags {
        globals,
        jsonp,
        edit_context,
    } = QueryFlags::parse(query);
    let matched = registry::match_route(site, rest_path(uri.path()), req.method().as_str());
    // `_jsonp` is checked before anything else runs: a bad callback name stops the request.
    let Ok(jsonp) = jsonp else {
        let mut resp = json_response(
            StatusCode::BAD_REQUEST,
            &serde_json::json!({
                "code": "rest_callback_invalid",
                "message": "Invalid JSONP callback function.",
            }),
        );
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(JSONP_CONTENT_TYPE),
        );
        add_rest_headers(resp.headers_mut(), site, origin, false, is_get);
        return resp;
    };
    // The terms controller's `create_item` sets `context=edit` before `Allow` is computed.
    let term_create = *req.method() == Method::POST
        && matched
            .as_ref()
            .is_some_and(|m| matches!(m.doc.kind, registry::Kind::Terms(_)));
    let authorization = req.headers().get(header::AUTHORIZATION).cloned();

    // A route whose percent-decoded path is not UTF-8 matches no route pattern (axum's path
    // extractor would answer with a plain-text 400 instead).
    if !decodes_to_utf8(uri.path()) {
        let mut resp = WpError::rest_no_route().into_response();
        add_rest_headers(resp.headers_mut(), site, origin, false, is_get);
        return resp;
    }
    let version = site
        .cache
        .version(site.store.as_ref(), site.config.read_cache)
        .await;
    // Answers that depend only on the user, the URL and the database: posts read with GET,
    // without a body or a method override (whose parameters the URL would not show).
    let cacheable = req.method() == Method::GET
        && matches!(
            matched.as_ref().map(|m| &m.doc.kind),
            Some(registry::Kind::Posts(_) | registry::Kind::Post(_))
        )
        && !req.headers().contains_key("x-http-method-override")
        && !req.headers().contains_key(header::CONTENT_TYPE)
        && axum::body::HttpBody::size_hint(req.body()).exact() == Some(0)
        && !query.contains("_method");
    let mut result = auth::authenticate_request(
        site,
        authorization.as_ref().map(HeaderValue::as_bytes),
        https,
        client,
        version,
    )
    .await;
    // Cookie authentication (`rest_cookie_check_errors`) for requests without credentials of
    // their own: the admin screens' session cookie counts only with a valid `wp_rest` nonce.
    let mut rest_nonce = None;
    let mut cookie_refused = false;
    if authorization.is_none() && result.as_ref().is_ok_and(|a| !a.logged_in()) {
        match auth::cookie::rest_cookie_check_errors(site, req.headers(), query).await {
            Ok(Some((auth, nonce))) => {
                site.metrics.auth(crate::metrics::AuthKind::Cookie, true);
                rest_nonce = Some(nonce);
                result = Ok(auth);
            }
            Ok(None) => {}
            Err(e) => {
                if e.status == StatusCode::FORBIDDEN {
                    site.metrics.auth(crate::metrics::AuthKind::Cookie, false);
                }
                cookie_refused = true;
                result = Err(e);
            }
        }
    }
    // What the handlers read of the request: made only when one is to run.
    let for_handlers = |req: &mut Request, auth: Option<&Auth>| {
        let ext = req.extensions_mut();
        ext.insert(transport);
        ext.insert(Client {
            ip: client.ip.to_owned(),
            user_agent: client.user_agent.to_owned(),
        });
        if let Some(auth) = auth {
            ext.insert(auth.clone());
        }
    };
    let mut authenticated = None;
    // Where this answer goes in the response cache, when the handler's own answer is a 200.
    let mut cache_slot = None;
    let (mut resp, logged_in) = match result {
        Ok(auth) => {
            let logged_in = auth.logged_in();
            // The token's scopes, before any handler (and before the response cache).
            let scope = auth::scopes::check_route(
                auth.grant.as_deref(),
                matched.as_ref().map(|m| &m.doc.kind),
                req.method(),
            );
            let mut resp = if let Err(e) = scope {
                e.into_response()
            } else if is_options {
                // `rest_handle_options_request()`: the route's data with its schema; an
                // unknown route answers an empty list.
                let data = matched.as_ref().map_or(Value::Array(vec![]), |m| {
                    registry::route_data(site, m.doc, true)
                });
                json_response(StatusCode::OK, &data)
            } else if let (Some(v), true) = (version, cacheable) {
                // A scoped token may see less than its user (embeds): its own entries.
                let scopes = auth
                    .grant
                    .as_ref()
                    .and_then(|g| g.scopes.as_ref())
                    .map_or("", |s| s.stored.as_str());
                let key = response_key(auth.user_id(), https, scopes, &uri);
                let hit = site.cache.response(v, &key);
                site.metrics.cache_lookup(hit.is_some());
                if let Some(hit) = hit {
                    return per_request_headers(site, hit, origin, logged_in, rest_nonce, &matched);
                }
                for_handlers(&mut req, Some(&auth));
                let resp = next(req).await;
                if resp.status() == StatusCode::OK {
                    cache_slot = Some((v, key));
                }
                resp
            } else {
                for_handlers(&mut req, Some(&auth));
                next(req).await
            };
            // axum's own Allow (on unrouted methods) is not WordPress's.
            resp.headers_mut().remove(header::ALLOW);
            if let Some(m) = &matched {
                let allow = registry::allowed_methods(
                    site,
                    &auth,
                    transport,
                    m,
                    // A term created answers in the edit context (`create_item` sets it).
                    edit_context || (term_create && resp.status().is_success()),
                    query,
                    resp.extensions().get::<registry::AllowHints>().copied(),
                )
                .await;
                // No permitted method: WordPress sends no Allow header at all.
                if !allow.is_empty()
                    && let Ok(v) = HeaderValue::from_str(&allow.join(", "))
                {
                    resp.headers_mut().insert(header::ALLOW, v);
                }
            }
            authenticated = Some(auth);
            (resp, logged_in)
        }
        Err(e) => (e.into_response(), false),
    };
    // Every error answer is a WordPress envelope: an extractor rejection of axum's own
    // (plain text) becomes one with the same status.
    if resp.status().is_client_error() && !is_json_response(&resp) {
        let status = resp.status();
        resp = WpError::new(
            status,
            "rest_invalid_request",
            status.canonical_reason().unwrap_or("Invalid request."),
        )
        .into_response();
    }
    let links_apart = matched.as_ref().is_some_and(|m| {
        // These controllers add their links beside the data, so `_fields` keeps them.
        matches!(
            m.doc.kind,
            registry::Kind::Index
                | registry::Kind::Namespace
                | registry::Kind::Statuses
                | registry::Kind::Status
                | registry::Kind::Taxonomies
                | registry::Kind::Taxonomy
        )
    });
    let embedder = authenticated
        .as_ref()
        .map(|auth| (site.as_ref(), auth, transport));
    resp = globals.apply(resp, links_apart, embedder).await;
    if let Some(callback) = jsonp {
        resp = wrap_jsonp(resp, &callback).await;
    }
    // A refused cookie gets `rest_send_nocache_headers`, as in WordPress. The headers that
    // depend on the request's `Origin` come last, after the answer is cached.
    add_common_headers(
        resp.headers_mut(),
        site,
        logged_in || cookie_refused,
        is_get,
    );
    if let Some((v, key)) = cache_slot {
        resp = site.cache.put_response(v, key, resp).await;
    }
    if let Some(origin) = origin {
        add_origin_headers(
            resp.headers_mut(),
            origin,
            is_get && !(logged_in || cookie_refused),
        );
    }
    per_request_headers(site, resp, None, logged_in, rest_nonce, &matched)
}

/// The response cache's key of a request: `user|https|scopes|path?query`, written in one
/// allocation without the formatting machinery (it is made for every cached read).
fn response_key(user_id: i64, https: bool, scopes: &str, uri: &Uri) -> String {
    let target = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    let mut key = String::with_capacity(20 + 7 + scopes.len() + target.len());
    let mut digits = [0u8; 20];
    let mut n = user_id.unsigned_abs();
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + u8::try_from(n % 10).unwrap_or(0);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if user_id < 0 {
        key.push('-');
    }
    key.push_str(std::str::from_utf8(&digits[i..]).unwrap_or("?"));
    key.push_str(if https { "|true|" } else { "|false|" });
    key.push_str(scopes);
    key.push('|');
    key.push_str(target);
    key
}

/// What an answer gets per request even from the response cache: the CORS headers for its
/// `Origin` (`logged_in`: the cached answer did not vary by origin already), the REST nonce
/// of a cookie session, and the route the metrics count it under.
fn per_request_headers(
    site: &Site,
    mut resp: Response,
    origin: Option<HeaderValue>,
    logged_in: bool,
    rest_nonce: Option<HeaderValue>,
    matched: &Option<registry::Matched<'_>>,
) -> Response {
    if let Some(origin) = origin {
        // Cached answers are all to GETs.
        add_origin_headers(resp.headers_mut(), origin, !logged_in);
    }
    if let Some(nonce) = rest_nonce {
        resp.headers_mut()
            .insert(HeaderName::from_static("x-wp-nonce"), nonce);
    }
    // The metrics count requests by WordPress's route pattern, never by the raw path
    // (made only when they are served: an allocation per request otherwise wasted).
    if site.metrics.is_serving() {
        let template = matched.as_ref().map_or_else(
            || format!("{PREFIX} (no route)"),
            |m| format!("{PREFIX}{}", m.doc.route),
        );
        resp.extensions_mut()
            .insert(crate::metrics::RouteTemplate(template));
    }
    resp
}

const JSONP_CONTENT_TYPE: &str = "application/javascript; charset=UTF-8";

/// `_jsonp` as `WP_REST_Server::serve_request()` reads it from the query string: `None`
/// when absent or empty (PHP-falsy: `""`, `"0"`), `Err` when `wp_check_jsonp_callback()`
/// refuses it (anything but `[A-Za-z0-9_.]`, or an array such as `_jsonp[]=`). Given the
/// last `_jsonp` of the query (`Err`: an array).
fn judge_jsonp(callback: Option<Result<String, ()>>) -> Result<Option<String>, ()> {
    match callback {
        None => Ok(None),
        Some(Err(())) => Err(()),
        Some(Ok(name)) if name.is_empty() || name == "0" => Ok(None),
        Some(Ok(name))
            if name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.') =>
        {
            Ok(Some(name))
        }
        Some(Ok(_)) => Err(()),
    }
}

/// The JSON answer as `/**/callback(<json>)` (the `/**/` guards against Rosetta Flash, as
/// in WordPress), served as JavaScript; error answers are wrapped too, with their status.
async fn wrap_jsonp(resp: Response, callback: &str) -> Response {
    if !is_json_response(&resp) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(json) = axum::body::to_bytes(body, usize::MAX).await else {
        return json_response(StatusCode::INTERNAL_SERVER_ERROR, &Value::Null);
    };
    let mut out = Vec::with_capacity(json.len() + callback.len() + 6);
    out.extend_from_slice(b"/**/");
    out.extend_from_slice(callback.as_bytes());
    out.push(b'(');
    out.extend_from_slice(&json);
    out.push(b')');
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSONP_CONTENT_TYPE),
    );
    Response::from_parts(parts, axum::body::Body::from(out))
}

fn is_json_response(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"))
}

/// Whether a path's percent-escapes decode to UTF-8.
fn decodes_to_utf8(path: &str) -> bool {
    if !path.contains('%') {
        return true;
    }
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(0));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    std::str::from_utf8(&out).is_ok()
}

/// The headers WordPress sends on every REST answer (`rest_send_cors_headers`,
/// `rest_send_nocache_headers` for a logged-in user, …).
fn add_rest_headers(
    h: &mut HeaderMap,
    site: &Site,
    origin: Option<HeaderValue>,
    logged_in: bool,
    is_get: bool,
) {
    add_common_headers(h, site, logged_in, is_get);
    if let Some(origin) = origin {
        add_origin_headers(h, origin, is_get && !logged_in);
    }
}

/// `add_rest_headers` for a request without `Origin`: everything but the CORS grant.
fn add_common_headers(h: &mut HeaderMap, site: &Site, logged_in: bool, is_get: bool) {
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    if !h.contains_key(header::LINK)
        && let Ok(v) = HeaderValue::from_str(&format!(
            "<{}>; rel=\"https://api.w.org/\"",
            site.config.rest_url("")
        ))
    {
        h.insert(header::LINK, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("X-WP-Total, X-WP-TotalPages, Link"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(
            "Authorization, X-WP-Nonce, Content-Disposition, Content-MD5, Content-Type",
        ),
    );
    // Without `Origin`, an anonymous GET varies by it (another origin gets CORS headers).
    if is_get && !logged_in {
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    if logged_in {
        h.insert(
            header::EXPIRES,
            HeaderValue::from_static("Wed, 11 Jan 1984 05:00:00 GMT"),
        );
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, must-revalidate, max-age=0, no-store, private"),
        );
        h.remove(header::LAST_MODIFIED);
    }
}

/// The CORS grant for a request's `Origin`, on an answer that `add_common_headers` made
/// (`varied`: it already says `Vary: Origin`).
fn add_origin_headers(h: &mut HeaderMap, origin: HeaderValue, varied: bool) {
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("OPTIONS, GET, POST, PUT, PATCH, DELETE"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    if !varied {
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// A collection answer: the items with `X-WP-Total`, `X-WP-TotalPages` and the `Link`
/// prev/next header for `page` of `base` (the request's other arguments kept).
pub fn collection_response(
    items: Vec<Value>,
    total: i64,
    total_pages: i64,
    base: &str,
    params: &params::Params,
    page: i64,
) -> Response {
    let mut resp = json_response(StatusCode::OK, &Value::Array(items));
    let h = resp.headers_mut();
    h.insert(X_WP_TOTAL.clone(), HeaderValue::from(total));
    h.insert(X_WP_TOTAL_PAGES.clone(), HeaderValue::from(total_pages));
    if let Some(link) = pagination_link(base, params, page, total_pages)
        && let Ok(v) = HeaderValue::from_str(&link)
    {
        h.insert(header::LINK, v);
    }
    resp
}

/// Response header names WordPress uses for pagination.
pub static X_WP_TOTAL: HeaderName = HeaderName::from_static("x-wp-total");
pub static X_WP_TOTAL_PAGES: HeaderName = HeaderName::from_static("x-wp-totalpages");

/// `Link: <…&page=n>; rel="prev", <…>; rel="next"` for a collection at `base`, carrying the
/// request's own parameters (`WP_REST_*_Controller::get_items`); `None` when there is
/// neither a previous nor a next page. The previous page is clamped to the last one.
pub fn pagination_link(
    base: &str,
    params: &params::Params,
    page: i64,
    total_pages: i64,
) -> Option<String> {
    // `add_query_arg( 'page', n, add_query_arg( urlencode_deep( $params ), $base ) )`:
    // `page` keeps its place (or comes last), arrays become `k%5B0%5D=…`, objects
    // `k%5Bkey%5D=…`, values as PHP's `urlencode()`.
    let with_page = |n: i64| {
        let mut pairs: Vec<String> = vec![];
        let mut page_seen = false;
        for (k, v) in &params.0 {
            let key = php_urlencode(k);
            if k == "page" {
                page_seen = true;
                pairs.push(format!("page={n}"));
                continue;
            }
            let scalar = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            match v {
                Value::Array(a) => {
                    for (i, item) in a.iter().enumerate() {
                        pairs.push(format!("{key}%5B{i}%5D={}", php_urlencode(&scalar(item))));
                    }
                }
                Value::Object(o) => {
                    for (sub, item) in o {
                        pairs.push(format!(
                            "{key}%5B{}%5D={}",
                            php_urlencode(sub),
                            php_urlencode(&scalar(item))
                        ));
                    }
                }
                other => pairs.push(format!("{key}={}", php_urlencode(&scalar(other)))),
            }
        }
        if !page_seen {
            pairs.push(format!("page={n}"));
        }
        format!("{base}?{}", pairs.join("&"))
    };
    let mut parts = vec![];
    if page > 1 {
        let prev = (page - 1).min(total_pages.max(1));
        parts.push(format!("<{}>; rel=\"prev\"", with_page(prev)));
    }
    if page < total_pages {
        parts.push(format!("<{}>; rel=\"next\"", with_page(page + 1)));
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join(", "))
    }
}

/// PHP's `urlencode()`: letters, digits and `-_.` kept, space as `+`, the rest `%XX`.
pub fn php_urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Parses a `(?P<id>[\d]+)` path segment; anything else is not a route.
pub fn route_id(segment: &str) -> Result<i64, WpError> {
    if segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WpError::rest_no_route());
    }
    // Digits too large for an id cannot name anything that exists.
    Ok(segment.parse::<i64>().unwrap_or(i64::MAX))
}

/// `$request['id']` of an item route: a body or query `id` comes before the URL's in
/// `WP_REST_Request::get_parameter_order()`, so when given it names the item, and must be
/// an integer (`sanitize_params()` checks a `null` too).
pub fn request_id(v: &mut params::Validator<'_>, params: &params::Params, url_id: i64) -> i64 {
    if params.get("id").is_none() {
        return url_id;
    }
    v.integer("id").unwrap_or(url_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_keys_name_user_transport_scopes_and_target() {
        let uri: Uri = "/wp-json/wp/v2/posts?per_page=10".parse().expect("uri");
        assert_eq!(
            response_key(12, true, "", &uri),
            "12|true||/wp-json/wp/v2/posts?per_page=10"
        );
        assert_eq!(
            response_key(0, false, "read", &"/wp-json".parse().expect("uri")),
            "0|false|read|/wp-json"
        );
        assert_eq!(
            response_key(i64::MIN, false, "", &uri),
            format!("{}|false||/wp-json/wp/v2/posts?per_page=10", i64::MIN)
        );
        assert_eq!(
            response_key(i64::MAX, true, "a b", &uri),
            format!("{}|true|a b|/wp-json/wp/v2/posts?per_page=10", i64::MAX)
        );
    }
}
