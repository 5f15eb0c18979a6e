//! `esc_url_raw()` on user URLs: no panic, and what is kept has no white space or control
//! ASCII control characters (WordPress's character whitelist removes them; it keeps every
//! byte from 0x80 up, C1 controls included).
#![no_main]

use ferropress::users::esc_url_raw;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let url = esc_url_raw(&String::from_utf8_lossy(data));
    assert!(
        !url.chars().any(|c| c.is_ascii_control() || c == ' '),
        "{url:?}"
    );
});
