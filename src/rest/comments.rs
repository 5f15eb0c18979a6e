//! Comments: `WP_REST_Comments_Controller` (`class-wp-rest-comments-controller.php`), with
//! what it calls in `wp-includes/comment.php`: `wp_allow_comment()` (duplicates, floods,
//! approval), `wp_filter_comment()` (save filters), `wp_set_comment_status()`,
//! `wp_trash_comment()`, `wp_spam_comment()` and their inverses, `wp_delete_comment()`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::auth::{Auth, Client};
use crate::caps::{Actor, Cap};
use crate::error::{WpError, WpResult};
use crate::formatting::{comment_text, is_email, pre_name_field, sanitize_text_field};
use crate::post_types::{ATTACHMENT, PostType};
use crate::site::{Site, now};
use crate::store::{Comment, CommentOrderBy, CommentQuery, Post, User};

use super::params::{Context, Params, Validator};
use super::posts::{fmt_date, parse_date, post_ref, site_tz};
use super::registry::AllowHints;
use super::{json_response, route_id};

pub fn routes() -> Router<Arc<Site>> {
    Router::new()
        .route("/wp/v2/comments", get(get_items).post(create_item))
        .route(
            "/wp/v2/comments/{id}",
            get(get_item)
                .post(update_item)
                .put(update_item)
                .patch(update_item)
                .delete(delete_item),
        )
}

/// `get_comment_type()`'s default and the only type the REST API creates.
const COMMENT: &str = "comment";
/// `wp_check_comment_data_max_lengths()`: the column sizes of `wp_comments`, in bytes.
const MAX_LENGTHS: [(&str, usize); 4] = [
    ("comment_author_column_length", 245),
    ("comment_author_email_column_length", 100),
    ("comment_author_url_column_length", 200),
    ("comment_content_column_length", 65525),
];
/// `wp_throttle_comment_flood()`: a second comment within 15 seconds is a flood.
const FLOOD_SECONDS: i64 = 15;

fn moderator(actor: &Actor<'_>) -> bool {
    actor.can(Cap::Primitive("moderate_comments"))
}

/// The post type object of a post (attachments have theirs outside the configured list).
fn type_of<'a>(site: &'a Site, post: &Post) -> Option<&'a PostType> {
    if post.post_type == "attachment" {
        Some(&ATTACHMENT)
    } else {
        site.post_type(&post.post_type)
    }
}

/// What a read request says about the post it reads through, for
/// `check_read_post_permission()`.
#[derive(Clone, Copy)]
struct ReadArgs<'a> {
    edit: bool,
    password: Option<&'a str>,
    /// One post (`post` with a single id) or one comment (`id`) was asked for: only then is
    /// the `password` looked at.
    requested: bool,
}

/// `check_read_post_permission()`: a password-protected post is readable through its
/// comments only by those who may edit it, unless the request unlocks it
/// (`can_access_password_content()`).
async fn can_read_post(site: &Site, actor: &Actor<'_>, post: &Post, args: ReadArgs<'_>) -> bool {
    let Some(pt) = type_of(site, post) else {
        return false;
    };
    if !post.password.is_empty() {
        let can_edit = actor.can(Cap::EditPost(post_ref(post, pt)));
        let unlocked = args.requested
            && ((args.edit && can_edit)
                || args.password.is_some_and(|p| {
                    !p.is_empty() && crate::auth::app_passwords::hashes_equal(p, &post.password)
                }));
        if !unlocked {
            return can_edit;
        }
    }
    if pt.name == "attachment" {
        return super::media::can_read(site, actor, post).await;
    }
    post.status == "publish" || actor.can(Cap::ReadPost(post_ref(post, pt)))
}

/// `edit_comment` for a comment whose post is `post` (`None`: orphaned).
pub(crate) fn can_edit_comment(site: &Site, actor: &Actor<'_>, post: Option<&Post>) -> bool {
    let p = post.and_then(|p| type_of(site, p).map(|pt| post_ref(p, pt)));
    actor.can(Cap::EditComment(p))
}

/// `check_read_permission()` for a comment.
async fn can_read_comment(
    site: &Site,
    actor: &Actor<'_>,
    c: &Comment,
    post: Option<&Post>,
    args: ReadArgs<'_>,
) -> bool {
    if let Some(p) = post
        && c.approved == "1"
        && can_read_post(site, actor, p, args).await
    {
        return true;
    }
    if !actor.logged_in() {
        return false;
    }
    if c.post_id == 0 && !moderator(actor) {
        return false;
    }
    if c.user_id != 0 && c.user_id == actor.id {
        return true;
    }
    can_edit_comment(site, actor, post)
}

/// `check_edit_permission()`.
fn can_edit(site: &Site, actor: &Actor<'_>, post: Option<&Post>) -> bool {
    actor.logged_in() && (moderator(actor) || can_edit_comment(site, actor, post))
}

/// `prepare_status_response()`.
fn status_name(approved: &str) -> &str {
    match approved {
        "1" | "approve" => "approved",
        "0" | "hold" => "hold",
        other => other,
    }
}

/// `sanitize_key()`: lower case, only `a-z0-9_-`.
fn sanitize_key(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            let c = c.to_ascii_lowercase();
            (c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-').then_some(c)
        })
        .collect()
}

/// What items need besides their row: their posts, whether they have replies, and the
/// users whose avatars they show.
#[derive(Default)]
struct Related {
    posts: HashMap<i64, Option<Post>>,
    with_children: Vec<i64>,
    users: HashMap<i64, Option<User>>,
}

impl Related {
    async fn posts_of(site: &Site, comments: &[&Comment]) -> WpResult<Self> {
        let mut r = Self::default();
        for c in comments {
            if c.post_id != 0 && !r.posts.contains_key(&c.post_id) {
                let p = site.store.post_by_id(c.post_id).await?;
                r.posts.insert(c.post_id, p);
            }
        }
        Ok(r)
    }

    async fn complete(&mut self, site: &Site, comments: &[&Comment]) -> WpResult<()> {
        let ids: Vec<i64> = comments.iter().map(|c| c.id).collect();
        self.with_children = site.store.comments_with_children(&ids).await?;
        for c in comments {
            if c.user_id != 0 && !self.users.contains_key(&c.user_id) {
                let u = site.store.user_by_id(c.user_id).await?;
                self.users.insert(c.user_id, u);
            }
        }
        Ok(())
    }

    fn post(&self, c: &Comment) -> Option<&Post> {
        self.posts.get(&c.post_id).and_then(Option::as_ref)
    }
}

/// `get_comment_link()` with comment pages off: the post's permalink and `#comment-ID`.
pub(crate) fn comment_link(site: &Site, c: &Comment, post: Option<&Post>) -> String {
    let base = match post {
        Some(p) if p.post_type == "attachment" => super::media::permalink(site, p),
        Some(p) => match site.post_type(&p.post_type) {
            Some(pt) => super::posts::permalink(site, p, pt, ""),
            None => String::new(),
        },
        None => String::new(),
    };
    format!("{base}#comment-{}", c.id)
}

/// `prepare_item_for_response()` then `filter_response_by_context()`, in WordPress's field
/// order.
fn prepare_item(
    site: &Site,
    c: &Comment,
    related: &Related,
    ctx: Context,
    tz: &jiff::tz::TimeZone,
) -> Value {
    let post = related.post(c);
    let edit = ctx == Context::Edit;
    let embed = ctx == Context::Embed;
    let mut o = Map::new();
    o.insert("id".into(), json!(c.id));
    if !embed {
        o.insert("post".into(), json!(c.post_id));
    }
    o.insert("parent".into(), json!(c.parent));
    o.insert("author".into(), json!(c.user_id));
    o.insert("author_name".into(), json!(c.author_name));
    if edit {
        o.insert("author_email".into(), json!(c.author_email));
    }
    o.insert("author_url".into(), json!(c.author_url));
    if edit {
        o.insert("author_ip".into(), json!(c.author_ip));
        o.insert("author_user_agent".into(), json!(c.agent));
    }
    o.insert("date".into(), json!(fmt_date(c.date, tz)));
    if !embed {
        o.insert(
            "date_gmt".into(),
            json!(fmt_date(c.date, &jiff::tz::TimeZone::UTC)),
        );
    }
    let rendered = comment_text(&c.content, &site.config.home);
    o.insert(
        "content".into(),
        if edit {
            json!({ "rendered": rendered, "raw": c.content })
        } else {
            json!({ "rendered": rendered })
        },
    );
    o.insert("link".into(), json!(comment_link(site, c, post)));
    if !embed {
        o.insert("status".into(), json!(status_name(&c.approved)));
    }
    o.insert(
        "type".into(),
        json!(if c.comment_type.is_empty() {
            COMMENT
        } else {
            c.comment_type.as_str()
        }),
    );
    // `get_avatar_data()`: the user's address for a user's comment, else the comment's.
    let email = match related.users.get(&c.user_id).and_then(Option::as_ref) {
        Some(u) => u.email.as_str(),
        None => c.author_email.as_str(),
    };
    o.insert(
        "author_avatar_urls".into(),
        json!({
            "24": super::users::gravatar(email, 24),
            "48": super::users::gravatar(email, 48),
            "96": super::users::gravatar(email, 96),
        }),
    );
    if !embed {
        // No comment meta is registered: PHP's empty array.
        o.insert("meta".into(), json!([]));
    }
    o.insert("_links".into(), links(site, c, post, related));
    Value::Object(o)
}

/// `prepare_links()`.
fn links(site: &Site, c: &Comment, post: Option<&Post>, related: &Related) -> Value {
    let mut l = Map::new();
    l.insert(
        "self".into(),
        json!([{ "href": site.config.rest_url(&format!("wp/v2/comments/{}", c.id)) }]),
    );
    l.insert(
        "collection".into(),
        json!([{ "href": site.config.rest_url("wp/v2/comments") }]),
    );
    if c.user_id != 0 {
        l.insert(
            "author".into(),
            json!([{ "embeddable": true, "href": site.config.rest_url(&format!("wp/v2/users/{}", c.user_id)) }]),
        );
    }
    if let Some(p) = post {
        let base = if p.post_type == "attachment" {
            Some("media")
        } else {
            site.post_type(&p.post_type).map(|pt| pt.rest_base.as_str())
        };
        if let Some(base) = base {
            l.insert(
                "up".into(),
                json!([{ "embeddable": true, "post_type": p.post_type,
                         "href": site.config.rest_url(&format!("wp/v2/{base}/{}", p.id)) }]),
            );
        }
    }
    if c.parent != 0 {
        l.insert(
            "in-reply-to".into(),
            json!([{ "embeddable": true, "href": site.config.rest_url(&format!("wp/v2/comments/{}", c.parent)) }]),
        );
    }
    if related.with_children.contains(&c.id) {
        l.insert(
            "children".into(),
            json!([{ "embeddable": true, "href": site.config.rest_url(&format!("wp/v2/comments?parent={}", c.id)) }]),
        );
    }
    Value::Object(l)
}

async fn option_is_on(site: &Site, name: &str, default: bool) -> WpResult<bool> {
    Ok(match site.store.get_option(name).await? {
        Some(v) => v.trim() == "1",
        None => default,
    })
}

/// For `Allow` on `/wp/v2/comments`: both permission callbacks run with the request as
/// WordPress has it. On a read, the read endpoint's defaults are set (`status=approve`,
/// `type=comment`), so creating is refused to all but moderators, and `post` is an array,
/// which PHP's `(int)` makes 1 when not empty. On a creation, the handler reports its own
/// check; the read check then sees no `type`, which only `edit_posts` may leave out.
pub async fn allowed_on_collection(
    site: &Site,
    auth: &Auth,
    edit: bool,
    query: &str,
    hints: AllowHints,
) -> Vec<&'static str> {
    let actor = auth.actor();
    let params = Params(super::params::parse_form(query));
    let mut v = Validator::new(&params);
    let mut args = ItemsArgs::parse(&mut v, !hints.write);
    args.edit = edit;
    let mut m = vec![];
    if items_permissions_check(site, &actor, &args).await.is_ok() {
        m.push("GET");
    }
    let can_create = match hints.permitted {
        Some(p) if hints.write => p,
        _ => {
            let create = CreateArgs {
                author: None,
                author_ip: None,
                status: true,
                post: i64::from(!args.posts.is_empty()),
                password: None,
            };
            create_permissions_check(site, &actor, "", &create)
                .await
                .is_ok()
        }
    };
    if can_create {
        m.push("POST");
    }
    m
}

/// For `Allow` on `/wp/v2/comments/<id>`: the item's read and edit checks.
pub async fn allowed_on_item(
    site: &Site,
    auth: &Auth,
    id: &str,
    edit: bool,
    query: &str,
) -> Vec<&'static str> {
    let Ok(id) = route_id(id) else {
        return vec![];
    };
    let Ok((c, post)) = load(site, id).await else {
        return vec![];
    };
    let actor = auth.actor();
    let params = super::params::parse_form(query);
    let args = ReadArgs {
        edit,
        password: params.get("password").and_then(Value::as_str),
        requested: true,
    };
    let mut m = vec![];
    let readable = can_read_comment(site, &actor, &c, post.as_ref(), args).await
        && match &post {
            Some(p) => can_read_post(site, &actor, p, args).await,
            None => true,
        };
    if readable && (!edit || moderator(&actor)) {
        m.push("GET");
    }
    if can_edit(site, &actor, post.as_ref()) {
        m.extend(["POST", "PUT", "PATCH", "DELETE"]);
    }
    m
}

/// `get_comment()` of the controller: the comment and its post (404s as WordPress).
async fn load(site: &Site, id: i64) -> WpResult<(Comment, Option<Post>)> {
    let invalid = || {
        WpError::new(
            StatusCode::NOT_FOUND,
            "rest_comment_invalid_id",
            "Invalid comment ID.",
        )
    };
    if id <= 0 {
        return Err(invalid());
    }
    let c = site.store.comment_by_id(id).await?.ok_or_else(invalid)?;
    if c.post_id == 0 {
        return Ok((c, None));
    }
    match site.store.post_by_id(c.post_id).await? {
        Some(p) => Ok((c, Some(p))),
        None => Err(WpError::new(
            StatusCode::NOT_FOUND,
            "rest_post_invalid_id",
            "Invalid post ID.",
        )),
    }
}

/// `after` / `before` as instants (site time when no offset is given).
fn date_arg(v: &mut Validator<'_>, key: &str, tz: &jiff::tz::TimeZone) -> Option<i64> {
    let s = v.string(key)?;
    let ts = parse_date(&s, tz);
    if ts.is_none() {
        v.invalid(
            key,
            "rest_invalid_date",
            "Invalid date.".into(),
            Value::Null,
        );
    }
    ts
}

/// `WP_Comment_Query`'s `status`: `hold` and `approve` name `0` and `1`, `all` both, `any`
/// everything; other values are compared as they are.
pub(crate) fn query_statuses(status: &str) -> Vec<String> {
    match status {
        "hold" => vec!["0".into()],
        "approve" => vec!["1".into()],
        "all" | "" => vec!["0".into(), "1".into()],
        "any" => vec![],
        other => vec![other.to_owned()],
    }
}

/// `WP_Comment_Query`'s `type`: `comment` also matches the empty type of old rows, `pings`
/// both ping types, `all` (or empty) everything.
fn query_types(ty: &str) -> Vec<String> {
    match ty {
        "" | "all" => vec![],
        "comment" | "comments" => vec![String::new(), COMMENT.into()],
        "pings" => vec!["pingback".into(), "trackback".into()],
        other => vec![other.to_owned()],
    }
}

/// The arguments `get_items_permissions_check()` looks at.
#[derive(Default)]
struct ItemsArgs {
    posts: Vec<i64>,
    edit: bool,
    password: Option<String>,
    author: bool,
    author_exclude: bool,
    author_email: bool,
    /// `type` and `status` after `sanitize_key()`; `None` when absent (no default applied).
    ty: Option<String>,
    status: Option<String>,
}

impl ItemsArgs {
    /// From a request's parameters, leniently (for `Allow`); `defaults`: the read endpoint's
    /// defaults apply.
    fn parse(v: &mut Validator<'_>, defaults: bool) -> Self {
        let default = |s: &str| defaults.then(|| s.to_owned());
        Self {
            posts: v.integer_list("post").unwrap_or_default(),
            edit: false,
            password: v.string("password"),
            author: v.integer_list("author").is_some_and(|a| !a.is_empty()),
            author_exclude: v
                .integer_list("author_exclude")
                .is_some_and(|a| !a.is_empty()),
            author_email: v.string("author_email").is_some_and(|e| !e.is_empty()),
            ty: v
                .string("type")
                .map(|s| sanitize_key(&s))
                .or_else(|| default(COMMENT)),
            status: v
                .string("status")
                .map(|s| sanitize_key(&s))
                .or_else(|| default("approve")),
        }
    }

    fn read_args(&self) -> ReadArgs<'_> {
        ReadArgs {
            edit: self.edit,
            password: self.password.as_deref(),
            requested: self.posts.len() == 1,
        }
    }
}

/// `get_items_permissions_check()`.
async fn items_permissions_check(site: &Site, actor: &Actor<'_>, args: &ItemsArgs) -> WpResult<()> {
    for &post_id in &args.posts {
        if post_id != 0 {
            if let Some(p) = site.store.post_by_id(post_id).await?
                && !can_read_post(site, actor, &p, args.read_args()).await
            {
                return Err(WpError::auth_required(
                    actor.logged_in(),
                    "rest_cannot_read_post",
                    "Sorry, you are not allowed to read the post for this comment.",
                ));
            }
        } else if !moderator(actor) {
            return Err(WpError::auth_required(
                actor.logged_in(),
                "rest_cannot_read",
                "Sorry, you are not allowed to read comments without a post.",
            ));
        }
    }
    if args.edit && !moderator(actor) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_forbidden_context",
            "Sorry, you are not allowed to edit comments.",
        ));
    }
    if !actor.can(Cap::Primitive("edit_posts")) {
        let mut forbidden = vec![];
        if args.author {
            forbidden.push("author");
        }
        if args.author_exclude {
            forbidden.push("author_exclude");
        }
        if args.author_email {
            forbidden.push("author_email");
        }
        if args.ty.as_deref() != Some(COMMENT) {
            forbidden.push("type");
        }
        if args.status.as_deref() != Some("approve") {
            forbidden.push("status");
        }
        if !forbidden.is_empty() {
            return Err(WpError::auth_required(
                actor.logged_in(),
                "rest_forbidden_param",
                format!("Query parameter not permitted: {}", forbidden.join(", ")),
            ));
        }
    }
    Ok(())
}

/// The arguments `create_item_permissions_check()` looks at.
struct CreateArgs<'a> {
    author: Option<i64>,
    author_ip: Option<&'a str>,
    /// `status` is set.
    status: bool,
    post: i64,
    /// The request's `password`: it unlocks a password-protected post
    /// (`check_read_post_permission()` with the post requested).
    password: Option<&'a str>,
}

/// `create_item_permissions_check()`; `client_ip` is `REMOTE_ADDR`.
async fn create_permissions_check(
    site: &Site,
    actor: &Actor<'_>,
    client_ip: &str,
    args: &CreateArgs<'_>,
) -> WpResult<()> {
    if !actor.logged_in()
        && (option_is_on(site, "comment_registration", false).await?
            || !site.config.allow_anonymous_comments)
    {
        return Err(WpError::new(
            StatusCode::UNAUTHORIZED,
            "rest_comment_login_required",
            "Sorry, you must be logged in to comment.",
        ));
    }
    let moderates = moderator(actor);
    let refuse_param = |code: &'static str, param: &str| {
        WpError::auth_required(
            actor.logged_in(),
            code,
            format!("Sorry, you are not allowed to edit '{param}' for comments."),
        )
    };
    if args.author.is_some_and(|a| a != actor.id) && !moderates {
        return Err(refuse_param("rest_comment_invalid_author", "author"));
    }
    if let Some(ip) = args.author_ip
        && !moderates
        && (client_ip.is_empty() || ip != client_ip)
    {
        return Err(refuse_param("rest_comment_invalid_author_ip", "author_ip"));
    }
    if args.status && !moderates {
        return Err(refuse_param("rest_comment_invalid_status", "status"));
    }
    let no_post = || {
        WpError::new(
            StatusCode::FORBIDDEN,
            "rest_comment_invalid_post_id",
            "Sorry, you are not allowed to create this comment without a post.",
        )
    };
    if args.post == 0 {
        return Err(no_post());
    }
    let post = site
        .store
        .post_by_id(args.post)
        .await?
        .ok_or_else(no_post)?;
    if post.status == "draft" {
        return Err(WpError::new(
            StatusCode::FORBIDDEN,
            "rest_comment_draft_post",
            "Sorry, you are not allowed to create a comment on this post.",
        ));
    }
    if post.status == "trash" {
        return Err(WpError::new(
            StatusCode::FORBIDDEN,
            "rest_comment_trash_post",
            "Sorry, you are not allowed to create a comment on this post.",
        ));
    }
    // The post is requested (`post` is set), so a `password` that matches unlocks it, as
    // on reads.
    let read = ReadArgs {
        edit: false,
        password: args.password,
        requested: true,
    };
    if !can_read_post(site, actor, &post, read).await {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_read_post",
            "Sorry, you are not allowed to read the post for this comment.",
        ));
    }
    // `comments_open()`.
    if post.comment_status != "open" {
        return Err(WpError::new(
            StatusCode::FORBIDDEN,
            "rest_comment_closed",
            "Sorry, comments are closed for this item.",
        ));
    }
    Ok(())
}

/// `GET /wp/v2/comments`.
async fn get_items(
    State(site): State<Arc<Site>>,
    auth: Auth,
    params: Params,
) -> WpResult<Response> {
    let actor = auth.actor();
    let tz = site_tz(&site).await?;
    let mut v = Validator::new(&params);
    let ctx = v.context();
    let page = v.integer_min("page", 1).unwrap_or(1);
    let per_page = v.integer_range("per_page", 1, 100).unwrap_or(10);
    let search = v.string("search");
    let after = date_arg(&mut v, "after", &tz);
    let authors = v.integer_list("author").unwrap_or_default();
    let authors_exclude = v.integer_list("author_exclude").unwrap_or_default();
    let author_email = v.string("author_email");
    if let Some(e) = &author_email
        && !is_email(e)
    {
        v.invalid(
            "author_email",
            "rest_invalid_email",
            "Invalid email address.".into(),
            Value::Null,
        );
    }
    let before = date_arg(&mut v, "before", &tz);
    let exclude = v.integer_list("exclude").unwrap_or_default();
    let include = v.integer_list("include").unwrap_or_default();
    let offset = v.integer("offset");
    let order = v.one_of("order", &["asc", "desc"]).unwrap_or("desc");
    let orderby = v
        .one_of(
            "orderby",
            &[
                "date", "date_gmt", "id", "include", "post", "parent", "type",
            ],
        )
        .unwrap_or("date_gmt");
    let parents = v.integer_list("parent").unwrap_or_default();
    let parents_exclude = v.integer_list("parent_exclude").unwrap_or_default();
    let posts = v.integer_list("post").unwrap_or_default();
    let status = v
        .string("status")
        .map_or_else(|| "approve".to_owned(), |s| sanitize_key(&s));
    let ty = v
        .string("type")
        .map_or_else(|| COMMENT.to_owned(), |s| sanitize_key(&s));
    let password = v.string("password");
    v.finish()?;

    let items_args = ItemsArgs {
        posts: posts.clone(),
        edit: ctx == Context::Edit,
        password: password.clone(),
        author: !authors.is_empty(),
        author_exclude: !authors_exclude.is_empty(),
        author_email: author_email.as_deref().is_some_and(|e| !e.is_empty()),
        ty: Some(ty.clone()),
        status: Some(status.clone()),
    };
    items_permissions_check(&site, &actor, &items_args).await?;
    let args = items_args.read_args();

    let mut q = CommentQuery {
        include,
        exclude,
        post_ids: posts,
        parents,
        parents_exclude,
        authors,
        authors_exclude,
        author_email: author_email.filter(|e| !e.is_empty()),
        statuses: query_statuses(&status),
        types: query_types(&ty),
        post_types: vec![],
        search: search.filter(|s| !s.is_empty()),
        after,
        before,
        orderby: match orderby {
            "id" => CommentOrderBy::Id,
            "include" => CommentOrderBy::Include,
            "post" => CommentOrderBy::Post,
            "parent" => CommentOrderBy::Parent,
            "type" => CommentOrderBy::Type,
            _ => CommentOrderBy::Date,
        },
        ascending: order == "asc",
        limit: per_page,
        offset: 0,
    };
    // `offset` wins over `page` unless it is empty (0).
    q.offset = match offset {
        Some(o) if o != 0 => o.max(0),
        _ => (page - 1).saturating_mul(per_page),
    };
    let (comments, total) = site.store.query_comments(&q).await?;
    let total_pages = (total + per_page - 1) / per_page;

    let refs: Vec<&Comment> = comments.iter().collect();
    let mut related = Related::posts_of(&site, &refs).await?;
    let mut readable = vec![];
    for c in &comments {
        if can_read_comment(&site, &actor, c, related.post(c), args).await {
            readable.push(c);
        }
    }
    related.complete(&site, &readable).await?;
    let items: Vec<Value> = readable
        .iter()
        .map(|c| prepare_item(&site, c, &related, ctx, &tz))
        .collect();
    let base = site.config.rest_url("wp/v2/comments");
    Ok(super::collection_response(
        items,
        total,
        total_pages,
        &base,
        &params,
        page,
    ))
}

/// `GET /wp/v2/comments/<id>`.
async fn get_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path(id): Path<String>,
    params: Params,
) -> WpResult<Response> {
    let id = route_id(&id)?;
    let actor = auth.actor();
    let mut v = Validator::new(&params);
    let ctx = v.context();
    let password = v.string("password");
    v.finish()?;

    let (c, post) = load(&site, id).await?;
    if ctx == Context::Edit && !moderator(&actor) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_forbidden_context",
            "Sorry, you are not allowed to edit comments.",
        ));
    }
    let args = ReadArgs {
        edit: ctx == Context::Edit,
        password: password.as_deref(),
        requested: true,
    };
    if !can_read_comment(&site, &actor, &c, post.as_ref(), args).await {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_read",
            "Sorry, you are not allowed to read this comment.",
        ));
    }
    if let Some(p) = &post
        && !can_read_post(&site, &actor, p, args).await
    {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_read_post",
            "Sorry, you are not allowed to read the post for this comment.",
        ));
    }
    respond(&site, &c, post, ctx, StatusCode::OK).await
}

/// The comment as a response in `ctx`.
async fn respond(
    site: &Site,
    c: &Comment,
    post: Option<Post>,
    ctx: Context,
    status: StatusCode,
) -> WpResult<Response> {
    let tz = site_tz(site).await?;
    let body = item_value(site, c, post, ctx, &tz).await?;
    let mut resp = json_response(status, &body);
    if status == StatusCode::CREATED
        && let Ok(loc) =
            HeaderValue::from_str(&site.config.rest_url(&format!("wp/v2/comments/{}", c.id)))
    {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}

async fn item_value(
    site: &Site,
    c: &Comment,
    post: Option<Post>,
    ctx: Context,
    tz: &jiff::tz::TimeZone,
) -> WpResult<Value> {
    let mut related = Related::default();
    if let Some(p) = post {
        related.posts.insert(c.post_id, Some(p));
    }
    related.complete(site, &[c]).await?;
    Ok(prepare_item(site, c, &related, ctx, tz))
}

/// The writable fields of a create or update request, after schema validation and
/// sanitising (`prepare_item_for_database()`'s input).
#[derive(Default)]
struct CommentInput {
    content: Option<String>,
    post: Option<i64>,
    parent: Option<i64>,
    author: Option<i64>,
    author_name: Option<String>,
    author_email: Option<String>,
    author_url: Option<String>,
    author_ip: Option<String>,
    author_user_agent: Option<String>,
    date: Option<i64>,
    status: Option<String>,
}

/// `rest_is_ip_address()`.
fn is_ip(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

fn parse_input(
    v: &mut Validator<'_>,
    params: &Params,
    tz: &jiff::tz::TimeZone,
    creating: bool,
) -> CommentInput {
    let mut input = CommentInput {
        author: v.integer("author"),
        ..CommentInput::default()
    };
    if let Some(e) = v.string("author_email") {
        // `check_comment_author_email()`: empty is allowed.
        if e.is_empty() || is_email(&e) {
            input.author_email = Some(e);
        } else {
            v.invalid(
                "author_email",
                "rest_invalid_email",
                "Invalid email address.".into(),
                Value::Null,
            );
        }
    }
    if let Some(ip) = v.string("author_ip") {
        if is_ip(&ip) {
            input.author_ip = Some(ip);
        } else {
            v.invalid(
                "author_ip",
                "rest_invalid_ip",
                "author_ip is not a valid IP address.".into(),
                Value::Null,
            );
        }
    }
    input.author_name = v.string("author_name").map(|s| sanitize_text_field(&s));
    input.author_url = v
        .string("author_url")
        .map(|u| crate::users::esc_url_raw(&u));
    input.author_user_agent = v
        .string("author_user_agent")
        .map(|s| sanitize_text_field(&s));
    // `content`: a string or `{"raw": …}`, trimmed; anything else is no content.
    input.content = match params.get("content") {
        Some(Value::String(s)) => Some(s.trim().to_owned()),
        Some(Value::Object(o)) => o
            .get("raw")
            .and_then(Value::as_str)
            .map(|s| s.trim().to_owned()),
        _ => None,
    };
    for (key, zone) in [("date", tz.clone()), ("date_gmt", jiff::tz::TimeZone::UTC)] {
        if let Some(s) = v.string(key) {
            match parse_date(&s, &zone) {
                Some(ts) if input.date.is_none() && !s.is_empty() => input.date = Some(ts),
                Some(_) => {}
                None => v.invalid(
                    key,
                    "rest_invalid_date",
                    "Invalid date.".into(),
                    Value::Null,
                ),
            }
        }
    }
    // `parent` and `post` default to 0 on creation.
    input.parent = v.integer("parent").or(creating.then_some(0));
    input.post = v.integer("post").or(creating.then_some(0));
    input.status = v.string("status").map(|s| sanitize_key(&s));
    if let Some(m) = params.get("meta")
        && !matches!(m, Value::Object(_) | Value::Null)
        && !matches!(m, Value::Array(a) if a.is_empty())
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

/// The comment's fields as `prepare_item_for_database()` leaves them, before
/// `wp_filter_comment()`.
#[derive(Default)]
struct Prepared {
    user_id: Option<i64>,
    author_name: Option<String>,
    author_email: Option<String>,
    author_url: Option<String>,
    author_ip: String,
    agent: Option<String>,
}

/// `prepare_item_for_database()`'s author part: a given `author` must be a user and brings
/// that user's name, email and URL; the IP is the given one for moderators, else the
/// client's; the agent the given one, else the `User-Agent` header.
async fn prepare_author(
    site: &Site,
    actor: &Actor<'_>,
    client: &Client,
    input: &CommentInput,
) -> WpResult<Prepared> {
    let mut p = Prepared::default();
    if let Some(author) = input.author {
        match site.store.user_by_id(author).await? {
            Some(u) if author > 0 => {
                p.user_id = Some(u.id);
                p.author_name = Some(u.display_name.clone());
                p.author_email = Some(u.email.clone());
                p.author_url = Some(u.url.clone());
            }
            _ => {
                return Err(WpError::new(
                    StatusCode::BAD_REQUEST,
                    "rest_comment_author_invalid",
                    "Invalid comment author ID.",
                ));
            }
        }
    }
    if let Some(n) = &input.author_name {
        p.author_name = Some(n.clone());
    }
    if let Some(e) = &input.author_email {
        p.author_email = Some(e.clone());
    }
    if let Some(u) = &input.author_url {
        p.author_url = Some(u.clone());
    }
    p.author_ip = match &input.author_ip {
        Some(ip) if moderator(actor) => ip.clone(),
        _ if is_ip(&client.ip) => client.ip.clone(),
        _ => "127.0.0.1".into(),
    };
    p.agent = match &input.author_user_agent {
        Some(a) if !a.is_empty() => Some(a.clone()),
        _ if !client.user_agent.is_empty() => Some(client.user_agent.clone()),
        _ => None,
    };
    Ok(p)
}

/// `wp_check_comment_data_max_lengths()`: the code of the first field too long, if any.
fn too_long(c: &Comment) -> Option<&'static str> {
    let fields = [
        c.author_name.len(),
        c.author_email.len(),
        c.author_url.len(),
        c.content.len(),
    ];
    MAX_LENGTHS
        .iter()
        .zip(fields)
        .find(|((_, max), len)| len > max)
        .map(|((code, _), _)| *code)
}

fn check_lengths(c: &Comment) -> Result<(), Box<WpError>> {
    match too_long(c) {
        Some(code) => Err(Box::new(WpError::new(
            StatusCode::BAD_REQUEST,
            code,
            "Comment field exceeds maximum length allowed.",
        ))),
        None => Ok(()),
    }
}

/// `wp_filter_comment()`'s save filters (`default-filters.php`, `kses_init()`): the author
/// name as other names, email and URL cleaned, the IP reduced to address characters, and
/// the content through `wp_targeted_link_rel`, KSES for users without `unfiltered_html`
/// (`wp_filter_kses`, comment tags only) and `wp_rel_ugc`. Large contents are filtered on
/// the CPU pool.
async fn filter_comment(site: &Site, actor: &Actor<'_>, c: &mut Comment) -> WpResult<()> {
    c.author_name = pre_name_field(&c.author_name);
    let email = c.author_email.trim();
    c.author_email = if email.is_empty() || is_email(email) {
        crate::kses::filter_kses(email)
    } else {
        String::new()
    };
    c.author_url = crate::kses::filter_kses(&crate::users::esc_url_raw(
        &crate::formatting::strip_all_tags(&c.author_url),
    ));
    c.author_ip
        .retain(|ch| ch.is_ascii_hexdigit() || ":., ".contains(ch));
    let kses = !actor.can(Cap::Primitive("unfiltered_html"));
    let host = site
        .config
        .home
        .split_once("://")
        .map_or("", |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .unwrap_or("")
        .to_owned();
    let content = std::mem::take(&mut c.content);
    c.content = site
        .cpu
        .run_sized(content.len(), move || {
            let mut text = content;
            if text.len() >= 3 {
                text = crate::kses::targeted_link_rel(&text);
            }
            if kses {
                text = crate::kses::filter_kses(&text);
            }
            crate::kses::rel_ugc(&text, &host)
        })
        .await?;
    Ok(())
}

/// `check_comment()`: whether a comment from someone who is neither the post's author nor a
/// moderator is approved at once.
async fn check_comment(site: &Site, c: &Comment) -> WpResult<bool> {
    if option_is_on(site, "comment_moderation", false).await? {
        return Ok(false);
    }
    let max_links: usize = site
        .store
        .get_option("comment_max_links")
        .await?
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(2);
    if max_links > 0 && count_links(&c.content) >= max_links {
        return Ok(false);
    }
    let keys = site
        .store
        .get_option("moderation_keys")
        .await?
        .unwrap_or_default();
    if matches_keys(&keys, c) {
        return Ok(false);
    }
    if option_is_on(site, "comment_previously_approved", true).await? {
        if c.author_name.is_empty() || c.author_email.is_empty() {
            return Ok(false);
        }
        let user = site.store.user_by_email(&c.author_email).await?;
        let ok = site
            .store
            .has_approved_comment(user.map(|u| u.id), &c.author_name, &c.author_email)
            .await?;
        return Ok(ok);
    }
    Ok(true)
}

/// The links `check_comment()` counts: `/<a [^>]*href/i` in the content as `comment_text`
/// shows it (`make_clickable()` has made bare URLs and addresses links).
fn count_links(content: &str) -> usize {
    static ANCHOR: std::sync::LazyLock<Option<regex::Regex>> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"(?i)<a [^>]*href").ok());
    // Smilies are images, not links: the site URL they carry does not matter here.
    let shown = comment_text(content, "");
    ANCHOR.as_ref().map_or(0, |r| r.find_iter(&shown).count())
}

/// Whether one of the newline-separated `keys` occurs (case-insensitively) in the comment's
/// author, email, URL, content, IP or user agent (`check_comment()`,
/// `wp_check_comment_disallowed_list()`).
fn matches_keys(keys: &str, c: &Comment) -> bool {
    let fields = [
        &c.author_name,
        &c.author_email,
        &c.author_url,
        &c.content,
        &c.author_ip,
        &c.agent,
    ]
    .map(|f| f.to_lowercase());
    keys.lines()
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .any(|w| fields.iter().any(|f| f.contains(&w)))
}

/// `wp_check_comment_flood()`: moderators are never throttled.
fn throttled(actor: &Actor<'_>) -> bool {
    !actor.can(Cap::Primitive("manage_options")) && !moderator(actor)
}

fn comment_flood() -> WpError {
    WpError::new(
        StatusCode::BAD_REQUEST,
        "comment_flood",
        "You are posting comments too quickly. Slow down.",
    )
}

/// `wp_allow_comment()`: duplicate and flood checks, then the approval status.
async fn allow_comment(site: &Site, actor: &Actor<'_>, c: &Comment) -> WpResult<String> {
    if site
        .store
        .comment_duplicate(
            c.post_id,
            c.parent,
            &c.author_name,
            &c.author_email,
            &c.content,
        )
        .await?
    {
        return Err(WpError::new(
            StatusCode::CONFLICT,
            "comment_duplicate",
            "Duplicate comment detected; it looks as though you&#8217;ve already said that!",
        ));
    }
    if throttled(actor) {
        let by_user = actor.logged_in().then_some(actor.id);
        if let Some(last) = site
            .store
            .last_comment_date(now() - 3600, by_user, &c.author_ip, &c.author_email)
            .await?
            && c.date - last < FLOOD_SECONDS
        {
            return Err(comment_flood());
        }
    }
    let trusted = if c.user_id != 0 {
        match site.store.user_by_id(c.user_id).await? {
            Some(u) => {
                let post_author = match site.store.post_by_id(c.post_id).await? {
                    Some(p) => p.author,
                    None => 0,
                };
                let user = Actor {
                    id: u.id,
                    roles: &u.roles,
                };
                c.user_id == post_author || moderator(&user)
            }
            None => false,
        }
    } else {
        false
    };
    if trusted {
        return Ok("1".into());
    }
    let mut approved = if check_comment(site, c).await? {
        "1"
    } else {
        "0"
    };
    let disallowed = site
        .store
        .get_option("disallowed_keys")
        .await?
        .unwrap_or_default();
    if matches_keys(&disallowed, c) {
        // EMPTY_TRASH_DAYS is on: the trash rather than spam.
        approved = "trash";
    }
    Ok(approved.into())
}

/// `handle_status_param()`: whether the status changed.
fn handle_status(c: &mut Comment, new_status: &str) -> bool {
    // `wp_get_comment_status()`.
    let old = match c.approved.as_str() {
        "1" => "approved",
        "0" => "unapproved",
        "spam" => "spam",
        "trash" => "trash",
        _ => "",
    };
    if new_status == old {
        return false;
    }
    // `wp_unspam_comment()` / `wp_untrash_comment()`: the status before, or held.
    let restore = |c: &mut Comment| {
        c.approved = c
            .pre_trash_status
            .take()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "0".into());
    };
    match new_status {
        "approved" | "approve" | "1" => c.approved = "1".into(),
        "hold" | "0" => c.approved = "0".into(),
        "spam" | "trash" => {
            if c.approved == new_status {
                return false;
            }
            c.pre_trash_status = Some(std::mem::replace(&mut c.approved, new_status.into()));
        }
        "unspam" | "untrash" => {
            let from = if new_status == "unspam" {
                "spam"
            } else {
                "trash"
            };
            if c.approved != from {
                return false;
            }
            restore(c);
        }
        _ => return false,
    }
    true
}

/// `POST /wp/v2/comments`.
async fn create_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    client: Client,
    params: Params,
) -> Response {
    let mut hints = AllowHints {
        write: true,
        ..AllowHints::default()
    };
    let mut resp = create(&site, &auth, &client, &params, &mut hints)
        .await
        .unwrap_or_else(axum::response::IntoResponse::into_response);
    resp.extensions_mut().insert(hints);
    resp
}

async fn create(
    site: &Site,
    auth: &Auth,
    client: &Client,
    params: &Params,
    hints: &mut AllowHints,
) -> WpResult<Response> {
    let actor = auth.actor();
    let tz = site_tz(site).await?;
    let mut v = Validator::new(params);
    let input = parse_input(&mut v, params, &tz, true);
    // The permission check runs for `Allow` even when the arguments are invalid.
    let permission = create_permissions_check(
        site,
        &actor,
        &client.ip,
        &CreateArgs {
            author: input.author,
            author_ip: input.author_ip.as_deref(),
            status: input.status.is_some(),
            post: input.post.unwrap_or(0),
            password: params.get("password").and_then(Value::as_str),
        },
    )
    .await;
    hints.permitted = Some(permission.is_ok());
    v.finish()?;
    permission?;
    let moderates = moderator(&actor);
    let post_id = input.post.unwrap_or(0);
    let post = site
        .store
        .post_by_id(post_id)
        .await?
        .ok_or_else(WpError::rest_post_invalid_id)?;

    // create_item().
    if params.get("id").is_some_and(php_truthy) {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_comment_exists",
            "Cannot create existing comment.",
        ));
    }
    if let Some(t) = params.get("type").filter(|t| php_truthy(t))
        && t.as_str() != Some(COMMENT)
    {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_invalid_comment_type",
            "Cannot create a comment with that type.",
        ));
    }
    let prepared = prepare_author(site, &actor, client, &input).await?;
    let content = input.content.clone().unwrap_or_default();
    if content.is_empty() {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_comment_content_invalid",
            "Invalid comment content.",
        ));
    }
    let mut c = Comment {
        post_id,
        parent: input.parent.unwrap_or(0),
        content,
        date: input.date.unwrap_or_else(now),
        comment_type: COMMENT.into(),
        user_id: prepared.user_id.unwrap_or(0),
        author_name: prepared.author_name.clone().unwrap_or_default(),
        author_email: prepared.author_email.clone().unwrap_or_default(),
        author_url: prepared.author_url.clone().unwrap_or_default(),
        author_ip: prepared.author_ip.clone(),
        agent: prepared.agent.clone().unwrap_or_default(),
        ..Comment::default()
    };
    let missing_author = c.user_id == 0
        && c.author_name.is_empty()
        && c.author_email.is_empty()
        && c.author_url.is_empty();
    if actor.logged_in()
        && missing_author
        && let Some(user) = &auth.user
    {
        c.user_id = user.id;
        c.author_name = user.display_name.clone();
        c.author_email = user.email.clone();
        c.author_url = user.url.clone();
    }
    if option_is_on(site, "require_name_email", true).await?
        && (c.author_name.is_empty() || c.author_email.is_empty())
    {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_comment_author_data_required",
            "Creating a comment requires valid author name and email values.",
        ));
    }
    check_lengths(&c).map_err(|e| *e)?;
    // The flood check is reserved before it reads: while this user's (or IP's) comment is
    // checked and written, another one from them is a flood, even on a parallel request.
    let _reserved = if throttled(&actor) {
        let key = if actor.logged_in() {
            format!("user:{}", actor.id)
        } else {
            format!("ip:{}", c.author_ip)
        };
        Some(
            site.comment_flood
                .try_enter(key)
                .ok_or_else(comment_flood)?,
        )
    } else {
        None
    };
    c.approved = allow_comment(site, &actor, &c).await?;
    filter_comment(site, &actor, &mut c).await?;
    c.id = site.store.insert_comment(&c).await?;
    if let Some(s) = &input.status
        && handle_status(&mut c, s)
    {
        site.store.update_comment(&c).await?;
    }
    tracing::info!(comment_id = c.id, post_id = c.post_id, status = %c.approved, "comment created");
    let ctx = if moderates {
        Context::Edit
    } else {
        Context::View
    };
    hints.edit = Some(moderates);
    respond(site, &c, Some(post), ctx, StatusCode::CREATED).await
}

/// PHP's truthiness of a request value (`! empty( … )`).
fn php_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty() && s != "0",
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// `POST|PUT|PATCH /wp/v2/comments/<id>`.
async fn update_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    client: Client,
    Path(id): Path<String>,
    params: Params,
) -> WpResult<Response> {
    let id = route_id(&id)?;
    let actor = auth.actor();
    let tz = site_tz(&site).await?;
    let mut v = Validator::new(&params);
    let input = parse_input(&mut v, &params, &tz, false);
    v.finish()?;

    // update_item_permissions_check().
    let (mut c, mut post) = load(&site, id).await?;
    if !can_edit(&site, &actor, post.as_ref()) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_edit",
            "Sorry, you are not allowed to edit this comment.",
        ));
    }

    // update_item().
    if let Some(t) = params.get("type")
        && t.as_str() != Some(c.comment_type.as_str())
    {
        return Err(WpError::new(
            StatusCode::NOT_FOUND,
            "rest_comment_invalid_type",
            "Sorry, you are not allowed to change the comment type.",
        ));
    }
    let prepared = prepare_author(&site, &actor, &client, &input).await?;
    if let Some(p) = input.post.filter(|p| *p != 0) {
        match site.store.post_by_id(p).await? {
            Some(found) => post = Some(found),
            None => {
                return Err(WpError::new(
                    StatusCode::FORBIDDEN,
                    "rest_comment_invalid_post_id",
                    "Invalid post ID.",
                ));
            }
        }
    }
    if input.content.as_deref() == Some("") {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_comment_content_invalid",
            "Invalid comment content.",
        ));
    }
    // `prepare_item_for_database()` always sets the IP, so `wp_update_comment()` always
    // runs and re-filters every field for the current user.
    if let Some(p) = input.post {
        c.post_id = p;
        if p == 0 {
            // An orphaned comment links to no post.
            post = None;
        }
    }
    if let Some(p) = input.parent {
        c.parent = p;
    }
    if let Some(content) = input.content {
        c.content = content;
    }
    if let Some(u) = prepared.user_id {
        c.user_id = u;
    }
    if let Some(n) = prepared.author_name {
        c.author_name = n;
    }
    if let Some(e) = prepared.author_email {
        c.author_email = e;
    }
    if let Some(u) = prepared.author_url {
        c.author_url = u;
    }
    c.author_ip = prepared.author_ip;
    if let Some(a) = prepared.agent {
        c.agent = a;
    }
    if let Some(d) = input.date {
        c.date = d;
    }
    check_lengths(&c).map_err(|e| *e)?;
    filter_comment(&site, &actor, &mut c).await?;
    if let Some(s) = &input.status {
        handle_status(&mut c, s);
    }
    if !site.store.update_comment(&c).await? {
        return Err(WpError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "rest_comment_failed_edit",
            "Updating comment failed.",
        ));
    }
    tracing::info!(comment_id = c.id, status = %c.approved, "comment updated");
    let mut resp = respond(&site, &c, post, Context::Edit, StatusCode::OK).await?;
    resp.extensions_mut().insert(edit_context_hint());
    Ok(resp)
}

/// `update_item()` and `delete_item()` answer in the edit context, which `Allow` then sees.
fn edit_context_hint() -> AllowHints {
    AllowHints {
        edit: Some(true),
        permitted: None,
        write: true,
    }
}

/// `DELETE /wp/v2/comments/<id>`: to the trash, or for good with `force=true`.
async fn delete_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path(id): Path<String>,
    params: Params,
) -> WpResult<Response> {
    let id = route_id(&id)?;
    let actor = auth.actor();
    let mut v = Validator::new(&params);
    let force = v.boolean("force").unwrap_or(false);
    let _password = v.string("password");
    v.finish()?;

    let (mut c, post) = load(&site, id).await?;
    if !can_edit(&site, &actor, post.as_ref()) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_delete",
            "Sorry, you are not allowed to delete this comment.",
        ));
    }
    let tz = site_tz(&site).await?;
    if force {
        let mut previous = item_value(&site, &c, post, Context::Edit, &tz).await?;
        if let Some(o) = previous.as_object_mut() {
            o.remove("_links");
        }
        site.store.delete_comment(c.id).await?;
        tracing::info!(comment_id = c.id, "comment deleted");
        let mut resp = json_response(
            StatusCode::OK,
            &json!({ "deleted": true, "previous": super::global_params::previous_item(&params, previous) }),
        );
        resp.extensions_mut().insert(edit_context_hint());
        return Ok(resp);
    }
    if c.approved == "trash" {
        return Err(WpError::new(
            StatusCode::GONE,
            "rest_already_trashed",
            "The comment has already been trashed.",
        ));
    }
    // `wp_trash_comment()`.
    c.pre_trash_status = Some(std::mem::replace(&mut c.approved, "trash".into()));
    site.store.update_comment(&c).await?;
    tracing::info!(comment_id = c.id, "comment trashed");
    let mut resp = respond(&site, &c, post, Context::Edit, StatusCode::OK).await?;
    resp.extensions_mut().insert(edit_context_hint());
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_changes_follow_wordpress() {
        let mut c = Comment {
            approved: "1".into(),
            ..Comment::default()
        };
        assert!(!handle_status(&mut c, "approved"));
        assert!(handle_status(&mut c, "spam"));
        assert_eq!(c.approved, "spam");
        assert!(handle_status(&mut c, "unspam"));
        assert_eq!(c.approved, "1");
        assert!(handle_status(&mut c, "0"));
        assert_eq!(status_name(&c.approved), "hold");
        assert!(!handle_status(&mut c, "untrash"));
        assert!(!handle_status(&mut c, "bogus"));
    }

    #[test]
    fn links_are_counted_as_comment_text_shows_them() {
        assert_eq!(
            count_links("see <a href=\"x\">x</a> and http://a.example/"),
            2
        );
        // www. hosts and addresses are linked too; a URL inside a link is not counted twice.
        assert_eq!(count_links("www.a.example, b@c.example"), 2);
        assert_eq!(count_links("<a href=\"u\">http://a.example</a>"), 1);
        assert_eq!(count_links("no links here"), 0);
    }

    #[test]
    fn sanitize_key_keeps_key_characters() {
        assert_eq!(sanitize_key("Approve!"), "approve");
        assert_eq!(sanitize_key("hold,approve"), "holdapprove");
    }
}
