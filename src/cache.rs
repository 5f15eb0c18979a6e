//! In-memory read caches that are never stale: each entry belongs to the database version
//! it was read at (`Store::data_version`, which moves on every commit by any process), and
//! each request asks the version first. A write anywhere (this server, the CLI, another
//! process) empties the caches for the next request. Stores that cannot tell their version
//! cheaply (PostgreSQL, shared by several instances) get no caching at all.
//!
//! WordPress has the same idea in its object cache; here it is what lets an authenticated
//! read cost about what an anonymous one does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::store::{DataVersion, Store, User};

/// The database version a request read at its start. Only entries of that version serve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version(DataVersion);

/// Bounds, so a cache never grows the process past its memory budget: past them the
/// cache is emptied (it refills with what is asked for).
const MAX_AUTH_ENTRIES: usize = 10_000;
const MAX_RESPONSE_BYTES: usize = 8 << 20;
const MAX_RESPONSE_BODY: u64 = 1 << 20;
/// Responses are also dropped after this long, so nothing that depends on the clock
/// (rather than on the database) can be served late by more than this.
const RESPONSE_TTL: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct ReadCache {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    version: Option<Version>,
    /// (login as sent, token hash) -> the user and the Application Password it verified as.
    auth: HashMap<(String, String), (Arc<User>, Uuid)>,
    responses: HashMap<String, CachedResponse>,
    response_bytes: usize,
}

struct CachedResponse {
    at: Instant,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
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
    pub fn version(&self, store: &dyn Store, enabled: bool) -> Option<Version> {
        if !enabled {
            return None;
        }
        let v = Version(store.data_version()?);
        let mut s = self.state();
        if s.version != Some(v) {
            s.version = Some(v);
            s.auth.clear();
            s.responses.clear();
            s.response_bytes = 0;
        }
        Some(v)
    }

    pub fn auth(&self, v: Version, login: &str, hash: &str) -> Option<(Arc<User>, Uuid)> {
        let s = self.state();
        if s.version != Some(v) {
            return None;
        }
        s.auth.get(&(login.to_owned(), hash.to_owned())).cloned()
    }

    /// Remembers a successful verification made by a request that started at `v`. Dropped
    /// if the database has moved on since (the verification may predate a revocation).
    pub fn put_auth(&self, v: Version, login: &str, hash: &str, found: (Arc<User>, Uuid)) {
        let mut s = self.state();
        if s.version != Some(v) {
            return;
        }
        if s.auth.len() >= MAX_AUTH_ENTRIES {
            s.auth.clear();
        }
        s.auth.insert((login.to_owned(), hash.to_owned()), found);
    }

    pub fn response(&self, v: Version, key: &str) -> Option<Response> {
        let s = self.state();
        if s.version != Some(v) {
            return None;
        }
        let c = s
            .responses
            .get(key)
            .filter(|c| c.at.elapsed() < RESPONSE_TTL)?;
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
        if resp.status() != StatusCode::OK || !small {
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
                if s.response_bytes + bytes.len() > MAX_RESPONSE_BYTES {
                    s.responses.clear();
                    s.response_bytes = 0;
                }
                s.response_bytes += bytes.len();
                let old = s.responses.insert(
                    key,
                    CachedResponse {
                        at: Instant::now(),
                        status: parts.status,
                        headers: parts.headers.clone(),
                        body: bytes.clone(),
                    },
                );
                if let Some(old) = old {
                    s.response_bytes -= old.body.len();
                }
            }
        }
        Response::from_parts(parts, Body::from(bytes))
    }
}
