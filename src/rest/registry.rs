//! The registered routes, as `register_rest_route()` records them: each route's pattern,
//! endpoints with their args, and item schema. From them come the index's `routes`,
//! `OPTIONS` answers (`rest_handle_options_request`) and the `Allow` header
//! (`rest_send_allow_header`).

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value, json};

use crate::auth::Auth;
use crate::site::Site;

use super::Transport;

/// Which controller a route belongs to, so its permission checks can be asked for `Allow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Index,
    Namespace,
    /// A post type's collection, by `rest_base`.
    Posts(&'static str),
    /// A post type's item route, by `rest_base`.
    Post(&'static str),
    UsersMe,
    User,
    AppPasswords,
    AppPassword,
    AppPasswordIntrospect,
}

/// One registered route.
pub struct RouteDoc {
    pub namespace: &'static str,
    /// WordPress's pattern, as the index shows it.
    pub route: &'static str,
    pub kind: Kind,
    pub endpoints: Vec<(&'static [&'static str], Value)>,
    /// The item schema (`get_public_item_schema()`), by file name under `schemas/`.
    pub schema: Option<&'static str>,
    pattern: Regex,
}

/// A request path matched to a route, with the values of its named groups.
pub struct Matched {
    pub doc: &'static RouteDoc,
    captures: Vec<(String, String)>,
}

impl Matched {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.captures
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The route a path (below `/wp-json`) belongs to: WordPress matches `@^{route}$@i`.
pub fn match_route(path: &str) -> Option<Matched> {
    let path = if path.is_empty() { "/" } else { path };
    ROUTES.iter().find_map(|doc| {
        let caps = doc.pattern.captures(path)?;
        let captures = doc
            .pattern
            .capture_names()
            .flatten()
            .filter_map(|n| caps.name(n).map(|m| (n.to_owned(), m.as_str().to_owned())))
            .collect();
        Some(Matched { doc, captures })
    })
}

pub fn all() -> &'static [RouteDoc] {
    &ROUTES
}

static ROUTES: LazyLock<Vec<RouteDoc>> = LazyLock::new(registry);

fn doc(
    namespace: &'static str,
    route: &'static str,
    kind: Kind,
    schema: Option<&'static str>,
    endpoints: Vec<(&'static [&'static str], Value)>,
) -> RouteDoc {
    // The patterns are ours and known to compile; an unmatchable fallback keeps this total.
    let pattern = Regex::new(&format!("(?i)^{route}$"))
        .unwrap_or_else(|_| Regex::new("[^\\s\\S]").unwrap_or_else(|_| unreachable!()));
    RouteDoc {
        namespace,
        route,
        kind,
        endpoints,
        schema,
        pattern,
    }
}

/// The methods a route serves, in registration order.
pub fn methods(doc: &RouteDoc) -> Vec<&'static str> {
    let mut methods: Vec<&'static str> = vec![];
    for (m, _) in &doc.endpoints {
        for x in *m {
            if !methods.contains(x) {
                methods.push(x);
            }
        }
    }
    methods
}

/// `WP_REST_Server::get_data_for_route()`; `help` adds the schema (the `OPTIONS` answer).
pub fn route_data(site: &Site, doc: &RouteDoc, help: bool) -> Value {
    let endpoints: Vec<Value> = doc
        .endpoints
        .iter()
        .map(|(m, args)| json!({ "methods": m, "args": args }))
        .collect();
    let mut data = Map::new();
    data.insert("namespace".into(), json!(doc.namespace));
    data.insert("methods".into(), json!(methods(doc)));
    data.insert("endpoints".into(), Value::Array(endpoints));
    if help && let Some(name) = doc.schema {
        data.insert("schema".into(), schema(site, name));
    }
    if !doc.route.contains("(?P<") {
        data.insert(
            "_links".into(),
            json!({ "self": [{ "href": site.config.rest_url(doc.route.trim_start_matches('/')) }] }),
        );
    }
    Value::Object(data)
}

static SCHEMAS: LazyLock<Vec<(&'static str, Value)>> = LazyLock::new(|| {
    [
        ("post", include_str!("schemas/post.json")),
        ("page", include_str!("schemas/page.json")),
        ("user", include_str!("schemas/user.json")),
        (
            "application-password",
            include_str!("schemas/application-password.json"),
        ),
    ]
    .into_iter()
    .map(|(name, text)| (name, serde_json::from_str(text).unwrap_or(Value::Null)))
    .collect()
});

/// An item schema; link targets are stored relative to the REST root.
pub fn schema(site: &Site, name: &str) -> Value {
    let mut schema = SCHEMAS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| s.clone())
        .unwrap_or(Value::Null);
    if let Some(links) = schema.get_mut("links").and_then(Value::as_array_mut) {
        for link in links {
            if let Some(href) = link.get("href").and_then(Value::as_str) {
                link["href"] = json!(site.config.rest_url(href));
            }
        }
    }
    schema
}

/// `rest_send_allow_header()`: the route's methods whose permission check passes for this
/// request.
pub async fn allowed_methods(
    site: &Site,
    auth: &Auth,
    transport: Transport,
    m: &Matched,
) -> Vec<&'static str> {
    let all = methods(m.doc);
    let permitted: Vec<&'static str> = match m.doc.kind {
        Kind::Index | Kind::Namespace | Kind::UsersMe => all.clone(),
        Kind::Posts(base) => super::posts::allowed_on_collection(auth, base),
        Kind::Post(base) => {
            super::posts::allowed_on_item(site, auth, base, m.param("id").unwrap_or("")).await
        }
        Kind::User => super::users::allowed_on_item(site, auth, m.param("id").unwrap_or("")).await,
        Kind::AppPasswords | Kind::AppPassword | Kind::AppPasswordIntrospect => {
            super::application_passwords::allowed(
                site,
                auth,
                transport,
                m.param("user_id").unwrap_or(""),
                m.doc.kind == Kind::AppPasswordIntrospect,
            )
            .await
        }
    };
    all.into_iter().filter(|x| permitted.contains(x)).collect()
}

fn context_arg(default: &str) -> Value {
    json!({ "description": "Scope under which the request is made; determines fields present in response.",
            "type": "string", "enum": ["view", "embed", "edit"], "default": default, "required": false })
}

fn collection_args() -> Value {
    json!({
        "context": context_arg("view"),
        "page": { "description": "Current page of the collection.", "type": "integer", "default": 1, "minimum": 1, "required": false },
        "per_page": { "description": "Maximum number of items to be returned in result set.", "type": "integer", "default": 10, "minimum": 1, "maximum": 100, "required": false },
        "status": { "default": "publish", "description": "Limit result set to posts assigned one or more statuses.", "type": "array",
                    "items": { "enum": ["publish", "future", "draft", "pending", "private", "trash", "auto-draft", "inherit", "any"], "type": "string" }, "required": false },
        "author": { "description": "Limit result set to posts assigned to specific authors.", "type": "array", "items": { "type": "integer" }, "default": [], "required": false },
        "order": { "description": "Order sort attribute ascending or descending.", "type": "string", "default": "desc", "enum": ["asc", "desc"], "required": false }
    })
}

fn create_post_args() -> Value {
    json!({
        "date": { "description": "The date the post was published, in the site's timezone.", "type": ["string", "null"], "format": "date-time", "required": false },
        "date_gmt": { "description": "The date the post was published, as GMT.", "type": ["string", "null"], "format": "date-time", "required": false },
        "slug": { "description": "An alphanumeric identifier for the post unique to its type.", "type": "string", "required": false },
        "status": { "description": "A named status for the post.", "type": "string", "enum": ["publish", "future", "draft", "pending", "private"], "required": false },
        "password": { "description": "A password to protect access to the content and excerpt.", "type": "string", "required": false },
        "title": { "description": "The title for the post.", "type": "object", "properties": { "raw": { "type": "string" } }, "required": false },
        "content": { "description": "The content for the post.", "type": "object", "properties": { "raw": { "type": "string" } }, "required": false },
        "author": { "description": "The ID for the author of the post.", "type": "integer", "required": false },
        "excerpt": { "description": "The excerpt for the post.", "type": "object", "properties": { "raw": { "type": "string" } }, "required": false },
        "comment_status": { "description": "Whether or not comments are open on the post.", "type": "string", "enum": ["open", "closed"], "required": false },
        "ping_status": { "description": "Whether or not the post can be pinged.", "type": "string", "enum": ["open", "closed"], "required": false }
    })
}

fn item_args() -> Value {
    json!({
        "id": { "description": "Unique identifier for the post.", "type": "integer", "required": false },
        "context": context_arg("view"),
        "password": { "description": "The password for the post if it is password protected.", "type": "string", "required": false }
    })
}

fn registry() -> Vec<RouteDoc> {
    let mut v = vec![
        doc(
            "",
            "/",
            Kind::Index,
            None,
            vec![(
                &["GET"],
                json!({ "context": { "default": "view", "required": false } }),
            )],
        ),
        doc(
            "wp/v2",
            "/wp/v2",
            Kind::Namespace,
            None,
            vec![(
                &["GET"],
                json!({ "namespace": { "default": "wp/v2", "required": false }, "context": { "default": "view", "required": false } }),
            )],
        ),
    ];
    for (collection, item, base, schema) in [
        (
            "/wp/v2/posts",
            "/wp/v2/posts/(?P<id>[\\d]+)",
            "posts",
            "post",
        ),
        (
            "/wp/v2/pages",
            "/wp/v2/pages/(?P<id>[\\d]+)",
            "pages",
            "page",
        ),
    ] {
        v.push(doc(
            "wp/v2",
            collection,
            Kind::Posts(base),
            Some(schema),
            vec![
                (&["GET"], collection_args()),
                (&["POST"], create_post_args()),
            ],
        ));
        v.push(doc(
            "wp/v2",
            item,
            Kind::Post(base),
            Some(schema),
            vec![(&["GET"], item_args())],
        ));
    }
    v.push(doc(
        "wp/v2",
        "/wp/v2/users/(?P<id>[\\d]+)",
        Kind::User,
        Some("user"),
        vec![(&["GET"], json!({ "id": { "description": "Unique identifier for the user.", "type": "integer", "required": false }, "context": context_arg("view") }))],
    ));
    let ap_item = json!({
        "app_id": { "description": "A uuid provided by the application to uniquely identify it. It is recommended to use an UUID v5 with the URL or DNS namespace.",
                    "oneOf": [{ "type": "string", "format": "uuid" }, { "type": "string", "enum": [""] }], "required": false },
        "name": { "description": "The name of the application password.", "type": "string", "minLength": 1, "pattern": ".*\\S.*", "required": true }
    });
    let mut ap_update = ap_item.clone();
    ap_update["name"]["required"] = json!(false);
    let ap = Some("application-password");
    v.push(doc(
        "wp/v2",
        "/wp/v2/users/(?P<user_id>(?:[\\d]+|me))/application-passwords",
        Kind::AppPasswords,
        ap,
        vec![
            (&["GET"], json!({ "context": context_arg("view") })),
            (&["POST"], ap_item),
            (&["DELETE"], json!([])),
        ],
    ));
    v.push(doc(
        "wp/v2",
        "/wp/v2/users/(?P<user_id>(?:[\\d]+|me))/application-passwords/introspect",
        Kind::AppPasswordIntrospect,
        ap,
        vec![(&["GET"], json!({ "context": context_arg("view") }))],
    ));
    v.push(doc(
        "wp/v2",
        "/wp/v2/users/(?P<user_id>(?:[\\d]+|me))/application-passwords/(?P<uuid>[\\w\\-]+)",
        Kind::AppPassword,
        ap,
        vec![
            (&["GET"], json!({ "context": context_arg("view") })),
            (&["POST", "PUT", "PATCH"], ap_update),
            (&["DELETE"], json!([])),
        ],
    ));
    v.push(doc(
        "wp/v2",
        "/wp/v2/users/me",
        Kind::UsersMe,
        Some("user"),
        vec![(&["GET"], json!({ "context": context_arg("view") }))],
    ));
    v
}
