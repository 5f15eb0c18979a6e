//! Token governance (issue 18): what an Application Password may do beyond WordPress's
//! all-or-nothing token — its expiry, its scopes and, after a rotation, the grace of its
//! previous secret. WordPress has none of this (core trac #53995, #63927); a token without
//! any of it behaves exactly as WordPress's.
//!
//! A scope list is `*` (unrestricted, the default), `read` (safe methods only, every
//! resource) or `<resource>:<read|write>` entries; `write` includes `read`. Scopes only
//! narrow: the capability checks of `crate::caps` still run for whatever a scope allows.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::error::WpError;
use crate::rest::registry::Kind;
use crate::site::Site;

/// Resources every site has; post types add their `rest_base`.
const RESOURCES: &[&str] = &[
    "posts",
    "pages",
    "media",
    "terms",
    "comments",
    "users",
    "settings",
    "application-passwords",
];

/// What a verified token carries beside its user, cached with it (no query per request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub uuid: Uuid,
    /// Unix time after which the token is refused.
    pub expires: Option<i64>,
    /// Set when the secret used is the one a rotation replaced: accepted until then.
    pub prev_valid_until: Option<i64>,
    /// `None`: unrestricted.
    pub scopes: Option<Scopes>,
}

/// A parsed, restricted scope list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes {
    /// As stored (space-separated).
    pub stored: String,
    read_all: bool,
    /// (resource, write allowed).
    grants: Vec<(String, bool)>,
}

impl Scopes {
    /// From the stored form (space-separated, already validated); `None` when unrestricted.
    pub fn from_stored(stored: Option<&str>) -> Option<Self> {
        let stored = stored?;
        let mut s = Scopes {
            stored: stored.to_owned(),
            read_all: false,
            grants: Vec::new(),
        };
        for entry in stored.split_whitespace() {
            match entry {
                "*" => return None,
                "read" => s.read_all = true,
                _ => {
                    if let Some((res, access)) = entry.rsplit_once(':') {
                        s.grants.push((res.to_owned(), access == "write"));
                    }
                }
            }
        }
        Some(s)
    }

    /// Whether `resource` may be read (or written, with `write`).
    pub fn allows(&self, resource: &str, write: bool) -> bool {
        if !write && self.read_all {
            return true;
        }
        self.grants
            .iter()
            .any(|(r, w)| r == resource && (*w || !write))
    }
}

impl Scopes {
    /// Whether every entry of a stored scope list (`None`: unrestricted) is within these:
    /// a scoped token may only hand out narrower tokens.
    pub fn covers(&self, stored: Option<&str>) -> bool {
        let Some(stored) = stored else { return false };
        stored.split_whitespace().all(|e| match e {
            "read" => self.read_all,
            _ => e
                .rsplit_once(':')
                .is_some_and(|(res, access)| self.allows(res, access == "write")),
        })
    }
}

/// The scope a request needs, as `resource:read|write`, for the error message.
fn needed(resource: &str, write: bool) -> String {
    format!("{resource}:{}", if write { "write" } else { "read" })
}

/// 403 `rest_application_password_scope`, naming the missing scope.
pub fn scope_error(scope: &str) -> WpError {
    WpError::new(
        StatusCode::FORBIDDEN,
        "rest_application_password_scope",
        format!("This application password does not have the {scope} scope."),
    )
    .with_data("scope", json!(scope))
}

/// 401 `application_password_expired`.
pub fn expired_error() -> WpError {
    WpError::new(
        StatusCode::UNAUTHORIZED,
        "application_password_expired",
        "The provided application password has expired.",
    )
}

/// Whether a request to a route of `kind` (`None`: no registered route) with `method` is
/// within the grant's scopes. A scoped token gets no route the registry does not map (it
/// needs `*` there), so a route added without a resource fails closed.
pub fn check_route(
    grant: Option<&Grant>,
    kind: Option<&Kind>,
    method: &Method,
) -> Result<(), WpError> {
    let Some(scopes) = grant.and_then(|g| g.scopes.as_ref()) else {
        return Ok(());
    };
    // `OPTIONS` describes a route (its schema), as the index does: no scope needed.
    if *method == Method::OPTIONS {
        return Ok(());
    }
    let Some(kind) = kind else {
        return Err(scope_error("*"));
    };
    let write = !matches!(*method, Method::GET | Method::HEAD);
    let Some(resource) = route_resource(kind, write) else {
        return Ok(());
    };
    if scopes.allows(resource, write) {
        Ok(())
    } else {
        Err(scope_error(&needed(resource, write)))
    }
}

/// For requests made inside the server (batch sub-requests, XML-RPC methods) as a user
/// whose token is scoped: the route is matched only then, so unscoped requests pay nothing.
pub fn check_path(
    site: &Site,
    auth: &crate::auth::Auth,
    path: &str,
    method: &Method,
) -> Result<(), WpError> {
    let Some(grant) = auth.grant.as_deref().filter(|g| g.scopes.is_some()) else {
        return Ok(());
    };
    let m = crate::rest::registry::match_route(site, path, method.as_str());
    check_route(Some(grant), m.as_ref().map(|m| &m.doc.kind), method)
}

/// The one map from REST routes to scope resources. `None`: discovery routes (index,
/// types, statuses, taxonomies, batch — whose sub-requests are checked one by one) and
/// reading one's own token, which any token may do.
pub fn route_resource(kind: &Kind, write: bool) -> Option<&str> {
    Some(match kind {
        Kind::Posts(b) | Kind::Post(b) | Kind::Revisions(b) | Kind::Revision(b) => b.as_str(),
        Kind::Media | Kind::MediaItem | Kind::MediaEdit | Kind::MediaPostProcess => "media",
        Kind::Terms(_) | Kind::Term(_) => "terms",
        Kind::Comments | Kind::Comment => "comments",
        Kind::Users | Kind::UsersMe | Kind::User => "users",
        Kind::AppPasswords | Kind::AppPassword => "application-passwords",
        Kind::AppPasswordIntrospect if write => "application-passwords",
        Kind::Settings | Kind::Themes | Kind::Theme | Kind::Plugins | Kind::Plugin => "settings",
        // The search route finds posts of every type.
        Kind::Search => "posts",
        Kind::AppPasswordIntrospect
        | Kind::Index
        | Kind::Namespace
        | Kind::Types
        | Kind::Type
        | Kind::Statuses
        | Kind::Status
        | Kind::Taxonomies
        | Kind::Taxonomy
        | Kind::Batch => return None,
    })
}

/// XML-RPC methods on the same resources: (resource, write). `None` for methods that
/// need no resource (discovery, `system.*`); a method not listed needs an unrestricted
/// token. Methods that call REST routes are checked there again, route by route.
pub fn xmlrpc_resource(method: &str) -> Option<Option<(&'static str, bool)>> {
    let r = match method {
        "wp.getUsersBlogs"
        | "blogger.getUsersBlogs"
        | "metaWeblog.getUsersBlogs"
        | "wp.getPostStatusList"
        | "wp.getPageStatusList"
        | "wp.getPageTemplates"
        | "wp.getPostFormats"
        | "wp.getPostType"
        | "wp.getPostTypes"
        | "wp.getTaxonomy"
        | "wp.getTaxonomies"
        | "wp.getCommentStatusList" => None,
        "blogger.getUserInfo"
        | "wp.getProfile"
        | "wp.getUser"
        | "wp.getUsers"
        | "wp.getAuthors" => Some(("users", false)),
        "wp.editProfile" => Some(("users", true)),
        "wp.getOptions" => Some(("settings", false)),
        "wp.setOptions" => Some(("settings", true)),
        "wp.getPost"
        | "wp.getPosts"
        | "metaWeblog.getPost"
        | "metaWeblog.getRecentPosts"
        | "mt.getRecentPostTitles"
        | "mt.getPostCategories"
        | "mt.getTrackbackPings"
        | "blogger.getPost"
        | "blogger.getRecentPosts"
        | "wp.getRevisions" => Some(("posts", false)),
        "wp.newPost"
        | "wp.editPost"
        | "wp.deletePost"
        | "metaWeblog.newPost"
        | "metaWeblog.editPost"
        | "metaWeblog.deletePost"
        | "blogger.deletePost"
        | "blogger.newPost"
        | "blogger.editPost"
        | "mt.setPostCategories"
        | "mt.publishPost"
        | "wp.restoreRevision" => Some(("posts", true)),
        "wp.getPage" | "wp.getPages" | "wp.getPageList" => Some(("pages", false)),
        "wp.newPage" | "wp.editPage" | "wp.deletePage" => Some(("pages", true)),
        "wp.getMediaItem" | "wp.getMediaLibrary" => Some(("media", false)),
        "wp.uploadFile" | "metaWeblog.newMediaObject" | "wp.deleteFile" => Some(("media", true)),
        "wp.getTerm"
        | "wp.getTerms"
        | "wp.getCategories"
        | "metaWeblog.getCategories"
        | "wp.getTags"
        | "mt.getCategoryList"
        | "wp.suggestCategories" => Some(("terms", false)),
        "wp.newTerm" | "wp.editTerm" | "wp.deleteTerm" | "wp.newCategory" | "wp.deleteCategory" => {
            Some(("terms", true))
        }
        "wp.getComment" | "wp.getComments" | "wp.getCommentCount" => Some(("comments", false)),
        "wp.newComment" | "wp.editComment" | "wp.deleteComment" => Some(("comments", true)),
        _ => return None,
    };
    Some(r)
}

/// Whether an XML-RPC method is within the grant's scopes.
pub fn check_xmlrpc(grant: Option<&Grant>, method: &str) -> Result<(), WpError> {
    let Some(scopes) = grant.and_then(|g| g.scopes.as_ref()) else {
        return Ok(());
    };
    match xmlrpc_resource(method) {
        Some(None) => Ok(()),
        Some(Some((resource, write))) if scopes.allows(resource, write) => Ok(()),
        Some(Some((resource, write))) => Err(scope_error(&needed(resource, write))),
        None => Err(scope_error("*")),
    }
}

/// Validates a scope list from a client (REST `scopes`, CLI `--scopes`, the admin
/// screens) and returns its stored form: `None` when unrestricted.
pub fn parse(site: &Site, list: &[String]) -> Result<Option<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for raw in list {
        let entry = raw.trim();
        if entry == "*" {
            return Ok(None);
        }
        let valid = entry == "read"
            || entry.rsplit_once(':').is_some_and(|(res, access)| {
                (access == "read" || access == "write") && is_resource(site, res)
            });
        if !valid {
            return Err(entry.to_owned());
        }
        if !out.iter().any(|e| e == entry) {
            out.push(entry.to_owned());
        }
    }
    if out.is_empty() {
        // An empty list would lock the token out of everything: refuse it.
        return Err(String::new());
    }
    Ok(Some(out.join(" ")))
}

fn is_resource(site: &Site, res: &str) -> bool {
    RESOURCES.contains(&res) || site.post_type_by_base(res).is_some()
}

/// The REST/introspection form: `["*"]` when unrestricted.
pub fn to_json(stored: Option<&str>) -> Value {
    match stored {
        None => json!(["*"]),
        Some(s) => Value::Array(s.split_whitespace().map(|e| json!(e)).collect()),
    }
}

/// A duration such as `90d`, `12h`, `30m`, `45s`, `2w`, `1y` or plain seconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().ok()?;
    let mul = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "y" => 365 * 86_400,
        _ => return None,
    };
    n.checked_mul(mul)
}

/// `--expires`: a duration from `now` (`90d`), an RFC 3339 time, or a date (`2027-06-30`,
/// the end of that day, UTC). `Ok(None)` for `never`.
pub fn parse_expires(s: &str, now: i64) -> Result<Option<i64>, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("never") || t.is_empty() {
        return Ok(None);
    }
    if let Some(d) = parse_duration(t) {
        return Ok(Some(now.saturating_add(d)));
    }
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Ok(Some(ts.as_second()));
    }
    // Without an offset, as `rest_parse_date()` reads it on a UTC site.
    if let Ok(dt) = t.parse::<jiff::civil::DateTime>()
        && t.contains('T')
        && let Ok(z) = dt.to_zoned(jiff::tz::TimeZone::UTC)
    {
        return Ok(Some(z.timestamp().as_second()));
    }
    if let Ok(date) = t.parse::<jiff::civil::Date>()
        && let Ok(end) = date
            .to_datetime(jiff::civil::Time::MAX)
            .to_zoned(jiff::tz::TimeZone::UTC)
    {
        return Ok(Some(end.timestamp().as_second()));
    }
    Err(format!(
        "invalid expiry {t:?}: use a duration (90d), a date (2027-06-30) or an RFC 3339 time"
    ))
}

/// RFC 3339 in UTC, as responses show `expires`.
pub fn rfc3339(ts: i64) -> String {
    jiff::Timestamp::from_second(ts)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_narrow() {
        let s = Scopes::from_stored(Some("read posts:write")).expect("restricted");
        assert!(s.allows("users", false));
        assert!(!s.allows("users", true));
        assert!(s.allows("posts", true));
        let s = Scopes::from_stored(Some("pages:read")).expect("restricted");
        assert!(s.allows("pages", false));
        assert!(!s.allows("pages", true));
        assert!(!s.allows("posts", false));
        assert!(Scopes::from_stored(None).is_none());
    }

    /// Every served method that logs in maps to a resource (or to none on purpose), so a
    /// scoped token is never refused one by omission.
    #[test]
    fn every_xmlrpc_method_that_logs_in_is_mapped() {
        let no_login = [
            "system.multicall",
            "system.listMethods",
            "system.getCapabilities",
            "demo.addTwoNumbers",
            "demo.sayHello",
            "mt.supportedTextFilters",
            "mt.supportedMethods",
            "pingback.ping",
            "pingback.extensions.getPingbacks",
        ];
        for m in crate::xmlrpc::METHODS {
            assert!(
                no_login.contains(m) || xmlrpc_resource(m).is_some(),
                "{m} has no scope resource"
            );
        }
    }

    #[test]
    fn durations_and_dates() {
        assert_eq!(parse_duration("90d"), Some(90 * 86_400));
        assert_eq!(parse_duration("1h"), Some(3600));
        assert_eq!(parse_duration("x"), None);
        assert_eq!(parse_expires("never", 0), Ok(None));
        assert_eq!(parse_expires("2d", 10), Ok(Some(10 + 2 * 86_400)));
        assert_eq!(
            parse_expires("2027-06-30", 0),
            Ok(Some(
                "2027-06-30T23:59:59Z"
                    .parse::<jiff::Timestamp>()
                    .expect("valid")
                    .as_second()
            ))
        );
        assert_eq!(
            parse_expires("2030-01-01T00:00:00", 0),
            parse_expires("2030-01-01T00:00:00Z", 0)
        );
        assert!(parse_expires("soon", 0).is_err());
    }
}
