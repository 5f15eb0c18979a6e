//! Account passwords: argon2id PHC strings. Expensive by design (19 MiB and tens of
//! milliseconds each), so the server runs them on the bounded CPU pool (`crate::work`) through
//! [`hash_in`] and [`verify_in`]; [`hash`] and [`verify`] do the work on the calling thread.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use secrecy::{ExposeSecret, SecretString};

use crate::error::WpError;
use crate::work::{CpuPool, Priority};

pub fn hash(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub fn verify(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// [`hash`] on the CPU pool: 503 `rest_server_busy` when its queue is full, 500 if hashing
/// fails.
pub async fn hash_in(pool: &CpuPool, password: SecretString) -> Result<String, WpError> {
    pool.run(move || hash(password.expose_secret()))
        .await?
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            WpError::internal()
        })
}

/// [`verify`] on the CPU pool against `phc`, or against `fallback()` (computed on the worker)
/// when there is no stored hash. `Err`: the queue is full (503), nothing was verified.
pub async fn verify_in(
    pool: &CpuPool,
    priority: Priority,
    password: SecretString,
    phc: Option<String>,
    fallback: fn() -> &'static str,
) -> Result<bool, WpError> {
    pool.run_with(priority, move || {
        let phc = phc.as_deref().unwrap_or_else(fallback);
        verify(password.expose_secret(), phc)
    })
    .await
}

/// A hash to verify against when the user does not exist, so both paths cost one argon2.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash("ferropress-no-such-user").unwrap_or_default())
}

/// `wp_generate_password( 24 )`-style random account password, for the first admin.
pub fn generate() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), 24)
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let h = super::hash("s3cret").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify("s3cret", &h));
        assert!(!super::verify("s3cret!", &h));
        assert!(!super::verify("s3cret", "not a hash"));
    }

    #[tokio::test]
    async fn on_the_pool() {
        let pool = crate::work::CpuPool::new(1, 4);
        let h = super::hash_in(&pool, "s3cret".into()).await.expect("hash");
        let ok = super::verify_in(
            &pool,
            crate::work::Priority::Normal,
            "s3cret".into(),
            Some(h),
            || "",
        )
        .await
        .expect("verify");
        assert!(ok);
        let unknown = super::verify_in(
            &pool,
            crate::work::Priority::Normal,
            "s3cret".into(),
            None,
            || "not a hash",
        )
        .await
        .expect("verify");
        assert!(!unknown);
    }
}
