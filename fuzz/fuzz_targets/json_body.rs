//! JSON request bodies: `rest_invalid_json` (syntax or depth), never a panic or a stack
//! overflow; a parsed body serialises back.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match ferropress::rest::params::parse_json_body(data) {
        Ok(v) => {
            let _ = serde_json::to_string(&v).expect("serialises");
        }
        Err(e) => assert_eq!(e.code, "rest_invalid_json"),
    }
});
