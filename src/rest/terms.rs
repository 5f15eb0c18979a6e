//! Categories and tags: `WP_REST_Terms_Controller` (`class-wp-rest-terms-controller.php`)
//! at `/wp/v2/categories` and `/wp/v2/tags`, and `WP_REST_Taxonomies_Controller` at
//! `/wp/v2/taxonomies`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::auth::Auth;
use crate::caps::{Actor, Cap};
use crate::error::{WpError, WpResult};
use crate::formatting::{pre_name_field, sanitize_text_field, sanitize_title};
use crate::site::Site;
use crate::store::{Conflict, StoreError, Term, TermOrderBy, TermQuery};

use super::params::{Context, Params, Validator};
use super::registry::filter_by_context;
use super::{json_response, route_id};

/// A taxonomy served over REST (`register_taxonomy()` for the built-in ones).
pub struct Taxonomy {
    pub name: &'static str,
    pub rest_base: &'static str,
    pub hierarchical: bool,
    /// `labels.name` and `labels.singular_name`.
    pub label: &'static str,
    pub singular: &'static str,
    /// Permalink base of a term's archive.
    pub archive: &'static str,
    /// The post field that holds its terms.
    pub post_field: &'static str,
}

pub const TAXONOMIES: &[Taxonomy] = &[
    Taxonomy {
        name: "category",
        rest_base: "categories",
        hierarchical: true,
        label: "Categories",
        singular: "Category",
        archive: "category",
        post_field: "categories",
    },
    Taxonomy {
        name: "post_tag",
        rest_base: "tags",
        hierarchical: false,
        label: "Tags",
        singular: "Tag",
        archive: "tag",
        post_field: "tags",
    },
];

/// The category WordPress installs (`Uncategorized`): the `default_category` until the
/// option names another (posts without a category get it; it cannot be deleted).
pub const DEFAULT_CATEGORY: i64 = 1;

pub fn taxonomy_by_base(base: &str) -> Option<&'static Taxonomy> {
    TAXONOMIES.iter().find(|t| t.rest_base == base)
}

impl Taxonomy {
    /// `manage_terms`, `edit_terms`, `delete_terms`: `manage_categories` for both built-ins.
    fn can_manage(&self, actor: &Actor<'_>) -> bool {
        actor.can(Cap::Primitive("manage_categories"))
    }

    /// `assign_terms`: `edit_posts`.
    pub fn can_assign(&self, actor: &Actor<'_>) -> bool {
        actor.can(Cap::Primitive("edit_posts"))
    }

    /// Creating needs `edit_terms`, or for flat taxonomies `assign_terms` (authors add tags).
    pub fn can_create(&self, actor: &Actor<'_>) -> bool {
        if self.hierarchical {
            self.can_manage(actor)
        } else {
            self.can_assign(actor)
        }
    }

    fn schema_name(&self) -> &'static str {
        if self.hierarchical { "category" } else { "tag" }
    }
}

/// The taxonomies routes; `/wp/v2/{categories,tags}` share the `{base}` routes of the posts
/// controller, which hands a base that is a taxonomy's to the handlers here.
pub fn routes() -> Router<Arc<Site>> {
    Router::new()
        .route("/wp/v2/taxonomies", get(get_taxonomies))
        .route("/wp/v2/taxonomies/{taxonomy}", get(get_taxonomy))
}

fn taxonomy(base: &str) -> WpResult<&'static Taxonomy> {
    taxonomy_by_base(base).ok_or_else(WpError::rest_no_route)
}

fn invalid_term() -> WpError {
    WpError::new(
        StatusCode::NOT_FOUND,
        "rest_term_invalid",
        "Term does not exist.",
    )
}

async fn load(site: &Site, tax: &Taxonomy, id: &str) -> WpResult<Term> {
    let id = route_id(id)?;
    match site.store.term_by_id(id).await? {
        Some(t) if t.taxonomy == tax.name => Ok(t),
        _ => Err(invalid_term()),
    }
}

/// `prepare_item_for_response()` in the edit context; `filter_by_context` trims it.
fn prepare_item(site: &Site, tax: &Taxonomy, term: &Term, ctx: Context) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(term.id));
    o.insert("count".into(), json!(term.count));
    o.insert("description".into(), json!(term.description));
    o.insert(
        "link".into(),
        json!(format!(
            "{}/{}/{}/",
            site.config.home, tax.archive, term.slug
        )),
    );
    o.insert("name".into(), json!(term.name));
    o.insert("slug".into(), json!(term.slug));
    o.insert("taxonomy".into(), json!(tax.name));
    if tax.hierarchical {
        o.insert("parent".into(), json!(term.parent));
    }
    o.insert("meta".into(), json!([]));
    let rest = |p: String| site.config.rest_url(&p);
    let mut links = Map::new();
    links.insert(
        "self".into(),
        json!([{ "href": rest(format!("wp/v2/{}/{}", tax.rest_base, term.id)) }]),
    );
    links.insert(
        "collection".into(),
        json!([{ "href": rest(format!("wp/v2/{}", tax.rest_base)) }]),
    );
    links.insert(
        "about".into(),
        json!([{ "href": rest(format!("wp/v2/taxonomies/{}", tax.name)) }]),
    );
    if term.parent != 0 {
        links.insert(
            "up".into(),
            json!([{ "embeddable": true, "href": rest(format!("wp/v2/{}/{}", tax.rest_base, term.parent)) }]),
        );
    }
    links.insert(
        "wp:post_type".into(),
        json!([{ "href": rest(format!("wp/v2/posts?{}={}", tax.post_field, term.id)) }]),
    );
    links.insert(
        "curies".into(),
        json!([{ "name": "wp", "href": "https://api.w.org/{rel}", "templated": true }]),
    );
    o.insert("_links".into(), Value::Object(links));
    filter_by_context(Value::Object(o), tax.schema_name(), ctx)
}

/// `GET /wp/v2/{categories,tags}`.
pub async fn get_items(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path(base): Path<String>,
    params: Params,
) -> WpResult<Response> {
    let tax = taxonomy(&base)?;
    let mut v = Validator::new(&params);
    let ctx = v.context();
    let page = v.integer_min("page", 1).unwrap_or(1);
    let per_page = v.integer_range("per_page", 1, 100).unwrap_or(10);
    let search = v.string("search").filter(|s| !s.is_empty());
    let exclude = v.integer_list("exclude").unwrap_or_default();
    let include = v.integer_list("include").unwrap_or_default();
    let offset = if tax.hierarchical {
        None
    } else {
        v.integer("offset")
    };
    let order = v.one_of("order", &["asc", "desc"]).unwrap_or("asc");
    let orderby = v
        .one_of(
            "orderby",
            &[
                "id",
                "include",
                "name",
                "slug",
                "include_slugs",
                "term_group",
                "description",
                "count",
            ],
        )
        .unwrap_or("name");
    let hide_empty = v.boolean("hide_empty").unwrap_or(false);
    let parent = if tax.hierarchical {
        v.integer("parent")
    } else {
        None
    };
    let post = v.integer("post");
    let slugs: Vec<String> = v
        .string_list("slug")
        .unwrap_or_default()
        .iter()
        .map(|s| sanitize_title(s))
        .collect();
    v.finish()?;
    if ctx == Context::Edit && !tax.can_manage(&auth.actor()) {
        return Err(WpError::auth_required(
            auth.logged_in(),
            "rest_forbidden_context",
            "Sorry, you are not allowed to edit terms in this taxonomy.",
        ));
    }
    // Terms of a post the user cannot read are not listed (`check_read_terms_permission`).
    if let Some(post_id) = post.filter(|p| *p != 0) {
        match site.store.post_by_id(post_id).await? {
            None => {
                return Err(WpError::new(
                    StatusCode::BAD_REQUEST,
                    "rest_post_invalid_id",
                    "Invalid post ID.",
                ));
            }
            Some(p) if p.post_type != "post" => {
                return Err(WpError::auth_required(
                    auth.logged_in(),
                    "rest_forbidden_context",
                    "Sorry, you are not allowed to view terms for this post.",
                ));
            }
            Some(p) if p.status != "publish" => {
                let actor = auth.actor();
                let readable = site.post_type(&p.post_type).is_some_and(|pt| {
                    actor.can(Cap::ReadPost(crate::caps::PostRef {
                        author: p.author,
                        status: &p.status,
                        pre_trash_status: p.pre_trash_status.as_deref(),
                        caps: &pt.caps,
                    }))
                });
                if !readable {
                    return Err(WpError::auth_required(
                        actor.logged_in(),
                        "rest_forbidden_context",
                        "Sorry, you are not allowed to view terms for this post.",
                    ));
                }
            }
            Some(_) => {}
        }
    }
    // WP_Term_Query applies the order to `FIELD()` too: descending reverses the lists.
    let (mut include, mut slugs) = (include, slugs);
    if order == "desc" {
        include.reverse();
        slugs.reverse();
    }
    let q = TermQuery {
        taxonomy: tax.name.to_owned(),
        include,
        exclude,
        slugs,
        parent,
        post,
        search,
        hide_empty,
        orderby: match orderby {
            "id" => TermOrderBy::Id,
            "slug" => TermOrderBy::Slug,
            "description" => TermOrderBy::Description,
            "count" => TermOrderBy::Count,
            "include" => TermOrderBy::Include,
            "include_slugs" => TermOrderBy::IncludeSlugs,
            _ => TermOrderBy::Name,
        },
        ascending: order == "asc",
        limit: per_page,
        offset: offset.unwrap_or((page - 1).saturating_mul(per_page)).max(0),
        other_taxonomies: vec![],
    };
    let (terms, total) = site.store.query_terms(&q).await?;
    let total_pages = (total + per_page - 1) / per_page;
    let items: Vec<Value> = terms
        .iter()
        .map(|t| prepare_item(&site, tax, t, ctx))
        .collect();
    let base = site.config.rest_url(&format!("wp/v2/{}", tax.rest_base));
    // With an offset, the page the links count from is the one the offset falls in.
    let link_page = offset.map_or(page, |o| (o + per_page - 1) / per_page + 1);
    Ok(super::collection_response(
        items,
        total,
        total_pages,
        &base,
        &params,
        link_page,
    ))
}

/// `GET /wp/v2/{categories,tags}/<id>`.
pub async fn get_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path((base, id)): Path<(String, String)>,
    params: Params,
) -> WpResult<Response> {
    let tax = taxonomy(&base)?;
    let mut v = Validator::new(&params);
    let ctx = v.context();
    v.finish()?;
    let term = load(&site, tax, &id).await?;
    if ctx == Context::Edit && !tax.can_manage(&auth.actor()) {
        return Err(WpError::auth_required(
            auth.logged_in(),
            "rest_forbidden_context",
            "Sorry, you are not allowed to edit this term.",
        ));
    }
    Ok(json_response(
        StatusCode::OK,
        &prepare_item(&site, tax, &term, ctx),
    ))
}

/// The writable fields of a term.
struct TermInput {
    name: Option<String>,
    slug: Option<String>,
    description: Option<String>,
    parent: Option<i64>,
}

fn parse_input(v: &mut Validator<'_>, tax: &Taxonomy) -> TermInput {
    TermInput {
        // The schema's `sanitize_text_field`, then `sanitize_term_field()`'s `pre_term_name`.
        name: v
            .string("name")
            .map(|n| pre_name_field(&sanitize_text_field(&n))),
        slug: v.string("slug"),
        // Filtered by `apply_input` (`pre_term_description`).
        description: v.string("description"),
        parent: if tax.hierarchical {
            v.integer("parent")
        } else {
            None
        },
    }
}

/// `wp_insert_term()` / `wp_update_term()`'s rules on top of the input: the parent must
/// exist, the name must be unique among siblings (hierarchical) or in the taxonomy, and the
/// slug unique in the taxonomy (`-2`, `-3`, … when generated).
async fn apply_input(
    site: &Site,
    tax: &Taxonomy,
    mut term: Term,
    input: TermInput,
) -> WpResult<Term> {
    if let Some(parent) = input.parent {
        if parent != 0 {
            let found = site.store.term_by_id(parent).await?;
            if found.is_none_or(|p| p.taxonomy != tax.name) {
                return Err(WpError::new(
                    StatusCode::BAD_REQUEST,
                    "rest_term_invalid",
                    "Parent term does not exist.",
                ));
            }
        }
        // Itself or a descendant as parent would make a loop: WordPress drops the parent
        // (`wp_check_term_hierarchy_for_loops`).
        term.parent = if parent != 0 && term.id != 0 && creates_loop(site, term.id, parent).await? {
            0
        } else {
            parent
        };
    }
    if let Some(d) = input.description {
        // `pre_term_description`: `wp_filter_kses()` then `wp_targeted_link_rel()`, for every
        // role (`unfiltered_html` does not lift it, unlike for posts); large ones on the pool.
        term.description = site
            .cpu
            .run_sized(d.len(), move || {
                crate::kses::targeted_link_rel(&crate::kses::filter_kses(&d))
            })
            .await?;
    }
    if let Some(name) = input.name {
        if name.trim().is_empty() {
            return Err(WpError::new(
                StatusCode::BAD_REQUEST,
                "empty_term_name",
                "A name is required for this term.",
            ));
        }
        term.name = name;
    }
    // `wp_insert_term()` refuses a taken name only when no other slug was asked for, and
    // `wp_update_term()` does not check names at all.
    let explicit_slug = input
        .slug
        .as_deref()
        .is_some_and(|s| !sanitize_title(s).is_empty());
    let parent_scope = tax.hierarchical.then_some(term.parent);
    let existing = if term.id == 0 && !explicit_slug {
        site.store
            .term_named(tax.name, &term.name, parent_scope, term.id)
            .await?
    } else {
        None
    };
    if let Some(existing) = existing {
        let msg = if tax.hierarchical {
            "A term with the name provided already exists with this parent."
        } else {
            "A term with the name provided already exists in this taxonomy."
        };
        let mut err = WpError::new(StatusCode::BAD_REQUEST, "term_exists", msg)
            .with_data("term_id", json!(existing));
        err.additional = Some(Box::new(json!([existing, existing])));
        return Err(err);
    }
    let wanted = match input.slug.map(|s| sanitize_title(&s)) {
        Some(s) if !s.is_empty() => s,
        // An emptied slug is made again from the name.
        Some(_) => sanitize_title(&term.name),
        None if term.slug.is_empty() => sanitize_title(&term.name),
        None => term.slug.clone(),
    };
    let taken = |slug: String| async move {
        site.store
            .term_slug_exists(tax.name, &slug, term.id)
            .await
            .map_err(WpError::from)
    };
    let mut slug = wanted.clone();
    if taken(slug.clone()).await? {
        // An update asking for another term's slug is refused (`wp_update_term`).
        if term.id != 0 && explicit_slug {
            return Err(WpError::new(
                StatusCode::BAD_REQUEST,
                "duplicate_term_slug",
                format!("The slug “{wanted}” is already in use by another term."),
            ));
        }
        // `wp_unique_term_slug()`: a child tries its ancestors' slugs first, then numbers.
        let mut cur = if tax.hierarchical { term.parent } else { 0 };
        while cur != 0 {
            let Some(p) = site.store.term_by_id(cur).await? else {
                break;
            };
            slug = format!("{slug}-{}", p.slug);
            if !taken(slug.clone()).await? {
                break;
            }
            cur = p.parent;
        }
        if taken(slug.clone()).await? {
            let base = slug.clone();
            let mut n = 2;
            while taken(slug.clone()).await? {
                slug = format!("{base}-{n}");
                n += 1;
            }
        }
    }
    term.slug = slug;
    Ok(term)
}

/// Whether `parent` is `id` or one of its descendants.
async fn creates_loop(site: &Site, id: i64, parent: i64) -> WpResult<bool> {
    let mut cur = parent;
    for _ in 0..1000 {
        if cur == id {
            return Ok(true);
        }
        match site.store.term_by_id(cur).await? {
            Some(t) if t.parent != 0 => cur = t.parent,
            _ => return Ok(false),
        }
    }
    Ok(true)
}

/// The argument checks a write to a terms route runs first (`has_valid_params()`), for the
/// validation pass of `/batch/v1`.
pub fn validate_write(base: &str, create: bool, delete: bool, params: &Params) -> WpResult<()> {
    let tax = taxonomy(base)?;
    let mut v = Validator::new(params);
    if delete {
        let _ = v.boolean("force");
    } else {
        if create {
            v.require("name");
        }
        let _ = parse_input(&mut v, tax);
    }
    v.finish()
}

/// `POST /wp/v2/{categories,tags}`.
pub async fn create_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path(base): Path<String>,
    params: Params,
) -> WpResult<Response> {
    let tax = taxonomy(&base)?;
    let mut v = Validator::new(&params);
    v.require("name");
    let input = parse_input(&mut v, tax);
    v.finish()?;
    if !tax.hierarchical && params.has("parent") {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_taxonomy_not_hierarchical",
            "Cannot set parent term, taxonomy is not hierarchical.",
        ));
    }
    let actor = auth.actor();
    if !tax.can_create(&actor) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_create",
            "Sorry, you are not allowed to create terms in this taxonomy.",
        ));
    }
    let blank = Term {
        taxonomy: tax.name.to_owned(),
        ..Term::default()
    };
    let mut term = apply_input(&site, tax, blank, input).await?;
    term.id = match site.store.insert_term(&term).await {
        Ok(id) => id,
        // Another request took the slug in between: the same answer as a duplicate name.
        Err(StoreError::Conflict(Conflict::TermSlug)) => {
            return Err(WpError::new(
                StatusCode::BAD_REQUEST,
                "duplicate_term_slug",
                format!(
                    "The slug “{}” is already in use by another term.",
                    term.slug
                ),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(term_id = term.id, taxonomy = tax.name, "term created");
    let mut resp = json_response(
        StatusCode::CREATED,
        &prepare_item(&site, tax, &term, Context::Edit),
    );
    if let Ok(loc) = HeaderValue::from_str(
        &site
            .config
            .rest_url(&format!("wp/v2/{}/{}", tax.rest_base, term.id)),
    ) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}

/// `POST|PUT|PATCH /wp/v2/{categories,tags}/<id>`.
pub async fn update_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path((base, id)): Path<(String, String)>,
    params: Params,
) -> WpResult<Response> {
    let tax = taxonomy(&base)?;
    let mut v = Validator::new(&params);
    let input = parse_input(&mut v, tax);
    v.finish()?;
    if !tax.hierarchical && params.has("parent") {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_taxonomy_not_hierarchical",
            "Cannot set parent term, taxonomy is not hierarchical.",
        ));
    }
    let term = load(&site, tax, &id).await?;
    let actor = auth.actor();
    if !tax.can_manage(&actor) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_update",
            "Sorry, you are not allowed to edit this term.",
        ));
    }
    let term = apply_input(&site, tax, term, input).await?;
    match site.store.update_term(&term).await {
        Ok(true) => {}
        Ok(false) => return Err(invalid_term()),
        Err(StoreError::Conflict(Conflict::TermSlug)) => {
            return Err(WpError::new(
                StatusCode::BAD_REQUEST,
                "duplicate_term_slug",
                format!(
                    "The slug “{}” is already in use by another term.",
                    term.slug
                ),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let term = load(&site, tax, &term.id.to_string()).await?;
    Ok(json_response(
        StatusCode::OK,
        &prepare_item(&site, tax, &term, Context::Edit),
    ))
}

/// `DELETE /wp/v2/{categories,tags}/<id>`: terms do not trash; `force=true` is required.
pub async fn delete_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path((base, id)): Path<(String, String)>,
    params: Params,
) -> WpResult<Response> {
    let tax = taxonomy(&base)?;
    let mut v = Validator::new(&params);
    let force = v.boolean("force").unwrap_or(false);
    v.finish()?;
    let term = load(&site, tax, &id).await?;
    let actor = auth.actor();
    let default_category = super::settings::default_category(&site).await?;
    // `delete_term` maps to `manage_categories`, and to nobody for the default category.
    if !tax.can_manage(&actor) || (tax.name == "category" && term.id == default_category) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_delete",
            "Sorry, you are not allowed to delete this term.",
        ));
    }
    if !force {
        return Err(WpError::new(
            StatusCode::NOT_IMPLEMENTED,
            "rest_trash_not_supported",
            "Terms do not support trashing. Set 'force=true' to delete.",
        ));
    }
    let mut previous = prepare_item(&site, tax, &term, Context::Edit);
    if let Some(o) = previous.as_object_mut() {
        o.remove("_links");
    }
    // Posts whose only category this was fall back to the default one (`wp_delete_term`).
    let orphans = if tax.name == "category" {
        let q = crate::store::PostQuery {
            post_type: "post".into(),
            tax_query: vec![crate::store::TaxClause {
                taxonomy: "category".into(),
                terms: vec![term.id],
                operator: crate::store::TaxOperator::In,
            }],
            limit: i64::MAX,
            ..crate::store::PostQuery::default()
        };
        site.store.query_posts(&q).await?.0
    } else {
        vec![]
    };
    site.store.delete_term(term.id).await?;
    if !orphans.is_empty() {
        let ids: Vec<i64> = orphans.iter().map(|p| p.id).collect();
        let left = site.store.post_terms(&ids).await?;
        for id in ids {
            if !left.iter().any(|(p, _, t)| *p == id && t == "category") {
                site.store
                    .set_post_terms(id, "category", &[default_category])
                    .await?;
            }
        }
    }
    tracing::info!(term_id = term.id, taxonomy = tax.name, "term deleted");
    Ok(json_response(
        StatusCode::OK,
        &json!({ "deleted": true, "previous": super::global_params::previous_item(&params, previous) }),
    ))
}

/// For `Allow` on a terms route.
pub async fn allowed(
    site: &Site,
    auth: &Auth,
    base: &str,
    id: Option<&str>,
    edit: bool,
) -> Vec<&'static str> {
    let Some(tax) = taxonomy_by_base(base) else {
        return vec![];
    };
    let actor = auth.actor();
    // Reading in the edit context needs `edit_terms`.
    let readable = !edit || tax.can_manage(&actor);
    let Some(id) = id else {
        let mut m = vec![];
        if readable {
            m.push("GET");
        }
        if tax.can_create(&actor) {
            m.push("POST");
        }
        return m;
    };
    let Ok(term) = load(site, tax, id).await else {
        return vec![];
    };
    let mut m = vec![];
    if readable {
        m.push("GET");
    }
    if tax.can_manage(&actor) {
        m.extend(["POST", "PUT", "PATCH"]);
        let default_category = super::settings::default_category(site)
            .await
            .unwrap_or(DEFAULT_CATEGORY);
        if !(tax.name == "category" && term.id == default_category) {
            m.push("DELETE");
        }
    }
    m
}

fn prepare_taxonomy(site: &Site, tax: &Taxonomy, ctx: Context) -> Value {
    let data = json!({
        "name": tax.label,
        "slug": tax.name,
        "capabilities": if tax.hierarchical {
            json!({ "manage_terms": "manage_categories", "edit_terms": "edit_categories",
                    "delete_terms": "delete_categories", "assign_terms": "assign_categories" })
        } else {
            json!({ "manage_terms": "manage_post_tags", "edit_terms": "edit_post_tags",
                    "delete_terms": "delete_post_tags", "assign_terms": "assign_post_tags" })
        },
        "description": "",
        "labels": { "name": tax.label, "singular_name": tax.singular },
        "types": ["post"],
        "show_cloud": true,
        "hierarchical": tax.hierarchical,
        "rest_base": tax.rest_base,
        "rest_namespace": "wp/v2",
        "visibility": { "public": true, "publicly_queryable": true,
                        "show_admin_column": true, "show_in_nav_menus": true, "show_in_quick_edit": true,
                        "show_ui": true },
        "_links": {
            "collection": [{ "href": site.config.rest_url("wp/v2/taxonomies") }],
            "wp:items": [{ "href": site.config.rest_url(&format!("wp/v2/{}", tax.rest_base)) }],
            "curies": [{ "name": "wp", "href": "https://api.w.org/{rel}", "templated": true }]
        }
    });
    filter_by_context(data, "taxonomy", ctx)
}

/// `GET /wp/v2/taxonomies` (`type` limits to one post type's).
async fn get_taxonomies(
    State(site): State<Arc<Site>>,
    auth: Auth,
    params: Params,
) -> WpResult<Response> {
    let mut v = Validator::new(&params);
    let ctx = v.context();
    let ty = v.string("type");
    v.finish()?;
    let actor = auth.actor();
    // The edit context needs `assign_terms` on some taxonomy.
    if ctx == Context::Edit && !TAXONOMIES.iter().any(|t| t.can_assign(&actor)) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_view",
            "Sorry, you are not allowed to manage terms in this taxonomy.",
        ));
    }
    let out: Map<String, Value> = TAXONOMIES
        .iter()
        .filter(|_| ty.as_deref().is_none_or(|t| t == "post"))
        .map(|t| (t.name.to_owned(), prepare_taxonomy(&site, t, ctx)))
        .collect();
    // WordPress casts the list to an object: `{}` when nothing matches.
    let body = Value::Object(out);
    Ok(json_response(StatusCode::OK, &body))
}

/// `GET /wp/v2/taxonomies/<taxonomy>`.
async fn get_taxonomy(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path(name): Path<String>,
    params: Params,
) -> WpResult<Response> {
    let mut v = Validator::new(&params);
    let ctx = v.context();
    v.finish()?;
    let Some(tax) = TAXONOMIES.iter().find(|t| t.name == name) else {
        return Err(WpError::new(
            StatusCode::NOT_FOUND,
            "rest_taxonomy_invalid",
            "Invalid taxonomy.",
        ));
    };
    if ctx == Context::Edit && !tax.can_assign(&auth.actor()) {
        return Err(WpError::auth_required(
            auth.logged_in(),
            "rest_forbidden_context",
            "Sorry, you are not allowed to manage terms in this taxonomy.",
        ));
    }
    Ok(json_response(
        StatusCode::OK,
        &prepare_taxonomy(&site, tax, ctx),
    ))
}

/// `get_taxonomy_labels()` of the two built-in taxonomies, in WordPress's order (6.1).
pub fn taxonomy_labels(taxonomy: &str) -> &'static [(&'static str, &'static str)] {
    match taxonomy {
        "category" => &[
            ("name", "Categories"),
            ("singular_name", "Category"),
            ("search_items", "Search Categories"),
            ("popular_items", ""),
            ("all_items", "All Categories"),
            ("parent_item", "Parent Category"),
            ("parent_item_colon", "Parent Category:"),
            (
                "name_field_description",
                "The name is how it appears on your site.",
            ),
            (
                "slug_field_description",
                "The &#8220;slug&#8221; is the URL-friendly version of the name. It is usually all lowercase and contains only letters, numbers, and hyphens.",
            ),
            (
                "parent_field_description",
                "Assign a parent term to create a hierarchy. The term Jazz, for example, would be the parent of Bebop and Big Band.",
            ),
            (
                "desc_field_description",
                "The description is not prominent by default; however, some themes may show it.",
            ),
            ("edit_item", "Edit Category"),
            ("view_item", "View Category"),
            ("update_item", "Update Category"),
            ("add_new_item", "Add New Category"),
            ("new_item_name", "New Category Name"),
            ("separate_items_with_commas", ""),
            ("add_or_remove_items", ""),
            ("choose_from_most_used", ""),
            ("not_found", "No categories found."),
            ("no_terms", "No categories"),
            ("filter_by_item", "Filter by category"),
            ("items_list_navigation", "Categories list navigation"),
            ("items_list", "Categories list"),
            ("most_used", "Most Used"),
            ("back_to_items", "&larr; Go to Categories"),
            ("item_link", "Category Link"),
            ("item_link_description", "A link to a category."),
            ("menu_name", "Categories"),
            ("name_admin_bar", "category"),
        ],
        "post_tag" => &[
            ("name", "Tags"),
            ("singular_name", "Tag"),
            ("search_items", "Search Tags"),
            ("popular_items", "Popular Tags"),
            ("all_items", "All Tags"),
            ("parent_item", ""),
            ("parent_item_colon", ""),
            (
                "name_field_description",
                "The name is how it appears on your site.",
            ),
            (
                "slug_field_description",
                "The &#8220;slug&#8221; is the URL-friendly version of the name. It is usually all lowercase and contains only letters, numbers, and hyphens.",
            ),
            ("parent_field_description", ""),
            (
                "desc_field_description",
                "The description is not prominent by default; however, some themes may show it.",
            ),
            ("edit_item", "Edit Tag"),
            ("view_item", "View Tag"),
            ("update_item", "Update Tag"),
            ("add_new_item", "Add New Tag"),
            ("new_item_name", "New Tag Name"),
            ("separate_items_with_commas", "Separate tags with commas"),
            ("add_or_remove_items", "Add or remove tags"),
            ("choose_from_most_used", "Choose from the most used tags"),
            ("not_found", "No tags found."),
            ("no_terms", "No tags"),
            ("filter_by_item", ""),
            ("items_list_navigation", "Tags list navigation"),
            ("items_list", "Tags list"),
            ("most_used", "Most Used"),
            ("back_to_items", "&larr; Go to Tags"),
            ("item_link", "Tag Link"),
            ("item_link_description", "A link to a tag."),
            ("menu_name", "Tags"),
            ("name_admin_bar", "post_tag"),
        ],
        _ => &[],
    }
}
