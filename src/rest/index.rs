//! Discovery: the API index `GET /wp-json/` and the namespace index `GET /wp-json/wp/v2`
//! (`WP_REST_Server::get_index`, `get_namespace_index`).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::site::Site;

use super::json_response;
use super::params::{Params, Validator};

pub fn routes() -> Router<Arc<Site>> {
    Router::new()
        .route("/", get(get_index))
        .route("/wp/v2", get(get_namespace_index))
}

/// One registered route as the index describes it.
struct RouteDoc {
    namespace: &'static str,
    route: &'static str,
    endpoints: Vec<(&'static [&'static str], Value)>,
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
        RouteDoc {
            namespace: "",
            route: "/",
            endpoints: vec![(
                &["GET"],
                json!({ "context": { "default": "view", "required": false } }),
            )],
        },
        RouteDoc {
            namespace: "wp/v2",
            route: "/wp/v2",
            endpoints: vec![(
                &["GET"],
                json!({ "namespace": { "default": "wp/v2", "required": false }, "context": { "default": "view", "required": false } }),
            )],
        },
    ];
    for (collection, item) in [
        ("/wp/v2/posts", "/wp/v2/posts/(?P<id>[\\d]+)"),
        ("/wp/v2/pages", "/wp/v2/pages/(?P<id>[\\d]+)"),
    ] {
        v.push(RouteDoc {
            namespace: "wp/v2",
            route: collection,
            endpoints: vec![
                (&["GET"], collection_args()),
                (&["POST"], create_post_args()),
            ],
        });
        v.push(RouteDoc {
            namespace: "wp/v2",
            route: item,
            endpoints: vec![(&["GET"], item_args())],
        });
    }
    v.push(RouteDoc {
        namespace: "wp/v2",
        route: "/wp/v2/users/(?P<id>[\\d]+)",
        endpoints: vec![(&["GET"], json!({ "id": { "description": "Unique identifier for the user.", "type": "integer", "required": false }, "context": context_arg("view") }))],
    });
    let ap_item = json!({
        "app_id": { "description": "A uuid provided by the application to uniquely identify it. It is recommended to use an UUID v5 with the URL or DNS namespace.",
                    "oneOf": [{ "type": "string", "format": "uuid" }, { "type": "string", "enum": [""] }], "required": false },
        "name": { "description": "The name of the application password.", "type": "string", "minLength": 1, "pattern": ".*\\S.*", "required": true }
    });
    let mut ap_update = ap_item.clone();
    ap_update["name"]["required"] = json!(false);
    v.push(RouteDoc {
        namespace: "wp/v2",
        route: "/wp/v2/users/(?P<user_id>(?:[\\d]+|me))/application-passwords",
        endpoints: vec![
            (&["GET"], json!({ "context": context_arg("view") })),
            (&["POST"], ap_item),
            (&["DELETE"], json!({})),
        ],
    });
    v.push(RouteDoc {
        namespace: "wp/v2",
        route: "/wp/v2/users/(?P<user_id>(?:[\\d]+|me))/application-passwords/introspect",
        endpoints: vec![(&["GET"], json!({ "context": context_arg("view") }))],
    });
    v.push(RouteDoc {
        namespace: "wp/v2",
        route: "/wp/v2/users/(?P<user_id>(?:[\\d]+|me))/application-passwords/(?P<uuid>[\\w\\-]+)",
        endpoints: vec![
            (&["GET"], json!({ "context": context_arg("view") })),
            (&["POST", "PUT", "PATCH"], ap_update),
            (&["DELETE"], json!({})),
        ],
    });
    v.push(RouteDoc {
        namespace: "wp/v2",
        route: "/wp/v2/users/me",
        endpoints: vec![(&["GET"], json!({ "context": context_arg("view") }))],
    });
    v
}

fn route_data(site: &Site, doc: &RouteDoc) -> Value {
    let mut methods: Vec<&str> = vec![];
    let mut endpoints = vec![];
    for (m, args) in &doc.endpoints {
        for x in *m {
            if !methods.contains(x) {
                methods.push(x);
            }
        }
        endpoints.push(json!({ "methods": m, "args": args }));
    }
    let mut data = Map::new();
    data.insert("namespace".into(), json!(doc.namespace));
    data.insert("methods".into(), json!(methods));
    data.insert("endpoints".into(), Value::Array(endpoints));
    if !doc.route.contains("(?P<") {
        data.insert(
            "_links".into(),
            json!({ "self": [{ "href": site.config.rest_url(doc.route) }] }),
        );
    }
    Value::Object(data)
}

fn routes_map(site: &Site, namespace: Option<&str>) -> Map<String, Value> {
    registry()
        .iter()
        .filter(|d| namespace.is_none_or(|ns| d.namespace == ns))
        .map(|d| (d.route.to_owned(), route_data(site, d)))
        .collect()
}

async fn get_index(
    State(site): State<Arc<Site>>,
    transport: super::Transport,
    params: Params,
) -> Result<Response, crate::error::WpError> {
    let mut v = Validator::new(&params);
    let _ = v.string("context");
    v.finish()?;
    let store = &site.store;
    let name = store.get_option("blogname").await?.unwrap_or_default();
    let description = store
        .get_option("blogdescription")
        .await?
        .unwrap_or_default();
    let timezone = store
        .get_option("timezone_string")
        .await?
        .unwrap_or_default();
    let gmt_offset = store
        .get_option("gmt_offset")
        .await?
        .unwrap_or_else(|| "0".into());
    let home = format!("{}/", site.config.home);

    let authentication = if site.config.app_passwords_available(transport.https) {
        json!({ "application-passwords": { "endpoints": {
            "authorization": format!("{}/wp-admin/authorize-application.php", site.config.home) } } })
    } else {
        json!([])
    };
    let body = json!({
        "name": name,
        "description": description,
        "url": home.trim_end_matches('/'),
        "home": home.trim_end_matches('/'),
        "gmt_offset": gmt_offset,
        "timezone_string": timezone,
        "page_for_posts": 0,
        "page_on_front": 0,
        "show_on_front": "posts",
        "namespaces": ["wp/v2"],
        "authentication": authentication,
        "routes": Value::Object(routes_map(&site, None)),
        "site_logo": 0,
        "site_icon": 0,
        "site_icon_url": "",
        "_links": {
            "help": [{ "href": "https://developer.wordpress.org/rest-api/" }],
        }
    });
    Ok(json_response(StatusCode::OK, &body))
}

async fn get_namespace_index(State(site): State<Arc<Site>>) -> Response {
    let body = json!({
        "namespace": "wp/v2",
        "routes": Value::Object(routes_map(&site, Some("wp/v2"))),
        "_links": { "up": [{ "href": site.config.rest_url("") }] }
    });
    json_response(StatusCode::OK, &body)
}
