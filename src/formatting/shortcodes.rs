//! The shortcodes WordPress 6.1 registers by default (`$shortcode_tags`, in registration
//! order: `media.php` and `class-wp-embed.php`). Display filters that look for registered
//! shortcodes (`wptexturize()`, `shortcode_unautop()`) look for these.

/// `array_keys( $shortcode_tags )` of a default install.
pub(crate) const SHORTCODE_TAGS: &[&str] = &[
    "wp_caption",
    "caption",
    "gallery",
    "playlist",
    "audio",
    "video",
    "embed",
];

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::NextMatch;
use super::media::Shown;

/// `preg_match_all( '@\[([^<>&/\[\]\x00-\x20=]++)@', … )` ∩ the registered names, in
/// registration order (`array_intersect()`): the shortcodes `do_shortcode()` looks for.
fn tagnames_in(b: &[u8]) -> Vec<&'static str> {
    let mut found: Vec<&[u8]> = vec![];
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'[' {
            i += 1;
            continue;
        }
        let start = i + 1;
        let len = b[start..]
            .iter()
            .take_while(|&&c| {
                !(matches!(c, b'<' | b'>' | b'&' | b'/' | b'[' | b']' | b'=') || c <= 0x20)
            })
            .count();
        if len > 0 {
            found.push(&b[start..start + len]);
            i = start + len;
        } else {
            i += 1;
        }
    }
    SHORTCODE_TAGS
        .iter()
        .copied()
        .filter(|t| found.contains(&t.as_bytes()))
        .collect()
}

/// The first `[/name]` at or after a position, per name, remembered so that candidates in
/// ascending order scan the text once.
pub(super) struct ClosingTags<'a> {
    b: &'a [u8],
    cached: Vec<(Vec<u8>, Option<Option<usize>>)>,
}

impl<'a> ClosingTags<'a> {
    pub(super) fn new(b: &'a [u8]) -> Self {
        Self { b, cached: vec![] }
    }

    pub(super) fn at_or_after(&mut self, name: &str, from: usize) -> Option<usize> {
        let idx = match self
            .cached
            .iter()
            .position(|(n, _)| n.get(2..n.len() - 1) == Some(name.as_bytes()))
        {
            Some(i) => i,
            None => {
                let mut needle = b"[/".to_vec();
                needle.extend_from_slice(name.as_bytes());
                needle.push(b']');
                self.cached.push((needle, None));
                self.cached.len() - 1
            }
        };
        let (needle, cached) = &mut self.cached[idx];
        match *cached {
            Some(None) => return None,
            Some(Some(p)) if p >= from => return Some(p),
            _ => {}
        }
        let found = self
            .b
            .get(from..)
            .and_then(|rest| super::find_bytes(rest, needle))
            .map(|p| from + p);
        *cached = Some(found);
        found
    }
}

/// One match of `get_shortcode_regex()`: byte ranges into the text.
struct ShortcodeMatch {
    end: usize,
    /// `$m[1]`: an extra opening `[`.
    open_escape: bool,
    name: &'static str,
    /// `$m[3]`.
    attrs: (usize, usize),
    /// `$m[5]`, for an enclosing shortcode.
    content: Option<(usize, usize)>,
    /// `$m[6]`: an extra closing `]`.
    close_escape: bool,
}

/// What `do_shortcode()` runs.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Every core shortcode (`the_content` at priority 11).
    Render,
    /// `strip_shortcodes()`.
    Strip,
    /// `WP_Embed::run_shortcode()`: `[embed]` alone, HTML ignored (priority 8).
    Embed,
}

/// The `do_shortcode()` context of the site: what the callbacks need.
pub struct ShortcodeContext<'a> {
    /// `wp_upload_dir()`'s base URL, for KSES of captions.
    pub uploads_url: String,
    mode: Mode,
    /// The post shown and the page load's player counters.
    shown: Shown<'a>,
}

impl<'a> ShortcodeContext<'a> {
    pub fn new(site_url: &str, shown: Shown<'a>) -> Self {
        Self {
            uploads_url: format!("{site_url}/wp-content/uploads"),
            mode: Mode::Render,
            shown,
        }
    }
}

/// `strip_shortcodes()`: registered shortcodes removed with what they enclose (an escaped
/// `[[shortcode]]` keeps one pair of brackets), as excerpts are made.
pub fn strip_shortcodes(content: &str) -> String {
    let ctx = ShortcodeContext {
        uploads_url: String::new(),
        mode: Mode::Strip,
        shown: Shown::nothing(),
    };
    do_shortcode(content, &ctx)
}

/// `WP_Embed::run_shortcode()`: `[embed]` alone, run before the other display filters
/// (`the_content` priority 8).
pub fn run_embed_shortcode(content: &str) -> String {
    let ctx = ShortcodeContext {
        uploads_url: String::new(),
        mode: Mode::Embed,
        shown: Shown::nothing(),
    };
    do_shortcode(content, &ctx)
}

/// `do_shortcode()` with WordPress's core shortcodes: `[caption]` (and `[wp_caption]`)
/// rendered as a theme with HTML5 captions does, `[audio]` and `[video]` as
/// MediaElement players, `[gallery]` as HTML5 figures, `[playlist]` as a MediaElement
/// playlist, `[embed]` (already run at priority 8) gone; `[[escaped]]` shortcodes lose one
/// pair of brackets; unknown shortcodes are text.
pub fn do_shortcode(content: &str, ctx: &ShortcodeContext) -> String {
    if !content.contains('[') {
        return content.to_owned();
    }
    let mut names = tagnames_in(content.as_bytes());
    if ctx.mode == Mode::Embed {
        names.retain(|n| *n == "embed");
    }
    if names.is_empty() {
        return content.to_owned();
    }
    // `do_shortcodes_in_html_tags()`: entities normalised, brackets inside elements and
    // comments hidden as `&#91;`/`&#93;` (shortcodes in attribute values are not run).
    let text = content
        .replace("&#91;", "&#091;")
        .replace("&#93;", "&#093;");
    let text = super::autop::replace_in_html_tags_with(&text, |element| {
        let element = if ctx.mode == Mode::Render && crazy_element(element) {
            // "Some plugins are doing things like [name] <[email]>": shortcodes run
            // inside such an element (`wp_kses_attr_parse()` refuses it).
            replace_shortcodes(element, &names, ctx)
        } else {
            element.to_owned()
        };
        element.replace('[', "&#91;").replace(']', "&#93;")
    });
    // `unescape_invalid_shortcodes()`.
    replace_shortcodes(&text, &names, ctx)
        .replace("&#91;", "[")
        .replace("&#93;", "]")
}

/// `preg_match( '%^<\s*\[\[?[^\[\]]+\]%', $element )`.
fn crazy_element(element: &str) -> bool {
    let b = element.as_bytes();
    let mut i = 1;
    while b.get(i).is_some_and(|c| super::scan::is_pcre_space(*c)) {
        i += 1;
    }
    if b.get(i) != Some(&b'[') {
        return false;
    }
    i += 1;
    if b.get(i) == Some(&b'[') {
        i += 1;
    }
    let run = b[i.min(b.len())..]
        .iter()
        .take_while(|c| !matches!(c, b'[' | b']'))
        .count();
    run > 0 && b.get(i + run) == Some(&b']')
}

/// `preg_replace_callback( "/$pattern/", 'do_shortcode_tag', $text )`.
fn replace_shortcodes(text: &str, names: &[&'static str], ctx: &ShortcodeContext) -> String {
    let b = text.as_bytes();
    let mut first_bracket = NextMatch::new(b, b"]");
    let mut closing = ClosingTags::new(b);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut i = 0;
    while let Some(p) = b[i..].iter().position(|&c| c == b'[') {
        let at = i + p;
        match match_at(b, at, names, &mut first_bracket, &mut closing) {
            Some(m) => {
                out.push_str(&text[last..at]);
                out.push_str(&do_shortcode_tag(text, at, &m, ctx));
                last = m.end;
                i = m.end;
            }
            None => i = at + 1,
        }
        if i >= b.len() {
            break;
        }
    }
    out.push_str(&text[last..]);
    out
}

/// `get_shortcode_regex( $names )` anchored at `at` (`b[at] == b'['`).
fn match_at(
    b: &[u8],
    at: usize,
    names: &[&'static str],
    first_bracket: &mut NextMatch,
    closing: &mut ClosingTags,
) -> Option<ShortcodeMatch> {
    let mut j = at + 1;
    let open_escape = b.get(j) == Some(&b'[');
    if open_escape {
        j += 1;
    }
    let name = *names.iter().find(|n| {
        b[j..].starts_with(n.as_bytes())
            && !b
                .get(j + n.len())
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
    })?;
    let attrs_start = j + name.len();
    let bracket = first_bracket.at_or_after(attrs_start)?;
    let (attrs, mut end, content) = if bracket > attrs_start && b[bracket - 1] == b'/' {
        ((attrs_start, bracket - 1), bracket + 1, None)
    } else {
        match closing.at_or_after(name, bracket + 1) {
            Some(close) => (
                (attrs_start, bracket),
                close + name.len() + 3,
                Some((bracket + 1, close)),
            ),
            None => ((attrs_start, bracket), bracket + 1, None),
        }
    };
    let close_escape = b.get(end) == Some(&b']');
    if close_escape {
        end += 1;
    }
    Some(ShortcodeMatch {
        end,
        open_escape,
        name,
        attrs,
        content,
        close_escape,
    })
}

/// `do_shortcode_tag()`.
fn do_shortcode_tag(text: &str, at: usize, m: &ShortcodeMatch, ctx: &ShortcodeContext) -> String {
    if m.open_escape && m.close_escape {
        return text[at + 1..m.end - 1].to_owned();
    }
    if ctx.mode == Mode::Strip {
        // `strip_shortcode_tag()`.
        return format!(
            "{}{}",
            if m.open_escape { "[" } else { "" },
            if m.close_escape { "]" } else { "" }
        );
    }
    let attrs = shortcode_parse_atts(&text[m.attrs.0..m.attrs.1]);
    let content = m.content.map(|(s, e)| &text[s..e]);
    let output = match m.name {
        "caption" | "wp_caption" => img_caption_shortcode(&attrs, content.unwrap_or(""), ctx),
        "embed" if ctx.mode == Mode::Embed => {
            super::embed::shortcode(&attrs, content.unwrap_or(""))
        }
        // Registered as `__return_false` outside `WP_Embed::run_shortcode()`.
        "embed" => String::new(),
        "audio" => super::media::wp_audio_shortcode(&attrs, ctx.shown),
        "video" => super::media::wp_video_shortcode(&attrs, content.unwrap_or(""), ctx.shown),
        "gallery" => super::gallery::gallery_shortcode(&attrs, ctx.shown),
        "playlist" => super::playlist::wp_playlist_shortcode(
            &attrs,
            ctx.shown,
            ctx.uploads_url
                .strip_suffix("/wp-content/uploads")
                .unwrap_or(&ctx.uploads_url),
        ),
        // Every name of `SHORTCODE_TAGS` is handled above; another is left as written.
        _ => {
            let start = at + usize::from(m.open_escape);
            let end = m.end - usize::from(m.close_escape);
            text[start..end].to_owned()
        }
    };
    format!(
        "{}{output}{}",
        if m.open_escape { "[" } else { "" },
        if m.close_escape { "]" } else { "" }
    )
}

/// `shortcode_parse_atts()`: named values (`k="v"`, `k='v'`, `k=v`) and positional ones.
pub(super) fn shortcode_parse_atts(text: &str) -> Vec<(Option<String>, String)> {
    static ATTS: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::expect_used)]
        Regex::new(
            r#"(?-u)([\w-]+)\s*=\s*"([^"]*)"(?:\s|$)|([\w-]+)\s*=\s*'([^']*)'(?:\s|$)|([\w-]+)\s*=\s*([^\s'"]+)(?:\s|$)|"([^"]*)"(?:\s|$)|'([^']*)'(?:\s|$)|(\S+)(?:\s|$)"#,
        )
        .expect("static regular expression")
    });
    // `preg_replace( "/[\x{00a0}\x{200b}]+/u", ' ', … )`
    let text = collapse_runs(text, &['\u{a0}', '\u{200b}']);
    let s = |c: Option<regex::bytes::Match>| {
        c.map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
    };
    let mut atts: Vec<(Option<String>, String)> = vec![];
    let mut set = |key: Option<String>, value: String| {
        let value = stripcslashes(&value);
        match key {
            Some(k) => {
                let k = k.to_ascii_lowercase();
                match atts
                    .iter_mut()
                    .find(|(n, _)| n.as_deref() == Some(k.as_str()))
                {
                    Some(slot) => slot.1 = value,
                    None => atts.push((Some(k), value)),
                }
            }
            None => atts.push((None, value)),
        }
    };
    for c in ATTS.captures_iter(text.as_bytes()) {
        let non_empty = |i: usize| s(c.get(i)).filter(|v| !v.is_empty() && v != "0");
        if let Some(k) = non_empty(1) {
            set(Some(k), s(c.get(2)).unwrap_or_default());
        } else if let Some(k) = non_empty(3) {
            set(Some(k), s(c.get(4)).unwrap_or_default());
        } else if let Some(k) = non_empty(5) {
            set(Some(k), s(c.get(6)).unwrap_or_default());
        } else if let Some(v) = s(c.get(7)).filter(|v| !v.is_empty()) {
            set(None, v);
        } else if let Some(v) = s(c.get(8)).filter(|v| !v.is_empty()) {
            set(None, v);
        } else if let Some(v) = s(c.get(9)) {
            set(None, v);
        }
    }
    // Reject any unclosed HTML elements.
    for (_, v) in &mut atts {
        if v.contains('<') && !tags_closed(v) {
            v.clear();
        }
    }
    atts
}

fn collapse_runs(text: &str, chars: &[char]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_run = false;
    for c in text.chars() {
        if chars.contains(&c) {
            if !in_run {
                out.push(' ');
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
    }
    out
}

/// `preg_match( '/^[^<]*+(?:<[^>]*+>[^<]*+)*+$/', $value )`: every `<` is closed by a `>`.
fn tags_closed(v: &str) -> bool {
    let mut open = false;
    for c in v.bytes() {
        match c {
            b'<' if !open => open = true,
            b'>' if open => open = false,
            _ => {}
        }
    }
    // `$` also matches before a final newline, which `[^>]*+` would have taken anyway.
    !open
}

/// PHP's `stripcslashes()`.
fn stripcslashes(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        i += 1;
        let c = b[i];
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(0x07),
            b'v' => out.push(0x0b),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'x' if b.get(i + 1).is_some_and(u8::is_ascii_hexdigit) => {
                let n = b[i + 1..]
                    .iter()
                    .take(2)
                    .take_while(|c| c.is_ascii_hexdigit())
                    .count();
                let v = u8::from_str_radix(&s[i + 1..i + 1 + n], 16).unwrap_or(0);
                out.push(v);
                i += n;
            }
            b'0'..=b'7' => {
                let n = b[i..]
                    .iter()
                    .take(3)
                    .take_while(|c| (b'0'..=b'7').contains(c))
                    .count();
                let v = u32::from_str_radix(&s[i..i + n], 8).unwrap_or(0);
                out.push((v & 0xff) as u8);
                i += n - 1;
            }
            _ => out.push(c),
        }
        i += 1;
    }
    super::scan::into_string(out)
}

/// PHP's `(int)` of a string: leading white space, a sign, digits.
pub(super) fn php_int(s: &str) -> i64 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n: i64 = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .try_fold(0i64, |acc, d| {
            acc.checked_mul(10)?.checked_add(i64::from(d - b'0'))
        })
        .unwrap_or(i64::MAX);
    if neg { -n } else { n }
}

/// `sanitize_html_class()`: octets removed, then anything but `A-Za-z0-9_-`.
pub(super) fn sanitize_html_class(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        {
            i += 3;
            continue;
        }
        if b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-' {
            out.push(b[i] as char);
        }
        i += 1;
    }
    out
}

/// `img_caption_shortcode()` for a theme with HTML5 captions (block themes have them).
fn img_caption_shortcode(
    attrs: &[(Option<String>, String)],
    content: &str,
    ctx: &ShortcodeContext,
) -> String {
    static IMAGE: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::expect_used)]
        Regex::new(r"(?is-u)((?:<a [^>]+>\s*)?<img [^>]+>(?:\s*</a>)?)(.*)")
            .expect("static regular expression")
    });
    let get = |k: &str| {
        attrs
            .iter()
            .find(|(n, _)| n.as_deref() == Some(k))
            .map(|(_, v)| v.clone())
    };
    let mut content = content.to_owned();
    let caption = match get("caption") {
        None => match IMAGE.captures(content.as_bytes()) {
            Some(c) => {
                let image = c
                    .get(1)
                    .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned());
                let rest = c
                    .get(2)
                    .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned());
                content = image.unwrap_or_default();
                super::php_trim(&rest.unwrap_or_default()).to_owned()
            }
            None => String::new(),
        },
        Some(c) if c.contains('<') => crate::kses::filter_post_kses(&c, &ctx.uploads_url),
        Some(c) => c,
    };
    let width = php_int(&get("width").unwrap_or_default());
    if width < 1 || caption.is_empty() || caption == "0" {
        return content;
    }
    let id = sanitize_html_class(&get("id").unwrap_or_default());
    let caption_id = match get("caption_id").filter(|c| !c.is_empty() && c != "0") {
        Some(c) => sanitize_html_class(&c),
        None if !id.is_empty() && id != "0" => format!("caption-{}", id.replace('_', "-")),
        None => String::new(),
    };
    let id_attr = if id.is_empty() || id == "0" {
        String::new()
    } else {
        format!("id=\"{}\" ", crate::kses::esc_attr(&id))
    };
    let (caption_id_attr, describedby) = if caption_id.is_empty() || caption_id == "0" {
        (String::new(), String::new())
    } else {
        let v = crate::kses::esc_attr(&caption_id);
        (format!("id=\"{v}\" "), format!("aria-describedby=\"{v}\" "))
    };
    let align = get("align").unwrap_or_else(|| "alignnone".to_owned());
    let class = get("class").unwrap_or_default();
    let class = format!("wp-caption {align} {class}");
    let class = super::php_trim(&class);
    format!(
        "<figure {id_attr}{describedby}style=\"width: {width}px\" class=\"{}\">{}<figcaption {caption_id_attr}class=\"wp-caption-text\">{caption}</figcaption></figure>",
        crate::kses::esc_attr(class),
        do_shortcode(&content, ctx)
    )
}
