//! `/xmlrpc.php`: WordPress's XML-RPC server (`xmlrpc.php`, `wp_xmlrpc_server` in
//! `class-wp-xmlrpc-server.php`, `IXR_Server`), the second API Application Passwords unlock.
//!
//! A request is parsed in one pass (`value`), then dispatched by method name. Logins go
//! through the same Application Password check, audit and brute-force buckets as Basic auth
//! on the REST API; account passwords only with `--xmlrpc-account-passwords`.

pub mod blog;
pub mod comments;
pub mod custom_fields;
pub mod legacy;
pub mod media;
pub mod metaweblog;
pub mod options;
pub mod pages;
pub mod pingback;
pub mod post_types;
pub mod posts;
pub mod rest;
pub mod revisions;
pub mod spool;
pub mod terms;
pub mod users;
pub mod value;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;

use crate::auth::{self, Client, password, throttle};
use crate::error::WpError;
use crate::site::{Site, now};
use crate::store::User;
use crate::work::Priority;

pub use value::Value;

/// Whether the XML-RPC API answers (`xmlrpc_enabled`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Toggle {
    On,
    Off,
}

/// An XML-RPC fault (`IXR_Error`). `retry_after` marks a throttled login, answered with
/// HTTP 429 and `Retry-After` (WordPress has no throttle; its faults are all HTTP 200).
#[derive(Debug, Clone)]
pub struct Fault {
    pub code: i64,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl Fault {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// `minimum_args()`'s fault.
    pub fn insufficient_arguments() -> Self {
        Self::new(400, "Insufficient arguments passed to this XML-RPC method.")
    }
}

/// The REST pipeline's errors as faults: the same status as code, the same message.
impl From<WpError> for Fault {
    fn from(e: WpError) -> Self {
        Self {
            code: i64::from(e.status.as_u16()),
            message: e.message,
            retry_after: e.retry_after.map(|s| u64::from(s.get())),
        }
    }
}

impl From<crate::store::StoreError> for Fault {
    fn from(e: crate::store::StoreError) -> Self {
        WpError::from(e).into()
    }
}

pub type RpcResult = Result<Value, Fault>;

pub fn routes(site: Arc<Site>) -> Router {
    Router::new()
        .route("/xmlrpc.php", axum::routing::any(serve))
        .with_state(site)
}

const XML_CONTENT_TYPE: &str = "text/xml; charset=UTF-8";

fn xml(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(XML_CONTENT_TYPE),
    );
    resp
}

fn fault_answer(f: &Fault) -> Response {
    let body = value::fault_response(f.code, &f.message);
    match f.retry_after {
        Some(secs) => {
            let mut resp = xml(StatusCode::TOO_MANY_REQUESTS, body);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
        None => xml(StatusCode::OK, body),
    }
}

/// `xmlrpc.php` then `IXR_Server::serve()`.
async fn serve(State(site): State<Arc<Site>>, req: axum::extract::Request) -> Response {
    let (parts, body) = req.into_parts();
    let query = parts.uri.query().unwrap_or("");
    if form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "rsd") {
        return xml(StatusCode::OK, rsd(&site));
    }
    if parts.method != Method::POST {
        let mut resp = (
            StatusCode::METHOD_NOT_ALLOWED,
            "XML-RPC server accepts POST requests only.",
        )
            .into_response();
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain;charset=UTF-8"),
        );
        return resp;
    }
    let (transport, client) = crate::rest::transport_from(&site, &parts.extensions, &parts.headers);
    // Read no further than the limits: a 1 GB body costs what its first 10 MB cost. Files
    // (`<base64>`) go to disk as they arrive, under --max-upload-bytes; the rest of the call
    // stays under --max-body-bytes.
    let read = spool::read(
        body,
        site.config.max_body_bytes,
        site.config.max_upload_bytes,
        &site.config.media.temp_dir(),
    )
    .await;
    let body = match read {
        Ok(b) => b,
        Err(spool::SpoolError::Io(e)) => {
            tracing::error!(error = %e, "XML-RPC: spooling an upload failed");
            return fault_answer(&Fault::new(500, "Could not write the uploaded file."));
        }
        Err(_) => {
            let mut resp = xml(
                StatusCode::PAYLOAD_TOO_LARGE,
                value::fault_response(413, "The request body is too large."),
            );
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return resp;
        }
    };

    let parsed = match site
        .cpu
        .run_sized(body.xml.len(), move || {
            value::parse_call_with(&body.xml, &body.files)
        })
        .await
    {
        Ok(p) => p,
        Err(e) => return fault_answer(&Fault::from(e)),
    };
    let call = match parsed {
        Ok(c) => c,
        Err(value::ParseError::NotWellFormed) => {
            return fault_answer(&Fault::new(-32700, "parse error. not well formed"));
        }
        Err(value::ParseError::NotACall) => {
            return fault_answer(&Fault::new(
                -32600,
                "server error. invalid xml-rpc. not conforming to spec. Request must be a methodCall",
            ));
        }
    };
    let mut server = Server {
        site: &site,
        client,
        https: transport.https,
        auth_failed: false,
        method: String::new(),
        grant: None,
    };
    let result = if call.method == "system.multicall" {
        server.multicall(call.params).await
    } else {
        server.call(&call.method, call.params).await
    };
    match result {
        Ok(v) => xml(StatusCode::OK, v.response()),
        Err(f) => fault_answer(&f),
    }
}

/// Really Simple Discovery (`xmlrpc.php?rsd`).
fn rsd(site: &Site) -> String {
    let home = crate::admin::esc_html(&site.config.home);
    let rpc = format!("{home}/xmlrpc.php");
    let api = crate::admin::esc_html(&site.config.rest_url(""));
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rsd version=\"1.0\" xmlns=\"http://archipelago.phrasewise.com/rsd\">\n\
         \t<service>\n\
         \t\t<engineName>WordPress</engineName>\n\
         \t\t<engineLink>https://wordpress.org/</engineLink>\n\
         \t\t<homePageLink>{home}</homePageLink>\n\
         \t\t<apis>\n\
         \t\t\t<api name=\"WordPress\" blogID=\"1\" preferred=\"true\" apiLink=\"{rpc}\" />\n\
         \t\t\t<api name=\"Movable Type\" blogID=\"1\" preferred=\"false\" apiLink=\"{rpc}\" />\n\
         \t\t\t<api name=\"MetaWeblog\" blogID=\"1\" preferred=\"false\" apiLink=\"{rpc}\" />\n\
         \t\t\t<api name=\"Blogger\" blogID=\"1\" preferred=\"false\" apiLink=\"{rpc}\" />\n\
         \t\t\t\t<api name=\"WP-API\" blogID=\"1\" preferred=\"false\" apiLink=\"{api}\" />\n\
         \t\t\t</apis>\n\
         \t</service>\n\
         </rsd>\n"
    )
}

/// The `<link rel="EditURI">` the home page carries (`rsd_link()`).
pub fn rsd_link(site_home: &str) -> String {
    format!(
        "<link rel=\"EditURI\" type=\"application/rsd+xml\" title=\"RSD\" href=\"{}/xmlrpc.php?rsd\" />",
        crate::admin::esc_html(site_home)
    )
}

/// One request's server (`wp_xmlrpc_server`): who is calling, and whether a login already
/// failed in this request (`auth_failed`: later logins are refused without a check).
pub struct Server<'a> {
    pub site: &'a Site,
    pub client: Client,
    pub https: bool,
    pub auth_failed: bool,
    /// The method being called (for the token's scopes).
    pub method: String,
    /// The expiry and scopes of the Application Password the last login used.
    pub grant: Option<Arc<crate::auth::scopes::Grant>>,
}

/// The methods served, in `system.listMethods` order (WordPress lists its callbacks in
/// reverse registration order).
pub const METHODS: &[&str] = &[
    "system.multicall",
    "system.listMethods",
    "system.getCapabilities",
    "demo.addTwoNumbers",
    "demo.sayHello",
    "pingback.extensions.getPingbacks",
    "pingback.ping",
    "mt.publishPost",
    "mt.getTrackbackPings",
    "mt.supportedTextFilters",
    "mt.supportedMethods",
    "mt.setPostCategories",
    "mt.getPostCategories",
    "mt.getRecentPostTitles",
    "mt.getCategoryList",
    "metaWeblog.getUsersBlogs",
    "metaWeblog.deletePost",
    "metaWeblog.newMediaObject",
    "metaWeblog.getCategories",
    "metaWeblog.getRecentPosts",
    "metaWeblog.getPost",
    "metaWeblog.editPost",
    "metaWeblog.newPost",
    "blogger.deletePost",
    "blogger.editPost",
    "blogger.newPost",
    "blogger.getRecentPosts",
    "blogger.getPost",
    "blogger.getUserInfo",
    "blogger.getUsersBlogs",
    "wp.restoreRevision",
    "wp.getRevisions",
    "wp.getPostTypes",
    "wp.getPostType",
    "wp.getPostFormats",
    "wp.getMediaLibrary",
    "wp.getMediaItem",
    "wp.getCommentStatusList",
    "wp.newComment",
    "wp.editComment",
    "wp.deleteComment",
    "wp.getComments",
    "wp.getComment",
    "wp.setOptions",
    "wp.getOptions",
    "wp.getPageTemplates",
    "wp.getPageStatusList",
    "wp.getPostStatusList",
    "wp.getCommentCount",
    "wp.deleteFile",
    "wp.uploadFile",
    "wp.suggestCategories",
    "wp.deleteCategory",
    "wp.newCategory",
    "wp.getTags",
    "wp.getCategories",
    "wp.getAuthors",
    "wp.getPageList",
    "wp.editPage",
    "wp.deletePage",
    "wp.newPage",
    "wp.getPages",
    "wp.getPage",
    "wp.editProfile",
    "wp.getProfile",
    "wp.getUsers",
    "wp.getUser",
    "wp.getTaxonomies",
    "wp.getTaxonomy",
    "wp.getTerms",
    "wp.getTerm",
    "wp.deleteTerm",
    "wp.editTerm",
    "wp.newTerm",
    "wp.getPosts",
    "wp.getPost",
    "wp.deletePost",
    "wp.editPost",
    "wp.newPost",
    "wp.getUsersBlogs",
];

impl Server<'_> {
    /// `IXR_Server::call()`.
    pub async fn call(&mut self, method: &str, args: Vec<Value>) -> RpcResult {
        method.clone_into(&mut self.method);
        match method {
            "system.listMethods" => Ok(Value::Array(
                METHODS.iter().map(|m| Value::str(*m)).collect(),
            )),
            "system.getCapabilities" => Ok(capabilities()),
            "system.multicall" => Err(Fault::new(
                -32600,
                "Recursive calls to system.multicall are forbidden",
            )),
            "demo.sayHello" => Ok(Value::str("Hello!")),
            "demo.addTwoNumbers" => Ok(add_two_numbers(&args)),
            "mt.supportedTextFilters" => Ok(Value::Array(vec![])),
            "mt.supportedMethods" => Ok(Value::Array(
                METHODS
                    .iter()
                    .filter(|m| !m.starts_with("system."))
                    .rev()
                    .map(|m| Value::str(*m))
                    .collect(),
            )),
            "wp.getUsersBlogs" => {
                minimum_args(&args, 2)?;
                let mut shifted = Vec::with_capacity(args.len() + 1);
                shifted.push(Value::Int(1));
                shifted.extend(args);
                blog::get_users_blogs(self, &shifted).await
            }
            "blogger.getUsersBlogs" | "metaWeblog.getUsersBlogs" => {
                blog::get_users_blogs(self, &args).await
            }
            "blogger.getUserInfo" => blog::get_user_info(self, &args).await,
            "wp.getProfile" => blog::get_profile(self, &args).await,
            "wp.getPostStatusList" => blog::get_post_status_list(self, &args).await,
            "wp.getPageStatusList" => blog::get_page_status_list(self, &args).await,
            "wp.getPageTemplates" => blog::get_page_templates(self, &args).await,
            "wp.getPostFormats" => blog::get_post_formats(self, &args).await,
            "wp.getPost" => posts::get_post(self, &args).await,
            "wp.getComment" => comments::get_comment(self, &args).await,
            "wp.getComments" => comments::get_comments(self, &args).await,
            "wp.newComment" => comments::new_comment(self, &args).await,
            "wp.editComment" => comments::edit_comment(self, &args).await,
            "wp.deleteComment" => comments::delete_comment(self, &args).await,
            "wp.getCommentCount" => comments::get_comment_count(self, &args).await,
            "wp.getCommentStatusList" => comments::get_comment_status_list(self, &args).await,
            "wp.getPosts" => posts::get_posts(self, &args).await,
            "wp.newPost" => posts::new_post(self, &args).await,
            "wp.editPost" => posts::edit_post(self, &args).await,
            "wp.deletePost" => posts::delete_post(self, &args).await,
            "wp.uploadFile" | "metaWeblog.newMediaObject" => {
                media::new_media_object(self, &args).await
            }
            "wp.getMediaItem" => media::get_media_item(self, &args).await,
            "wp.getMediaLibrary" => media::get_media_library(self, &args).await,
            "wp.getTaxonomy" => terms::get_taxonomy(self, &args).await,
            "wp.getTaxonomies" => terms::get_taxonomies(self, &args).await,
            "wp.getTerm" => terms::get_term(self, &args).await,
            "wp.getTerms" => terms::get_terms(self, &args).await,
            "wp.newTerm" => terms::new_term(self, &args).await,
            "wp.editTerm" => terms::edit_term(self, &args).await,
            "wp.deleteTerm" => terms::delete_term(self, &args).await,
            "metaWeblog.getPost" => metaweblog::get_post(self, &args).await,
            "wp.getPage" => pages::get_page(self, &args).await,
            "wp.getUser" => users::get_user(self, &args).await,
            "wp.getPostType" => post_types::get_post_type(self, &args).await,
            "wp.getCategories" => metaweblog::get_categories(self, &args).await,
            "wp.getOptions" => options::get(self, &args).await,
            "wp.getRevisions" => revisions::get_revisions(self, &args).await,
            "pingback.ping" => pingback::ping(self, &args).await,
            "pingback.extensions.getPingbacks" => pingback::get_pingbacks(self, &args).await,
            "wp.restoreRevision" => revisions::restore_revision(self, &args).await,
            "wp.setOptions" => options::set(self, &args).await,
            "wp.getTags" => legacy::get_tags(self, &args).await,
            "wp.newCategory" => legacy::new_category(self, &args).await,
            "wp.deleteCategory" => legacy::delete_category(self, &args).await,
            "wp.suggestCategories" => legacy::suggest_categories(self, &args).await,
            "wp.deleteFile" => posts::delete_post(self, &args).await,
            "mt.getCategoryList" => legacy::get_category_list(self, &args).await,
            "mt.getRecentPostTitles" => legacy::get_recent_post_titles(self, &args).await,
            "mt.getPostCategories" => legacy::get_post_categories(self, &args).await,
            "mt.setPostCategories" => legacy::set_post_categories(self, &args).await,
            "mt.getTrackbackPings" => legacy::get_trackback_pings(self, &args).await,
            "mt.publishPost" => legacy::publish_post(self, &args).await,
            "blogger.getPost" => legacy::blogger_get_post(self, &args).await,
            "blogger.getRecentPosts" => legacy::blogger_get_recent_posts(self, &args).await,
            "blogger.newPost" => legacy::blogger_new_post(self, &args).await,
            "blogger.editPost" => legacy::blogger_edit_post(self, &args).await,
            "wp.getPostTypes" => post_types::get_post_types(self, &args).await,
            "wp.getUsers" => users::get_users(self, &args).await,
            "wp.getAuthors" => users::get_authors(self, &args).await,
            "wp.editProfile" => users::edit_profile(self, &args).await,
            "wp.getPages" => pages::get_pages(self, &args).await,
            "wp.getPageList" => pages::get_page_list(self, &args).await,
            "wp.newPage" => pages::new_page(self, &args).await,
            "wp.editPage" => pages::edit_page(self, &args).await,
            "wp.deletePage" => pages::delete_page(self, &args).await,
            "metaWeblog.getRecentPosts" => metaweblog::get_recent_posts(self, &args).await,
            "metaWeblog.newPost" => metaweblog::new_post(self, &args).await,
            "metaWeblog.editPost" => metaweblog::edit_post(self, &args).await,
            "metaWeblog.getCategories" => metaweblog::get_categories(self, &args).await,
            "metaWeblog.deletePost" | "blogger.deletePost" => {
                metaweblog::delete_post(self, &args).await
            }
            _ => Err(Fault::new(
                -32601,
                format!("server error. requested method {method} does not exist."),
            )),
        }
    }

    /// `IXR_Server::multiCall()`: every call answered in order, a fault as a struct. Each
    /// login inside counts against the throttle, and after the first failure the rest are
    /// refused unchecked, so one request cannot carry hundreds of guesses.
    async fn multicall(&mut self, args: Vec<Value>) -> RpcResult {
        let calls = match args.into_iter().next() {
            Some(Value::Array(calls)) => calls,
            Some(Value::Struct(m)) => m.into_iter().map(|(_, v)| v).collect(),
            _ => vec![],
        };
        let mut out = Vec::with_capacity(calls.len());
        for call in calls {
            let name = call
                .get("methodName")
                .map(Value::as_php_string)
                .unwrap_or_default();
            let params = match call.get("params") {
                Some(Value::Array(p)) => p.clone(),
                Some(Value::Struct(m)) => m.iter().map(|(_, v)| v.clone()).collect(),
                Some(other) => vec![other.clone()],
                None => vec![],
            };
            let result = if name == "system.multicall" {
                Err(Fault::new(
                    -32600,
                    "Recursive calls to system.multicall are forbidden",
                ))
            } else {
                self.call(&name, params).await
            };
            match result {
                Ok(v) => out.push(Value::Array(vec![v])),
                // A throttled client gets the HTTP answer that says so, not a buried fault.
                Err(f) if f.retry_after.is_some() => return Err(f),
                Err(f) => out.push(Value::object([
                    ("faultCode", Value::Int(f.code)),
                    ("faultString", Value::String(f.message)),
                ])),
            }
        }
        Ok(Value::Array(out))
    }

    /// `wp_xmlrpc_server::login()`: an Application Password (or, with
    /// `--xmlrpc-account-passwords`, the account password) for `username`.
    pub async fn login(&mut self, username: &Value, password: &Value) -> Result<Arc<User>, Fault> {
        if self.site.config.security.xmlrpc == Toggle::Off {
            return Err(Fault::new(
                405,
                "XML-RPC services are disabled on this site.",
            ));
        }
        let incorrect = || Fault::new(403, "Incorrect username or password.");
        if self.auth_failed {
            return Err(incorrect());
        }
        let login = username.as_php_string();
        let secret = password.as_php_string();
        let throttle = &self.site.auth_throttle;
        // Reserved before the check, like every login: parallel guesses verify at most the burst.
        let attempt = match throttle.reserve(&self.client.ip, &login).await {
            Ok(a) => a,
            Err(wait) => {
                self.auth_failed = true;
                self.site.audit.auth_failure(
                    crate::audit::Event::AuthThrottled,
                    &login,
                    &self.client.ip,
                );
                tracing::warn!(user = ?login, ip = %self.client.ip, "XML-RPC login refused: too many failures");
                return Err(throttled(throttle::retry_after_secs(wait)));
            }
        };
        let verified = self
            .verify(&login, secret, attempt.account_limited().is_some())
            .await;
        match verified {
            Ok(Some((user, grant))) => {
                attempt.refund();
                // The token's scopes, mapped from the method (REST routes it calls are
                // checked again with the same grant).
                crate::auth::scopes::check_xmlrpc(grant.as_deref(), &self.method)?;
                self.grant = grant;
                Ok(user)
            }
            Ok(None) => {
                self.auth_failed = true;
                let failure = attempt.fail();
                self.site.audit.auth_failure(
                    crate::audit::Event::AuthFailed,
                    &login,
                    &self.client.ip,
                );
                tracing::warn!(
                    user = ?login,
                    ip = %self.client.ip,
                    user_agent = ?self.client.user_agent,
                    auth_failures_total = failure.failures,
                    "XML-RPC login failed"
                );
                match failure.throttled {
                    Some(wait) => Err(throttled(throttle::retry_after_secs(wait))),
                    None => Err(incorrect()),
                }
            }
            // A valid but expired token: recorded (the `token.expired` alert), faulted as over
            // REST.
            Err(e) if e.code == "application_password_expired" => {
                attempt.refund();
                self.site.audit.auth_failure(
                    crate::audit::Event::TokenExpired,
                    &login,
                    &self.client.ip,
                );
                Err(e.into())
            }
            // Nothing was verified (storage failure, CPU queue full): not counted.
            Err(e) => {
                attempt.refund();
                Err(e.into())
            }
        }
    }

    /// `Ok(None)`: wrong credentials.
    async fn verify(
        &self,
        login: &str,
        secret: String,
        account_limited: bool,
    ) -> Result<Option<(Arc<User>, Option<Arc<crate::auth::scopes::Grant>>)>, WpError> {
        let site = self.site;
        if site.config.app_passwords_available(self.https) {
            match auth::authenticate_application_password(site, login, &secret).await {
                Ok((user, grant)) => {
                    site.audit.token_used(
                        grant.uuid,
                        user.id,
                        &self.client.ip,
                        &self.client.user_agent,
                    );
                    site.usage
                        .record(grant.uuid, now(), &self.client.ip, &self.client.user_agent);
                    return Ok(Some((Arc::new(user), Some(Arc::new(grant)))));
                }
                // An expired token says so, as over REST.
                Err(e) if e.code == "application_password_expired" => return Err(e),
                Err(e) if e.status == StatusCode::UNAUTHORIZED => {}
                Err(e) => return Err(e),
            }
        }
        if !site.config.security.xmlrpc_account_passwords {
            return Ok(None);
        }
        // WordPress's own behaviour, on request: the account password, one argon2 either way.
        let login_key = if login.contains('\0') { "" } else { login };
        let mut user = site.store.user_by_login(login_key).await?;
        if user.is_none() && crate::formatting::is_email(login_key) {
            user = site.store.user_by_email(login_key).await?;
        }
        let hash = user.as_ref().map(|u| u.pass_hash.clone());
        let priority = if account_limited {
            Priority::Low
        } else {
            Priority::Normal
        };
        let ok = password::verify_in(
            &site.cpu,
            priority,
            SecretString::from(secret),
            hash,
            password::dummy_hash,
        )
        .await?;
        Ok(user.filter(|_| ok).map(|u| (Arc::new(u), None)))
    }
}

fn throttled(secs: u64) -> Fault {
    Fault {
        code: 429,
        message: format!("Too many failed login attempts. Please try again in {secs} seconds."),
        retry_after: Some(secs),
    }
}

/// A `fields` (or names) argument as the methods read it: the strings of a list, or
/// `default` when it is not given (each method's `xmlrpc_default_*_fields`).
pub fn fields_or(v: Option<&Value>, default: &[&str]) -> Vec<String> {
    match v {
        Some(v) => v.items().iter().map(Value::as_php_string).collect(),
        None => default.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// `current_user_can( 'edit_post', $post->ID )`, decided in `caps`.
pub fn can_edit(s: &Server<'_>, user: &User, post: &crate::store::Post) -> bool {
    can_edit_on(s.site, user, post)
}

/// `can_edit()` on a site.
pub fn can_edit_on(site: &Site, user: &User, post: &crate::store::Post) -> bool {
    site.post_type(&post.post_type).is_some_and(|pt| {
        crate::caps::Actor {
            id: user.id,
            roles: &user.roles,
        }
        .can(crate::caps::Cap::EditPost(crate::caps::PostRef {
            author: post.author,
            status: &post.status,
            pre_trash_status: post.pre_trash_status.as_deref(),
            caps: &pt.caps,
        }))
    })
}

/// `minimum_args()`.
pub fn minimum_args(args: &[Value], count: usize) -> Result<(), Fault> {
    if args.len() < count {
        Err(Fault::insufficient_arguments())
    } else {
        Ok(())
    }
}

/// `IXR_Server::setCapabilities()`.
fn capabilities() -> Value {
    let spec = |url: &str, version: i64| {
        Value::object([
            ("specUrl", Value::str(url)),
            ("specVersion", Value::Int(version)),
        ])
    };
    Value::object([
        ("xmlrpc", spec("http://www.xmlrpc.com/spec", 1)),
        (
            "faults_interop",
            spec(
                "http://xmlrpc-epi.sourceforge.net/specs/rfc.fault_codes.php",
                20_010_516,
            ),
        ),
        (
            "system.multicall",
            spec("http://www.xmlrpc.com/discuss/msgReader$1208", 1),
        ),
    ])
}

/// `demo.addTwoNumbers`: PHP's `+` of the two arguments (ints stay ints unless they overflow).
fn add_two_numbers(args: &[Value]) -> Value {
    let num = |v: Option<&Value>| match v {
        Some(Value::Double(d)) => Err(*d),
        Some(Value::String(s)) if s.contains(['.', 'e', 'E']) => {
            Err(s.trim().parse().unwrap_or(0.0))
        }
        Some(v) => Ok(v.as_php_int()),
        None => Ok(0),
    };
    match (num(args.first()), num(args.get(1))) {
        (Ok(a), Ok(b)) => a
            .checked_add(b)
            .map_or_else(|| Value::Double(a as f64 + b as f64), Value::Int),
        (a, b) => {
            let f = |x: Result<i64, f64>| x.map_or_else(|d| d, |i| i as f64);
            Value::Double(f(a) + f(b))
        }
    }
}
