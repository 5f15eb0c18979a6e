//! `/wp/v2/search`: `WP_REST_Search_Controller` with its three handlers,
//! `WP_REST_Post_Search_Handler`, `WP_REST_Term_Search_Handler` and
//! `WP_REST_Post_Format_Search_Handler`. Only published posts are found (the post handler's
//! `post_status => publish`), so every result is readable by anyone; terms are public.
//! `_embed` of the found objects comes from the pipeline, through the `self` links.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::error::WpResult;
use crate::site::Site;
use crate::store::{PostQuery, TermOrderBy, TermQuery};

use super::params::{Params, Validator};

pub fn routes() -> Router<Arc<Site>> {
    Router::new().route("/wp/v2/search", get(get_items))
}

/// `get_post_format_strings()`, without `standard` (which is no term).
const FORMAT_STRINGS: &[(&str, &str)] = &[
    ("aside", "Aside"),
    ("chat", "Chat"),
    ("gallery", "Gallery"),
    ("link", "Link"),
    ("image", "Image"),
    ("quote", "Quote"),
    ("status", "Status"),
    ("video", "Video"),
    ("audio", "Audio"),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Handler {
    Post,
    Term,
    PostFormat,
}

/// The post types the post handler searches: those served at a REST route, but media.
fn post_subtypes(site: &Site) -> Vec<String> {
    site.config
        .post_types
        .iter()
        .filter(|pt| pt.name != "attachment")
        .map(|pt| pt.name.clone())
        .collect()
}

fn term_subtypes() -> Vec<String> {
    super::terms::TAXONOMIES
        .iter()
        .map(|t| t.name.to_owned())
        .collect()
}

/// The `subtype` enum: every handler's subtypes, then `any`.
fn subtype_enum(site: &Site) -> Vec<String> {
    let mut all = post_subtypes(site);
    all.extend(term_subtypes());
    all.push("any".into());
    all
}

/// One page of results and the total number of matches.
type Found = (Vec<Value>, i64);

async fn get_items(
    State(site): State<Arc<Site>>,
    auth: Auth,
    params: Params,
) -> WpResult<Response> {
    let mut v = Validator::new(&params);
    let _ = v.one_of("context", &["view", "embed"]);
    let page = v.integer_min("page", 1).unwrap_or(1);
    let per_page = v.integer_range("per_page", 1, 100).unwrap_or(10);
    let search = v.string("search").unwrap_or_default();
    let handler = match v.one_of("type", &["post", "term", "post-format"]) {
        Some("term") => Handler::Term,
        Some("post-format") => Handler::PostFormat,
        _ => Handler::Post,
    };
    // `sanitize_subtypes()`: `wp_parse_slug_list()` (each item through `sanitize_title()`),
    // then the schema's enum.
    let allowed = subtype_enum(&site);
    let mut subtypes = vec!["any".to_owned()];
    if params.has("subtype") {
        let list: Vec<String> = v
            .string_list("subtype")
            .unwrap_or_default()
            .iter()
            .flat_map(|s| s.split([',', ' ', '\t', '\n', '\r']))
            .filter(|s| !s.is_empty())
            .map(crate::formatting::sanitize_title)
            .collect();
        match list.iter().position(|s| !allowed.contains(s)) {
            Some(i) => {
                let names: Vec<&str> = allowed.iter().map(String::as_str).collect();
                v.invalid(
                    "subtype",
                    "rest_not_in_enum",
                    format!(
                        "subtype[{i}] is not one of {}.",
                        super::params::list_words(&names)
                    ),
                    Value::Null,
                );
            }
            None => subtypes = list,
        }
    }
    let exclude = v.integer_list("exclude").unwrap_or_default();
    let include = v.integer_list("include").unwrap_or_default();
    v.finish()?;

    // `sanitize_subtypes()`: the handler's own subtypes among those asked for; none or
    // `any` means all of them.
    let own = match handler {
        Handler::Post => post_subtypes(&site),
        Handler::Term => term_subtypes(),
        Handler::PostFormat => vec![],
    };
    let mut wanted: Vec<String> = subtypes
        .iter()
        .filter(|s| own.contains(s))
        .cloned()
        .collect();
    if subtypes.iter().any(|s| s == "any") {
        wanted = own;
    } else if wanted.is_empty() {
        // No subtype of this handler: `WP_Query` falls back to `post`; `get_terms()` to
        // every taxonomy.
        wanted = match handler {
            Handler::Post => vec!["post".to_owned()],
            _ => own,
        };
    }

    let offset = (page - 1).saturating_mul(per_page);
    let logged_in = auth.actor().logged_in();
    let (items, total) = match handler {
        Handler::Post => {
            search_posts(
                &site, &wanted, &search, &include, &exclude, offset, per_page, logged_in,
            )
            .await?
        }
        Handler::Term => {
            search_terms(
                &site, &wanted, &search, &include, &exclude, offset, per_page,
            )
            .await?
        }
        Handler::PostFormat => search_formats(&site, &search, offset, per_page).await?,
    };
    // WordPress 6.1 answers a page past the last one with an empty list (no error).
    let total_pages = (total + per_page - 1) / per_page;
    Ok(super::collection_response(
        items,
        total,
        total_pages,
        &site.config.rest_url("wp/v2/search"),
        &params,
        page,
    ))
}

fn collection_link(site: &Site) -> Value {
    json!([{ "href": site.config.rest_url("wp/v2/search") }])
}

/// `WP_REST_Post_Search_Handler`: published posts of the subtypes, newest first.
#[allow(clippy::too_many_arguments)]
async fn search_posts(
    site: &Site,
    types: &[String],
    search: &str,
    include: &[i64],
    exclude: &[i64],
    offset: i64,
    limit: i64,
    logged_in: bool,
) -> WpResult<Found> {
    let Some((first, others)) = types.split_first() else {
        return Ok((vec![], 0));
    };
    let q = PostQuery {
        post_type: first.clone(),
        other_post_types: others.to_vec(),
        statuses: vec!["publish".into()],
        include: include.to_vec(),
        exclude: exclude.to_vec(),
        // The search handler's WP_Query gives no `orderby`: with `s`, relevance first.
        search: (!search.is_empty()).then(|| {
            crate::search::post_search(
                search,
                crate::search::SearchColumns::default(),
                false,
                false,
                true,
            )
        }),
        search_skips_protected: !logged_in,
        limit,
        offset,
        ..PostQuery::default()
    };
    let (posts, total) = site.store.query_posts(&q).await?;
    let mut items = Vec::with_capacity(posts.len());
    for post in &posts {
        let Some(pt) = site.post_type(&post.post_type) else {
            continue;
        };
        // `get_the_title()`: without the REST posts controller's filter, a protected
        // post's title carries WordPress's prefix.
        let title = if post.password.is_empty() {
            post.title.clone()
        } else {
            format!("Protected: {}", post.title)
        };
        items.push(json!({
            "id": post.id,
            "title": title,
            "url": super::posts::permalink_of(site, post, pt).await?,
            "type": "post",
            "subtype": pt.name,
            "_links": {
                "self": [{ "embeddable": true,
                           "href": site.config.rest_url(&format!("wp/v2/{}/{}", pt.rest_base, post.id)) }],
                "about": [{ "href": site.config.rest_url(&format!("wp/v2/types/{}", pt.name)) }],
                "collection": collection_link(site),
            }
        }));
    }
    Ok((items, total))
}

/// `WP_REST_Term_Search_Handler`: terms of the taxonomies by name (`get_terms()`'s
/// default order), empty ones included. WordPress 6.1 reports the taxonomy as `type`.
async fn search_terms(
    site: &Site,
    taxonomies: &[String],
    search: &str,
    include: &[i64],
    exclude: &[i64],
    offset: i64,
    limit: i64,
) -> WpResult<Found> {
    let Some((first, others)) = taxonomies.split_first() else {
        return Ok((vec![], 0));
    };
    let q = TermQuery {
        taxonomy: first.clone(),
        other_taxonomies: others.to_vec(),
        include: include.to_vec(),
        exclude: exclude.to_vec(),
        search: (!search.is_empty()).then(|| search.to_owned()),
        hide_empty: false,
        orderby: TermOrderBy::Name,
        ascending: true,
        limit,
        offset,
        ..TermQuery::default()
    };
    let (terms, total) = site.store.query_terms(&q).await?;
    let items = terms
        .into_iter()
        .filter_map(|term| {
            let tax = super::terms::TAXONOMIES
                .iter()
                .find(|t| t.name == term.taxonomy)?;
            Some(json!({
                "id": term.id,
                "title": term.name,
                "url": format!("{}/{}/{}/", site.config.home, tax.archive, term.slug),
                "type": tax.name,
                "_links": {
                    "self": [{ "embeddable": true,
                               "href": site.config.rest_url(&format!("wp/v2/{}/{}", tax.rest_base, term.id)) }],
                    "about": [{ "href": site.config.rest_url(&format!("wp/v2/taxonomies/{}", tax.name)) }],
                    "collection": collection_link(site),
                }
            }))
        })
        .collect();
    Ok((items, total))
}

/// `WP_REST_Post_Format_Search_Handler`: the formats matching the search (slug or name)
/// that have an archive, which WordPress has once a post was given the format.
async fn search_formats(site: &Site, search: &str, offset: i64, limit: i64) -> WpResult<Found> {
    let used = site.store.used_post_formats().await?;
    let needle = search.to_lowercase();
    let found: Vec<&(&str, &str)> = FORMAT_STRINGS
        .iter()
        .filter(|(slug, name)| {
            needle.is_empty()
                || slug.to_lowercase().contains(&needle)
                || name.to_lowercase().contains(&needle)
        })
        .filter(|(slug, _)| used.iter().any(|u| u == slug))
        .collect();
    let total = i64::try_from(found.len()).unwrap_or(i64::MAX);
    let items = found
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(0))
        .map(|(slug, name)| {
            json!({
                "id": slug,
                "title": name,
                "url": format!("{}/type/{slug}/", site.config.home),
                "type": "post-format",
                "_links": { "collection": collection_link(site) }
            })
        })
        .collect();
    Ok((items, total))
}
