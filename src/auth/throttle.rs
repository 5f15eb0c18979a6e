//! Brute-force throttling of failed authentication: token buckets of *failures* per client
//! IP and per account, kept in memory. WordPress core has no equivalent (plugins such as
//! Limit Login Attempts add one); vaultwarden's `ratelimit.rs` is the model.
//!
//! Every credential check first *reserves* a token ([`AuthThrottle::reserve`]): the bucket is
//! checked and a token taken under one lock, before the expensive verification, so N guesses
//! sent in parallel from one IP verify at most `burst` of them. The [`Attempt`] guard gives
//! the tokens back when the credential was valid ([`Attempt::refund`]) and keeps them when it
//! was not ([`Attempt::fail`]) or when the request was dropped half-way (a cancelled guess is
//! not free). A request that finds the bucket's remaining tokens all held by attempts still in
//! flight waits for them to settle (bounded): they may be refunded.
//!
//! An IP whose bucket is empty is refused (429) before its credentials are even checked. An
//! account whose bucket is empty still lets a *valid* credential through, so an attacker
//! hammering one login from many addresses cannot lock the real owner out: such a request
//! proceeds without an account reservation and a wrong credential gets 429 instead of 401.
//! The same [`AuthThrottle`] serves every credential check (Basic auth, the login form).

use std::borrow::{Borrow, Cow};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Beyond this many keys, buckets that have refilled completely are forgotten (they carry
/// no information); the map therefore stays bounded by the keys currently throttled.
const PRUNE_ABOVE: usize = 10_000;

/// How long a request waits for attempts in flight from the same IP to settle before it is
/// answered 429. Verifications take milliseconds (argon2 tens of them, plus the CPU queue).
const SETTLE_WAIT: Duration = Duration::from_secs(10);

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
    /// Tokens taken by reservations not yet settled (refunded or kept).
    in_flight: u32,
}

/// The outcome of [`KeyedLimiter::try_take`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// A token was taken: settle it with [`KeyedLimiter::refund`] or [`KeyedLimiter::keep`].
    Taken,
    /// No token is free, but reservations in flight hold some: one may come back.
    Busy,
    /// No token left: the next one comes after this wait.
    Limited(Duration),
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
    pub fn limited<Q>(&self, key: &Q, now: Instant) -> Option<Duration>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if !self.rate.enabled() {
            return None;
        }
        let mut map = self.buckets.lock().ok()?;
        let b = map.get_mut(key)?;
        self.refill(b, now);
        (b.tokens < 1.0).then(|| self.wait_for_one(b.tokens))
    }

    /// Checks and takes one token of `key` under one lock: the reservation made before a
    /// credential is verified. A disabled limit always answers `Taken` and tracks nothing.
    /// The key is copied only when it has no bucket yet.
    pub fn try_take<Q>(&self, key: &Q, now: Instant) -> Take
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if !self.rate.enabled() {
            return Take::Taken;
        }
        // A poisoned lock means a panic elsewhere: refuse rather than let guesses through.
        let Ok(mut map) = self.buckets.lock() else {
            return Take::Limited(Duration::from_secs(1));
        };
        if map.len() > PRUNE_ABOVE {
            let full = f64::from(self.rate.burst);
            let rate = self.rate.per_second();
            map.retain(|_, b| {
                b.in_flight > 0
                    || b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * rate
                        < full
            });
        }
        if let Some(b) = map.get_mut(key) {
            return self.take_from(b, now);
        }
        let b = map.entry(key.to_owned()).or_insert(Bucket {
            tokens: f64::from(self.rate.burst),
            updated: now,
            in_flight: 0,
        });
        self.take_from(b, now)
    }

    fn take_from(&self, b: &mut Bucket, now: Instant) -> Take {
        self.refill(b, now);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            b.in_flight += 1;
            Take::Taken
        } else if b.in_flight > 0 && b.tokens + f64::from(b.in_flight) >= 1.0 {
            Take::Busy
        } else {
            Take::Limited(self.wait_for_one(b.tokens))
        }
    }

    /// Settles a reservation of `key` by giving its token back (the credential was valid).
    pub fn refund<Q>(&self, key: &Q, now: Instant)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.settle(key, now, true);
    }

    /// Settles a reservation of `key` keeping its token taken (a failure).
    pub fn keep<Q>(&self, key: &Q, now: Instant)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.settle(key, now, false);
    }

    fn settle<Q>(&self, key: &Q, now: Instant, give_back: bool)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if !self.rate.enabled() {
            return;
        }
        let Ok(mut map) = self.buckets.lock() else {
            return;
        };
        if let Some(b) = map.get_mut(key) {
            self.refill(b, now);
            b.in_flight = b.in_flight.saturating_sub(1);
            if give_back {
                b.tokens = (b.tokens + 1.0).min(f64::from(self.rate.burst));
            }
        }
    }

    /// Number of keys tracked (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.buckets.lock().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Keys with a check-then-write in flight (the comment flood check, for one): a request
/// claims its key for as long as it holds the guard, so two requests for one key never both
/// pass a check that only the other's write would have failed. Only keys in flight are
/// held, so the set is bounded by the requests being served.
#[derive(Debug)]
pub struct InFlight<K> {
    keys: Mutex<std::collections::HashSet<K>>,
}

impl<K> Default for InFlight<K> {
    fn default() -> Self {
        Self {
            keys: Mutex::new(std::collections::HashSet::new()),
        }
    }
}

impl<K: Eq + Hash + Clone> InFlight<K> {
    /// Claims `key`; `None` while another request holds it (or the lock is poisoned).
    pub fn try_enter(&self, key: K) -> Option<InFlightGuard<'_, K>> {
        let mut keys = self.keys.lock().ok()?;
        // Lazily: a guard made and dropped here would take the lock again.
        keys.insert(key.clone())
            .then(|| InFlightGuard { set: self, key })
    }

    /// Number of keys held (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.keys.lock().map_or(0, |k| k.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Releases its key when dropped (also when the request is cancelled half-way).
#[derive(Debug)]
pub struct InFlightGuard<'a, K: Eq + Hash> {
    set: &'a InFlight<K>,
    key: K,
}

impl<K: Eq + Hash> Drop for InFlightGuard<'_, K> {
    fn drop(&mut self) {
        if let Ok(mut keys) = self.set.keys.lock() {
            keys.remove(&self.key);
        }
    }
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
    /// Woken whenever a reservation settles, for requests waiting on a busy bucket.
    settled: tokio::sync::Notify,
    /// Requests registered with `settled` (or about to be): a settlement notifies only
    /// when there is one, as most settle with nobody waiting.
    waiting: AtomicUsize,
    pub metrics: AuthMetrics,
}

/// A credential check that may go ahead: the tokens it reserved, settled by
/// [`Attempt::refund`] (valid credential, or nothing was verified) or [`Attempt::fail`]. If it
/// is dropped unsettled (the request was cancelled mid-check) the tokens stay taken.
#[derive(Debug)]
#[must_use = "settle the attempt with refund() or fail()"]
pub struct Attempt<'a> {
    throttle: &'a AuthThrottle,
    ip: &'a str,
    account: Cow<'a, str>,
    /// Whether an account token was reserved (not when the account was limited).
    account_reserved: bool,
    /// The account was throttled when the attempt started: a wrong credential gets 429
    /// after this wait (a valid one still passes).
    account_limited: Option<Duration>,
    settled: bool,
}

/// What a failed [`Attempt`] is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// The running count of failures, for the log.
    pub failures: u64,
    /// `Some(wait)`: the account is throttled, answer 429 instead of the usual error.
    pub throttled: Option<Duration>,
}

impl Attempt<'_> {
    /// Whether a wrong credential will be answered 429 (the account is throttled).
    pub fn account_limited(&self) -> Option<Duration> {
        self.account_limited
    }

    /// The credential was valid (or never verified, e.g. a storage error or a full CPU
    /// queue): the reserved tokens go back.
    pub fn refund(mut self) {
        self.settle(true);
    }

    /// The credential was wrong: the reserved tokens stay taken.
    pub fn fail(mut self) -> Failure {
        self.settle(false);
        let t = self.throttle;
        let failures = t.metrics.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if self.account_limited.is_some() {
            t.metrics.throttled.fetch_add(1, Ordering::Relaxed);
        }
        Failure {
            failures,
            throttled: self.account_limited,
        }
    }

    fn settle(&mut self, give_back: bool) {
        if std::mem::replace(&mut self.settled, true) {
            return;
        }
        let t = self.throttle;
        let now = Instant::now();
        if give_back {
            t.ip.refund(self.ip, now);
        } else {
            t.ip.keep(self.ip, now);
        }
        if self.account_reserved {
            if give_back {
                t.account.refund(self.account.as_ref(), now);
            } else {
                t.account.keep(self.account.as_ref(), now);
            }
        }
        // A waiter counts itself before its last look at the bucket, and that look takes
        // the bucket's lock after (or before) this settlement took it: either it saw the
        // token given back, or its count is seen here.
        if t.waiting.load(Ordering::SeqCst) > 0 {
            t.settled.notify_waiters();
        }
    }
}

impl Drop for Attempt<'_> {
    /// A cancelled request keeps its tokens: dropping a connection must not make a guess free.
    fn drop(&mut self) {
        self.settle(false);
    }
}

impl AuthThrottle {
    pub fn new(per_ip: Rate, per_account: Rate) -> Self {
        Self {
            ip: KeyedLimiter::new(per_ip),
            account: KeyedLimiter::new(per_account),
            settled: tokio::sync::Notify::new(),
            waiting: AtomicUsize::new(0),
            metrics: AuthMetrics::default(),
        }
    }

    /// Accounts are keyed by the login or email as sent, case-folded (WordPress logins and
    /// emails match case-insensitively), so unknown names are throttled like known ones.
    /// Copied only when folding changes it (an ASCII login without capitals is its own key).
    fn account_key(login: &str) -> Cow<'_, str> {
        let login = login.trim();
        if login.is_ascii() && !login.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Borrowed(login)
        } else {
            Cow::Owned(login.to_lowercase())
        }
    }

    /// Reserves the tokens of a credential check for `login` from `ip`, before verifying it.
    /// `Err(wait)`: the IP is throttled; refuse without checking and retry after `wait`.
    pub async fn reserve<'a>(
        &'a self,
        ip: &'a str,
        login: &'a str,
    ) -> Result<Attempt<'a>, Duration> {
        let deadline = tokio::time::Instant::now() + SETTLE_WAIT;
        loop {
            // The usual case takes a token at once, without registering for a settlement.
            match self.ip.try_take(ip, Instant::now()) {
                Take::Taken => break,
                Take::Limited(wait) => return Err(self.refused(wait)),
                Take::Busy => {}
            }
            // Busy: counted and registered before looking again, so a settlement in between
            // is not missed.
            let _waiting = Waiting::new(&self.waiting);
            let notified = self.settled.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.ip.try_take(ip, Instant::now()) {
                Take::Taken => break,
                Take::Limited(wait) => return Err(self.refused(wait)),
                Take::Busy => {
                    if tokio::time::timeout_at(deadline, notified).await.is_err() {
                        return Err(self.refused(Duration::from_secs(1)));
                    }
                }
            }
        }
        let account = Self::account_key(login);
        let (account_reserved, account_limited) =
            match self.account.try_take(account.as_ref(), Instant::now()) {
                Take::Taken => (true, None),
                // All of the account's tokens are held by checks in flight: as if limited.
                Take::Busy => (false, Some(Duration::from_secs(1))),
                Take::Limited(wait) => (false, Some(wait)),
            };
        Ok(Attempt {
            throttle: self,
            ip,
            account,
            account_reserved,
            account_limited,
            settled: false,
        })
    }

    fn refused(&self, wait: Duration) -> Duration {
        self.metrics.throttled.fetch_add(1, Ordering::Relaxed);
        wait
    }
}

/// One request counted in [`AuthThrottle::waiting`] while it lives (also when cancelled).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whole seconds for a `Retry-After` header, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod in_flight_tests {
    use super::*;

    #[test]
    fn a_key_is_held_once_until_its_guard_drops() {
        let set = InFlight::default();
        let first = set.try_enter("u:1".to_owned());
        assert!(first.is_some());
        assert!(set.try_enter("u:1".to_owned()).is_none());
        assert!(set.try_enter("u:2".to_owned()).is_some());
        assert_eq!(
            set.len(),
            1,
            "the refused attempt released nothing, u:2 is gone"
        );
        drop(first);
        assert!(set.is_empty());
    }
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
        for _ in 0..3 {
            assert_eq!(l.try_take(&k, t0), Take::Taken);
            l.keep(&k, t0);
        }
        let Take::Limited(wait) = l.try_take(&k, t0) else {
            panic!("empty after 3");
        };
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert!(l.limited(&k, t0).is_some());
        // 60/min = one token a second.
        assert_eq!(l.limited(&k, t0 + Duration::from_millis(1001)), None);
        // Another key is unaffected.
        assert_eq!(l.limited(&"5.6.7.8".to_owned(), t0), None);
    }

    #[test]
    fn reservations_in_flight_make_the_bucket_busy_not_limited() {
        let l = KeyedLimiter::new(rate(1, 2));
        let t0 = Instant::now();
        let k = "ip".to_owned();
        assert_eq!(l.try_take(&k, t0), Take::Taken);
        assert_eq!(l.try_take(&k, t0), Take::Taken);
        // Both tokens are held by checks in flight: the third can neither go nor be refused.
        assert_eq!(l.try_take(&k, t0), Take::Busy);
        // One succeeds: its token comes back and the third may go.
        l.refund(&k, t0);
        assert_eq!(l.try_take(&k, t0), Take::Taken);
        // Both remaining fail: their tokens stay taken and the bucket is empty.
        l.keep(&k, t0);
        l.keep(&k, t0);
        assert!(matches!(l.try_take(&k, t0), Take::Limited(_)));
    }

    #[test]
    fn refunds_never_exceed_the_burst() {
        let l = KeyedLimiter::new(rate(60, 2));
        let t0 = Instant::now();
        let k = "ip".to_owned();
        for _ in 0..100 {
            assert_eq!(l.try_take(&k, t0), Take::Taken);
            l.refund(&k, t0);
        }
        // Still exactly two failures allowed.
        for _ in 0..2 {
            assert_eq!(l.try_take(&k, t0), Take::Taken);
            l.keep(&k, t0);
        }
        assert!(matches!(l.try_take(&k, t0), Take::Limited(_)));
    }

    #[test]
    fn zero_rate_disables() {
        let l = KeyedLimiter::new(rate(0, 5));
        let k = "x".to_owned();
        for _ in 0..100 {
            assert_eq!(l.try_take(&k, Instant::now()), Take::Taken);
            l.keep(&k, Instant::now());
        }
        assert!(l.is_empty());
    }

    #[tokio::test]
    async fn valid_credentials_give_their_reservation_back() {
        let t = AuthThrottle::new(rate(1, 2), rate(1, 2));
        for _ in 0..20 {
            let a = t.reserve("a", "alice").await.expect("not limited");
            assert_eq!(a.account_limited(), None);
            a.refund();
        }
        assert_eq!(t.metrics.failures(), 0);
        assert_eq!(t.metrics.throttled(), 0);
    }

    #[tokio::test]
    async fn account_limit_does_not_block_checks_but_ip_limit_does() {
        let t = AuthThrottle::new(rate(1, 2), rate(1, 3));
        assert!(
            t.reserve("a", "Alice")
                .await
                .expect("go")
                .fail()
                .throttled
                .is_none()
        );
        assert!(
            t.reserve("a", "alice")
                .await
                .expect("go")
                .fail()
                .throttled
                .is_none()
        );
        assert!(
            t.reserve("a", "alice").await.is_err(),
            "IP a is out of tokens"
        );
        // From another IP the account still has one token, then it is limited.
        assert!(
            t.reserve("b", "ALICE")
                .await
                .expect("go")
                .fail()
                .throttled
                .is_none()
        );
        let a = t
            .reserve("c", "alice")
            .await
            .expect("the account limit checks anyway");
        assert!(a.account_limited().is_some());
        // A valid credential passes and gives IP c's token back...
        a.refund();
        // ...a wrong one is answered 429.
        let f = t.reserve("c", "alice").await.expect("go").fail();
        assert!(f.throttled.is_some());
        assert_eq!(f.failures, 4);
        assert_eq!(t.metrics.throttled(), 2, "one IP refusal, one account 429");
    }

    #[tokio::test]
    async fn a_dropped_attempt_keeps_its_token() {
        let t = AuthThrottle::new(rate(1, 2), rate(0, 0));
        drop(t.reserve("a", "x").await.expect("go"));
        drop(t.reserve("a", "x").await.expect("go"));
        assert!(t.reserve("a", "x").await.is_err());
    }

    #[tokio::test]
    async fn parallel_guesses_verify_at_most_the_burst() {
        let t = std::sync::Arc::new(AuthThrottle::new(rate(1, 3), rate(0, 0)));
        let verified = std::sync::Arc::new(AtomicU64::new(0));
        let mut tasks = vec![];
        for _ in 0..40 {
            let (t, verified) = (t.clone(), verified.clone());
            tasks.push(tokio::spawn(async move {
                let Ok(a) = t.reserve("10.0.0.1", "alice").await else {
                    return;
                };
                verified.fetch_add(1, Ordering::Relaxed);
                // The slow verification: every other guess is in flight meanwhile.
                tokio::time::sleep(Duration::from_millis(20)).await;
                a.fail();
            }));
        }
        for task in tasks {
            task.await.expect("task");
        }
        assert_eq!(verified.load(Ordering::Relaxed), 3);
        assert_eq!(t.metrics.throttled(), 37);
    }

    #[tokio::test]
    async fn requests_waiting_on_a_busy_bucket_go_once_a_check_succeeds() {
        let t = std::sync::Arc::new(AuthThrottle::new(rate(1, 2), rate(0, 0)));
        let mut tasks = vec![];
        for _ in 0..10 {
            let t = t.clone();
            tasks.push(tokio::spawn(async move {
                let Ok(a) = t.reserve("10.0.0.1", "alice").await else {
                    return false;
                };
                // A valid credential, checked while the others wait.
                tokio::time::sleep(Duration::from_millis(5)).await;
                a.refund();
                true
            }));
        }
        for task in tasks {
            assert!(task.await.expect("task"), "a valid client is never refused");
        }
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(6)), 6);
        assert_eq!(retry_after_secs(Duration::from_millis(6001)), 7);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
