//! In-memory read caches that are never stale: each entry belongs to the database version
//! it was read at (`Store::data_version`, which moves on every commit by any process), and
//! each request asks the version first. A write anywhere (this server, the CLI, another
//! process) empties the caches for the next request. PostgreSQL counts commits in a sequence
//! bumped by triggers (`store::pg_version`); while it cannot tell its version, nothing is cached.
//!
//! WordPress has the same idea in its object cache; here it is what lets an authenticated
//! read cost about what an anonymous one does.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::auth::scopes::Grant;
use crate::store::{DataVersion, Store, User};
use axum::body::{Body, Bytes, HttpBody};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// The database version a request read at its start. Only entries of that version serve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version(DataVersion);

/// Bounds, so a cache never grows the process past its memory budget. Every byte an entry
/// holds counts against its cache's cap: key, headers, body, and a fixed overhead for the
/// map slot, the queue slot and the allocations around them. Past a bound the oldest
/// entries not read since the clock hand last passed are evicted.
pub const MAX_RESPONSE_BYTES: usize = 8 << 20;
pub const MAX_RESPONSE_ENTRIES: usize = 4096;
const MAX_RESPONSE_BODY: u64 = 1 << 20;
/// Answers to longer request targets are not kept: such URLs are not ones a client repeats.
pub const MAX_RESPONSE_KEY: usize = 2048;
const MAX_AUTH_BYTES: usize = 2 << 20;
const MAX_AUTH_ENTRIES: usize = 10_000;
/// Logins longer than any real one (`user_login` is 60 characters, `user_email` 100) are
/// never cached.
const MAX_AUTH_KEY: usize = 512;
/// What one entry costs beyond its key and value bytes (hash-map and queue slots, the
/// `HeaderMap` and `Bytes` headers, allocator rounding), counted so that a flood of tiny
/// entries is bounded too.
const ENTRY_OVERHEAD: usize = 256;
/// Per header: the `HeaderMap` entry around a name and a value.
const HEADER_OVERHEAD: usize = 64;
/// Responses are also dropped after this long, so nothing that depends on the clock
/// (rather than on the database) can be served late by more than this.
const RESPONSE_TTL: Duration = Duration::from_secs(2);

/// What a cache holds now (for tests and diagnostics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub entries: usize,
    /// Bytes counted against the cap (keys, headers, bodies, per-entry overhead).
    pub bytes: usize,
    pub max_entries: usize,
    pub max_bytes: usize,
}

#[derive(Default)]
pub struct ReadCache {
    state: Mutex<State>,
}

struct State {
    version: Option<Version>,
    /// "token hash:login as sent" -> the user and the Application Password it verified as
    /// (with its expiry and scopes, so checking them costs no query).
    auth: Clock<(Arc<User>, Arc<Grant>)>,
    /// Option name -> its value (`get_option()`).
    options: Clock<Option<String>>,
    responses: Clock<CachedResponse>,
}

const MAX_OPTION_ENTRIES: usize = 256;
const MAX_OPTION_BYTES: usize = 256 << 10;
const MAX_OPTION_KEY: usize = 191;

impl Default for State {
    fn default() -> Self {
        Self {
            version: None,
            auth: Clock::new(MAX_AUTH_ENTRIES, MAX_AUTH_BYTES, MAX_AUTH_KEY, None),
            options: Clock::new(MAX_OPTION_ENTRIES, MAX_OPTION_BYTES, MAX_OPTION_KEY, None),
            responses: Clock::new(
                MAX_RESPONSE_ENTRIES,
                MAX_RESPONSE_BYTES,
                MAX_RESPONSE_KEY,
                Some(RESPONSE_TTL),
            ),
        }
    }
}

struct CachedResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

/// A map bounded in entries and in counted bytes, evicting with the clock algorithm
/// (second chance): entries queue in insertion order; when room is needed the oldest one is
/// dropped unless it was read since it was queued, in which case it is queued again with
/// its mark cleared. Every step is O(1) amortized: a re-queue is paid for by the read that
/// set the mark, and queue records of replaced entries are skipped when they come up.
struct Clock<V> {
    map: HashMap<Arc<str>, Slot<V>>,
    /// (key, the `seq` of the entry when it was queued).
    queue: VecDeque<(Arc<str>, u64)>,
    bytes: usize,
    seq: u64,
    max_entries: usize,
    max_bytes: usize,
    max_key: usize,
    ttl: Option<Duration>,
}

struct Slot<V> {
    seq: u64,
    at: Instant,
    referenced: bool,
    cost: usize,
    value: V,
}

impl<V> Clock<V> {
    fn new(max_entries: usize, max_bytes: usize, max_key: usize, ttl: Option<Duration>) -> Self {
        Self {
            map: HashMap::new(),
            queue: VecDeque::new(),
            bytes: 0,
            seq: 0,
            max_entries,
            max_bytes,
            max_key,
            ttl,
        }
    }

    fn stats(&self) -> CacheStats {
        CacheStats {
            entries: self.map.len(),
            bytes: self.bytes,
            max_entries: self.max_entries,
            max_bytes: self.max_bytes,
        }
    }

    fn expired(&self, at: Instant, now: Instant) -> bool {
        self.ttl.is_some_and(|ttl| now.duration_since(at) >= ttl)
    }

    /// Empties the cache and gives its memory back (the maps do not shrink by themselves).
    fn clear(&mut self) {
        self.map = HashMap::new();
        self.queue = VecDeque::new();
        self.bytes = 0;
    }

    fn get(&mut self, key: &str) -> Option<&V> {
        let ttl = self.ttl;
        let slot = self.map.get_mut(key)?;
        if ttl.is_some_and(|ttl| slot.at.elapsed() >= ttl) {
            return None;
        }
        slot.referenced = true;
        Some(&slot.value)
    }

    /// Inserts `value`, which holds `value_bytes` bytes besides its key. Nothing is kept
    /// when the key is over the key limit or the entry alone would fill the cache.
    fn insert(&mut self, key: &str, value: V, value_bytes: usize) -> bool {
        let cost = key.len() + value_bytes + ENTRY_OVERHEAD;
        if key.len() > self.max_key || cost > self.max_bytes / 4 {
            return false;
        }
        if let Some(old) = self.map.remove(key) {
            self.bytes -= old.cost;
        }
        let now = Instant::now();
        // Expired entries sit at the front (insertion order is time order): drop them first.
        while let Some((k, seq)) = self.queue.front() {
            let stale = match self.map.get(k.as_ref()) {
                Some(slot) if slot.seq == *seq => self.expired(slot.at, now),
                _ => true,
            };
            if !stale {
                break;
            }
            self.pop_front();
        }
        while self.bytes + cost > self.max_bytes
            || self.map.len() >= self.max_entries
            || self.queue.len() >= 2 * self.max_entries
        {
            if !self.evict_one(now) {
                break;
            }
        }
        self.seq += 1;
        let key: Arc<str> = Arc::from(key);
        self.queue.push_back((key.clone(), self.seq));
        self.map.insert(
            key,
            Slot {
                seq: self.seq,
                at: now,
                referenced: false,
                cost,
                value,
            },
        );
        self.bytes += cost;
        true
    }

    /// Removes the queue's front record, and its entry if the record is the entry's current
    /// one (a replaced entry left an outdated record behind).
    fn pop_front(&mut self) {
        if let Some((k, seq)) = self.queue.pop_front()
            && self.map.get(k.as_ref()).is_some_and(|s| s.seq == seq)
            && let Some(slot) = self.map.remove(k.as_ref())
        {
            self.bytes -= slot.cost;
        }
    }

    /// One step of the clock hand; `false` when the cache is empty.
    fn evict_one(&mut self, now: Instant) -> bool {
        let Some((k, seq)) = self.queue.pop_front() else {
            return false;
        };
        let ttl = self.ttl;
        let requeue = match self.map.get_mut(k.as_ref()) {
            Some(slot) if slot.seq == seq => {
                let live = ttl.is_none_or(|t| now.duration_since(slot.at) < t);
                if slot.referenced && live {
                    slot.referenced = false;
                    self.seq += 1;
                    slot.seq = self.seq;
                    true
                } else {
                    false
                }
            }
            // An outdated record: its entry was replaced and queued again.
            _ => return true,
        };
        if requeue {
            self.queue.push_back((k, self.seq));
        } else if let Some(slot) = self.map.remove(k.as_ref()) {
            self.bytes -= slot.cost;
        }
        true
    }
}

/// Bytes a header map holds, as counted against the cache's cap.
fn header_bytes(h: &HeaderMap) -> usize {
    h.iter()
        .map(|(k, v)| k.as_str().len() + v.as_bytes().len() + HEADER_OVERHEAD)
        .sum()
}

impl ReadCache {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-written entry behind (inserts
        // are single calls), so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads the database version for this request, emptying the caches if it moved.
    /// `None`: do not use the caches for this request.
    pub async fn version(&self, store: &dyn Store, enabled: bool) -> Option<Version> {
        if !enabled {
            return None;
        }
        let v = store.current_data_version().await?;
        Some(self.move_to(store, v))
    }

    /// `version` from what the store can tell without asking its server (SQLite's WAL
    /// index; `None` on PostgreSQL), for reads in the middle of a request.
    pub fn version_now(&self, store: &dyn Store, enabled: bool) -> Option<Version> {
        if !enabled {
            return None;
        }
        let v = store.data_version()?;
        Some(self.move_to(store, v))
    }

    /// Makes `v` the caches' version. Answers are dropped whatever moved it; users, tokens
    /// and options are kept when only the store's own post creations did (they touch none
    /// of those), so a stream of new drafts does not make every request look them up again.
    fn move_to(&self, store: &dyn Store, v: DataVersion) -> Version {
        let v = Version(v);
        let mut s = self.state();
        if s.version != Some(v) {
            let posts_only = s
                .version
                .is_some_and(|old| store.only_own_post_writes(&old.0, &v.0));
            s.version = Some(v);
            s.responses.clear();
            if !posts_only {
                s.auth.clear();
                s.options.clear();
            }
        }
        v
    }

    /// The value of option `name` read at `v`, if known (`Some(None)`: it does not exist).
    pub fn option(&self, v: Version, name: &str) -> Option<Option<String>> {
        let mut s = self.state();
        if s.version != Some(v) {
            return None;
        }
        s.options.get(name).cloned()
    }

    /// Remembers option `name` read by a request at `v` (dropped if the database has moved
    /// on since).
    pub fn put_option(&self, v: Version, name: &str, value: Option<String>) {
        let mut s = self.state();
        if s.version != Some(v) {
            return;
        }
        let bytes = value.as_ref().map_or(0, String::len);
        s.options.insert(name, value, bytes);
    }

    /// What the response cache holds now.
    pub fn response_stats(&self) -> CacheStats {
        self.state().responses.stats()
    }

    /// What the verified-credentials cache holds now.
    pub fn auth_stats(&self) -> CacheStats {
        self.state().auth.stats()
    }

    pub fn auth(&self, v: Version, login: &str, hash: &str) -> Option<(Arc<User>, Arc<Grant>)> {
        let mut s = self.state();
        if s.version != Some(v) {
            return None;
        }
        with_auth_key(login, hash, |key| s.auth.get(key).cloned()).flatten()
    }

    /// Remembers a successful verification made by a request that started at `v`. Dropped
    /// if the database has moved on since (the verification may predate a revocation).
    pub fn put_auth(&self, v: Version, login: &str, hash: &str, found: (Arc<User>, Arc<Grant>)) {
        let mut s = self.state();
        if s.version != Some(v) {
            return;
        }
        // The user and grant are shared with the request (`Arc`): count a typical user
        // row and a scope list.
        with_auth_key(login, hash, |key| s.auth.insert(key, found, 640));
    }

    pub fn response(&self, v: Version, key: &str) -> Option<Response> {
        let mut s = self.state();
        if s.version != Some(v) {
            return None;
        }
        let c = s.responses.get(key)?;
        let mut resp = Response::new(Body::from(c.body.clone()));
        *resp.status_mut() = c.status;
        *resp.headers_mut() = c.headers.clone();
        Some(resp)
    }

    /// Keeps a copy of a complete 200 answer computed by a request that started at `v`,
    /// and gives the answer back (rebuilt from the same bytes).
    pub async fn put_response(&self, v: Version, key: String, resp: Response) -> Response {
        let small = resp
            .body()
            .size_hint()
            .exact()
            .is_some_and(|n| n <= MAX_RESPONSE_BODY);
        if resp.status() != StatusCode::OK || !small || key.len() > MAX_RESPONSE_KEY {
            return resp;
        }
        let (parts, body) = resp.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, MAX_RESPONSE_BODY as usize).await else {
            // A body that fails while being read could not have been sent either.
            return crate::error::WpError::internal().into_response();
        };
        {
            let mut s = self.state();
            if s.version == Some(v) {
                let cost = header_bytes(&parts.headers) + bytes.len();
                s.responses.insert(
                    &key,
                    CachedResponse {
                        status: parts.status,
                        headers: parts.headers.clone(),
                        body: bytes.clone(),
                    },
                    cost,
                );
            }
        }
        Response::from_parts(parts, Body::from(bytes))
    }
}

/// What the display filters made of a post's title, content and excerpt
/// (`prepare_item_for_response()`'s `rendered` fields), with the texts they were made from.
pub struct Rendered {
    pub title: String,
    pub content: String,
    pub excerpt: String,
    from: RenderInput,
}

/// Everything the display filters read for a post without media-library images: they are
/// a function of these (and of the site's home URL, fixed for the process).
#[derive(PartialEq, Eq)]
struct RenderInput {
    title: String,
    content: String,
    excerpt: String,
    excerpt_length: i64,
}

/// Rendered posts, by post id. An entry serves only a post whose title, content, excerpt
/// and excerpt length are exactly those it was made from, so it can never be stale and
/// needs no database version: a page of posts read again (or after an unrelated write)
/// is not rendered again. Bounded like the read caches.
pub struct RenderCache {
    state: Mutex<Clock<Arc<Rendered>>>,
}

/// Room for the 5,000 posts of 50 pages of 100 (bench/http.sh scenario G) at a typical
/// post's size: a cyclic reader larger than the cache would never hit it.
pub const MAX_RENDER_BYTES: usize = 12 << 20;
const MAX_RENDER_ENTRIES: usize = 20_000;

impl Default for RenderCache {
    fn default() -> Self {
        Self {
            state: Mutex::new(Clock::new(MAX_RENDER_ENTRIES, MAX_RENDER_BYTES, 20, None)),
        }
    }
}

impl RenderCache {
    fn state(&self) -> MutexGuard<'_, Clock<Arc<Rendered>>> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The rendering of post `id` if it was made from exactly these texts, else `render()`'s
    /// (`(title, content, excerpt)`), kept for next time when `render()` says it may be.
    pub fn get_or_render(
        &self,
        id: i64,
        title: &str,
        content: &str,
        excerpt: &str,
        excerpt_length: i64,
        render: impl FnOnce() -> ((String, String, String), bool),
    ) -> Arc<Rendered> {
        let key = id.to_string();
        let same = |r: &Rendered| {
            r.from.excerpt_length == excerpt_length
                && r.from.title == title
                && r.from.content == content
                && r.from.excerpt == excerpt
        };
        if let Some(hit) = self.state().get(&key).filter(|r| same(r)) {
            return hit.clone();
        }
        let ((rendered_title, rendered_content, rendered_excerpt), keep) = render();
        let rendered = Arc::new(Rendered {
            title: rendered_title,
            content: rendered_content,
            excerpt: rendered_excerpt,
            from: RenderInput {
                title: title.to_owned(),
                content: content.to_owned(),
                excerpt: excerpt.to_owned(),
                excerpt_length,
            },
        });
        let bytes = [
            &rendered.title,
            &rendered.content,
            &rendered.excerpt,
            &rendered.from.title,
            &rendered.from.content,
            &rendered.from.excerpt,
        ]
        .iter()
        .map(|s| s.len())
        .sum();
        if keep {
            self.state().insert(&key, rendered.clone(), bytes);
        }
        rendered
    }

    /// What the cache holds now.
    pub fn stats(&self) -> CacheStats {
        self.state().stats()
    }
}

/// `f` of the key `hash:login`, made on the stack; `None` when it is longer than any key
/// the cache keeps. The token hash has a fixed alphabet without `:`, so the pair cannot be
/// ambiguous.
fn with_auth_key<R>(login: &str, hash: &str, f: impl FnOnce(&str) -> R) -> Option<R> {
    let len = hash.len() + 1 + login.len();
    if len > MAX_AUTH_KEY {
        return None;
    }
    let mut buf = [0u8; MAX_AUTH_KEY];
    buf[..hash.len()].copy_from_slice(hash.as_bytes());
    buf[hash.len()] = b':';
    buf[hash.len() + 1..len].copy_from_slice(login.as_bytes());
    std::str::from_utf8(&buf[..len]).ok().map(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_stays_within_its_bounds_and_spares_entries_being_read() {
        let mut c: Clock<usize> = Clock::new(100, 100 * (ENTRY_OVERHEAD + 20), 64, None);
        assert!(c.insert("hot", 0, 10));
        for i in 0..10_000 {
            assert!(c.insert(&format!("k{i}"), i, 10));
            assert!(c.get("hot").is_some(), "a read entry gets a second chance");
            let s = c.stats();
            assert!(
                s.bytes <= s.max_bytes && s.entries <= s.max_entries,
                "{s:?}"
            );
            assert!(c.queue.len() <= 2 * s.max_entries);
        }
        assert!(c.get("k9999").is_some());
        assert!(c.get("k0").is_none());
        assert!(
            !c.insert(&"x".repeat(65), 0, 0),
            "keys over the limit are not kept"
        );
    }

    #[test]
    fn a_rendering_serves_only_the_texts_it_was_made_from() {
        let cache = RenderCache::default();
        let renders = std::cell::Cell::new(0);
        let get = |title: &str, content: &str, excerpt: &str, length: i64| {
            cache
                .get_or_render(7, title, content, excerpt, length, || {
                    renders.set(renders.get() + 1);
                    (
                        (
                            format!("<{title}>"),
                            format!("<{content}>"),
                            format!("<{excerpt}>"),
                        ),
                        !content.contains("player"),
                    )
                })
                .content
                .clone()
        };
        assert_eq!(get("t", "c", "e", 55), "<c>");
        assert_eq!(get("t", "c", "e", 55), "<c>");
        assert_eq!(renders.get(), 1, "the same texts are rendered once");
        assert_eq!(get("t", "c2", "e", 55), "<c2>");
        assert_eq!(get("t2", "c2", "e", 55), "<c2>");
        assert_eq!(get("t2", "c2", "e2", 55), "<c2>");
        assert_eq!(get("t2", "c2", "e2", 20), "<c2>");
        assert_eq!(renders.get(), 5, "any changed input renders again");
        assert_eq!(cache.stats().entries, 1, "one entry per post");
        // A rendering that says it depends on more than its texts is never served again.
        assert_eq!(get("t", "player", "e", 55), "<player>");
        assert_eq!(get("t", "player", "e", 55), "<player>");
        assert_eq!(
            renders.get(),
            7,
            "a rendering not to keep is made each time"
        );
    }

    #[test]
    fn expired_entries_are_dropped_first() {
        let mut c: Clock<usize> = Clock::new(100, 1 << 20, 64, Some(Duration::ZERO));
        for i in 0..1000 {
            c.insert(&format!("k{i}"), i, 10);
        }
        assert_eq!(c.stats().entries, 1);
        assert!(c.get("k999").is_none());
    }
}
