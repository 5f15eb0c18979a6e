//! `wpautop()` and `shortcode_unautop()` of WordPress 6.1's `formatting.php`, step for step.
//!
//! Patterns without lookarounds or back-references run on the `regex` crate (compiled once,
//! finite automata: no backtracking); the others are hand-written one-pass scanners. Every
//! step is one forward pass, so the whole is linear in the text.

use std::sync::LazyLock;

use regex::bytes::{Captures, Regex};

use super::scan::{into_string, is_pcre_space, rewrite, space_after};
use super::shortcodes::SHORTCODE_TAGS;

/// `$allblocks` of `wpautop()`.
const ALLBLOCKS: &str = "(?:table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|form|map|area|blockquote|address|math|style|p|h[1-6]|hr|fieldset|legend|section|article|aside|hgroup|header|footer|nav|figure|figcaption|details|menu|summary)";

fn re(pattern: &str) -> Regex {
    // (?-u): bytes as PCRE sees them without the `u` flag (`\s` is ASCII white space).
    #[allow(clippy::expect_used)]
    Regex::new(&format!("(?-u){pattern}")).expect("static regular expression")
}

macro_rules! lazy_re {
    ($name:ident, $pattern:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| re(&$pattern));
    };
}

lazy_re!(BR_BR, r"<br\s*/?>\s*<br\s*/?>");
lazy_re!(BLOCK_OPEN, format!(r"<{ALLBLOCKS}[\s/>]"));
lazy_re!(BLOCK_CLOSE, format!(r"</{ALLBLOCKS}>"));
lazy_re!(HR, r"<hr\s*?/?>");
lazy_re!(OPTION_BEFORE, r"\s*<option");
lazy_re!(OPTION_AFTER, r"</option>\s*");
lazy_re!(OBJECT_OPEN, r"(<object[^>]*>)\s*");
lazy_re!(OBJECT_CLOSE, r"\s*</object>");
lazy_re!(PARAM_EMBED, r"\s*(</?(?:param|embed)[^>]*>)\s*");
lazy_re!(AV_OPEN, r"([<\[](?:audio|video)[^>\]]*[>\]])\s*");
lazy_re!(AV_CLOSE, r"\s*([<\[]/(?:audio|video)[>\]])");
lazy_re!(SOURCE_TRACK, r"\s*(<(?:source|track)[^>]*>)\s*");
lazy_re!(FIGCAPTION_OPEN, r"\s*(<figcaption[^>]*>)");
lazy_re!(FIGCAPTION_CLOSE, r"</figcaption>\s*");
lazy_re!(MANY_NEWLINES, r"\n\n+");
lazy_re!(PARAGRAPH_SPLIT, r"\n\s*\n");
lazy_re!(EMPTY_P, r"<p>\s*</p>");
lazy_re!(P_MISSING_CLOSE, r"<p>([^<]+)</(div|address|form)>");
lazy_re!(
    P_AROUND_BLOCK,
    format!(r"<p>\s*(</?{ALLBLOCKS}[^>]*>)\s*</p>")
);
lazy_re!(P_AROUND_LI, r"<p>(<li.+?)</p>");
lazy_re!(P_BLOCKQUOTE, r"(?i)<p><blockquote([^>]*)>");
lazy_re!(P_BEFORE_BLOCK, format!(r"<p>\s*(</?{ALLBLOCKS}[^>]*>)"));
lazy_re!(P_AFTER_BLOCK, format!(r"(</?{ALLBLOCKS}[^>]*>)\s*</p>"));
// `/<(script|style|svg).*?<\/\1>/s`: the names share no prefix, so the back-reference is the
// same as one alternative per name.
lazy_re!(
    PRESERVE_NEWLINES,
    r"(?s)<script.*?</script>|<style.*?</style>|<svg.*?</svg>"
);
lazy_re!(BLOCK_THEN_BR, format!(r"(</?{ALLBLOCKS}[^>]*>)\s*<br />"));
lazy_re!(
    BR_THEN_BLOCK,
    r"<br />(\s*</?(?:p|li|div|dl|dd|dt|th|pre|td|ul|ol)[^>]*>)"
);

fn replace(re: &Regex, text: &str, with: &[u8]) -> String {
    into_string(re.replace_all(text.as_bytes(), with).into_owned())
}

fn replace_fn(re: &Regex, text: &str, with: impl FnMut(&Captures) -> Vec<u8>) -> String {
    into_string(re.replace_all(text.as_bytes(), with).into_owned())
}

/// PHP's `trim()` default set.
fn is_trim(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\0' | 0x0b)
}

/// `wpautop( $text )` (with `$br = true`): paragraphs and line breaks from double and single
/// newlines, leaving block-level elements and `<pre>` alone.
pub fn wpautop(text: &str) -> String {
    if text.bytes().all(is_trim) {
        return String::new();
    }
    let mut text = format!("{text}\n");
    let mut pre_tags: Vec<String> = vec![];
    if text.contains("<pre") {
        let mut rebuilt = String::with_capacity(text.len());
        let mut parts: Vec<&str> = text.split("</pre>").collect();
        let last = parts.pop().unwrap_or_default();
        for part in parts {
            match part.find("<pre") {
                None => rebuilt.push_str(part),
                Some(start) => {
                    let name = format!("<pre wp-pre-tag-{}></pre>", pre_tags.len());
                    pre_tags.push(format!("{}</pre>", &part[start..]));
                    rebuilt.push_str(&part[..start]);
                    rebuilt.push_str(&name);
                }
            }
        }
        rebuilt.push_str(last);
        text = rebuilt;
    }
    let text = replace(&BR_BR, &text, b"\n\n");
    let text = replace(&BLOCK_OPEN, &text, b"\n\n$0");
    let text = replace(&BLOCK_CLOSE, &text, b"$0\n\n");
    let text = replace(&HR, &text, b"$0\n\n");
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut text = replace_in_html_tags(&text, "\n", " <!-- wpnl --> ");
    if text.contains("<option") {
        text = replace(&OPTION_BEFORE, &text, b"<option");
        text = replace(&OPTION_AFTER, &text, b"</option>");
    }
    if text.contains("</object>") {
        text = replace(&OBJECT_OPEN, &text, b"$1");
        text = replace(&OBJECT_CLOSE, &text, b"</object>");
        text = replace(&PARAM_EMBED, &text, b"$1");
    }
    if text.contains("<source") || text.contains("<track") {
        text = replace(&AV_OPEN, &text, b"$1");
        text = replace(&AV_CLOSE, &text, b"$1");
        text = replace(&SOURCE_TRACK, &text, b"$1");
    }
    if text.contains("<figcaption") {
        text = replace(&FIGCAPTION_OPEN, &text, b"$1");
        text = replace(&FIGCAPTION_CLOSE, &text, b"</figcaption>");
    }
    let text = replace(&MANY_NEWLINES, &text, b"\n\n");

    let mut wrapped = String::with_capacity(text.len() + 64);
    for paragraph in PARAGRAPH_SPLIT.split(text.as_bytes()) {
        if paragraph.is_empty() {
            continue;
        }
        let start = paragraph.iter().position(|&c| c != b'\n');
        let end = paragraph.iter().rposition(|&c| c != b'\n');
        wrapped.push_str("<p>");
        if let (Some(s), Some(e)) = (start, end) {
            wrapped.push_str(&String::from_utf8_lossy(&paragraph[s..=e]));
        }
        wrapped.push_str("</p>\n");
    }
    let text = replace(&EMPTY_P, &wrapped, b"");
    let text = replace(&P_MISSING_CLOSE, &text, b"<p>$1</p></$2>");
    let text = replace(&P_AROUND_BLOCK, &text, b"$1");
    let text = replace(&P_AROUND_LI, &text, b"$1");
    let text = replace(&P_BLOCKQUOTE, &text, b"<blockquote$1><p>");
    let text = text.replace("</blockquote></p>", "</p></blockquote>");
    let text = replace(&P_BEFORE_BLOCK, &text, b"$1");
    let text = replace(&P_AFTER_BLOCK, &text, b"$1");

    // Line breaks, except inside <script>, <style> and <svg>.
    let text = replace_fn(&PRESERVE_NEWLINES, &text, |c| {
        let whole = c.get(0).map(|m| m.as_bytes()).unwrap_or_default();
        let mut out = Vec::with_capacity(whole.len());
        for &byte in whole {
            if byte == b'\n' {
                out.extend_from_slice(b"<WPPreserveNewline />");
            } else {
                out.push(byte);
            }
        }
        out
    });
    let text = text.replace("<br>", "<br />").replace("<br/>", "<br />");
    let text = newlines_to_br(&text);
    let text = text.replace("<WPPreserveNewline />", "\n");

    let text = replace(&BLOCK_THEN_BR, &text, b"$1");
    let text = replace(&BR_THEN_BLOCK, &text, b"$1");
    let mut text = text;
    // `preg_replace( "|\n</p>$|", '</p>', … )`: `$` is the end or before a final newline.
    if text.ends_with("\n</p>") {
        let at = text.len() - 5;
        text.replace_range(at..at + 1, "");
    } else if text.ends_with("\n</p>\n") {
        let at = text.len() - 6;
        text.replace_range(at..at + 1, "");
    }
    if !pre_tags.is_empty() {
        text = restore_pre_tags(&text, &pre_tags);
    }
    if text.contains("<!-- wpnl -->") {
        text = text
            .replace(" <!-- wpnl --> ", "\n")
            .replace("<!-- wpnl -->", "\n");
    }
    text
}

/// `preg_replace( '|(?<!<br />)\s*\n|', "<br />\n", … )`: a run of white space ending in a
/// line feed (up to its last line feed) becomes `<br />` and that line feed, unless the run
/// starts right after a `<br />` (then the run minus its first byte does).
fn newlines_to_br(text: &str) -> String {
    let b = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len() + b.len() / 8);
    let mut i = 0;
    while i < b.len() {
        if !is_pcre_space(b[i]) {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let run_end = i + b[i..]
            .iter()
            .position(|&c| !is_pcre_space(c))
            .unwrap_or(b.len() - i);
        let last_nl = b[i..run_end].iter().rposition(|&c| c == b'\n');
        let Some(last_nl) = last_nl.map(|p| i + p) else {
            out.extend_from_slice(&b[i..run_end]);
            i = run_end;
            continue;
        };
        let mut from = i;
        if i >= 6 && &b[i - 6..i] == b"<br />" {
            // The lookbehind fails at the run's first byte only.
            out.push(b[i]);
            from = i + 1;
        }
        if from > last_nl {
            out.extend_from_slice(&b[from..run_end]);
            i = run_end;
            continue;
        }
        out.extend_from_slice(b"<br />\n");
        out.extend_from_slice(&b[last_nl + 1..run_end]);
        i = run_end;
    }
    into_string(out)
}

/// The `str_replace( array_keys( $pre_tags ), array_values( $pre_tags ), … )` that puts the
/// `<pre>` elements back, in one pass over the placeholders.
fn restore_pre_tags(text: &str, pre_tags: &[String]) -> String {
    const PREFIX: &str = "<pre wp-pre-tag-";
    let mut out =
        String::with_capacity(text.len() + pre_tags.iter().map(String::len).sum::<usize>());
    let mut rest = text;
    while let Some(p) = rest.find(PREFIX) {
        out.push_str(&rest[..p]);
        let after = &rest[p + PREFIX.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let tag = after[..digits]
            .parse::<usize>()
            .ok()
            .filter(|_| after[digits..].starts_with("></pre>"))
            .and_then(|n| pre_tags.get(n).filter(|_| n.to_string() == after[..digits]));
        match tag {
            Some(content) => {
                out.push_str(content);
                rest = &after[digits + "></pre>".len()..];
            }
            None => {
                out.push_str(PREFIX);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The end of the HTML element or comment starting at `i` (`b[i] == b'<'`) as
/// `get_html_split_regex()` finds it: a comment up to its first `-->`, CDATA up to its first
/// `]]>` (each else to the end), any other element up to its first `>` (else to the end).
fn html_split_end(b: &[u8], i: usize) -> usize {
    let rest = &b[i + 1..];
    if rest.starts_with(b"!--") {
        return super::texturize::element_end(b, i);
    }
    if rest.starts_with(b"![CDATA[") {
        return match super::find_bytes(&rest[8..], b"]]>") {
            Some(p) => i + 1 + 8 + p + 3,
            None => b.len(),
        };
    }
    match rest.iter().position(|&c| c == b'>') {
        Some(p) => i + 1 + p + 1,
        None => b.len(),
    }
}

/// `wp_replace_in_html_tags( $haystack, array( $needle => $replace ) )`: replaces inside
/// HTML elements and comments only (`wp_html_split()`).
pub(crate) fn replace_in_html_tags(text: &str, needle: &str, replacement: &str) -> String {
    replace_in_html_tags_with(text, |element| element.replace(needle, replacement))
}

/// Rewrites each HTML element, comment and CDATA section (`wp_html_split()`'s delimiters).
pub(crate) fn replace_in_html_tags_with(text: &str, rewrite: impl Fn(&str) -> String) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut last = 0;
    while let Some(p) = b[i..].iter().position(|&c| c == b'<') {
        let start = i + p;
        let end = html_split_end(b, start);
        out.push_str(&text[last..start]);
        out.push_str(&rewrite(&text[start..end]));
        last = end;
        i = end;
    }
    out.push_str(&text[last..]);
    out
}

/// `(?:$spaces)*+` from `p`.
fn skip_spaces(b: &[u8], mut p: usize) -> usize {
    while space_after(b, p) {
        p += match b[p] {
            0xc2 => 2,
            b'&' => 6,
            _ => 1,
        };
    }
    p
}

/// `shortcode_unautop()`: a registered shortcode standing alone in a paragraph loses the
/// `<p>…</p>` around it (with the `$spaces` beside it).
pub fn shortcode_unautop(text: &str) -> String {
    let b = text.as_bytes();
    let mut first_bracket = super::NextMatch::new(b, b"]");
    let mut closing = super::shortcodes::ClosingTags::new(b);
    let mut memo: [(usize, Option<usize>); 2] = [(usize::MAX, None); 2];
    rewrite(text, b'<', |b, i, out| {
        if !b[i..].starts_with(b"<p>") {
            return None;
        }
        let open = skip_spaces(b, i + 3);
        if b.get(open) != Some(&b'[') {
            return None;
        }
        let name = SHORTCODE_TAGS.iter().find(|n| {
            b[open + 1..].starts_with(n.as_bytes())
                && !b
                    .get(open + 1 + n.len())
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
        })?;
        let after_name = open + 1 + name.len();
        // The attributes run to the first `]`; a `/` right before it closes the tag itself.
        let bracket = first_bracket.at_or_after(after_name)?;
        // The same closing tag can follow many candidates: its check is remembered.
        let mut ends_paragraph = |p: usize| {
            if let Some(&(_, end)) = memo.iter().find(|(at, _)| *at == p) {
                return end;
            }
            let q = skip_spaces(b, p);
            let end = b[q..].starts_with(b"</p>").then_some(q + 4);
            memo[1] = memo[0];
            memo[0] = (p, end);
            end
        };
        let mut found = None;
        if bracket > after_name && b[bracket - 1] == b'/' {
            if let Some(end) = ends_paragraph(bracket + 1) {
                found = Some((bracket + 1, end));
            }
        } else {
            if let Some(close) = closing.at_or_after(name, bracket + 1) {
                let shortcode_end = close + name.len() + 3;
                if let Some(end) = ends_paragraph(shortcode_end) {
                    found = Some((shortcode_end, end));
                }
            }
            if found.is_none()
                && let Some(end) = ends_paragraph(bracket + 1)
            {
                found = Some((bracket + 1, end));
            }
        }
        let (shortcode_end, end) = found?;
        out.extend_from_slice(&b[open..shortcode_end]);
        Some(end)
    })
}
