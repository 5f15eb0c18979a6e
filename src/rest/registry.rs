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
    /// `/wp/v2/users`.
    Users,
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

/// The route that serves a request (below `/wp-json`): the first whose pattern matches
/// (`@^{route}$@i`) and that has a handler for the method (HEAD as GET); for `OPTIONS`, the
/// first whose pattern matches.
pub fn match_route(path: &str, method: &str) -> Option<Matched> {
    let path = if path.is_empty() { "/" } else { path };
    let method = if method == "HEAD" { "GET" } else { method };
    ROUTES.iter().find_map(|doc| {
        if method != "OPTIONS" && !methods(doc).contains(&method) {
            return None;
        }
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
/// request (`edit`: the request asks for `context=edit`; `query`: its query string).
pub async fn allowed_methods(
    site: &Site,
    auth: &Auth,
    transport: Transport,
    m: &Matched,
    edit: bool,
    query: &str,
) -> Vec<&'static str> {
    let all = methods(m.doc);
    let permitted: Vec<&'static str> = match m.doc.kind {
        Kind::Index | Kind::Namespace => all.clone(),
        Kind::Users => super::users::allowed_on_collection(auth, query),
        Kind::UsersMe => super::users::allowed_on_me(auth),
        Kind::Posts(base) => super::posts::allowed_on_collection(auth, base, edit),
        Kind::Post(base) => {
            super::posts::allowed_on_item(site, auth, base, m.param("id").unwrap_or(""), edit).await
        }
        Kind::User => {
            super::users::allowed_on_item(site, auth, m.param("id").unwrap_or(""), edit).await
        }
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

/// Endpoints stored as WordPress lists them: `[{"methods": [...], "args": {...}}]`.
fn endpoints_from(list: &Value) -> Vec<(&'static [&'static str], Value)> {
    const METHOD_SETS: &[&[&str]] = &[&["GET"], &["POST"], &["POST", "PUT", "PATCH"], &["DELETE"]];
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let methods: Vec<&str> = e["methods"]
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let set = METHOD_SETS.iter().find(|s| **s == methods.as_slice())?;
            Some((*set, e["args"].clone()))
        })
        .collect()
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
    for (collection, item, base, schema, endpoints) in [
        (
            "/wp/v2/posts",
            "/wp/v2/posts/(?P<id>[\\d]+)",
            "posts",
            "post",
            include_str!("schemas/post.endpoints.json"),
        ),
        (
            "/wp/v2/pages",
            "/wp/v2/pages/(?P<id>[\\d]+)",
            "pages",
            "page",
            include_str!("schemas/page.endpoints.json"),
        ),
    ] {
        let endpoints: Value = serde_json::from_str(endpoints).unwrap_or(Value::Null);
        v.push(doc(
            "wp/v2",
            collection,
            Kind::Posts(base),
            Some(schema),
            endpoints_from(&endpoints["collection"]),
        ));
        v.push(doc(
            "wp/v2",
            item,
            Kind::Post(base),
            Some(schema),
            endpoints_from(&endpoints["item"]),
        ));
    }
    let users: Value =
        serde_json::from_str(include_str!("schemas/user.endpoints.json")).unwrap_or(Value::Null);
    for (route, kind, key) in [
        ("/wp/v2/users", Kind::Users, "collection"),
        ("/wp/v2/users/(?P<id>[\\d]+)", Kind::User, "item"),
        ("/wp/v2/users/me", Kind::UsersMe, "me"),
    ] {
        v.push(doc(
            "wp/v2",
            route,
            kind,
            Some("user"),
            endpoints_from(&users[key]),
        ));
    }
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
    v
}
