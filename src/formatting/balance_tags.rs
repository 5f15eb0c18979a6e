//! `force_balance_tags()` (`formatting.php`, WordPress 6.1): tags are lower-cased and
//! closed, stray closing tags dropped, void elements written `<br />`. WordPress matches
//! the next tag with a regex and copies the rest of the text each time; here one forward
//! pass matches each `<` once, the `>` ending an attribute list is looked up through
//! `NextMatch`, and a closing tag is looked for in the open ones by a count per name, so
//! hostile text stays linear.

use std::collections::HashMap;

use super::NextMatch;
use super::scan::is_pcre_space;
use crate::formatting::php_trim;

/// Known single-entity (void) tags.
const SINGLE_TAGS: &[&str] = &[
    "area", "base", "basefont", "br", "col", "command", "embed", "frame", "hr", "img", "input",
    "isindex", "link", "meta", "param", "source", "track", "wbr",
];
/// Tags that can be immediately nested within themselves.
const NESTABLE_TAGS: &[&str] = &[
    "article",
    "aside",
    "blockquote",
    "details",
    "div",
    "figure",
    "object",
    "q",
    "section",
    "span",
];

/// One match of WordPress's tag pattern.
struct TagMatch {
    end: usize,
    closing: bool,
    name: std::ops::Range<usize>,
    /// Group 4 (whitespace before the attributes), when the second branch matched.
    pre_ws: std::ops::Range<usize>,
    /// Group 5, or group 3 (`/` or nothing) for the first branch.
    attributes: std::ops::Range<usize>,
}

/// `force_balance_tags()`.
pub fn force_balance_tags(text: &str) -> String {
    // WordPress's fixes for `< !--` and for `<` before a digit (`<3`).
    let text = text.replace("< !--", "<    !--");
    let text = escape_lt_digit(&text);
    let b = text.as_bytes();
    let mut gt = NextMatch::new(b, b">");

    let mut stack: Vec<String> = Vec::new();
    let mut open: HashMap<String, usize> = HashMap::new();
    let mut queue = String::new();
    let mut out = String::with_capacity(text.len() + 16);
    let (mut copied, mut i) = (0, 0);
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        let Some(m) = match_tag(b, i, &mut gt) else {
            i += 1;
            continue;
        };
        out.push_str(&queue);
        queue.clear();
        let tag = text[m.name.clone()].to_ascii_lowercase();
        let is_single = SINGLE_TAGS.contains(&tag.as_str());
        let mut pre_ws = &text[m.pre_ws.clone()];
        let mut attributes = php_trim(&text[m.attributes.clone()]).to_owned();
        let self_closer = attributes.ends_with('/');
        let mut written = String::new();
        if m.closing {
            if stack.last() == Some(&tag) {
                written = format!("</{tag}>");
                pop(&mut stack, &mut open);
            } else if open.get(&tag).is_some_and(|&n| n > 0) {
                // Closing a tag further down: everything above it is closed first.
                while let Some(top) = pop(&mut stack, &mut open) {
                    queue.push_str(&format!("</{top}>"));
                    if top == tag {
                        break;
                    }
                }
            }
            // Otherwise a closing tag nothing opened: dropped.
        } else {
            if self_closer {
                // Presents itself as self-closing but is not a void element: closed at once.
                if !is_single {
                    let inner = php_trim(&attributes[..attributes.len() - 1]).to_owned();
                    attributes = format!("{inner}></{tag}");
                }
            } else if is_single {
                pre_ws = " ";
                attributes.push('/');
            } else {
                if !NESTABLE_TAGS.contains(&tag.as_str()) && stack.last() == Some(&tag) {
                    queue = format!("</{tag}>");
                    pop(&mut stack, &mut open);
                }
                *open.entry(tag.clone()).or_default() += 1;
                stack.push(tag.clone());
            }
            if self_closer && is_single {
                pre_ws = " ";
            }
            written = format!("<{tag}{pre_ws}{attributes}>");
            if !queue.is_empty() {
                queue.push_str(&written);
                written.clear();
            }
        }
        out.push_str(&text[copied..i]);
        out.push_str(&written);
        copied = m.end;
        i = m.end;
    }
    out.push_str(&queue);
    out.push_str(&text[copied..]);
    while let Some(top) = pop(&mut stack, &mut open) {
        out.push_str(&format!("</{top}>"));
    }
    out.replace("< !--", "<!--").replace("<    !--", "< !--")
}

fn pop(stack: &mut Vec<String>, open: &mut HashMap<String, usize>) -> Option<String> {
    let top = stack.pop()?;
    if let Some(n) = open.get_mut(&top) {
        *n = n.saturating_sub(1);
    }
    Some(top)
}

/// `preg_replace( '#<([0-9]{1})#', '&lt;$1', $text )`.
fn escape_lt_digit(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for i in 0..b.len() {
        if b[i] == b'<' && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            out.push_str(&text[copied..i]);
            out.push_str("&lt;");
            copied = i + 1;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// WordPress's tag pattern at `i` (a `<`):
/// `<(/?)((?:[a-z](?:[a-z0-9._]*)-(?:[a-z0-9._-]+)+)|(?:[\w:]+))(?:\s*(/?)|(\s+)([^>]*))>`.
/// Case-sensitive. A shorter name would be followed by a name character, which neither
/// branch after it accepts, so each kind of name is matched at its longest only.
fn match_tag(b: &[u8], i: usize, gt: &mut NextMatch<'_>) -> Option<TagMatch> {
    let closing = b.get(i + 1) == Some(&b'/');
    let start = i + 1 + usize::from(closing);
    custom_element_name_end(b, start)
        .and_then(|end| tag_tail(b, start, end, closing, gt))
        .or_else(|| {
            let n = b[start.min(b.len())..]
                .iter()
                .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
                .count();
            (n > 0)
                .then(|| tag_tail(b, start, start + n, closing, gt))
                .flatten()
        })
}

/// `[a-z][a-z0-9._]*-[a-z0-9._-]+` at `start`: where the name ends.
fn custom_element_name_end(b: &[u8], start: usize) -> Option<usize> {
    let is_part = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_');
    if !b.get(start).is_some_and(u8::is_ascii_lowercase) {
        return None;
    }
    let mut p = start + 1;
    while b.get(p).is_some_and(is_part) {
        p += 1;
    }
    if b.get(p) != Some(&b'-') {
        return None;
    }
    let rest = p + 1;
    let mut q = rest;
    while b.get(q).is_some_and(|c| is_part(c) || *c == b'-') {
        q += 1;
    }
    (q > rest).then_some(q)
}

/// After the name: `\s*(/?)>`, else `(\s+)([^>]*)>`.
fn tag_tail(
    b: &[u8],
    start: usize,
    name_end: usize,
    closing: bool,
    gt: &mut NextMatch<'_>,
) -> Option<TagMatch> {
    let mut p = name_end;
    while p < b.len() && is_pcre_space(b[p]) {
        p += 1;
    }
    let slash = b.get(p) == Some(&b'/');
    let q = p + usize::from(slash);
    if b.get(q) == Some(&b'>') {
        return Some(TagMatch {
            end: q + 1,
            closing,
            name: start..name_end,
            pre_ws: name_end..name_end,
            attributes: p..q,
        });
    }
    if p == name_end {
        return None;
    }
    let close = gt.at_or_after(p)?;
    Some(TagMatch {
        end: close + 1,
        closing,
        name: start..name_end,
        pre_ws: name_end..p,
        attributes: p..close,
    })
}

#[cfg(test)]
mod tests {
    use super::force_balance_tags as balance;

    #[test]
    fn tags_are_closed_lowercased_and_stray_closers_dropped() {
        assert_eq!(
            balance("<B>bold <i>both</b> x"),
            "<b>bold <i>both</i></b> x"
        );
        assert_eq!(balance("</p>a<br>b<img src=x>"), "a<br />b<img src=x/>");
        assert_eq!(
            balance("<p>a<p>b<div><div>c"),
            "<p>a</p><p>b<div><div>c</div></div></p>"
        );
        assert_eq!(
            balance("<span/> <br/> I <3 u < !-- c -->"),
            "<span></span> <br /> I &lt;3 u < !-- c -->"
        );
        assert_eq!(balance("<my-el x='1'>t"), "<my-el x='1'>t</my-el>");
    }
}
