//! The sanitisers of `formatting.php` that take request text, and `sanitize_file_name()`:
//! no panic, and the invariants WordPress's functions have (idempotence where the PHP
//! function is idempotent). Run with `-timeout=10` and a large `-max_len`
//! (scripts/fuzz.sh), so a super-linear shape shows as a slow unit.
#![no_main]

use ferropress::formatting::{
    NoImages, Shown, ShortcodeContext, capital_p_dangit, convert_chars, convert_smilies, do_shortcode,
    is_email, normalize_entities, sanitize_text_field, sanitize_title, sanitize_user_strict,
    shortcode_unautop, strip_all_tags, strip_shortcodes, strip_tags, the_content, the_excerpt,
    the_title, wp_filter_content_tags, wp_trim_excerpt, wpautop, wptexturize,
};
use ferropress::media::sanitize_file_name;
use libfuzzer_sys::fuzz_target;

fn has_octet(s: &str) -> bool {
    s.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

/// `strip_tags()` keeps a `<` only when white space (or the end) follows it.
fn no_tag_left(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().all(|(i, &c)| {
        c != b'<' || b.get(i + 1).is_none_or(|n| n.is_ascii_whitespace() || *n == 0x0b)
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    let field = sanitize_text_field(&text);
    assert!(!field.contains(['\n', '\r', '\t']), "{field:?}");
    assert!(!has_octet(&field), "{field:?}");
    assert_eq!(field.trim_matches([' ', '\0', '\x0b']), field);
    assert_eq!(sanitize_text_field(&field), field, "sanitize_text_field is idempotent");

    let stripped = strip_all_tags(&text);
    assert!(no_tag_left(&stripped), "{stripped:?}");
    assert!(no_tag_left(&strip_tags(&text)));

    let title = sanitize_title(&text);
    assert!(
        title
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"%_-".contains(&b)),
        "{title:?}"
    );
    assert!(!title.starts_with('-') && !title.ends_with('-'), "{title:?}");
    // WordPress's save context maps some octets (`%c3%97` to `x`, dashes, spaces) before it
    // drops other characters, so octets joined by that drop change on a second pass in
    // WordPress too (`%c3\x11%97` → `%c3%97` → `x`, checked with its PHP).
    if !has_octet(&title) {
        assert_eq!(sanitize_title(&title), title, "sanitize_title is idempotent");
    }

    let login = sanitize_user_strict(&text);
    assert!(
        login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" _.-@".contains(&b)),
        "{login:?}"
    );
    assert_eq!(sanitize_user_strict(&login), login, "sanitize_user is idempotent");

    let entities = normalize_entities(&text);
    assert_eq!(normalize_entities(&entities), entities);

    // The display filters (issue 16): no panic, and what WordPress's own output guarantees.
    let _ = wpautop(&text);
    let _ = wptexturize(&text);
    let _ = shortcode_unautop(&text);
    let _ = convert_smilies(&text, "http://x");
    let _ = capital_p_dangit(&text, false);
    let _ = wp_filter_content_tags(&text, &NoImages);
    let _ = do_shortcode(&text, &ShortcodeContext::new("http://x", Shown::nothing()));
    let title = the_title(&text);
    assert_eq!(title.trim_matches([' ', '\t', '\n', '\r', '\0', '\x0b']), title);
    assert!(!title.contains("Wordpress"), "{title:?}");
    let _ = convert_chars(&text);
    let stripped = strip_shortcodes(&text);
    let _ = the_content(&text, "http://x", &NoImages, Shown::nothing());
    let _ = the_excerpt(&text, "http://x", &NoImages);
    // wp_trim_words(): at most 55 words and the "more" text.
    let excerpt = wp_trim_excerpt("", || the_content(&stripped, "http://x", &NoImages, Shown::nothing()));
    assert!(excerpt.split(' ').filter(|w| !w.is_empty()).count() <= 56, "{excerpt:?}");
    let _ = is_email(&text);

    let file = sanitize_file_name(&text);
    assert!(!file.is_empty());
    assert!(!file.contains(['/', '\\', '\0']), "{file:?}");
    assert!(!file.contains(".."), "{file:?}");
});
