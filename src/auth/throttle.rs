//! Brute-force throttling of failed authentication: token buckets of *failures* per client
//! IP and per account, kept in memory. WordPress core has no equivalent (plugins such as
//! Limit Login Attempts add one); vaultwarden's `ratelimit.rs` is the model.
//!
//! Only failures take tokens. An IP whose bucket is empty is refused (429) before its
//! credentials are even checked. An account whose bucket is empty still lets a *valid*
//! credential through, so an attacker hammering one login from many addresses cannot lock
//! the real owner out; their wrong guesses get 429 instead of 401. The same
//! [`AuthThrottle`] serves any credential check (Basic auth today, the login form later):
//! call [`AuthThrottle::check`] before verifying and [`AuthThrottle::record_failure`] after
//! a failed verification.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Beyond this many keys, buckets that have refilled completely are forgotten (they carry
/// no information); the map therefore stays bounded by the keys currently throttled.
const PRUNE_ABOVE: usize = 10_000;

/// A bucket's refill rate and capacity. `per_minute == 0` disables the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

impl Rate {
    fn enabled(self) -> bool {
        self.per_minute > 0 && self.burst > 0
    }

    fn per_second(self) -> f64 {
        f64::from(self.per_minute) / 60.0
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets keyed by `K`, each starting full (`burst` tokens) and refilling at
/// `per_minute`. A generic keyed limiter, usable for any other throttle.
#[derive(Debug)]
pub struct KeyedLimiter<K> {
    rate: Rate,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Eq + Hash + Clone> KeyedLimiter<K> {
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn refill(&self, b: &mut Bucket, now: Instant) {
        let elapsed = now.saturating_duration_since(b.updated).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.rate.per_second()).min(f64::from(self.rate.burst));
        b.updated = now;
    }

    fn wait_for_one(&self, tokens: f64) -> Duration {
        let missing = (1.0 - tokens).max(0.0);
        Duration::from_secs_f64(missing / self.rate.per_second())
    }

    /// `Some(wait)` when `key` has no token left: how long until it has one.
    pub fn limited(&self, key: &K, now: Instant) -> Option<Duration> {
        if !self.rate.enabled() {
            return None;
        }
        let mut map = self.buckets.lock().ok()?;
        let b = map.get_mut(key)?;
        self.refill(b, now);
        (b.tokens < 1.0).then(|| self.wait_for_one(b.tokens))
    }

    /// Takes one token from `key` (a failure). Returns the wait before the next attempt is
    /// allowed, if the bucket is now empty.
    pub fn take(&self, key: &K, now: Instant) -> Option<Duration> {
        if !self.rate.enabled() {
            return None;
        }
        let mut map = self.buckets.lock().ok()?;
        if map.len() > PRUNE_ABOVE {
            let full = f64::from(self.rate.burst);
            let rate = self.rate.per_second();
            map.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * rate < full
            });
        }
        let b = map.entry(key.clone()).or_insert(Bucket {
            tokens: f64::from(self.rate.burst),
            updated: now,
        });
        self.refill(b, now);
        b.tokens = (b.tokens - 1.0).max(0.0);
        (b.tokens < 1.0).then(|| self.wait_for_one(b.tokens))
    }

    /// Number of keys tracked (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.buckets.lock().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The decision before a credential check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Check the credentials normally.
    Allow,
    /// The account is throttled: check the credentials, let a valid one through, answer a
    /// wrong one with 429 after this wait.
    AccountLimited(Duration),
    /// The client IP is throttled: refuse without checking, retry after this wait.
    IpLimited(Duration),
}

/// Counters for the failed-authentication metric (logged with every failure).
#[derive(Debug, Default)]
pub struct AuthMetrics {
    /// Credential checks that failed (wrong token, unknown user, …).
    pub failures: AtomicU64,
    /// Requests answered 429 by the throttle.
    pub throttled: AtomicU64,
}

impl AuthMetrics {
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    pub fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }
}

/// Failed-authentication throttle: one limiter per client IP, one per account name.
#[derive(Debug)]
pub struct AuthThrottle {
    ip: KeyedLimiter<String>,
    account: KeyedLimiter<String>,
    pub metrics: AuthMetrics,
}

impl AuthThrottle {
    pub fn new(per_ip: Rate, per_account: Rate) -> Self {
        Self {
            ip: KeyedLimiter::new(per_ip),
            account: KeyedLimiter::new(per_account),
            metrics: AuthMetrics::default(),
        }
    }

    /// Accounts are keyed by the login or email as sent, case-folded (WordPress logins and
    /// emails match case-insensitively), so unknown names are throttled like known ones.
    fn account_key(login: &str) -> String {
        login.trim().to_lowercase()
    }

    /// What to do with a credential check for `login` from `ip`.
    pub fn check(&self, ip: &str, login: &str) -> Verdict {
        let now = Instant::now();
        if let Some(wait) = self.ip.limited(&ip.to_owned(), now) {
            self.metrics.throttled.fetch_add(1, Ordering::Relaxed);
            return Verdict::IpLimited(wait);
        }
        match self.account.limited(&Self::account_key(login), now) {
            Some(wait) => Verdict::AccountLimited(wait),
            None => Verdict::Allow,
        }
    }

    /// Records a failed credential check; returns the running failure count.
    pub fn record_failure(&self, ip: &str, login: &str) -> u64 {
        let now = Instant::now();
        self.ip.take(&ip.to_owned(), now);
        self.account.take(&Self::account_key(login), now);
        self.metrics.failures.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Records that a wrong credential was answered 429 (account throttled).
    pub fn record_throttled(&self) {
        self.metrics.throttled.fetch_add(1, Ordering::Relaxed);
    }
}

/// Whole seconds for a `Retry-After` header, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(per_minute: u32, burst: u32) -> Rate {
        Rate { per_minute, burst }
    }

    #[test]
    fn bucket_empties_after_burst_and_refills() {
        let l = KeyedLimiter::new(rate(60, 3));
        let t0 = Instant::now();
        let k = "1.2.3.4".to_owned();
        assert_eq!(l.limited(&k, t0), None);
        assert!(l.take(&k, t0).is_none());
        assert!(l.take(&k, t0).is_none());
        let wait = l.take(&k, t0).expect("empty after 3");
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert!(l.limited(&k, t0).is_some());
        // 60/min = one token a second.
        assert_eq!(l.limited(&k, t0 + Duration::from_millis(1001)), None);
        // Another key is unaffected.
        assert_eq!(l.limited(&"5.6.7.8".to_owned(), t0), None);
    }

    #[test]
    fn zero_rate_disables() {
        let l = KeyedLimiter::new(rate(0, 5));
        let k = "x".to_owned();
        for _ in 0..100 {
            assert!(l.take(&k, Instant::now()).is_none());
        }
        assert!(l.is_empty());
    }

    #[test]
    fn account_limit_does_not_block_checks_but_ip_limit_does() {
        let t = AuthThrottle::new(rate(10, 2), rate(30, 3));
        assert_eq!(t.check("a", "Alice"), Verdict::Allow);
        t.record_failure("a", "alice");
        t.record_failure("a", "ALICE");
        assert!(matches!(t.check("a", "alice"), Verdict::IpLimited(_)));
        // From another IP the account still has one token, then it is limited.
        assert_eq!(t.check("b", "alice"), Verdict::Allow);
        t.record_failure("b", "alice");
        assert!(matches!(t.check("c", "alice"), Verdict::AccountLimited(_)));
        assert_eq!(t.metrics.failures(), 3);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(6)), 6);
        assert_eq!(retry_after_secs(Duration::from_millis(6001)), 7);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
