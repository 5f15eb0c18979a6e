//! The `Authorization` header parser (PHP's `PHP_AUTH_USER`/`PHP_AUTH_PW` rules): any bytes
//! give credentials or none, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secrecy::ExposeSecret as _;

fuzz_target!(|data: &[u8]| {
    if let Some(creds) = ferropress::auth::basic::parse(data) {
        // The login is what precedes the first colon: it never holds one.
        assert!(!creds.login.contains(':'));
        // Debug output never shows the secret (a long one, so it cannot occur by chance).
        let secret = creds.password.expose_secret();
        if secret.len() >= 16 && !creds.login.contains(secret) {
            assert!(!format!("{creds:?}").contains(secret));
        }
        let _ = ferropress::formatting::is_email(&creds.login);
    }
});
