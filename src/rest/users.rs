//! Users: `WP_REST_Users_Controller` (`class-wp-rest-users-controller.php`): the collection
//! (`get_items`), reading, creating, updating and deleting users, for `/users/<id>` and
//! `/users/me`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::auth::Auth;
use crate::caps::{Actor, Cap, Role};
use crate::error::{WpError, WpResult};
use crate::formatting::{is_email, sanitize_text_field, sanitize_title, sanitize_user_strict};
use crate::site::Site;
use crate::store::{User, UserOrderBy, UserQuery, UserSearchColumn};
use crate::users::{InsertUser, Profile, UserChanges};

use super::params::{Context, Params, Validator, parse_form};
use super::{json_response, request_id, route_id};

pub fn routes() -> Router<Arc<Site>> {
    Router::new()
        .route("/wp/v2/users", get(get_items).post(create_item))
        .route(
            "/wp/v2/users/me",
            get(get_current_item)
                .post(update_current_item)
                .put(update_current_item)
                .patch(update_current_item)
                .delete(delete_current_item),
        )
        .route(
            "/wp/v2/users/{id}",
            get(get_item)
                .post(update_item)
                .put(update_item)
                .patch(update_item)
                .delete(delete_item),
        )
}

/// Post types shown in REST (`get_post_types( array( 'show_in_rest' => true ) )`).
fn rest_post_types(site: &Site) -> Vec<String> {
    site.config
        .post_types
        .iter()
        .map(|pt| pt.name.clone())
        .collect()
}

const ORDERBY: &[&str] = &[
    "id",
    "include",
    "name",
    "registered_date",
    "slug",
    "include_slugs",
    "email",
    "url",
];

/// Gravatar URL: WordPress 6.8+ hashes the trimmed, lower-cased address with SHA-256.
pub(super) fn gravatar(email: &str, size: u32) -> String {
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
fn item_for(site: &Site, user: &User, ctx: Context, show_roles: bool) -> Value {
    let mut body = prepare_item(site, user, ctx == Context::Edit, show_roles);
    if ctx == Context::Embed
        && let Some(o) = body.as_object_mut()
    {
        o.remove("meta");
    }
    body
}

fn respond(site: &Site, user: &User, ctx: Context, show_roles: bool) -> Response {
    json_response(StatusCode::OK, &item_for(site, user, ctx, show_roles))
}

/// PHP's `empty()` on a request value.
fn php_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => !b,
        Some(Value::String(s)) => s.is_empty() || s == "0",
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
    }
}

/// `get_user()`: the user, or `rest_user_invalid_id` (404) for ids ≤ 0 and unknown ids.
async fn get_user(site: &Site, id: i64) -> WpResult<User> {
    if id <= 0 {
        return Err(WpError::rest_user_invalid_id());
    }
    site.store
        .user_by_id(id)
        .await?
        .ok_or_else(WpError::rest_user_invalid_id)
}

// ---------------------------------------------------------------------------------------
// Collection

/// What `get_items_permissions_check()` looks at.
struct ItemsAccess<'a> {
    roles: bool,
    capabilities: bool,
    edit: bool,
    orderby: &'a str,
    who_authors: bool,
}

/// `get_items_permissions_check()`.
fn get_items_permissions_check(
    site: &Site,
    actor: &Actor<'_>,
    a: &ItemsAccess<'_>,
) -> WpResult<()> {
    let list_users = actor.can(Cap::Primitive("list_users"));
    let deny = |code, message: &str| Err(WpError::auth_required(actor.logged_in(), code, message));
    if a.roles && !list_users {
        return deny(
            "rest_user_cannot_view",
            "Sorry, you are not allowed to filter users by role.",
        );
    }
    if a.capabilities && !list_users {
        return deny(
            "rest_user_cannot_view",
            "Sorry, you are not allowed to filter users by capability.",
        );
    }
    if a.edit && !list_users {
        return deny(
            "rest_forbidden_context",
            "Sorry, you are not allowed to edit users.",
        );
    }
    if matches!(a.orderby, "email" | "registered_date") && !list_users {
        return deny(
            "rest_forbidden_orderby",
            "Sorry, you are not allowed to order users by this parameter.",
        );
    }
    if a.who_authors {
        // Some REST post type supporting authors whose `edit_posts` the user has.
        let can = site
            .config
            .post_types
            .iter()
            .any(|pt| pt.supports("author") && actor.can(Cap::Primitive(&pt.caps.edit_posts)));
        if !can {
            return deny(
                "rest_forbidden_who",
                "Sorry, you are not allowed to query users by this parameter.",
            );
        }
    }
    Ok(())
}

/// For `Allow` on `/wp/v2/users`: the collection's read check with the request's query
/// string, and `create_users` for POST.
pub fn allowed_on_collection(site: &Site, auth: &Auth, query: &str) -> Vec<&'static str> {
    let p = parse_form(query);
    let str_of = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("");
    let access = ItemsAccess {
        roles: !php_empty(p.get("roles")),
        capabilities: !php_empty(p.get("capabilities")),
        edit: str_of("context") == "edit",
        orderby: str_of("orderby"),
        who_authors: str_of("who") == "authors",
    };
    let actor = auth.actor();
    let mut methods = vec![];
    if get_items_permissions_check(site, &actor, &access).is_ok() {
        methods.push("GET");
    }
    if actor.can(Cap::CreateUsers) {
        methods.push("POST");
    }
    methods
}

/// `has_published_posts`: `["boolean", "array"]` of REST post type names; `true` means all.
fn has_published_posts_arg(
    v: &mut Validator<'_>,
    params: &Params,
    types: &[String],
) -> Option<Vec<String>> {
    let raw = params.get("has_published_posts")?;
    let boolean = match raw {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" | "" => Some(false),
            _ => None,
        },
        Value::Number(n) if n.as_i64() == Some(1) => Some(true),
        Value::Number(n) if n.as_i64() == Some(0) => Some(false),
        _ => None,
    };
    match boolean {
        Some(true) => return Some(types.to_vec()),
        Some(false) => return None,
        None => {}
    }
    let list = v.string_list("has_published_posts")?;
    for (i, t) in list.iter().enumerate() {
        if !types.contains(t) {
            v.invalid(
                &format!("has_published_posts[{i}]"),
                "rest_not_in_enum",
                format!(
                    "has_published_posts[{i}] is not one of {}.",
                    types.join(", ")
                ),
                Value::Null,
            );
            return None;
        }
    }
    if list.is_empty() { None } else { Some(list) }
}

/// The roles that satisfy a capability (as `WP_User_Query`'s `capability__in`): roles
/// holding it, and the role whose key it is.
fn roles_with_cap(cap: &str) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| r.as_str() == cap || r.caps().contains(&cap))
        .collect()
}

/// `GET /wp/v2/users`.
async fn get_items(
    State(site): State<Arc<Site>>,
    auth: Auth,
    params: Params,
) -> WpResult<Response> {
    let actor = auth.actor();
    let mut v = Validator::new(&params);
    let ctx = v.context();
    let page = v.integer_min("page", 1).unwrap_or(1);
    let per_page = v.integer_range("per_page", 1, 100).unwrap_or(10);
    let search = v
        .string("search")
        .map(|s| sanitize_text_field(&s))
        .filter(|s| !s.is_empty());
    let search_columns = v
        .enum_list(
            "search_columns",
            &["email", "name", "id", "username", "slug"],
        )
        .unwrap_or_default();
    let exclude = v.integer_list("exclude").unwrap_or_default();
    let include = v.integer_list("include").unwrap_or_default();
    let offset = v.integer("offset").unwrap_or(0);
    let order = v.one_of("order", &["asc", "desc"]).unwrap_or("asc");
    let orderby = v.one_of("orderby", ORDERBY).unwrap_or("name");
    let slugs = v.string_list("slug").unwrap_or_default();
    let roles = v.string_list("roles").unwrap_or_default();
    let capabilities = v.string_list("capabilities").unwrap_or_default();
    let who_authors = v.one_of("who", &["authors"]).is_some();
    let types = rest_post_types(&site);
    let has_published = has_published_posts_arg(&mut v, &params, &types);
    v.finish()?;

    get_items_permissions_check(
        &site,
        &actor,
        &ItemsAccess {
            roles: !roles.is_empty(),
            capabilities: !capabilities.is_empty(),
            edit: ctx == Context::Edit,
            orderby,
            who_authors,
        },
    )?;
    let list_users = actor.can(Cap::Primitive("list_users"));

    let mut role_sets = vec![];
    if !roles.is_empty() {
        role_sets.push(
            roles
                .iter()
                .filter_map(|r| r.parse::<Role>().ok())
                .collect(),
        );
    }
    if !capabilities.is_empty() {
        let mut set: Vec<Role> = vec![];
        for cap in &capabilities {
            for r in roles_with_cap(cap) {
                if !set.contains(&r) {
                    set.push(r);
                }
            }
        }
        role_sets.push(set);
    }
    // `who=authors`: user_level ≠ 0, i.e. a role with `level_1`.
    let mut has_published_posts = None;
    if who_authors {
        role_sets.push(roles_with_cap("level_1"));
    } else if !list_users {
        has_published_posts = Some(types.clone());
    }
    if has_published.is_some() {
        has_published_posts = has_published;
    }
    // Without `list_users`, only ID, login, nicename and display name are searched;
    // `search_columns` (the current WordPress source) narrows that to the named ones;
    // otherwise WP_User_Query picks the columns from the term's look.
    let search = search.map(|s| {
        let term = s.trim_matches('*').to_owned();
        use UserSearchColumn as C;
        let allowed = if list_users {
            vec![C::Id, C::Login, C::Nicename, C::Email, C::DisplayName]
        } else {
            vec![C::Id, C::Login, C::Nicename, C::DisplayName]
        };
        let named: Vec<C> = search_columns
            .iter()
            .filter_map(|c| match c.as_str() {
                "id" => Some(C::Id),
                "username" => Some(C::Login),
                "slug" => Some(C::Nicename),
                "email" => Some(C::Email),
                "name" => Some(C::DisplayName),
                _ => None,
            })
            .filter(|c| allowed.contains(c))
            .collect();
        let columns = if !named.is_empty() {
            named
        } else if !list_users {
            vec![C::Id, C::Login, C::Nicename, C::DisplayName]
        } else if term.contains('@') {
            vec![C::Email]
        } else if term.parse::<f64>().is_ok() {
            vec![C::Login, C::Id]
        } else if term.starts_with("http://") || term.starts_with("https://") {
            vec![C::Url]
        } else {
            vec![C::Login, C::Url, C::Email, C::Nicename, C::DisplayName]
        };
        (term, columns)
    });
    let offset = if offset != 0 {
        offset.max(0)
    } else {
        (page - 1).saturating_mul(per_page)
    };
    let q = UserQuery {
        include,
        exclude,
        nicenames: slugs,
        role_sets,
        search,
        has_published_posts,
        orderby: match orderby {
            "id" => UserOrderBy::Id,
            "include" => UserOrderBy::Include,
            "registered_date" => UserOrderBy::Registered,
            "slug" => UserOrderBy::Slug,
            "include_slugs" => UserOrderBy::IncludeSlugs,
            "email" => UserOrderBy::Email,
            "url" => UserOrderBy::Url,
            _ => UserOrderBy::Name,
        },
        ascending: order == "asc",
        limit: per_page,
        offset,
    };
    let (users, total) = site.store.query_users(&q).await?;
    let items: Vec<Value> = users
        .iter()
        .filter(|u| ctx != Context::Edit || actor.can(Cap::EditUser(u.id)))
        .map(|u| item_for(&site, u, ctx, list_users || actor.can(Cap::EditUser(u.id))))
        .collect();

    let total_pages = (total + per_page - 1) / per_page;
    // The page the Link header is computed from: `ceil( offset / per_page + 1 )`.
    let link_page = offset / per_page + if offset % per_page == 0 { 1 } else { 2 };
    let base = site.config.rest_url("wp/v2/users");
    Ok(super::collection_response(
        items,
        total,
        total_pages,
        &base,
        &params,
        link_page,
    ))
}

// ---------------------------------------------------------------------------------------
// Single items

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
    let mut v = Validator::new(&params);
    let id = request_id(&mut v, &params, id);
    v.finish()?;
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

/// For `Allow` on `/wp/v2/users/<id>`: `get_item_permissions_check()` for a plain read,
/// `edit_user` for updates, `delete_user` for DELETE.
pub async fn allowed_on_item(site: &Site, auth: &Auth, id: &str, edit: bool) -> Vec<&'static str> {
    let Ok(id) = route_id(id) else {
        return vec![];
    };
    let Ok(Some(user)) = site.store.user_by_id(id).await else {
        return vec![];
    };
    let actor = auth.actor();
    let can_edit = actor.can(Cap::EditUser(user.id));
    let readable = (!edit || can_edit)
        && (can_edit
            || actor.id == user.id
            || actor.can(Cap::Primitive("list_users"))
            || has_published_posts(site, user.id).await.unwrap_or(false));
    let mut methods = vec![];
    if readable {
        methods.push("GET");
    }
    if can_edit {
        methods.extend(["POST", "PUT", "PATCH"]);
    }
    if actor.can(Cap::DeleteUser(user.id)) {
        methods.push("DELETE");
    }
    methods
}

/// For `Allow` on `/wp/v2/users/me`: reading is open to all; the write checks run on the
/// current user (none when anonymous).
pub fn allowed_on_me(auth: &Auth) -> Vec<&'static str> {
    let actor = auth.actor();
    let mut methods = vec!["GET"];
    if actor.logged_in() && actor.can(Cap::EditUser(actor.id)) {
        methods.extend(["POST", "PUT", "PATCH"]);
    }
    if actor.logged_in() && actor.can(Cap::DeleteUser(actor.id)) {
        methods.push("DELETE");
    }
    methods
}

async fn has_published_posts(site: &Site, user_id: i64) -> WpResult<bool> {
    for post_type in rest_post_types(site) {
        let q = crate::store::PostQuery {
            post_type,
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

// ---------------------------------------------------------------------------------------
// Writes

/// The writable fields of a create or update request, validated and sanitised as the
/// item schema's arguments are (`check_username`, `check_user_password`, formats).
#[derive(Default)]
struct UserInput {
    username: Option<String>,
    email: Option<String>,
    password: Option<String>,
    roles: Option<Vec<String>>,
    profile: Profile,
}

fn parse_input(v: &mut Validator<'_>, params: &Params) -> UserInput {
    let mut input = UserInput::default();
    if let Some(login) = v.string("username") {
        // validate_username(): unchanged by strict sanitising, and not empty.
        if login.is_empty() || sanitize_user_strict(&login) != login {
            v.invalid(
                "username",
                "rest_user_invalid_username",
                "This username is invalid because it uses illegal characters. Please enter a valid username.".into(),
                json!({ "status": 400 }),
            );
        } else {
            input.username = Some(login);
        }
    }
    let text = |v: &mut Validator<'_>, key: &str| v.string(key).map(|s| sanitize_text_field(&s));
    input.profile.display_name = text(v, "name");
    input.profile.first_name = text(v, "first_name");
    input.profile.last_name = text(v, "last_name");
    if let Some(email) = v.string("email") {
        if is_email(&email) {
            input.email = Some(email);
        } else {
            v.invalid(
                "email",
                "rest_invalid_email",
                "Invalid email address.".into(),
                Value::Null,
            );
        }
    }
    // The schema's `format: uri` sanitiser; `wp_insert_user()` runs `pre_user_url` after it.
    input.profile.url = v.string("url").map(|u| crate::users::esc_url_raw(&u));
    // `wp_insert_user()` runs `pre_user_description` (crate::users).
    input.profile.description = v.string("description");
    input.profile.locale = v.one_of("locale", &["", "en_US"]).map(str::to_owned);
    input.profile.nickname = text(v, "nickname");
    input.profile.nicename = v.string("slug").map(|s| sanitize_title(&s));
    input.roles = v.string_list("roles");
    if let Some(password) = v.string("password") {
        // check_user_password(): PHP's empty() also refuses "0".
        let problem = if password.is_empty() || password == "0" {
            Some("Passwords cannot be empty.")
        } else if password.contains('\\') {
            Some("Passwords cannot contain the \"\\\" character.")
        } else {
            None
        };
        match problem {
            Some(message) => v.invalid(
                "password",
                "rest_user_invalid_password",
                message.into(),
                json!({ "status": 400 }),
            ),
            None => input.password = Some(password),
        }
    }
    // `meta`: registered user meta only (`persisted_preferences`), not stored; type-checked.
    if let Some(meta) = params.get("meta")
        && !meta.is_object()
        && !meta.as_array().is_some_and(Vec::is_empty)
    {
        v.invalid(
            "meta",
            "rest_invalid_type",
            "meta is not of type object.".into(),
            json!({ "param": "meta" }),
        );
    }
    input
}

/// `check_role_update()`: every role must exist; nobody may give themselves a role without
/// `edit_users`; and the role must be one the requester may hand out (`get_editable_roles`,
/// here: holders of `promote_users`).
fn check_role_update(
    actor: &Actor<'_>,
    target: Option<i64>,
    roles: &[String],
) -> WpResult<Vec<Role>> {
    let mut out = vec![];
    for name in roles {
        let role: Role = name.parse().map_err(|message: String| {
            WpError::new(StatusCode::BAD_REQUEST, "rest_user_invalid_role", message)
        })?;
        let own_without_edit_users =
            target == Some(actor.id) && !role.caps().contains(&"edit_users");
        if own_without_edit_users || !actor.can(Cap::Primitive("promote_users")) {
            return Err(WpError::auth_required(
                actor.logged_in(),
                "rest_user_invalid_role",
                "Sorry, you are not allowed to give users that role.",
            ));
        }
        if !out.contains(&role) {
            out.push(role);
        }
    }
    Ok(out)
}

/// The role new users get (`default_role` option, `subscriber` by default).
async fn default_role(site: &Site) -> WpResult<Role> {
    Ok(site
        .store
        .get_option("default_role")
        .await?
        .and_then(|r| r.parse().ok())
        .unwrap_or(Role::Subscriber))
}

/// `POST /wp/v2/users`.
async fn create_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    params: Params,
) -> WpResult<Response> {
    let mut v = Validator::new(&params);
    v.require("username");
    v.require("email");
    v.require("password");
    let input = parse_input(&mut v, &params);
    v.finish()?;

    let actor = auth.actor();
    if !actor.can(Cap::CreateUsers) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_create_user",
            "Sorry, you are not allowed to create new users.",
        ));
    }
    if !php_empty(params.get("id")) {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_user_exists",
            "Cannot create existing user.",
        ));
    }
    // Given roles (even none) replace the default role.
    let roles = match &input.roles {
        Some(r) if !r.is_empty() => check_role_update(&actor, None, r)?,
        Some(_) => vec![],
        None => vec![default_role(&site).await?],
    };
    let (Some(login), Some(email), Some(password)) =
        (&input.username, &input.email, &input.password)
    else {
        // Required and validated above.
        return Err(WpError::internal());
    };
    let user = crate::users::insert_user_with_profile(
        &site,
        InsertUser {
            login,
            email,
            password,
            roles,
        },
        input.profile,
    )
    .await?;
    tracing::info!(user_id = user.id, by = actor.id, "user created");
    let mut resp = json_response(
        StatusCode::CREATED,
        &item_for(&site, &user, Context::Edit, true),
    );
    if let Ok(loc) =
        HeaderValue::from_str(&site.config.rest_url(&format!("wp/v2/users/{}", user.id)))
    {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}

/// `POST|PUT|PATCH /wp/v2/users/<id>`.
async fn update_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    client: crate::auth::Client,
    Path(id): Path<String>,
    params: Params,
) -> WpResult<Response> {
    let id = route_id(&id)?;
    update(&site, &auth, &client, Some(id), &params).await
}

/// `POST|PUT|PATCH /wp/v2/users/me`.
async fn update_current_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    client: crate::auth::Client,
    params: Params,
) -> WpResult<Response> {
    update(&site, &auth, &client, None, &params).await
}

/// `update_item_permissions_check()` then `update_item()`.
/// `url_id` is the route's id; `None` for `/users/me`, which sets `id` to the current user.
async fn update(
    site: &Site,
    auth: &Auth,
    client: &crate::auth::Client,
    url_id: Option<i64>,
    params: &Params,
) -> WpResult<Response> {
    let mut v = Validator::new(params);
    let id = match url_id {
        Some(id) => request_id(&mut v, params, id),
        None => auth.user_id(),
    };
    let input = parse_input(&mut v, params);
    v.finish()?;

    let actor = auth.actor();
    let user = get_user(site, id).await?;
    let roles_given = input.roles.as_ref().is_some_and(|r| !r.is_empty());
    if roles_given && !actor.can(Cap::PromoteUser(user.id)) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_edit_roles",
            "Sorry, you are not allowed to edit roles of this user.",
        ));
    }
    // A request carrying only roles needs `promote_user` alone.
    let only_roles = roles_given && params.0.keys().all(|k| k == "roles" || k == "id");
    if !only_roles && !actor.can(Cap::EditUser(user.id)) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_edit",
            "Sorry, you are not allowed to edit this user.",
        ));
    }

    if let Some(email) = input.email.as_deref().filter(|e| !e.is_empty())
        && let Some(owner) = site.store.user_by_email(email).await?
        && owner.id != user.id
    {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_user_invalid_email",
            "Invalid email address.",
        ));
    }
    if let Some(login) = input.username.as_deref().filter(|l| !l.is_empty())
        && login != user.login
    {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_user_invalid_argument",
            "Username is not editable.",
        ));
    }
    if let Some(slug) = input.profile.nicename.as_deref().filter(|s| !s.is_empty())
        && slug != user.nicename
        && site.store.nicename_exists(slug).await?
    {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_user_invalid_slug",
            "Invalid slug.",
        ));
    }
    // Given roles replace the user's roles; an empty list leaves the user without a role,
    // as `WP_User::set_role( false )` does.
    let roles = match &input.roles {
        Some(r) if !r.is_empty() => Some(check_role_update(&actor, Some(user.id), r)?),
        Some(_) => Some(vec![]),
        None => None,
    };
    let user = crate::users::update_user_by(
        site,
        user,
        UserChanges {
            profile: input.profile,
            email: input.email,
            password: input.password,
            roles,
        },
        &crate::audit::By::user(auth.user_id(), client),
    )
    .await?;
    tracing::info!(user_id = user.id, by = actor.id, "user updated");
    Ok(respond(site, &user, Context::Edit, true))
}

/// `DELETE /wp/v2/users/<id>`.
async fn delete_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path(id): Path<String>,
    params: Params,
) -> WpResult<Response> {
    let id = route_id(&id)?;
    delete(&site, &auth, Some(id), &params).await
}

/// `DELETE /wp/v2/users/me`.
async fn delete_current_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    params: Params,
) -> WpResult<Response> {
    delete(&site, &auth, None, &params).await
}

/// `check_reassign()` then `absint()`: a number, or no reassignment for `false`, `""`,
/// `"false"`; anything else is invalid. A number, even 0, reassigns (`wp_delete_user()`
/// only deletes for `null`): posts of a user deleted with `reassign=0` get author 0.
fn reassign_arg(v: &mut Validator<'_>, params: &Params) -> Option<i64> {
    let numeric = |f: f64| Some((f.abs().floor() as i64).max(0));
    match params.get("reassign")? {
        Value::Number(n) => n.as_f64().and_then(numeric),
        Value::String(s) if s.trim_start().parse::<f64>().is_ok_and(f64::is_finite) => {
            s.trim_start().parse::<f64>().ok().and_then(numeric)
        }
        Value::String(s) if s.is_empty() || s == "false" => None,
        Value::Bool(false) | Value::Null => None,
        _ => {
            v.invalid(
                "reassign",
                "rest_invalid_param",
                "Invalid user parameter(s).".into(),
                json!({ "status": 400 }),
            );
            None
        }
    }
}

/// `delete_item_permissions_check()` then `delete_item()`.
/// `url_id` as for [`update`].
async fn delete(
    site: &Site,
    auth: &Auth,
    url_id: Option<i64>,
    params: &Params,
) -> WpResult<Response> {
    let mut v = Validator::new(params);
    let id = match url_id {
        Some(id) => request_id(&mut v, params, id),
        None => auth.user_id(),
    };
    let force = v.boolean("force").unwrap_or(false);
    v.require("reassign");
    let reassign = reassign_arg(&mut v, params);
    v.finish()?;

    let actor = auth.actor();
    let user = get_user(site, id).await?;
    if !actor.can(Cap::DeleteUser(user.id)) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_user_cannot_delete",
            "Sorry, you are not allowed to delete this user.",
        ));
    }
    if !force {
        return Err(WpError::new(
            StatusCode::NOT_IMPLEMENTED,
            "rest_trash_not_supported",
            "Users do not support trashing. Set 'force=true' to delete.",
        ));
    }
    // `! empty( $reassign )`: 0 is not checked.
    if let Some(to) = reassign.filter(|to| *to != 0)
        && (to == user.id || site.store.user_by_id(to).await?.is_none())
    {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_user_invalid_reassign",
            "Invalid user ID for reassignment.",
        ));
    }
    // `previous` is the item's data, without its links.
    let mut previous = item_for(site, &user, Context::Edit, true);
    if let Some(o) = previous.as_object_mut() {
        o.remove("_links");
    }
    let Some(done) = crate::users::delete_user(site, user.id, reassign).await? else {
        return Err(WpError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "rest_cannot_delete",
            "The user cannot be deleted.",
        ));
    };
    // `wp_trash_post()` saves through `wp_update_post()`, which keeps a revision.
    for post_id in &done.trashed_posts {
        if let Some(post) = site.store.post_by_id(*post_id).await?
            && let Some(pt) = site.post_type(&post.post_type)
        {
            super::revisions::save(site, pt, &post, actor.id).await?;
        }
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({ "deleted": true, "previous": super::global_params::previous_item(params, previous) }),
    ))
}
