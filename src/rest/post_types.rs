//! `/wp/v2/types`: `WP_REST_Post_Types_Controller` (`class-wp-rest-post-types-controller.php`).

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
use crate::post_types::PostType;
use crate::site::Site;

use super::json_response;
use super::params::{Context, Params, Validator};
use super::registry::filter_by_context;

pub fn routes() -> Router<Arc<Site>> {
    Router::new()
        .route("/wp/v2/types", get(get_items))
        .route("/wp/v2/types/{type}", get(get_item))
}

/// The stored WordPress object of `post` or `page`, the template for other types.
fn template(pt: &PostType) -> Value {
    let text = if pt.hierarchical {
        include_str!("schemas/page.type.json")
    } else {
        include_str!("schemas/post.type.json")
    };
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// `prepare_item_for_response()` in the edit context; `filter_by_context` trims it.
fn prepare_item(site: &Site, pt: &PostType) -> Value {
    let mut t = template(pt);
    if !pt.builtin {
        let caps = &pt.caps;
        t["capabilities"] = json!({
            "edit_post": format!("edit_{}", pt.name), "read_post": format!("read_{}", pt.name),
            "delete_post": format!("delete_{}", pt.name), "edit_posts": caps.edit_posts,
            "edit_others_posts": caps.edit_others_posts, "delete_posts": caps.delete_posts,
            "publish_posts": caps.publish_posts, "read_private_posts": caps.read_private_posts,
            "read": "read", "delete_private_posts": caps.delete_private_posts,
            "delete_published_posts": caps.delete_published_posts,
            "delete_others_posts": caps.delete_others_posts,
            "edit_private_posts": caps.edit_private_posts,
            "edit_published_posts": caps.edit_published_posts, "create_posts": caps.create_posts
        });
        t["description"] = json!(pt.description);
        t["icon"] = Value::Null;
        t["taxonomies"] = json!([]);
        t["supports"] = Value::Object(
            pt.supports
                .iter()
                .map(|s| (s.clone(), json!(true)))
                .collect::<Map<_, _>>(),
        );
        if let Some(labels) = t["labels"].as_object_mut() {
            let name = pt.label("name").unwrap_or(&pt.name).to_owned();
            let singular = pt.label("singular_name").unwrap_or(&name).to_owned();
            // `_get_custom_object_labels()`: these follow the given names.
            labels.insert("menu_name".into(), json!(name));
            labels.insert("all_items".into(), json!(name));
            labels.insert("archives".into(), json!(name));
            labels.insert("name_admin_bar".into(), json!(singular));
            for (k, v) in &pt.labels {
                labels.insert(k.clone(), json!(v));
            }
        }
    }
    t["name"] = json!(pt.label("name").unwrap_or(&pt.name));
    t["slug"] = json!(pt.name);
    t["hierarchical"] = json!(pt.hierarchical);
    t["rest_base"] = json!(pt.rest_base);
    t["rest_namespace"] = json!("wp/v2");
    t["_links"] = json!({
        "collection": [{ "href": site.config.rest_url("wp/v2/types") }],
        "wp:items": [{ "href": site.config.rest_url(&format!("wp/v2/{}", pt.rest_base)) }],
        "curies": [{ "name": "wp", "href": "https://api.w.org/{rel}", "templated": true }]
    });
    t
}

fn respond_item(site: &Site, pt: &PostType, ctx: Context) -> Value {
    filter_by_context(prepare_item(site, pt), "type", ctx)
}

/// Edit context needs `edit_posts` on some type (`get_items_permissions_check`).
fn check_edit(site: &Site, auth: &Auth, ctx: Context) -> WpResult<()> {
    if ctx != Context::Edit {
        return Ok(());
    }
    let actor = auth.actor();
    let can = site
        .config
        .post_types
        .iter()
        .any(|t| actor.can(Cap::Primitive(&t.caps.edit_posts)));
    if can {
        Ok(())
    } else {
        Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_view",
            "Sorry, you are not allowed to edit posts in this post type.",
        ))
    }
}

/// For `Allow` on `/wp/v2/types`: the edit context needs `edit_posts` on some type.
pub fn allowed(site: &Site, auth: &Auth, edit: bool) -> Vec<&'static str> {
    if check_edit(site, auth, if edit { Context::Edit } else { Context::View }).is_ok() {
        vec!["GET"]
    } else {
        vec![]
    }
}

/// `GET /wp/v2/types`: an object keyed by type name.
async fn get_items(
    State(site): State<Arc<Site>>,
    auth: Auth,
    params: Params,
) -> WpResult<Response> {
    let mut v = Validator::new(&params);
    let ctx = v.context();
    v.finish()?;
    check_edit(&site, &auth, ctx)?;
    let actor = auth.actor();
    let mut out = Map::new();
    for pt in &site.config.post_types {
        // In the edit context, only the types the user can edit.
        if ctx == Context::Edit && !actor.can(Cap::Primitive(&pt.caps.edit_posts)) {
            continue;
        }
        out.insert(pt.name.clone(), respond_item(&site, pt, ctx));
    }
    Ok(json_response(StatusCode::OK, &Value::Object(out)))
}

/// `GET /wp/v2/types/<type>`.
async fn get_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path(name): Path<String>,
    params: Params,
) -> WpResult<Response> {
    let mut v = Validator::new(&params);
    let ctx = v.context();
    v.finish()?;
    let Some(pt) = site.post_type(&name) else {
        return Err(WpError::new(
            StatusCode::NOT_FOUND,
            "rest_type_invalid",
            "Invalid post type.",
        ));
    };
    if ctx == Context::Edit && !auth.actor().can(Cap::Primitive(&pt.caps.edit_posts)) {
        return Err(WpError::auth_required(
            auth.logged_in(),
            "rest_forbidden_context",
            "Sorry, you are not allowed to edit posts in this post type.",
        ));
    }
    Ok(json_response(StatusCode::OK, &respond_item(&site, pt, ctx)))
}
