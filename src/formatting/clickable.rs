//! `make_clickable()` (`formatting.php`, WordPress 6.1): bare URLs, `www.`/`ftp.` hosts and
//! e-mail addresses in text become links; tags, and text inside `<code>`, `<pre>`,
//! `<script>` and `<style>`, are left alone. Each of WordPress's three `preg_replace_callback`
//! patterns is one forward pass; its bounded lookahead (`(?=\S{1,2000}\s)`) reads a cached
//! next-whitespace position, and the final "links within links" cleanup looks `>`s up
//! through `NextMatch`, so hostile text stays linear.

use super::NextMatch;
use super::scan::{into_string, is_pcre_space};
use crate::users::esc_url;

/// Text pieces longer than this are cut at whitespace first (`make_clickable()`'s
/// "expensive edge cases").
const LONG_PIECE: usize = 10_000;
/// The chunk length aimed at, and the longest chunk still linked (`_split_str_by_whitespace`).
const CHUNK_GOAL: usize = 2100;
const CHUNK_MAX: usize = 2101;

/// `make_clickable()`. `rel` is the links' `rel`: `nofollow ugc` while the `comment_text`
/// filter runs, `nofollow` elsewhere (`_make_url_clickable_cb`).
pub fn make_clickable(text: &str, rel: &str) -> String {
    let mut r = String::with_capacity(text.len() + text.len() / 8);
    let mut nested_code_pre = 0usize;
    for piece in split_tags(text) {
        if opens_code(piece) {
            nested_code_pre += 1;
        } else if nested_code_pre > 0 && closes_code(piece) {
            nested_code_pre -= 1;
        }
        if nested_code_pre > 0
            || piece.is_empty()
            || (piece.starts_with('<') && !tag_with_scheme(piece.as_bytes()))
        {
            r.push_str(piece);
            continue;
        }
        if piece.len() > LONG_PIECE {
            for chunk in split_by_whitespace(piece, CHUNK_GOAL) {
                if chunk.len() > CHUNK_MAX {
                    r.push_str(chunk); // Too big, no whitespace: left as it is.
                } else {
                    r.push_str(&make_clickable(chunk, rel));
                }
            }
        } else {
            // Padded with spaces as WordPress pads it, so each pattern's leading character
            // and the URL's trailing whitespace exist at the ends too.
            let padded = format!(" {piece} ");
            let t = link_urls(&padded, rel);
            let t = link_web_ftp(&t, rel);
            let t = link_emails(&t);
            r.push_str(&t[1..t.len() - 1]);
        }
    }
    remove_links_in_links(&r)
}

/// `preg_split( '/(<[^<>]+>)/', $text, -1, PREG_SPLIT_DELIM_CAPTURE )`: text and tags in
/// turn (the text between two tags may be empty).
fn split_tags(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut pieces = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        // The tag's end: the first `<` or `>` after its `<`.
        let end = b[i + 1..]
            .iter()
            .position(|&c| c == b'<' || c == b'>')
            .map(|p| i + 1 + p);
        match end {
            Some(e) if b[e] == b'>' && e > i + 1 => {
                pieces.push(&text[start..i]);
                pieces.push(&text[i..=e]);
                start = e + 1;
                i = e + 1;
            }
            // Another `<` first: this one is text; the scan goes on from that `<`, so
            // every byte is looked at a bounded number of times.
            Some(e) => i = e,
            None => break,
        }
    }
    pieces.push(&text[start..]);
    pieces
}

/// `|^<(code|pre|script|style)[\s>]|i`.
fn opens_code(piece: &str) -> bool {
    let b = piece.as_bytes();
    ["code", "pre", "script", "style"].iter().any(|name| {
        let n = name.len();
        b.len() > n + 1
            && b[0] == b'<'
            && b[1..=n].eq_ignore_ascii_case(name.as_bytes())
            && (is_pcre_space(b[n + 1]) || b[n + 1] == b'>')
    })
}

/// `'</code>' === strtolower( $piece )`, and the same for `pre`, `script`, `style`.
fn closes_code(piece: &str) -> bool {
    ["</code>", "</pre>", "</script>", "</style>"]
        .iter()
        .any(|t| piece.eq_ignore_ascii_case(t))
}

/// `|^<\s*[\w]{1,20}+://|`: a "tag" that is a URL in brackets, which is linked.
fn tag_with_scheme(b: &[u8]) -> bool {
    let mut i = 1;
    while i < b.len() && is_pcre_space(b[i]) {
        i += 1;
    }
    scheme_end(b, i).is_some()
}

/// `[\w]{1,20}+://` at `i`: where the `://` ends. Possessive: a 21st word character makes
/// it fail rather than start later.
fn scheme_end(b: &[u8], i: usize) -> Option<usize> {
    let n = b[i.min(b.len())..]
        .iter()
        .take(20)
        .take_while(|c| is_word(**c))
        .count();
    (n >= 1 && b.get(i + n..i + n + 3) == Some(b"://")).then_some(i + n + 3)
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `[\w\x80-\xff#%\~/@\[\]*(+=&$-]`: a URL character that is not punctuation.
fn is_url_char(c: u8) -> bool {
    is_word(c) || c >= 0x80 || b"#%~/@[]*(+=&$-".contains(&c)
}

/// `_split_str_by_whitespace()`: chunks of about `goal` bytes, each ending with its
/// whitespace; a chunk is longer only when it has no whitespace inside.
fn split_by_whitespace(s: &str, goal: usize) -> Vec<&str> {
    let b = s.as_bytes();
    let mut chunks = Vec::new();
    let mut start = 0;
    while b.len() - start > goal {
        let window = &b[start..=start + goal];
        let pos = match window.iter().rposition(|&c| is_pcre_space(c)) {
            Some(p) => start + p,
            None => match b[start + goal + 1..].iter().position(|&c| is_pcre_space(c)) {
                Some(p) => start + goal + 1 + p,
                None => break,
            },
        };
        chunks.push(&s[start..=pos]);
        start = pos + 1;
    }
    // WordPress drops a last chunk of just "0" (`if ( $string )`); text is never dropped here.
    if start < b.len() {
        chunks.push(&s[start..]);
    }
    chunks
}

/// The first `url_clickable` pattern with `_make_url_clickable_cb()`:
/// `([\s(<.,;:!?])` then a scheme, `://` and URL characters (punctuation only when more URL
/// characters follow), then an optional `)`.
fn link_urls(s: &str, rel: &str) -> String {
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len() + 64);
    // The first whitespace at or after the last position asked (ascending).
    let mut next_space: Option<usize> = None;
    let mut i = 0;
    while i < b.len() {
        let lead = b[i];
        if (is_pcre_space(lead) || b"(<.,;:!?".contains(&lead))
            && let Some(after_scheme) = scheme_end(b, i + 1)
        {
            // `(?=\S{1,2000}\s)`: the next whitespace 1 to 2,000 bytes on.
            let q = match next_space {
                Some(q) if q >= after_scheme => q,
                _ => {
                    let q = b[after_scheme..]
                        .iter()
                        .position(|&c| is_pcre_space(c))
                        .map_or(b.len(), |p| after_scheme + p);
                    next_space = Some(q);
                    q
                }
            };
            if q < b.len() && (1..=2000).contains(&(q - after_scheme)) {
                let mut u = after_scheme;
                while u < b.len() && is_url_char(b[u]) {
                    u += 1;
                }
                while u + 1 < b.len() && b"'.,;:!?)".contains(&b[u]) && is_url_char(b[u + 1]) {
                    u += 2;
                    while u < b.len() && is_url_char(b[u]) {
                        u += 1;
                    }
                }
                let paren = b.get(u) == Some(&b')');
                let end = u + usize::from(paren);
                url_link(&s[i..end], &s[i + 1..u], paren, rel, &mut out);
                i = end;
                continue;
            }
        }
        out.push(lead);
        i += 1;
    }
    into_string(out)
}

/// `_make_url_clickable_cb()`: `whole` is the match, `url` its URL, `paren` whether a `)`
/// followed it.
fn url_link(whole: &str, url: &str, paren: bool, rel: &str, out: &mut Vec<u8>) {
    let mut url = url.to_owned();
    // A `)` after a URL holding a `(` joins the URL, to be balanced below.
    let paren_after = if paren && url.find('(').is_some_and(|p| p > 0) {
        url.push(')');
        ""
    } else if paren {
        ")"
    } else {
        ""
    };
    // Parentheses stay in the URL only when paired: what follows the last `)` goes to the
    // suffix until they are (each cut removes one `)` and any `(` after it).
    let b = url.as_bytes();
    let mut opens = b.iter().filter(|&&c| c == b'(').count();
    let mut closes = b.iter().filter(|&&c| c == b')').count();
    let mut cut = b.len();
    while opens < closes {
        let Some(p) = b[..cut].iter().rposition(|&c| c == b')') else {
            break;
        };
        opens -= b[p..cut].iter().filter(|&&c| c == b'(').count();
        closes -= 1;
        cut = p;
    }
    let escaped = esc_url(&url[..cut]);
    if escaped.is_empty() {
        out.extend_from_slice(whole.as_bytes());
        return;
    }
    out.push(whole.as_bytes()[0]);
    push_link(out, &escaped, rel);
    out.extend_from_slice(&url.as_bytes()[cut..]);
    out.extend_from_slice(paren_after.as_bytes());
}

fn push_link(out: &mut Vec<u8>, url: &str, rel: &str) {
    for part in ["<a href=\"", url, "\" rel=\"", rel, "\">", url, "</a>"] {
        out.extend_from_slice(part.as_bytes());
    }
}

/// `#([\s>])((www|ftp)\.[\w\x80-\xff\#$%&~/.\-;:=,?@\[\]+]+)#is` with
/// `_make_web_ftp_clickable_cb()`.
fn link_web_ftp(s: &str, rel: &str) -> String {
    let is_host_char = |c: u8| is_word(c) || c >= 0x80 || b"#$%&~/.-;:=,?@[]+".contains(&c);
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len() + 64);
    let mut i = 0;
    while i < b.len() {
        let lead = b[i];
        if (is_pcre_space(lead) || lead == b'>')
            && b.get(i + 1..i + 5)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"www.") || p.eq_ignore_ascii_case(b"ftp."))
            && b.get(i + 5).is_some_and(|&c| is_host_char(c))
        {
            let mut end = i + 5;
            while end < b.len() && is_host_char(b[end]) {
                end += 1;
            }
            let mut dest = format!("http://{}", &s[i + 1..end]);
            let mut trailing = None;
            if let Some(last) = dest.pop() {
                if matches!(last, '.' | ',' | ';' | ':' | ')') {
                    trailing = Some(last);
                } else {
                    dest.push(last);
                }
            }
            let dest = esc_url(&dest);
            if dest.is_empty() {
                out.extend_from_slice(&b[i..end]);
            } else {
                out.push(lead);
                push_link(&mut out, &dest, rel);
                if let Some(t) = trailing {
                    out.push(t as u8);
                }
            }
            i = end;
            continue;
        }
        out.push(lead);
        i += 1;
    }
    into_string(out)
}

/// `#([\s>])([.0-9a-z_+-]+)@(([0-9a-z-]+\.)+[0-9a-z]{2,})#i` with
/// `_make_email_clickable_cb()`.
fn link_emails(s: &str) -> String {
    let is_local = |c: u8| c.is_ascii_alphanumeric() || b"._+-".contains(&c);
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len() + 64);
    let mut i = 0;
    while i < b.len() {
        let lead = b[i];
        if is_pcre_space(lead) || lead == b'>' {
            let mut at = i + 1;
            while at < b.len() && is_local(b[at]) {
                at += 1;
            }
            if at > i + 1
                && b.get(at) == Some(&b'@')
                && let Some(end) = email_domain_end(b, at + 1)
            {
                let email = &s[i + 1..end];
                out.push(lead);
                for part in ["<a href=\"mailto:", email, "\">", email, "</a>"] {
                    out.extend_from_slice(part.as_bytes());
                }
                i = end;
                continue;
            }
        }
        out.push(lead);
        i += 1;
    }
    into_string(out)
}

/// `([0-9a-z-]+\.)+[0-9a-z]{2,}` at `d`: where the domain ends. The labels cannot hold a
/// dot, so the only choice backtracking makes is how many labels come before the last part,
/// most first, and the last part is the longest run of letters and digits after them.
fn email_domain_end(b: &[u8], d: usize) -> Option<usize> {
    let is_label = |c: u8| c.is_ascii_alphanumeric() || c == b'-';
    let mut after_dots = Vec::new();
    let mut p = d;
    loop {
        let mut q = p;
        while q < b.len() && is_label(b[q]) {
            q += 1;
        }
        if q > p && b.get(q) == Some(&b'.') {
            after_dots.push(q + 1);
            p = q + 1;
        } else {
            break;
        }
    }
    after_dots.iter().rev().find_map(|&t| {
        let run = b[t..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        (run >= 2).then_some(t + run)
    })
}

/// `preg_replace( '#(<a([ \r\n\t]+[^>]+?>|>))<a [^>]+?>([^>]+?)</a></a>#i', '$1$3</a>' )`:
/// a link made inside an existing link is taken out again.
fn remove_links_in_links(r: &str) -> String {
    let b = r.as_bytes();
    if !b.windows(8).any(|w| w.eq_ignore_ascii_case(b"</a></a>")) {
        return r.to_owned();
    }
    // Each lookup asks from positions that only grow (attempts go left to right).
    let mut outer_gt = NextMatch::new(b, b">");
    let mut inner_gt = NextMatch::new(b, b">");
    let mut content_gt = NextMatch::new(b, b">");
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'<' && b.get(i + 1).is_some_and(|c| c.eq_ignore_ascii_case(&b'a')) {
            let first_gt = match b.get(i + 2) {
                Some(b'>') => Some(i + 2),
                Some(b' ' | b'\r' | b'\n' | b'\t') => {
                    outer_gt.at_or_after(i + 2).filter(|&g| g >= i + 4)
                }
                _ => None,
            };
            let found = first_gt.and_then(|g1| {
                let inner = g1 + 1;
                if !b
                    .get(inner..inner + 3)
                    .is_some_and(|p| p.eq_ignore_ascii_case(b"<a "))
                {
                    return None;
                }
                let g2 = inner_gt.at_or_after(inner + 3).filter(|&g| g > inner + 3)?;
                let g3 = content_gt.at_or_after(g2 + 1)?;
                let closes = g3 >= g2 + 5
                    && b.get(g3 - 3..g3 + 5)
                        .is_some_and(|p| p.eq_ignore_ascii_case(b"</a></a>"));
                closes.then_some((g1, g2, g3))
            });
            if let Some((g1, g2, g3)) = found {
                out.extend_from_slice(&b[i..=g1]);
                out.extend_from_slice(&b[g2 + 1..g3 - 3]);
                out.extend_from_slice(b"</a>");
                i = g3 + 5;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    into_string(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_hosts_and_addresses_become_links() {
        assert_eq!(
            make_clickable("see http://x.test/a_(b) and (http://x.test/c).", "nofollow"),
            "see <a href=\"http://x.test/a_(b)\" rel=\"nofollow\">http://x.test/a_(b)</a> and \
             (<a href=\"http://x.test/c\" rel=\"nofollow\">http://x.test/c</a>)."
        );
        assert_eq!(
            make_clickable("go www.x.test, mail a.b@c.x.co.uk.", "nofollow ugc"),
            "go <a href=\"http://www.x.test\" rel=\"nofollow ugc\">http://www.x.test</a>, mail \
             <a href=\"mailto:a.b@c.x.co.uk\">a.b@c.x.co.uk</a>."
        );
        assert_eq!(
            make_clickable(
                "<code>http://x.test</code> <a href=\"u\">http://y.test</a>",
                "n"
            ),
            "<code>http://x.test</code> <a href=\"u\">http://y.test</a>"
        );
    }

    #[test]
    fn long_pieces_are_cut_at_whitespace() {
        let word = "y".repeat(3000);
        let text = format!("{word} http://x.test {}", "z ".repeat(6000));
        let out = make_clickable(&text, "nofollow");
        assert!(out.starts_with(&word));
        assert!(out.contains("<a href=\"http://x.test\""));
        assert_eq!(
            split_by_whitespace(
                "1234 67890 1234 67890a cd 1234   890 123456789 1234567890a    45678   1 3 5 7 90 ",
                10
            ),
            [
                "1234 67890 ",
                "1234 ",
                "67890a cd ",
                "1234   890 ",
                "123456789 ",
                "1234567890a ",
                "   45678   ",
                "1 3 5 7 90 "
            ]
        );
    }
}
