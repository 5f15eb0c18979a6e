//! Application Password secrets: generation, display, normalisation and hashing.
//!
//! Mirrors `WP_Application_Passwords` (`class-wp-application-passwords.php`): 24 characters
//! from `wp_generate_password( 24, false )`'s alphabet, shown chunked in fours, stored only as
//! a hash. The hash is WordPress 6.8's `wp_fast_hash()` (`$generic$` + base64url of a 30-byte
//! BLAKE2b keyed with the public string `wp_fast_hash_6.8+`): a fast hash is right for a
//! 142-bit random secret, and because it is deterministic the hash itself is the lookup key,
//! so verification costs one indexed read whatever the number of tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use blake2::Blake2bMac;
use blake2::digest::consts::U30;
use blake2::digest::{KeyInit, Mac};
use rand::distr::{Alphanumeric, SampleString};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

/// `WP_Application_Passwords::PW_LENGTH`.
pub const PW_LENGTH: usize = 24;

const FAST_HASH_KEY: &[u8] = b"wp_fast_hash_6.8+";
const FAST_HASH_PREFIX: &str = "$generic$";

/// A freshly generated token: 24 characters of `[A-Za-z0-9]` from a CSPRNG.
pub fn generate() -> SecretString {
    SecretString::from(Alphanumeric.sample_string(&mut rand::rng(), PW_LENGTH))
}

/// `WP_Application_Passwords::chunk_password()`: groups of four separated by spaces.
pub fn chunk(raw: &str) -> String {
    let clean = normalize(raw);
    let mut out = String::with_capacity(clean.len() + clean.len() / 4);
    for (i, ch) in clean.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(ch);
    }
    out
}

/// Strips everything that is not an ASCII letter or digit, as WordPress does before
/// verifying (`preg_replace( '/[^a-z\d]/i', '', $password )`), so spaces are optional.
pub fn normalize(input: &str) -> String {
    input.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// `wp_fast_hash()` of the normalised token.
pub fn hash(token: &str) -> String {
    let mut mac = match Blake2bMac::<U30>::new_from_slice(FAST_HASH_KEY) {
        Ok(mac) => mac,
        // The key is a 17-byte constant, well within BLAKE2b's 64-byte key limit.
        Err(_) => unreachable!("BLAKE2b accepts a 17-byte key"),
    };
    // `normalize(token)`, fed in runs rather than copied: the characters kept are ASCII, so
    // they are exactly the bytes that are ASCII letters or digits (a multi-byte
    // character's bytes are all above 0x7F).
    for run in token.as_bytes().split(|b| !b.is_ascii_alphanumeric()) {
        mac.update(run);
    }
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(FAST_HASH_PREFIX.len() + 40);
    out.push_str(FAST_HASH_PREFIX);
    URL_SAFE_NO_PAD.encode_string(digest, &mut out);
    out
}

/// Hash of a secret held in a `SecretString`.
pub fn hash_secret(token: &SecretString) -> String {
    hash(token.expose_secret())
}

/// Constant-time comparison of two stored hashes.
pub fn hashes_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_24_alphanumerics() {
        let t = generate();
        let t = t.expose_secret();
        assert_eq!(t.len(), 24);
        assert!(t.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(t, generate().expose_secret());
    }

    #[test]
    fn chunks_in_fours() {
        assert_eq!(
            chunk("AbCdEfGhIjKlMnOpQrStUvWx"),
            "AbCd EfGh IjKl MnOp QrSt UvWx"
        );
    }

    #[test]
    fn spaces_and_punctuation_do_not_change_the_hash() {
        let h = hash("AbCdEfGhIjKlMnOpQrStUvWx");
        assert_eq!(h, hash("AbCd EfGh IjKl MnOp QrSt UvWx"));
        assert_eq!(h, hash("AbCd-EfGh-IjKl-MnOp-QrSt-UvWx"));
        assert_ne!(h, hash("abcdEfGhIjKlMnOpQrStUvWx"));
        // Non-ASCII letters and digits are dropped as `normalize` drops them.
        let odd = "\u{e9}AbCd\u{20ac}EfGh\u{0661}IjKl MnOp\u{1f600}QrSt UvWx\u{e9}";
        assert_eq!(normalize(odd), "AbCdEfGhIjKlMnOpQrStUvWx");
        assert_eq!(h, hash(odd));
        assert!(h.starts_with("$generic$"));
        assert_eq!(h.len(), "$generic$".len() + 40);
    }

    #[test]
    fn matches_wordpress_fast_hash() {
        // sodium_crypto_generichash('password', 'wp_fast_hash_6.8+', 30), base64url: the
        // value WordPress 6.8 stores, computed independently with Python's hashlib.blake2b.
        assert_eq!(hash("password"), KNOWN_PASSWORD_HASH);
    }

    const KNOWN_PASSWORD_HASH: &str = "$generic$5kFnqVB4H8sAaEg-HC4BoAY2wTWniLJdF-mQwkWu";
}
