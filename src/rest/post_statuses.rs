//! `/wp/v2/statuses`: `WP_REST_Post_Statuses_Controller`
//! (`class-wp-rest-post-statuses-controller.php`).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::auth::Auth;
use crate::caps::Cap;
use crate::error::{WpError, WpResult};
use crate::site::Site;

use super::json_response;
use super::params::{Context, Params, Validator};
use super::registry::filter_by_context;

pub fn routes() -> Router<Arc<Site>> {
    Router::new()
        .route("/wp/v2/statuses", get(get_items))
        .route("/wp/v2/statuses/{status}", get(get_item))
}

/// The statuses the REST API shows: (slug, name, private, protected, public, show_in_list,
/// date_floating), as `register_post_status()` registers them.
const STATUSES: &[(&str, &str, bool, bool, bool, bool, bool)] = &[
    ("publish", "Published", false, false, true, true, false),
    ("future", "Scheduled", false, true, false, true, false),
    ("draft", "Draft", false, true, false, true, true),
    ("pending", "Pending", false, true, false, true, true),
    ("private", "Private", true, false, false, true, false),
    ("trash", "Trash", false, false, false, false, false),
];

/// Whether the user may edit posts of some type: what non-public statuses and the edit
/// context require.
fn can_edit_some_type(site: &Site, auth: &Auth) -> bool {
    let actor = auth.actor();
    site.config
        .post_types
        .iter()
        .any(|t| actor.can(Cap::Primitive(&t.caps.edit_posts)))
}

/// For `Allow`: the collection's check (the edit context needs an editor), or one status's
/// (non-public ones need an editor; the item check ignores the context).
pub fn allowed(site: &Site, auth: &Auth, edit: bool, status: Option<&str>) -> Vec<&'static str> {
    let editor = can_edit_some_type(site, auth);
    let ok = match status {
        None => !edit || editor,
        Some(slug) => STATUSES
            .iter()
            .find(|s| s.0 == slug)
            .is_some_and(|s| s.4 || editor),
    };
    if ok { vec!["GET"] } else { vec![] }
}

fn prepare_item(
    site: &Site,
    s: &(&str, &str, bool, bool, bool, bool, bool),
    ctx: Context,
) -> Value {
    let (slug, name, private, protected, public, show_in_list, date_floating) = *s;
    let base = site.config.rest_url("wp/v2/posts");
    let archives = if slug == "publish" {
        base
    } else {
        format!("{base}?status={slug}")
    };
    let item = json!({
        "name": name, "private": private, "protected": protected, "public": public,
        "queryable": public, "show_in_list": show_in_list, "slug": slug,
        "date_floating": date_floating,
        "_links": { "archives": [{ "href": archives }] }
    });
    filter_by_context(item, "status", ctx)
}

fn context(params: &Params) -> WpResult<Context> {
    let mut v = Validator::new(params);
    let ctx = v.context();
    v.finish()?;
    Ok(ctx)
}

fn forbidden(auth: &Auth) -> WpError {
    WpError::auth_required(
        auth.logged_in(),
        "rest_cannot_view",
        "Sorry, you are not allowed to manage post statuses.",
    )
}

/// `GET /wp/v2/statuses`: public statuses for everyone, the others for users who can edit.
async fn get_items(
    State(site): State<Arc<Site>>,
    auth: Auth,
    params: Params,
) -> WpResult<Response> {
    let ctx = context(&params)?;
    let editor = can_edit_some_type(&site, &auth);
    if ctx == Context::Edit && !editor {
        return Err(forbidden(&auth));
    }
    let out: Map<String, Value> = STATUSES
        .iter()
        .filter(|s| s.4 || editor)
        .map(|s| (s.0.to_owned(), prepare_item(&site, s, ctx)))
        .collect();
    Ok(json_response(StatusCode::OK, &Value::Object(out)))
}

/// `GET /wp/v2/statuses/<status>`.
async fn get_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path(slug): Path<String>,
    params: Params,
) -> WpResult<Response> {
    let ctx = context(&params)?;
    // Registered but internal to WordPress: nobody may read them.
    if slug == "auto-draft" || slug == "inherit" {
        return Err(WpError::auth_required(
            auth.logged_in(),
            "rest_cannot_read_status",
            "Cannot view status.",
        ));
    }
    let Some(status) = STATUSES.iter().find(|s| s.0 == slug) else {
        return Err(WpError::new(
            StatusCode::NOT_FOUND,
            "rest_status_invalid",
            "Invalid status.",
        ));
    };
    if !status.4 && !can_edit_some_type(&site, &auth) {
        return Err(WpError::auth_required(
            auth.logged_in(),
            "rest_cannot_read_status",
            "Cannot view status.",
        ));
    }
    Ok(json_response(
        StatusCode::OK,
        &prepare_item(&site, status, ctx),
    ))
}
