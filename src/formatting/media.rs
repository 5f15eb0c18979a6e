//! The `[audio]` and `[video]` shortcodes of WordPress 6.1 (`media.php`:
//! `wp_audio_shortcode()`, `wp_video_shortcode()`) with the MediaElement library a default
//! install uses, and `add_query_arg()` as they call it.
//!
//! WordPress numbers the players of one page load (`static $instance`): the first gets the
//! old-IE `<script>` shim, every source its `?_=N`. A REST request is one page load, so the
//! counters live in a [`PageLoad`] made per request (a cached answer keeps its numbers).

use std::sync::atomic::{AtomicU32, Ordering};

use crate::kses::{esc_attr, esc_html};
use crate::users::esc_url;

/// The per-request state of the media shortcodes: WordPress's `static $instance` counters.
#[derive(Default)]
pub struct PageLoad {
    audio: AtomicU32,
    video: AtomicU32,
    pub(super) gallery: AtomicU32,
    /// The gallery images rendered so far (bounded: [`super::gallery::MAX_GALLERY_IMAGES_SHOWN`]).
    pub(super) gallery_images: AtomicU32,
    pub(super) playlist: AtomicU32,
    /// The playlist tracks rendered so far (bounded as gallery images).
    pub(super) playlist_tracks: AtomicU32,
}

impl PageLoad {
    pub const fn new() -> Self {
        Self {
            audio: AtomicU32::new(0),
            video: AtomicU32::new(0),
            gallery: AtomicU32::new(0),
            gallery_images: AtomicU32::new(0),
            playlist: AtomicU32::new(0),
            playlist_tracks: AtomicU32::new(0),
        }
    }

    /// The players, galleries and playlists numbered so far (audio, video, gallery,
    /// playlist): unchanged across a rendering when it made none.
    pub fn players(&self) -> (u32, u32, u32, u32) {
        (
            self.audio.load(Ordering::Relaxed),
            self.video.load(Ordering::Relaxed),
            self.gallery.load(Ordering::Relaxed),
            self.playlist.load(Ordering::Relaxed),
        )
    }

    pub(super) fn next(counter: &AtomicU32) -> u32 {
        counter.fetch_add(1, Ordering::Relaxed).saturating_add(1)
    }
}

/// What the media shortcodes know of the post being shown.
#[derive(Clone, Copy)]
pub struct Shown<'a> {
    /// `get_the_ID()` (0 outside a post).
    pub post_id: u64,
    pub page: &'a PageLoad,
    /// `get_attached_media( 'audio'|'video', $post_id )`'s first file URL: the source of a
    /// player given none.
    pub attached: &'a dyn AttachedMedia,
}

/// The post's attached audio and video files (`get_attached_media()`), read beforehand.
pub trait AttachedMedia {
    /// `wp_get_attachment_url()` of the post's first attachment of `kind` (`audio` or
    /// `video`) by `menu_order`.
    fn first_url(&self, post_id: u64, kind: &str) -> Option<String>;

    /// The image attachments the answer's galleries may show (read beforehand, see
    /// [`super::GalleryRequests`]).
    fn gallery_images(&self) -> &[super::GalleryImage] {
        &[]
    }

    /// The audio and video attachments the answer's playlists may show (read beforehand,
    /// as the galleries' images).
    fn playlist_media(&self) -> &[super::GalleryImage] {
        &[]
    }

    /// Whether another post than the one shown is publicly viewable and not
    /// password-protected: its attached images may be shown by `[gallery id=N]`.
    fn is_public_post(&self, _post_id: u64) -> bool {
        false
    }

    /// Whether the reader holds `read` (`current_user_can( 'read_post' )` of a public
    /// post: anonymous readers do not).
    fn reader_can_read(&self) -> bool {
        false
    }

    /// `wp_calculate_image_srcset()` and `wp_calculate_image_sizes()` for `image` shown
    /// from `src` at `size`.
    fn image_srcset(
        &self,
        _image: &super::GalleryImage,
        _src: &str,
        _size: (u64, u64),
    ) -> Option<(String, String)> {
        None
    }
}

/// No attachments known.
pub struct NoAttachedMedia;

impl AttachedMedia for NoAttachedMedia {
    fn first_url(&self, _: u64, _: &str) -> Option<String> {
        None
    }
}

static NO_PAGE: PageLoad = PageLoad::new();

impl Shown<'static> {
    /// No post and a page load of its own (`strip_shortcodes()`, tools).
    pub fn nothing() -> Self {
        Self {
            post_id: 0,
            page: &NO_PAGE,
            attached: &NoAttachedMedia,
        }
    }
}

/// `wp_get_audio_extensions()`.
const AUDIO_EXTENSIONS: &[&str] = &["mp3", "ogg", "flac", "m4a", "wav"];
/// `wp_get_video_extensions()`.
const VIDEO_EXTENSIONS: &[&str] = &["mp4", "m4v", "webm", "ogv", "flv"];

/// Parsed shortcode attributes (`shortcode_parse_atts()`): named and positional values.
pub type Atts = [(Option<String>, String)];

/// `shortcode_atts()` for one key: the attribute when given, else `None`.
pub(super) fn att<'a>(attrs: &'a Atts, key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k.as_deref() == Some(key))
        .map(|(_, v)| v.as_str())
}

/// PHP's `empty()` of a string.
pub(super) fn empty(v: &str) -> bool {
    v.is_empty() || v == "0"
}

/// `wp_get_mime_types()` beyond the types allowed for upload.
const NOT_UPLOADABLE_TYPES: &[(&str, &str)] = &[
    ("swf", "application/x-shockwave-flash"),
    ("exe", "application/x-msdownload"),
    ("htm", "text/html"),
    ("html", "text/html"),
    ("js", "application/javascript"),
];

/// `wp_check_filetype( $url, wp_get_mime_types() )`: the extension (as written) and type of
/// `\.(ext)$`, case-insensitively (`$` also before a final newline).
pub(super) fn check_filetype(url: &str) -> Option<(&str, &'static str)> {
    let name = url.strip_suffix('\n').unwrap_or(url);
    let (_, ext) = name.rsplit_once('.')?;
    let mime = crate::media::filetype(name).map(|(_, m)| m).or_else(|| {
        NOT_UPLOADABLE_TYPES
            .iter()
            .find(|(e, _)| e.eq_ignore_ascii_case(ext))
            .map(|(_, m)| *m)
    })?;
    Some((ext, mime))
}

/// `wp_validate_boolean()`: `''`, `'0'` and `'false'` (any case) are false.
pub(super) fn validate_boolean(v: &str) -> bool {
    !(empty(v) || v.eq_ignore_ascii_case("false"))
}

/// `wp_audio_shortcode()`.
pub fn wp_audio_shortcode(attrs: &Atts, shown: Shown) -> String {
    let instance = PageLoad::next(&shown.page.audio);
    let get = |k: &str| att(attrs, k).unwrap_or("").to_owned();
    let mut src = get("src");
    let primary = if empty(&src) {
        AUDIO_EXTENSIONS.iter().any(|ext| {
            let v = get(ext);
            !empty(&v) && check_filetype(&v).is_some_and(|(e, _)| e.eq_ignore_ascii_case(ext))
        })
    } else {
        if !check_filetype(&src)
            .is_some_and(|(e, _)| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            return embedded_link("audio", &src);
        }
        true
    };
    let Some(with_src) = player_source(shown, "audio", primary, &mut src) else {
        return String::new();
    };
    let mut html_atts: Vec<(&str, String)> = vec![
        (
            "class",
            att(attrs, "class")
                .unwrap_or("wp-audio-shortcode")
                .to_owned(),
        ),
        ("id", format!("audio-{}-{instance}", shown.post_id)),
    ];
    if validate_boolean(&get("loop")) {
        html_atts.push(("loop", "1".into()));
    }
    if validate_boolean(&get("autoplay")) {
        html_atts.push(("autoplay", "1".into()));
    }
    let preload = att(attrs, "preload").unwrap_or("none");
    if !empty(preload) {
        html_atts.push(("preload", preload.to_owned()));
    }
    html_atts.push((
        "style",
        att(attrs, "style").unwrap_or("width: 100%;").to_owned(),
    ));
    let mut html = String::new();
    if instance == 1 {
        html.push_str(
            "<!--[if lt IE 9]><script>document.createElement('audio');</script><![endif]-->\n",
        );
    }
    html.push_str(&format!(
        "<audio {} controls=\"controls\">",
        attr_strings(&html_atts)
    ));
    let mut sources: Vec<String> = vec![];
    if with_src {
        sources.push(src);
    }
    sources.extend(AUDIO_EXTENSIONS.iter().map(|e| get(e)));
    let fileurl = push_sources(&mut html, &sources, instance, |_| None);
    html.push_str(&wp_mediaelement_fallback(&fileurl));
    html.push_str("</audio>");
    html
}

/// `wp_video_shortcode()` of a theme without `$content_width` (block themes have none).
pub fn wp_video_shortcode(attrs: &Atts, content: &str, shown: Shown) -> String {
    let instance = PageLoad::next(&shown.page.video);
    let get = |k: &str| att(attrs, k).unwrap_or("").to_owned();
    let mut src = get("src");
    let mut is_youtube = false;
    let mut is_vimeo = false;
    let primary = if empty(&src) {
        VIDEO_EXTENSIONS.iter().any(|ext| {
            let v = get(ext);
            !empty(&v) && check_filetype(&v).is_some_and(|(e, _)| e.eq_ignore_ascii_case(ext))
        })
    } else {
        is_vimeo = is_vimeo_url(&src);
        is_youtube = is_youtube_url(&src);
        if !is_youtube
            && !is_vimeo
            && !check_filetype(&src)
                .is_some_and(|(e, _)| VIDEO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            return embedded_link("video", &src);
        }
        true
    };
    let Some(with_src) = player_source(shown, "video", primary, &mut src) else {
        return String::new();
    };
    // MediaElement.js wants plain https URLs of YouTube and Vimeo.
    if is_youtube {
        src = set_url_scheme_https(&remove_query_arg(&src, "feature"));
    } else if is_vimeo {
        src = vimeo_src(&src, &get("loop"));
    }
    let width = att(attrs, "width").map_or(640, super::shortcodes::php_int);
    let height = att(attrs, "height").map_or(360, super::shortcodes::php_int);
    let mut html_atts: Vec<(&str, String)> = vec![
        (
            "class",
            att(attrs, "class")
                .unwrap_or("wp-video-shortcode")
                .to_owned(),
        ),
        ("id", format!("video-{}-{instance}", shown.post_id)),
        ("width", width.unsigned_abs().to_string()),
        ("height", height.unsigned_abs().to_string()),
    ];
    let poster = esc_url(&get("poster"));
    if !empty(&poster) {
        html_atts.push(("poster", poster));
    }
    if validate_boolean(&get("loop")) {
        html_atts.push(("loop", "1".into()));
    }
    if validate_boolean(&get("autoplay")) {
        html_atts.push(("autoplay", "1".into()));
    }
    if validate_boolean(att(attrs, "muted").unwrap_or("false")) {
        html_atts.push(("muted", "1".into()));
    }
    let preload = att(attrs, "preload").unwrap_or("metadata");
    if !empty(preload) {
        html_atts.push(("preload", preload.to_owned()));
    }
    let mut html = String::new();
    if instance == 1 {
        html.push_str(
            "<!--[if lt IE 9]><script>document.createElement('video');</script><![endif]-->\n",
        );
    }
    html.push_str(&format!(
        "<video {} controls=\"controls\">",
        attr_strings(&html_atts)
    ));
    let mut sources: Vec<String> = vec![];
    if with_src {
        sources.push(src);
    }
    sources.extend(VIDEO_EXTENSIONS.iter().map(|e| get(e)));
    let fileurl = push_sources(&mut html, &sources, instance, |i| match i {
        0 if with_src && is_youtube => Some("video/youtube"),
        0 if with_src && is_vimeo => Some("video/vimeo"),
        _ => None,
    });
    if !empty(content) {
        // `str_replace( array( "\r\n", "\n", "\t" ), '' )` keeps a lone `\r`.
        let content = if content.contains('\n') {
            content.replace("\r\n", "").replace(['\n', '\t'], "")
        } else {
            content.to_owned()
        };
        html.push_str(super::php_trim(&content));
    }
    html.push_str(&wp_mediaelement_fallback(&fileurl));
    html.push_str("</video>");
    let width_rule = match att(attrs, "width") {
        None => "width: 640px;".to_owned(),
        Some(w) if empty(w) => String::new(),
        Some(w) => format!("width: {}px;", super::shortcodes::php_int(w)),
    };
    format!("<div style=\"{width_rule}\" class=\"wp-video\">{html}</div>")
}

/// `k="esc_attr(v)"` joined by spaces.
fn attr_strings(atts: &[(&str, String)]) -> String {
    atts.iter()
        .map(|(k, v)| format!("{k}=\"{}\"", esc_attr(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One `<source>` per non-empty value (`$type` of `wp_check_filetype()` unless
/// `type_of` says otherwise); returns the first value (`$fileurl`).
fn push_sources(
    html: &mut String,
    sources: &[String],
    instance: u32,
    type_of: impl Fn(usize) -> Option<&'static str>,
) -> String {
    let mut fileurl = String::new();
    for (i, value) in sources.iter().enumerate() {
        if empty(value) {
            continue;
        }
        if fileurl.is_empty() {
            fileurl.clone_from(value);
        }
        let mime = type_of(i)
            .or_else(|| check_filetype(value).map(|(_, m)| m))
            .unwrap_or("");
        let url = add_query_arg(value, "_", Some(&instance.to_string()));
        html.push_str(&format!(
            "<source type=\"{mime}\" src=\"{}\" />",
            esc_url(&url)
        ));
    }
    fileurl
}

/// `wp_mediaelement_fallback()`.
fn wp_mediaelement_fallback(url: &str) -> String {
    let url = esc_url(url);
    format!("<a href=\"{url}\">{url}</a>")
}

/// `#^https?://(?:www\.)?(?:youtube\.com/watch|youtu\.be/)#`.
fn is_youtube_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return false;
    };
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    rest.starts_with("youtube.com/watch") || rest.starts_with("youtu.be/")
}

/// `#^https?://(.+\.)?vimeo\.com/.*#`.
fn is_vimeo_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return false;
    };
    // `.*` stops at a newline; `vimeo.com/` must come before the first one.
    let line = rest.split('\n').next().unwrap_or("");
    line.starts_with("vimeo.com/") || line.match_indices(".vimeo.com/").any(|(p, _)| p > 0)
}

/// `'https://' . $host . $path` of `wp_parse_url()`, then `add_query_arg( 'loop', … )`.
fn vimeo_src(src: &str, loop_att: &str) -> String {
    let rest = src.split_once("://").map_or(src, |(_, r)| r);
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let hostpath = &rest[..end];
    let (host, path) = match hostpath.find('/') {
        Some(p) => (&hostpath[..p], &hostpath[p..]),
        None => (hostpath, ""),
    };
    // `wp_parse_url()` drops user info and port from `host`.
    let host = host.rsplit('@').next().unwrap_or(host);
    let host = match host.rfind(':') {
        Some(p) if host[p + 1..].bytes().all(|b| b.is_ascii_digit()) => &host[..p],
        _ => host,
    };
    // PHP truthiness of the raw attribute.
    let loop_value = if empty(loop_att) { "0" } else { "1" };
    add_query_arg(&format!("https://{host}{path}"), "loop", Some(loop_value))
}

/// `set_url_scheme( $url, 'https' )`.
fn set_url_scheme_https(url: &str) -> String {
    let t = super::php_trim(url);
    match t.find("://") {
        Some(p)
            if p > 0
                && t[..p]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            format!("https://{}", &t[p + 3..])
        }
        _ => t.to_owned(),
    }
}

/// `remove_query_arg( $key, $url )`.
fn remove_query_arg(url: &str, key: &str) -> String {
    add_query_arg(url, key, None)
}

/// `add_query_arg( $key, $value, $uri )` (`None`: removed): the query is read as
/// `wp_parse_str()` reads it, its values `urlencode()`d again, and rebuilt.
pub(super) fn add_query_arg(uri: &str, key: &str, value: Option<&str>) -> String {
    let (uri, frag) = match uri.find('#') {
        Some(p) => (&uri[..p], &uri[p..]),
        None => (uri, ""),
    };
    let (protocol, uri) = if uri.len() >= 7 && uri[..7].eq_ignore_ascii_case("http://") {
        (&uri[..7], &uri[7..])
    } else if uri.len() >= 8 && uri[..8].eq_ignore_ascii_case("https://") {
        (&uri[..8], &uri[8..])
    } else {
        ("", uri)
    };
    let (base, query) = match uri.split_once('?') {
        Some((b, q)) => (format!("{b}?"), q),
        None if !protocol.is_empty() || !uri.contains('=') => (format!("{uri}?"), ""),
        None => (String::new(), uri),
    };
    let mut qs: Vec<(String, String)> = vec![];
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        // `parse_str()`: `.` and spaces in names become `_`.
        let k: String = urldecode(k)
            .chars()
            .map(|c| if c == '.' || c == ' ' { '_' } else { c })
            .collect();
        if k.is_empty() {
            continue;
        }
        let v = urlencode(&urldecode(v));
        match qs.iter_mut().find(|(n, _)| *n == k) {
            Some(slot) => slot.1 = v,
            None => qs.push((k, v)),
        }
    }
    match value {
        Some(v) => match qs.iter_mut().find(|(n, _)| n == key) {
            Some(slot) => slot.1 = v.to_owned(),
            None => qs.push((key.to_owned(), v.to_owned())),
        },
        None => qs.retain(|(n, _)| n != key),
    }
    // `build_query()`, then `preg_replace( '#=(&|$)#', '$1', … )`.
    let ret = qs
        .iter()
        .map(|(k, v)| {
            if v.is_empty() {
                k.clone()
            } else {
                format!("{k}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join("&");
    let ret = ret.trim_matches('?');
    let ret = format!("{protocol}{base}{ret}{frag}");
    ret.trim_end_matches('?').replace("?#", "#")
}

/// PHP's `urldecode()`.
fn urldecode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit) =>
            {
                let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                out.push(hex(b[i + 1]) * 16 + hex(b[i + 2]));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    super::scan::into_string(out)
}

/// PHP's `urlencode()`.
pub(super) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.') {
            out.push(c as char);
        } else if c == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// What `wp_audio_shortcode()`/`wp_video_shortcode()` print for a source that is not a file
/// of their kind: a plain link.
fn embedded_link(kind: &str, src: &str) -> String {
    format!(
        "<a class=\"wp-embedded-{kind}\" href=\"{}\">{}</a>",
        esc_url(src),
        esc_html(src)
    )
}

/// Whether the player has a source: its own (`primary`), or else the post's first attached
/// file of `kind`, put in `src`. `None`: neither, and the shortcode prints nothing.
fn player_source(shown: Shown, kind: &str, primary: bool, src: &mut String) -> Option<bool> {
    if primary {
        return Some(!empty(src));
    }
    match shown.attached.first_url(shown.post_id, kind) {
        Some(url) if !url.is_empty() => {
            *src = url;
            Some(true)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_query_arg_as_wordpress() {
        assert_eq!(
            add_query_arg("http://x.test/a.mp3", "_", Some("1")),
            "http://x.test/a.mp3?_=1"
        );
        assert_eq!(
            add_query_arg(
                "https://youtube.com/watch?v=a b&feature=x#t",
                "feature",
                None
            ),
            "https://youtube.com/watch?v=a+b#t"
        );
        assert_eq!(add_query_arg("a=1", "_", Some("2")), "a=1&_=2");
        assert_eq!(
            add_query_arg("http://x.test/?a&b=", "_", Some("3")),
            "http://x.test/?a&b&_=3"
        );
    }
}
