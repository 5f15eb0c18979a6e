//! Users: `WP_REST_Users_Controller` (`class-wp-rest-users-controller.php`), read side.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::auth::Auth;
use crate::caps::{Actor, Cap};
use crate::error::{WpError, WpResult};
use crate::site::Site;
use crate::store::User;

use super::params::{Context, Params, Validator};
use super::{json_response, route_id};

pub fn routes() -> Router<Arc<Site>> {
    Router::new()
        .route("/wp/v2/users/me", get(get_current_item))
        .route("/wp/v2/users/{id}", get(get_item))
}

/// Gravatar URL: WordPress 6.8+ hashes the trimmed, lower-cased address with SHA-256.
fn gravatar(email: &str, size: u32) -> String {
    let digest = sha256_hex(email.trim().to_lowercase().as_bytes());
    format!("https://secure.gravatar.com/avatar/{digest}?s={size}&d=mm&r=g")
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(data);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// `prepare_item_for_response()` for a user.
pub fn prepare_item(site: &Site, user: &User, edit: bool, show_roles: bool) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(user.id));
    if edit {
        o.insert("username".into(), json!(user.login));
    }
    o.insert("name".into(), json!(user.display_name));
    if edit {
        o.insert("first_name".into(), json!(user.first_name));
        o.insert("last_name".into(), json!(user.last_name));
        o.insert("email".into(), json!(user.email));
    }
    o.insert("url".into(), json!(user.url));
    o.insert("description".into(), json!(user.description));
    o.insert(
        "link".into(),
        json!(format!("{}/author/{}/", site.config.home, user.nicename)),
    );
    if edit {
        o.insert(
            "locale".into(),
            json!(if user.locale.is_empty() {
                "en_US"
            } else {
                &user.locale
            }),
        );
        o.insert("nickname".into(), json!(user.nickname));
    }
    o.insert("slug".into(), json!(user.nicename));
    if edit {
        if show_roles {
            o.insert(
                "roles".into(),
                json!(user.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()),
            );
        }
        let registered = jiff::Timestamp::from_second(user.registered)
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S+00:00").to_string())
            .unwrap_or_default();
        o.insert("registered_date".into(), json!(registered));
        let mut caps = Map::new();
        let mut extra = Map::new();
        for role in &user.roles {
            for c in role.caps() {
                caps.insert((*c).to_owned(), json!(true));
            }
        }
        for role in &user.roles {
            caps.insert(role.as_str().to_owned(), json!(true));
            extra.insert(role.as_str().to_owned(), json!(true));
        }
        o.insert("capabilities".into(), Value::Object(caps));
        o.insert("extra_capabilities".into(), Value::Object(extra));
    }
    o.insert(
        "avatar_urls".into(),
        json!({ "24": gravatar(&user.email, 24), "48": gravatar(&user.email, 48), "96": gravatar(&user.email, 96) }),
    );
    o.insert(
        "meta".into(),
        if edit {
            // PHP's empty array, as WordPress sends it.
            json!({ "persisted_preferences": [] })
        } else {
            json!([])
        },
    );
    o.insert(
        "_links".into(),
        json!({
            "self": [{ "href": site.config.rest_url(&format!("wp/v2/users/{}", user.id)) }],
            "collection": [{ "href": site.config.rest_url("wp/v2/users") }]
        }),
    );
    Value::Object(o)
}

fn context_of(params: &Params) -> WpResult<Context> {
    let mut v = Validator::new(params);
    let ctx = v.context();
    v.finish()?;
    Ok(ctx)
}

/// The item for a context: `meta` is not part of the embed context.
fn respond(site: &Site, user: &User, ctx: Context, show_roles: bool) -> Response {
    let mut body = prepare_item(site, user, ctx == Context::Edit, show_roles);
    if ctx == Context::Embed
        && let Some(o) = body.as_object_mut()
    {
        o.remove("meta");
    }
    json_response(StatusCode::OK, &body)
}

/// `GET /wp/v2/users/me`.
async fn get_current_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    params: Params,
) -> WpResult<Response> {
    let ctx = context_of(&params)?;
    let Some(user) = auth.user.as_deref() else {
        return Err(WpError::rest_not_logged_in());
    };
    Ok(respond(&site, user, ctx, true))
}

/// `GET /wp/v2/users/<id>`.
async fn get_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path(id): Path<String>,
    params: Params,
) -> WpResult<Response> {
    let id = route_id(&id)?;
    let ctx = context_of(&params)?;
    let edit = ctx == Context::Edit;
    let Some(user) = site.store.user_by_id(id).await? else {
        return Err(WpError::rest_user_invalid_id());
    };
    let actor: Actor<'_> = auth.actor();
    let can_edit = actor.can(Cap::EditUser(user.id));
    if edit && !can_edit {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_forbidden_context",
            "Sorry, you are not allowed to edit this user.",
        ));
    }
    if !can_edit
        && !actor.can(Cap::Primitive("list_users"))
        && !has_published_posts(&site, user.id).await?
    {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_user_cannot_view",
            "Sorry, you are not allowed to list users.",
        ));
    }
    let show_roles = can_edit || actor.can(Cap::Primitive("list_users"));
    Ok(respond(&site, &user, ctx, show_roles))
}

/// For `Allow`: `get_item_permissions_check()` for a plain read.
pub async fn allowed_on_item(site: &Site, auth: &Auth, id: &str, edit: bool) -> Vec<&'static str> {
    let Ok(id) = route_id(id) else {
        return vec![];
    };
    let Ok(Some(user)) = site.store.user_by_id(id).await else {
        return vec![];
    };
    let actor = auth.actor();
    let can_edit = actor.can(Cap::EditUser(user.id));
    if edit && !can_edit {
        return vec![];
    }
    let readable = can_edit
        || actor.id == user.id
        || actor.can(Cap::Primitive("list_users"))
        || has_published_posts(site, user.id).await.unwrap_or(false);
    if readable { vec!["GET"] } else { vec![] }
}

async fn has_published_posts(site: &Site, user_id: i64) -> WpResult<bool> {
    for post_type in ["post", "page"] {
        let q = crate::store::PostQuery {
            post_type: post_type.into(),
            statuses: vec!["publish".into()],
            authors: vec![user_id],
            limit: 1,
            ..crate::store::PostQuery::default()
        };
        if site.store.query_posts(&q).await?.1 > 0 {
            return Ok(true);
        }
    }
    Ok(false)
}
