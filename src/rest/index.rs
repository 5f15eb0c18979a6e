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

use super::params::{Params, Validator};
use super::{json_response, registry};

pub fn routes() -> Router<Arc<Site>> {
    Router::new()
        .route("/", get(get_index))
        .route("/wp/v2", get(get_namespace_index))
}

fn routes_map(site: &Site, namespace: Option<&str>) -> Map<String, Value> {
    registry::all(site)
        .iter()
        .filter(|d| namespace.is_none_or(|ns| d.namespace == ns))
        .map(|d| (d.route.to_owned(), registry::route_data(site, d, false)))
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
    // `wp_timezone_override_offset()`: with a time zone set, the offset is computed from it
    // now (a float of hours); otherwise the stored option.
    let gmt_offset = match jiff::tz::TimeZone::get(&timezone) {
        Ok(tz) if super::settings::is_valid_timezone(&timezone) => {
            let secs = tz.to_offset(jiff::Timestamp::now()).seconds();
            json!((f64::from(secs) / 36.0).round() / 100.0)
        }
        _ => json!(
            store
                .get_option("gmt_offset")
                .await?
                .unwrap_or_else(|| "0".into())
        ),
    };
    // Reading settings of `/wp/v2/settings`, read per request like the others.
    let int_option = |v: Option<String>| v.and_then(|s| s.trim().parse::<i64>().ok()).unwrap_or(0);
    let page_for_posts = int_option(store.get_option("page_for_posts").await?);
    let page_on_front = int_option(store.get_option("page_on_front").await?);
    let show_on_front = store
        .get_option("show_on_front")
        .await?
        .unwrap_or_else(|| "posts".into());
    let site_logo = int_option(store.get_option("site_logo").await?);
    let site_icon = int_option(store.get_option("site_icon").await?);
    // `get_site_icon_url()`: the icon's file (WordPress picks its 512-pixel size when it has one).
    let site_icon_url = super::media::attachment_url(&site, site_icon)
        .await?
        .unwrap_or_default();
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
        "page_for_posts": page_for_posts,
        "page_on_front": page_on_front,
        "show_on_front": show_on_front,
        "namespaces": ["wp/v2"],
        "authentication": authentication,
        "routes": Value::Object(routes_map(&site, None)),
        "site_logo": site_logo,
        "site_icon": site_icon,
        "site_icon_url": site_icon_url,
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
