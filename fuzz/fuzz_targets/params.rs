//! Request parameters as `WP_REST_Request` merges them (query string, form or JSON body),
//! then every kind of check the handlers make with `Validator`: errors are WordPress
//! envelopes (400), never panics.
#![no_main]

use ferropress::rest::params::{Params, Validator, params_from_parts, parse_form};
use http::Method;
use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: [&str; 5] = [
    "application/json",
    "application/x-www-form-urlencoded",
    "",
    "text/plain",
    "application/merge-patch+json; charset=UTF-8",
];
const METHODS: [Method; 4] = [Method::GET, Method::POST, Method::PATCH, Method::DELETE];

fn has_nul(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(a) => a.iter().any(has_nul),
        serde_json::Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

fn validate(p: &Params) {
    let mut v = Validator::new(p);
    let _ = v.context();
    let _ = v.integer_min("page", 1);
    let _ = v.integer_range("per_page", 1, 100);
    let _ = v.integer("offset");
    let _ = v.integer_list("include");
    let _ = v.string_list("status");
    let _ = v.boolean("sticky");
    let _ = v.string("search");
    let _ = v.one_of("order", &["asc", "desc"]);
    v.require("title");
    if let Err(e) = v.finish() {
        assert_eq!(e.status.as_u16(), 400);
        let body = e.body();
        assert!(body["code"].is_string());
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    // The first byte picks method and content type; the rest is `query \0 body`.
    let method = &METHODS[usize::from(selector & 3)];
    let content_type = CONTENT_TYPES[usize::from(selector >> 2) % CONTENT_TYPES.len()];
    let (query, body) = match rest.iter().position(|&b| b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let query = String::from_utf8_lossy(query);
    let _ = parse_form(&query);
    match params_from_parts(method, Some(&query), content_type, body) {
        Ok(p) => {
            // NUL never survives into parameter names or strings.
            assert!(!has_nul(&serde_json::Value::Object(p.0.clone())));
            validate(&p);
        }
        Err(e) => assert!(e.status.is_client_error()),
    }
});
