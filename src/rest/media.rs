//! Media: `WP_REST_Attachments_Controller` (`class-wp-rest-attachments-controller.php`), the
//! posts controller for the `attachment` type with uploads (`upload_from_data()`,
//! `upload_from_file()`), attachment fields and no trash.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use crate::auth::Auth;
use crate::caps::{Actor, Cap};
use crate::error::{WpError, WpResult};
use crate::formatting::{
    NoAttachedMedia, NoImages, PageLoad, Shown, excerpt_remove_blocks, sanitize_text_field,
    sanitize_title, strip_shortcodes, the_content_prepended, the_excerpt, the_title,
    wp_audio_shortcode, wp_trim_excerpt, wp_video_shortcode,
};
use crate::media::{self, StreamError, TempUpload};
use crate::post_types::{ATTACHMENT, PostType};
use crate::site::{Site, now};
use crate::store::{Post, PostOrderBy, PostQuery};

use super::params::{Context, Params, Validator, parse_form};
use super::posts::{fmt_date, parse_date, post_ref, raw_field, site_tz};
use super::{json_response, route_id};

/// Meta keys WordPress keeps an attachment's file in (values stored as JSON text).
const META_FILE: &str = "_wp_attached_file";
const META_METADATA: &str = "_wp_attachment_metadata";
const META_ALT: &str = "_wp_attachment_image_alt";

pub fn routes() -> Router<Arc<Site>> {
    Router::new()
        .route("/wp/v2/media", get(get_items).post(create_item))
        .route(
            "/wp/v2/media/{id}",
            get(get_item)
                .post(update_item)
                .put(update_item)
                .patch(update_item)
                .delete(delete_item),
        )
        .route("/wp/v2/media/{id}/edit", post(edit_media_item))
        .route("/wp/v2/media/{id}/post-process", post(post_process_item))
}

fn pt() -> &'static PostType {
    &ATTACHMENT
}

/// For `Allow` on `/wp/v2/media`: a `post` in the query string must be editable for POST,
/// as the create permission check says.
pub async fn allowed_on_collection(
    site: &Site,
    auth: &Auth,
    edit: bool,
    query: &str,
) -> Vec<&'static str> {
    let actor = auth.actor();
    let mut methods = vec![];
    if !edit || actor.can(Cap::Primitive(&pt().caps.edit_posts)) {
        methods.push("GET");
    }
    let parent = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "post")
        .and_then(|(_, v)| v.trim().parse::<i64>().ok())
        .filter(|p| *p != 0);
    let parent_ok = match parent {
        None => true,
        Some(id) => match site.store.post_by_id(id).await {
            Ok(Some(p)) => {
                let ppt = site.post_type(&p.post_type).unwrap_or(pt());
                actor.can(Cap::EditPost(post_ref(&p, ppt)))
            }
            _ => false,
        },
    };
    // An upload as another author needs `edit_others_posts` (`create_item_permissions_check()`).
    let author_ok = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "author")
        .and_then(|(_, v)| v.trim().parse::<i64>().ok())
        .is_none_or(|a| {
            a == 0 || a == actor.id || actor.can(Cap::Primitive(&pt().caps.edit_others_posts))
        });
    if actor.can(Cap::Primitive("upload_files")) && parent_ok && author_ok {
        methods.push("POST");
    }
    methods
}

/// For `Allow` on `/wp/v2/media/<id>/edit` (`edit_media_item_permissions_check()`) and
/// `/post-process` (`update_item_permissions_check()`).
/// `upload`: also `upload_files` (the edit route; post-process needs only the update check).
pub async fn allowed_on_edit(
    site: &Site,
    auth: &Auth,
    id: &str,
    upload: bool,
) -> Vec<&'static str> {
    if upload && !auth.actor().can(Cap::Primitive("upload_files")) {
        return vec![];
    }
    let item = allowed_on_item(site, auth, id, false).await;
    item.into_iter().filter(|m| *m == "POST").collect()
}

/// For `Allow` on `/wp/v2/media/<id>`.
pub async fn allowed_on_item(site: &Site, auth: &Auth, id: &str, edit: bool) -> Vec<&'static str> {
    let Ok(id) = route_id(id) else {
        return vec![];
    };
    let Ok(post) = load(site, id).await else {
        return vec![];
    };
    let actor = auth.actor();
    let editable = can_edit(&actor, &post);
    let mut methods = vec![];
    if can_read(site, &actor, &post).await && (!edit || editable) {
        methods.push("GET");
    }
    if editable {
        methods.extend(["POST", "PUT", "PATCH"]);
    }
    if actor.can(Cap::DeletePost(post_ref(&post, pt()))) {
        methods.push("DELETE");
    }
    methods
}

fn can_edit(actor: &Actor<'_>, post: &Post) -> bool {
    actor.can(Cap::EditPost(post_ref(post, pt())))
}

/// `check_read_permission()` for attachments: `inherit` follows the parent (an unattached
/// file is public), `private` needs the read capability.
pub(super) async fn can_read(site: &Site, actor: &Actor<'_>, post: &Post) -> bool {
    if post.status != "inherit" {
        return post.status == "publish" || actor.can(Cap::ReadPost(post_ref(post, pt())));
    }
    if post.parent == 0 {
        return true;
    }
    match site.store.post_by_id(post.parent).await {
        Ok(Some(parent)) => {
            let ppt = site.post_type(&parent.post_type).unwrap_or(pt());
            parent.status == "publish" || actor.can(Cap::ReadPost(post_ref(&parent, ppt)))
        }
        // A parent that is gone leaves the file unattached in effect.
        Ok(None) => true,
        Err(_) => false,
    }
}

async fn load(site: &Site, id: i64) -> WpResult<Post> {
    match site.store.post_by_id(id).await? {
        Some(p) if p.post_type == "attachment" => Ok(p),
        _ => Err(WpError::rest_post_invalid_id()),
    }
}

/// An attachment's stored file data: relative path, metadata, alt text.
#[derive(Default, Clone)]
struct FileMeta {
    file: String,
    metadata: Value,
    alt: String,
}

async fn file_meta(site: &Site, ids: &[i64]) -> WpResult<Vec<(i64, FileMeta)>> {
    let rows = site.store.post_meta(ids).await?;
    let mut out: Vec<(i64, FileMeta)> = ids.iter().map(|i| (*i, FileMeta::default())).collect();
    for (id, key, value) in rows {
        let Some((_, m)) = out.iter_mut().find(|(i, _)| *i == id) else {
            continue;
        };
        let v: Value = serde_json::from_str(&value).unwrap_or(Value::Null);
        match key.as_str() {
            META_FILE => m.file = v.as_str().unwrap_or("").to_owned(),
            META_METADATA => m.metadata = v,
            META_ALT => m.alt = v.as_str().unwrap_or("").to_owned(),
            _ => {}
        }
    }
    Ok(out)
}

/// `wp_get_attachment_url()` of an attachment that exists and has a file, else `None`
/// (for the index's `site_icon_url`).
pub async fn attachment_url(site: &Site, id: i64) -> WpResult<Option<String>> {
    if id <= 0 {
        return Ok(None);
    }
    match site.store.post_by_id(id).await? {
        Some(p) if p.post_type == "attachment" => {}
        _ => return Ok(None),
    }
    let meta = file_meta(site, &[id]).await?;
    Ok(meta
        .into_iter()
        .next()
        .filter(|(_, fm)| !fm.file.is_empty())
        .map(|(_, fm)| uploads_url(site, &fm.file)))
}

/// `wp_constrain_dimensions( $w, $h, $max_width )` (no height bound).
fn constrain_to_width(w: i64, h: i64, max_w: i64) -> (i64, i64) {
    if max_w <= 0 || w <= max_w {
        return (w, h);
    }
    let ratio = max_w as f64 / w as f64;
    let mut cw = ((w as f64 * ratio).round() as i64).max(1);
    let ch = ((h as f64 * ratio).round() as i64).max(1);
    if cw == max_w - 1 {
        cw = max_w;
    }
    (cw, ch)
}

/// `wp_image_matches_ratio()`: the same shape within a pixel.
fn image_matches_ratio(sw: i64, sh: i64, tw: i64, th: i64) -> bool {
    let (constrained, expected) = if sw > tw {
        (constrain_to_width(sw, sh, tw), (tw, th))
    } else {
        (constrain_to_width(tw, th, sw), (sw, sh))
    };
    (constrained.0 - expected.0).abs() <= 1 && (constrained.1 - expected.1).abs() <= 1
}

/// `wp_calculate_image_srcset()` (at most 2048 px wide, the `src` first) and
/// `wp_calculate_image_sizes()` for an image of the library shown at `size` from `src`.
fn image_srcset(
    home: &str,
    fm: &FileMeta,
    src: &str,
    size: (i64, i64),
) -> Option<(String, String)> {
    let meta = &fm.metadata;
    let sizes = meta.get("sizes")?.as_object().filter(|s| !s.is_empty())?;
    if size.0 < 1 {
        return None;
    }
    let file = meta.get("file").and_then(Value::as_str).unwrap_or(&fm.file);
    let (dir, basename) = file.rsplit_once('/').map_or(("", file), |(d, b)| (d, b));
    let dirname = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let base_url = format!("{home}/wp-content/uploads/{dirname}");
    let int = |v: &Value, k: &str| v.get(k).and_then(Value::as_i64).unwrap_or(0);
    let mut candidates: Vec<(String, i64, i64)> = sizes
        .values()
        .map(|v| {
            (
                v.get("file")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                int(v, "width"),
                int(v, "height"),
            )
        })
        .collect();
    let gif_thumbnail = sizes
        .get("thumbnail")
        .and_then(|t| t.get("mime-type"))
        .and_then(Value::as_str)
        == Some("image/gif");
    if !gif_thumbnail {
        candidates.push((basename.to_owned(), int(meta, "width"), int(meta, "height")));
    }
    // PHP's array keyed by width: a later equal width replaces the value in place.
    let mut sources: Vec<(i64, String)> = vec![];
    let mut src_matched = false;
    for (cfile, cw, ch) in candidates {
        let mut is_src = false;
        if !src_matched && src.contains(&format!("{dirname}{cfile}")) {
            src_matched = true;
            is_src = true;
        }
        if cw > 2048 && !is_src {
            continue;
        }
        if !image_matches_ratio(size.0, size.1, cw, ch) {
            continue;
        }
        let url = format!("{base_url}{cfile}");
        if is_src {
            sources.retain(|(w, _)| *w != cw);
            sources.insert(0, (cw, url));
        } else if let Some(slot) = sources.iter_mut().find(|(w, _)| *w == cw) {
            slot.1 = url;
        } else {
            sources.push((cw, url));
        }
    }
    if !src_matched || sources.len() < 2 {
        return None;
    }
    let srcset = sources
        .iter()
        .map(|(w, url)| format!("{} {w}w", url.replace(' ', "%20")))
        .collect::<Vec<_>>()
        .join(", ");
    let sizes = format!("(max-width: {0}px) 100vw, {0}px", size.0);
    Some((srcset, sizes))
}

/// The images of the media library that content refers to (`wp-image-N` classes), for
/// `wp_filter_content_tags()`: their metadata, read in one query.
pub(crate) struct LibraryImages {
    site_home: String,
    items: Vec<(i64, FileMeta)>,
}

/// Whether `text` holds `wp-image-` in any ASCII case (the class naming an image of the
/// media library, which `wp_filter_content_tags()` looks up). No other text's display
/// depends on the media library.
pub(crate) fn mentions_library_image(text: &str) -> bool {
    text.as_bytes()
        .windows(9)
        .any(|w| w.eq_ignore_ascii_case(b"wp-image-"))
}

/// At most this many distinct `wp-image-N` ids are looked up per response (a bound on the
/// work one request can cause); later ones are shown as WordPress shows unknown images.
const MAX_CONTENT_IMAGES: usize = 200;

impl LibraryImages {
    pub(crate) fn none() -> Self {
        Self {
            site_home: String::new(),
            items: vec![],
        }
    }

    /// Reads the attachments named by `wp-image-N` in `texts`.
    pub(crate) async fn load(site: &Site, texts: &[&str]) -> WpResult<Self> {
        let mut ids: Vec<i64> = vec![];
        for text in texts {
            if !mentions_library_image(text) {
                continue;
            }
            let lower = text.to_ascii_lowercase();
            for (p, _) in lower.match_indices("wp-image-") {
                let digits: String = lower[p + 9..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if let Ok(id) = digits.parse::<i64>()
                    && id > 0
                    && !ids.contains(&id)
                    && ids.len() < MAX_CONTENT_IMAGES
                {
                    ids.push(id);
                }
            }
        }
        if ids.is_empty() {
            return Ok(Self::none());
        }
        let items = file_meta(site, &ids)
            .await?
            .into_iter()
            .filter(|(_, fm)| !fm.file.is_empty())
            .collect();
        Ok(Self {
            site_home: site.config.home.clone(),
            items,
        })
    }

    fn get(&self, id: u64) -> Option<&FileMeta> {
        self.items
            .iter()
            .find(|(i, _)| *i as u64 == id)
            .map(|(_, fm)| fm)
    }
}

impl crate::formatting::ContentImages for LibraryImages {
    /// `wp_image_src_get_dimensions()`.
    fn width_height(&self, id: u64, src: &str) -> Option<(u32, u32)> {
        let meta = &self.get(id)?.metadata;
        let dim = |v: &Value| {
            let get = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0) as u32;
            (get("width"), get("height"))
        };
        let file = meta.get("file").and_then(Value::as_str).unwrap_or("");
        let basename = file.rsplit('/').next().unwrap_or(file);
        if !file.is_empty() && src.contains(basename) {
            return Some(dim(meta));
        }
        let src_file = src.rsplit('/').next().unwrap_or(src);
        meta.get("sizes")?
            .as_object()?
            .values()
            .find(|s| s.get("file").and_then(Value::as_str) == Some(src_file))
            .map(dim)
    }

    fn srcset_sizes(
        &self,
        id: u64,
        src: &str,
        size: (u32, u32),
        has_sizes: bool,
    ) -> Option<String> {
        let fm = self.get(id)?;
        let site_home = &self.site_home;
        let (srcset, sizes) =
            image_srcset(site_home, fm, src, (i64::from(size.0), i64::from(size.1)))?;
        Some(if has_sizes {
            format!(" srcset=\"{srcset}\"")
        } else {
            format!(" srcset=\"{srcset}\" sizes=\"{sizes}\"")
        })
    }
}

/// The first audio and video file attached to each post (`get_attached_media()`, by
/// `menu_order`): the source of an `[audio]`/`[video]` given none. Read only when a text
/// has such a shortcode, in two queries per response whatever the number of posts.
pub(crate) struct AttachedFiles {
    /// (parent, `audio`|`video`, file URL), the first of each pair.
    items: Vec<(i64, &'static str, String)>,
    /// The images the galleries may show.
    gallery: Vec<crate::formatting::GalleryImage>,
    /// The audio and video files the playlists may show.
    playlist: Vec<crate::formatting::GalleryImage>,
    /// Other posts than those shown whose galleries may show their images.
    public_parents: Vec<i64>,
    /// Whether the reader holds `read` (a logged-in user with a role): `read_post` of a
    /// public post, which `[playlist]` asks before listing a post's files.
    reader_can_read: bool,
    site_home: String,
}

/// At most this many attachments are read for one response (a bound on the work one
/// request can cause); a post whose first file lies past them shows no player.
const MAX_ATTACHED_FILES: i64 = 200;

impl AttachedFiles {
    pub(crate) fn none() -> Self {
        Self {
            items: vec![],
            gallery: vec![],
            playlist: vec![],
            public_parents: vec![],
            reader_can_read: false,
            site_home: String::new(),
        }
    }

    /// The request's reader, for `current_user_can( 'read_post' )`.
    pub(crate) fn set_reader(&mut self, actor: &crate::caps::Actor<'_>) {
        self.reader_can_read = actor.has_primitive("read");
    }

    /// Reads the files attached to the posts whose text (`(id, text, permalink)`) has a
    /// player, and the images their galleries show.
    pub(crate) async fn load(site: &Site, texts: &[(i64, &str, String)]) -> WpResult<Self> {
        let mut out = Self::players(site, texts).await?;
        out.site_home.clone_from(&site.config.home);
        if texts.iter().any(|(_, t, _)| t.contains("[gallery")) {
            out.load_galleries(site, texts).await?;
        }
        if texts.iter().any(|(_, t, _)| t.contains("[playlist")) {
            out.load_playlists(site, texts).await?;
        }
        Ok(out)
    }

    async fn players(site: &Site, texts: &[(i64, &str, String)]) -> WpResult<Self> {
        let mut parents: Vec<i64> = texts
            .iter()
            .filter(|(_, t, _)| t.contains("[audio") || t.contains("[video"))
            .map(|(id, _, _)| *id)
            .collect();
        parents.dedup();
        if parents.is_empty() {
            return Ok(Self::none());
        }
        let mut mime_types = crate::media::mime_types_of("audio");
        mime_types.extend(crate::media::mime_types_of("video"));
        let q = crate::store::PostQuery {
            post_type: "attachment".into(),
            // `get_children()`'s `post_status => 'any'`.
            statuses: [
                "inherit", "private", "publish", "draft", "pending", "future",
            ]
            .map(String::from)
            .to_vec(),
            parents,
            mime_types,
            orderby: crate::store::PostOrderBy::MenuOrder,
            ascending: true,
            limit: MAX_ATTACHED_FILES,
            ..crate::store::PostQuery::default()
        };
        let (children, _) = site.store.query_posts(&q).await?;
        let mut firsts: Vec<(i64, &'static str, i64)> = vec![];
        for c in &children {
            let kind = if c.mime_type.starts_with("audio/") {
                "audio"
            } else {
                "video"
            };
            if !firsts.iter().any(|(p, k, _)| *p == c.parent && *k == kind) {
                firsts.push((c.parent, kind, c.id));
            }
        }
        let ids: Vec<i64> = firsts.iter().map(|(_, _, id)| *id).collect();
        let files = file_meta(site, &ids).await?;
        let items = firsts
            .into_iter()
            .filter_map(|(parent, kind, id)| {
                let (_, fm) = files.iter().find(|(i, _)| *i == id)?;
                (!fm.file.is_empty()).then(|| (parent, kind, uploads_url(site, &fm.file)))
            })
            .collect();
        Ok(Self {
            items,
            ..Self::none()
        })
    }

    /// The images of every `[gallery]` in `texts`: those named (`ids`, `include`) and those
    /// attached to the posts shown (or named by `id`) in one query, their files in one
    /// more, and other posts they belong to in a third when there are any;
    /// `gallery_shortcode()` then picks and orders them per gallery.
    async fn load_galleries(&mut self, site: &Site, texts: &[(i64, &str, String)]) -> WpResult<()> {
        let mimes = crate::media::mime_types_of("image");
        let (found, public) = named_attachments(site, texts, "[gallery", mimes).await?;
        self.gallery = found;
        self.public_parents.extend(public);
        Ok(())
    }

    /// The audio and video files of every `[playlist]` in `texts`, read as the galleries'
    /// images are (`wp_playlist_shortcode()` then picks and orders them per playlist).
    async fn load_playlists(&mut self, site: &Site, texts: &[(i64, &str, String)]) -> WpResult<()> {
        let mut mimes = crate::media::mime_types_of("audio");
        mimes.extend(crate::media::mime_types_of("video"));
        let (found, public) = named_attachments(site, texts, "[playlist", mimes).await?;
        self.playlist = found;
        self.public_parents.extend(public);
        Ok(())
    }
}

/// The attachments of `mime_types` that the shortcodes opened by `opening` in `texts` name
/// (`ids`, `include`) or that are attached to the posts shown (or named by `id`): one
/// query, their files in one more, and the other posts they belong to in a third when
/// there are any. Returns them with the other posts whose attachments may be shown.
async fn named_attachments(
    site: &Site,
    texts: &[(i64, &str, String)],
    opening: &str,
    mime_types: Vec<String>,
) -> WpResult<(Vec<crate::formatting::GalleryImage>, Vec<i64>)> {
    let mut wanted = crate::formatting::GalleryRequests::default();
    for (id, text, _) in texts {
        wanted.add_shortcode(opening, text, *id as u64);
    }
    let as_ids =
        |v: &[u64]| -> Vec<i64> { v.iter().filter_map(|i| i64::try_from(*i).ok()).collect() };
    let shown: Vec<i64> = texts.iter().map(|(id, _, _)| *id).collect();
    // The named attachments and those attached to the posts shown, in one query; another
    // post's are kept below only when it is public.
    let q = crate::store::PostQuery {
        post_type: "attachment".into(),
        statuses: vec!["inherit".into()],
        include: as_ids(&wanted.ids),
        parents: as_ids(&wanted.parents),
        include_or_parents: true,
        mime_types,
        orderby: crate::store::PostOrderBy::Id,
        ascending: true,
        limit: 2 * crate::formatting::MAX_GALLERY_IDS as i64,
        ..crate::store::PostQuery::default()
    };
    let found = if wanted.ids.is_empty() && wanted.parents.is_empty() {
        vec![]
    } else {
        site.store.query_posts(&q).await?.0
    };
    // Published posts and pages besides those shown, in one more query: shortcodes naming
    // them show their attachments, and attachments of them link below their permalinks.
    let mut others: Vec<i64> = as_ids(&wanted.parents)
        .into_iter()
        .filter(|p| !shown.contains(p))
        .collect();
    for p in &found {
        if p.parent > 0 && !shown.contains(&p.parent) && !others.contains(&p.parent) {
            others.push(p.parent);
        }
    }
    let published = if others.is_empty() {
        vec![]
    } else {
        published_posts(site, others).await?
    };
    // `is_post_publicly_viewable()` and no password (`post_password_required()`).
    let public_parents: Vec<i64> = published
        .iter()
        .filter(|p| p.password.is_empty())
        .map(|p| p.id)
        .collect();
    let named: std::collections::HashSet<i64> = as_ids(&wanted.ids).into_iter().collect();
    let found: Vec<Post> = found
        .into_iter()
        .filter(|p| {
            named.contains(&p.id) || shown.contains(&p.parent) || public_parents.contains(&p.parent)
        })
        .collect();
    let ids: Vec<i64> = found.iter().map(|p| p.id).collect();
    let files = if ids.is_empty() {
        vec![]
    } else {
        file_meta(site, &ids).await?
    };
    let found = found
        .into_iter()
        .map(|p| {
            let fm = files
                .iter()
                .find(|(i, _)| *i == p.id)
                .map(|(_, fm)| fm.clone())
                .unwrap_or_default();
            let parent_link = texts
                .iter()
                .find(|(id, _, _)| *id == p.parent)
                .map(|(_, _, link)| link.clone())
                .or_else(|| {
                    let parent = published.iter().find(|q| q.id == p.parent)?;
                    // A published top-level post or page: `/slug/`; deeper pages are
                    // linked by id (docs/compat.md).
                    Some(if parent.parent == 0 && !parent.slug.is_empty() {
                        format!("{}/{}/", site.config.home, parent.slug)
                    } else {
                        "?".to_owned()
                    })
                });
            crate::formatting::GalleryImage {
                id: p.id as u64,
                parent: p.parent.max(0) as u64,
                author: p.author,
                link: attachment_link(site, &p, parent_link.as_deref()),
                url: (!fm.file.is_empty()).then(|| uploads_url(site, &fm.file)),
                title: p.title,
                caption: p.excerpt,
                description: p.content,
                mime_type: p.mime_type,
                slug: p.slug,
                menu_order: p.menu_order,
                date: p.date,
                modified: p.modified,
                alt: fm.alt,
                metadata: fm.metadata,
            }
        })
        .collect();
    Ok((found, public_parents))
}

/// The published posts and pages among `ids` (at most [`MAX_GALLERY_IDS`] of them).
///
/// [`MAX_GALLERY_IDS`]: crate::formatting::MAX_GALLERY_IDS
async fn published_posts(site: &Site, ids: Vec<i64>) -> WpResult<Vec<Post>> {
    let q = PostQuery {
        post_type: "post".into(),
        other_post_types: vec!["page".into()],
        statuses: vec!["publish".into()],
        include: ids,
        limit: crate::formatting::MAX_GALLERY_IDS as i64,
        ..PostQuery::default()
    };
    Ok(site.store.query_posts(&q).await?.0)
}

/// `get_attachment_link()` with `/%postname%/` permalinks: below the parent's permalink
/// when it has a pretty one (a numeric slug under `attachment/`), `?attachment_id=N` when
/// the parent's has a query (or is unknown), else as the attachment's own `link`.
fn attachment_link(site: &Site, attachment: &Post, parent_link: Option<&str>) -> String {
    match parent_link {
        Some(link) if attachment.parent > 0 && !link.contains('?') => {
            let name = if attachment.slug.bytes().all(|b| b.is_ascii_digit()) {
                format!("attachment/{}", attachment.slug)
            } else {
                attachment.slug.clone()
            };
            format!("{}/{name}/", link.trim_end_matches(['/', '\\']))
        }
        _ if attachment.parent > 0 => {
            format!("{}/?attachment_id={}", site.config.home, attachment.id)
        }
        _ => permalink(site, attachment),
    }
}

impl crate::formatting::AttachedMedia for AttachedFiles {
    fn first_url(&self, post_id: u64, kind: &str) -> Option<String> {
        self.items
            .iter()
            .find(|(p, k, _)| *p as u64 == post_id && *k == kind)
            .map(|(_, _, url)| url.clone())
    }

    fn gallery_images(&self) -> &[crate::formatting::GalleryImage] {
        &self.gallery
    }

    fn playlist_media(&self) -> &[crate::formatting::GalleryImage] {
        &self.playlist
    }

    fn is_public_post(&self, post_id: u64) -> bool {
        self.public_parents.iter().any(|p| *p as u64 == post_id)
    }

    fn reader_can_read(&self) -> bool {
        self.reader_can_read
    }

    fn image_srcset(
        &self,
        image: &crate::formatting::GalleryImage,
        src: &str,
        size: (u64, u64),
    ) -> Option<(String, String)> {
        let fm = FileMeta {
            file: image
                .metadata
                .get("file")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            metadata: image.metadata.clone(),
            alt: String::new(),
        };
        let size = (i64::try_from(size.0).ok()?, i64::try_from(size.1).ok()?);
        image_srcset(&self.site_home, &fm, src, size)
    }
}

fn uploads_url(site: &Site, rel: &str) -> String {
    format!("{}/wp-content/uploads/{rel}", site.config.home)
}

/// `wp_attachment_is_image()`.
fn is_image(mime: &str) -> bool {
    matches!(
        mime,
        "image/jpeg"
            | "image/gif"
            | "image/png"
            | "image/webp"
            | "image/bmp"
            | "image/tiff"
            | "image/x-icon"
            | "image/heic"
    )
}

/// `media_details`: the stored metadata with each size's `mime-type` as `mime_type`, its
/// `source_url`, and a synthetic `full` size; `{}` when there is none.
fn media_details(site: &Site, post: &Post, fm: &FileMeta) -> Value {
    let Some(meta) = fm.metadata.as_object() else {
        return json!({});
    };
    let dir = fm.file.rsplit_once('/').map_or("", |(d, _)| d);
    let in_dir = |name: &str| {
        if dir.is_empty() {
            name.to_owned()
        } else {
            format!("{dir}/{name}")
        }
    };
    let mut out = Map::new();
    for (k, v) in meta {
        if k == "sizes" {
            continue;
        }
        out.insert(k.clone(), v.clone());
    }
    let image = is_image(&post.mime_type) && meta.contains_key("width");
    if !image && !out.is_empty() {
        // Other files' metadata (audio, video) gets an empty `sizes` after what it has.
        out.insert("sizes".into(), json!({}));
    }
    if image {
        let mut sizes = Map::new();
        for (name, s) in meta
            .get("sizes")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let file = s["file"].as_str().unwrap_or("");
            sizes.insert(
                name.clone(),
                json!({ "file": file, "width": s["width"], "height": s["height"],
                        "filesize": s["filesize"], "mime_type": s["mime-type"],
                        "source_url": uploads_url(site, &in_dir(file)) }),
            );
        }
        let base = fm.file.rsplit('/').next().unwrap_or("");
        sizes.insert(
            "full".into(),
            json!({ "file": base, "width": meta["width"], "height": meta["height"],
                    "mime_type": post.mime_type, "source_url": uploads_url(site, &fm.file) }),
        );
        // WordPress's key order: width, height, file, filesize, sizes, image_meta.
        let mut ordered = Map::new();
        for key in ["width", "height", "file", "filesize"] {
            if let Some(v) = out.remove(key) {
                ordered.insert(key.into(), v);
            }
        }
        // WordPress adds `full` only next to generated sizes.
        ordered.insert(
            "sizes".into(),
            if sizes.len() == 1 {
                json!({})
            } else {
                Value::Object(sizes)
            },
        );
        ordered.extend(out);
        return Value::Object(ordered);
    }
    Value::Object(out)
}

/// The description through `the_content`, with the preview WordPress prepends to an
/// attachment's description (`prepend_attachment()`).
fn rendered_description(
    site: &Site,
    post: &Post,
    fm: &FileMeta,
    content: &str,
    page: &PageLoad,
) -> String {
    let url = uploads_url(site, &fm.file);
    let shown = Shown {
        post_id: post.id as u64,
        page,
        attached: &NoAttachedMedia,
    };
    // `wp_attachment_is( 'video' | 'audio' )`: a player instead of the paragraph.
    if !fm.file.is_empty() && post.mime_type.starts_with("video/") {
        let mut atts = vec![(Some("src".to_owned()), url)];
        let dim = |k: &str| {
            fm.metadata
                .get(k)
                .and_then(Value::as_i64)
                .filter(|v| *v != 0)
        };
        if let (Some(w), Some(h)) = (dim("width"), dim("height")) {
            atts.push((Some("width".to_owned()), w.to_string()));
            atts.push((Some("height".to_owned()), h.to_string()));
        }
        let player = wp_video_shortcode(&atts, "", shown);
        return the_content_prepended(content, &site.config.home, &NoImages, shown, Some(&player));
    }
    if !fm.file.is_empty() && post.mime_type.starts_with("audio/") {
        let player = wp_audio_shortcode(&[(Some("src".to_owned()), url)], shown);
        return the_content_prepended(content, &site.config.home, &NoImages, shown, Some(&player));
    }
    let inner = if is_image(&post.mime_type) && fm.metadata.get("width").is_some() {
        let medium = &fm.metadata["sizes"]["medium"];
        let (src, w, h) = if medium.is_object() {
            let dir = fm.file.rsplit_once('/').map_or("", |(d, _)| d);
            (
                uploads_url(
                    site,
                    &format!("{dir}/{}", medium["file"].as_str().unwrap_or("")),
                ),
                medium["width"].clone(),
                medium["height"].clone(),
            )
        } else {
            (
                url.clone(),
                fm.metadata["width"].clone(),
                fm.metadata["height"].clone(),
            )
        };
        // `wp_get_attachment_image()`: srcset and sizes after the other attributes.
        let srcset = match (w.as_i64(), h.as_i64()) {
            (Some(wi), Some(hi)) => image_srcset(&site.config.home, fm, &src, (wi, hi))
                .map(|(set, sizes)| format!(" srcset=\"{set}\" sizes=\"{sizes}\""))
                .unwrap_or_default(),
            _ => String::new(),
        };
        format!(
            "<img width=\"{w}\" height=\"{h}\" src=\"{src}\" class=\"attachment-medium size-medium\" alt=\"{}\" decoding=\"async\" loading=\"lazy\"{srcset} />",
            html_attr(&fm.alt)
        )
    } else {
        html_text(&post.title)
    };
    let prepend = format!("<p class=\"attachment\"><a href='{url}'>{inner}</a></p>");
    the_content_prepended(content, &site.config.home, &NoImages, shown, Some(&prepend))
}

fn html_attr(s: &str) -> String {
    html_text(s).replace('"', "&quot;").replace('\'', "&#039;")
}

fn html_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub(super) fn permalink(site: &Site, post: &Post) -> String {
    if post.parent == 0 && !post.slug.is_empty() {
        format!("{}/{}/", site.config.home, post.slug)
    } else {
        format!("{}/?attachment_id={}", site.config.home, post.id)
    }
}

/// `prepare_item_for_response()` for an attachment, in WordPress 6.1's field order.
fn prepare_item(
    site: &Site,
    post: &Post,
    fm: &FileMeta,
    ctx: Context,
    tz: &jiff::tz::TimeZone,
    page: &PageLoad,
) -> Value {
    let edit = ctx == Context::Edit;
    let source_url = uploads_url(site, &fm.file);
    let description = rendered_description(site, post, fm, &post.content, page);
    // `get_the_excerpt` + `the_excerpt`: an empty caption is made of the description.
    let caption_rendered = the_excerpt(
        &wp_trim_excerpt(&post.excerpt, || {
            let content = excerpt_remove_blocks(&strip_shortcodes(&post.content));
            rendered_description(site, post, fm, &content, page)
        }),
        &site.config.home,
        &NoImages,
    );
    let rendered_title = the_title(&post.title);
    let media_type = if is_image(&post.mime_type) {
        "image"
    } else {
        "file"
    };
    let links = json!({
        "self": [{ "href": site.config.rest_url(&format!("wp/v2/media/{}", post.id)) }],
        "collection": [{ "href": site.config.rest_url("wp/v2/media") }],
        "about": [{ "href": site.config.rest_url("wp/v2/types/attachment") }],
        "author": [{ "embeddable": true, "href": site.config.rest_url(&format!("wp/v2/users/{}", post.author)) }],
        // Attachments support comments.
        "replies": super::posts::replies_link(site, post.id)
    });
    let mut links = links;
    // `prepare_links()` links an author only when there is one (a deleted user's posts
    // given to 0).
    if post.author == 0
        && let Some(l) = links.as_object_mut()
    {
        l.remove("author");
    }
    let mut o = Map::new();
    o.insert("id".into(), json!(post.id));
    o.insert("date".into(), json!(fmt_date(post.date, tz)));
    if ctx == Context::Embed {
        o.insert("slug".into(), json!(post.slug));
        o.insert("type".into(), json!("attachment"));
        o.insert("link".into(), json!(permalink(site, post)));
        o.insert("title".into(), json!({ "rendered": rendered_title }));
        o.insert("author".into(), json!(post.author));
        o.insert("caption".into(), json!({ "rendered": caption_rendered }));
        o.insert("alt_text".into(), json!(fm.alt));
        o.insert("media_type".into(), json!(media_type));
        o.insert("mime_type".into(), json!(post.mime_type));
        o.insert("media_details".into(), media_details(site, post, fm));
        o.insert("source_url".into(), json!(source_url));
        o.insert("_links".into(), links);
        return Value::Object(o);
    }
    let utc = jiff::tz::TimeZone::UTC;
    o.insert("date_gmt".into(), json!(fmt_date(post.date, &utc)));
    let guid = if post.guid.is_empty() {
        &source_url
    } else {
        &post.guid
    };
    o.insert(
        "guid".into(),
        if edit {
            json!({ "rendered": guid, "raw": guid })
        } else {
            json!({ "rendered": guid })
        },
    );
    o.insert("modified".into(), json!(fmt_date(post.modified, tz)));
    o.insert("modified_gmt".into(), json!(fmt_date(post.modified, &utc)));
    o.insert("slug".into(), json!(post.slug));
    o.insert("status".into(), json!(post.status));
    o.insert("type".into(), json!("attachment"));
    o.insert("link".into(), json!(permalink(site, post)));
    o.insert(
        "title".into(),
        if edit {
            json!({ "raw": post.title, "rendered": rendered_title })
        } else {
            json!({ "rendered": rendered_title })
        },
    );
    o.insert("author".into(), json!(post.author));
    o.insert("comment_status".into(), json!(post.comment_status));
    o.insert("ping_status".into(), json!(post.ping_status));
    o.insert("template".into(), json!(""));
    o.insert("meta".into(), json!([]));
    if edit {
        o.insert(
            "permalink_template".into(),
            json!(format!("{}/?attachment_id={}", site.config.home, post.id)),
        );
        o.insert("generated_slug".into(), json!(post.slug));
    }
    o.insert(
        "description".into(),
        if edit {
            json!({ "raw": post.content, "rendered": description })
        } else {
            json!({ "rendered": description })
        },
    );
    o.insert(
        "caption".into(),
        if edit {
            json!({ "raw": post.excerpt, "rendered": caption_rendered })
        } else {
            json!({ "rendered": caption_rendered })
        },
    );
    o.insert("alt_text".into(), json!(fm.alt));
    o.insert("media_type".into(), json!(media_type));
    o.insert("mime_type".into(), json!(post.mime_type));
    o.insert("media_details".into(), media_details(site, post, fm));
    o.insert(
        "post".into(),
        if post.parent == 0 {
            Value::Null
        } else {
            json!(post.parent)
        },
    );
    o.insert("source_url".into(), json!(source_url));
    if edit {
        o.insert("missing_image_sizes".into(), json!(missing_sizes(post, fm)));
    }
    o.insert("_links".into(), links);
    Value::Object(o)
}

/// `wp_get_missing_image_subsizes()`: registered sizes the image should have but lacks.
fn missing_sizes(post: &Post, fm: &FileMeta) -> Vec<&'static str> {
    if !media::is_editable_image(&post.mime_type) {
        return vec![];
    }
    let (Some(w), Some(h)) = (
        fm.metadata["width"]
            .as_u64()
            .and_then(|w| u32::try_from(w).ok()),
        fm.metadata["height"]
            .as_u64()
            .and_then(|h| u32::try_from(h).ok()),
    ) else {
        return vec![];
    };
    media::IMAGE_SIZES
        .iter()
        .filter(|s| {
            media::resize_dimensions(w, h, s).is_some() && fm.metadata["sizes"][s.name].is_null()
        })
        .map(|s| s.name)
        .collect()
}

/// Edit-context action links (`get_available_actions()`): attachments cannot be published
/// or made sticky.
fn add_action_links(body: &mut Value, actor: &Actor<'_>) {
    let Some(links) = body.get_mut("_links").and_then(Value::as_object_mut) else {
        return;
    };
    let Some(self_link) = links.get("self").cloned() else {
        return;
    };
    if actor.can(Cap::Primitive("unfiltered_html")) {
        links.insert("wp:action-unfiltered-html".into(), self_link.clone());
    }
    if actor.can(Cap::Primitive(&pt().caps.edit_others_posts)) {
        links.insert("wp:action-assign-author".into(), self_link);
    }
    // CURIEs are added only when a `wp:` relation is there to compact.
    if links.keys().any(|k| k.starts_with("wp:")) {
        links.insert(
            "curies".into(),
            json!([{ "name": "wp", "href": "https://api.w.org/{rel}", "templated": true }]),
        );
    }
}

async fn respond(
    site: &Site,
    actor: &Actor<'_>,
    post: &Post,
    status: StatusCode,
) -> WpResult<Response> {
    respond_in(site, actor, post, status, Context::Edit).await
}

/// [`respond`] in a given context (action links only in the edit context).
async fn respond_in(
    site: &Site,
    actor: &Actor<'_>,
    post: &Post,
    status: StatusCode,
    ctx: Context,
) -> WpResult<Response> {
    let tz = site_tz(site).await?;
    let fm = file_meta(site, &[post.id]).await?.remove(0).1;
    let mut body = prepare_item(site, post, &fm, ctx, &tz, &PageLoad::new());
    if ctx == Context::Edit {
        add_action_links(&mut body, actor);
    }
    let mut resp = json_response(status, &body);
    if status == StatusCode::CREATED {
        let h = resp.headers_mut();
        if let Ok(loc) =
            HeaderValue::from_str(&site.config.rest_url(&format!("wp/v2/media/{}", post.id)))
        {
            h.insert(header::LOCATION, loc);
        }
        h.insert("x-wp-upload-attachment-id", HeaderValue::from(post.id));
    }
    Ok(resp)
}

/// `GET /wp/v2/media`.
async fn get_items(
    State(site): State<Arc<Site>>,
    auth: Auth,
    params: Params,
) -> WpResult<Response> {
    let actor = auth.actor();
    let pt = pt();
    let mut v = Validator::new(&params);
    let ctx = v.context();
    let page = v.integer_min("page", 1).unwrap_or(1);
    let per_page = v.integer_range("per_page", 1, 100).unwrap_or(10);
    let offset = v.integer("offset");
    let order = v.one_of("order", &["asc", "desc"]).unwrap_or("desc");
    let authors = v.integer_list("author").unwrap_or_default();
    let authors_exclude = v.integer_list("author_exclude").unwrap_or_default();
    let include = v.integer_list("include").unwrap_or_default();
    let exclude = v.integer_list("exclude").unwrap_or_default();
    let parents = v.integer_list("parent").unwrap_or_default();
    let parents_exclude = v.integer_list("parent_exclude").unwrap_or_default();
    let search = super::posts::SearchArgs::read(&mut v);
    let slugs: Vec<String> = v
        .string_list("slug")
        .unwrap_or_default()
        .iter()
        .map(|s| sanitize_title(s))
        .collect();
    let orderby = v
        // Attachments are not hierarchical: no `menu_order`.
        .one_of(
            "orderby",
            &super::posts::ORDERBY[..super::posts::ORDERBY.len() - 1],
        )
        .unwrap_or("date");
    // Lists since WordPress 6.9 (a comma-separated string or an array, #63668).
    let media_types = v
        .enum_list(
            "media_type",
            &["image", "video", "text", "application", "audio"],
        )
        .unwrap_or_default();
    let mime_type_list = v.string_list("mime_type").unwrap_or_default();
    let mut statuses = vec!["inherit".to_owned()];
    if let Some(list) = v.string_list("status") {
        let mut checked = vec![];
        for (i, s) in list.iter().enumerate() {
            let allowed = s == "inherit"
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
            if !["inherit", "private", "trash"].contains(&s.as_str()) {
                v.invalid(
                    "status",
                    "rest_not_in_enum",
                    format!("status[{i}] is not one of inherit, private, and trash."),
                    Value::Null,
                );
                break;
            }
            checked.push(s.clone());
        }
        statuses = checked;
    }
    let tz = site_tz(&site).await?;
    let dates = super::posts::date_bounds(&mut v, &tz);
    v.finish()?;

    super::posts::check_collection_query(
        &actor,
        pt,
        ctx,
        orderby,
        search.search.is_some(),
        include.is_empty(),
    )?;
    // The current source matches any of the media types or any of the MIME types; a MIME type
    // outside the allowed list is ignored.
    let mut mime_types: Vec<String> = media_types
        .iter()
        .flat_map(|t| media::mime_types_of(t))
        .collect();
    for m in &mime_type_list {
        let m = m.to_ascii_lowercase();
        let allowed = media::ALLOWED_MIME_TYPES.iter().any(|(_, a)| *a == m);
        if allowed && !mime_types.contains(&m) {
            mime_types.push(m);
        }
    }
    let mut q = PostQuery {
        post_type: "attachment".into(),
        statuses,
        authors,
        authors_exclude,
        include,
        exclude,
        slugs,
        parents,
        parents_exclude,
        mime_types,
        search_skips_protected: !actor.logged_in(),
        // The attachments controller lets searches match file names
        // (`wp_allow_query_attachment_by_filename`).
        search: search.query(orderby, true),
        after: dates[0],
        before: dates[1],
        modified_after: dates[2],
        modified_before: dates[3],
        orderby: match orderby {
            "id" => PostOrderBy::Id,
            "title" => PostOrderBy::Title,
            "slug" => PostOrderBy::Slug,
            "modified" => PostOrderBy::Modified,
            "parent" => PostOrderBy::Parent,
            "author" => PostOrderBy::Author,
            "include" => PostOrderBy::Include,
            "include_slugs" => PostOrderBy::IncludeSlugs,
            _ => PostOrderBy::Date,
        },
        limit: per_page,
        offset: offset.unwrap_or((page - 1).saturating_mul(per_page)).max(0),
        ascending: order == "asc",
        ..PostQuery::default()
    };
    if !q.include.is_empty() {
        q.exclude.clear();
    }
    if !q.authors_exclude.is_empty() {
        q.authors.clear();
    }
    let (posts, mut total) = site.store.query_posts(&q).await?;
    if posts.is_empty() && page == 1 {
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
    let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
    let fms = file_meta(&site, &ids).await?;
    // One page load: the players' numbers go on from item to item.
    let page_load = PageLoad::new();
    let mut items = vec![];
    for (p, (_, fm)) in posts.iter().zip(fms.iter()) {
        let visible = if ctx == Context::Edit {
            can_edit(&actor, p)
        } else {
            can_read(&site, &actor, p).await
        };
        if !visible {
            continue;
        }
        let mut item = prepare_item(&site, p, fm, ctx, &tz, &page_load);
        if ctx == Context::Edit {
            add_action_links(&mut item, &actor);
        }
        items.push(item);
    }
    let base = site.config.rest_url("wp/v2/media");
    Ok(super::collection_response(
        items,
        total,
        total_pages,
        &base,
        &params,
        page,
    ))
}

/// `GET /wp/v2/media/<id>`.
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
    v.finish()?;
    let post = load(&site, id).await?;
    if ctx == Context::Edit && !can_edit(&actor, &post) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_forbidden_context",
            "Sorry, you are not allowed to edit this post.",
        ));
    }
    if !can_read(&site, &actor, &post).await {
        return Err(WpError::rest_forbidden(actor.logged_in()));
    }
    let tz = site_tz(&site).await?;
    let fm = file_meta(&site, &[post.id]).await?.remove(0).1;
    let mut body = prepare_item(&site, &post, &fm, ctx, &tz, &PageLoad::new());
    if ctx == Context::Edit {
        add_action_links(&mut body, &actor);
    }
    let mut resp = json_response(StatusCode::OK, &body);
    if let Ok(v) = HeaderValue::from_str(&format!(
        "<{}>; rel=\"alternate\"; type=text/html",
        permalink(&site, &post)
    )) {
        resp.headers_mut().insert(header::LINK, v);
    }
    Ok(resp)
}

/// The writable fields of an attachment.
#[derive(Default)]
struct MediaInput {
    title: Option<String>,
    caption: Option<String>,
    description: Option<String>,
    alt_text: Option<String>,
    post: Option<i64>,
    author: Option<i64>,
    status: Option<&'static str>,
    slug: Option<String>,
    comment_status: Option<&'static str>,
    ping_status: Option<&'static str>,
    date: Option<i64>,
}

/// `current_status`: the stored status of the attachment being updated.
fn parse_input(
    v: &mut Validator<'_>,
    params: &Params,
    tz: &jiff::tz::TimeZone,
    current_status: Option<&str>,
) -> MediaInput {
    let mut input = MediaInput {
        title: raw_field(params, "title"),
        caption: raw_field(params, "caption"),
        description: raw_field(params, "description"),
        alt_text: v.string("alt_text"),
        post: v.integer("post"),
        author: v.integer("author"),
        status: if super::posts::status_unchanged(params, current_status) {
            None
        } else {
            v.one_of(
                "status",
                &["publish", "future", "draft", "pending", "private"],
            )
        },
        slug: v.string("slug"),
        comment_status: v.one_of("comment_status", &["open", "closed"]),
        ping_status: v.one_of("ping_status", &["open", "closed"]),
        date: None,
    };
    for (key, zone) in [("date", tz.clone()), ("date_gmt", jiff::tz::TimeZone::UTC)] {
        match params.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => match parse_date(s, &zone) {
                Some(ts) => {
                    input.date.get_or_insert(ts);
                }
                None => v.invalid(
                    key,
                    "rest_invalid_date",
                    "Invalid date.".into(),
                    Value::Null,
                ),
            },
            Some(_) => v.invalid(
                key,
                "rest_invalid_type",
                format!("{key} is not of type string,null."),
                json!({ "param": key }),
            ),
        }
    }
    input
}

/// The permission checks create and update share: another author needs
/// `edit_others_posts`, a parent needs `edit_post` on it.
async fn check_input_permissions(
    site: &Site,
    actor: &Actor<'_>,
    input: &MediaInput,
    author_message: &'static str,
) -> WpResult<Option<Post>> {
    if let Some(a) = input.author
        && a != 0
        && a != actor.id
        && !actor.can(Cap::Primitive(&pt().caps.edit_others_posts))
    {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_edit_others",
            author_message,
        ));
    }
    let Some(parent_id) = input.post.filter(|p| *p != 0) else {
        return Ok(None);
    };
    let parent = site.store.post_by_id(parent_id).await?;
    let editable = parent.as_ref().is_some_and(|p| {
        let ppt = site.post_type(&p.post_type).unwrap_or(pt());
        actor.can(Cap::EditPost(post_ref(p, ppt)))
    });
    if !editable {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_edit",
            "Sorry, you are not allowed to upload media to this post.",
        ));
    }
    let parent = parent.filter(|p| p.post_type != "attachment");
    if parent.is_none() {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_invalid_param",
            "Invalid parent type.",
        ));
    }
    Ok(parent)
}

/// Attachment slugs are unique across every post type (`wp_unique_post_slug()`).
async fn unique_slug(site: &Site, base: &str, self_id: i64) -> WpResult<String> {
    let base = if base.is_empty() { "attachment" } else { base };
    let mut slug = base.to_owned();
    let mut n = 2;
    loop {
        let mut taken = site.store.slug_exists("attachment", &slug, self_id).await?;
        for t in &site.config.post_types {
            if taken {
                break;
            }
            taken = site.store.slug_exists(&t.name, &slug, self_id).await?;
        }
        if !taken {
            return Ok(slug);
        }
        slug = format!("{base}-{n}");
        n += 1;
    }
}

/// Applies the input (`prepare_item_for_database()` + `wp_insert_attachment()`'s rules).
async fn apply_input(
    site: &Site,
    actor: &Actor<'_>,
    mut post: Post,
    input: &MediaInput,
) -> WpResult<Post> {
    if let Some(status) = input.status {
        // Attachments are `inherit` unless made private (by someone who may publish).
        if status == "private" {
            if !actor.can(Cap::Primitive(&pt().caps.publish_posts)) {
                return Err(WpError::auth_required(
                    actor.logged_in(),
                    "rest_cannot_publish",
                    "Sorry, you are not allowed to create private posts in this post type.",
                ));
            }
            post.status = "private".into();
        } else {
            post.status = "inherit".into();
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
    if let Some(p) = input.post {
        post.parent = p;
    }
    if let Some(t) = &input.title {
        post.title.clone_from(t);
    }
    if let Some(c) = &input.caption {
        post.excerpt.clone_from(c);
    }
    if let Some(d) = &input.description {
        post.content.clone_from(d);
    }
    super::posts::sanitize_html_fields(site, actor, &mut post).await?;
    if let Some(c) = input.comment_status {
        c.clone_into(&mut post.comment_status);
    }
    if let Some(p) = input.ping_status {
        p.clone_into(&mut post.ping_status);
    }
    if let Some(d) = input.date {
        post.date = d;
    }
    let wanted = match &input.slug {
        Some(s) => sanitize_title(s),
        None if post.slug.is_empty() => sanitize_title(&post.title),
        None => post.slug.clone(),
    };
    post.slug = unique_slug(site, &wanted, post.id).await?;
    post.modified = now();
    Ok(post)
}

async fn write_alt(site: &Site, id: i64, alt: Option<&String>) -> WpResult<()> {
    if let Some(alt) = alt {
        let value = Value::String(sanitize_text_field(alt)).to_string();
        site.store.set_post_meta(id, META_ALT, &[value]).await?;
    }
    Ok(())
}

fn sideload_error(multipart: bool, message: impl Into<String>) -> WpError {
    if multipart {
        WpError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "rest_upload_unknown_error",
            message,
        )
    } else {
        WpError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "rest_upload_sideload_error",
            message,
        )
    }
}

fn too_big(site: &Site) -> WpError {
    WpError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "rest_upload_file_too_big",
        format!(
            "This file is too big. Files must be less than {} KB in size.",
            site.config.max_upload_bytes / 1024
        ),
    )
}

fn stream_error(site: &Site, multipart: bool, e: StreamError) -> WpError {
    match e {
        StreamError::TooLarge => too_big(site),
        StreamError::Io(e) => {
            tracing::error!(error = %e, "writing an upload failed");
            if multipart {
                sideload_error(
                    true,
                    "The uploaded file could not be moved to wp-content/uploads.",
                )
            } else {
                WpError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "rest_upload_file_error",
                    "Could not open file handle.",
                )
            }
        }
        StreamError::Body(e) => {
            tracing::info!(error = %e, "upload body ended early");
            sideload_error(multipart, "The uploaded file was only partially uploaded.")
        }
    }
}

/// `get_filename_from_disposition()`: the `filename` of the last value that has one.
pub fn filename_from_disposition(headers: &HeaderMap) -> Option<String> {
    let mut found = None;
    for value in headers.get_all(header::CONTENT_DISPOSITION) {
        let value = String::from_utf8_lossy(value.as_bytes());
        let Some((_, attrs)) = value.split_once(';') else {
            continue;
        };
        for part in attrs.split(';') {
            let Some((k, v)) = part.split_once('=') else {
                continue;
            };
            if k.trim() != "filename" {
                continue;
            }
            let mut name = v.trim();
            if name.len() >= 2 && name.starts_with('"') && name.ends_with('"') {
                name = &name[1..name.len() - 1];
            }
            if !name.is_empty() {
                found = Some(name.to_owned());
            }
        }
    }
    found
}

/// What an upload request carried: the file and its name as sent.
struct Received {
    file: TempUpload,
    filename: String,
    multipart: bool,
}

/// Largest text field of a multipart upload.
const MAX_FIELD_BYTES: usize = 1024 * 1024;

/// The parameters of a multipart body, and its file: errors about the file itself (none,
/// empty, hash mismatch) are answered only after the permission checks, as WordPress reads
/// `$_FILES` in `create_item()`.
async fn receive_multipart(
    site: &Site,
    req: Request,
    boundary: String,
    content_md5: Option<&str>,
) -> WpResult<(Params, WpResult<Received>)> {
    let query = req.uri().query().map(parse_form).unwrap_or_default();
    let mut params = Params(query);
    let stream = req.into_body().into_data_stream();
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut file: Option<(TempUpload, String)> = None;
    let mut other_file = false;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                tracing::info!(error = %e, "malformed multipart upload");
                return Err(sideload_error(true, "Specified file failed upload test."));
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        if let Some(filename) = field.file_name().map(str::to_owned) {
            if name != "file" || file.is_some() {
                other_file = true;
                // Drain it without keeping it.
                let mut f = field;
                while let Ok(Some(_)) = f.chunk().await {}
                continue;
            }
            let upload = media::stream_to_temp(
                &site.config.media.temp_dir(),
                Box::pin(field),
                site.config.max_upload_bytes,
            )
            .await
            .map_err(|e| stream_error(site, true, e))?;
            site.metrics.upload_bytes(upload.size);
            file = Some((upload, filename));
        } else {
            let mut text = Vec::new();
            let mut f = field;
            while let Ok(Some(chunk)) = f.chunk().await {
                if text.len() + chunk.len() > MAX_FIELD_BYTES {
                    return Err(WpError::payload_too_large());
                }
                text.extend_from_slice(&chunk);
            }
            let text = String::from_utf8_lossy(&text).into_owned();
            let encoded = form_urlencoded::Serializer::new(String::new())
                .append_pair(&name, &text)
                .finish();
            for (k, v) in parse_form(&encoded) {
                match (params.0.get_mut(&k), v) {
                    (Some(Value::Array(a)), Value::Array(b)) => a.extend(b),
                    (Some(Value::Object(a)), Value::Object(b)) => a.extend(b),
                    (_, v) => {
                        params.0.insert(k, v);
                    }
                }
            }
        }
    }
    let received = match file {
        // `upload_from_file()` verifies the hash before anything else about the file.
        Some((file, _)) if content_md5.is_some_and(|m| m != file.md5) => Err(hash_mismatch()),
        Some((file, filename)) if file.size > 0 => Ok(Received {
            file,
            filename,
            multipart: true,
        }),
        Some(_) => Err(sideload_error(
            true,
            "File is empty. Please upload something more substantial. This error could also be caused by uploads being disabled in your php.ini or by post_max_size being defined as smaller than upload_max_filesize in php.ini.",
        )),
        None if other_file => Err(sideload_error(true, "Specified file failed upload test.")),
        None => Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_upload_no_data",
            "No data supplied.",
        )),
    };
    Ok((params, received))
}

/// `Content-MD5` given and not the body's MD5 (compared as WordPress does: the trimmed
/// header against the lower-case hex digest).
fn hash_mismatch() -> WpError {
    WpError::new(
        StatusCode::PRECONDITION_FAILED,
        "rest_upload_hash_mismatch",
        "Content hash did not match expected.",
    )
}

async fn receive_raw(site: &Site, req: Request, content_md5: Option<&str>) -> WpResult<Received> {
    let no_data = || {
        WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_upload_no_data",
            "No data supplied.",
        )
    };
    let headers = req.headers().clone();
    let declared_len = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    // `upload_from_data()` looks at the body first: none at all is no data.
    if declared_len == Some(0) || axum::body::HttpBody::is_end_stream(req.body()) {
        return Err(no_data());
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim();
    if content_type.is_empty() {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_upload_no_content_type",
            "No Content-Type supplied.",
        ));
    }
    if headers.get(header::CONTENT_DISPOSITION).is_none() {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_upload_no_content_disposition",
            "No Content-Disposition supplied.",
        ));
    }
    let Some(filename) = filename_from_disposition(&headers) else {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_upload_invalid_disposition",
            "Invalid Content-Disposition supplied. Content-Disposition needs to be formatted as `attachment; filename=\"image.png\"` or similar.",
        ));
    };
    if declared_len.is_some_and(|n| n > site.config.max_upload_bytes) {
        return Err(too_big(site));
    }
    let stream = req.into_body().into_data_stream();
    let file = media::stream_to_temp(
        &site.config.media.temp_dir(),
        stream,
        site.config.max_upload_bytes,
    )
    .await
    .map_err(|e| stream_error(site, false, e))?;
    site.metrics.upload_bytes(file.size);
    if file.size == 0 {
        return Err(no_data());
    }
    if content_md5.is_some_and(|m| m != file.md5) {
        return Err(hash_mismatch());
    }
    Ok(Received {
        file,
        filename,
        multipart: false,
    })
}

/// `POST /wp/v2/media`: the file as the raw body (with `Content-Disposition`) or as the
/// `file` part of a `multipart/form-data` body, streamed to disk.
async fn create_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    req: Request,
) -> WpResult<Response> {
    let actor = auth.actor();
    // create_item_permissions_check(): `create_posts` of attachments is `upload_files`.
    // Checked before the body is read, so refused uploads cost nothing.
    if !actor.can(Cap::Primitive(&pt().caps.create_posts)) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_create",
            "Sorry, you are not allowed to create posts as this user.",
        ));
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let content_md5 = req
        .headers()
        .get("content-md5")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned());
    // The parameters come first and the file last: WordPress checks permissions before
    // `create_item()` looks at the upload. A raw body's parameters are in the query, so
    // a refused raw upload is not even read.
    let (params, multipart_file) = match multer::parse_boundary(&content_type) {
        Ok(boundary)
            if content_type
                .to_ascii_lowercase()
                .starts_with("multipart/form-data") =>
        {
            let (params, file) =
                receive_multipart(&site, req, boundary, content_md5.as_deref()).await?;
            (params, Ok(file))
        }
        _ => (
            Params(req.uri().query().map(parse_form).unwrap_or_default()),
            Err(req),
        ),
    };

    let tz = site_tz(&site).await?;
    let mut v = Validator::new(&params);
    let input = parse_input(&mut v, &params, &tz, None);
    v.finish()?;
    if params.get("id").is_some_and(|id| {
        !matches!(id, Value::Null) && id != &json!(0) && id != &json!("") && id != &json!("0")
    }) {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_post_exists",
            "Cannot create existing post.",
        ));
    }
    let parent = check_input_permissions(
        &site,
        &actor,
        &input,
        "Sorry, you are not allowed to create posts as this user.",
    )
    .await?;
    let Received {
        file,
        filename,
        multipart,
    } = match multipart_file {
        Ok(received) => received?,
        Err(req) => receive_raw(&site, req, content_md5.as_deref()).await?,
    };

    // wp_handle_upload(): the type from the name and the content.
    let Some(checked) = media::check_filetype_and_ext(&file.head, &filename) else {
        return Err(sideload_error(multipart, media::NOT_ALLOWED_TYPE));
    };
    let proper = checked.proper_filename.as_deref().unwrap_or(&filename);
    let stored_name = media::sanitize_file_name(proper);
    if media::filetype(&stored_name).map(|(_, m)| m) != Some(checked.mime) {
        return Err(sideload_error(multipart, media::NOT_ALLOWED_TYPE));
    }
    // `YYYY/MM` of now, or of the parent's date when attaching to a post (not a page).
    let month_of = match &parent {
        Some(p) if p.post_type != "page" => p.date,
        _ => now(),
    };
    let subdir = jiff::Timestamp::from_second(month_of)
        .map(|t| t.to_zoned(tz.clone()).strftime("%Y/%m").to_string())
        .unwrap_or_else(|_| "1970/01".into());
    let store = &site.config.media;
    let final_name = store
        .place_unique(&file.path, &subdir, &stored_name)
        .await
        .map_err(|e| stream_error(&site, multipart, StreamError::Io(e)))?;
    let rel = format!("{subdir}/{final_name}");
    // The sub-sizes are made from the received file (moved into place on local disk).
    let src = store.local_path(&rel).unwrap_or_else(|| file.path.clone());
    let budget = site.config.security.max_image_pixels;
    // Decoding and resizing run on the bounded CPU pool; when its queue is full the upload
    // is refused (503, the file removed) rather than queued without bound.
    let metadata = match store
        .generate_metadata(&site.cpu, &src, &rel, checked.mime, budget)
        .await
    {
        Ok(m) => m,
        Err(e) if e.status == StatusCode::SERVICE_UNAVAILABLE => {
            remove_files(&site, &rel, &json!({})).await;
            return Err(e);
        }
        // The job panicked: the file is kept without sub-sizes, as before.
        Err(_) => json!({}),
    };

    // Title: the request's, else the name as uploaded (multipart) or as stored, without
    // its extension.
    let default_title = {
        let base = if multipart {
            filename.rsplit(['/', '\\']).next().unwrap_or(&filename)
        } else {
            final_name.as_str()
        };
        base.rsplit_once('.').map_or(base, |(s, _)| s).to_owned()
    };
    let now = now();
    let blank = Post {
        id: 0,
        post_type: "attachment".into(),
        status: "inherit".into(),
        author: actor.id,
        title: default_title,
        content: String::new(),
        excerpt: String::new(),
        slug: String::new(),
        password: String::new(),
        parent: 0,
        menu_order: 0,
        comment_status: "open".into(),
        ping_status: "closed".into(),
        date: now,
        date_floating: false,
        modified: now,
        pre_trash_status: None,
        mime_type: checked.mime.into(),
        featured_media: 0,
        format: String::new(),
        // An attachment's guid is its file's URL at upload (`wp_insert_attachment()`).
        guid: uploads_url(&site, &rel),
    };
    let mut post = match apply_input(&site, &actor, blank, &input).await {
        Ok(p) => p,
        Err(e) => {
            remove_files(&site, &rel, &metadata).await;
            return Err(e);
        }
    };
    post.id = site.store.insert_post(&post).await?;
    site.store
        .set_post_meta(
            post.id,
            META_FILE,
            &[Value::String(rel.clone()).to_string()],
        )
        .await?;
    site.store
        .set_post_meta(post.id, META_METADATA, &[metadata.to_string()])
        .await?;
    write_alt(&site, post.id, input.alt_text.as_ref()).await?;
    tracing::info!(post_id = post.id, file = %rel, mime = %post.mime_type, size = file.size, author = post.author, "media uploaded");
    respond(&site, &actor, &post, StatusCode::CREATED).await
}

async fn remove_files(site: &Site, rel: &str, metadata: &Value) {
    site.config.media.delete_attachment(rel, metadata).await;
}

/// `POST|PUT|PATCH /wp/v2/media/<id>`: the file itself cannot be replaced.
async fn update_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path(id): Path<String>,
    params: Params,
) -> WpResult<Response> {
    let id = route_id(&id)?;
    let actor = auth.actor();
    let tz = site_tz(&site).await?;
    let current = site.store.post_by_id(id).await?;
    let current_status = current
        .as_ref()
        .filter(|p| p.post_type == "attachment")
        .map(|p| p.status.as_str());
    let mut v = Validator::new(&params);
    let input = parse_input(&mut v, &params, &tz, current_status);
    v.finish()?;
    let post = load(&site, id).await?;
    if !can_edit(&actor, &post) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_edit",
            "Sorry, you are not allowed to edit this post.",
        ));
    }
    check_input_permissions(
        &site,
        &actor,
        &input,
        "Sorry, you are not allowed to update posts as this user.",
    )
    .await?;
    let post = apply_input(&site, &actor, post, &input).await?;
    if !site.store.update_post(&post).await? {
        return Err(WpError::rest_post_invalid_id());
    }
    write_alt(&site, post.id, input.alt_text.as_ref()).await?;
    tracing::info!(post_id = post.id, "media updated");
    respond(&site, &actor, &post, StatusCode::OK).await
}

/// `DELETE /wp/v2/media/<id>`: attachments do not go to the trash (`MEDIA_TRASH`), so
/// `force=true` is required; the files go with the attachment.
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
    v.finish()?;
    let post = load(&site, id).await?;
    if !actor.can(Cap::DeletePost(post_ref(&post, pt()))) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_delete",
            "Sorry, you are not allowed to delete this post.",
        ));
    }
    if !force {
        return Err(WpError::new(
            StatusCode::NOT_IMPLEMENTED,
            "rest_trash_not_supported",
            "The post does not support trashing. Set 'force=true' to delete.",
        ));
    }
    let tz = site_tz(&site).await?;
    let fm = file_meta(&site, &[post.id]).await?.remove(0).1;
    let mut previous = prepare_item(&site, &post, &fm, Context::Edit, &tz, &PageLoad::new());
    if let Some(o) = previous.as_object_mut() {
        o.remove("_links");
    }
    site.store.delete_post(post.id).await?;
    site.store.clear_featured_media(post.id).await?;
    remove_files(&site, &fm.file, &fm.metadata).await;
    tracing::info!(post_id = post.id, file = %fm.file, "media deleted");
    Ok(json_response(
        StatusCode::OK,
        &json!({ "deleted": true, "previous": super::global_params::previous_item(&params, previous) }),
    ))
}

/// Whether `id` is an image attachment, the only kind `set_post_thumbnail()` accepts.
pub async fn is_image_attachment(site: &Site, id: i64) -> WpResult<bool> {
    Ok(site
        .store
        .post_by_id(id)
        .await?
        .is_some_and(|p| p.post_type == "attachment" && is_image(&p.mime_type)))
}

/// A JSON number (or numeric string) of an edit argument, as `rest_validate_value_from_schema`
/// reads `type: number`.
fn edit_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// The `modifiers` argument: `[{type: rotate, args: {angle}}, {type: crop, args: {left, top,
/// width, height}}]`, at least one.
fn parse_modifiers(v: &mut Validator<'_>, value: &Value) -> Vec<media::ImageEdit> {
    let mut edits = vec![];
    let items = value.as_array().filter(|a| !a.is_empty());
    for item in items.into_iter().flatten() {
        let args = &item["args"];
        let num = |k: &str| args.get(k).and_then(edit_number);
        let edit = match item["type"].as_str() {
            Some("rotate") => num("angle").map(media::ImageEdit::Rotate),
            Some("crop") => match (num("left"), num("top"), num("width"), num("height")) {
                (Some(l), Some(t), Some(w), Some(h)) => Some(media::ImageEdit::Crop(l, t, w, h)),
                _ => None,
            },
            _ => None,
        };
        match edit {
            Some(e) => edits.push(e),
            None => {
                v.invalid(
                    "modifiers",
                    "rest_one_of_no_match",
                    "modifiers[] is not a valid Rotation or Crop.".into(),
                    Value::Null,
                );
                return vec![];
            }
        }
    }
    if items.is_none() {
        v.invalid(
            "modifiers",
            "rest_too_few_items",
            "modifiers must contain at least 1 item.".into(),
            Value::Null,
        );
    }
    edits
}

/// `POST /wp/v2/media/<id>/edit` (`edit_media_item()`): rotates and crops a copy of an image
/// into a new attachment (`…-edited`), on the CPU pool and within `--max-image-pixels`.
async fn edit_media_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path(id): Path<String>,
    params: Params,
) -> WpResult<Response> {
    let id = route_id(&id)?;
    let tz = site_tz(&site).await?;
    let mut v = Validator::new(&params);
    v.require("src");
    let src = v.string("src");
    // The current source gives the new attachment the request's fields
    // (`prepare_item_for_database()`, #64035): title, caption, description, parent, alt text.
    let input = parse_input(&mut v, &params, &tz, None);
    let modifiers = params.get("modifiers").map(|m| parse_modifiers(&mut v, m));
    let rotation = v.integer("rotation");
    if rotation.is_some_and(|r| r <= 0 || r >= 360) {
        v.invalid(
            "rotation",
            "rest_out_of_bounds",
            "rotation must be between 0 (exclusive) and 360 (exclusive)".into(),
            Value::Null,
        );
    }
    let mut crop = [None; 4];
    for (slot, key) in crop.iter_mut().zip(["x", "y", "width", "height"]) {
        if let Some(value) = params.get(key) {
            match edit_number(value) {
                Some(n) if (0.0..=100.0).contains(&n) => *slot = Some(n),
                Some(_) => v.invalid(
                    key,
                    "rest_out_of_bounds",
                    format!("{key} must be between 0 (inclusive) and 100 (inclusive)"),
                    Value::Null,
                ),
                None => v.invalid(
                    key,
                    "rest_invalid_type",
                    format!("{key} is not of type number."),
                    json!({ "param": key }),
                ),
            }
        }
    }
    v.finish()?;

    // edit_media_item_permissions_check(): upload_files, then update_item_permissions_check().
    let actor = auth.actor();
    if !actor.can(Cap::Primitive("upload_files")) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_edit_image",
            "Sorry, you are not allowed to upload media on this site.",
        ));
    }
    let original = load(&site, id).await?;
    if !can_edit(&actor, &original) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_edit",
            "Sorry, you are not allowed to edit this post.",
        ));
    }
    check_input_permissions(
        &site,
        &actor,
        &input,
        "Sorry, you are not allowed to edit this post.",
    )
    .await?;

    let fm = file_meta(&site, &[id]).await?.remove(0).1;
    // `wp_get_original_image_path()` is false for what is not an image.
    if !is_image(&original.mime_type)
        || fm.file.is_empty()
        || !image_file_matches_meta(src.as_deref().unwrap_or(""), &fm)
    {
        return Err(WpError::new(
            StatusCode::NOT_FOUND,
            "rest_unknown_attachment",
            "Unable to get meta information for file.",
        ));
    }
    if !media::is_editable_image(&original.mime_type) {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_cannot_edit_file_type",
            "This type of file cannot be edited.",
        ));
    }
    // `modifiers` wins over the deprecated `rotation` and `x`/`y`/`width`/`height`.
    let edits = match modifiers {
        Some(m) => m,
        None => {
            let mut m = vec![];
            if let Some(r) = rotation {
                m.push(media::ImageEdit::Rotate(r as f64));
            }
            if let [Some(x), Some(y), Some(w), Some(h)] = crop {
                m.push(media::ImageEdit::Crop(x, y, w, h));
            }
            if m.is_empty() {
                return Err(WpError::new(
                    StatusCode::BAD_REQUEST,
                    "rest_image_not_edited",
                    "The image was not edited. Edit the image before applying the changes.",
                ));
            }
            m
        }
    };

    let store = &site.config.media;
    let original_file = store.local_copy(&fm.file).await.map_err(|e| {
        tracing::warn!(error = %e, file = %fm.file, "reading an image to edit failed");
        WpError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "rest_unknown_image_file_type",
            "Unable to edit this image.",
        )
    })?;
    let (src, mime, temp_dir) = (
        original_file.path().to_owned(),
        original.mime_type.clone(),
        store.temp_dir(),
    );
    let budget = site.config.security.max_image_pixels;
    let edited = site
        .cpu
        .run(move || media::edit_image(&src, &mime, budget, &edits, &temp_dir))
        .await?;
    drop(original_file);
    // Removed when the request ends (a local store has moved it into place by then).
    let tmp = media::TempUpload::adopt(edited.map_err(|e| {
        let (code, message) = match e {
            media::EditError::Load => {
                ("rest_unknown_image_file_type", "Unable to edit this image.")
            }
            media::EditError::Rotation => {
                ("rest_image_rotation_failed", "Unable to rotate this image.")
            }
            media::EditError::Crop => ("rest_image_crop_failed", "Unable to crop this image."),
            media::EditError::Save => ("image_save_error", "Image Editor Save Failed"),
        };
        WpError::new(StatusCode::INTERNAL_SERVER_ERROR, code, message)
    })?);

    // The name: `…-edited` once (an edited image's `-edited-2` goes back to `-edited`), in
    // this month's directory, made unique there.
    let name = fm.file.rsplit('/').next().unwrap_or(&fm.file);
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    let stem = edited_stem(stem);
    let subdir = jiff::Timestamp::from_second(now())
        .map(|t| t.to_zoned(tz.clone()).strftime("%Y/%m").to_string())
        .unwrap_or_else(|_| "1970/01".into());
    let placed = store
        .place_unique(&tmp.path, &subdir, &format!("{stem}.{ext}"))
        .await;
    let final_name = match placed {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(error = %e, "placing an edited image failed");
            return Err(WpError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "image_save_error",
                "Image Editor Save Failed",
            ));
        }
    };
    let new_rel = format!("{subdir}/{final_name}");

    let src = store
        .local_path(&new_rel)
        .unwrap_or_else(|| tmp.path.clone());
    let mut metadata = match store
        .generate_metadata(&site.cpu, &src, &new_rel, &original.mime_type, budget)
        .await
    {
        Ok(m) => m,
        Err(e) => {
            remove_files(&site, &new_rel, &json!({})).await;
            return Err(e);
        }
    };
    // `parent_image`: the attachment and file this one was made from.
    if let Some(o) = metadata.as_object_mut() {
        o.insert(
            "parent_image".into(),
            // A string: WordPress stores the route's `$request['id']` as it came.
            json!({ "attachment_id": id.to_string(), "file": fm.file }),
        );
    }
    let now = now();
    // Title, description and caption are the original's (`wp_insert_attachment()`).
    let post = Post {
        id: 0,
        post_type: "attachment".into(),
        status: "inherit".into(),
        author: actor.id,
        title: original.title.clone(),
        content: original.content.clone(),
        excerpt: original.excerpt.clone(),
        slug: String::new(),
        password: String::new(),
        parent: 0,
        menu_order: 0,
        comment_status: "open".into(),
        ping_status: "closed".into(),
        date: now,
        date_floating: false,
        modified: now,
        pre_trash_status: None,
        mime_type: original.mime_type.clone(),
        featured_media: 0,
        format: String::new(),
        // An attachment's guid is its file's URL at upload (`wp_insert_attachment()`).
        guid: uploads_url(&site, &new_rel),
    };
    let mut post = match apply_input(&site, &actor, post, &input).await {
        Ok(p) => p,
        Err(e) => {
            remove_files(&site, &new_rel, &metadata).await;
            return Err(e);
        }
    };
    post.id = site.store.insert_post(&post).await?;
    site.store
        .set_post_meta(
            post.id,
            META_FILE,
            &[Value::String(new_rel.clone()).to_string()],
        )
        .await?;
    site.store
        .set_post_meta(post.id, META_METADATA, &[metadata.to_string()])
        .await?;
    let alt = input
        .alt_text
        .as_ref()
        .or((!fm.alt.is_empty()).then_some(&fm.alt));
    write_alt(&site, post.id, alt).await?;
    tracing::info!(post_id = post.id, parent_image = id, file = %new_rel, "image edited");
    // Unlike create_item(), edit_media_item() answers in the request's context.
    let ctx = match params.get("context").and_then(Value::as_str) {
        Some("edit") => Context::Edit,
        Some("embed") => Context::Embed,
        _ => Context::View,
    };
    respond_in(&site, &actor, &post, StatusCode::CREATED, ctx).await
}

/// `wp_image_file_matches_image_meta()`: `src` (without its query) ends with the file's
/// relative path, or with one of its sub-sizes' in the same directory.
fn image_file_matches_meta(src: &str, fm: &FileMeta) -> bool {
    let src = src.split('?').next().unwrap_or("");
    if fm.file.len() <= 4 {
        return false;
    }
    if src.ends_with(&fm.file) {
        return true;
    }
    let dir = fm
        .file
        .rsplit_once('/')
        .map_or(String::new(), |(d, _)| format!("{d}/"));
    let sizes = fm.metadata["sizes"].as_object();
    let original = fm.metadata["original_image"].as_str();
    original
        .into_iter()
        .chain(
            sizes
                .into_iter()
                .flatten()
                .filter_map(|(_, s)| s["file"].as_str()),
        )
        .any(|f| src.ends_with(&format!("{dir}{f}")))
}

/// `POST /wp/v2/media/<id>/post-process` (`post_process_item()`): `action=create-image-subsizes`
/// makes the sub-sizes an image lacks (`wp_update_image_subsizes()`), within the pixel
/// budget; answers with the attachment in the edit context.
async fn post_process_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    Path(id): Path<String>,
    params: Params,
) -> WpResult<Response> {
    let id = route_id(&id)?;
    let mut v = Validator::new(&params);
    v.require("action");
    v.one_of("action", &["create-image-subsizes"]);
    v.finish()?;
    let actor = auth.actor();
    let post = load(&site, id).await?;
    if !can_edit(&actor, &post) {
        return Err(WpError::auth_required(
            actor.logged_in(),
            "rest_cannot_edit",
            "Sorry, you are not allowed to edit this post.",
        ));
    }
    let fm = file_meta(&site, &[id]).await?.remove(0).1;
    if !fm.file.is_empty() && !missing_sizes(&post, &fm).is_empty() {
        let store = &site.config.media;
        let original = store.local_copy(&fm.file).await.map_err(|e| {
            tracing::warn!(error = %e, file = %fm.file, "reading an image for sub-sizes failed");
            WpError::internal()
        })?;
        let budget = site.config.security.max_image_pixels;
        let mut metadata = store
            .generate_metadata(
                &site.cpu,
                original.path(),
                &fm.file,
                &post.mime_type,
                budget,
            )
            .await?;
        // What the new metadata does not know (an edited image's `parent_image`) is kept.
        if let (Some(new), Some(old)) = (metadata.as_object_mut(), fm.metadata.as_object()) {
            for (k, v) in old {
                new.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        site.store
            .set_post_meta(id, META_METADATA, &[metadata.to_string()])
            .await?;
        tracing::info!(post_id = id, "image sub-sizes made");
    }
    respond_in(&site, &actor, &post, StatusCode::OK, Context::Edit).await
}

/// The stem of an edited image's file: `-edited` appended once (`-edited-2` → `-edited`).
fn edited_stem(stem: &str) -> String {
    static EDITED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"-edited(-\d+)?$").unwrap_or_else(|_| unreachable!())
    });
    if EDITED.is_match(stem) {
        EDITED.replace(stem, "-edited").into_owned()
    } else {
        format!("{stem}-edited")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_filenames() {
        let mut h = HeaderMap::new();
        h.append(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"a b.png\""),
        );
        assert_eq!(filename_from_disposition(&h).as_deref(), Some("a b.png"));
        let mut h = HeaderMap::new();
        h.append(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("inline;filename = my foo picture.jpg"),
        );
        assert_eq!(
            filename_from_disposition(&h).as_deref(),
            Some("my foo picture.jpg")
        );
        let mut h = HeaderMap::new();
        h.append(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment"),
        );
        assert_eq!(filename_from_disposition(&h), None);
    }
}
