//! The `[gallery]` shortcode of WordPress 6.1 (`media.php`: `gallery_shortcode()`,
//! `wp_get_attachment_image()`, `image_downsize()`; `post-template.php`:
//! `wp_get_attachment_link()`) for a theme with HTML5 galleries (block themes have them:
//! `<figure>` items, no default `<style>`).
//!
//! The attachments are read before rendering, for every gallery of the answer at once
//! ([`GalleryRequests`]); here they are only filtered and ordered as `get_posts()` would.

use serde_json::Value;

use super::media::{Atts, Shown, att, empty};
use crate::kses::{esc_attr, esc_html};
use crate::users::esc_url;

/// An attachment a gallery (an `image/*` file) or a playlist (`audio/*`, `video/*`) may
/// show (`post_status = 'inherit'`).
#[derive(Debug, Clone, Default)]
pub struct GalleryImage {
    pub id: u64,
    pub parent: u64,
    pub author: i64,
    pub title: String,
    /// `post_excerpt`: the caption.
    pub caption: String,
    pub slug: String,
    pub menu_order: i64,
    pub date: i64,
    pub modified: i64,
    /// `wp_get_attachment_url()`, `None` without a file.
    pub url: Option<String>,
    /// `get_attachment_link()`.
    pub link: String,
    /// `_wp_attachment_image_alt`.
    pub alt: String,
    /// `_wp_attachment_metadata`.
    pub metadata: Value,
    /// `post_mime_type`.
    pub mime_type: String,
    /// `post_content`: the description.
    pub description: String,
}

/// At most this many ids of one text's galleries are looked up (a bound on the work one
/// answer can cause); further ids are shown as WordPress shows ids of no image: not at all.
pub const MAX_GALLERY_IDS: usize = 200;

/// At most this many gallery images are rendered per page load (request); galleries past
/// them render nothing.
pub const MAX_GALLERY_IMAGES_SHOWN: usize = 1000;

/// What the galleries of some texts ask for: the attachments they name (`ids`, `include`)
/// and the posts whose attached images they show.
#[derive(Debug, Default)]
pub struct GalleryRequests {
    pub ids: Vec<u64>,
    pub parents: Vec<u64>,
}

impl GalleryRequests {
    /// Adds what the `[gallery]` shortcodes of `text`, shown as post `post_id`, need.
    pub fn add(&mut self, text: &str, post_id: u64) {
        self.add_shortcode("[gallery", text, post_id);
    }

    /// Adds what the shortcodes opened by `opening` (`[gallery`, `[playlist`: both name
    /// attachments by `ids`/`include`, or by the post `id` they are attached to) need.
    pub fn add_shortcode(&mut self, opening: &str, text: &str, post_id: u64) {
        let mut rest = text;
        while let Some(p) = rest.find(opening) {
            rest = &rest[p + opening.len()..];
            if rest
                .bytes()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
            {
                continue;
            }
            // The attributes end at the first `]` (`get_shortcode_regex()`); without one
            // no later gallery has one either.
            let Some(end) = rest.find(']') else { break };
            let attrs = super::shortcodes::shortcode_parse_atts(&rest[..end]);
            rest = &rest[end..];
            let include = match att(&attrs, "ids").filter(|v| !empty(v)) {
                Some(ids) => Some(ids),
                None => att(&attrs, "include").filter(|v| !empty(v)),
            };
            match include {
                Some(list) => {
                    for id in wp_parse_id_list(list) {
                        if self.ids.len() >= MAX_GALLERY_IDS {
                            break;
                        }
                        if id > 0 && !self.ids.contains(&id) {
                            self.ids.push(id);
                        }
                    }
                }
                None => {
                    let parent = att(&attrs, "id")
                        .map_or(post_id, |v| super::shortcodes::php_int(v).max(0) as u64);
                    if parent > 0
                        && !self.parents.contains(&parent)
                        && self.parents.len() < MAX_GALLERY_IDS
                    {
                        self.parents.push(parent);
                    }
                }
            }
        }
    }
}

/// `wp_parse_id_list()`: split on white space and commas, `absint()`, unique.
fn wp_parse_id_list(list: &str) -> Vec<u64> {
    let mut seen = std::collections::HashSet::new();
    list.split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|part| !part.is_empty())
        .map(|part| super::shortcodes::php_int(part).unsigned_abs())
        .filter(|id| seen.insert(*id))
        .collect()
}

/// One key of `WP_Query::parse_orderby()` as a gallery can use it.
#[derive(Clone, Copy, PartialEq)]
enum OrderKey {
    Name,
    Author,
    Date,
    Title,
    Modified,
    Parent,
    /// `post_type` and `comment_count`: equal for all images here.
    Same,
    Id,
    MenuOrder,
    Rand,
    PostIn,
}

/// `WP_Query`'s string `orderby`: space-separated keys, unknown ones skipped, none left
/// meaning `post_date`.
fn parse_orderby(orderby: &str, has_include: bool) -> Vec<OrderKey> {
    let mut keys = vec![];
    for key in orderby.split(' ') {
        let k = match key {
            "post_name" | "name" => OrderKey::Name,
            "post_author" | "author" => OrderKey::Author,
            "post_date" | "date" => OrderKey::Date,
            "post_title" | "title" => OrderKey::Title,
            "post_modified" | "modified" => OrderKey::Modified,
            "post_parent" | "parent" => OrderKey::Parent,
            "post_type" | "type" | "comment_count" => OrderKey::Same,
            "ID" => OrderKey::Id,
            "menu_order" => OrderKey::MenuOrder,
            "rand" => OrderKey::Rand,
            "post__in" if has_include => OrderKey::PostIn,
            k if is_seeded_rand(k) => OrderKey::Rand,
            _ => continue,
        };
        // A key already given decides nothing more.
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    if keys.is_empty() {
        keys.push(OrderKey::Date);
    }
    keys
}

/// `preg_match( '/RAND\(([0-9]+)\)/i', … )`.
fn is_seeded_rand(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    lower.match_indices("rand(").any(|(p, _)| {
        let digits = lower[p + 5..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        digits > 0 && lower.as_bytes().get(p + 5 + digits) == Some(&b')')
    })
}

/// The attachments of one gallery, as `get_posts()`/`get_children()` return them.
fn attachments<'a>(
    images: &'a [GalleryImage],
    include: Option<&[u64]>,
    parent: u64,
    exclude: &[u64],
    orderby: &str,
    order: &str,
) -> Vec<&'a GalleryImage> {
    let mut found: Vec<&GalleryImage> = match include {
        Some(ids) => {
            let ids: std::collections::HashSet<&u64> = ids.iter().collect();
            images.iter().filter(|i| ids.contains(&i.id)).collect()
        }
        None => images
            .iter()
            .filter(|i| i.parent == parent && !exclude.contains(&i.id))
            .collect(),
    };
    // `parse_order()`: anything but `asc` (any case) descends.
    let ascending = order.eq_ignore_ascii_case("asc");
    if orderby == "none" {
        found.sort_by_key(|i| i.id);
        return found;
    }
    let keys = parse_orderby(orderby, include.is_some());
    if keys.contains(&OrderKey::Rand) {
        use rand::seq::SliceRandom;
        found.shuffle(&mut rand::rng());
        return found;
    }
    let positions: std::collections::HashMap<u64, usize> = include
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .map(|(p, id)| (*id, p))
        .collect();
    let position = |id: u64| positions.get(&id).copied();
    let folded: std::collections::HashMap<u64, String> = if keys.contains(&OrderKey::Title) {
        found
            .iter()
            .map(|i| (i.id, crate::search::fold(&i.title)))
            .collect()
    } else {
        std::collections::HashMap::new()
    };
    found.sort_by(|a, b| {
        let mut ord = std::cmp::Ordering::Equal;
        for key in &keys {
            let o = match key {
                OrderKey::Name => a.slug.cmp(&b.slug),
                OrderKey::Author => a.author.cmp(&b.author),
                OrderKey::Date => a.date.cmp(&b.date),
                OrderKey::Title => folded.get(&a.id).cmp(&folded.get(&b.id)),
                OrderKey::Modified => a.modified.cmp(&b.modified),
                OrderKey::Parent => a.parent.cmp(&b.parent),
                OrderKey::Id => a.id.cmp(&b.id),
                OrderKey::MenuOrder => a.menu_order.cmp(&b.menu_order),
                OrderKey::PostIn => position(a.id).cmp(&position(b.id)),
                OrderKey::Same | OrderKey::Rand => std::cmp::Ordering::Equal,
            };
            ord = if ascending { o } else { o.reverse() };
            if ord.is_ne() {
                break;
            }
        }
        // MySQL's order of ties: the primary key's.
        ord.then(a.id.cmp(&b.id))
    });
    found
}

/// The attachments a `[gallery]` or `[playlist]` asks for, as both read their attributes:
/// `ids` (ordered as given unless `orderby` says otherwise) or `include`, else the files
/// attached to the post `id` (the one shown by default).
pub(super) struct Selection {
    pub include: String,
    pub orderby: String,
    pub order: String,
    /// `(int) $atts['id']`.
    pub id: i64,
    /// The post whose attachments are listed when nothing is included.
    pub parent: u64,
}

impl Selection {
    pub(super) fn of(attrs: &Atts, shown: Shown) -> Self {
        let get = |k: &str, default: &str| att(attrs, k).unwrap_or(default).to_owned();
        let ids = att(attrs, "ids").filter(|v| !empty(v));
        let mut orderby = get("orderby", "menu_order ID");
        if ids.is_some() && att(attrs, "orderby").is_none_or(empty) {
            orderby = "post__in".into();
        }
        let id = att(attrs, "id").map_or(shown.post_id as i64, super::shortcodes::php_int);
        Self {
            include: ids.map_or_else(|| get("include", ""), str::to_owned),
            orderby,
            order: get("order", "ASC"),
            id,
            parent: id.max(0) as u64,
        }
    }

    /// The attachments among `media` selected and ordered as `get_posts()` /
    /// `get_children()` would (`exclude` applies to a post's attachments only).
    pub(super) fn pick<'a>(
        &self,
        media: &'a [GalleryImage],
        exclude: &str,
    ) -> Vec<&'a GalleryImage> {
        if empty(&self.include) {
            let exclude = wp_parse_id_list(exclude);
            attachments(
                media,
                None,
                self.parent,
                &exclude,
                &self.orderby,
                &self.order,
            )
        } else {
            let ids = wp_parse_id_list(&self.include);
            attachments(
                media,
                Some(&ids),
                self.parent,
                &[],
                &self.orderby,
                &self.order,
            )
        }
    }
}

/// `gallery_shortcode()` for a theme with HTML5 galleries.
pub fn gallery_shortcode(attrs: &Atts, shown: Shown) -> String {
    let instance = super::media::PageLoad::next(&shown.page.gallery);
    let get = |k: &str, default: &str| att(attrs, k).unwrap_or(default).to_owned();
    let selection = Selection::of(attrs, shown);
    let (id, parent) = (selection.id, selection.parent);
    let images = shown.attached.gallery_images();
    if shown
        .page
        .gallery_images
        .load(std::sync::atomic::Ordering::Relaxed) as usize
        >= MAX_GALLERY_IMAGES_SHOWN
    {
        return String::new();
    }
    // `post_password_required()` / `is_post_publicly_viewable()` of another post than the
    // one shown: only its images when it is public.
    if empty(&selection.include)
        && parent != shown.post_id
        && !shown.attached.is_public_post(parent)
    {
        return String::new();
    }
    let list = selection.pick(images, &get("exclude", ""));
    // Each image is hundreds of bytes of markup: past a bound per page load, galleries are
    // left out rather than let a short text grow without limit (docs/compat.md).
    let shown_so_far = shown.page.gallery_images.fetch_add(
        u32::try_from(list.len()).unwrap_or(u32::MAX),
        std::sync::atomic::Ordering::Relaxed,
    );
    if list.is_empty() || shown_so_far as usize + list.len() > MAX_GALLERY_IMAGES_SHOWN {
        return String::new();
    }
    let tag = |k: &str, html5: &str, fallback: &str| {
        let t: String = get(k, html5)
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
            .collect::<String>()
            .to_ascii_lowercase();
        if crate::kses::is_post_tag(&t) {
            t
        } else {
            fallback.to_owned()
        }
    };
    let itemtag = tag("itemtag", "figure", "dl");
    let captiontag = tag("captiontag", "figcaption", "dd");
    let icontag = tag("icontag", "div", "dt");
    let columns = att(attrs, "columns").map_or(3, super::shortcodes::php_int);
    let size = get("size", "thumbnail");
    let link = get("link", "");
    let selector = format!("gallery-{instance}");
    let mut output = format!(
        "<div id='{selector}' class='gallery galleryid-{id} gallery-columns-{columns} gallery-size-{}'>",
        super::shortcodes::sanitize_html_class(&size)
    );
    for image in list {
        let caption = super::php_trim(&image.caption);
        let describedby = (!caption.is_empty()).then(|| format!("{selector}-{}", image.id));
        let describedby = describedby.as_deref();
        let image_output = match link.as_str() {
            "file" => wp_get_attachment_link(image, &size, false, describedby, shown),
            "none" => wp_get_attachment_image(image, &size, describedby, shown),
            _ => wp_get_attachment_link(image, &size, true, describedby, shown),
        };
        let orientation = match (
            dim(&image.metadata, "width"),
            dim(&image.metadata, "height"),
        ) {
            (Some(w), Some(h)) if h > w => "portrait",
            (Some(_), Some(_)) => "landscape",
            _ => "",
        };
        output.push_str(&format!(
            "<{itemtag} class='gallery-item'>\n\t\t\t<{icontag} class='gallery-icon {orientation}'>\n\t\t\t\t{image_output}\n\t\t\t</{icontag}>"
        ));
        if !caption.is_empty() {
            output.push_str(&format!(
                "\n\t\t\t\t<{captiontag} class='wp-caption-text gallery-caption' id='{selector}-{}'>\n\t\t\t\t{}\n\t\t\t\t</{captiontag}>",
                image.id,
                super::wptexturize(&image.caption)
            ));
        }
        output.push_str(&format!("</{itemtag}>"));
    }
    output.push_str("\n\t\t</div>\n");
    output
}

/// A metadata dimension (`isset()` of a number).
fn dim(meta: &Value, key: &str) -> Option<i64> {
    meta.get(key).and_then(|v| {
        v.as_i64()
            .or_else(|| v.as_str().map(super::shortcodes::php_int))
    })
}

/// `wp_get_attachment_link( $id, $size, $permalink, false, false, $attr )`.
pub(super) fn wp_get_attachment_link(
    image: &GalleryImage,
    size: &str,
    permalink: bool,
    describedby: Option<&str>,
    shown: Shown,
) -> String {
    let Some(file_url) = image.url.as_deref().filter(|u| !u.is_empty()) else {
        return "Missing Attachment".into();
    };
    let url = if permalink { &image.link } else { file_url };
    let mut text = if !empty(size) && size != "none" {
        wp_get_attachment_image(image, size, describedby, shown)
    } else {
        String::new()
    };
    if super::php_trim(&text).is_empty() {
        text.clone_from(&image.title);
    }
    if super::php_trim(&text).is_empty() {
        // `pathinfo( get_attached_file(), PATHINFO_FILENAME )`.
        let base = file_url.rsplit('/').next().unwrap_or(file_url);
        let stem = base.rsplit_once('.').map_or(base, |(s, _)| s);
        text = esc_html(stem);
    }
    format!("<a href='{}'>{text}</a>", esc_url(url))
}

/// `wp_get_attachment_image( $id, $size, false, $attr )` outside the loop.
fn wp_get_attachment_image(
    image: &GalleryImage,
    size: &str,
    describedby: Option<&str>,
    shown: Shown,
) -> String {
    let Some((src, width, height)) = image_downsize(image, size) else {
        return String::new();
    };
    let mut hw = String::new();
    if width != 0 {
        hw.push_str(&format!("width=\"{width}\" "));
    }
    if height != 0 {
        hw.push_str(&format!("height=\"{height}\" "));
    }
    let alt = super::strip_tags(&image.alt);
    let mut attrs: Vec<(&str, String)> = vec![
        ("src", src.clone()),
        ("class", format!("attachment-{size} size-{size}")),
        ("alt", super::php_trim(&alt).to_owned()),
        ("decoding", "async".into()),
        ("loading", "lazy".into()),
    ];
    if let Some(d) = describedby {
        attrs.push(("aria-describedby", d.to_owned()));
    }
    if image.metadata.is_object()
        && let Some((srcset, sizes)) =
            shown
                .attached
                .image_srcset(image, &src, (width.unsigned_abs(), height.unsigned_abs()))
    {
        attrs.push(("srcset", srcset));
        attrs.push(("sizes", sizes));
    }
    let mut html = format!("<img {hw}").trim_end().to_owned();
    for (name, value) in attrs {
        html.push_str(&format!(" {name}=\"{}\"", esc_attr(&value)));
    }
    html.push_str(" />");
    html
}

/// `image_downsize()` of an image: the sub-size's file when the metadata has `size`, else
/// the original's dimensions, constrained as `image_constrain_size_for_editor()` does.
fn image_downsize(image: &GalleryImage, size: &str) -> Option<(String, i64, i64)> {
    // `wp_attachment_is_image()`: other files have no image (no `sizes.full` here).
    if !image.mime_type.starts_with("image/") {
        return None;
    }
    let mut url = image.url.clone().filter(|u| !u.is_empty())?;
    let meta = &image.metadata;
    let (mut width, mut height) = (0, 0);
    let sub = (!empty(size))
        .then(|| meta.get("sizes").and_then(|s| s.get(size)))
        .flatten()
        .filter(|s| s.as_object().is_some_and(|o| !o.is_empty()));
    if let Some(sub) = sub {
        let basename = url.rsplit('/').next().unwrap_or("").to_owned();
        let file = sub.get("file").and_then(Value::as_str).unwrap_or("");
        if !basename.is_empty() {
            url = url.replace(&basename, file);
        }
        width = dim(sub, "width").unwrap_or(0);
        height = dim(sub, "height").unwrap_or(0);
    }
    if width == 0
        && height == 0
        && let (Some(w), Some(h)) = (dim(meta, "width"), dim(meta, "height"))
    {
        width = w;
        height = h;
    }
    let (max_w, max_h) = match size {
        "thumb" | "thumbnail" => (150, 150),
        "medium" => (300, 300),
        "medium_large" => (768, 0),
        "large" => (1024, 1024),
        "1536x1536" => (1536, 1536),
        "2048x2048" => (2048, 2048),
        _ => (width, height),
    };
    let (w, h) = wp_constrain_dimensions(width, height, max_w, max_h);
    Some((url, w, h))
}

/// `wp_constrain_dimensions()`.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
fn wp_constrain_dimensions(w: i64, h: i64, max_w: i64, max_h: i64) -> (i64, i64) {
    if max_w == 0 && max_h == 0 {
        return (w, h);
    }
    let (mut wr, mut hr) = (1.0_f64, 1.0_f64);
    let (mut did_w, mut did_h) = (false, false);
    if max_w > 0 && w > 0 && w > max_w {
        wr = max_w as f64 / w as f64;
        did_w = true;
    }
    if max_h > 0 && h > 0 && h > max_h {
        hr = max_h as f64 / h as f64;
        did_h = true;
    }
    let smaller = wr.min(hr);
    let larger = wr.max(hr);
    let ratio = if (w as f64 * larger).round() as i64 > max_w
        || (h as f64 * larger).round() as i64 > max_h
    {
        smaller
    } else {
        larger
    };
    let mut nw = ((w as f64 * ratio).round() as i64).max(1);
    let mut nh = ((h as f64 * ratio).round() as i64).max(1);
    if did_w && nw == max_w - 1 {
        nw = max_w;
    }
    if did_h && nh == max_h - 1 {
        nh = max_h;
    }
    (nw, nh)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_lists_and_constraints_as_wordpress() {
        assert_eq!(
            wp_parse_id_list("3, 1 onmouseover=x,,3 -2"),
            vec![3, 1, 0, 2]
        );
        assert_eq!(wp_constrain_dimensions(400, 300, 150, 150), (150, 113));
        assert_eq!(wp_constrain_dimensions(200, 400, 768, 0), (200, 400));
        assert_eq!(wp_constrain_dimensions(150, 150, 150, 150), (150, 150));
        assert!(is_seeded_rand("RAND(5)"));
        assert!(!is_seeded_rand("rand()"));
    }

    #[test]
    fn requests_collect_ids_and_parents() {
        let mut r = GalleryRequests::default();
        r.add(
            "[gallery] [gallery ids=\"4,5\"] [gallery id=9 exclude=1] [galleryx ids=7]",
            2,
        );
        assert_eq!(r.ids, vec![4, 5]);
        assert_eq!(r.parents, vec![2, 9]);
    }
}
