//! The registered routes, as `register_rest_route()` records them: each route's pattern,
//! endpoints with their args, and item schema. From them come the index's `routes`,
//! `OPTIONS` answers (`rest_handle_options_request`) and the `Allow` header
//! (`rest_send_allow_header`).

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value, json};

use crate::auth::Auth;
use crate::post_types::PostType;
use crate::site::Site;

use super::Transport;

/// Which controller a route belongs to, so its permission checks can be asked for `Allow`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Index,
    Namespace,
    /// A post type's collection, by `rest_base`.
    Posts(String),
    /// A post type's item route, by `rest_base`.
    Post(String),
    /// `/wp/v2/media`.
    Media,
    MediaItem,
    /// `/media/<id>/edit`.
    MediaEdit,
    /// `/media/<id>/post-process`.
    MediaPostProcess,
    Types,
    Type,
    Statuses,
    Status,
    /// A post type's revisions collection / item, by `rest_base`.
    Revisions(String),
    Revision(String),
    /// A taxonomy's terms collection / item, by `rest_base`.
    Terms(&'static str),
    Term(&'static str),
    Taxonomies,
    Taxonomy,
    /// `/wp/v2/users`.
    Users,
    UsersMe,
    User,
    AppPasswords,
    AppPassword,
    AppPasswordIntrospect,
    /// `/wp/v2/settings`.
    Settings,
    /// `/wp/v2/search`.
    Search,
    Themes,
    Theme,
    Plugins,
    Plugin,
    /// `/batch/v1`.
    Batch,
    /// `/wp/v2/comments` and `/wp/v2/comments/<id>`.
    Comments,
    Comment,
}

/// Whether a route's endpoints accept being called from `/batch/v1` (`allow_batch` of
/// `register_rest_route()`): the posts and terms controllers set it, attachments do not.
pub fn allows_batch(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::Posts(_) | Kind::Post(_) | Kind::Terms(_) | Kind::Term(_)
    )
}

/// One registered route.
pub struct RouteDoc {
    pub namespace: &'static str,
    /// WordPress's pattern, as the index shows it.
    pub route: String,
    pub kind: Kind,
    pub endpoints: Vec<(&'static [&'static str], Value)>,
    /// The item schema (`get_public_item_schema()`); link targets relative to the REST root.
    pub schema: Option<Value>,
    pattern: Regex,
}

/// The routes of one site (built-in ones and those of its post types), in the order
/// WordPress registers them.
pub struct Registry(Vec<RouteDoc>);

/// A request path matched to a route, with the values of its named groups.
pub struct Matched<'a> {
    pub doc: &'a RouteDoc,
    captures: Vec<(String, String)>,
}

impl Matched<'_> {
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
pub fn match_route<'a>(site: &'a Site, path: &str, method: &str) -> Option<Matched<'a>> {
    let path = if path.is_empty() { "/" } else { path };
    let method = if method == "HEAD" { "GET" } else { method };
    site.routes.0.iter().find_map(|doc| {
        if method != "OPTIONS" && !doc.endpoints.iter().any(|(m, _)| m.contains(&method)) {
            return None;
        }
        // A route without named groups needs no captures (which allocate, matching or not).
        if doc.pattern.captures_len() == 1 {
            return doc.pattern.is_match(path).then(|| Matched {
                doc,
                captures: vec![],
            });
        }
        if !doc.pattern.is_match(path) {
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

/// The `per_page` maximum of the `GET` handler serving `path`, if it takes one
/// (`WP_REST_Server::embed_links()` embeds collections with it).
pub fn per_page_maximum(site: &Site, path: &str) -> Option<i64> {
    let matched = match_route(site, path, "GET")?;
    let (_, args) = matched
        .doc
        .endpoints
        .iter()
        .find(|(methods, _)| methods.contains(&"GET"))?;
    args.get("per_page")?.get("maximum")?.as_i64()
}

pub fn all(site: &Site) -> &[RouteDoc] {
    &site.routes.0
}

fn doc(
    namespace: &'static str,
    route: &str,
    kind: Kind,
    schema: Option<Value>,
    endpoints: Vec<(&'static [&'static str], Value)>,
) -> RouteDoc {
    // The patterns are ours and known to compile; an unmatchable fallback keeps this total.
    let pattern = Regex::new(&format!("(?i)^{route}$"))
        .unwrap_or_else(|_| Regex::new("[^\\s\\S]").unwrap_or_else(|_| unreachable!()));
    RouteDoc {
        namespace,
        route: route.to_owned(),
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
    let batch = allows_batch(&doc.kind);
    let endpoints: Vec<Value> = doc
        .endpoints
        .iter()
        .map(|(m, args)| {
            if batch {
                json!({ "methods": m, "allow_batch": { "v1": true }, "args": args })
            } else {
                json!({ "methods": m, "args": args })
            }
        })
        .collect();
    let mut data = Map::new();
    data.insert("namespace".into(), json!(doc.namespace));
    data.insert("methods".into(), json!(methods(doc)));
    data.insert("endpoints".into(), Value::Array(endpoints));
    if help && let Some(schema) = &doc.schema {
        data.insert("schema".into(), absolute_links(site, schema.clone()));
    }
    if !doc.route.contains("(?P<") {
        data.insert(
            "_links".into(),
            json!({ "self": [{ "href": site.config.rest_url(doc.route.trim_start_matches('/')) }] }),
        );
    }
    Value::Object(data)
}

/// Endpoints and schemas of the site routes as the oracle's `OPTIONS` answers list them.
static SITE_ROUTES: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("schemas/site-routes.json")).unwrap_or(Value::Null)
});

static SCHEMAS: LazyLock<Vec<(&'static str, Value)>> = LazyLock::new(|| {
    [
        ("post", include_str!("schemas/post.json")),
        ("page", include_str!("schemas/page.json")),
        ("attachment", include_str!("schemas/attachment.json")),
        ("user", include_str!("schemas/user.json")),
        ("type", include_str!("schemas/type.json")),
        ("category", include_str!("schemas/category.json")),
        ("tag", include_str!("schemas/tag.json")),
        ("taxonomy", include_str!("schemas/taxonomy.json")),
        ("revision", include_str!("schemas/revision.json")),
        ("status", include_str!("schemas/status.json")),
        ("comment", include_str!("schemas/comment.json")),
        (
            "application-password",
            include_str!("schemas/application-password.json"),
        ),
    ]
    .into_iter()
    .map(|(name, text)| (name, serde_json::from_str(text).unwrap_or(Value::Null)))
    .chain(
        ["search", "themes", "plugins"]
            .into_iter()
            .map(|name| (name, SITE_ROUTES[name]["schema"].clone())),
    )
    .chain(std::iter::once((
        "settings",
        serde_json::from_str::<Value>(include_str!("schemas/settings.endpoints.json"))
            .map(|v| v["schema"].clone())
            .unwrap_or(Value::Null),
    )))
    .collect()
});

/// `filter_response_by_context()`: drops the top-level fields whose schema `context` list
/// does not include `ctx`. `_links` is kept.
pub fn filter_by_context(mut data: Value, schema_name: &str, ctx: super::params::Context) -> Value {
    let ctx = match ctx {
        super::params::Context::View => "view",
        super::params::Context::Edit => "edit",
        super::params::Context::Embed => "embed",
    };
    let schema = SCHEMAS
        .iter()
        .find(|(n, _)| *n == schema_name)
        .map(|(_, s)| s);
    if let (Some(o), Some(props)) = (
        data.as_object_mut(),
        schema.and_then(|s| s["properties"].as_object()),
    ) {
        o.retain(|k, _| {
            k == "_links"
                || props.get(k).is_none_or(|p| {
                    p["context"]
                        .as_array()
                        .is_none_or(|c| c.iter().any(|x| x == ctx))
                })
        });
    }
    data
}

/// A stored schema by file name.
pub fn named_schema(name: &str) -> Value {
    SCHEMAS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| s.clone())
        .unwrap_or(Value::Null)
}

/// The schema with its link targets made absolute.
fn absolute_links(site: &Site, mut schema: Value) -> Value {
    if let Some(links) = schema.get_mut("links").and_then(Value::as_array_mut) {
        for link in links {
            if let Some(href) = link.get("href").and_then(Value::as_str) {
                link["href"] = json!(site.config.rest_url(href));
            }
        }
    }
    schema
}

/// What a handler tells `Allow` about its request (a response extension): WordPress runs
/// the permission callbacks with the request as the handler left it.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowHints {
    /// The context the handler set (`$request->set_param( 'context', … )`), if it did.
    pub edit: Option<bool>,
    /// How the handler's own permission check ended, when `Allow` cannot tell from the URL
    /// (it depends on the body).
    pub permitted: Option<bool>,
    /// The request was a write: the read endpoint's argument defaults were not applied to it.
    pub write: bool,
}

/// `rest_send_allow_header()`: the route's methods whose permission check passes for this
/// request (`edit`: the request asks for `context=edit`).
pub async fn allowed_methods(
    site: &Site,
    auth: &Auth,
    transport: Transport,
    m: &Matched<'_>,
    edit: bool,
    query: &str,
    hints: Option<AllowHints>,
) -> Vec<&'static str> {
    let hints = hints.unwrap_or_default();
    let edit = hints.edit.unwrap_or(edit);
    let all = methods(m.doc);
    let permitted: Vec<&'static str> = match &m.doc.kind {
        Kind::Index | Kind::Namespace | Kind::Type | Kind::Search | Kind::Batch => all.clone(),
        Kind::Settings => super::settings::allowed(auth),
        Kind::Themes | Kind::Theme => super::themes::allowed(site, auth),
        Kind::Plugins => super::plugins::allowed(auth, false),
        Kind::Plugin => super::plugins::allowed(auth, true),
        Kind::Types => super::post_types::allowed(site, auth, edit),
        Kind::Users => super::users::allowed_on_collection(site, auth, query),
        Kind::UsersMe => super::users::allowed_on_me(auth),
        Kind::Statuses => super::post_statuses::allowed(site, auth, edit, None),
        Kind::Status => {
            super::post_statuses::allowed(site, auth, edit, Some(m.param("status").unwrap_or("")))
        }
        Kind::Taxonomies | Kind::Taxonomy => all.clone(),
        Kind::Revisions(base) | Kind::Revision(base) => {
            super::revisions::allowed(site, auth, base, m.param("parent").unwrap_or("")).await
        }
        Kind::Terms(base) => super::terms::allowed(site, auth, base, None, edit).await,
        Kind::Term(base) => super::terms::allowed(site, auth, base, m.param("id"), edit).await,
        Kind::Posts(base) => super::posts::allowed_on_collection(site, auth, base.as_str(), edit),
        Kind::Media => super::media::allowed_on_collection(site, auth, edit, query).await,
        Kind::MediaItem => {
            super::media::allowed_on_item(site, auth, m.param("id").unwrap_or(""), edit).await
        }
        Kind::MediaEdit | Kind::MediaPostProcess => {
            let upload = m.doc.kind == Kind::MediaEdit;
            super::media::allowed_on_edit(site, auth, m.param("id").unwrap_or(""), upload).await
        }
        Kind::Post(base) => {
            super::posts::allowed_on_item(
                site,
                auth,
                base.as_str(),
                m.param("id").unwrap_or(""),
                edit,
            )
            .await
        }
        Kind::User => {
            // `$request['id']`: a query `id` names the user before the URL's (a body's
            // cannot be seen here: docs/compat.md "allow-from-body").
            let query_id = super::params::parse_form(query)
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let id = query_id.as_deref().or(m.param("id")).unwrap_or("");
            super::users::allowed_on_item(site, auth, id, edit).await
        }
        Kind::Comments => {
            super::comments::allowed_on_collection(site, auth, edit, query, hints).await
        }
        Kind::Comment => {
            super::comments::allowed_on_item(site, auth, m.param("id").unwrap_or(""), edit, query)
                .await
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

impl Registry {
    pub fn build(post_types: &[PostType]) -> Self {
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
        for pt in post_types {
            let (collection, item) = post_type_endpoints(pt);
            let schema = Some(post_type_schema(pt));
            v.push(doc(
                "wp/v2",
                &format!("/wp/v2/{}", pt.rest_base),
                Kind::Posts(pt.rest_base.clone()),
                schema.clone(),
                collection,
            ));
            v.push(doc(
                "wp/v2",
                &format!("/wp/v2/{}/(?P<id>[\\d]+)", pt.rest_base),
                Kind::Post(pt.rest_base.clone()),
                schema,
                item,
            ));
            if super::revisions::supported(pt) {
                let stored: Value =
                    serde_json::from_str(include_str!("schemas/revision.endpoints.json"))
                        .unwrap_or(Value::Null);
                v.push(doc(
                    "wp/v2",
                    &format!("/wp/v2/{}/(?P<parent>[\\d]+)/revisions", pt.rest_base),
                    Kind::Revisions(pt.rest_base.clone()),
                    Some(named_schema("revision")),
                    endpoints_from(&stored["collection"]),
                ));
                v.push(doc(
                    "wp/v2",
                    &format!(
                        "/wp/v2/{}/(?P<parent>[\\d]+)/revisions/(?P<id>[\\d]+)",
                        pt.rest_base
                    ),
                    Kind::Revision(pt.rest_base.clone()),
                    Some(named_schema("revision")),
                    endpoints_from(&stored["item"]),
                ));
            }
            if pt.name == "page" {
                media_routes(&mut v);
            }
        }
        for tax in super::terms::TAXONOMIES {
            let schema_name = if tax.hierarchical { "category" } else { "tag" };
            let stored: Value = serde_json::from_str(if tax.hierarchical {
                include_str!("schemas/category.endpoints.json")
            } else {
                include_str!("schemas/tag.endpoints.json")
            })
            .unwrap_or(Value::Null);
            v.push(doc(
                "wp/v2",
                &format!("/wp/v2/{}", tax.rest_base),
                Kind::Terms(tax.rest_base),
                Some(named_schema(schema_name)),
                endpoints_from(&stored["collection"]),
            ));
            v.push(doc(
                "wp/v2",
                &format!("/wp/v2/{}/(?P<id>[\\d]+)", tax.rest_base),
                Kind::Term(tax.rest_base),
                Some(named_schema(schema_name)),
                endpoints_from(&stored["item"]),
            ));
        }
        let ctx_only = || vec![(&["GET"][..], json!({ "context": context_arg("view") }))];
        v.push(doc(
            "wp/v2",
            "/wp/v2/types",
            Kind::Types,
            Some(named_schema("type")),
            ctx_only(),
        ));
        v.push(doc(
            "wp/v2",
            "/wp/v2/types/(?P<type>[\\w-]+)",
            Kind::Type,
            Some(named_schema("type")),
            vec![(
                &["GET"],
                json!({ "type": { "description": "An alphanumeric identifier for the post type.", "type": "string", "required": false },
                        "context": context_arg("view") }),
            )],
        ));
        v.push(doc(
            "wp/v2",
            "/wp/v2/statuses",
            Kind::Statuses,
            Some(named_schema("status")),
            ctx_only(),
        ));
        v.push(doc(
            "wp/v2",
            "/wp/v2/statuses/(?P<status>[\\w-]+)",
            Kind::Status,
            Some(named_schema("status")),
            vec![(
                &["GET"],
                json!({ "status": { "description": "An alphanumeric identifier for the status.", "type": "string", "required": false },
                        "context": context_arg("view") }),
            )],
        ));
        v.push(doc(
            "wp/v2",
            "/wp/v2/taxonomies",
            Kind::Taxonomies,
            Some(named_schema("taxonomy")),
            vec![(
                &["GET"],
                json!({ "context": context_arg("view"),
                        "type": { "description": "Limit results to taxonomies associated with a specific post type.", "type": "string", "required": false } }),
            )],
        ));
        v.push(doc(
            "wp/v2",
            "/wp/v2/taxonomies/(?P<taxonomy>[\\w-]+)",
            Kind::Taxonomy,
            Some(named_schema("taxonomy")),
            vec![(
                &["GET"],
                json!({ "taxonomy": { "description": "An alphanumeric identifier for the taxonomy.", "type": "string", "required": false },
                        "context": context_arg("view") }),
            )],
        ));
        builtin_user_routes(&mut v, post_types);
        site_routes(&mut v, post_types);
        let stored: Value = serde_json::from_str(include_str!("schemas/comment.endpoints.json"))
            .unwrap_or(Value::Null);
        v.push(doc(
            "wp/v2",
            "/wp/v2/comments",
            Kind::Comments,
            Some(named_schema("comment")),
            endpoints_from(&stored["collection"]),
        ));
        v.push(doc(
            "wp/v2",
            "/wp/v2/comments/(?P<id>[\\d]+)",
            Kind::Comment,
            Some(named_schema("comment")),
            endpoints_from(&stored["item"]),
        ));
        Registry(v)
    }
}

/// The endpoints of a post type's collection and item routes: WordPress's for `post` (or
/// `page` when hierarchical), without the arguments of features the type does not support.
fn post_type_endpoints(pt: &PostType) -> (Endpoints, Endpoints) {
    let stored: Value = serde_json::from_str(if pt.hierarchical {
        include_str!("schemas/page.endpoints.json")
    } else {
        include_str!("schemas/post.endpoints.json")
    })
    .unwrap_or(Value::Null);
    let dropped = unsupported_fields(pt);
    let strip = |mut list: Endpoints| {
        for (_, args) in &mut list {
            if let Some(o) = args.as_object_mut() {
                o.retain(|k, _| !dropped.contains(&k.as_str()));
            }
        }
        list
    };
    let (mut collection, mut item) = (
        strip(endpoints_from(&stored["collection"])),
        strip(endpoints_from(&stored["item"])),
    );
    newer_read_args(&dropped, &mut collection, &mut item);
    (collection, item)
}

/// The read arguments newer WordPress registers on top of 6.1's (the stored lists), in the
/// current source's order: `search_semantics`, `search_columns`, `ignore_sticky` and
/// `format` on the collection (`get_collection_params()`), `excerpt_length` on the item
/// (`register_routes()`).
fn newer_read_args(dropped: &[&str], collection: &mut Endpoints, item: &mut Endpoints) {
    let get_args = |list: &mut Endpoints| {
        list.iter_mut()
            .find(|(m, _)| m.contains(&"GET"))
            .and_then(|(_, args)| args.as_object_mut().map(std::mem::take))
    };
    if let Some(args) = get_args(collection) {
        let mut out = Map::new();
        let has_menu_order = args.contains_key("menu_order");
        for (k, v) in args {
            if k == "slug" {
                out.insert(
                    "search_columns".into(),
                    json!({ "default": [], "description": "Array of column names to be searched.", "type": "array",
                            "items": { "enum": ["post_title", "post_content", "post_excerpt"], "type": "string" }, "required": false }),
                );
            }
            if k == "offset" && !has_menu_order {
                out.insert("search_semantics".into(), search_semantics());
            }
            out.insert(k.clone(), v);
            if k == "menu_order" {
                out.insert("search_semantics".into(), search_semantics());
            }
            if k == "sticky" {
                out.insert(
                    "ignore_sticky".into(),
                    json!({ "description": "Whether to ignore sticky posts or not.", "type": "boolean", "default": true, "required": false }),
                );
            }
        }
        if !dropped.contains(&"format") {
            out.insert(
                "format".into(),
                json!({ "description": "Limit result set to items assigned one or more given formats.", "type": "array",
                        "uniqueItems": true, "items": { "enum": super::posts::POST_FORMATS, "type": "string" }, "required": false }),
            );
        }
        set_get_args(collection, out);
    }
    if let Some(args) = get_args(item) {
        let mut out = Map::new();
        for (k, v) in args {
            if k == "password" && !dropped.contains(&"excerpt") {
                out.insert(
                    "excerpt_length".into(),
                    json!({ "description": "Override the default excerpt length.", "type": "integer", "required": false }),
                );
            }
            out.insert(k, v);
        }
        set_get_args(item, out);
    }
}

fn search_semantics() -> Value {
    json!({ "description": "How to interpret the search input.", "type": "string", "enum": ["exact"], "required": false })
}

fn set_get_args(list: &mut Endpoints, args: Map<String, Value>) {
    if let Some((_, a)) = list.iter_mut().find(|(m, _)| m.contains(&"GET")) {
        *a = Value::Object(args);
    }
}

/// Item fields (and write arguments) a post type does not have. WordPress decides by
/// `supports`, except that `post` and `page` have fixed field lists (`get_item_schema()`).
pub fn unsupported_fields(pt: &PostType) -> Vec<&'static str> {
    // What `post` and `page` have in common, then each one's own feature.
    const FIXED: &[&str] = &[
        "title",
        "editor",
        "author",
        "excerpt",
        "thumbnail",
        "comments",
        "revisions",
        "custom-fields",
    ];
    let has = |feature: &str| match pt.name.as_str() {
        "post" => FIXED.contains(&feature) || feature == "post-formats",
        "page" => FIXED.contains(&feature) || feature == "page-attributes",
        _ => pt.supports(feature),
    };
    let mut out = vec![];
    for (feature, fields) in [
        ("title", &["title"][..]),
        ("editor", &["content"]),
        ("author", &["author"]),
        ("excerpt", &["excerpt"]),
        ("thumbnail", &["featured_media"]),
        ("comments", &["comment_status", "ping_status"]),
        ("post-formats", &["format"]),
        ("custom-fields", &["meta"]),
        ("page-attributes", &["menu_order"]),
    ] {
        if !has(feature) {
            out.extend_from_slice(fields);
        }
    }
    if pt.name != "post" {
        // Only `post` has the category and post_tag taxonomies.
        out.extend_from_slice(&[
            "sticky",
            "categories",
            "tags",
            "categories_exclude",
            "tags_exclude",
            "tax_relation",
        ]);
    }
    // `template` needs a theme; WordPress shows it for post and page only.
    if !pt.builtin {
        out.push("template");
    }
    out
}

/// `WP_REST_Posts_Controller::get_item_schema()` for a post type.
fn post_type_schema(pt: &PostType) -> Value {
    let mut schema = named_schema(if pt.hierarchical { "page" } else { "post" });
    schema["title"] = json!(pt.name);
    let dropped = unsupported_fields(pt);
    if let Some(props) = schema["properties"].as_object_mut() {
        props.retain(|k, _| !dropped.contains(&k.as_str()));
        if let Some(meta) = props.get_mut("meta") {
            let mut properties = Map::new();
            for m in &pt.meta {
                let mut p = json!({ "type": m.ty.as_str(), "title": "", "description": m.description, "default": m.default });
                if !m.single {
                    p = json!({ "type": "array", "title": "", "description": m.description,
                                "default": m.default, "items": { "type": m.ty.as_str() } });
                }
                properties.insert(m.key.clone(), p);
            }
            meta["properties"] = Value::Object(properties);
        }
    }
    let base = &pt.rest_base;
    if let Some(links) = schema["links"].as_array_mut() {
        links.retain(|l| {
            let rel = l["rel"].as_str().unwrap_or_default();
            pt.name == "post"
                || !(rel.ends_with("action-sticky")
                    || rel.ends_with("categories")
                    || rel.ends_with("tags"))
        });
        for l in links {
            l["href"] = json!(format!("wp/v2/{base}/{{id}}"));
        }
    }
    schema
}

type Endpoints = Vec<(&'static [&'static str], Value)>;

/// `/wp/v2/media` and `/wp/v2/media/<id>`, with WordPress's arguments and schema.
fn media_routes(v: &mut Vec<RouteDoc>) {
    let stored: Value = serde_json::from_str(include_str!("schemas/attachment.endpoints.json"))
        .unwrap_or(Value::Null);
    v.push(doc(
        "wp/v2",
        "/wp/v2/media",
        Kind::Media,
        Some(named_schema("attachment")),
        endpoints_from(&stored["collection"]),
    ));
    v.push(doc(
        "wp/v2",
        "/wp/v2/media/(?P<id>[\\d]+)",
        Kind::MediaItem,
        Some(named_schema("attachment")),
        endpoints_from(&stored["item"]),
    ));
    let post_process: Value = serde_json::from_str(include_str!(
        "schemas/attachment-post-process.endpoints.json"
    ))
    .unwrap_or(Value::Null);
    v.push(doc(
        "wp/v2",
        "/wp/v2/media/(?P<id>[\\d]+)/post-process",
        Kind::MediaPostProcess,
        None,
        endpoints_from(&post_process["item"]),
    ));
    let edit: Value = serde_json::from_str(include_str!("schemas/attachment-edit.endpoints.json"))
        .unwrap_or(Value::Null);
    v.push(doc(
        "wp/v2",
        "/wp/v2/media/(?P<id>[\\d]+)/edit",
        Kind::MediaEdit,
        None,
        endpoints_from(&edit["item"]),
    ));
}

/// Settings, search, themes, plugins and the batch route, in WordPress's order of
/// registration (`create_initial_rest_routes()`, then `WP_REST_Server`'s own batch route).
fn site_routes(v: &mut Vec<RouteDoc>, post_types: &[PostType]) {
    let settings: Value = serde_json::from_str(include_str!("schemas/settings.endpoints.json"))
        .unwrap_or(Value::Null);
    let mut search = endpoints_from(&SITE_ROUTES["search"]["endpoints"]);
    // `subtype` lists the searchable post types and taxonomies, then `any`.
    let mut subtypes: Vec<Value> = post_types
        .iter()
        .filter(|pt| pt.name != "attachment")
        .map(|pt| json!(pt.name))
        .collect();
    subtypes.extend(super::terms::TAXONOMIES.iter().map(|t| json!(t.name)));
    let mut schema_subtypes = subtypes.clone();
    subtypes.push(json!("any"));
    for (_, args) in &mut search {
        args["subtype"]["items"]["enum"] = Value::Array(subtypes.clone());
    }
    let mut search_schema = named_schema("search");
    search_schema["properties"]["subtype"]["enum"] =
        Value::Array(std::mem::take(&mut schema_subtypes));
    v.push(doc(
        "wp/v2",
        "/wp/v2/settings",
        Kind::Settings,
        Some(named_schema("settings")),
        endpoints_from(&settings["item"]),
    ));
    v.push(doc(
        "wp/v2",
        "/wp/v2/search",
        Kind::Search,
        Some(search_schema),
        search,
    ));
    v.push(doc(
        "wp/v2",
        "/wp/v2/themes",
        Kind::Themes,
        Some(named_schema("themes")),
        endpoints_from(&SITE_ROUTES["themes"]["endpoints"]),
    ));
    v.push(doc(
        "wp/v2",
        "/wp/v2/themes/(?P<stylesheet>[^\\/:<>\\*\\?\"\\|]+(?:\\/[^\\/:<>\\*\\?\"\\|]+)?)",
        Kind::Theme,
        Some(named_schema("themes")),
        endpoints_from(&SITE_ROUTES["theme"]["endpoints"]),
    ));
    v.push(doc(
        "wp/v2",
        "/wp/v2/plugins",
        Kind::Plugins,
        Some(named_schema("plugins")),
        endpoints_from(&SITE_ROUTES["plugins"]["endpoints"]),
    ));
    v.push(doc(
        "wp/v2",
        "/wp/v2/plugins/(?P<plugin>[^.\\/]+(?:\\/[^.\\/]+)?)",
        Kind::Plugin,
        Some(named_schema("plugins")),
        endpoints_from(&SITE_ROUTES["plugin"]["endpoints"]),
    ));
    v.push(doc(
        "",
        "/batch/v1",
        Kind::Batch,
        None,
        endpoints_from(&SITE_ROUTES["batch"]["endpoints"]),
    ));
}

fn builtin_user_routes(v: &mut Vec<RouteDoc>, post_types: &[PostType]) {
    let mut users: Value =
        serde_json::from_str(include_str!("schemas/user.endpoints.json")).unwrap_or(Value::Null);
    // `has_published_posts` names the post types shown in REST.
    let enum_of: Map<String, Value> = post_types
        .iter()
        .map(|pt| (pt.name.clone(), json!(pt.name)))
        .collect();
    users["collection"][0]["args"]["has_published_posts"]["items"]["enum"] = Value::Object(enum_of);
    for (route, kind, key) in [
        ("/wp/v2/users", Kind::Users, "collection"),
        ("/wp/v2/users/(?P<id>[\\d]+)", Kind::User, "item"),
        ("/wp/v2/users/me", Kind::UsersMe, "me"),
    ] {
        v.push(doc(
            "wp/v2",
            route,
            kind,
            Some(named_schema("user")),
            endpoints_from(&users[key]),
        ));
    }
    let ap_item = json!({
        "app_id": { "description": "A uuid provided by the application to uniquely identify it. It is recommended to use an UUID v5 with the URL or DNS namespace.",
                    "oneOf": [{ "type": "string", "format": "uuid" }, { "type": "string", "enum": [""] }], "required": false },
        "name": { "description": "The name of the application password.", "type": "string", "minLength": 1, "pattern": ".*\\S.*", "required": true },
        "expires": { "description": "When the application password stops working (RFC 3339), or null for never (a ferropress addition).",
                     "type": ["string", "null"], "format": "date-time", "required": false },
        "scopes": { "description": "What the application password may do (a ferropress addition).",
                    "type": "array", "items": { "type": "string" }, "required": false }
    });
    let mut ap_update = ap_item.clone();
    ap_update["name"]["required"] = json!(false);
    let ap = || Some(named_schema("application-password"));
    v.push(doc(
        "wp/v2",
        "/wp/v2/users/(?P<user_id>(?:[\\d]+|me))/application-passwords",
        Kind::AppPasswords,
        ap(),
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
        ap(),
        vec![(&["GET"], json!({ "context": context_arg("view") }))],
    ));
    v.push(doc(
        "wp/v2",
        "/wp/v2/users/(?P<user_id>(?:[\\d]+|me))/application-passwords/(?P<uuid>[\\w\\-]+)",
        Kind::AppPassword,
        ap(),
        vec![
            (&["GET"], json!({ "context": context_arg("view") })),
            (&["POST", "PUT", "PATCH"], ap_update),
            (&["DELETE"], json!([])),
        ],
    ));
    // ferropress's rotation (issue 18): a new secret for the same token.
    v.push(doc(
        "wp/v2",
        "/wp/v2/users/(?P<user_id>(?:[\\d]+|me))/application-passwords/(?P<uuid>[\\w\\-]+)/rotate",
        Kind::AppPassword,
        ap(),
        vec![(
            &["POST"],
            json!({ "grace": { "description": "How long the old secret keeps working: seconds or a duration such as 1h (default 0).",
                               "type": ["integer", "string"], "required": false } }),
        )],
    ));
}
