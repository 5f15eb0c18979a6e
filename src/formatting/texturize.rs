//! `wptexturize()` and `wptexturize_primes()` of WordPress 6.1's `formatting.php`, with the
//! default (English) replacements and `no_texturize` lists.
//!
//! Each of WordPress's `preg_replace` patterns becomes one forward pass that looks at a
//! bounded window around the candidate byte (the lookarounds are at most six bytes long), so
//! the whole routine is a fixed number of linear passes, whatever the input.

use super::scan::{at_end_z, into_string, rewrite, space_after, space_before};
use super::shortcodes::SHORTCODE_TAGS;

const APOS_FLAG: &str = "<!--apos-->";
const OPEN_SQ_FLAG: &str = "<!--osq-->";
const OPEN_Q_FLAG: &str = "<!--oq-->";
const PRIME_FLAG: &str = "<!--wp-prime-or-quote-->";

const OPENING_QUOTE: &str = "&#8220;";
const CLOSING_QUOTE: &str = "&#8221;";
const APOS: &str = "&#8217;";
const PRIME: &str = "&#8242;";
const DOUBLE_PRIME: &str = "&#8243;";
const OPENING_SINGLE_QUOTE: &str = "&#8216;";
const CLOSING_SINGLE_QUOTE: &str = "&#8217;";
const EN_DASH: &str = "&#8211;";
const EM_DASH: &str = "&#8212;";

/// `$static_characters` → `$static_replacements`, applied in order (`str_replace` with
/// arrays), the cockney words included.
const STATIC: &[(&str, &str)] = &[
    ("...", "&#8230;"),
    ("``", OPENING_QUOTE),
    ("''", CLOSING_QUOTE),
    (" (tm)", " &#8482;"),
    ("'tain't", "&#8217;tain&#8217;t"),
    ("'twere", "&#8217;twere"),
    ("'twas", "&#8217;twas"),
    ("'tis", "&#8217;tis"),
    ("'twill", "&#8217;twill"),
    ("'til", "&#8217;til"),
    ("'bout", "&#8217;bout"),
    ("'nuff", "&#8217;nuff"),
    ("'round", "&#8217;round"),
    ("'cause", "&#8217;cause"),
    ("'em", "&#8217;em"),
];

/// `$default_no_texturize_tags`.
const NO_TEXTURIZE_TAGS: &[&str] = &["pre", "code", "kbd", "style", "script", "tt"];

/// The pieces `preg_split( _get_wptexturize_split_regex( … ) )` cuts a text into.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Piece {
    Text,
    Comment,
    Element,
    Shortcode,
}

/// The end of the element starting at `i` (`b[i] == b'<'`) as `_get_wptexturize_split_regex()`
/// finds it: a comment up to its first `-->` (or the end), else up to the next `>` (or the end).
pub(super) fn element_end(b: &[u8], i: usize) -> usize {
    if b[i + 1..].starts_with(b"!--") {
        // `!(?:-(?!->)[^\-]*+)*+(?:-->)?`: stops at the first `-->` from the first dash.
        return match super::find_bytes(&b[i + 2..], b"-->") {
            Some(p) => i + 2 + p + 3,
            None => b.len(),
        };
    }
    match b[i + 1..].iter().position(|&c| c == b'>') {
        Some(p) => i + 1 + p + 1,
        None => b.len(),
    }
}

/// `_get_wptexturize_shortcode_regex()` anchored at `i` (`b[i] == b'['`), for the registered
/// shortcodes: `\[[\/\[]?(?:names)(?=[\s\]\/])(?:[^\[\]<>]+|<[^\[\]>]*>)*+\]\]?`.
pub(super) fn shortcode_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if matches!(b.get(j), Some(b'/' | b'[')) {
        j += 1;
    }
    let name = SHORTCODE_TAGS
        .iter()
        .find(|n| b[j..].starts_with(n.as_bytes()))?;
    let mut k = j + name.len();
    if !matches!(b.get(k), Some(c) if super::scan::is_pcre_space(*c) || *c == b']' || *c == b'/') {
        return None;
    }
    loop {
        match b.get(k) {
            Some(b'<') => {
                let p = b[k + 1..]
                    .iter()
                    .position(|&c| matches!(c, b'[' | b']' | b'>'))?;
                if b[k + 1 + p] != b'>' {
                    // The possessive loop stops at this `<`, where `\]` cannot match.
                    return None;
                }
                k = k + 1 + p + 1;
            }
            Some(b'[' | b'>') | None => return None,
            Some(b']') => break,
            Some(_) => {
                let p = b[k..]
                    .iter()
                    .position(|&c| matches!(c, b'[' | b']' | b'<' | b'>'))
                    .unwrap_or(b.len() - k);
                k += p;
            }
        }
    }
    let mut end = k + 1;
    if b.get(end) == Some(&b']') {
        end += 1;
    }
    Some(end)
}

fn split(text: &str) -> Vec<(Piece, &str)> {
    let b = text.as_bytes();
    let mut pieces = vec![];
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        let found = match b[i] {
            b'<' => {
                let end = element_end(b, i);
                let kind = if b[i + 1..].starts_with(b"!--") {
                    Piece::Comment
                } else {
                    Piece::Element
                };
                Some((end, kind))
            }
            b'[' => shortcode_end(b, i).map(|e| (e, Piece::Shortcode)),
            _ => None,
        };
        match found {
            Some((end, kind)) => {
                if start < i {
                    pieces.push((Piece::Text, &text[start..i]));
                }
                pieces.push((kind, &text[i..end]));
                i = end;
                start = end;
            }
            None => i += 1,
        }
    }
    if start < b.len() {
        pieces.push((Piece::Text, &text[start..]));
    }
    pieces
}

/// `_wptexturize_pushpop_element()` for HTML elements and `$no_texturize_tags`.
fn pushpop_element(text: &str, stack: &mut Vec<String>) {
    let b = text.as_bytes();
    let (opening, offset) = if b.len() > 1 && b[1] != b'/' {
        (true, 1)
    } else if stack.is_empty() {
        return;
    } else {
        (false, 2)
    };
    // `substr( $text, $offset, strpos( ' ' ) - $offset )`, or up to the last byte.
    let end = match b.iter().position(|&c| c == b' ') {
        Some(space) if space >= offset => space,
        // A negative length counts from the end (PHP's substr).
        Some(space) => b.len().saturating_sub(offset - space),
        None => b.len().saturating_sub(1),
    };
    let tag = b.get(offset..end.max(offset)).unwrap_or_default();
    if !NO_TEXTURIZE_TAGS.iter().any(|t| t.as_bytes() == tag) {
        return;
    }
    if opening {
        stack.push(String::from_utf8_lossy(tag).into_owned());
    } else if stack.last().is_some_and(|t| t.as_bytes() == tag) {
        stack.pop();
    }
}

/// `wptexturize()`: curly quotes, apostrophes, primes, dashes, ellipses, `×` and `&#038;`,
/// outside HTML tags, comments, shortcodes and `pre`/`code`/`kbd`/`style`/`script`/`tt`.
pub fn wptexturize(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let mut stack: Vec<String> = vec![];
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for (kind, piece) in split(text) {
        match kind {
            Piece::Comment | Piece::Shortcode => out.push_str(piece),
            Piece::Element => {
                let fixed = amp_to_entity(piece);
                pushpop_element(&fixed, &mut stack);
                out.push_str(&fixed);
            }
            Piece::Text => {
                if super::php_trim(piece).is_empty() || !stack.is_empty() {
                    out.push_str(piece);
                } else {
                    out.push_str(&texturize_text(piece));
                }
            }
        }
    }
    out
}

fn texturize_text(piece: &str) -> String {
    let mut t = piece.to_owned();
    for (from, to) in STATIC {
        if t.contains(from) {
            t = t.replace(from, to);
        }
    }
    if t.contains('\'') {
        t = apos_passes(&t);
        t = wptexturize_primes(&t, b'\'', PRIME, OPEN_SQ_FLAG, CLOSING_SINGLE_QUOTE);
        t = t
            .replace(APOS_FLAG, APOS)
            .replace(OPEN_SQ_FLAG, OPENING_SINGLE_QUOTE);
    }
    if t.contains('"') {
        t = quote_passes(&t);
        t = wptexturize_primes(&t, b'"', DOUBLE_PRIME, OPEN_Q_FLAG, CLOSING_QUOTE);
        t = t.replace(OPEN_Q_FLAG, OPENING_QUOTE);
    }
    if t.contains('-') {
        t = dash_passes(&t);
    }
    if t.contains('x') {
        t = times(&t);
    }
    amp_to_entity(&t)
}

fn is_digit(b: &[u8], p: usize) -> bool {
    b.get(p).is_some_and(u8::is_ascii_digit)
}

/// `(?=\Z|[.,:;!?)}\-\]]|&gt;|$spaces)`: what may follow a closing quote.
fn closing_follows(b: &[u8], p: usize) -> bool {
    at_end_z(b, p)
        || matches!(
            b.get(p),
            Some(b'.' | b',' | b':' | b';' | b'!' | b'?' | b')' | b'}' | b'-' | b']')
        )
        || b[p..].starts_with(b"&gt;")
        || space_after(b, p)
}

/// The end of a run of `[.,\d]` starting at `p`.
fn number_run_end(b: &[u8], p: usize) -> usize {
    p + b[p..]
        .iter()
        .position(|c| !(c.is_ascii_digit() || *c == b'.' || *c == b','))
        .unwrap_or(b.len() - p)
}

/// The `$dynamic_characters['apos']` patterns, one pass each, in order.
fn apos_passes(t: &str) -> String {
    // '99' and '99" at the end of a quotation.
    let t = rewrite(t, b'\'', |b, i, out| {
        if !(is_digit(b, i + 1) && is_digit(b, i + 2)) {
            return None;
        }
        let close = match b.get(i + 3) {
            Some(b'\'') => CLOSING_SINGLE_QUOTE,
            _ => return None,
        };
        if !closing_follows(b, i + 4) {
            return None;
        }
        out.extend_from_slice(APOS_FLAG.as_bytes());
        out.extend_from_slice(&b[i + 1..i + 3]);
        out.extend_from_slice(close.as_bytes());
        Some(i + 4)
    });
    let t = rewrite(&t, b'\'', |b, i, out| {
        if !(is_digit(b, i + 1) && is_digit(b, i + 2) && b.get(i + 3) == Some(&b'"')) {
            return None;
        }
        if !closing_follows(b, i + 4) {
            return None;
        }
        out.extend_from_slice(APOS_FLAG.as_bytes());
        out.extend_from_slice(&b[i + 1..i + 3]);
        out.extend_from_slice(CLOSING_QUOTE.as_bytes());
        Some(i + 4)
    });
    // '99 '99s '99's, but never '9 or '99% or '999 or '99.0.
    let t = rewrite(&t, b'\'', |b, i, out| {
        if !(is_digit(b, i + 1) && is_digit(b, i + 2)) {
            return None;
        }
        let q = i + 3;
        let ok = at_end_z(b, q)
            || !(matches!(b.get(q), Some(c) if *c == b'%' || c.is_ascii_digit())
                || (matches!(b.get(q), Some(b'.' | b',')) && is_digit(b, q + 1)));
        if !ok {
            return None;
        }
        out.extend_from_slice(APOS_FLAG.as_bytes());
        Some(i + 1)
    });
    // Quoted numbers like '0.42'.
    let t = rewrite(&t, b'\'', |b, i, out| {
        if !(i == 0 || space_before(b, i)) || !is_digit(b, i + 1) {
            return None;
        }
        let end = number_run_end(b, i + 2);
        if b.get(end) != Some(&b'\'') {
            return None;
        }
        out.extend_from_slice(OPEN_SQ_FLAG.as_bytes());
        out.extend_from_slice(&b[i + 1..end]);
        out.extend_from_slice(CLOSING_SINGLE_QUOTE.as_bytes());
        Some(end + 1)
    });
    // Single quote at start, or preceded by (, {, <, [, ", -, or spaces.
    let t = rewrite(&t, b'\'', |b, i, out| {
        let ok = i == 0
            || matches!(b[i - 1], b'(' | b'[' | b'{' | b'"' | b'-')
            || (i >= 4 && &b[i - 4..i] == b"&lt;")
            || space_before(b, i);
        if !ok {
            return None;
        }
        out.extend_from_slice(OPEN_SQ_FLAG.as_bytes());
        Some(i + 1)
    });
    // Apostrophe in a word.
    rewrite(&t, b'\'', |b, i, out| {
        if space_before(b, i) {
            return None;
        }
        let p = i + 1;
        let blocked = at_end_z(b, p)
            || matches!(
                b.get(p),
                Some(
                    b'.' | b','
                        | b':'
                        | b';'
                        | b'!'
                        | b'?'
                        | b'"'
                        | b'\''
                        | b'('
                        | b')'
                        | b'{'
                        | b'}'
                        | b'['
                        | b']'
                        | b'-'
                )
            )
            || b[p..].starts_with(b"&lt;")
            || b[p..].starts_with(b"&gt;")
            || space_after(b, p);
        if blocked {
            return None;
        }
        out.extend_from_slice(APOS_FLAG.as_bytes());
        Some(i + 1)
    })
}

/// The `$dynamic_characters['quote']` patterns.
fn quote_passes(t: &str) -> String {
    // Quoted numbers like "42".
    let t = rewrite(t, b'"', |b, i, out| {
        if !(i == 0 || space_before(b, i)) || !is_digit(b, i + 1) {
            return None;
        }
        let end = number_run_end(b, i + 2);
        if b.get(end) != Some(&b'"') {
            return None;
        }
        out.extend_from_slice(OPEN_Q_FLAG.as_bytes());
        out.extend_from_slice(&b[i + 1..end]);
        out.extend_from_slice(CLOSING_QUOTE.as_bytes());
        Some(end + 1)
    });
    // Double quote at start, or preceded by (, {, <, [, -, or spaces, and not followed by
    // spaces.
    rewrite(&t, b'"', |b, i, out| {
        let ok = i == 0
            || matches!(b[i - 1], b'(' | b'[' | b'{' | b'-')
            || (i >= 4 && &b[i - 4..i] == b"&lt;")
            || space_before(b, i);
        if !ok || space_after(b, i + 1) {
            return None;
        }
        out.extend_from_slice(OPEN_Q_FLAG.as_bytes());
        Some(i + 1)
    })
}

/// The `$dynamic_characters['dash']` patterns.
fn dash_passes(t: &str) -> String {
    let t = t.replace("---", EM_DASH);
    let t = rewrite(&t, b'-', |b, i, out| {
        if !(i == 0 || space_before(b, i)) || b.get(i + 1) != Some(&b'-') {
            return None;
        }
        if !(at_end_z(b, i + 2) || space_after(b, i + 2)) {
            return None;
        }
        out.extend_from_slice(EM_DASH.as_bytes());
        Some(i + 2)
    });
    let t = rewrite(&t, b'-', |b, i, out| {
        if b.get(i + 1) != Some(&b'-') || (i >= 2 && &b[i - 2..i] == b"xn") {
            return None;
        }
        out.extend_from_slice(EN_DASH.as_bytes());
        Some(i + 2)
    });
    rewrite(&t, b'-', |b, i, out| {
        if !(i == 0 || space_before(b, i)) || !(at_end_z(b, i + 1) || space_after(b, i + 1)) {
            return None;
        }
        out.extend_from_slice(EN_DASH.as_bytes());
        Some(i + 1)
    })
}

fn is_word(c: Option<&u8>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// `preg_replace( '/\b(\d(?(?<=0)[\d\.,]+|[\d\.,]*))x(\d[\d\.,]*)\b/', '$1&#215;$2', … )`:
/// 9x9, but never 0x9999. A failed attempt skips the whole number, since every later start
/// inside it reaches the same `x`.
fn times(t: &str) -> String {
    let b = t.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len() + 8);
    let mut i = 0;
    while i < b.len() {
        if !(b[i].is_ascii_digit() && (i == 0 || !is_word(b.get(i - 1)))) {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let r = number_run_end(b, i + 1);
        let left_ok = b.get(r) == Some(&b'x') && !(b[i] == b'0' && r == i + 1);
        let mut matched = None;
        if left_ok && is_digit(b, r + 1) {
            let k = r + 1;
            let r2 = number_run_end(b, k + 1);
            // The longest end with a word boundary (`\b` backtracks over `[\d.,]*`).
            matched = (k + 1..=r2)
                .rev()
                .find(|&e| is_word(b.get(e - 1)) != is_word(b.get(e)));
            if let Some(e) = matched {
                out.extend_from_slice(&b[i..r]);
                out.extend_from_slice(b"&#215;");
                out.extend_from_slice(&b[k..e]);
                i = e;
            }
        }
        if matched.is_none() {
            let skip = r.max(i + 1);
            out.extend_from_slice(&b[i..skip]);
            i = skip;
        }
    }
    into_string(out)
}

/// `preg_replace( '/&(?!#(?:\d+|x[a-f0-9]+);|[a-z1-4]{1,8};)/i', '&#038;', … )`.
pub(super) fn amp_to_entity(t: &str) -> String {
    rewrite(t, b'&', |b, i, out| {
        if looks_like_entity(b, i) {
            return None;
        }
        out.extend_from_slice(b"&#038;");
        Some(i + 1)
    })
}

fn looks_like_entity(b: &[u8], i: usize) -> bool {
    let rest = &b[i + 1..];
    if rest.first() == Some(&b'#') {
        let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 && rest.get(1 + digits) == Some(&b';') {
            return true;
        }
        if matches!(rest.get(1), Some(b'x' | b'X')) {
            let hex = rest[2..]
                .iter()
                .take_while(|c| c.is_ascii_hexdigit())
                .count();
            if hex > 0 && rest.get(2 + hex) == Some(&b';') {
                return true;
            }
        }
        return false;
    }
    let name = rest
        .iter()
        .take(9)
        .take_while(|c| c.is_ascii_alphabetic() || (b'1'..=b'4').contains(c))
        .count();
    (1..=8).contains(&name) && rest.get(name) == Some(&b';')
}

/// `wptexturize_primes()`: decides, sentence by sentence (split at opening quotes), which
/// remaining quotes close a quotation and which are primes (7' or 9").
fn wptexturize_primes(
    haystack: &str,
    needle: u8,
    prime: &str,
    open_quote: &str,
    close_quote: &str,
) -> String {
    let quote = |s: &str, to: &str| -> (String, usize) {
        let mut n = 0;
        let r = rewrite(s, needle, |b, i, out| {
            if !closing_follows(b, i + 1) {
                return None;
            }
            out.extend_from_slice(to.as_bytes());
            n += 1;
            Some(i + 1)
        });
        (r, n)
    };
    let primes = |s: &str| {
        rewrite(s, needle, |b, i, out| {
            if i == 0 || !b[i - 1].is_ascii_digit() {
                return None;
            }
            out.extend_from_slice(prime.as_bytes());
            Some(i + 1)
        })
    };
    let mut out = String::with_capacity(haystack.len() + 16);
    for (key, sentence) in haystack.split(open_quote).enumerate() {
        if key > 0 {
            out.push_str(open_quote);
        }
        let mut s;
        if !sentence.as_bytes().contains(&needle) {
            out.push_str(sentence);
            continue;
        } else if key != 0 && !sentence.contains(close_quote) {
            let (flagged, count) = quote(sentence, PRIME_FLAG);
            s = flagged;
            if count > 1 {
                // Multiple closing quote candidates: one not after a digit closes.
                let mut count2 = 0;
                s = flag_rewrite(&s, |after_digit| {
                    if after_digit {
                        None
                    } else {
                        count2 += 1;
                        Some(close_quote)
                    }
                });
                if count2 == 0 {
                    let with_period = format!("{PRIME_FLAG}.");
                    let pos = s.rfind(&with_period).or_else(|| s.rfind(PRIME_FLAG));
                    if let Some(pos) = pos {
                        s.replace_range(pos..pos + PRIME_FLAG.len(), close_quote);
                    }
                }
                s = primes(&s);
                s = flag_rewrite(&s, |after_digit| after_digit.then_some(prime));
                s = s.replace(PRIME_FLAG, close_quote);
            } else if count == 1 {
                s = s.replace(PRIME_FLAG, close_quote);
                s = primes(&s);
            } else {
                s = primes(&s);
            }
        } else {
            s = primes(sentence);
            s = quote(&s, close_quote).0;
        }
        if needle == b'"' && s.contains('"') {
            s = s.replace('"', close_quote);
        }
        out.push_str(&s);
    }
    out
}

/// Replaces each prime-or-quote flag for which `to(preceded by a digit)` says so.
fn flag_rewrite<'a>(s: &str, mut to: impl FnMut(bool) -> Option<&'a str>) -> String {
    rewrite(s, b'<', |b, i, out| {
        if !b[i..].starts_with(PRIME_FLAG.as_bytes()) {
            return None;
        }
        let r = to(i > 0 && b[i - 1].is_ascii_digit())?;
        out.extend_from_slice(r.as_bytes());
        Some(i + PRIME_FLAG.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_example() {
        assert_eq!(
            wptexturize("It's a \"test\" -- ok & done..."),
            "It&#8217;s a &#8220;test&#8221; &#8212; ok &#038; done&#8230;"
        );
    }

    #[test]
    fn no_texturize_inside_code() {
        assert_eq!(
            wptexturize("<code>\"a\"</code> \"b\""),
            "<code>\"a\"</code> &#8220;b&#8221;"
        );
    }
}
