//! `wp_filter_content_tags()` of WordPress 6.1 (`media.php`): `decoding="async"` and
//! `loading="lazy"` on images, `loading="lazy"` on iframes, and for images of the media
//! library (`wp-image-N`) `width`/`height` and `srcset`/`sizes`, through
//! [`ContentImages`]. One pass over the tags the pattern finds.

use std::sync::LazyLock;

use regex::bytes::Regex;

static TAG: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(r"(?-u)<(img|iframe)\s[^>]+>").expect("static regular expression")
});

/// What `wp_filter_content_tags()` reads of an attachment: what `wp_img_tag_add_width_and_height_attr()`
/// and `wp_image_add_srcset_and_sizes()` need, already decided for one `<img>` tag.
pub trait ContentImages {
    /// `width`/`height` (`image_hwstring()` trimmed) for an image of attachment `id` shown
    /// from `src`, when WordPress knows them.
    fn width_height(&self, id: u64, src: &str) -> Option<(u32, u32)>;
    /// The ` srcset="…" sizes="…"` attributes for an image of attachment `id` shown from
    /// `src` at `size`.
    fn srcset_sizes(&self, id: u64, src: &str, size: (u32, u32), has_sizes: bool)
    -> Option<String>;
}

/// No media library: only `decoding` and `loading`.
pub struct NoImages;

impl ContentImages for NoImages {
    fn width_height(&self, _: u64, _: &str) -> Option<(u32, u32)> {
        None
    }
    fn srcset_sizes(&self, _: u64, _: &str, _: (u32, u32), _: bool) -> Option<String> {
        None
    }
}

/// `preg_match( '/wp-image-([0-9]+)/i', $tag )` → `absint()`.
fn attachment_id(tag: &str) -> u64 {
    let lower = tag.to_ascii_lowercase();
    let Some(p) = lower.find("wp-image-") else {
        return 0;
    };
    let digits: String = lower[p + 9..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or(if digits.is_empty() { 0 } else { u64::MAX })
}

/// `preg_match( '/src="([^"]+)"/', … )` then `explode( '?', … )[0]`.
fn image_src(tag: &str) -> Option<&str> {
    let mut rest = tag;
    while let Some(p) = rest.find("src=\"") {
        let after = &rest[p + 5..];
        match after.find('"') {
            Some(0) => rest = after,
            Some(q) => return after[..q].split('?').next().filter(|s| !s.is_empty()),
            None => return None,
        }
    }
    None
}

/// `preg_match( '/ width="([0-9]+)"/', … )` as an integer.
fn dimension(tag: &str, attr: &str) -> u32 {
    let needle = format!(" {attr}=\"");
    let mut rest = tag;
    while let Some(p) = rest.find(&needle) {
        let after = &rest[p + needle.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with('"') {
            return after[..digits].parse().unwrap_or(u32::MAX);
        }
        rest = after;
    }
    0
}

fn filter_image(tag: &str, id: u64, images: &dyn ContentImages) -> String {
    let mut image = tag.to_owned();
    if id > 0
        && !image.contains(" width=")
        && !image.contains(" height=")
        && let Some((w, h)) = image_src(&image).and_then(|src| images.width_height(id, src))
    {
        image = image.replace("<img", &format!("<img width=\"{w}\" height=\"{h}\""));
    }
    if id > 0
        && !image.contains(" srcset=")
        && let Some(src) = image_src(&image).map(str::to_owned)
    {
        let (w, h) = (dimension(&image, "width"), dimension(&image, "height"));
        let size = if w > 0 && h > 0 {
            Some((w, h))
        } else {
            images.width_height(id, &src)
        };
        if let Some(attrs) =
            size.and_then(|size| images.srcset_sizes(id, &src, size, image.contains(" sizes=")))
        {
            // `preg_replace( '/<img ([^>]+?)[\/ ]*>/', '<img $1' . $attr . ' />', … )`
            if let Some(inner) = image
                .strip_prefix("<img ")
                .and_then(|r| r.strip_suffix('>'))
            {
                let inner = inner.trim_end_matches(['/', ' ']);
                if !inner.is_empty() {
                    image = format!("<img {inner}{attrs} />");
                }
            }
        }
    }
    if !image.contains(" loading=")
        && image.contains(" src=\"")
        && image.contains(" width=\"")
        && image.contains(" height=\"")
    {
        image = image.replace("<img", "<img loading=\"lazy\"");
    }
    if !image.contains(" decoding=") && image.contains(" src=\"") {
        image = image.replace("<img ", "<img decoding=\"async\" ");
    }
    image
}

fn filter_iframe(tag: &str) -> String {
    if tag.contains(" loading=")
        || tag.contains(" data-secret=\"")
        || !(tag.contains(" src=\"") && tag.contains(" width=\"") && tag.contains(" height=\""))
    {
        return tag.to_owned();
    }
    tag.replace("<iframe", "<iframe loading=\"lazy\"")
}

/// `wp_filter_content_tags( $content, 'the_content' | 'the_excerpt' )` outside the loop
/// (as in REST requests): every eligible image and iframe is lazy-loaded.
pub fn wp_filter_content_tags(content: &str, images: &dyn ContentImages) -> String {
    if !content.contains("<img") && !content.contains("<iframe") {
        return content.to_owned();
    }
    let b = content.as_bytes();
    let mut out = String::with_capacity(content.len() + 64);
    let mut last = 0;
    for m in TAG.find_iter(b) {
        let tag = &content[m.start()..m.end()];
        let filtered = if tag.starts_with("<img") {
            filter_image(tag, attachment_id(tag), images)
        } else {
            filter_iframe(tag)
        };
        out.push_str(&content[last..m.start()]);
        out.push_str(&filtered);
        last = m.end();
    }
    out.push_str(&content[last..]);
    out
}
