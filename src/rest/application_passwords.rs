//! `/wp/v2/users/<id|me>/application-passwords`: WordPress's
//! `WP_REST_Application_Passwords_Controller`
//! (`class-wp-rest-application-passwords-controller.php`).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::application_passwords as records;
use crate::audit::By;
use crate::auth::scopes;
use crate::auth::{Auth, Client};
use crate::caps::Cap;
use crate::error::{WpError, WpResult};
use crate::site::Site;
use crate::store::{AppPassword, User};

use super::params::{Context, Params, Validator};
use super::{Transport, json_response};

const BASE: &str = "/wp/v2/users/{user_id}/application-passwords";

pub fn routes() -> Router<Arc<Site>> {
    Router::new()
        .route(BASE, get(get_items).post(create_item).delete(delete_items))
        // Other methods on `introspect` fall through to the `<uuid>` route, as WordPress
        // matches the next route with a handler for the method.
        .route(
            &format!("{BASE}/introspect"),
            get(get_current_item)
                .post(update_introspect)
                .put(update_introspect)
                .patch(update_introspect)
                .delete(delete_introspect),
        )
        .route(
            &format!("{BASE}/{{uuid}}"),
            get(get_item)
                .post(update_item)
                .put(update_item)
                .patch(update_item)
                .delete(delete_item),
        )
        .route(
            &format!("{BASE}/{{uuid}}/rotate"),
            axum::routing::post(rotate_item),
        )
}

/// `(?P<user_id>(?:[\d]+|me))` and `(?P<uuid>[\w\-]+)`: other path values are not routes.
fn check_route(user_id: &str, uuid: Option<&str>) -> WpResult<()> {
    let user_ok =
        user_id == "me" || (!user_id.is_empty() && user_id.bytes().all(|b| b.is_ascii_digit()));
    let uuid_ok = uuid.is_none_or(|u| {
        !u.is_empty()
            && u.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    });
    if user_ok && uuid_ok {
        Ok(())
    } else {
        Err(WpError::rest_no_route())
    }
}

/// `get_user()`: availability, the target user, and the per-user gate.
async fn get_user(site: &Site, auth: &Auth, transport: Transport, user_id: &str) -> WpResult<User> {
    if !site.config.app_passwords_available(transport.https) {
        return Err(WpError::new(
            StatusCode::NOT_IMPLEMENTED,
            "application_passwords_disabled",
            "Application passwords are not available.",
        ));
    }
    let user = if user_id == "me" {
        match &auth.user {
            Some(u) => Some((**u).clone()),
            None => return Err(WpError::rest_not_logged_in()),
        }
    } else {
        match user_id.parse::<i64>() {
            Ok(id) if id > 0 => site.store.user_by_id(id).await?,
            _ => None,
        }
    };
    let Some(user) = user else {
        return Err(WpError::rest_user_invalid_id());
    };
    if !site.config.app_password_gate.allows(&user.roles) {
        return Err(WpError::new(
            StatusCode::NOT_IMPLEMENTED,
            "application_passwords_disabled_for_user",
            "Application passwords are not available for your account. Please contact the site administrator for assistance.",
        ));
    }
    Ok(user)
}

/// Every `*_permissions_check`: `get_user()`, then the operation's meta capability on the
/// target; `denied` is the operation's error code and message.
async fn permitted_user(
    site: &Site,
    auth: &Auth,
    transport: Transport,
    user_id: &str,
    denied: (&'static str, &'static str),
) -> WpResult<User> {
    let user = get_user(site, auth, transport, user_id).await?;
    let actor = auth.actor();
    if actor.can(Cap::ManageAppPasswords(user.id)) {
        Ok(user)
    } else {
        Err(WpError::auth_required(
            actor.logged_in(),
            denied.0,
            denied.1,
        ))
    }
}

/// For `Allow`: every route's permission checks come down to `get_user()` and the
/// app-password meta capabilities on that user; introspection only for oneself.
pub async fn allowed(
    site: &Site,
    auth: &Auth,
    transport: Transport,
    user_id: &str,
    introspect: bool,
) -> Vec<&'static str> {
    let Ok(user) = get_user(site, auth, transport, user_id).await else {
        return vec![];
    };
    let permitted = if introspect {
        auth.user_id() == user.id
    } else {
        auth.actor().can(Cap::ManageAppPasswords(user.id))
    };
    if permitted {
        vec!["GET", "POST", "PUT", "PATCH", "DELETE"]
    } else {
        vec![]
    }
}

fn gmdate(ts: i64) -> String {
    jiff::Timestamp::from_second(ts)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_default()
}

/// `prepare_item_for_response()`; `new_password` only right after creation.
fn prepare_item(
    site: &Site,
    user: &User,
    item: &AppPassword,
    ctx: Context,
    new_password: Option<&str>,
) -> Value {
    let mut o = Map::new();
    o.insert("uuid".into(), json!(item.uuid.to_string()));
    o.insert("app_id".into(), json!(item.app_id));
    o.insert("name".into(), json!(item.name));
    if ctx != Context::Embed {
        if let (Some(p), Context::Edit) = (new_password, ctx) {
            o.insert("password".into(), json!(p));
        }
        o.insert("created".into(), json!(gmdate(item.created)));
        o.insert(
            "last_used".into(),
            item.last_used.map_or(Value::Null, |t| json!(gmdate(t))),
        );
        o.insert(
            "last_ip".into(),
            item.last_ip
                .as_ref()
                .filter(|ip| !ip.is_empty())
                .map_or(Value::Null, |ip| json!(ip)),
        );
        o.insert(
            "last_user_agent".into(),
            item.last_user_agent
                .as_ref()
                .filter(|ua| !ua.is_empty())
                .map_or(Value::Null, |ua| json!(ua)),
        );
        // ferropress additions (issue 18).
        o.insert(
            "expires".into(),
            item.expires
                .map_or(Value::Null, |t| json!(scopes::rfc3339(t))),
        );
        o.insert("scopes".into(), scopes::to_json(item.scopes.as_deref()));
    }
    o.insert(
        "_links".into(),
        json!({ "self": [{ "href": self_url(site, user, item) }] }),
    );
    Value::Object(o)
}

fn self_url(site: &Site, user: &User, item: &AppPassword) -> String {
    site.config.rest_url(&format!(
        "wp/v2/users/{}/application-passwords/{}",
        user.id, item.uuid
    ))
}

async fn find(site: &Site, user: &User, uuid: &str) -> WpResult<AppPassword> {
    let not_found = || {
        WpError::new(
            StatusCode::NOT_FOUND,
            "rest_application_password_not_found",
            "Application password not found.",
        )
    };
    let Ok(uuid) = Uuid::parse_str(uuid) else {
        return Err(not_found());
    };
    records::list(site, user.id)
        .await?
        .into_iter()
        .find(|p| p.uuid == uuid)
        .ok_or_else(not_found)
}

/// Checks `name` as the item schema does (`minLength: 1`, `pattern: .*\S.*`).
fn validate_name(v: &mut Validator<'_>) -> Option<String> {
    let name = v.string("name")?;
    if name.chars().count() < 1 {
        v.invalid(
            "name",
            "rest_too_short",
            "name must be at least 1 character long.".into(),
            Value::Null,
        );
        return None;
    }
    if !name.chars().any(|c| !c.is_whitespace()) {
        v.invalid(
            "name",
            "rest_invalid_pattern",
            "name does not match pattern .*\\S.*.".into(),
            Value::Null,
        );
        return None;
    }
    Some(name)
}

/// `expires` and `scopes` of a create or update (ferropress additions): `None` when not
/// given. A token may hand out only what it has itself: a scoped token's new or updated
/// tokens are within its scopes (unrestricted asked: its own), and expire no later.
fn limits_param(
    site: &Site,
    auth: &Auth,
    v: &mut Validator<'_>,
) -> (Option<Option<i64>>, Option<Option<String>>) {
    let expires = match v.value("expires").cloned() {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) if s.is_empty() => Some(None),
        Some(Value::String(s)) => match scopes::parse_expires(&s, crate::site::now()) {
            Ok(t) => Some(t),
            Err(_) => {
                v.invalid(
                    "expires",
                    "rest_invalid_date",
                    "Invalid date.".into(),
                    Value::Null,
                );
                None
            }
        },
        Some(_) => {
            v.invalid(
                "expires",
                "rest_invalid_type",
                "expires is not of type string,null.".into(),
                json!({ "param": "expires" }),
            );
            None
        }
    };
    let asked = if v.has("scopes") {
        match v.string_list("scopes") {
            Some(list) => match scopes::parse(site, &list) {
                Ok(stored) => Some(stored),
                Err(bad) => {
                    v.invalid(
                        "scopes",
                        "rest_invalid_param",
                        format!("{bad:?} is not a scope: use *, read or <resource>:<read|write>."),
                        Value::Null,
                    );
                    None
                }
            },
            None => None,
        }
    } else {
        None
    };
    let grant = auth.grant.as_deref();
    let caller_scopes = grant.and_then(|g| g.scopes.as_ref());
    let scopes = match (asked, caller_scopes) {
        (asked, None) => asked,
        // Not given on creation: the caller's own scopes (applied by `create_limits`).
        (None, Some(_)) => None,
        (Some(stored), Some(mine)) if mine.covers(stored.as_deref()) => Some(stored),
        (Some(_), Some(_)) => {
            v.invalid(
                "scopes",
                "rest_application_password_scope",
                "An application password cannot grant more than its own scopes.".into(),
                Value::Null,
            );
            None
        }
    };
    let expires = match (expires, grant.and_then(|g| g.expires)) {
        (Some(Some(t)), Some(mine)) => Some(Some(t.min(mine))),
        (Some(None), Some(mine)) => Some(Some(mine)),
        (e, _) => e,
    };
    (expires, scopes)
}

/// What a new token gets: asked limits, else (for a scoped or expiring caller) its own.
fn create_limits(
    auth: &Auth,
    expires: Option<Option<i64>>,
    scopes: Option<Option<String>>,
) -> records::Limits {
    let grant = auth.grant.as_deref();
    records::Limits {
        expires: expires.or_else(|| grant.and_then(|g| g.expires).map(Some)),
        scopes: match scopes {
            Some(s) => s,
            None => grant
                .and_then(|g| g.scopes.as_ref())
                .map(|s| s.stored.clone()),
        },
    }
}

/// `GET …/application-passwords`.
async fn get_items(
    State(site): State<Arc<Site>>,
    auth: Auth,
    transport: Transport,
    Path(user_id): Path<String>,
    params: Params,
) -> WpResult<Response> {
    check_route(&user_id, None)?;
    let mut v = Validator::new(&params);
    let ctx = v.context();
    v.finish()?;
    let user = permitted_user(
        &site,
        &auth,
        transport,
        &user_id,
        (
            "rest_cannot_list_application_passwords",
            "Sorry, you are not allowed to list application passwords for this user.",
        ),
    )
    .await?;
    let items: Vec<Value> = records::list(&site, user.id)
        .await?
        .iter()
        .map(|p| prepare_item(&site, &user, p, ctx, None))
        .collect();
    Ok(json_response(StatusCode::OK, &Value::Array(items)))
}

/// `POST …/application-passwords`.
async fn create_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    transport: Transport,
    client: Client,
    Path(user_id): Path<String>,
    params: Params,
) -> WpResult<Response> {
    check_route(&user_id, None)?;
    let mut v = Validator::new(&params);
    v.require("name");
    let name = validate_name(&mut v);
    let app_id = match params.get("app_id") {
        None => None,
        Some(Value::String(s)) if s.is_empty() => None,
        // `wp_is_uuid()`: lower case only; an upper-case UUID is refused, not folded.
        Some(Value::String(s)) => match Uuid::parse_str(s) {
            Ok(u) if records::is_uuid(s) => Some(u),
            _ => {
                v.invalid(
                    "app_id",
                    "rest_no_matching_schema",
                    "app_id does not match any of the expected formats.".into(),
                    Value::Null,
                );
                None
            }
        },
        Some(_) => {
            v.invalid(
                "app_id",
                "rest_no_matching_schema",
                "app_id does not match any of the expected formats.".into(),
                Value::Null,
            );
            None
        }
    };
    let (expires, scopes) = limits_param(&site, &auth, &mut v);
    v.finish()?;
    let user = permitted_user(
        &site,
        &auth,
        transport,
        &user_id,
        (
            "rest_cannot_create_application_passwords",
            "Sorry, you are not allowed to create application passwords for this user.",
        ),
    )
    .await?;

    let limits = create_limits(&auth, expires, scopes);
    let (token, item) = records::create_by(
        &site,
        user.id,
        &name.unwrap_or_default(),
        app_id,
        limits,
        &By::user(auth.user_id(), &client),
    )
    .await?;
    let chunked = crate::auth::app_passwords::chunk(secrecy::ExposeSecret::expose_secret(&token));
    let body = prepare_item(&site, &user, &item, Context::Edit, Some(&chunked));
    let mut resp = json_response(StatusCode::CREATED, &body);
    if let Ok(loc) = HeaderValue::from_str(&self_url(&site, &user, &item)) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}

/// `DELETE …/application-passwords`: revoke all.
async fn delete_items(
    State(site): State<Arc<Site>>,
    auth: Auth,
    transport: Transport,
    client: Client,
    Path(user_id): Path<String>,
) -> WpResult<Response> {
    check_route(&user_id, None)?;
    let user = permitted_user(
        &site,
        &auth,
        transport,
        &user_id,
        (
            "rest_cannot_delete_application_passwords",
            "Sorry, you are not allowed to delete application passwords for this user.",
        ),
    )
    .await?;
    let count = records::delete_all_by(&site, user.id, &By::user(auth.user_id(), &client)).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "deleted": true, "count": count }),
    ))
}

/// `GET …/application-passwords/<uuid>`.
async fn get_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    transport: Transport,
    Path((user_id, uuid)): Path<(String, String)>,
    params: Params,
) -> WpResult<Response> {
    check_route(&user_id, Some(&uuid))?;
    let mut v = Validator::new(&params);
    let ctx = v.context();
    v.finish()?;
    let user = permitted_user(
        &site,
        &auth,
        transport,
        &user_id,
        (
            "rest_cannot_read_application_password",
            "Sorry, you are not allowed to read this application password.",
        ),
    )
    .await?;
    let item = find(&site, &user, &uuid).await?;
    Ok(json_response(
        StatusCode::OK,
        &prepare_item(&site, &user, &item, ctx, None),
    ))
}

/// `POST|PUT|PATCH …/application-passwords/<uuid>`: rename (the only editable field).
async fn update_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    transport: Transport,
    client: Client,
    Path((user_id, uuid)): Path<(String, String)>,
    params: Params,
) -> WpResult<Response> {
    check_route(&user_id, Some(&uuid))?;
    let mut v = Validator::new(&params);
    let name = validate_name(&mut v);
    let (expires, scopes) = limits_param(&site, &auth, &mut v);
    v.finish()?;
    let user = permitted_user(
        &site,
        &auth,
        transport,
        &user_id,
        (
            "rest_cannot_edit_application_password",
            "Sorry, you are not allowed to edit this application password.",
        ),
    )
    .await?;
    let item = find(&site, &user, &uuid).await?;
    if let Some(name) = name {
        records::rename_by(
            &site,
            user.id,
            item.uuid,
            &name,
            &By::user(auth.user_id(), &client),
        )
        .await?;
    }
    records::set_limits(&site, &item, expires, scopes).await?;
    let item = find(&site, &user, &uuid).await?;
    Ok(json_response(
        StatusCode::OK,
        &prepare_item(&site, &user, &item, Context::Edit, None),
    ))
}

/// `DELETE …/application-passwords/<uuid>`.
async fn delete_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    transport: Transport,
    client: Client,
    Path((user_id, uuid)): Path<(String, String)>,
    params: Params,
) -> WpResult<Response> {
    check_route(&user_id, Some(&uuid))?;
    let user = permitted_user(
        &site,
        &auth,
        transport,
        &user_id,
        (
            "rest_cannot_delete_application_password",
            "Sorry, you are not allowed to delete this application password.",
        ),
    )
    .await?;
    let item = find(&site, &user, &uuid).await?;
    // WordPress's `previous` is the item's data: its links are not part of it.
    let mut previous = prepare_item(&site, &user, &item, Context::Edit, None);
    if let Some(o) = previous.as_object_mut() {
        o.remove("_links");
    }
    if !records::delete_by(
        &site,
        user.id,
        item.uuid,
        &By::user(auth.user_id(), &client),
    )
    .await?
    {
        return Err(WpError::new(
            StatusCode::NOT_FOUND,
            "rest_application_password_not_found",
            "Application password not found.",
        ));
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({ "deleted": true, "previous": super::global_params::previous_item(&params, previous) }),
    ))
}

/// `POST …/application-passwords/<uuid>/rotate` (ferropress, issue 18): a new secret for
/// the same token, shown once; the old one works for `grace` more seconds (default none).
async fn rotate_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    transport: Transport,
    client: Client,
    Path((user_id, uuid)): Path<(String, String)>,
    params: Params,
) -> WpResult<Response> {
    check_route(&user_id, Some(&uuid))?;
    let mut v = Validator::new(&params);
    let grace = match v.value("grace").cloned() {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) if n.as_i64().is_some_and(|g| g >= 0) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) if scopes::parse_duration(&s).is_some() => {
            scopes::parse_duration(&s).unwrap_or(0)
        }
        Some(_) => {
            v.invalid(
                "grace",
                "rest_invalid_param",
                "grace must be a number of seconds or a duration such as 1h.".into(),
                Value::Null,
            );
            0
        }
    };
    v.finish()?;
    let user = permitted_user(
        &site,
        &auth,
        transport,
        &user_id,
        (
            "rest_cannot_edit_application_password",
            "Sorry, you are not allowed to edit this application password.",
        ),
    )
    .await?;
    let item = find(&site, &user, &uuid).await?;
    let not_found = || {
        WpError::new(
            StatusCode::NOT_FOUND,
            "rest_application_password_not_found",
            "Application password not found.",
        )
    };
    let token = records::rotate(
        &site,
        user.id,
        item.uuid,
        grace,
        &By::user(auth.user_id(), &client),
    )
    .await?
    .ok_or_else(not_found)?;
    let item = find(&site, &user, &uuid).await?;
    let chunked = crate::auth::app_passwords::chunk(secrecy::ExposeSecret::expose_secret(&token));
    Ok(json_response(
        StatusCode::OK,
        &prepare_item(&site, &user, &item, Context::Edit, Some(&chunked)),
    ))
}

async fn update_introspect(
    site: State<Arc<Site>>,
    auth: Auth,
    transport: Transport,
    client: Client,
    Path(user_id): Path<String>,
    params: Params,
) -> WpResult<Response> {
    let path = Path((user_id, "introspect".to_owned()));
    update_item(site, auth, transport, client, path, params).await
}

async fn delete_introspect(
    site: State<Arc<Site>>,
    auth: Auth,
    transport: Transport,
    client: Client,
    Path(user_id): Path<String>,
    params: Params,
) -> WpResult<Response> {
    let path = Path((user_id, "introspect".to_owned()));
    delete_item(site, auth, transport, client, path, params).await
}

/// `GET …/application-passwords/introspect`: the token that authenticated this request.
async fn get_current_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    transport: Transport,
    Path(user_id): Path<String>,
    params: Params,
) -> WpResult<Response> {
    check_route(&user_id, None)?;
    let mut v = Validator::new(&params);
    let ctx = v.context();
    v.finish()?;
    let user = get_user(&site, &auth, transport, &user_id).await?;
    if auth.user_id() != user.id {
        return Err(WpError::auth_required(
            auth.logged_in(),
            "rest_cannot_introspect_app_password_for_non_authenticated_user",
            "The authenticated Application Password can only be introspected for the current user.",
        ));
    }
    let Some(uuid) = auth.app_password else {
        return Err(WpError::new(
            StatusCode::NOT_FOUND,
            "rest_no_authenticated_app_password",
            "Cannot introspect Application Password.",
        ));
    };
    let item = records::list(&site, user.id)
        .await?
        .into_iter()
        .find(|p| p.uuid == uuid)
        .ok_or_else(|| {
            WpError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "rest_application_password_not_found",
                "Application password not found.",
            )
        })?;
    Ok(json_response(
        StatusCode::OK,
        &prepare_item(&site, &user, &item, ctx, None),
    ))
}
