//! Posts and pages: `WP_REST_Posts_Controller` (`class-wp-rest-posts-controller.php`).

use std::collections::HashSet;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::auth::Auth;
use crate::caps::{Actor, Cap, PostRef};
use crate::error::{WpError, WpResult};
use crate::formatting::{
    NoImages, PageLoad, Shown, excerpt_remove_blocks, sanitize_title, strip_shortcodes,
    the_content, the_excerpt, the_title, wp_trim_excerpt_to,
};
use crate::post_types::PostType;
use crate::search::{SearchColumns, post_search};
use crate::site::{Site, now};
use crate::store::{
    NewPostWrite, Post, PostOrderBy, PostQuery, PostSearch, TaxClause, TaxOperator,
};

use super::params::{Context, Params, Validator};
use super::{json_response, request_id, route_id};

/// For `Allow`: `get_items_permissions_check()` (the edit context needs `edit_posts`);
/// creating needs the type's `create_posts`.
pub fn allowed_on_collection(
    site: &Site,
    auth: &Auth,
    base: &str,
    edit: bool,
) -> Vec<&'static str> {
    let Some(pt) = site.post_type_by_base(base) else {
        return vec![];
    };
    let actor = auth.actor();
    let mut methods = vec![];
    if !edit || actor.can(Cap::Primitive(&pt.caps.edit_posts)) {
        methods.push("GET");
    }
    if actor.can(Cap::Primitive(&pt.caps.create_posts)) {
        methods.push("POST");
    }
    methods
}

/// For `Allow`: the item's read, update and delete permission checks.
pub async fn allowed_on_item(
    site: &Site,
    auth: &Auth,
    base: &str,
    id: &str,
    edit: bool,
) -> Vec<&'static str> {
    let (Some(pt), Ok(id)) = (site.post_type_by_base(base), route_id(id)) else {
        return vec![];
    };
    let post = match site.store.post_by_id(id).await {
        Ok(Some(p)) if p.post_type == pt.name => p,
        _ => return vec![],
    };
    let actor = auth.actor();
    let mut methods = vec![];
    let editable = can_edit(&actor, &post, pt);
    if can_read(&actor, &post, pt) && (!edit || editable) {
        methods.push("GET");
    }
    if editable {
        methods.extend(["POST", "PUT", "PATCH"]);
    }
    if actor.can(Cap::DeletePost(post_ref(&post, pt))) {
        methods.push("DELETE");
    }
    methods
}

const STATUSES: &[&str] = &["publish", "future", "draft", "pending", "private"];
/// `after`, `before`, `modified_after`, `modified_before` of a collection request, as
/// instants (site time when no offset is given).
pub(super) fn date_bounds(v: &mut Validator<'_>, tz: &jiff::tz::TimeZone) -> [Option<i64>; 4] {
    let mut dates = [None; 4];
    for (i, key) in ["after", "before", "modified_after", "modified_before"]
        .into_iter()
        .enumerate()
    {
        if let Some(s) = v.string(key) {
            match parse_date(&s, tz) {
                Some(ts) => dates[i] = Some(ts),
                None => v.invalid(
                    key,
                    "rest_invalid_date",
                    "Invalid date.".into(),
                    Value::Null,
                ),
            }
        }
    }
    dates
}

/// The checks `get_items()` makes after validation: the edit context needs the type's
/// `edit_posts`; `orderby=relevance` needs a search, `orderby=include` an include list.
pub(super) fn check_collection_query(
    actor: &Actor<'_>,
    pt: &PostType,
    ctx: Context,
    orderby: &str,
    has_search: bool,
    include_empty: bool,
) -> WpResult<()> {
    if ctx == Context::Edit && !actor.can(Cap::Primitive(&pt.caps.edit_posts)) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_forbidden_context",
            "Sorry, you are not allowed to edit posts in this post type.",
        ));
    }
    if orderby == "relevance" && !has_search {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_no_search_term_defined",
            "You need to define a search term to order by relevance.",
        ));
    }
    if orderby == "include" && include_empty {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_orderby_include_missing_include",
            "You need to define an include parameter to order by include.",
        ));
    }
    Ok(())
}

/// `orderby` values; `menu_order` (last) only for hierarchical types.
pub(super) const ORDERBY: &[&str] = &[
    "author",
    "date",
    "id",
    "include",
    "modified",
    "parent",
    "relevance",
    "slug",
    "include_slugs",
    "title",
    "menu_order",
];
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

/// One controller for every post type, as WordPress registers one instance per type: the
/// type comes from the route's `rest_base`; an unknown base is not a route.
pub fn routes() -> Router<Arc<Site>> {
    Router::new()
        .route("/wp/v2/{base}", get(list).post(create))
        .route(
            "/wp/v2/{base}/{id}",
            get(read)
                .post(update)
                .put(update)
                .patch(update)
                .delete(delete),
        )
}

/// The post type at a `rest_base`; `None` hands the request to the terms controller
/// (categories and tags share the `{base}` routes), which answers `rest_no_route` for
/// anything else.
fn post_type(site: &Site, base: &str) -> Option<PostType> {
    site.post_type_by_base(base).cloned()
}

async fn list(s: State<Arc<Site>>, a: Auth, base: Path<String>, p: Params) -> WpResult<Response> {
    match post_type(&s, &base) {
        Some(pt) => get_items(s, a, p, &pt).await,
        None => super::terms::get_items(s, a, base, p).await,
    }
}

async fn create(s: State<Arc<Site>>, a: Auth, base: Path<String>, p: Params) -> WpResult<Response> {
    match post_type(&s, &base) {
        Some(pt) => create_item(s, a, p, &pt).await,
        None => super::terms::create_item(s, a, base, p).await,
    }
}

async fn read(
    s: State<Arc<Site>>,
    a: Auth,
    Path((base, id)): Path<(String, String)>,
    p: Params,
) -> WpResult<Response> {
    match post_type(&s, &base) {
        Some(pt) => get_item(s, a, Path(id), p, &pt).await,
        None => super::terms::get_item(s, a, Path((base, id)), p).await,
    }
}

async fn update(
    s: State<Arc<Site>>,
    a: Auth,
    Path((base, id)): Path<(String, String)>,
    p: Params,
) -> WpResult<Response> {
    match post_type(&s, &base) {
        Some(pt) => update_item(s, a, Path(id), p, &pt).await,
        None => super::terms::update_item(s, a, Path((base, id)), p).await,
    }
}

async fn delete(
    s: State<Arc<Site>>,
    a: Auth,
    Path((base, id)): Path<(String, String)>,
    p: Params,
) -> WpResult<Response> {
    match post_type(&s, &base) {
        Some(pt) => delete_item(s, a, Path(id), p, &pt).await,
        None => super::terms::delete_item(s, a, Path((base, id)), p).await,
    }
}

pub(crate) fn post_ref<'a>(post: &'a Post, pt: &'a PostType) -> PostRef<'a> {
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
pub async fn site_tz(site: &Site) -> WpResult<jiff::tz::TimeZone> {
    let tz_name = site
        .get_option("timezone_string")
        .await?
        .unwrap_or_default();
    if !tz_name.is_empty()
        && let Ok(tz) = jiff::tz::TimeZone::get(&tz_name)
    {
        return Ok(tz);
    }
    let offset: f64 = site
        .get_option("gmt_offset")
        .await?
        .and_then(|o| o.parse().ok())
        .unwrap_or(0.0);
    let secs = (offset * 3600.0).round() as i32;
    Ok(jiff::tz::Offset::from_seconds(secs)
        .map(jiff::tz::TimeZone::fixed)
        .unwrap_or(jiff::tz::TimeZone::UTC))
}

pub(super) fn fmt_date(ts: i64, tz: &jiff::tz::TimeZone) -> String {
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
pub(super) fn parse_date(input: &str, tz: &jiff::tz::TimeZone) -> Option<i64> {
    let s = input.trim();
    if !is_rest_date(s) {
        return None;
    }
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Some(ts.as_second());
    }
    let normalized = s.replacen(' ', "T", 1);
    let dt: jiff::civil::DateTime = normalized.parse().ok()?;
    dt.to_zoned(tz.clone())
        .ok()
        .map(|z| z.timestamp().as_second())
}

/// `rest_parse_date()`'s shape: `YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|±hh[:mm]]`.
fn is_rest_date(s: &str) -> bool {
    static RE: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?$",
        )
        .ok()
    });
    RE.as_ref().is_some_and(|re| re.is_match(s))
}

/// The ancestors' slugs of a post with a parent, `grandparent/parent/` (`get_page_uri`).
async fn ancestor_path(site: &Site, p: &Post) -> WpResult<String> {
    let mut path = String::new();
    let mut cur = p.parent;
    // Bounded: a loop in old data must not hang a read.
    for _ in 0..100 {
        if cur == 0 {
            break;
        }
        match site.store.post_by_id(cur).await? {
            Some(a) => {
                path = format!("{}/{path}", a.slug);
                cur = a.parent;
            }
            None => break,
        }
    }
    Ok(path)
}

/// `get_permalink()` of one post.
pub(super) async fn permalink_of(site: &Site, post: &Post, pt: &PostType) -> WpResult<String> {
    let ancestors = ancestor_path(site, post).await?;
    Ok(permalink(site, post, pt, &ancestors))
}

pub(super) fn permalink(site: &Site, post: &Post, pt: &PostType, ancestors: &str) -> String {
    if has_pretty_permalink(post) {
        let home = &site.config.home;
        // Custom types live under their name (`rewrite.slug` defaults to it).
        if pt.builtin {
            format!("{home}/{ancestors}{}/", post.slug)
        } else {
            format!("{home}/{}/{ancestors}{}/", pt.name, post.slug)
        }
    } else {
        format!("{}{}", id_permalink_prefix(site, pt), post.id)
    }
}

/// Whether `get_permalink()` is the slug's (a published post with a slug) rather than
/// `?p=N`.
fn has_pretty_permalink(post: &Post) -> bool {
    post.status == "publish" && !post.slug.is_empty()
}

/// The `?p=`-style permalink without its id: `?page_id=`, `?p=`, `?post_type=…&p=`.
fn id_permalink_prefix(site: &Site, pt: &PostType) -> String {
    let home = &site.config.home;
    if pt.name == "page" {
        format!("{home}/?page_id=")
    } else if pt.builtin {
        format!("{home}/?p=")
    } else {
        format!("{home}/?post_type={}&p=", pt.name)
    }
}

/// What items need beyond their row: sticky ids and the posts' meta.
struct Extras {
    sticky: Vec<i64>,
    meta: Vec<(i64, String, String)>,
    /// (post, term, taxonomy) of the posts' categories and tags.
    terms: Vec<(i64, i64, String)>,
    /// (post, number of revisions, newest revision id), for types with revisions.
    history: Vec<(i64, i64, i64)>,
    /// For posts with a parent: the ancestors' slugs, `grandparent/parent/` (`get_page_uri`).
    ancestors: Vec<(i64, String)>,
    /// The media library's images that the contents and excerpts show (`wp-image-N`).
    images: super::media::LibraryImages,
    /// The audio and video files attached to posts whose players name no source.
    attached: super::media::AttachedFiles,
    /// The request's page load: the players' numbers go on from post to post.
    page: PageLoad,
    /// The request's `excerpt_length` (words of a generated excerpt; 55 when not given).
    excerpt_length: Option<i64>,
}

impl Extras {
    async fn load(site: &Site, pt: &PostType, posts: &[&Post]) -> WpResult<Self> {
        let sticky = if pt.name == "post" {
            sticky_posts(site).await?
        } else {
            vec![]
        };
        Self::with_sticky(site, pt, posts, sticky).await
    }

    /// For a post created by this request, from what was written: it is sticky exactly when
    /// the request said so, has no revisions, and its meta is what the request stored.
    async fn for_new_post(
        site: &Site,
        pt: &PostType,
        post: &Post,
        sticky: bool,
        meta: &[(String, Vec<String>)],
    ) -> WpResult<Self> {
        let sticky = if sticky { vec![post.id] } else { vec![] };
        Self::gather(site, pt, &[post], sticky, Some(meta)).await
    }

    async fn with_sticky(
        site: &Site,
        pt: &PostType,
        posts: &[&Post],
        sticky: Vec<i64>,
    ) -> WpResult<Self> {
        Self::gather(site, pt, posts, sticky, None).await
    }

    async fn gather(
        site: &Site,
        pt: &PostType,
        posts: &[&Post],
        sticky: Vec<i64>,
        new_post_meta: Option<&[(String, Vec<String>)]>,
    ) -> WpResult<Self> {
        let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
        let meta = match new_post_meta {
            // As `post_meta` reads them back: one row per value, in the order written.
            Some(written) => ids
                .iter()
                .flat_map(|id| {
                    written.iter().flat_map(move |(key, values)| {
                        values.iter().map(move |v| (*id, key.clone(), v.clone()))
                    })
                })
                .collect(),
            None if pt.meta.is_empty() => vec![],
            None => site.store.post_meta(&ids).await?,
        };
        let mut ancestors = vec![];
        for p in posts.iter().filter(|p| p.parent != 0) {
            ancestors.push((p.id, ancestor_path(site, p).await?));
        }
        let terms = if pt.name == "post" {
            site.store.post_terms(&ids).await?
        } else {
            vec![]
        };
        let history = match new_post_meta {
            Some(_) if super::revisions::supported(pt) => {
                ids.iter().map(|id| (*id, 0, 0)).collect()
            }
            Some(_) => vec![],
            None => super::revisions::history(site, pt, &ids).await?,
        };
        let texts: Vec<&str> = posts
            .iter()
            .flat_map(|p| [p.content.as_str(), p.excerpt.as_str()])
            .collect();
        let images = super::media::LibraryImages::load(site, &texts).await?;
        let contents: Vec<(i64, &str, String)> = posts
            .iter()
            .map(|p| {
                let ancestors = ancestors
                    .iter()
                    .find(|(i, _)| *i == p.id)
                    .map_or("", |(_, a)| a.as_str());
                (p.id, p.content.as_str(), permalink(site, p, pt, ancestors))
            })
            .collect();
        let attached = super::media::AttachedFiles::load(site, &contents).await?;
        Ok(Self {
            sticky,
            meta,
            terms,
            history,
            ancestors,
            images,
            attached,
            page: PageLoad::new(),
            excerpt_length: None,
        })
    }

    fn term_ids(&self, post: i64, taxonomy: &str) -> Vec<i64> {
        self.terms
            .iter()
            .filter(|(p, _, t)| *p == post && t == taxonomy)
            .map(|(_, id, _)| *id)
            .collect()
    }

    fn ancestor_path(&self, id: i64) -> &str {
        self.ancestors
            .iter()
            .find(|(i, _)| *i == id)
            .map_or("", |(_, p)| p.as_str())
    }
}

/// `WP_REST_Meta_Fields::get_value()`: every registered key, its stored value(s) or default.
fn meta_object(pt: &PostType, post_id: i64, stored: &[(i64, String, String)]) -> Value {
    let mut out = Map::new();
    for m in &pt.meta {
        let values: Vec<Value> = stored
            .iter()
            .filter(|(id, k, _)| *id == post_id && *k == m.key)
            .filter_map(|(_, _, v)| serde_json::from_str(v).ok())
            .collect();
        let value = if m.single {
            values
                .into_iter()
                .next()
                .unwrap_or_else(|| m.default.clone())
        } else if values.is_empty() {
            m.default.clone()
        } else {
            Value::Array(values)
        };
        out.insert(m.key.clone(), value);
    }
    // PHP's empty array when nothing is registered.
    if out.is_empty() {
        Value::Array(vec![])
    } else {
        Value::Object(out)
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
    extras: &Extras,
) -> Value {
    let sticky = extras.sticky.contains(&post.id);
    let edit = ctx == Context::Edit;
    let protected = !post.password.is_empty();
    let hide = protected && !show_protected;
    let link = permalink(site, post, pt, extras.ancestor_path(post.id));
    let home = site.config.home.as_str();
    // The display filters of `the_content`, `get_the_excerpt` + `the_excerpt` and
    // `the_title`, as WordPress's controller applies them.
    let images = &extras.images;
    let length = extras.excerpt_length.unwrap_or(55);
    let shown = Shown {
        post_id: post.id as u64,
        page: &extras.page,
        attached: &extras.attached,
    };
    let render = || {
        let rendered_content = the_content(&post.content, home, images, shown);
        let excerpt = wp_trim_excerpt_to(&post.excerpt, length, || {
            let text = excerpt_remove_blocks(&strip_shortcodes(&post.content));
            // Without shortcodes or blocks that is the content itself, already rendered
            // (the image attributes it may differ by go with the tags), unless players
            // made of its URLs take numbers again.
            if text == post.content
                && !rendered_content.contains("<audio ")
                && !rendered_content.contains("<video ")
            {
                rendered_content.clone()
            } else {
                the_content(&text, home, &NoImages, shown)
            }
        });
        let rendered_excerpt = the_excerpt(&excerpt, home, images);
        (the_title(&post.title), rendered_content, rendered_excerpt)
    };
    let (rendered_title, rendered_content, rendered_excerpt) = if hide {
        (the_title(&post.title), String::new(), String::new())
    } else if super::media::mentions_library_image(&post.content)
        || super::media::mentions_library_image(&post.excerpt)
    {
        // Images of the media library make the output depend on their attachments too.
        render()
    } else {
        // A rendering that numbered players or galleries depends on the request (its page
        // load's counters, the post's attached files and images), not on the texts alone:
        // not kept.
        let before = extras.page.players();
        let r = site.rendered.get_or_render(
            post.id,
            &post.title,
            &post.content,
            &post.excerpt,
            length,
            || (render(), extras.page.players() == before),
        );
        (r.title.clone(), r.content.clone(), r.excerpt.clone())
    };
    let mut title = Map::new();
    if edit {
        title.insert("raw".into(), json!(post.title));
    }
    title.insert("rendered".into(), json!(rendered_title));
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
    let mut links = links;
    if let Some(l) = links.as_object_mut() {
        let curies = l.remove("curies");
        // `prepare_links()` links an author only when there is one (a deleted user's posts
        // given to 0).
        if post.author == 0 {
            l.remove("author");
        }
        // `prepare_links()`: posts, pages and types supporting comments link to theirs.
        if matches!(pt.name.as_str(), "post" | "page") || pt.supports("comments") {
            l.insert("replies".into(), replies_link(site, post.id));
        }
        if let Some((_, count, latest)) = extras.history.iter().find(|h| h.0 == post.id) {
            let base = format!("wp/v2/{}/{}/revisions", pt.rest_base, post.id);
            l.insert(
                "version-history".into(),
                json!([{ "count": count, "href": site.config.rest_url(&base) }]),
            );
            if *count > 0 {
                l.insert(
                    "predecessor-version".into(),
                    json!([{ "id": latest, "href": site.config.rest_url(&format!("{base}/{latest}")) }]),
                );
            }
        }
        if post.parent != 0 {
            l.insert(
                "up".into(),
                json!([{ "embeddable": true, "href": site.config.rest_url(&format!("wp/v2/{}/{}", pt.rest_base, post.parent)) }]),
            );
        }
        if post.featured_media != 0
            && !super::registry::unsupported_fields(pt).contains(&"featured_media")
        {
            l.insert(
                "wp:featuredmedia".into(),
                json!([{ "embeddable": true, "href": site.config.rest_url(&format!("wp/v2/media/{}", post.featured_media)) }]),
            );
        }
        l.insert(
            "wp:attachment".into(),
            json!([{ "href": site.config.rest_url(&format!("wp/v2/media?parent={}", post.id)) }]),
        );
        if pt.name == "post" {
            let terms: Vec<Value> = super::terms::TAXONOMIES
                .iter()
                .map(|t| json!({ "taxonomy": t.name, "embeddable": true,
                    "href": site.config.rest_url(&format!("wp/v2/{}?post={}", t.rest_base, post.id)) }))
                .collect();
            l.insert("wp:term".into(), Value::Array(terms));
        }
        if let Some(c) = curies {
            l.insert("curies".into(), c);
        }
    }

    let mut o = Map::new();
    o.insert("id".into(), json!(post.id));
    o.insert("date".into(), json!(fmt_date(post.date, tz)));
    if ctx == Context::Embed {
        o.insert("slug".into(), json!(post.slug));
        o.insert("type".into(), json!(pt.name));
        o.insert("link".into(), json!(link));
        o.insert("title".into(), json!({ "rendered": rendered_title }));
        o.insert(
            "excerpt".into(),
            json!({ "rendered": rendered_excerpt, "protected": protected }),
        );
        o.insert("author".into(), json!(post.author));
        o.insert("featured_media".into(), json!(post.featured_media));
        o.insert("_links".into(), links);
        for field in super::registry::unsupported_fields(pt) {
            o.remove(field);
        }
        return Value::Object(o);
    }
    // Rows made before migration 0012 have no stored guid: `?p=N` as WordPress's drafts.
    let guid = if post.guid.is_empty() {
        format!("{}/?p={}", site.config.home, post.id)
    } else {
        post.guid.clone()
    };
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
    o.insert("featured_media".into(), json!(post.featured_media));
    if pt.hierarchical {
        o.insert("parent".into(), json!(post.parent));
        o.insert("menu_order".into(), json!(post.menu_order));
    }
    o.insert("comment_status".into(), json!(post.comment_status));
    o.insert("ping_status".into(), json!(post.ping_status));
    if pt.name == "post" {
        o.insert("sticky".into(), json!(sticky));
    }
    o.insert("template".into(), json!(""));
    if !super::registry::unsupported_fields(pt).contains(&"format") {
        let format = if post.format.is_empty() {
            "standard"
        } else {
            post.format.as_str()
        };
        o.insert("format".into(), json!(format));
    }
    o.insert("meta".into(), meta_object(pt, post.id, &extras.meta));
    if pt.name == "post" {
        for tax in super::terms::TAXONOMIES {
            o.insert(
                tax.post_field.into(),
                json!(extras.term_ids(post.id, tax.name)),
            );
        }
    }
    if edit {
        let template = match (pt.builtin, pt.hierarchical) {
            (true, true) => format!("{}/%pagename%/", site.config.home),
            (true, false) => format!("{}/%postname%/", site.config.home),
            (false, _) => format!("{}/{name}/%{name}%/", site.config.home, name = pt.name),
        };
        o.insert("permalink_template".into(), json!(template));
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
    for field in super::registry::unsupported_fields(pt) {
        o.remove(field);
    }
    Value::Object(o)
}

/// The `replies` link of a post: its comments.
pub(super) fn replies_link(site: &Site, post_id: i64) -> Value {
    json!([{ "embeddable": true, "href": site.config.rest_url(&format!("wp/v2/comments?post={post_id}")) }])
}

/// `get_available_actions()`: in the edit context, `wp:action-*` links tell a client what
/// the current user may do with the post (taxonomy actions come with taxonomies).
fn add_action_links(body: &mut Value, actor: &Actor<'_>, pt: &PostType) {
    let Some(links) = body.get_mut("_links").and_then(Value::as_object_mut) else {
        return;
    };
    let Some(self_link) = links.get("self").cloned() else {
        return;
    };
    let caps = &pt.caps;
    let mut rels = vec![];
    if actor.can(Cap::Primitive(&caps.publish_posts)) {
        rels.push("wp:action-publish");
    }
    if actor.can(Cap::Primitive("unfiltered_html")) {
        rels.push("wp:action-unfiltered-html");
    }
    if pt.name == "post"
        && actor.can(Cap::Primitive(&caps.edit_others_posts))
        && actor.can(Cap::Primitive(&caps.publish_posts))
    {
        rels.push("wp:action-sticky");
    }
    if actor.can(Cap::Primitive(&caps.edit_others_posts)) {
        rels.push("wp:action-assign-author");
    }
    if pt.name == "post" {
        for tax in super::terms::TAXONOMIES {
            if tax.can_assign(actor) {
                rels.push(if tax.hierarchical {
                    "wp:action-assign-categories"
                } else {
                    "wp:action-assign-tags"
                });
            }
            if tax.can_create(actor) {
                rels.push(if tax.hierarchical {
                    "wp:action-create-categories"
                } else {
                    "wp:action-create-tags"
                });
            }
        }
    }
    // Before `curies`, which WordPress always lists last.
    let curies = links.remove("curies");
    for rel in rels {
        links.insert(rel.to_owned(), self_link.clone());
    }
    if let Some(c) = curies {
        links.insert("curies".into(), c);
    }
}

/// The search arguments of a post collection: `search`, `search_columns` and
/// `search_semantics` (the current WordPress source), read before validation finishes.
pub(super) struct SearchArgs {
    pub search: Option<String>,
    columns: SearchColumns,
    exact: bool,
}

impl SearchArgs {
    pub(super) fn read(v: &mut Validator<'_>) -> Self {
        let search = v.string("search").filter(|s| !s.trim().is_empty());
        let columns = v
            .enum_list(
                "search_columns",
                &["post_title", "post_content", "post_excerpt"],
            )
            .map(|names| SearchColumns::from_names(&names))
            .unwrap_or_default();
        let exact = v.one_of("search_semantics", &["exact"]).is_some();
        Self {
            search,
            columns,
            exact,
        }
    }

    /// `WP_Query::parse_search()` of the search (more than nine terms are one sentence, so
    /// a long search is one `LIKE`, not one per word), ranked by `parse_search_order()` only
    /// with `orderby=relevance`: the REST default `orderby=date` keeps the date order.
    pub(super) fn query(&self, orderby: &str, attachment: bool) -> Option<PostSearch> {
        let s = self.search.as_deref()?;
        Some(post_search(
            s,
            self.columns,
            self.exact,
            attachment,
            orderby == "relevance",
        ))
    }
}

/// One `categories`/`tags` (`include`) or `…_exclude` filter as `prepare_tax_query()` reads
/// it: a list of term ids, or the object form `{terms, include_children, operator}`
/// (`operator` only for includes). Children are added for hierarchical taxonomies, each
/// term expanded once. `None` when absent or without terms.
async fn tax_clause(
    site: &Site,
    v: &mut Validator<'_>,
    params: &Params,
    tax: &super::terms::Taxonomy,
    exclude: bool,
) -> WpResult<Option<TaxClause>> {
    let field = if exclude {
        format!("{}_exclude", tax.post_field)
    } else {
        tax.post_field.to_owned()
    };
    let (ids, children, all) = match params.get(&field) {
        None => return Ok(None),
        Some(Value::Object(o)) => {
            let form = Params(o.clone());
            let mut fv = Validator::new(&form);
            let ids = fv.integer_list("terms").unwrap_or_default();
            let children = fv.boolean("include_children").unwrap_or(false);
            let all = !exclude && fv.one_of("operator", &["AND", "OR"]) == Some("AND");
            let unknown = o.keys().any(|k| {
                !matches!(k.as_str(), "terms" | "include_children") && (exclude || k != "operator")
            });
            if fv.finish().is_err() || unknown {
                // `oneOf` array or object: the object form (position 1) failed.
                v.invalid(
                    &field,
                    "rest_no_matching_schema",
                    format!("{field} is not a valid Term ID Taxonomy Query."),
                    json!({ "position": 1 }),
                );
                return Ok(None);
            }
            (ids, children, all)
        }
        Some(_) => {
            let mut lv = Validator::new(params);
            match lv.integer_list(&field) {
                Some(ids) if lv.finish().is_ok() => (ids, false, false),
                _ => {
                    v.invalid(
                        &field,
                        "rest_no_matching_schema",
                        format!("{field} is not a valid Term ID List."),
                        json!({ "position": 0 }),
                    );
                    return Ok(None);
                }
            }
        }
    };
    if ids.is_empty() {
        return Ok(None);
    }
    let mut terms = vec![];
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            continue;
        }
        terms.push(id);
        if !(children && tax.hierarchical) {
            continue;
        }
        // `get_term_children()`: every descendant, breadth first.
        let mut frontier = vec![id];
        while let Some(parent) = frontier.pop() {
            let q = crate::store::TermQuery {
                taxonomy: tax.name.into(),
                parent: Some(parent),
                limit: 1000,
                ..crate::store::TermQuery::default()
            };
            for t in site.store.query_terms(&q).await?.0 {
                if seen.insert(t.id) {
                    terms.push(t.id);
                    frontier.push(t.id);
                }
            }
        }
    }
    Ok(Some(TaxClause {
        taxonomy: tax.name.to_owned(),
        terms,
        operator: if exclude {
            TaxOperator::NotIn
        } else if all {
            TaxOperator::And
        } else {
            TaxOperator::In
        },
    }))
}

/// `GET /wp/v2/{base}`.
async fn get_items(
    State(site): State<Arc<Site>>,
    auth: Auth,
    params: Params,
    pt: &PostType,
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
        for (i, s) in list.iter().enumerate() {
            // sanitize_post_statuses(): every status but publish needs the type's edit_posts
            // (private also passes with read_private_posts), checked before the value itself.
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
            if !QUERY_STATUSES.contains(&s.as_str()) {
                v.invalid(
                    "status",
                    "rest_not_in_enum",
                    format!("status[{i}] is not one of {}.", "publish, future, draft, pending, private, trash, auto-draft, inherit, request-pending, request-confirmed, request-failed, request-completed, and any"),
                    Value::Null,
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
    let tz = site_tz(&site).await?;
    let search = SearchArgs::read(&mut v);
    let include = v.integer_list("include").unwrap_or_default();
    let exclude = v.integer_list("exclude").unwrap_or_default();
    let authors_exclude = v.integer_list("author_exclude").unwrap_or_default();
    let slugs: Vec<String> = v
        .string_list("slug")
        .unwrap_or_default()
        .iter()
        .map(|s| sanitize_title(s))
        .collect();
    let orderby = v
        .one_of(
            "orderby",
            if pt.hierarchical {
                ORDERBY
            } else {
                &ORDERBY[..ORDERBY.len() - 1]
            },
        )
        .unwrap_or("date");
    let dates = date_bounds(&mut v, &tz);
    let (parents, parents_exclude, menu_order) = if pt.hierarchical {
        (
            v.integer_list("parent").unwrap_or_default(),
            v.integer_list("parent_exclude").unwrap_or_default(),
            v.integer("menu_order"),
        )
    } else {
        (vec![], vec![], None)
    };
    // Taxonomy filters (posts only): `prepare_tax_query()`.
    let mut tax_query = vec![];
    let mut tax_or = false;
    if pt.name == "post" {
        for tax in super::terms::TAXONOMIES {
            for exclude in [false, true] {
                if let Some(clause) = tax_clause(&site, &mut v, &params, tax, exclude).await? {
                    tax_query.push(clause);
                }
            }
        }
        tax_or = v.one_of("tax_relation", &["AND", "OR"]) == Some("OR");
    }
    let (sticky_filter, ignore_sticky) = if pt.name == "post" {
        (
            v.boolean("sticky"),
            v.boolean("ignore_sticky").unwrap_or(true),
        )
    } else {
        (None, true)
    };
    let formats = if super::registry::unsupported_fields(pt).contains(&"format") {
        vec![]
    } else {
        format_filter(&mut v)
    };
    // Read from the request whether registered or not (`isset( $request['excerpt_length'] )`).
    let excerpt_length = v.integer("excerpt_length");
    v.finish()?;

    check_collection_query(
        &actor,
        pt,
        ctx,
        orderby,
        search.search.is_some(),
        include.is_empty(),
    )?;

    let sticky_ids = if pt.name == "post" {
        sticky_posts(&site).await?
    } else {
        vec![]
    };
    let mut q = PostQuery {
        post_type: pt.name.to_owned(),
        other_post_types: vec![],
        statuses,
        authors,
        authors_exclude,
        include,
        exclude,
        slugs,
        parents,
        include_or_parents: false,
        parents_exclude,
        menu_order,
        mime_types: vec![],
        search_skips_protected: !actor.logged_in(),
        search: search.query(orderby, false),
        after: dates[0],
        before: dates[1],
        modified_after: dates[2],
        modified_before: dates[3],
        tax_query: vec![],
        tax_or: false,
        formats,
        orderby: match orderby {
            "id" => PostOrderBy::Id,
            "title" => PostOrderBy::Title,
            "slug" => PostOrderBy::Slug,
            "modified" => PostOrderBy::Modified,
            "menu_order" => PostOrderBy::MenuOrder,
            "parent" => PostOrderBy::Parent,
            "author" => PostOrderBy::Author,
            "include" => PostOrderBy::Include,
            "include_slugs" => PostOrderBy::IncludeSlugs,
            _ => PostOrderBy::Date,
        },
        limit: per_page,
        offset: offset.unwrap_or((page - 1).saturating_mul(per_page)).max(0),
        ascending: order == "asc",
    };
    // `sticky=true` lists only sticky posts (none at all when there are none);
    // `sticky=false` leaves them out.
    match sticky_filter {
        Some(true) => {
            q.include = if q.include.is_empty() {
                sticky_ids.clone()
            } else {
                q.include
                    .iter()
                    .copied()
                    .filter(|i| sticky_ids.contains(i))
                    .collect()
            };
            if q.include.is_empty() {
                q.include = vec![0];
            }
        }
        Some(false) => q.exclude.extend(sticky_ids.iter().copied()),
        None => {}
    }
    q.tax_query = tax_query;
    q.tax_or = tax_or;
    // WP_Query: `post__in` makes `post__not_in` moot, `author__not_in` wins over `author__in`.
    if !q.include.is_empty() {
        q.exclude.clear();
    }
    if !q.authors_exclude.is_empty() {
        q.authors.clear();
    }
    let (mut posts, mut total) = site.store.query_posts(&q).await?;
    // WP_Query puts sticky posts first on the first page of a "home" query (no search, no
    // taxonomy or format filter, no `include`) unless told to ignore them.
    let home = q.search.is_none() && q.tax_query.is_empty() && q.formats.is_empty();
    if !ignore_sticky && home && q.include.is_empty() && page <= 1 && !sticky_ids.is_empty() {
        posts = put_sticky_first(&site, pt, posts, &sticky_ids, &q.exclude).await?;
    }
    if posts.is_empty() && page == 1 {
        // WP_Query counts nothing when the page it read is empty (an offset past the end).
        total = 0;
    }
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
    let page_posts: Vec<&Post> = posts.iter().collect();
    let mut extras = Extras::with_sticky(&site, pt, &page_posts, sticky_ids).await?;
    extras.attached.set_reader(&actor);
    extras.excerpt_length = excerpt_length;
    let items: Vec<Value> = posts
        .iter()
        .filter(|p| {
            if ctx == Context::Edit {
                can_edit(&actor, p, pt)
            } else {
                can_read(&actor, p, pt)
            }
        })
        .map(|p| {
            let show = ctx == Context::Edit && can_edit(&actor, p, pt);
            let mut item = prepare_item(&site, p, pt, ctx, &tz, show, &extras);
            if ctx == Context::Edit {
                add_action_links(&mut item, &actor, pt);
            }
            item
        })
        .collect();

    let base = site.config.rest_url(&format!("wp/v2/{}", pt.rest_base));
    Ok(super::collection_response(
        items,
        total,
        total_pages,
        &base,
        &params,
        page,
    ))
}

/// The `format` collection filter (6.x): formats as stored, `standard` being none.
fn format_filter(v: &mut Validator<'_>) -> Vec<String> {
    let Some(list) = v.string_list("format") else {
        return vec![];
    };
    let mut formats = vec![];
    for (i, f) in list.iter().enumerate() {
        if !POST_FORMATS.contains(&f.as_str()) {
            v.invalid(
                "format",
                "rest_not_in_enum",
                format!("format[{i}] is not one of {}.", php_list(POST_FORMATS)),
                Value::Null,
            );
            return vec![];
        }
        formats.push(if f == "standard" {
            String::new()
        } else {
            f.clone()
        });
    }
    formats
}

/// `a, b, and c`, as WordPress lists enum values in messages.
fn php_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
    }
}

/// `WP_Query::get_posts()` with `ignore_sticky_posts` false: the page's sticky posts move to
/// the front, in their order, then the other published sticky posts not excluded follow
/// (newest first), whatever the other filters.
async fn put_sticky_first(
    site: &Site,
    pt: &PostType,
    posts: Vec<Post>,
    sticky_ids: &[i64],
    exclude: &[i64],
) -> WpResult<Vec<Post>> {
    let (mut front, rest): (Vec<Post>, Vec<Post>) =
        posts.into_iter().partition(|p| sticky_ids.contains(&p.id));
    let missing: Vec<i64> = sticky_ids
        .iter()
        .copied()
        .filter(|id| !front.iter().any(|p| p.id == *id) && !exclude.contains(id))
        .collect();
    if !missing.is_empty() {
        let q = PostQuery {
            post_type: pt.name.clone(),
            statuses: vec!["publish".into()],
            limit: i64::try_from(missing.len()).unwrap_or(i64::MAX),
            include: missing,
            ..PostQuery::default()
        };
        front.extend(site.store.query_posts(&q).await?.0);
    }
    front.extend(rest);
    Ok(front)
}

/// `GET /wp/v2/{base}/<id>`.
async fn get_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path(id): Path<String>,
    params: Params,
    pt: &PostType,
) -> WpResult<Response> {
    let id = route_id(&id)?;
    let actor = auth.actor();
    let mut v = Validator::new(&params);
    let id = request_id(&mut v, &params, id);
    let ctx = v.context();
    let password = v.string("password");
    let excerpt_length = v.integer("excerpt_length");
    v.finish()?;

    let post = match site.store.post_by_id(id).await? {
        Some(p) if p.post_type == pt.name => p,
        _ => return Err(WpError::rest_post_invalid_id()),
    };
    if ctx == Context::Edit && !can_edit(&actor, &post, pt) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_forbidden_context",
            "Sorry, you are not allowed to edit this post.",
        ));
    }
    if !can_read(&actor, &post, pt) {
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
    let mut extras = Extras::load(&site, pt, &[&post]).await?;
    extras.attached.set_reader(&actor);
    extras.excerpt_length = excerpt_length;
    let mut body = prepare_item(
        &site,
        &post,
        pt,
        ctx,
        &tz,
        show || post.password.is_empty(),
        &extras,
    );
    if ctx == Context::Edit {
        add_action_links(&mut body, &actor, pt);
    }
    let mut resp = json_response(StatusCode::OK, &body);
    if let Ok(v) = HeaderValue::from_str(&format!(
        "<{}>; rel=\"alternate\"; type=text/html",
        permalink(&site, &post, pt, extras.ancestor_path(post.id))
    )) {
        resp.headers_mut().insert(header::LINK, v);
    }
    Ok(resp)
}

/// `title`, `content`, `excerpt` accept a string or `{"raw": …}`; WordPress registers them
/// without a validate callback, so anything else is ignored rather than refused.
pub(super) fn raw_field(params: &Params, name: &str) -> Option<String> {
    match params.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => match o.get("raw") {
            Some(Value::String(s)) => Some(s.clone()),
            None => Some(String::new()),
            Some(_) => None,
        },
        _ => None,
    }
}

/// `wp_unique_post_slug()`: drafts and pending posts keep their slug as given; others get
/// `-2`, `-3`, … until no other post of the type has it.
pub(crate) async fn unique_slug(
    site: &Site,
    pt: &PostType,
    base: &str,
    status: &str,
    self_id: i64,
) -> WpResult<String> {
    if matches!(status, "draft" | "pending" | "auto-draft") {
        return Ok(base.to_owned());
    }
    let mut slug = base.to_owned();
    let mut n = 2;
    while site.store.slug_exists(&pt.name, &slug, self_id).await? {
        slug = format!("{base}-{n}");
        n += 1;
    }
    Ok(slug)
}

/// The `sticky_posts` option: ids of sticky posts.
async fn sticky_posts(site: &Site) -> WpResult<Vec<i64>> {
    Ok(site
        .get_option("sticky_posts")
        .await?
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default())
}

/// `check_and_publish_future_post()` for every scheduled post whose date has come: it
/// becomes `publish` with its date kept. Returns how many were published.
pub async fn publish_future_posts(site: &Site) -> WpResult<usize> {
    let now = now();
    let mut published = 0;
    for pt in &site.config.post_types {
        let ids = site.store.publish_due_posts(&pt.name, now).await?;
        for id in &ids {
            tracing::info!(post_id = id, post_type = %pt.name, "scheduled post published");
        }
        published += ids.len();
    }
    Ok(published)
}

/// `stick_post()` / `unstick_post()`.
async fn set_sticky(site: &Site, id: i64, sticky: bool) -> WpResult<()> {
    let mut ids = sticky_posts(site).await?;
    let had = ids.contains(&id);
    if sticky == had {
        return Ok(());
    }
    if sticky {
        ids.push(id);
    } else {
        ids.retain(|x| *x != id);
    }
    site.store
        .set_option(
            "sticky_posts",
            &serde_json::to_string(&ids).unwrap_or_default(),
        )
        .await?;
    Ok(())
}

/// The writable fields of a create or update request, validated against the schema.
#[derive(Default)]
struct PostInput {
    title: Option<String>,
    content: Option<String>,
    excerpt: Option<String>,
    status: Option<&'static str>,
    slug: Option<String>,
    author: Option<i64>,
    password: Option<String>,
    comment_status: Option<&'static str>,
    ping_status: Option<&'static str>,
    date: Option<i64>,
    /// `date` or `date_gmt` sent as `null`: back to the default date (now; floating for a
    /// draft), which wins over a date given in the other field.
    reset_date: bool,
    menu_order: Option<i64>,
    parent: Option<i64>,
    sticky: Option<bool>,
    featured_media: Option<i64>,
    /// `format`, for types that support `post-formats`.
    format: Option<&'static str>,
    /// Term ids per taxonomy field (`categories`, `tags`), when given.
    terms: Vec<(&'static super::terms::Taxonomy, Vec<i64>)>,
    /// Registered keys to write: JSON-encoded values, none to delete.
    meta: Vec<(String, Vec<String>)>,
}

/// `check_status()` + `prepare_item_for_database()`: the stored status, sent again, is
/// valid whatever it is (`inherit`, `trash`) and changes nothing.
pub(super) fn status_unchanged(params: &Params, current_status: Option<&str>) -> bool {
    current_status.is_some_and(|c| params.get("status").and_then(Value::as_str) == Some(c))
}

/// `current_status`: the stored status of the post being updated.
fn parse_input(
    v: &mut Validator<'_>,
    params: &Params,
    pt: &PostType,
    tz: &jiff::tz::TimeZone,
    current_status: Option<&str>,
) -> PostInput {
    let mut input = PostInput {
        title: raw_field(params, "title"),
        content: raw_field(params, "content"),
        excerpt: raw_field(params, "excerpt"),
        status: if status_unchanged(params, current_status) {
            None
        } else {
            v.one_of("status", STATUSES)
        },
        slug: v.string("slug"),
        author: v.integer("author"),
        password: v.string("password"),
        comment_status: v.one_of("comment_status", &["open", "closed"]),
        ping_status: v.one_of("ping_status", &["open", "closed"]),
        ..PostInput::default()
    };
    for key in ["date", "date_gmt"] {
        match params.get(key) {
            None => {}
            Some(Value::Null) => input.reset_date = true,
            Some(Value::String(s)) => {
                let zone = if key == "date" {
                    tz.clone()
                } else {
                    jiff::tz::TimeZone::UTC
                };
                match parse_date(s, &zone) {
                    Some(ts) => {
                        if input.date.is_none() {
                            input.date = Some(ts);
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
    if pt.hierarchical {
        input.menu_order = v.integer("menu_order");
        input.parent = v.integer("parent");
    }
    if pt.name == "post" {
        input.sticky = v.boolean("sticky");
        for tax in super::terms::TAXONOMIES {
            if let Some(ids) = v.integer_list(tax.post_field) {
                input.terms.push((tax, ids));
            }
        }
    }
    let unsupported = super::registry::unsupported_fields(pt);
    if !unsupported.contains(&"featured_media") {
        input.featured_media = v.integer("featured_media");
    }
    // `null` skips validation, as for every WordPress argument.
    let given = |key: &str| params.get(key).is_some_and(|v| !v.is_null());
    if !unsupported.contains(&"format") && given("format") {
        input.format = v.one_of("format", POST_FORMATS);
    }
    if !unsupported.contains(&"template") && given("template") {
        check_template(v, params);
    }
    if pt.supports("custom-fields") {
        input.meta = parse_meta(v, params, pt);
    }
    input
}

/// `get_post_format_slugs()`, in WordPress's order (the order of its error message).
pub(super) const POST_FORMATS: &[&str] = &[
    "standard", "aside", "chat", "gallery", "link", "image", "quote", "status", "video", "audio",
];

/// `check_template()`: without a theme there are no page templates, so only an empty value
/// (PHP's falsy `""`, `"0"`, `0`, `false`) is valid, and the template is always `""`.
fn check_template(v: &mut Validator<'_>, params: &Params) {
    let empty = match params.get("template") {
        Some(Value::String(s)) => s.is_empty() || s == "0",
        Some(Value::Bool(b)) => !b,
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        _ => false,
    };
    if !empty {
        // `implode( ', ', array_keys( $allowed_templates ) )` of no templates.
        v.invalid(
            "template",
            "rest_invalid_param",
            "template is not one of .".into(),
            Value::Null,
        );
    }
}

/// `sanitize_post()`'s save filters on the HTML fields of any post type, in WordPress's
/// order (`title_save_pre`: `trim`, `wp_targeted_link_rel`, `wp_filter_kses`;
/// `content_save_pre` and `excerpt_save_pre`: `wp_targeted_link_rel`,
/// `wp_filter_post_kses`). The KSES ones apply only to users without `unfiltered_html`
/// (`kses_init()`); all apply to every field on every save, as `wp_update_post()` re-saves
/// them all. Large fields are filtered on the CPU pool: 503 when its queue is full.
pub(super) async fn sanitize_html_fields(
    site: &Site,
    actor: &Actor<'_>,
    post: &mut Post,
) -> Result<(), WpError> {
    let kses = !actor.can(Cap::Primitive("unfiltered_html"));
    let uploads = format!("{}/wp-content/uploads/", site.config.home);
    let fields = [
        std::mem::take(&mut post.title),
        std::mem::take(&mut post.content),
        std::mem::take(&mut post.excerpt),
    ];
    let size: usize = fields.iter().map(String::len).sum();
    let [title, content, excerpt] = site
        .cpu
        .run_sized(size, move || filter_html_fields(fields, kses, &uploads))
        .await?;
    post.title = title;
    post.content = content;
    post.excerpt = excerpt;
    Ok(())
}

/// The filters of [`sanitize_html_fields`] on `[title, content, excerpt]`.
fn filter_html_fields(fields: [String; 3], kses: bool, uploads: &str) -> [String; 3] {
    const PHP_TRIM: [char; 6] = [' ', '\t', '\n', '\r', '\0', '\x0b'];
    let [mut title, mut content, mut excerpt] = fields;
    if title.starts_with(PHP_TRIM) || title.ends_with(PHP_TRIM) {
        title = title.trim_matches(PHP_TRIM).to_owned();
    }
    for field in [&mut title, &mut content, &mut excerpt] {
        if field.len() >= 3 {
            *field = crate::kses::targeted_link_rel(field);
        }
    }
    if kses {
        title = crate::kses::filter_kses(&title);
        content = crate::kses::filter_post_kses(&content, uploads);
        excerpt = crate::kses::filter_post_kses(&excerpt, uploads);
    }
    [title, content, excerpt]
}

/// `meta` of a write: only registered keys count (others are ignored, as in WordPress);
/// `null` deletes; values must have the key's type.
fn parse_meta(v: &mut Validator<'_>, params: &Params, pt: &PostType) -> Vec<(String, Vec<String>)> {
    let mut out = vec![];
    let obj = match params.get("meta") {
        None | Some(Value::Null) => return out,
        Some(Value::Object(o)) => o,
        // An empty form or JSON array is PHP's empty array: nothing to write.
        Some(Value::Array(a)) if a.is_empty() => return out,
        Some(_) => {
            v.invalid(
                "meta",
                "rest_invalid_type",
                "meta is not of type object.".into(),
                json!({ "param": "meta" }),
            );
            return out;
        }
    };
    for m in &pt.meta {
        let Some(value) = obj.get(&m.key) else {
            continue;
        };
        let param = format!("meta[{}]", m.key);
        if value.is_null() {
            out.push((m.key.clone(), vec![]));
            continue;
        }
        let items: Vec<&Value> = if m.single {
            vec![value]
        } else if let Value::Array(a) = value {
            a.iter().collect()
        } else {
            v.invalid(
                &param,
                "rest_invalid_type",
                format!("{param} is not of type array."),
                json!({ "param": param }),
            );
            continue;
        };
        let mut encoded = vec![];
        for (i, item) in items.iter().enumerate() {
            match m.ty.coerce(item) {
                Some(c) => encoded.push(c.to_string()),
                None => {
                    let at = if m.single {
                        param.clone()
                    } else {
                        format!("{param}[{i}]")
                    };
                    v.invalid(
                        &at,
                        "rest_invalid_type",
                        format!("{at} is not of type {}.", m.ty.as_str()),
                        json!({ "param": at }),
                    );
                    break;
                }
            }
        }
        if encoded.len() == items.len() {
            out.push((m.key.clone(), encoded));
        }
    }
    out
}

/// Whether making `parent` the parent of `id` would make `id` its own ancestor.
async fn creates_loop(site: &Site, id: i64, parent: i64) -> WpResult<bool> {
    if id == 0 {
        return Ok(false);
    }
    let mut cur = parent;
    // A bounded walk: a loop already in the data must not hang the request.
    for _ in 0..1000 {
        if cur == id {
            return Ok(true);
        }
        match site.store.post_by_id(cur).await? {
            Some(p) if p.parent != 0 => cur = p.parent,
            _ => return Ok(false),
        }
    }
    Ok(true)
}

/// `check_assign_terms_permission()`: the last of the create and update checks.
fn check_assign_terms(actor: &Actor<'_>, input: &PostInput) -> WpResult<()> {
    if input
        .terms
        .iter()
        .any(|(tax, ids)| !ids.is_empty() && !tax.can_assign(actor))
    {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_assign_term",
            "Sorry, you are not allowed to assign the provided terms.",
        ));
    }
    Ok(())
}

/// `handle_terms()`: the given taxonomies' terms become the post's (ids that are not terms
/// of the taxonomy are skipped).
async fn set_terms(
    site: &Site,
    pt: &PostType,
    post_id: i64,
    terms: &[(&'static super::terms::Taxonomy, Vec<i64>)],
) -> WpResult<()> {
    if pt.name != "post" {
        return Ok(());
    }
    // `wp_insert_post()` gives a post without a category the default one on every save;
    // the request's own lists are applied after it, so an explicit `[]` stays empty.
    let current = site.store.post_terms(&[post_id]).await?;
    if !current.iter().any(|(_, _, t)| t == "category") {
        site.store
            .set_post_terms(
                post_id,
                "category",
                &[super::settings::default_category(site).await?],
            )
            .await?;
    }
    for (tax, ids) in terms {
        site.store.set_post_terms(post_id, tax.name, ids).await?;
    }
    Ok(())
}

/// The checks create and update permission callbacks share after their own first ones.
fn check_author_and_sticky(
    actor: &Actor<'_>,
    pt: &PostType,
    input: &PostInput,
    author_message: &'static str,
) -> WpResult<()> {
    if let Some(a) = input.author
        && a != 0
        && a != actor.id
        && !actor.can(Cap::Primitive(&pt.caps.edit_others_posts))
    {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_edit_others",
            author_message,
        ));
    }
    if input.sticky == Some(true)
        && !actor.can(Cap::Primitive(&pt.caps.edit_others_posts))
        && !actor.can(Cap::Primitive(&pt.caps.publish_posts))
    {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_assign_sticky",
            "Sorry, you are not allowed to make posts sticky.",
        ));
    }
    Ok(())
}

/// `prepare_item_for_database()` + `wp_insert_post()`'s rules: applies the input onto
/// `post` (a blank one when creating), checking status, author and parent.
async fn apply_input(
    site: &Site,
    actor: &Actor<'_>,
    pt: &PostType,
    mut post: Post,
    input: PostInput,
) -> WpResult<Post> {
    let creating = post.id == 0;
    // handle_status_param().
    if let Some(status) = input.status {
        match status {
            "publish" | "future" if !actor.can(Cap::Primitive(&pt.caps.publish_posts)) => {
                return Err(WpError::auth_required(
                    actor.logged_in(),
                    "rest_cannot_publish",
                    "Sorry, you are not allowed to publish posts in this post type.",
                ));
            }
            "private" if !actor.can(Cap::Primitive(&pt.caps.publish_posts)) => {
                return Err(WpError::auth_required(
                    actor.logged_in(),
                    "rest_cannot_publish",
                    "Sorry, you are not allowed to create private posts in this post type.",
                ));
            }
            _ => {}
        }
    }
    if let Some(author) = input.author
        && author != post.author
    {
        if site.store.user_by_id(author).await?.is_none() {
            return Err(WpError::new(
                StatusCode::BAD_REQUEST,
                "rest_invalid_author",
                "Invalid author ID.",
            ));
        }
        post.author = author;
    }
    check_sticky_password(site, &post, &input).await?;
    if let Some(parent) = input.parent {
        // Any existing post may be a parent (WordPress does not check its type); one that
        // would make a loop is dropped (`wp_check_post_hierarchy_for_loops`).
        if parent != 0 && site.store.post_by_id(parent).await?.is_none() {
            return Err(WpError::new(
                StatusCode::BAD_REQUEST,
                "rest_post_invalid_id",
                "Invalid post parent ID.",
            ));
        }
        post.parent = if parent != 0 && creates_loop(site, post.id, parent).await? {
            0
        } else {
            parent
        };
    }
    if let Some(t) = input.title {
        post.title = t;
    }
    if let Some(c) = input.content {
        post.content = c;
    }
    if let Some(e) = input.excerpt {
        post.excerpt = e;
    }
    sanitize_html_fields(site, actor, &mut post).await?;
    // `set_post_format()`: `standard` is no format at all.
    if let Some(f) = input.format {
        post.format = if f == "standard" { "" } else { f }.to_owned();
    }
    let checks_empty = pt.supports("title") && pt.supports("editor") && pt.supports("excerpt");
    if checks_empty && post.title.is_empty() && post.content.is_empty() && post.excerpt.is_empty() {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "empty_content",
            "Content, title, and excerpt are empty.",
        ));
    }
    if let Some(p) = input.password {
        post.password = p;
    }
    if let Some(c) = input.comment_status {
        post.comment_status = c.to_owned();
    }
    if let Some(p) = input.ping_status {
        post.ping_status = p.to_owned();
    }
    if let Some(m) = input.menu_order {
        post.menu_order = m;
    }

    let was_trashed = post.status == "trash";
    if let Some(status) = input.status {
        post.status = status.to_owned();
    }
    if was_trashed && post.status != "trash" {
        // Leaving the trash gives the slug back (`wp_untrash_post`).
        post.pre_trash_status = None;
        if let Some(s) = post.slug.strip_suffix("__trashed") {
            post.slug = s.to_owned();
        }
    }

    let now = now();
    let floating_status = matches!(post.status.as_str(), "draft" | "pending");
    match input.date {
        // `prepare_item_for_database()` empties both dates on a `null`, and
        // `wp_insert_post()` dates an undated post now (a draft stays floating).
        _ if input.reset_date => {
            post.date = now;
            post.date_floating = floating_status;
        }
        Some(d) => {
            post.date = d;
            post.date_floating = false;
        }
        // A draft without a date of its own is dated when it is saved (`wp_update_post`).
        None if creating || post.date_floating => {
            post.date = now;
            post.date_floating = floating_status;
        }
        None => {}
    }
    if post.status == "publish" && post.date - now >= 60 {
        post.status = "future".into();
    } else if post.status == "future" && post.date - now < 60 {
        post.status = "publish".into();
    }

    // The controller makes an explicit slug unique as if published, for drafts and pending
    // posts too: always on update, on create when the status is given as draft or pending.
    let explicit_unique =
        input.slug.is_some() && (!creating || matches!(input.status, Some("draft" | "pending")));
    let wanted = match input.slug {
        Some(s) => sanitize_title(&s),
        None => post.slug.clone(),
    };
    let wanted = if wanted.is_empty() && !floating_status && post.status != "trash" {
        sanitize_title(&post.title)
    } else {
        wanted
    };
    post.slug = if wanted.is_empty() {
        wanted
    } else {
        let as_status = if explicit_unique {
            "publish"
        } else {
            post.status.as_str()
        };
        unique_slug(site, pt, &wanted, as_status, post.id).await?
    };
    // `wp_insert_post()`: a new post's `post_modified` is its `post_date`.
    post.modified = if creating { post.date } else { now };
    Ok(post)
}

/// `prepare_item_for_database()`: a post cannot be both sticky and password protected.
/// `post_password_required()` there sees the stored password (no cookie over the API).
async fn check_sticky_password(site: &Site, post: &Post, input: &PostInput) -> WpResult<()> {
    let invalid =
        |message: &str| WpError::new(StatusCode::BAD_REQUEST, "rest_invalid_field", message);
    let sticky = input.sticky == Some(true);
    if input.password.as_deref().is_some_and(|p| !p.is_empty()) {
        if sticky {
            return Err(invalid("A post can not be sticky and have a password."));
        }
        if post.id != 0 && sticky_posts(site).await?.contains(&post.id) {
            return Err(invalid("A sticky post can not be password protected."));
        }
    }
    if sticky && post.id != 0 && !post.password.is_empty() {
        return Err(invalid(
            "A password protected post can not be set to sticky.",
        ));
    }
    Ok(())
}

fn not_found() -> WpError {
    WpError::rest_post_invalid_id()
}

async fn load(site: &Site, pt: &PostType, id: i64) -> WpResult<Post> {
    match site.store.post_by_id(id).await? {
        Some(p) if p.post_type == pt.name => Ok(p),
        _ => Err(not_found()),
    }
}

/// Answers a write with the post in the edit context.
async fn respond_with_post(
    site: &Site,
    actor: &Actor<'_>,
    post: &Post,
    pt: &PostType,
    status: StatusCode,
    tz: &jiff::tz::TimeZone,
    extras: Extras,
) -> WpResult<Response> {
    let mut body = prepare_item(site, post, pt, Context::Edit, tz, true, &extras);
    add_action_links(&mut body, actor, pt);
    let mut resp = json_response(status, &body);
    if status == StatusCode::CREATED
        && let Ok(loc) = HeaderValue::from_str(
            &site
                .config
                .rest_url(&format!("wp/v2/{}/{}", pt.rest_base, post.id)),
        )
    {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}

/// `POST /wp/v2/{base}`.
/// The argument checks a write to a post route runs before anything else
/// (`has_valid_params()`), for the validation pass of `/batch/v1`: `delete` for DELETE,
/// else the create/update arguments.
pub async fn validate_write(
    site: &Site,
    base: &str,
    delete: bool,
    params: &Params,
) -> WpResult<()> {
    let pt = post_type(site, base).ok_or_else(WpError::rest_no_route)?;
    let mut v = Validator::new(params);
    if delete {
        let _ = v.boolean("force");
    } else {
        let tz = site_tz(site).await?;
        let _ = parse_input(&mut v, params, &pt, &tz, None);
    }
    v.finish()
}

async fn create_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    params: Params,
    pt: &PostType,
) -> WpResult<Response> {
    let actor = auth.actor();
    let tz = site_tz(&site).await?;
    let mut v = Validator::new(&params);
    let mut input = parse_input(&mut v, &params, pt, &tz, None);
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
    check_author_and_sticky(
        &actor,
        pt,
        &input,
        "Sorry, you are not allowed to create posts as this user.",
    )?;
    if !actor.can(Cap::Primitive(&pt.caps.create_posts)) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_create",
            "Sorry, you are not allowed to create posts as this user.",
        ));
    }
    check_assign_terms(&actor, &input)?;

    let comment_status = super::settings::default_comment_status(&site, &pt.name, false).await?;
    let ping_status = super::settings::default_comment_status(&site, &pt.name, true).await?;
    let blank = Post {
        id: 0,
        post_type: pt.name.to_owned(),
        status: "draft".into(),
        author: actor.id,
        title: String::new(),
        content: String::new(),
        excerpt: String::new(),
        slug: String::new(),
        password: String::new(),
        parent: 0,
        menu_order: 0,
        comment_status,
        ping_status,
        date: 0,
        date_floating: true,
        modified: 0,
        pre_trash_status: None,
        mime_type: String::new(),
        featured_media: 0,
        format: String::new(),
        guid: String::new(),
    };
    let sticky = input.sticky;
    let meta = std::mem::take(&mut input.meta);
    // `handle_featured_media()` on create: an id that is not an image attachment is
    // ignored (WordPress does not check the result there).
    let featured = match input.featured_media {
        Some(id) if id > 0 && super::media::is_image_attachment(&site, id).await? => id,
        _ => 0,
    };
    let terms = std::mem::take(&mut input.terms);
    let mut post = apply_input(&site, &actor, pt, blank, input).await?;
    post.featured_media = featured;
    // The post, its meta and its terms in one transaction (`wp_insert_post()` gives a post
    // without a category the default one; the request's own lists come after it, so an
    // explicit `[]` stays empty).
    let mut post_terms = vec![];
    if pt.name == "post" {
        post_terms.push((
            "category".to_owned(),
            vec![super::settings::default_category(&site).await?],
        ));
        post_terms.extend(
            terms
                .iter()
                .map(|(tax, ids)| (tax.name.to_owned(), ids.clone())),
        );
    }
    // `wp_insert_post()` sets the guid once, to `get_permalink()` of the new post. It is
    // written with the post (one commit, shared by concurrent creations): the slug's link
    // when known now, else `?p=` and the id the store gives the post.
    let guid_id_prefix = if has_pretty_permalink(&post) {
        post.guid = permalink(&site, &post, pt, &ancestor_path(&site, &post).await?);
        None
    } else {
        Some(id_permalink_prefix(&site, pt))
    };
    post.id = site
        .store
        .create_post(&NewPostWrite {
            post: post.clone(),
            meta: meta.clone(),
            terms: post_terms,
            guid_id_prefix: guid_id_prefix.clone(),
            import: None,
            comments: vec![],
        })
        .await?;
    if let Some(prefix) = guid_id_prefix {
        post.guid = format!("{prefix}{}", post.id);
    }
    if post.slug.is_empty() && !matches!(post.status.as_str(), "draft" | "pending") {
        // `sanitize_title( '', $post_ID )`: an untitled published post is named by its id,
        // and its guid is the link of that name.
        post.slug = unique_slug(&site, pt, &post.id.to_string(), &post.status, post.id).await?;
        site.store.update_post(&post).await?;
        post.guid = permalink(&site, &post, pt, &ancestor_path(&site, &post).await?);
        site.store.set_post_guid(post.id, &post.guid).await?;
    }
    if let Some(s) = sticky {
        set_sticky(&site, post.id, s).await?;
    }
    tracing::info!(post_id = post.id, post_type = %pt.name, status = %post.status, author = post.author, "post created");
    // What was just written need not be read back: a new post has no revisions, and is
    // sticky exactly when the request said so.
    let mut extras = Extras::for_new_post(&site, pt, &post, sticky == Some(true), &meta).await?;
    extras.attached.set_reader(&actor);
    respond_with_post(&site, &actor, &post, pt, StatusCode::CREATED, &tz, extras).await
}

/// `POST|PUT|PATCH /wp/v2/{base}/<id>`.
async fn update_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path(id): Path<String>,
    params: Params,
    pt: &PostType,
) -> WpResult<Response> {
    let id = route_id(&id)?;
    let actor = auth.actor();
    let tz = site_tz(&site).await?;
    let mut v = Validator::new(&params);
    let id = request_id(&mut v, &params, id);
    let current = site
        .store
        .post_by_id(id)
        .await?
        .filter(|p| p.post_type == pt.name);
    let mut input = parse_input(
        &mut v,
        &params,
        pt,
        &tz,
        current.as_ref().map(|p| p.status.as_str()),
    );
    v.finish()?;

    // update_item_permissions_check().
    let Some(post) = current else {
        return Err(not_found());
    };
    if !can_edit(&actor, &post, pt) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_edit",
            "Sorry, you are not allowed to edit this post.",
        ));
    }
    check_author_and_sticky(
        &actor,
        pt,
        &input,
        "Sorry, you are not allowed to update posts as this user.",
    )?;
    check_assign_terms(&actor, &input)?;

    let sticky = input.sticky;
    let meta = std::mem::take(&mut input.meta);
    let featured = match input.featured_media {
        None => None,
        Some(id) if id <= 0 => Some(0),
        Some(id) if super::media::is_image_attachment(&site, id).await? => Some(id),
        Some(_) => {
            return Err(WpError::new(
                StatusCode::BAD_REQUEST,
                "rest_invalid_featured_media",
                "Invalid featured media ID.",
            ));
        }
    };
    let terms = std::mem::take(&mut input.terms);
    let mut post = apply_input(&site, &actor, pt, post, input).await?;
    if let Some(f) = featured {
        post.featured_media = f;
    }
    if !site.store.update_post(&post).await? {
        return Err(not_found());
    }

    super::revisions::save(&site, pt, &post, actor.id).await?;
    if let Some(s) = sticky {
        set_sticky(&site, post.id, s).await?;
    }
    for (key, values) in &meta {
        site.store.set_post_meta(post.id, key, values).await?;
    }
    set_terms(&site, pt, post.id, &terms).await?;
    tracing::info!(post_id = post.id, post_type = %pt.name, status = %post.status, "post updated");
    let mut extras = Extras::load(&site, pt, &[&post]).await?;
    extras.attached.set_reader(&actor);
    respond_with_post(&site, &actor, &post, pt, StatusCode::OK, &tz, extras).await
}

/// `DELETE /wp/v2/{base}/<id>`: to the trash, or for good with `force=true`.
async fn delete_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path(id): Path<String>,
    params: Params,
    pt: &PostType,
) -> WpResult<Response> {
    let id = route_id(&id)?;
    let actor = auth.actor();
    let mut v = Validator::new(&params);
    let id = request_id(&mut v, &params, id);
    let force = v.boolean("force").unwrap_or(false);
    v.finish()?;

    let mut post = load(&site, pt, id).await?;
    if !actor.can(Cap::DeletePost(post_ref(&post, pt))) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_delete",
            "Sorry, you are not allowed to delete this post.",
        ));
    }
    let tz = site_tz(&site).await?;
    let mut extras = Extras::load(&site, pt, &[&post]).await?;
    extras.attached.set_reader(&actor);
    // Trashing or deleting unsticks (`_reset_front_page_settings_for_post`), before the
    // post is shown.
    if extras.sticky.contains(&post.id) && (force || post.status != "trash") {
        set_sticky(&site, post.id, false).await?;
        extras.sticky.retain(|i| *i != post.id);
    }
    if force {
        let mut previous = prepare_item(&site, &post, pt, Context::Edit, &tz, true, &extras);
        // WordPress's `previous` is the item's data, without its links.
        if let Some(o) = previous.as_object_mut() {
            o.remove("_links");
        }
        // Children move up to the deleted post's parent (`wp_delete_post`).
        if pt.hierarchical {
            let q = PostQuery {
                post_type: pt.name.to_owned(),
                parents: vec![post.id],
                limit: i64::MAX,
                ..PostQuery::default()
            };
            for mut child in site.store.query_posts(&q).await?.0 {
                child.parent = post.parent;
                site.store.update_post(&child).await?;
            }
        }
        site.store.delete_post(post.id).await?;
        super::revisions::delete_all(&site, post.id).await?;
        tracing::info!(post_id = post.id, post_type = pt.name, "post deleted");
        return Ok(json_response(
            StatusCode::OK,
            &json!({ "deleted": true, "previous": super::global_params::previous_item(&params, previous) }),
        ));
    }
    if post.status == "trash" {
        return Err(WpError::new(
            StatusCode::GONE,
            "rest_already_trashed",
            "The post has already been deleted.",
        ));
    }
    // `wp_trash_post()`: remember the status, free the slug.
    post.pre_trash_status = Some(std::mem::replace(&mut post.status, "trash".into()));
    if !post.slug.ends_with("__trashed") {
        post.slug = format!("{}__trashed", post.slug);
    }
    post.modified = now();
    site.store.update_post(&post).await?;
    // `wp_trash_post_comments()`.
    site.store.trash_post_comments(post.id).await?;
    // `wp_trash_post()` saves through `wp_update_post()`, which keeps a revision.
    super::revisions::save(&site, pt, &post, actor.id).await?;
    let mut extras = Extras::load(&site, pt, &[&post]).await?;
    extras.attached.set_reader(&actor);
    tracing::info!(post_id = post.id, post_type = %pt.name, "post trashed");
    let mut body = prepare_item(&site, &post, pt, Context::Edit, &tz, true, &extras);
    add_action_links(&mut body, &actor, pt);
    Ok(json_response(StatusCode::OK, &body))
}
