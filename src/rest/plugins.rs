//! `/wp/v2/plugins`: `WP_REST_Plugins_Controller` (`class-wp-rest-plugins-controller.php`)
//! on a site where no plugin is installed and none can be: the list is empty, every plugin
//! is not found, and an installation fails as WordPress's does when it cannot reach
//! WordPress.org (`plugins_api_failed`). Permission checks are WordPress's, in its order.

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::caps::Cap;
use crate::error::{WpError, WpResult};
use crate::site::Site;

use super::json_response;
use super::params::{Params, Validator};

pub fn routes() -> Router<Arc<Site>> {
    Router::new()
        .route("/wp/v2/plugins", get(get_items).post(create_item))
        .route(
            "/wp/v2/plugins/{*plugin}",
            get(get_item)
                .post(update_item)
                .put(update_item)
                .patch(update_item)
                .delete(delete_item),
        )
}

fn can(auth: &Auth, cap: &str) -> bool {
    auth.actor().can(Cap::Primitive(cap))
}

fn refuse(auth: &Auth, code: &'static str, message: &'static str) -> WpError {
    WpError::auth_required(auth.actor().logged_in(), code, message)
}

/// For `Allow` on the collection (`activate_plugins` reads, `install_plugins` creates).
/// On an item route no method is allowed: no plugin exists for a check to pass on.
pub fn allowed(auth: &Auth, item: bool) -> Vec<&'static str> {
    let mut m = vec![];
    if !item && can(auth, "activate_plugins") {
        m.push("GET");
    }
    if !item && can(auth, "install_plugins") {
        m.push("POST");
    }
    m
}

fn plugin_not_found() -> WpError {
    WpError::new(
        StatusCode::NOT_FOUND,
        "rest_plugin_not_found",
        "Plugin not found.",
    )
}

fn check_context_and_status(params: &Params, status: bool) -> WpResult<()> {
    let mut v = Validator::new(params);
    let _ = v.context();
    if status {
        let _ = v.one_of("status", &["inactive", "active"]);
    }
    v.finish()
}

/// `get_items()`: no plugin is installed.
async fn get_items(auth: Auth, params: Params) -> WpResult<Response> {
    let mut v = Validator::new(&params);
    let _ = v.context();
    let _ = v.string("search");
    if let Some(list) = v.string_list("status")
        && let Some(i) = list.iter().position(|s| s != "active" && s != "inactive")
    {
        v.invalid(
            "status",
            "rest_not_in_enum",
            format!("status[{i}] is not one of inactive and active."),
            Value::Null,
        );
    }
    v.finish()?;
    if !can(&auth, "activate_plugins") {
        return Err(refuse(
            &auth,
            "rest_cannot_view_plugins",
            "Sorry, you are not allowed to manage plugins for this site.",
        ));
    }
    Ok(json_response(StatusCode::OK, &Value::Array(vec![])))
}

/// `create_item()`: installing from WordPress.org is not possible here; WordPress answers
/// so when it cannot reach the directory.
async fn create_item(auth: Auth, params: Params) -> WpResult<Response> {
    let mut v = Validator::new(&params);
    v.require("slug");
    let _ = v.string("slug");
    let status = v.one_of("status", &["inactive", "active"]);
    v.finish()?;
    if !can(&auth, "install_plugins") {
        return Err(refuse(
            &auth,
            "rest_cannot_install_plugin",
            "Sorry, you are not allowed to install plugins on this site.",
        ));
    }
    if status == Some("active") && !can(&auth, "activate_plugins") {
        return Err(refuse(
            &auth,
            "rest_cannot_activate_plugin",
            "Sorry, you are not allowed to activate plugins.",
        ));
    }
    let mut e = WpError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "plugins_api_failed",
        "An unexpected error occurred. Something may be wrong with WordPress.org or this server&#8217;s configuration. If you continue to have problems, please try the <a href=\"https://wordpress.org/support/forums/\">support forums</a>.",
    );
    // The underlying error, as WordPress adds the HTTP failure's message.
    e.additional = Some(Box::new(json!(["ferropress does not install plugins."])));
    Err(e)
}

async fn get_item(auth: Auth, Path(plugin): Path<String>, params: Params) -> WpResult<Response> {
    check_plugin_param(&plugin)?;
    check_context_and_status(&params, false)?;
    if !can(&auth, "activate_plugins") {
        return Err(refuse(
            &auth,
            "rest_cannot_view_plugin",
            "Sorry, you are not allowed to manage plugins for this site.",
        ));
    }
    Err(plugin_not_found())
}

async fn update_item(auth: Auth, Path(plugin): Path<String>, params: Params) -> WpResult<Response> {
    check_plugin_param(&plugin)?;
    check_context_and_status(&params, true)?;
    if !can(&auth, "activate_plugins") {
        return Err(refuse(
            &auth,
            "rest_cannot_manage_plugins",
            "Sorry, you are not allowed to manage plugins for this site.",
        ));
    }
    Err(plugin_not_found())
}

async fn delete_item(auth: Auth, Path(plugin): Path<String>, params: Params) -> WpResult<Response> {
    check_plugin_param(&plugin)?;
    check_context_and_status(&params, false)?;
    if !can(&auth, "activate_plugins") || !can(&auth, "delete_plugins") {
        return Err(refuse(
            &auth,
            "rest_cannot_manage_plugins",
            "Sorry, you are not allowed to manage plugins for this site.",
        ));
    }
    Err(plugin_not_found())
}

/// The route's pattern, `[^.\/]+(?:\/[^.\/]+)?`: one or two segments without dots.
fn check_plugin_param(plugin: &str) -> WpResult<()> {
    let segments: Vec<&str> = plugin.split('/').collect();
    if segments.len() > 2 || segments.iter().any(|s| s.is_empty() || s.contains('.')) {
        return Err(WpError::rest_no_route());
    }
    Ok(())
}
