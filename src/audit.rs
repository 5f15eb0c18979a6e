//! The audit log of accounts and Application Passwords (issue 18). WordPress keeps no such
//! history (only `last_used`/`last_ip` per Application Password, `WP_Application_Passwords::
//! record_application_password_usage()`); GitHub, GitLab and Atlassian keep one.
//!
//! Append-only and tamper-evident: each row stores SHA-256 of the previous row's hash and its
//! own canonical content ([`chain_hash`]), so altering, inserting or removing a row breaks
//! [`verify`]. Retention pruning keeps an anchor (the last pruned hash).
//!
//! Recording never slows an authenticated request: a successful request only looks its
//! token's (network, user agent) up in a bounded in-memory set; failures are counted per
//! (minute, login, IP, kind) in a bounded map; both are written by the flush task in one
//! batch ([`Audit::flush`]). Account and token changes are written at once ([`record`]).

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock, RwLock};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::Client;
use crate::site::{Site, now};
use crate::store::{AuditEntry, NewAuditEntry, Store, StoreResult};
use crate::webhooks::Webhook;

/// What happened. The names are the `event` of entries and webhook payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    TokenCreated,
    TokenRenamed,
    TokenRevoked,
    /// Every token of a user revoked at once (`delete_all_application_passwords()`).
    TokenRevokedAll,
    TokenRotated,
    TokenExpired,
    TokenIdleRevoked,
    /// A token expires within 7 days.
    TokenExpiring,
    /// A token used from an IP network (/24 IPv4, /64 IPv6) it was never used from.
    TokenNewIp,
    /// A token used with a user agent it was never used with.
    TokenNewUserAgent,
    /// Failed authentications, counted per minute, login and IP.
    AuthFailed,
    /// Authentications refused by the throttle, counted per minute, login and IP.
    AuthThrottled,
    LoginSucceeded,
    LoginFailed,
    RoleChanged,
    PasswordChanged,
    /// Entries lost because the in-memory queue was full (the store unreachable for long).
    Dropped,
}

impl Event {
    pub const ALL: [Event; 17] = [
        Event::TokenCreated,
        Event::TokenRenamed,
        Event::TokenRevoked,
        Event::TokenRevokedAll,
        Event::TokenRotated,
        Event::TokenExpired,
        Event::TokenIdleRevoked,
        Event::TokenExpiring,
        Event::TokenNewIp,
        Event::TokenNewUserAgent,
        Event::AuthFailed,
        Event::AuthThrottled,
        Event::LoginSucceeded,
        Event::LoginFailed,
        Event::RoleChanged,
        Event::PasswordChanged,
        Event::Dropped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::TokenCreated => "token.created",
            Event::TokenRenamed => "token.renamed",
            Event::TokenRevoked => "token.revoked",
            Event::TokenRevokedAll => "token.revoked_all",
            Event::TokenRotated => "token.rotated",
            Event::TokenExpired => "token.expired",
            Event::TokenIdleRevoked => "token.idle_revoked",
            Event::TokenExpiring => "token.expiring",
            Event::TokenNewIp => "token.new_ip",
            Event::TokenNewUserAgent => "token.new_user_agent",
            Event::AuthFailed => "auth.failed",
            Event::AuthThrottled => "auth.throttled",
            Event::LoginSucceeded => "login.succeeded",
            Event::LoginFailed => "login.failed",
            Event::RoleChanged => "user.role_changed",
            Event::PasswordChanged => "user.password_changed",
            Event::Dropped => "audit.dropped",
        }
    }

    pub fn from_name(s: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// Who did something, and from where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct By {
    /// 0: the system (a sweep) or the command line.
    pub user_id: i64,
    pub ip: String,
    pub user_agent: String,
}

impl By {
    /// The command line or a background task.
    pub fn system() -> Self {
        Self::default()
    }

    /// A logged-in user, from the client of the request.
    pub fn user(user_id: i64, client: &Client) -> Self {
        Self {
            user_id,
            ip: client.ip.clone(),
            user_agent: client.user_agent.chars().take(MAX_USER_AGENT).collect(),
        }
    }
}

/// One event to record.
#[derive(Debug, Clone)]
pub struct Record {
    pub event: Event,
    /// The account concerned.
    pub user_id: i64,
    pub by: By,
    pub token: Option<Uuid>,
    /// A JSON object of details (token name, old and new roles, counts).
    pub data: Value,
}

impl Record {
    pub fn new(event: Event, user_id: i64, by: &By) -> Self {
        Self {
            event,
            user_id,
            by: by.clone(),
            token: None,
            data: json!({}),
        }
    }

    pub fn token(mut self, uuid: Uuid) -> Self {
        self.token = Some(uuid);
        self
    }

    pub fn data(mut self, data: Value) -> Self {
        self.data = data;
        self
    }
}

const MAX_USER_AGENT: usize = 512;
/// Entries waiting for the flush when they could not be written at once.
const MAX_PENDING: usize = 10_000;
/// (minute, login, IP, kind) failure counters kept between flushes; past it, failures are
/// counted under one overflow key (login `*`, IP `*`).
const MAX_FAILURE_KEYS: usize = 4096;
/// (token, network or user agent) pairs known to be seen already.
const MAX_SEEN: usize = 65_536;
/// New (token, network or user agent) pairs waiting to be checked against the store.
const MAX_TO_CHECK: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct FailKey {
    minute: i64,
    login: String,
    ip: String,
    event: Event,
}

#[derive(Debug, Clone)]
struct SeenCheck {
    uuid: Uuid,
    user_id: i64,
    kind: &'static str,
    value: String,
    ip: String,
    user_agent: String,
}

/// In-memory side of the audit log (one per `Site`).
#[derive(Default)]
pub struct Audit {
    hooks: OnceLock<Vec<Webhook>>,
    pending: Mutex<VecDeque<NewAuditEntry>>,
    dropped: Mutex<u64>,
    failures: Mutex<HashMap<FailKey, u64>>,
    /// Read on every authenticated request, written by the flush: a read-write lock.
    seen: RwLock<HashSet<u64>>,
    to_check: Mutex<HashMap<u64, SeenCheck>>,
    /// Wakes the webhook worker when deliveries were queued.
    pub outbox: tokio::sync::Notify,
}

impl Audit {
    /// The webhooks of `ferropress.toml` (set once, at start).
    pub fn set_hooks(&self, hooks: Vec<Webhook>) {
        let _ = self.hooks.set(hooks);
    }

    pub fn hooks(&self) -> &[Webhook] {
        self.hooks.get().map_or(&[], Vec::as_slice)
    }

    fn entry(&self, rec: Record, at: i64) -> NewAuditEntry {
        let event = rec.event.as_str();
        NewAuditEntry {
            at,
            event: event.to_owned(),
            user_id: rec.user_id,
            actor_id: rec.by.user_id,
            token: rec.token.map(|u| u.to_string()).unwrap_or_default(),
            ip: rec.by.ip,
            user_agent: rec.by.user_agent,
            data: rec.data.to_string(),
            hooks: self
                .hooks()
                .iter()
                .filter(|h| h.wants(event))
                .map(|h| h.url.clone())
                .collect(),
        }
    }

    fn queue(&self, entries: Vec<NewAuditEntry>) {
        let Ok(mut q) = self.pending.lock() else {
            return;
        };
        for e in entries {
            if q.len() >= MAX_PENDING {
                q.pop_front();
                if let Ok(mut d) = self.dropped.lock() {
                    *d += 1;
                }
            }
            q.push_back(e);
        }
    }

    /// Queues an event for the next flush (no database access).
    pub fn note(&self, rec: Record) {
        let e = self.entry(rec, now());
        self.queue(vec![e]);
    }

    /// Counts a failed authentication for `login` from `ip`: `AuthFailed`, `AuthThrottled`
    /// or `LoginFailed` (never one database write per guess).
    pub fn auth_failure(&self, event: Event, login: &str, ip: &str) {
        let minute = now() / 60 * 60;
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        let mut key = FailKey {
            minute,
            login: login.chars().take(60).collect(),
            ip: ip.to_owned(),
            event,
        };
        if map.len() >= MAX_FAILURE_KEYS && !map.contains_key(&key) {
            key.login = "*".into();
            key.ip = "*".into();
        }
        *map.entry(key).or_insert(0) += 1;
    }

    /// A successful authentication with token `uuid`: cheap when the token was already seen
    /// from this network with this user agent (a lookup in a bounded set), else the pair is
    /// checked against the store by the next flush.
    pub fn token_used(&self, uuid: Uuid, user_id: i64, ip: &str, user_agent: &str) {
        let ua: String;
        let ua_ref = if user_agent.len() > MAX_USER_AGENT {
            ua = user_agent.chars().take(MAX_USER_AGENT).collect();
            ua.as_str()
        } else {
            user_agent
        };
        // Keys hashed from the network's bytes: the known case allocates nothing.
        let ip_key = match ip.parse::<IpAddr>().map(|a| a.to_canonical()) {
            Ok(IpAddr::V4(v4)) => seen_key(uuid, "network", &v4.octets()[..3]),
            Ok(IpAddr::V6(v6)) => seen_key(uuid, "network", &v6.octets()[..8]),
            Err(_) => seen_key(uuid, "network", ip.as_bytes()),
        };
        let ua_key = seen_key(uuid, "user_agent", ua_ref.as_bytes());
        {
            let Ok(seen) = self.seen.read() else { return };
            if seen.contains(&ip_key) && seen.contains(&ua_key) {
                return;
            }
        }
        let Ok(mut checks) = self.to_check.lock() else {
            return;
        };
        let Ok(seen) = self.seen.read() else { return };
        for (key, kind) in [(ip_key, "network"), (ua_key, "user_agent")] {
            if seen.contains(&key) || checks.contains_key(&key) || checks.len() >= MAX_TO_CHECK {
                continue;
            }
            let value = if kind == "network" {
                network_of(ip).unwrap_or_else(|| ip.to_owned())
            } else {
                ua_ref.to_owned()
            };
            checks.insert(
                key,
                SeenCheck {
                    uuid,
                    user_id,
                    kind,
                    value,
                    ip: ip.to_owned(),
                    user_agent: ua_ref.to_owned(),
                },
            );
        }
    }

    /// Writes what is waiting (queued events, failure counts, new networks and user agents)
    /// as one batch. What could not be written stays for the next flush.
    pub async fn flush(&self, store: &dyn Store) -> StoreResult<usize> {
        let at = now();
        let mut entries: Vec<NewAuditEntry> = match self.pending.lock() {
            Ok(mut q) => q.drain(..).collect(),
            Err(_) => Vec::new(),
        };
        let dropped = self
            .dropped
            .lock()
            .map(|mut d| std::mem::take(&mut *d))
            .unwrap_or(0);
        if dropped > 0 {
            entries.push(self.entry(
                Record::new(Event::Dropped, 0, &By::system()).data(json!({ "count": dropped })),
                at,
            ));
        }
        let failures: Vec<(FailKey, u64)> = match self.failures.lock() {
            Ok(mut m) => m.drain().collect(),
            Err(_) => Vec::new(),
        };
        let mut failures = failures;
        failures.sort_by(|a, b| {
            (a.0.minute, &a.0.login, &a.0.ip).cmp(&(b.0.minute, &b.0.login, &b.0.ip))
        });
        for (key, count) in failures {
            let user_id = match key.login.as_str() {
                "*" | "" => 0,
                login => store
                    .user_by_login(login)
                    .await
                    .ok()
                    .flatten()
                    .map_or(0, |u| u.id),
            };
            let event = key.event;
            let by = By {
                user_id: 0,
                ip: key.ip.clone(),
                user_agent: String::new(),
            };
            entries.push(self.entry(
                Record::new(event, user_id, &by).data(json!({
                    "login": key.login,
                    "minute": key.minute,
                    "count": count,
                })),
                at,
            ));
        }
        let checks: Vec<(u64, SeenCheck)> = match self.to_check.lock() {
            Ok(mut m) => m.drain().collect(),
            Err(_) => Vec::new(),
        };
        let mut seen_now = Vec::with_capacity(checks.len());
        for (key, c) in checks {
            match store.mark_token_seen(c.uuid, c.kind, &c.value, at).await {
                Ok(first) => {
                    seen_now.push(key);
                    if first {
                        let event = if c.kind == "network" {
                            Event::TokenNewIp
                        } else {
                            Event::TokenNewUserAgent
                        };
                        let by = By {
                            user_id: c.user_id,
                            ip: c.ip.clone(),
                            user_agent: c.user_agent.clone(),
                        };
                        entries.push(
                            self.entry(
                                Record::new(event, c.user_id, &by)
                                    .token(c.uuid)
                                    .data(json!({ c.kind: c.value })),
                                at,
                            ),
                        );
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "checking a token's networks failed");
                }
            }
        }
        if let Ok(mut seen) = self.seen.write() {
            if seen.len() + seen_now.len() > MAX_SEEN {
                seen.clear();
            }
            seen.extend(seen_now);
        }
        if entries.is_empty() {
            return Ok(0);
        }
        let n = entries.len();
        let hooks = entries.iter().any(|e| !e.hooks.is_empty());
        match store.append_audit(&entries, at).await {
            Ok(_) => {
                if hooks {
                    self.outbox.notify_one();
                }
                Ok(n)
            }
            Err(e) => {
                // Put back in front, in order, for the next flush.
                if let Ok(mut q) = self.pending.lock() {
                    for entry in entries.into_iter().rev() {
                        if q.len() >= MAX_PENDING {
                            break;
                        }
                        q.push_front(entry);
                    }
                }
                Err(e)
            }
        }
    }
}

/// Writes one event now (token and account changes, which are rare). A store failure does
/// not fail the change itself: the entry waits for the next flush.
pub async fn record(site: &Site, rec: Record) {
    let audit = &site.audit;
    let at = now();
    let entry = audit.entry(rec, at);
    let hooks = !entry.hooks.is_empty();
    match site
        .store
        .append_audit(std::slice::from_ref(&entry), at)
        .await
    {
        Ok(_) => {
            if hooks {
                audit.outbox.notify_one();
            }
        }
        Err(e) => {
            tracing::error!(error = %e, event = %entry.event, "writing an audit entry failed; kept for the next flush");
            audit.queue(vec![entry]);
        }
    }
}

/// The network an IP address belongs to for "new IP" alerts: its /24 (IPv4) or /64 (IPv6),
/// as `192.0.2.0/24`. `None` when `ip` is not an address.
pub fn network_of(ip: &str) -> Option<String> {
    match ip.parse::<IpAddr>().ok()?.to_canonical() {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            Some(format!("{}.{}.{}.0/24", o[0], o[1], o[2]))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]))
        }
    }
}

fn seen_key(uuid: Uuid, kind: &str, value: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    uuid.hash(&mut h);
    kind.hash(&mut h);
    value.hash(&mut h);
    h.finish()
}

/// The chain hash of a row: hex SHA-256 of the previous hash, a newline, and the row's
/// canonical content (a JSON array of its columns in a fixed order).
pub fn chain_hash(row: &AuditEntry) -> String {
    let canonical = json!([
        row.id,
        row.at,
        row.event,
        row.user_id,
        row.actor_id,
        row.token,
        row.ip,
        row.user_agent,
        row.data,
    ]);
    let mut h = Sha256::new();
    h.update(row.prev_hash.as_bytes());
    h.update(b"\n");
    h.update(canonical.to_string().as_bytes());
    let digest = h.finalize();
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        use std::fmt::Write as _;
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The first row that does not verify.
    pub id: i64,
    pub reason: String,
}

/// Checks the whole chain from the anchor (or the start), a page at a time: each row's
/// id follows the previous one, its `prev_hash` is the previous row's hash, and its hash is
/// that of its content. The number of rows checked.
pub async fn verify(store: &dyn Store) -> StoreResult<Result<u64, Broken>> {
    let (mut last_id, mut last_hash) = store
        .audit_anchor()
        .await?
        .unwrap_or((0, crate::store::audit::GENESIS_HASH.to_owned()));
    let mut checked = 0u64;
    loop {
        let rows = store.audit_chain(last_id, 1000).await?;
        if rows.is_empty() {
            return Ok(Ok(checked));
        }
        for row in rows {
            let reason = if row.id != last_id + 1 {
                Some(format!(
                    "expected entry {} next, found {}",
                    last_id + 1,
                    row.id
                ))
            } else if row.prev_hash != last_hash {
                Some("its previous hash does not match the entry before it".to_owned())
            } else if chain_hash(&row) != row.hash {
                Some("its content does not match its hash (altered)".to_owned())
            } else {
                None
            };
            if let Some(reason) = reason {
                return Ok(Err(Broken { id: row.id, reason }));
            }
            last_id = row.id;
            last_hash = row.hash;
            checked += 1;
        }
    }
}

/// An entry as the REST API, the CLI and webhooks show it.
pub fn entry_json(e: &AuditEntry) -> Value {
    let data: Value = serde_json::from_str(&e.data).unwrap_or_else(|_| json!({}));
    json!({
        "id": e.id,
        "date_gmt": jiff::Timestamp::from_second(e.at)
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S").to_string())
            .unwrap_or_default(),
        "event": e.event,
        "user": e.user_id,
        "actor": e.actor_id,
        "token": if e.token.is_empty() { Value::Null } else { json!(e.token) },
        "ip": e.ip,
        "user_agent": e.user_agent,
        "data": data,
        "hash": e.hash,
    })
}

/// Deletes entries older than `retention`, keeping the chain verifiable (anchor).
pub async fn prune(store: &dyn Store, retention: std::time::Duration) -> StoreResult<u64> {
    let secs = i64::try_from(retention.as_secs()).unwrap_or(i64::MAX);
    store.prune_audit(now().saturating_sub(secs)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        assert_eq!(network_of("192.0.2.77").as_deref(), Some("192.0.2.0/24"));
        assert_eq!(
            network_of("2001:db8:1:2:3:4:5:6").as_deref(),
            Some("2001:db8:1:2::/64")
        );
        assert_eq!(
            network_of("::ffff:10.1.2.3").as_deref(),
            Some("10.1.2.0/24")
        );
        assert_eq!(network_of("nope"), None);
    }

    #[test]
    fn event_names_round_trip() {
        for e in Event::ALL {
            assert_eq!(Event::from_name(e.as_str()), Some(e));
        }
    }

    #[test]
    fn hash_covers_every_column() {
        let row = AuditEntry {
            id: 1,
            at: 2,
            event: "token.created".into(),
            user_id: 3,
            actor_id: 4,
            token: "t".into(),
            ip: "1.2.3.4".into(),
            user_agent: "ua".into(),
            data: "{}".into(),
            prev_hash: crate::store::audit::GENESIS_HASH.into(),
            hash: String::new(),
        };
        let h = chain_hash(&row);
        assert_eq!(h.len(), 64);
        let mut other = row.clone();
        other.user_id = 5;
        assert_ne!(chain_hash(&other), h);
        let mut other = row.clone();
        other.prev_hash = "x".into();
        assert_ne!(chain_hash(&other), h);
    }
}
