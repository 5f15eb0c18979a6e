//! Upload file names: `Content-Disposition` as `get_filename_from_disposition()` reads it,
//! then `sanitize_file_name()`. No panic; the stored name never walks out of its directory.
#![no_main]

use ferropress::media::sanitize_file_name;
use ferropress::rest::media::filename_from_disposition;
use http::{HeaderMap, HeaderValue, header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    // Each line is one header value (several `Content-Disposition` headers may come).
    for line in data.split(|&b| b == b'\n') {
        if let Ok(v) = HeaderValue::from_bytes(line) {
            headers.append(header::CONTENT_DISPOSITION, v);
        }
    }
    if let Some(name) = filename_from_disposition(&headers) {
        let file = sanitize_file_name(&name);
        assert!(!file.is_empty());
        assert!(!file.contains(['/', '\\', '\0']), "{file:?}");
        assert!(!file.contains(".."), "{file:?}");
    }
});
