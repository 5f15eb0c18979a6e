//! Account passwords: argon2id PHC strings. Expensive by design, so callers in async code
//! run these through `spawn_blocking`; the work itself happens on one thread (`on_hasher`).

use std::sync::OnceLock;
use std::sync::mpsc;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

pub fn hash(password: &str) -> Result<String, String> {
    let password = password.to_owned();
    on_hasher(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    })
    .unwrap_or_else(|| Err("the password hashing thread is gone".into()))
}

pub fn verify(password: &str, phc: &str) -> bool {
    let (password, phc) = (password.to_owned(), phc.to_owned());
    on_hasher(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), phc.as_str())
            .is_ok()
    })
    .unwrap_or(false)
}

type Job = Box<dyn FnOnce() + Send>;

/// Runs `job` on the one thread that does all argon2 work, and waits for it. Each argon2
/// call needs 19 MiB; spread over the blocking pool's threads, glibc gives every thread an
/// arena of its own and keeps those blocks (200 users created through the API left a
/// server at 1 GB). On one thread the same memory is reused. `None`: the thread is gone.
fn on_hasher<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    static HASHER: OnceLock<Option<mpsc::Sender<Job>>> = OnceLock::new();
    let jobs = HASHER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("argon2".into())
            .spawn(move || {
                for job in rx {
                    job();
                }
            })
            .ok()
            .map(|_| tx)
    });
    let (reply, answer) = mpsc::sync_channel(1);
    jobs.as_ref()?
        .send(Box::new(move || {
            let _ = reply.send(job());
        }))
        .ok()?;
    answer.recv().ok()
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
}
