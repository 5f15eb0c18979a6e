//! `convert_smilies()` of WordPress 6.1 (`formatting.php`), with `smilies_init()`'s default
//! table: every smiley but `:mrgreen:` is an emoji, printed as the character itself.

/// `$wpsmiliestrans`: smiley → emoji (or image file name).
const SMILIES: &[(&str, &str)] = &[
    (":mrgreen:", "mrgreen.png"),
    (":neutral:", "\u{1f610}"),
    (":twisted:", "\u{1f608}"),
    (":arrow:", "\u{27a1}"),
    (":shock:", "\u{1f62f}"),
    (":smile:", "\u{1f642}"),
    (":???:", "\u{1f615}"),
    (":cool:", "\u{1f60e}"),
    (":evil:", "\u{1f47f}"),
    (":grin:", "\u{1f600}"),
    (":idea:", "\u{1f4a1}"),
    (":oops:", "\u{1f633}"),
    (":razz:", "\u{1f61b}"),
    (":roll:", "\u{1f644}"),
    (":wink:", "\u{1f609}"),
    (":cry:", "\u{1f625}"),
    (":eek:", "\u{1f62e}"),
    (":lol:", "\u{1f606}"),
    (":mad:", "\u{1f621}"),
    (":sad:", "\u{1f641}"),
    ("8-)", "\u{1f60e}"),
    ("8-O", "\u{1f62f}"),
    (":-(", "\u{1f641}"),
    (":-)", "\u{1f642}"),
    (":-?", "\u{1f615}"),
    (":-D", "\u{1f600}"),
    (":-P", "\u{1f61b}"),
    (":-o", "\u{1f62e}"),
    (":-x", "\u{1f621}"),
    (":-|", "\u{1f610}"),
    (";-)", "\u{1f609}"),
    ("8O", "\u{1f62f}"),
    (":(", "\u{1f641}"),
    (":)", "\u{1f642}"),
    (":?", "\u{1f615}"),
    (":D", "\u{1f600}"),
    (":P", "\u{1f61b}"),
    (":o", "\u{1f62e}"),
    (":x", "\u{1f621}"),
    (":|", "\u{1f610}"),
    (";)", "\u{1f609}"),
    (":!:", "\u{2757}"),
    (":?:", "\u{2753}"),
];

/// `(?=$spaces|$)` with the `m` flag, at `p` of a piece.
fn ends_smiley(b: &[u8], p: usize) -> bool {
    p == b.len() || b[p] == b'\n' || super::scan::space_after(b, p)
}

/// `preg_replace_callback( $wp_smiliessearch, 'translate_smiley', $piece )`.
fn translate(piece: &str, site_url: &str) -> String {
    super::scan::rewrite_any(piece, |b, i, out| {
        if !matches!(b[i], b':' | b';' | b'8') {
            return None;
        }
        // `(?<=$spaces|^)` with the `m` flag.
        if !(i == 0 || b[i - 1] == b'\n' || super::scan::space_before(b, i)) {
            return None;
        }
        // At most one smiley is followed by a space: none contains one.
        let (smiley, img) = SMILIES
            .iter()
            .find(|(s, _)| b[i..].starts_with(s.as_bytes()) && ends_smiley(b, i + s.len()))?;
        if img.ends_with(".png") {
            let src = format!("{site_url}/wp-includes/images/smilies/{img}");
            out.extend_from_slice(
                format!(
                    "<img src=\"{src}\" alt=\"{smiley}\" class=\"wp-smiley\" style=\"height: 1em; max-height: 1em;\" />"
                )
                .as_bytes(),
            );
        } else {
            out.extend_from_slice(img.as_bytes());
        }
        Some(i + smiley.len())
    })
}

/// `convert_smilies()` (`use_smilies` on, WordPress's default): smileys between white space
/// outside tags and `code`/`pre`/`style`/`script`/`textarea` become emoji.
pub fn convert_smilies(text: &str, site_url: &str) -> String {
    const IGNORE: &[&str] = &["code", "pre", "style", "script", "textarea"];
    let b = text.as_bytes();
    // `preg_split( '/(<.*>)/U', … )`: a tag runs from `<` to the first `>` on its line.
    let mut gt = super::NextMatch::new(b, b">");
    let mut nl = super::NextMatch::new(b, b"\n");
    let mut pieces: Vec<&str> = vec![];
    let (mut i, mut start) = (0, 0);
    while i < b.len() {
        if b[i] == b'<'
            && let Some(end) = gt
                .at_or_after(i + 1)
                .filter(|&g| nl.at_or_after(i + 1).is_none_or(|n| n > g))
        {
            pieces.push(&text[start..i]);
            pieces.push(&text[i..=end]);
            i = end + 1;
            start = i;
            continue;
        }
        i += 1;
    }
    pieces.push(&text[start..]);

    let mut out = String::with_capacity(text.len());
    let mut ignoring: Option<&str> = None;
    for piece in pieces {
        if ignoring.is_none() {
            // `/^<(code|pre|style|script|textarea)[^>]*>/`
            ignoring = piece.strip_prefix('<').and_then(|rest| {
                IGNORE
                    .iter()
                    .copied()
                    .find(|t| rest.starts_with(t) && rest[t.len()..].contains('>'))
            });
        }
        if ignoring.is_none() && !piece.is_empty() && !piece.starts_with('<') {
            out.push_str(&translate(piece, site_url));
        } else {
            out.push_str(piece);
        }
        // `'</' . $ignore_block_element . '>' === $content`
        if let Some(t) = ignoring
            && piece.len() == t.len() + 3
            && piece.starts_with("</")
            && piece.as_bytes().get(2..2 + t.len()) == Some(t.as_bytes())
            && piece.ends_with('>')
        {
            ignoring = None;
        }
    }
    out
}
