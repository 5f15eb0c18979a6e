//! `/wp/v2/themes`: `WP_REST_Themes_Controller` (`class-wp-rest-themes-controller.php`).
//! ferropress serves no front end, so exactly one theme is installed and active: a built-in
//! headless one whose `theme_supports` tells clients what the API supports (featured
//! images, every post format) and what it does not (menus, widgets, block templates, …).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::caps;
use crate::error::{WpError, WpResult};
use crate::site::Site;

use super::json_response;
use super::params::{Params, Validator};

/// The stylesheet (directory name) of the built-in theme.
pub const STYLESHEET: &str = "ferropress";

pub fn routes() -> Router<Arc<Site>> {
    Router::new()
        .route("/wp/v2/themes", get(get_items))
        // Stylesheets may hold one slash (`parent/child`), as the route pattern allows.
        .route("/wp/v2/themes/{stylesheet}", get(get_item))
        .route("/wp/v2/themes/{dir}/{stylesheet}", get(get_nested_item))
}

fn cannot_view_themes(logged_in: bool) -> WpError {
    WpError::auth_required(
        logged_in,
        "rest_cannot_view_themes",
        "Sorry, you are not allowed to view themes.",
    )
}

/// `check_read_active_theme_permission()`.
fn check_read_active_theme_permission(site: &Site, auth: &Auth) -> WpResult<()> {
    let actor = auth.actor();
    let edit_caps = site
        .config
        .post_types
        .iter()
        .map(|pt| pt.caps.edit_posts.as_str());
    if caps::can_read_active_theme(&actor, edit_caps) {
        Ok(())
    } else {
        Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_view_active_theme",
            "Sorry, you are not allowed to view the active theme.",
        ))
    }
}

/// For `Allow`: the routes have `GET` only; it is listed for those who may read the
/// active theme (the route's own check depends on `status`, which `Allow` ignores).
pub fn allowed(site: &Site, auth: &Auth) -> Vec<&'static str> {
    let actor = auth.actor();
    if caps::can_view_themes(&actor) || check_read_active_theme_permission(site, auth).is_ok() {
        vec!["GET"]
    } else {
        vec![]
    }
}

/// `get_theme_support()` of each feature the schema lists, as the headless theme declares
/// them: `post-thumbnails` (posts have `featured_media`) and every post format.
fn theme_supports() -> Value {
    json!({
        "align-wide": false,
        "automatic-feed-links": false,
        "block-templates": false,
        "block-template-parts": false,
        "custom-background": false,
        "custom-header": false,
        "custom-logo": false,
        "customize-selective-refresh-widgets": false,
        "dark-editor-style": false,
        "disable-custom-colors": false,
        "disable-custom-font-sizes": false,
        "disable-custom-gradients": false,
        "disable-layout-styles": false,
        "editor-color-palette": false,
        "editor-font-sizes": false,
        "editor-gradient-presets": false,
        "editor-styles": false,
        "html5": false,
        "formats": ["standard", "aside", "chat", "gallery", "link", "image", "quote", "status", "video", "audio"],
        "post-thumbnails": true,
        "responsive-embeds": false,
        "title-tag": false,
        "wp-block-styles": false
    })
}

/// `prepare_item_for_response()` for the built-in theme.
fn prepare_item(site: &Site) -> Value {
    let version = env!("CARGO_PKG_VERSION");
    let uri = "https://github.com/ferropress/ferropress";
    let description = "The built-in theme of ferropress, a headless WordPress REST API server: \
                       it renders nothing and declares what the API supports.";
    json!({
        "stylesheet": STYLESHEET,
        "template": STYLESHEET,
        "requires_php": "",
        "requires_wp": "",
        "textdomain": STYLESHEET,
        "version": version,
        "screenshot": "",
        "author": { "raw": "ferropress", "rendered": format!("<a href=\"{uri}\">ferropress</a>") },
        "author_uri": { "raw": uri, "rendered": uri },
        "description": { "raw": description, "rendered": description },
        "name": { "raw": "ferropress (headless)", "rendered": "ferropress (headless)" },
        "tags": { "raw": [], "rendered": "" },
        "theme_uri": { "raw": uri, "rendered": uri },
        "status": "active",
        "theme_supports": theme_supports(),
        "_links": {
            "self": [{ "href": site.config.rest_url(&format!("wp/v2/themes/{STYLESHEET}")) }],
            "collection": [{ "href": site.config.rest_url("wp/v2/themes") }],
        }
    })
}

/// `get_items()`: the one theme, unless `status` asks for inactive themes only.
async fn get_items(
    State(site): State<Arc<Site>>,
    auth: Auth,
    params: Params,
) -> WpResult<Response> {
    let mut v = Validator::new(&params);
    let mut statuses = None;
    if let Some(list) = v.string_list("status") {
        if let Some(i) = list.iter().position(|s| s != "active" && s != "inactive") {
            v.invalid(
                "status",
                "rest_not_in_enum",
                format!("status[{i}] is not one of active and inactive."),
                Value::Null,
            );
        }
        statuses = Some(list);
    }
    v.finish()?;
    // `get_items_permissions_check()`: all themes need `switch_themes`; `status=active`
    // alone is enough for those who can edit posts.
    let actor = auth.actor();
    if !caps::can_view_themes(&actor) {
        if statuses.as_deref() == Some(&["active".to_owned()][..]) {
            check_read_active_theme_permission(&site, &auth)?;
        } else {
            return Err(cannot_view_themes(actor.logged_in()));
        }
    }
    let active_wanted = statuses
        .as_ref()
        .is_none_or(|s| s.iter().any(|x| x == "active"));
    let items = if active_wanted {
        vec![prepare_item(&site)]
    } else {
        vec![]
    };
    let total = items.len();
    let mut resp = json_response(StatusCode::OK, &Value::Array(items));
    let h = resp.headers_mut();
    h.insert(super::X_WP_TOTAL.clone(), total.into());
    h.insert(super::X_WP_TOTAL_PAGES.clone(), 1.into());
    Ok(resp)
}

async fn get_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path(stylesheet): Path<String>,
) -> WpResult<Response> {
    theme(&site, &auth, &stylesheet)
}

async fn get_nested_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path((dir, stylesheet)): Path<(String, String)>,
) -> WpResult<Response> {
    theme(&site, &auth, &format!("{dir}/{stylesheet}"))
}

/// `get_item_permissions_check()` then `get_item()`.
fn theme(site: &Site, auth: &Auth, stylesheet: &str) -> WpResult<Response> {
    let actor = auth.actor();
    let active = stylesheet == STYLESHEET;
    if !caps::can_view_themes(&actor) {
        if active {
            check_read_active_theme_permission(site, auth)?;
        } else {
            return Err(cannot_view_themes(actor.logged_in()));
        }
    }
    if !active {
        return Err(WpError::new(
            StatusCode::NOT_FOUND,
            "rest_theme_not_found",
            "Theme not found.",
        ));
    }
    Ok(json_response(StatusCode::OK, &prepare_item(site)))
}
