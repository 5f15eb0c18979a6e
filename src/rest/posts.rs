//! Posts and pages: `WP_REST_Posts_Controller` (`class-wp-rest-posts-controller.php`).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::auth::Auth;
use crate::caps::{Actor, Cap, PostRef, PostTypeCaps};
use crate::error::{WpError, WpResult};
use crate::formatting::{sanitize_title, wpautop};
use crate::site::{Site, now};
use crate::store::{Post, PostQuery};

use super::params::{Context, Params, Validator};
use super::{X_WP_TOTAL, X_WP_TOTAL_PAGES, json_response, route_id};

/// A post type served by this controller.
pub struct PostType {
    pub name: &'static str,
    pub rest_base: &'static str,
    pub hierarchical: bool,
    pub caps: PostTypeCaps,
}

impl PostType {
    pub fn post() -> Self {
        Self {
            name: "post",
            rest_base: "posts",
            hierarchical: false,
            caps: PostTypeCaps::for_plural("posts"),
        }
    }
    pub fn page() -> Self {
        Self {
            name: "page",
            rest_base: "pages",
            hierarchical: true,
            caps: PostTypeCaps::for_plural("pages"),
        }
    }
    pub fn by_rest_base(base: &str) -> Option<Self> {
        match base {
            "posts" => Some(Self::post()),
            "pages" => Some(Self::page()),
            _ => None,
        }
    }
}

/// For `Allow`: `get_items_permissions_check()` passes for a plain read; creating needs
/// the type's `create_posts`.
pub fn allowed_on_collection(auth: &Auth, base: &str) -> Vec<&'static str> {
    let Some(pt) = PostType::by_rest_base(base) else {
        return vec![];
    };
    let mut methods = vec!["GET"];
    if auth.actor().can(Cap::Primitive(&pt.caps.create_posts)) {
        methods.push("POST");
    }
    methods
}

/// For `Allow`: the item's read, update and delete permission checks.
pub async fn allowed_on_item(site: &Site, auth: &Auth, base: &str, id: &str) -> Vec<&'static str> {
    let (Some(pt), Ok(id)) = (PostType::by_rest_base(base), route_id(id)) else {
        return vec![];
    };
    let post = match site.store.post_by_id(id).await {
        Ok(Some(p)) if p.post_type == pt.name => p,
        _ => return vec![],
    };
    let actor = auth.actor();
    let mut methods = vec![];
    if can_read(&actor, &post, &pt) {
        methods.push("GET");
    }
    if can_edit(&actor, &post, &pt) {
        methods.extend(["POST", "PUT", "PATCH"]);
    }
    if actor.can(Cap::DeletePost(post_ref(&post, &pt))) {
        methods.push("DELETE");
    }
    methods
}

const STATUSES: &[&str] = &["publish", "future", "draft", "pending", "private"];
const QUERY_STATUSES: &[&str] = &[
    "publish",
    "future",
    "draft",
    "pending",
    "private",
    "trash",
    "auto-draft",
    "inherit",
    "any",
];

/// Handlers for one post type: WordPress registers one controller instance per type.
macro_rules! post_type_routes {
    ($router:expr, $collection:literal, $item:literal, $pt:expr) => {{
        async fn list(s: State<Arc<Site>>, a: Auth, p: Params) -> WpResult<Response> {
            get_items(s, a, p, $pt).await
        }
        async fn create(s: State<Arc<Site>>, a: Auth, p: Params) -> WpResult<Response> {
            create_item(s, a, p, $pt).await
        }
        async fn read(
            s: State<Arc<Site>>,
            a: Auth,
            id: Path<String>,
            p: Params,
        ) -> WpResult<Response> {
            get_item(s, a, id, p, $pt).await
        }
        $router
            .route($collection, get(list).post(create))
            .route($item, get(read))
    }};
}

pub fn routes() -> Router<Arc<Site>> {
    let r = Router::new();
    let r = post_type_routes!(r, "/wp/v2/posts", "/wp/v2/posts/{id}", PostType::post());
    post_type_routes!(r, "/wp/v2/pages", "/wp/v2/pages/{id}", PostType::page())
}

fn post_ref<'a>(post: &'a Post, pt: &'a PostType) -> PostRef<'a> {
    PostRef {
        author: post.author,
        status: &post.status,
        pre_trash_status: post.pre_trash_status.as_deref(),
        caps: &pt.caps,
    }
}

/// `check_read_permission()`.
fn can_read(actor: &Actor<'_>, post: &Post, pt: &PostType) -> bool {
    post.status == "publish" || actor.can(Cap::ReadPost(post_ref(post, pt)))
}

fn can_edit(actor: &Actor<'_>, post: &Post, pt: &PostType) -> bool {
    actor.can(Cap::EditPost(post_ref(post, pt)))
}

/// Site-local wall time for an instant (site timezone from `timezone_string`/`gmt_offset`).
async fn site_tz(site: &Site) -> WpResult<jiff::tz::TimeZone> {
    let tz_name = site
        .store
        .get_option("timezone_string")
        .await?
        .unwrap_or_default();
    if !tz_name.is_empty()
        && let Ok(tz) = jiff::tz::TimeZone::get(&tz_name)
    {
        return Ok(tz);
    }
    let offset: f64 = site
        .store
        .get_option("gmt_offset")
        .await?
        .and_then(|o| o.parse().ok())
        .unwrap_or(0.0);
    let secs = (offset * 3600.0).round() as i32;
    Ok(jiff::tz::Offset::from_seconds(secs)
        .map(jiff::tz::TimeZone::fixed)
        .unwrap_or(jiff::tz::TimeZone::UTC))
}

fn fmt_date(ts: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_second(ts)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%dT%H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| "1970-01-01T00:00:00".into())
}

/// Parses a REST `date-time` (`YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|±HH[:MM]]`); a value without
/// an offset is wall time in `tz`.
fn parse_date(input: &str, tz: &jiff::tz::TimeZone) -> Option<i64> {
    let s = input.trim();
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Some(ts.as_second());
    }
    let normalized = s.replacen(' ', "T", 1);
    let dt: jiff::civil::DateTime = normalized.parse().ok()?;
    dt.to_zoned(tz.clone())
        .ok()
        .map(|z| z.timestamp().as_second())
}

fn permalink(site: &Site, post: &Post, pt: &PostType) -> String {
    let viewable = matches!(post.status.as_str(), "publish" | "private") && !post.slug.is_empty();
    if post.status == "publish" && viewable {
        format!("{}/{}/", site.config.home, post.slug)
    } else if pt.name == "page" {
        format!("{}/?page_id={}", site.config.home, post.id)
    } else {
        format!("{}/?p={}", site.config.home, post.id)
    }
}

/// `prepare_item_for_response()`: the post in WordPress's field order for a context.
fn prepare_item(
    site: &Site,
    post: &Post,
    pt: &PostType,
    ctx: Context,
    tz: &jiff::tz::TimeZone,
    show_protected: bool,
) -> Value {
    let edit = ctx == Context::Edit;
    let protected = !post.password.is_empty();
    let hide = protected && !show_protected;
    let link = permalink(site, post, pt);
    let rendered_content = if hide {
        String::new()
    } else {
        wpautop(&post.content)
    };
    let rendered_excerpt = if hide {
        String::new()
    } else if post.excerpt.is_empty() {
        wpautop(&excerpt_from(&post.content))
    } else {
        wpautop(&post.excerpt)
    };
    let mut title = Map::new();
    if edit {
        title.insert("raw".into(), json!(post.title));
    }
    title.insert("rendered".into(), json!(post.title));
    let mut excerpt = Map::new();
    if edit {
        excerpt.insert("raw".into(), json!(post.excerpt));
    }
    excerpt.insert("rendered".into(), json!(rendered_excerpt));
    excerpt.insert("protected".into(), json!(protected));

    let self_href = site
        .config
        .rest_url(&format!("wp/v2/{}/{}", pt.rest_base, post.id));
    let links = json!({
        "self": [{ "href": self_href }],
        "collection": [{ "href": site.config.rest_url(&format!("wp/v2/{}", pt.rest_base)) }],
        "about": [{ "href": site.config.rest_url(&format!("wp/v2/types/{}", pt.name)) }],
        "author": [{ "embeddable": true, "href": site.config.rest_url(&format!("wp/v2/users/{}", post.author)) }],
        "curies": [{ "name": "wp", "href": "https://api.w.org/{rel}", "templated": true }]
    });

    let mut o = Map::new();
    o.insert("id".into(), json!(post.id));
    o.insert("date".into(), json!(fmt_date(post.date, tz)));
    if ctx == Context::Embed {
        o.insert("slug".into(), json!(post.slug));
        o.insert("type".into(), json!(pt.name));
        o.insert("link".into(), json!(link));
        o.insert("title".into(), json!({ "rendered": post.title }));
        o.insert(
            "excerpt".into(),
            json!({ "rendered": rendered_excerpt, "protected": protected }),
        );
        o.insert("author".into(), json!(post.author));
        o.insert("featured_media".into(), json!(0));
        o.insert("_links".into(), links);
        return Value::Object(o);
    }
    let guid = format!("{}/?p={}", site.config.home, post.id);
    o.insert(
        "date_gmt".into(),
        json!(fmt_date(post.date, &jiff::tz::TimeZone::UTC)),
    );
    o.insert(
        "guid".into(),
        if edit {
            json!({ "rendered": guid, "raw": guid })
        } else {
            json!({ "rendered": guid })
        },
    );
    o.insert("modified".into(), json!(fmt_date(post.modified, tz)));
    o.insert(
        "modified_gmt".into(),
        json!(fmt_date(post.modified, &jiff::tz::TimeZone::UTC)),
    );
    if edit {
        o.insert("password".into(), json!(post.password));
    }
    o.insert("slug".into(), json!(post.slug));
    o.insert("status".into(), json!(post.status));
    o.insert("type".into(), json!(pt.name));
    o.insert("link".into(), json!(link));
    o.insert("title".into(), Value::Object(title));
    let mut content = Map::new();
    if edit {
        content.insert("raw".into(), json!(post.content));
    }
    content.insert("rendered".into(), json!(rendered_content));
    content.insert("protected".into(), json!(protected));
    if edit {
        content.insert(
            "block_version".into(),
            json!(i32::from(post.content.contains("<!-- wp:"))),
        );
    }
    o.insert("content".into(), Value::Object(content));
    o.insert("excerpt".into(), Value::Object(excerpt));
    o.insert("author".into(), json!(post.author));
    o.insert("featured_media".into(), json!(0));
    if pt.hierarchical {
        o.insert("parent".into(), json!(post.parent));
        o.insert("menu_order".into(), json!(post.menu_order));
    }
    o.insert("comment_status".into(), json!(post.comment_status));
    o.insert("ping_status".into(), json!(post.ping_status));
    if pt.name == "post" {
        o.insert("sticky".into(), json!(false));
    }
    o.insert("template".into(), json!(""));
    if pt.name == "post" {
        o.insert("format".into(), json!("standard"));
    }
    o.insert("meta".into(), json!({ "footnotes": "" }));
    if edit {
        let tag = if pt.hierarchical {
            "%pagename%"
        } else {
            "%postname%"
        };
        o.insert(
            "permalink_template".into(),
            json!(format!("{}/{tag}/", site.config.home)),
        );
        o.insert("generated_slug".into(), json!(sanitize_title(&post.title)));
    }
    o.insert(
        "class_list".into(),
        json!([
            format!("post-{}", post.id),
            pt.name,
            format!("type-{}", pt.name),
            format!("status-{}", post.status),
            "hentry"
        ]),
    );
    o.insert("_links".into(), links);
    Value::Object(o)
}

/// `wp_trim_excerpt()` without filters: the first 55 words of the text content.
fn excerpt_from(content: &str) -> String {
    let text = crate::formatting::strip_all_tags(content);
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() > 55 {
        format!("{} [&hellip;]", words[..55].join(" "))
    } else {
        words.join(" ")
    }
}

/// `GET /wp/v2/{base}`.
async fn get_items(
    State(site): State<Arc<Site>>,
    auth: Auth,
    params: Params,
    pt: PostType,
) -> WpResult<Response> {
    let actor = auth.actor();
    let mut v = Validator::new(&params);
    let ctx = v.context();
    let page = v.integer_min("page", 1).unwrap_or(1);
    let per_page = v.integer_range("per_page", 1, 100).unwrap_or(10);
    let offset = v.integer("offset");
    let order = v.one_of("order", &["asc", "desc"]).unwrap_or("desc");
    let authors = v.integer_list("author").unwrap_or_default();
    let mut statuses = vec!["publish".to_owned()];
    if let Some(list) = v.string_list("status") {
        let mut checked = vec![];
        for s in &list {
            if !QUERY_STATUSES.contains(&s.as_str()) {
                v.invalid(
                    "status",
                    "rest_not_in_enum",
                    format!("status[0] is not one of {}.", "publish, future, draft, pending, private, trash, auto-draft, inherit, request-pending, request-confirmed, request-failed, request-completed, and any"),
                    Value::Null,
                );
                break;
            }
            // sanitize_post_statuses(): every status but publish needs the type's edit_posts
            // (private also passes with read_private_posts).
            let allowed = s == "publish"
                || actor.can(Cap::Primitive(&pt.caps.edit_posts))
                || (s == "private" && actor.can(Cap::Primitive(&pt.caps.read_private_posts)));
            if !allowed {
                let status = if actor.logged_in() { 403 } else { 401 };
                v.invalid(
                    "status",
                    "rest_forbidden_status",
                    "Status is forbidden.".into(),
                    json!({ "status": status }),
                );
                break;
            }
            if s == "any" {
                checked.extend(
                    ["publish", "future", "draft", "pending", "private"].map(str::to_owned),
                );
            } else {
                checked.push(s.clone());
            }
        }
        statuses = checked;
    }
    v.finish()?;

    if ctx == Context::Edit && !actor.can(Cap::Primitive(&pt.caps.edit_posts)) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_forbidden_context",
            "Sorry, you are not allowed to edit posts in this post type.",
        ));
    }

    let q = PostQuery {
        post_type: pt.name.to_owned(),
        statuses,
        authors,
        limit: per_page,
        offset: offset.unwrap_or((page - 1).saturating_mul(per_page)).max(0),
        ascending: order == "asc",
    };
    let (posts, total) = site.store.query_posts(&q).await?;
    let total_pages = if total == 0 {
        0
    } else {
        (total + per_page - 1) / per_page
    };
    if page > total_pages && total > 0 {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_post_invalid_page_number",
            "The page number requested is larger than the number of pages available.",
        ));
    }
    let tz = site_tz(&site).await?;
    let items: Vec<Value> = posts
        .iter()
        .filter(|p| {
            if ctx == Context::Edit {
                can_edit(&actor, p, &pt)
            } else {
                can_read(&actor, p, &pt)
            }
        })
        .map(|p| {
            let show = ctx == Context::Edit && can_edit(&actor, p, &pt);
            prepare_item(&site, p, &pt, ctx, &tz, show)
        })
        .collect();

    let mut resp = json_response(StatusCode::OK, &Value::Array(items));
    let h = resp.headers_mut();
    h.insert(X_WP_TOTAL.clone(), HeaderValue::from(total));
    h.insert(X_WP_TOTAL_PAGES.clone(), HeaderValue::from(total_pages));
    if let Some(link) = pagination_link(&site, &pt, &params, page, total_pages)
        && let Ok(v) = HeaderValue::from_str(&link)
    {
        h.insert(header::LINK, v);
    }
    Ok(resp)
}

/// `Link: <…&page=n>; rel="prev", <…>; rel="next"` with the request's own query args.
fn pagination_link(
    site: &Site,
    pt: &PostType,
    params: &Params,
    page: i64,
    total_pages: i64,
) -> Option<String> {
    let base = site.config.rest_url(&format!("wp/v2/{}", pt.rest_base));
    let with_page = |n: i64| {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &params.0 {
            if k == "page" {
                continue;
            }
            match v {
                Value::String(s) => {
                    ser.append_pair(k, s);
                }
                Value::Array(a) => {
                    for item in a {
                        ser.append_pair(
                            &format!("{k}[]"),
                            &item
                                .as_str()
                                .map_or_else(|| item.to_string(), str::to_owned),
                        );
                    }
                }
                other => {
                    ser.append_pair(k, &other.to_string());
                }
            }
        }
        ser.append_pair("page", &n.to_string());
        format!("{base}?{}", ser.finish())
    };
    let mut parts = vec![];
    if page > 1 {
        let prev = (page - 1).min(total_pages.max(1));
        parts.push(format!("<{}>; rel=\"prev\"", with_page(prev)));
    }
    if page < total_pages {
        parts.push(format!("<{}>; rel=\"next\"", with_page(page + 1)));
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join(", "))
    }
}

/// `GET /wp/v2/{base}/<id>`.
async fn get_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path(id): Path<String>,
    params: Params,
    pt: PostType,
) -> WpResult<Response> {
    let id = route_id(&id)?;
    let actor = auth.actor();
    let mut v = Validator::new(&params);
    let ctx = v.context();
    let password = v.string("password");
    v.finish()?;

    let post = match site.store.post_by_id(id).await? {
        Some(p) if p.post_type == pt.name => p,
        _ => return Err(WpError::rest_post_invalid_id()),
    };
    if ctx == Context::Edit && !can_edit(&actor, &post, &pt) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_forbidden_context",
            "Sorry, you are not allowed to edit this post.",
        ));
    }
    if !can_read(&actor, &post, &pt) {
        return Err(WpError::rest_forbidden(actor.logged_in()));
    }
    let mut show = ctx == Context::Edit;
    if !post.password.is_empty()
        && let Some(given) = password.as_deref().filter(|p| !p.is_empty())
    {
        if !crate::auth::app_passwords::hashes_equal(given, &post.password) {
            return Err(WpError::new(
                StatusCode::FORBIDDEN,
                "rest_post_incorrect_password",
                "Incorrect post password.",
            ));
        }
        show = true;
    }
    let tz = site_tz(&site).await?;
    let body = prepare_item(
        &site,
        &post,
        &pt,
        ctx,
        &tz,
        show || post.password.is_empty(),
    );
    let mut resp = json_response(StatusCode::OK, &body);
    if let Ok(v) = HeaderValue::from_str(&format!(
        "<{}>; rel=\"alternate\"; type=text/html",
        permalink(&site, &post, &pt)
    )) {
        resp.headers_mut().insert(header::LINK, v);
    }
    Ok(resp)
}

/// `title`, `content`, `excerpt` accept a string or `{"raw": …}`.
fn raw_field(v: &mut Validator<'_>, params: &Params, name: &str) -> Option<String> {
    match params.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => match o.get("raw") {
            Some(Value::String(s)) => Some(s.clone()),
            None => Some(String::new()),
            Some(_) => {
                v.invalid(
                    &format!("{name}[raw]"),
                    "rest_invalid_type",
                    format!("{name}[raw] is not of type string."),
                    json!({ "param": format!("{name}[raw]") }),
                );
                None
            }
        },
        Value::Null => None,
        _ => {
            v.invalid(
                name,
                "rest_invalid_type",
                format!("{name} is not of type object."),
                json!({ "param": name }),
            );
            None
        }
    }
}

/// Appends `-2`, `-3`, … until the slug is free (`wp_unique_post_slug`).
async fn unique_slug(site: &Site, post_type: &str, base: &str) -> WpResult<String> {
    let mut slug = base.to_owned();
    let mut n = 2;
    while site.store.slug_exists(post_type, &slug).await? {
        slug = format!("{base}-{n}");
        n += 1;
    }
    Ok(slug)
}

/// `POST /wp/v2/{base}`.
async fn create_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    params: Params,
    pt: PostType,
) -> WpResult<Response> {
    let actor = auth.actor();
    let tz = site_tz(&site).await?;
    let mut v = Validator::new(&params);
    let title = raw_field(&mut v, &params, "title");
    let content = raw_field(&mut v, &params, "content");
    let excerpt = raw_field(&mut v, &params, "excerpt");
    let status = v.one_of("status", STATUSES);
    let slug = v.string("slug");
    let author = v.integer("author");
    let password = v.string("password");
    let comment_status = v.one_of("comment_status", &["open", "closed"]);
    let ping_status = v.one_of("ping_status", &["open", "closed"]);
    let mut date = None;
    for key in ["date", "date_gmt"] {
        match params.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                let zone = if key == "date" {
                    tz.clone()
                } else {
                    jiff::tz::TimeZone::UTC
                };
                match parse_date(s, &zone) {
                    Some(ts) => {
                        if date.is_none() {
                            date = Some(ts);
                        }
                    }
                    None => v.invalid(
                        key,
                        "rest_invalid_date",
                        "Invalid date.".into(),
                        Value::Null,
                    ),
                }
            }
            Some(_) => v.invalid(
                key,
                "rest_invalid_type",
                format!("{key} is not of type string,null."),
                json!({ "param": key }),
            ),
        }
    }
    let menu_order = if pt.hierarchical {
        v.integer("menu_order")
    } else {
        None
    };
    let parent = if pt.hierarchical {
        v.integer("parent")
    } else {
        None
    };
    v.finish()?;

    // create_item_permissions_check(), in WordPress's order.
    if params.get("id").is_some_and(|id| {
        !matches!(id, Value::Null) && id != &json!(0) && id != &json!("") && id != &json!("0")
    }) {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_post_exists",
            "Cannot create existing post.",
        ));
    }
    if let Some(a) = author
        && a != actor.id
        && !actor.can(Cap::Primitive(&pt.caps.edit_others_posts))
    {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_edit_others",
            "Sorry, you are not allowed to create posts as this user.",
        ));
    }
    if !actor.can(Cap::Primitive(&pt.caps.create_posts)) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_create",
            "Sorry, you are not allowed to create posts as this user.",
        ));
    }

    // handle_status_param().
    let mut status = status.unwrap_or("draft");
    match status {
        "publish" | "future" if !actor.can(Cap::Primitive(&pt.caps.publish_posts)) => {
            return Err(WpError::auth_required(
                true,
                "rest_cannot_publish",
                "Sorry, you are not allowed to publish posts in this post type.",
            ));
        }
        "private" if !actor.can(Cap::Primitive(&pt.caps.publish_posts)) => {
            return Err(WpError::auth_required(
                true,
                "rest_cannot_publish",
                "Sorry, you are not allowed to create private posts in this post type.",
            ));
        }
        _ => {}
    }
    let author = author.unwrap_or(actor.id);
    if author != actor.id && site.store.user_by_id(author).await?.is_none() {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_invalid_author",
            "Invalid author ID.",
        ));
    }
    if let Some(p) = parent.filter(|p| *p != 0)
        && !site
            .store
            .post_by_id(p)
            .await?
            .is_some_and(|pp| pp.post_type == pt.name)
    {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_post_invalid_id",
            "Invalid post parent ID.",
        ));
    }
    let title = title.unwrap_or_default();
    let content = content.unwrap_or_default();
    let excerpt = excerpt.unwrap_or_default();
    if title.is_empty() && content.is_empty() && excerpt.is_empty() {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "empty_content",
            "Content, title, and excerpt are empty.",
        ));
    }

    let now = now();
    let date_given = date.is_some();
    let date = date.unwrap_or(now);
    if status == "publish" && date - now >= 60 {
        status = "future";
    } else if status == "future" && date - now < 60 {
        status = "publish";
    }
    let slug = match slug.map(|s| sanitize_title(&s)).filter(|s| !s.is_empty()) {
        Some(s) => unique_slug(&site, pt.name, &s).await?,
        None if matches!(status, "publish" | "future" | "private") => {
            let base = sanitize_title(&title);
            if base.is_empty() {
                String::new()
            } else {
                unique_slug(&site, pt.name, &base).await?
            }
        }
        None => String::new(),
    };
    let default_comments = if pt.name == "page" { "closed" } else { "open" };
    let mut post = Post {
        id: 0,
        post_type: pt.name.to_owned(),
        status: status.to_owned(),
        author,
        title,
        content,
        excerpt,
        slug,
        password: password.unwrap_or_default(),
        parent: parent.unwrap_or(0),
        menu_order: menu_order.unwrap_or(0),
        comment_status: comment_status.unwrap_or(default_comments).to_owned(),
        ping_status: ping_status.unwrap_or(default_comments).to_owned(),
        date,
        date_floating: !date_given && matches!(status, "draft" | "pending"),
        modified: now,
        pre_trash_status: None,
    };
    post.id = site.store.insert_post(&post).await?;
    tracing::info!(post_id = post.id, post_type = pt.name, status = %post.status, author = post.author, "post created");

    let body = prepare_item(&site, &post, &pt, Context::Edit, &tz, true);
    let mut resp = json_response(StatusCode::CREATED, &body);
    if let Ok(loc) = HeaderValue::from_str(
        &site
            .config
            .rest_url(&format!("wp/v2/{}/{}", pt.rest_base, post.id)),
    ) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}
