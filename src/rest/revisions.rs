//! Revisions: `WP_REST_Revisions_Controller` (`class-wp-rest-revisions-controller.php`) at
//! `/wp/v2/{base}/<parent>/revisions[/<id>]`. A revision is a post of type `revision`
//! holding the title, content and excerpt a post had after an update.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::auth::Auth;
use crate::caps::{Actor, Cap, PostRef};
use crate::error::{WpError, WpResult};
use crate::formatting::{
    NoAttachedMedia, NoImages, PageLoad, Shown, the_content, the_excerpt, the_title,
};
use crate::post_types::PostType;
use crate::site::{Site, now};
use crate::store::{Post, PostOrderBy, PostQuery};

use super::params::{Context, Params, Validator};
use super::registry::filter_by_context;
use super::{json_response, route_id};

pub const REVISION: &str = "revision";

pub fn routes() -> Router<Arc<Site>> {
    Router::new()
        .route("/wp/v2/{base}/{id}/revisions", get(get_items))
        .route(
            "/wp/v2/{base}/{id}/revisions/{revision}",
            get(get_item).delete(delete_item),
        )
}

/// Whether a type keeps revisions (`post_type_supports( …, 'revisions' )`).
pub fn supported(pt: &PostType) -> bool {
    matches!(pt.name.as_str(), "post" | "page") || pt.supports("revisions")
}

/// `wp_save_post_revision()` after an update: a copy of the new title, content and excerpt
/// — always for the first one, then only when they differ from the newest revision.
pub async fn save(site: &Site, pt: &PostType, after: &Post, author: i64) -> WpResult<()> {
    if !supported(pt) {
        return Ok(());
    }
    let q = PostQuery {
        post_type: REVISION.into(),
        parents: vec![after.id],
        limit: 1,
        ..PostQuery::default()
    };
    if let Some(latest) = site.store.query_posts(&q).await?.0.first()
        && latest.title == after.title
        && latest.content == after.content
        && latest.excerpt == after.excerpt
    {
        return Ok(());
    }
    let now = now();
    let revision = Post {
        id: 0,
        post_type: REVISION.into(),
        status: "inherit".into(),
        author,
        title: after.title.clone(),
        content: after.content.clone(),
        excerpt: after.excerpt.clone(),
        slug: format!("{}-revision-v1", after.id),
        password: String::new(),
        parent: after.id,
        menu_order: 0,
        comment_status: "closed".into(),
        ping_status: "closed".into(),
        date: now,
        date_floating: false,
        modified: now,
        pre_trash_status: None,
        mime_type: String::new(),
        featured_media: 0,
        format: String::new(),
        guid: String::new(),
    };
    site.store.insert_post(&revision).await?;
    Ok(())
}

/// (post, number of revisions, newest revision id) for each post, for their links; empty
/// for types without revisions.
pub async fn history(
    site: &Site,
    pt: &PostType,
    post_ids: &[i64],
) -> WpResult<Vec<(i64, i64, i64)>> {
    if !supported(pt) {
        return Ok(vec![]);
    }
    let found = site.store.children_summary(REVISION, post_ids).await?;
    // Posts without revisions still get `version-history` (count 0).
    Ok(post_ids
        .iter()
        .map(|id| {
            found
                .iter()
                .find(|(p, _, _)| p == id)
                .copied()
                .unwrap_or((*id, 0, 0))
        })
        .collect())
}

/// Deletes a post's revisions with it.
pub async fn delete_all(site: &Site, post_id: i64) -> WpResult<()> {
    let q = PostQuery {
        post_type: REVISION.into(),
        parents: vec![post_id],
        limit: i64::MAX,
        ..PostQuery::default()
    };
    for r in site.store.query_posts(&q).await?.0 {
        site.store.delete_post(r.id).await?;
    }
    Ok(())
}

/// The parent post, and the permission to see its revisions (`edit_post` on it).
async fn parent(
    site: &Site,
    actor: &Actor<'_>,
    base: &str,
    parent: &str,
) -> WpResult<(PostType, Post)> {
    let Some(pt) = site
        .post_type_by_base(base)
        .filter(|t| supported(t))
        .cloned()
    else {
        return Err(WpError::rest_no_route());
    };
    let id = route_id(parent)?;
    let post = match site.store.post_by_id(id).await? {
        Some(p) if p.post_type == pt.name => p,
        _ => {
            return Err(WpError::new(
                StatusCode::NOT_FOUND,
                "rest_post_invalid_parent",
                "Invalid post parent ID.",
            ));
        }
    };
    let editable = actor.can(Cap::EditPost(PostRef {
        author: post.author,
        status: &post.status,
        pre_trash_status: post.pre_trash_status.as_deref(),
        caps: &pt.caps,
    }));
    if !editable {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_read",
            "Sorry, you are not allowed to view revisions of this post.",
        ));
    }
    Ok((pt, post))
}

fn gmt(ts: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_second(ts)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%dT%H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

fn prepare_item(
    site: &Site,
    pt: &PostType,
    rev: &Post,
    ctx: Context,
    tz: &jiff::tz::TimeZone,
    page: &PageLoad,
) -> Value {
    let edit = ctx == Context::Edit;
    let shown = Shown {
        post_id: rev.id as u64,
        page,
        attached: &NoAttachedMedia,
    };
    let guid = format!("{}/?p={}", site.config.home, rev.id);
    let text = |raw: &str, rendered: String| {
        let mut m = Map::new();
        if edit {
            m.insert("raw".into(), json!(raw));
        }
        m.insert("rendered".into(), json!(rendered));
        Value::Object(m)
    };
    let utc = jiff::tz::TimeZone::UTC;
    let data = json!({
        "author": rev.author,
        "date": gmt(rev.date, tz),
        "date_gmt": gmt(rev.date, &utc),
        "id": rev.id,
        "modified": gmt(rev.modified, tz),
        "modified_gmt": gmt(rev.modified, &utc),
        "parent": rev.parent,
        "slug": rev.slug,
        "guid": text(&guid, guid.clone()),
        // `the_title`, `the_content` and `the_excerpt` (revisions get no generated excerpt).
        "title": text(&rev.title, the_title(&rev.title)),
        "content": text(&rev.content, the_content(&rev.content, &site.config.home, &NoImages, shown)),
        "excerpt": text(&rev.excerpt, the_excerpt(&rev.excerpt, &site.config.home, &NoImages)),
        "_links": { "parent": [{ "href": site.config.rest_url(&format!("wp/v2/{}/{}", pt.rest_base, rev.parent)) }] }
    });
    filter_by_context(data, "revision", ctx)
}

/// `GET /wp/v2/{base}/<parent>/revisions`.
async fn get_items(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path((base, parent_id)): Path<(String, String)>,
    params: Params,
) -> WpResult<Response> {
    let mut v = Validator::new(&params);
    let ctx = v.context();
    let page = v.integer_min("page", 1);
    let per_page = v.integer_range("per_page", 1, 100);
    let offset = v.integer("offset");
    let order = v.one_of("order", &["asc", "desc"]).unwrap_or("desc");
    let orderby = v
        .one_of(
            "orderby",
            &[
                "date",
                "id",
                "include",
                "relevance",
                "slug",
                "include_slugs",
                "title",
            ],
        )
        .unwrap_or("date");
    let include = v.integer_list("include").unwrap_or_default();
    let exclude = v.integer_list("exclude").unwrap_or_default();
    v.finish()?;
    let actor = auth.actor();
    let (pt, post) = parent(&site, &actor, &base, &parent_id).await?;
    // Without `per_page`, WordPress returns every revision.
    let per_page_n = per_page.unwrap_or(i64::MAX);
    let page_n = page.unwrap_or(1);
    let q = PostQuery {
        post_type: REVISION.into(),
        parents: vec![post.id],
        include,
        exclude,
        orderby: match orderby {
            "id" => PostOrderBy::Id,
            "slug" => PostOrderBy::Slug,
            "title" => PostOrderBy::Title,
            "include" => PostOrderBy::Include,
            _ => PostOrderBy::Date,
        },
        ascending: order == "asc",
        limit: per_page_n,
        offset: offset
            .unwrap_or((page_n - 1).saturating_mul(per_page_n.min(100)))
            .max(0),
        ..PostQuery::default()
    };
    let (revs, total) = site.store.query_posts(&q).await?;
    let total_pages = if per_page.is_some() {
        (total + per_page_n - 1) / per_page_n
    } else {
        i64::from(total > 0)
    };
    if page_n > total_pages && total > 0 {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_revision_invalid_page_number",
            "The page number requested is larger than the number of pages available.",
        ));
    }
    let tz = super::posts::site_tz(&site).await?;
    let page_load = PageLoad::new();
    let items: Vec<Value> = revs
        .iter()
        .map(|r| prepare_item(&site, &pt, r, ctx, &tz, &page_load))
        .collect();
    let base_url = site
        .config
        .rest_url(&format!("wp/v2/{}/{}/revisions", pt.rest_base, post.id));
    Ok(super::collection_response(
        items,
        total,
        total_pages,
        &base_url,
        &params,
        page_n,
    ))
}

async fn revision(site: &Site, post: &Post, id: &str) -> WpResult<Post> {
    let invalid = || {
        WpError::new(
            StatusCode::NOT_FOUND,
            "rest_post_invalid_id",
            "Invalid revision ID.",
        )
    };
    let id = route_id(id).map_err(|_| invalid())?;
    match site.store.post_by_id(id).await? {
        Some(r) if r.post_type == REVISION && r.parent == post.id => Ok(r),
        _ => Err(invalid()),
    }
}

/// `GET /wp/v2/{base}/<parent>/revisions/<id>`.
async fn get_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path((base, parent_id, id)): Path<(String, String, String)>,
    params: Params,
) -> WpResult<Response> {
    let mut v = Validator::new(&params);
    let ctx = v.context();
    v.finish()?;
    let actor = auth.actor();
    let (pt, post) = parent(&site, &actor, &base, &parent_id).await?;
    let rev = revision(&site, &post, &id).await?;
    let tz = super::posts::site_tz(&site).await?;
    Ok(json_response(
        StatusCode::OK,
        &prepare_item(&site, &pt, &rev, ctx, &tz, &PageLoad::new()),
    ))
}

/// `DELETE …/revisions/<id>`: `delete_post` on a revision maps to nobody in WordPress 6.1
/// (the oracle refuses even administrators), so this always refuses once the revision is
/// found.
async fn delete_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path((base, parent_id, id)): Path<(String, String, String)>,
    params: Params,
) -> WpResult<Response> {
    let mut v = Validator::new(&params);
    let _force = v.boolean("force");
    v.finish()?;
    let actor = auth.actor();
    let (_, post) = parent(&site, &actor, &base, &parent_id).await?;
    revision(&site, &post, &id).await?;
    Err(WpError::auth_required(
        actor.logged_in(),
        "rest_cannot_delete",
        "Sorry, you are not allowed to delete this revision.",
    ))
}

/// For `Allow`: reading needs `edit_post` on the parent; deleting is never allowed.
pub async fn allowed(site: &Site, auth: &Auth, base: &str, parent_id: &str) -> Vec<&'static str> {
    match parent(site, &auth.actor(), base, parent_id).await {
        Ok(_) => vec!["GET"],
        Err(_) => vec![],
    }
}
