//! Text sanitisers and formatters from WordPress's `formatting.php`, as far as the API needs
//! them: `sanitize_text_field`, `sanitize_user`, `sanitize_title`, `is_email`, `wpautop`.

/// `wp_strip_all_tags()`: drops `<script>`/`<style>` elements with their content, then tags.
pub fn strip_all_tags(input: &str) -> String {
    let mut s = input.to_owned();
    for tag in ["script", "style"] {
        loop {
            let lower = s.to_ascii_lowercase();
            let Some(start) = lower.find(&format!("<{tag}")) else {
                break;
            };
            let close = format!("</{tag}");
            let end = match lower[start..].find(&close) {
                Some(rel) => {
                    let after = start + rel;
                    lower[after..]
                        .find('>')
                        .map_or(s.len(), |gt| after + gt + 1)
                }
                None => s.len(),
            };
            s.replace_range(start..end, "");
        }
    }
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if in_tag {
            if c == '>' {
                in_tag = false;
            }
        } else if c == '<'
            && chars
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == '/' || *n == '!' || *n == '?')
        {
            in_tag = true;
        } else {
            out.push(c);
        }
    }
    out
}

/// PHP's `strip_tags()`, as far as `wp_strip_all_tags()` approximates it: a `<` followed by
/// a letter, `/`, `!` or `?` opens a tag that runs to the next `>`; the text of every
/// element is kept. One pass.
pub fn strip_tags(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut in_tag = false;
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        if in_tag {
            in_tag = c != '>';
        } else if c == '<'
            && chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?'))
        {
            in_tag = true;
        } else {
            out.push(c);
        }
    }
    out
}

/// Removes `%xx` percent-encoded octets, repeatedly, as `_sanitize_text_fields` does.
fn strip_octets(s: &str) -> String {
    let mut cur = s.to_owned();
    loop {
        let bytes = cur.as_bytes();
        let mut out = String::with_capacity(cur.len());
        let mut found = false;
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%'
                && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
            {
                found = true;
                i += 3;
                continue;
            }
            // Safe: we only skip ASCII sequences, so char boundaries are preserved.
            let ch_len = utf8_len(bytes[i]);
            out.push_str(&cur[i..i + ch_len]);
            i += ch_len;
        }
        if !found {
            return out;
        }
        cur = out;
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

/// `sanitize_text_field()`: no tags, no line breaks or tabs, single spaces, trimmed,
/// no percent-encoded octets.
pub fn sanitize_text_field(input: &str) -> String {
    let s = if input.contains('<') {
        // A `<` that opens no tag is kept as `&lt;` (`x<y` stays visible), as
        // `wp_pre_kses_less_than()` runs before `wp_strip_all_tags()`.
        strip_all_tags(&pre_kses_less_than(input)).replace("<\n", "&lt;\n")
    } else {
        input.to_owned()
    };
    let collapsed = s
        .split(['\r', '\n', '\t', ' '])
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let trimmed = collapsed.trim();
    let stripped = strip_octets(trimmed);
    if stripped.len() == trimmed.len() {
        return stripped;
    }
    // Octets were removed: `trim(preg_replace('/ +/', ' ', …))`, so `a %41 b` is `a b`.
    stripped
        .split(' ')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `sanitize_user( $username, true )`: strict login sanitisation.
pub fn sanitize_user_strict(input: &str) -> String {
    let s = strip_all_tags(input);
    let s = strip_octets(&s);
    // Entities such as `&amp;` are removed.
    let mut no_entities = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(amp) = rest.find('&') {
        no_entities.push_str(&rest[..amp]);
        match rest[amp + 1..].find(';') {
            Some(semi) if semi > 0 => rest = &rest[amp + semi + 2..],
            _ => {
                no_entities.push('&');
                rest = &rest[amp + 1..];
            }
        }
    }
    no_entities.push_str(rest);
    let kept: String = no_entities
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '.' | '-' | '@'))
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `sanitize_title()` for slugs (`sanitize_title_with_dashes` in save context), ASCII subset:
/// lower-case, tags stripped, non-ASCII kept as percent-encoded octets.
/// `remove_accents()` for the Latin letters WordPress maps most often.
pub fn remove_accents(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for ch in input.chars() {
        let mapped = match ch {
            'À'..='Å' => "A",
            'à'..='å' => "a",
            'Æ' => "AE",
            'æ' => "ae",
            'Ç' => "C",
            'ç' => "c",
            'È'..='Ë' => "E",
            'è'..='ë' => "e",
            'Ì'..='Ï' => "I",
            'ì'..='ï' => "i",
            'Ð' => "D",
            'ð' => "d",
            'Ñ' => "N",
            'ñ' => "n",
            'Ò'..='Ö' | 'Ø' => "O",
            'ò'..='ö' | 'ø' => "o",
            'Ù'..='Ü' => "U",
            'ù'..='ü' => "u",
            'Ý' => "Y",
            'ý' | 'ÿ' => "y",
            'Þ' => "TH",
            'þ' => "th",
            'ß' => "s",
            'Œ' => "OE",
            'œ' => "oe",
            'Š' => "S",
            'š' => "s",
            'Ž' => "Z",
            'ž' => "z",
            _ => {
                out.push(ch);
                continue;
            }
        };
        out.push_str(mapped);
    }
    out
}

fn strip_entities(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.find(';') {
            Some(n) if n > 0 => rest = &after[n + 1..],
            _ => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `wp_pre_kses_less_than()`: a `<` run not closed by `>` before the next `<` (or the end)
/// is text, escaped with `esc_html()`. One pass: each byte is looked at once.
fn pre_kses_less_than(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < b.len() && b[j] != b'<' && b[j] != b'>' {
            j += 1;
        }
        if j < b.len() && b[j] == b'>' {
            i = j + 1;
            continue;
        }
        out.push_str(&s[last..i]);
        out.push_str(&esc_html(&s[i..j]));
        i = j;
        last = j;
    }
    out.push_str(&s[last..]);
    out
}

/// `esc_html()`: `_wp_specialchars()` with `ENT_QUOTES`.
fn esc_html(s: &str) -> String {
    crate::kses::normalize_entities(s)
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#039;")
}

/// `_wp_specialchars()` with its defaults (`ENT_NOQUOTES`, no double encoding), the last
/// save filter of term names and user names (`default-filters.php`): entities normalised
/// as `wp_kses_normalize_entities()` does, then `<` and `>` escaped.
pub fn specialchars(input: &str) -> String {
    if !input.contains(['&', '<', '>']) {
        return input.to_owned();
    }
    crate::kses::normalize_entities(input)
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The save filters WordPress gives one-line names (`pre_term_name`, `pre_user_first_name`,
/// `pre_user_last_name`, `pre_user_nickname`, `pre_user_display_name` in
/// `default-filters.php`), whatever the user's role: `sanitize_text_field()`,
/// `wp_filter_kses()`, `_wp_specialchars()`.
pub fn pre_name_field(input: &str) -> String {
    specialchars(&crate::kses::filter_kses(&sanitize_text_field(input)))
}

pub fn sanitize_title(input: &str) -> String {
    // `sanitize_title_with_dashes()` uses PHP's `strip_tags()`, which keeps the text of
    // `<script>`/`<style>` elements (`<script>x</script>` gives the slug `x`).
    let s = remove_accents(&strip_tags(input));
    // `sanitize_title_with_dashes()` drops HTML entities (`&amp;`, `&#8217;`, …).
    let s = strip_entities(&s);
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            'a'..='z' | '0'..='9' | '_' | '-' => out.push(ch),
            'A'..='Z' => out.push(ch.to_ascii_lowercase()),
            ' ' | '.' | '/' | '\t' | '\n' | '\u{a0}' | '\u{2013}' | '\u{2014}' => out.push('-'),
            '×' => out.push('x'),
            c if !c.is_ascii() => {
                let lower: String = c.to_lowercase().collect();
                let mut buf = [0u8; 4];
                for l in lower.chars() {
                    for b in l.encode_utf8(&mut buf).bytes() {
                        out.push_str(&format!("%{b:02x}"));
                    }
                }
            }
            _ => {}
        }
    }
    let mut collapsed = String::with_capacity(out.len());
    for ch in out.chars() {
        if ch == '-' && collapsed.ends_with('-') {
            continue;
        }
        collapsed.push(ch);
    }
    collapsed.trim_matches('-').to_owned()
}

/// `is_email()`: WordPress's deliberately simple address check.
pub fn is_email(email: &str) -> bool {
    if email.len() < 6 {
        return false;
    }
    // The '@' may not be the first character.
    let Some(at) = email
        .char_indices()
        .skip(1)
        .find(|&(_, c)| c == '@')
        .map(|(i, _)| i)
    else {
        return false;
    };
    let (local, domain) = (&email[..at], &email[at + 1..]);
    let local_ok = local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    if !local_ok || domain.contains("..") {
        return false;
    }
    let domain = domain.trim_matches(|c: char| c.is_whitespace() || c == '.');
    let subs: Vec<&str> = domain.split('.').collect();
    if subs.len() < 2 {
        return false;
    }
    subs.iter().all(|sub| {
        !sub.is_empty()
            && !sub.starts_with('-')
            && !sub.ends_with('-')
            && sub.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// `wpautop()`, simplified: blank-line separated blocks become paragraphs and single
/// newlines inside them `<br />`. Block-level HTML is left unwrapped. Differences from
/// WordPress's full implementation are listed in docs/compat.md.
pub fn wpautop(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    if text.trim().is_empty() {
        return String::new();
    }
    const BLOCKS: &[&str] = &[
        "<p",
        "<div",
        "<h1",
        "<h2",
        "<h3",
        "<h4",
        "<h5",
        "<h6",
        "<ul",
        "<ol",
        "<li",
        "<pre",
        "<blockquote",
        "<table",
        "<figure",
        "<hr",
        "<section",
        "<article",
        "<aside",
        "<header",
        "<footer",
        "<form",
        "<dl",
        "<address",
        "<!--",
    ];
    let mut out = String::with_capacity(text.len() + 16);
    for block in text.split("\n\n").map(str::trim).filter(|b| !b.is_empty()) {
        let lower = block.to_ascii_lowercase();
        if BLOCKS.iter().any(|t| lower.starts_with(t)) {
            out.push_str(block);
        } else {
            out.push_str("<p>");
            out.push_str(&block.replace('\n', "<br />\n"));
            out.push_str("</p>");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_field() {
        assert_eq!(
            sanitize_text_field("  My\tIntegration\n "),
            "My Integration"
        );
        assert_eq!(
            sanitize_text_field("<script>console.log(\"Hello\")</script>"),
            ""
        );
        assert_eq!(sanitize_text_field("<b>Bold</b> app"), "Bold app");
        assert_eq!(sanitize_text_field("a%20b"), "ab");
    }

    /// A `<` that opens no tag survives as `&lt;` (`wp_pre_kses_less_than()`); outputs of
    /// WordPress 6.1's `sanitize_text_field()` on the oracle.
    #[test]
    fn sanitize_text_field_keeps_lone_less_than() {
        for (input, expected) in [
            ("x<y", "x&lt;y"),
            ("a<b & c", "a&lt;b &amp; c"),
            ("a < b > c", "a < b > c"),
            ("<b>Bold</b> app", "Bold app"),
            (
                "1 < 2 \"q\" 'r' <",
                "1 &lt; 2 &quot;q&quot; &#039;r&#039; &lt;",
            ),
            ("<<script>x</script>y", "&lt;y"),
            ("x <\ny", "x &lt; y"),
            ("<p", "&lt;p"),
            ("a &amp; <i", "a &amp; &lt;i"),
            ("%41<b>%42</b>", ""),
        ] {
            assert_eq!(sanitize_text_field(input), expected, "{input:?}");
        }
    }

    #[test]
    fn user_strict() {
        assert_eq!(sanitize_user_strict("alice"), "alice");
        assert_eq!(sanitize_user_strict("al!ice"), "alice");
        assert_eq!(sanitize_user_strict("bob smith@x.org"), "bob smith@x.org");
    }

    #[test]
    fn titles() {
        assert_eq!(sanitize_title("Hello World!"), "hello-world");
        assert_eq!(sanitize_title("  My   Post. 2 "), "my-post-2");
        // remove_accents() first, as WordPress does; other letters are percent-encoded.
        assert_eq!(sanitize_title("Café"), "cafe");
        assert_eq!(sanitize_title("Fish &amp; Chips"), "fish-chips");
        assert_eq!(sanitize_title("日本"), "%e6%97%a5%e6%9c%ac");
    }

    #[test]
    fn emails() {
        assert!(is_email("alice@example.com"));
        assert!(!is_email("alice"));
        assert!(!is_email("a@b"));
        assert!(!is_email("alice@exa..mple.com"));
        assert!(!is_email("al ice@example.com"));
        assert!(!is_email("\u{fffd}\u{fffd}@example.com"));
        assert!(!is_email("@example.com"));
    }

    #[test]
    fn autop() {
        assert_eq!(wpautop("Hello"), "<p>Hello</p>\n");
        assert_eq!(wpautop("a\nb\n\nc"), "<p>a<br />\nb</p>\n<p>c</p>\n");
        assert_eq!(wpautop(""), "");
    }
}
