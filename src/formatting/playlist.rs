//! The `[playlist]` shortcode of WordPress 6.1 (`media.php`: `wp_playlist_shortcode()`,
//! with `wp_playlist_scripts()` hooked to `wp_playlist_scripts` as a default install does)
//! for a theme without `$content_width` (block themes have none): a MediaElement playlist
//! whose tracks are in a `wp-playlist-script` JSON block, as REST's `content.rendered`
//! carries it (the underscore templates go to a theme page's footer, not into the content).
//!
//! The audio and video attachments are read before rendering, for every playlist of the
//! answer at once (the requests of [`super::GalleryRequests`] made for `[playlist`); here
//! they are only filtered and ordered as `get_posts()`/`get_children()` would.

use serde_json::{Map, Value, json};

use super::GalleryImage;
use super::gallery::{Selection, wp_get_attachment_link};
use super::media::{Atts, PageLoad, Shown, att, check_filetype, empty, validate_boolean};
use crate::kses::esc_attr;

/// `$outer`, `$default_width`, `$default_height` without `$content_width`: the player's
/// width and the default height of videos.
const THEME_WIDTH: i64 = 640;
const DEFAULT_HEIGHT: i64 = 360;

/// `wp_get_attachment_id3_keys( $attachment, 'display' )`: the metadata a track shows.
const ID3_DISPLAY_KEYS: &[&str] = &["artist", "album", "genre", "year", "length_formatted"];

/// PHP's `empty()` of a metadata value.
fn php_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => empty(s),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// A metadata number as PHP's arithmetic reads it (numbers, numeric strings).
fn php_number(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::String(s) => super::shortcodes::php_int(s) as f64,
        Value::Bool(true) => 1.0,
        _ => 0.0,
    }
}

/// `wp_playlist_shortcode()`. `site_url` is the site's address (`includes_url()`'s base).
pub fn wp_playlist_shortcode(attrs: &Atts, shown: Shown, site_url: &str) -> String {
    let instance = PageLoad::next(&shown.page.playlist);
    let kind = if att(attrs, "type").unwrap_or("audio") == "audio" {
        "audio"
    } else {
        "video"
    };
    let selection = Selection::of(attrs, shown);
    // `current_user_can( 'read_post' )` and `post_password_required()` of the post whose
    // files are listed: `read` (anonymous readers have no playlist of attached files), and
    // another post's only when it is public.
    if empty(&selection.include)
        && (!shown.attached.reader_can_read()
            || (selection.parent != shown.post_id
                && !shown.attached.is_public_post(selection.parent)))
    {
        return String::new();
    }
    let list = selection.pick(
        shown.attached.playlist_media(),
        att(attrs, "exclude").unwrap_or(""),
    );
    // `'post_mime_type' => $atts['type']`.
    let prefix = format!("{kind}/");
    let list: Vec<&GalleryImage> = list
        .into_iter()
        .filter(|m| m.mime_type.starts_with(&prefix))
        .collect();
    // Each track is hundreds of bytes: past a bound per page load, playlists are left out
    // rather than let a short text grow without limit (docs/compat.md).
    let shown_so_far = shown.page.playlist_tracks.fetch_add(
        u32::try_from(list.len()).unwrap_or(u32::MAX),
        std::sync::atomic::Ordering::Relaxed,
    );
    if list.is_empty()
        || shown_so_far as usize + list.len() > super::gallery::MAX_GALLERY_IMAGES_SHOWN
    {
        return String::new();
    }
    let mut theme_height = DEFAULT_HEIGHT;
    // `if ( $atts['images'] )`: PHP truthiness of the attribute as written.
    let images = att(attrs, "images").is_none_or(|v| !empty(v));
    let flag = |k: &str| att(attrs, k).is_none_or(validate_boolean);
    let mut tracks = vec![];
    for item in &list {
        let url = item.url.as_deref();
        let mut track = Map::new();
        track.insert("src".into(), url.map_or(Value::Bool(false), |u| json!(u)));
        track.insert(
            "type".into(),
            url.and_then(check_filetype)
                .map_or(Value::Bool(false), |(_, m)| json!(m)),
        );
        track.insert("title".into(), json!(item.title));
        track.insert("caption".into(), json!(item.caption));
        track.insert("description".into(), json!(item.description));
        let meta = &item.metadata;
        let mut shown_meta = Map::new();
        let mut dimensions = None;
        if !php_empty(meta) {
            for key in ID3_DISPLAY_KEYS {
                if let Some(v) = meta.get(*key).filter(|v| !php_empty(v)) {
                    shown_meta.insert((*key).into(), v.clone());
                }
            }
            if kind == "video" {
                let (w, h) = (meta.get("width"), meta.get("height"));
                let original = match (w, h) {
                    (Some(w), Some(h)) if !php_empty(w) && !php_empty(h) => {
                        let ratio = php_number(h) * THEME_WIDTH as f64 / php_number(w);
                        theme_height = if ratio.is_finite() {
                            ratio.round() as i64
                        } else {
                            0
                        };
                        json!({ "width": w, "height": h })
                    }
                    _ => json!({ "width": THEME_WIDTH, "height": DEFAULT_HEIGHT }),
                };
                dimensions = Some(json!({
                    "original": original,
                    "resized": { "width": THEME_WIDTH, "height": theme_height },
                }));
            }
        }
        // An empty PHP array is encoded as a list.
        track.insert(
            "meta".into(),
            if shown_meta.is_empty() {
                json!([])
            } else {
                Value::Object(shown_meta)
            },
        );
        if let Some(d) = dimensions {
            track.insert("dimensions".into(), d);
        }
        if images {
            // `wp_mime_type_icon()`: no cover image is kept for a file (docs/compat.md).
            let icon = json!({
                "src": format!("{site_url}/wp-includes/images/media/{kind}.png"),
                "width": 48,
                "height": 64,
            });
            track.insert("image".into(), icon.clone());
            track.insert("thumb".into(), icon);
        }
        tracks.push(Value::Object(track));
    }
    let data = json!({
        "type": kind,
        "tracklist": flag("tracklist"),
        "tracknumbers": flag("tracknumbers"),
        "images": flag("images"),
        "artists": flag("artists"),
        "tracks": tracks,
    });
    let style = esc_attr(att(attrs, "style").unwrap_or("light"));
    let mut out = String::new();
    if instance == 1 {
        // `wp_playlist_scripts()`.
        out.push_str(&format!(
            "<!--[if lt IE 9]><script>document.createElement('{kind}');</script><![endif]-->\n\t"
        ));
    }
    out.push_str(&format!(
        "<div class=\"wp-playlist wp-{kind}-playlist wp-playlist-{style}\">\n\t"
    ));
    if kind == "audio" {
        out.push_str("\t\t<div class=\"wp-playlist-current-item\"></div>\n\t");
    }
    out.push_str(&format!(
        "\t<{kind} controls=\"controls\" preload=\"none\" width=\"{THEME_WIDTH}\"\n\t\t"
    ));
    if kind == "video" {
        out.push_str(&format!(" height=\"{theme_height}\""));
    }
    out.push_str(&format!(
        "\t></{kind}>\n\t<div class=\"wp-playlist-next\"></div>\n\t<div class=\"wp-playlist-prev\"></div>\n\t<noscript>\n\t<ol>\n\t\t"
    ));
    for item in &list {
        out.push_str("<li>");
        out.push_str(&wp_get_attachment_link(
            item,
            "thumbnail",
            false,
            None,
            shown,
        ));
        out.push_str("</li>");
    }
    out.push_str(
        "\t</ol>\n\t</noscript>\n\t<script type=\"application/json\" class=\"wp-playlist-script\">",
    );
    out.push_str(&wp_json_encode(&data));
    out.push_str("</script>\n</div>\n\t");
    out
}

/// `wp_json_encode()` with PHP's default flags: `/` escaped, non-ASCII as `\uXXXX`
/// (UTF-16), integral floats without a fraction as the oracle prints them.
pub(super) fn wp_json_encode(v: &Value) -> String {
    let mut out = String::new();
    encode_into(&mut out, v);
    out
}

fn encode_into(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => {
                out.push_str(&(f as i64).to_string());
            }
            _ => out.push_str(&n.to_string()),
        },
        Value::String(s) => encode_str(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                encode_into(out, item);
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, item)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                encode_str(out, k);
                out.push(':');
                encode_into(out, item);
            }
            out.push('}');
        }
    }
}

fn encode_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7f => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_as_php_encodes_it() {
        let v = json!({"a/b": "é \"q\" </script> \u{1F600}\n", "n": [1, 2.5, 480.0, false]});
        assert_eq!(
            wp_json_encode(&v),
            r#"{"a\/b":"\u00e9 \"q\" <\/script> \ud83d\ude00\n","n":[1,2.5,480,false]}"#
        );
    }
}
