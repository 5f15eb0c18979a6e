//! `[embed]` and auto-embeds of WordPress 6.1 (`class-wp-embed.php`, `embed.php`), with the
//! embed handlers a default install registers: `youtube_embed_url`, then audio and video
//! file URLs (which become `[audio]`/`[video]` shortcodes, rendered later by
//! `do_shortcode()`). Anything else would go to oEmbed; ferropress fetches nothing, so it
//! answers as WordPress does when the fetch fails: `[embed]` makes a link, an auto-embed
//! leaves the URL as it was. URLs of the site's own posts are not embedded
//! (docs/compat.md).

use super::scan::is_pcre_space;
use crate::kses::esc_html;
use crate::users::esc_url;

/// `WP_Embed::shortcode()` of `url` (the enclosed text, else the `src` attribute).
pub(super) fn shortcode(attrs: &[(Option<String>, String)], url: &str) -> String {
    let att = |k: &str| {
        attrs
            .iter()
            .find(|(n, _)| n.as_deref() == Some(k))
            .map(|(_, v)| v.as_str())
    };
    let empty = |v: &str| v.is_empty() || v == "0";
    let url = if empty(url) {
        att("src").filter(|s| !empty(s)).unwrap_or(url)
    } else {
        url
    };
    if empty(url) {
        return String::new();
    }
    // KSES made `&` into `&amp;`.
    let url = url.replace("&amp;", "&");
    if let Some(html) = embed_handler_html(attrs, &url) {
        return html;
    }
    format!("<a href=\"{}\">{}</a>", esc_url(&url), esc_html(&url))
}

/// `WP_Embed::get_embed_handler_html()`: the default handlers in priority order.
fn embed_handler_html(raw: &[(Option<String>, String)], url: &str) -> Option<String> {
    if let Some(id) = youtube_embed_id(url) {
        // `wp_embed_handler_youtube()` auto-embeds the watch URL, which (oEmbed failing)
        // stays as it is unless another handler takes it.
        let watch = format!(
            "https://youtube.com/watch?v={}",
            super::media::urlencode(id)
        );
        return Some(autoembed_url(&watch));
    }
    // `#^https?://.+?\.(ext)$#i`: `$` also matches before a final newline.
    let line = url.strip_suffix('\n').unwrap_or(url);
    let has_ext = |exts: &[&str]| {
        let rest = strip_http(line)?;
        let (before, ext) = rest.rsplit_once('.')?;
        (!before.is_empty()
            && !before.contains('\n')
            && exts.iter().any(|e| ext.eq_ignore_ascii_case(e)))
        .then_some(())
    };
    if has_ext(&["mp3", "ogg", "flac", "m4a", "wav"]).is_some() {
        return Some(format!("[audio src=\"{}\" /]", esc_url(url)));
    }
    if has_ext(&["mp4", "m4v", "webm", "ogv", "flv"]).is_some() {
        let att = |k: &str| {
            raw.iter()
                .find(|(n, _)| n.as_deref() == Some(k))
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.is_empty() && *v != "0")
        };
        let dimensions = match (att("width"), att("height")) {
            (Some(w), Some(h)) => format!(
                "width=\"{}\" height=\"{}\" ",
                super::shortcodes::php_int(w),
                super::shortcodes::php_int(h)
            ),
            _ => String::new(),
        };
        return Some(format!("[video {dimensions} src=\"{}\" /]", esc_url(url)));
    }
    None
}

/// `https?://` case-insensitively, and what follows.
fn strip_http(url: &str) -> Option<&str> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    if lower.starts_with("https://") {
        Some(&url[8..])
    } else if lower.starts_with("http://") {
        Some(&url[7..])
    } else {
        None
    }
}

/// `#https?://(www.)?youtube\.com/(?:v|embed)/([^/]+)#i`, anywhere in the URL: `$matches[2]`.
fn youtube_embed_id(url: &str) -> Option<&str> {
    let lower = url.to_ascii_lowercase();
    for (p, _) in lower.match_indices("http") {
        let Some(rest) = strip_http(&url[p..]) else {
            continue;
        };
        let at = url.len() - rest.len();
        let rest_lower = &lower[at..];
        // `(www.)?`: `www` and any one character, when what follows still matches.
        let mut starts = vec![0];
        if rest_lower.starts_with("www") && rest_lower.len() > 3 {
            let c = rest_lower[3..].chars().next().map_or(1, char::len_utf8);
            starts.insert(0, 3 + c);
        }
        for s in starts {
            let tail = &rest_lower[s..];
            let Some(after) = tail.strip_prefix("youtube.com/") else {
                continue;
            };
            let skip = if after.starts_with("v/") {
                2
            } else if after.starts_with("embed/") {
                6
            } else {
                continue;
            };
            let id_at = at + s + "youtube.com/".len() + skip;
            let id = &url[id_at..];
            let id = &id[..id.find('/').unwrap_or(id.len())];
            if !id.is_empty() {
                return Some(id);
            }
        }
    }
    None
}

/// `WP_Embed::autoembed_callback()` of one URL: the handler's answer, else the URL itself.
fn autoembed_url(url: &str) -> String {
    let url_for_handlers = url.replace("&amp;", "&");
    embed_handler_html(&[], &url_for_handlers).unwrap_or_else(|| url.to_owned())
}

/// `WP_Embed::autoembed()`: a URL alone on its line (`|^(\s*)(https?://[^\s<>"]+)(\s*)$|im`)
/// or alone in a paragraph (`|(<p(?: [^>]*)?>\s*)(https?://[^\s<>"]+)(\s*</p>)|i`) is
/// auto-embedded. Line breaks inside HTML tags do not count (they are hidden as
/// `<!-- wp-line-break -->`, every one of which becomes a line break again at the end).
pub fn autoembed(content: &str) -> String {
    // Only URLs a local handler takes change: without a file extension of theirs or a
    // YouTube address, no lone URL can (the usual case, kept to one pass).
    let lower = content.to_ascii_lowercase();
    let handled = lower.contains("http")
        && (lower.contains("youtube.com/")
            || [
                ".mp3", ".ogg", ".flac", ".m4a", ".wav", ".mp4", ".m4v", ".webm", ".ogv", ".flv",
            ]
            .iter()
            .any(|ext| lower.contains(ext)));
    if !handled {
        return if content.contains("<!-- wp-line-break -->") {
            content.replace("<!-- wp-line-break -->", "\n")
        } else {
            content.to_owned()
        };
    }
    let hidden = super::autop::replace_in_html_tags(content, "\n", "<!-- wp-line-break -->");
    let lines = replace_urls(&hidden, own_line_urls(&hidden));
    let paragraphs = replace_urls(&lines, paragraph_urls(&lines));
    paragraphs.replace("<!-- wp-line-break -->", "\n")
}

/// Replaces each span that a handler takes with its answer.
fn replace_urls(text: &str, spans: Vec<(usize, usize)>) -> String {
    if spans.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (s, e) in spans {
        out.push_str(&text[last..s]);
        out.push_str(&autoembed_url(&text[s..e]));
        last = e;
    }
    out.push_str(&text[last..]);
    out
}

/// `[^\s<>"]+` from `p`: its end.
fn url_end(b: &[u8], p: usize) -> usize {
    let mut e = p;
    while e < b.len() && !(is_pcre_space(b[e]) || matches!(b[e], b'<' | b'>' | b'"')) {
        e += 1;
    }
    e
}

/// `https?://` (any case) at `p`, then at least one URL character: the URL's end.
fn url_at(b: &[u8], p: usize) -> Option<usize> {
    let rest = &b[p..];
    let scheme = if rest.len() >= 8 && rest[..8].eq_ignore_ascii_case(b"https://") {
        8
    } else if rest.len() >= 7 && rest[..7].eq_ignore_ascii_case(b"http://") {
        7
    } else {
        return None;
    };
    let e = url_end(b, p + scheme);
    (e > p + scheme).then_some(e)
}

/// The URLs standing alone on their lines: white space only between the line's start and
/// the URL, and between the URL and the line's end.
fn own_line_urls(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut spans = vec![];
    let mut line_start = 0;
    while line_start <= b.len() {
        let line_end = b[line_start..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(b.len(), |p| line_start + p);
        let mut p = line_start;
        while p < line_end && is_pcre_space(b[p]) {
            p += 1;
        }
        if let Some(e) = url_at(b, p)
            && e <= line_end
            && b[e..line_end].iter().all(|&c| is_pcre_space(c))
        {
            spans.push((p, e));
        }
        line_start = line_end + 1;
    }
    spans
}

/// The URLs alone in a paragraph: `<p>` or `<p …>`, white space, the URL, white space,
/// `</p>` (case-insensitively).
fn paragraph_urls(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    // `[^>]*` of every `<p …` ends at the next `>`: looked up once per position, not rescanned.
    let mut gt = super::NextMatch::new(b, b">");
    let mut spans = vec![];
    let mut i = 0;
    while let Some(off) = b[i..].iter().position(|&c| c == b'<') {
        let at = i + off;
        i = at + 1;
        if !b.get(at + 1).is_some_and(|c| c.eq_ignore_ascii_case(&b'p')) {
            continue;
        }
        let mut p = at + 2;
        match b.get(p) {
            Some(b'>') => p += 1,
            Some(b' ') => match gt.at_or_after(p) {
                Some(q) => p = q + 1,
                None => continue,
            },
            _ => continue,
        }
        while p < b.len() && is_pcre_space(b[p]) {
            p += 1;
        }
        let Some(e) = url_at(b, p) else {
            continue;
        };
        let mut q = e;
        while q < b.len() && is_pcre_space(b[q]) {
            q += 1;
        }
        if b.len() >= q + 4 && b[q..q + 4].eq_ignore_ascii_case(b"</p>") {
            spans.push((p, e));
            i = q + 4;
        }
    }
    spans
}
