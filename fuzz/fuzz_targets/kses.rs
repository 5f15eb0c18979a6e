//! KSES as each role without `unfiltered_html` gets it: `wp_filter_post_kses()` (post
//! content), `wp_filter_kses()` (titles, term descriptions) and `pre_user_description`,
//! then `wp_targeted_link_rel()`. No panic, and no `<script>`/`<iframe>` element or event
//! handler attribute in what is kept. `-timeout=10` catches super-linear shapes.
#![no_main]

use ferropress::kses::{
    bad_protocol, filter_kses, filter_post_kses, filter_user_description, safecss_filter_attr,
    targeted_link_rel,
};
use libfuzzer_sys::fuzz_target;

const UPLOADS: &str = "http://127.0.0.1/wp-content/uploads/";

/// Lower-cased tags of the output: none may be a script, an iframe or carry `on…=`.
fn check(out: &str) {
    let lower = out.to_ascii_lowercase();
    for bad in ["<script", "<iframe", "<svg", "<object data=\"javascript"] {
        assert!(!lower.contains(bad), "{bad} in {out:?}");
    }
    // Inside every kept tag, outside quoted values, no attribute name starts with `on`.
    let mut rest = lower.as_str();
    while let Some(open) = rest.find('<') {
        let tag = &rest[open..];
        let end = tag.find('>').unwrap_or(tag.len());
        let inner = &tag[..end];
        if !inner.starts_with("<!--") {
            let mut quote: Option<char> = None;
            let mut after_space = false;
            for (i, c) in inner.char_indices() {
                match quote {
                    Some(q) if c == q => quote = None,
                    Some(_) => {}
                    None if c == '"' || c == '\'' => quote = Some(c),
                    None if after_space && inner[i..].starts_with("on") => {
                        let name_len = inner[i..]
                            .find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '/')
                            .unwrap_or(inner.len() - i);
                        let after = inner[i + name_len..].trim_start();
                        assert!(!after.starts_with('='), "event handler in {out:?}");
                    }
                    None => {}
                }
                after_space = quote.is_none() && c.is_ascii_whitespace();
            }
        }
        rest = &rest[open + 1..];
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let post = filter_post_kses(&text, UPLOADS);
    check(&post);
    check(&filter_kses(&text));
    check(&filter_user_description(&text));
    let _ = targeted_link_rel(&post);
    let _ = safecss_filter_attr(&text);
    let url = bad_protocol(&text);
    assert!(!url.to_ascii_lowercase().starts_with("javascript:"), "{url:?}");
});
