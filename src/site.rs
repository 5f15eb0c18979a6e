//! The site: storage, configuration and in-memory bookkeeping shared by the server, the
//! admin screens and the CLI.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use crate::auth::throttle::{AuthThrottle, Rate};
use crate::config::SiteConfig;
use crate::post_types::PostType;
use crate::rest::registry::Registry;
use crate::store::{AppPassword, AppPasswordUsage, Store, StoreResult};

pub struct Site {
    pub store: Arc<dyn Store>,
    pub config: SiteConfig,
    pub usage: UsageRecorder,
    /// The audit log's in-memory side and the webhooks (`crate::audit`).
    pub audit: crate::audit::Audit,
    /// The REST routes, built once from the configuration (post types add routes).
    pub routes: Registry,
    /// Failed-authentication throttle (per client IP and per account) and its counters.
    pub auth_throttle: AuthThrottle,
    /// Users (or IPs) whose comment is being checked for a flood and written
    /// (`wp_check_comment_flood()` reserved before it reads, see `rest::comments`).
    pub comment_flood: crate::auth::throttle::InFlight<String>,
    /// The bounded pool for CPU-heavy work (argon2, images, KSES of large bodies).
    pub cpu: crate::work::CpuPool,
    /// Verified tokens and computed answers, valid for one database version.
    pub cache: crate::cache::ReadCache,
    /// Posts' rendered title, content and excerpt, by the texts they were made from.
    pub rendered: crate::cache::RenderCache,
    /// The REST router itself, for the internal requests of `_embed`, batch, XML-RPC and the
    /// CLI. The router holds this `Site`: `release_api` breaks that cycle when serving ends,
    /// or the site (its database pool, caches and CPU threads) would never be freed.
    api: std::sync::RwLock<Option<axum::Router>>,
    /// Starting, serving or draining (`/ferropress/health/ready`).
    pub health: crate::health::Health,
    /// Counters exposed at `--metrics-bind`.
    pub metrics: crate::metrics::Metrics,
    /// The key of login nonces (`wp_salt( 'nonce' )`), read from the store on first use.
    pub nonce_key: tokio::sync::OnceCell<crate::auth::cookie::NonceKey>,
}

impl Site {
    /// The REST router, once `rest::routes` has built it (and until `release_api`).
    pub fn api(&self) -> Option<axum::Router> {
        self.api
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Keeps the REST router for internal requests; the first one set stays.
    pub fn set_api(&self, router: axum::Router) {
        let mut api = self
            .api
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if api.is_none() {
            *api = Some(router);
        }
    }

    /// Drops the kept router (and with it the router's reference to this site).
    pub fn release_api(&self) {
        *self
            .api
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    pub fn new(store: Arc<dyn Store>, config: SiteConfig) -> Arc<Self> {
        let routes = Registry::build(&config.post_types);
        let sec = config.security;
        let auth_throttle = AuthThrottle::new(
            Rate {
                per_minute: sec.auth_failures_per_minute,
                burst: sec.auth_failures_burst,
            },
            Rate {
                per_minute: sec.auth_account_failures_per_minute,
                burst: sec.auth_account_failures_burst,
            },
        );
        let cpu = crate::work::CpuPool::new(
            sec.cpu_workers,
            usize::try_from(sec.cpu_queue).unwrap_or(usize::MAX),
        );
        Arc::new(Self {
            store,
            config,
            usage: UsageRecorder::default(),
            audit: crate::audit::Audit::default(),
            routes,
            auth_throttle,
            comment_flood: crate::auth::throttle::InFlight::default(),
            cpu,
            cache: crate::cache::ReadCache::default(),
            rendered: crate::cache::RenderCache::default(),
            api: std::sync::RwLock::new(None),
            nonce_key: tokio::sync::OnceCell::new(),
            health: crate::health::Health::default(),
            metrics: crate::metrics::Metrics::default(),
        })
    }

    /// `get_option()`: from the read cache while the database is unchanged (or changed only
    /// by this process's post creations, which write no option), else from the store.
    pub async fn get_option(&self, name: &str) -> crate::store::StoreResult<Option<String>> {
        let Some(v) = self
            .cache
            .version_now(self.store.as_ref(), self.config.read_cache)
        else {
            return self.store.get_option(name).await;
        };
        if let Some(hit) = self.cache.option(v, name) {
            return Ok(hit);
        }
        let value = self.store.get_option(name).await?;
        self.cache.put_option(v, name, value.clone());
        Ok(value)
    }

    /// The post type served at `/wp/v2/{rest_base}`.
    pub fn post_type_by_base(&self, rest_base: &str) -> Option<&PostType> {
        self.config
            .post_types
            .iter()
            .find(|t| t.rest_base == rest_base)
    }

    pub fn post_type(&self, name: &str) -> Option<&PostType> {
        self.config.post_types.iter().find(|t| t.name == name)
    }
}

/// Coalesces Application Password usage (last used, IP, user agent) in memory so that an
/// authenticated request costs no database write. Flushed periodically (at most a minute
/// apart) and at shutdown; reads merge what is pending, so what is shown is current.
#[derive(Default)]
pub struct UsageRecorder {
    inner: Mutex<UsageState>,
    flushing: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct UsageState {
    pending: HashMap<Uuid, AppPasswordUsage>,
    /// Taken by a flush whose write has not finished: still merged into reads, so a use is
    /// never invisible between leaving `pending` and reaching the store.
    writing: HashMap<Uuid, AppPasswordUsage>,
    /// What was last written per token, so a token used again within the same minute from
    /// the same place needs no new write.
    written: HashMap<Uuid, AppPasswordUsage>,
}

/// Uses closer together than this from the same IP and user agent are not written again.
const SAME_USE_WINDOW_SECS: i64 = 60;

/// Characters of a user agent kept with a token's last use.
pub const MAX_USAGE_USER_AGENT: usize = 512;

/// The first `max` characters of `s`, without copying.
pub fn truncate_chars(s: &str, max: usize) -> &str {
    s.char_indices().nth(max).map_or(s, |(i, _)| &s[..i])
}

impl UsageRecorder {
    /// A use of token `uuid` at `last_used` from `ip` with `user_agent` (kept to its first
    /// 512 characters). Copies the IP and user agent only when they are news: a use from
    /// the place already pending or written costs no allocation.
    pub fn record(&self, uuid: Uuid, last_used: i64, ip: &str, user_agent: &str) {
        let user_agent = truncate_chars(user_agent, MAX_USAGE_USER_AGENT);
        let Ok(mut st) = self.inner.lock() else {
            return;
        };
        let same = |u: &AppPasswordUsage| u.last_ip == ip && u.last_user_agent == user_agent;
        if let Some(w) = st.written.get(&uuid)
            && last_used - w.last_used < SAME_USE_WINDOW_SECS
            && same(w)
        {
            st.pending.remove(&uuid);
            return;
        }
        if let Some(p) = st.pending.get_mut(&uuid)
            && same(p)
        {
            p.last_used = p.last_used.max(last_used);
            return;
        }
        st.pending.insert(
            uuid,
            AppPasswordUsage {
                uuid,
                last_used,
                last_ip: ip.to_owned(),
                last_user_agent: user_agent.to_owned(),
            },
        );
    }

    /// Overlays pending usage on records read from the store.
    pub fn merge(&self, items: &mut [AppPassword]) {
        let Ok(st) = self.inner.lock() else { return };
        for item in items {
            if let Some(u) = st
                .pending
                .get(&item.uuid)
                .or_else(|| st.writing.get(&item.uuid))
                && item.last_used.is_none_or(|t| t <= u.last_used)
            {
                item.last_used = Some(u.last_used);
                item.last_ip = Some(u.last_ip.clone());
                item.last_user_agent = Some(u.last_user_agent.clone());
            }
        }
    }

    /// Forgets a revoked token so a pending use cannot resurrect anything.
    pub fn forget(&self, uuid: &Uuid) {
        if let Ok(mut st) = self.inner.lock() {
            st.pending.remove(uuid);
            st.writing.remove(uuid);
            st.written.remove(uuid);
        }
    }

    /// Writes what is pending. On failure the records are put back for the next flush.
    /// Flushes run one at a time (the periodic one, an idle sweep's, shutdown's).
    pub async fn flush(&self, store: &dyn Store, now: i64) -> StoreResult<usize> {
        let _one_at_a_time = self.flushing.lock().await;
        let batch: Vec<AppPasswordUsage> = match self.inner.lock() {
            Ok(mut st) => {
                let taken = std::mem::take(&mut st.pending);
                st.writing = taken;
                st.writing.values().cloned().collect()
            }
            Err(_) => return Ok(0),
        };
        if batch.is_empty() {
            return Ok(0);
        }
        let n = batch.len();
        let result = store.record_app_password_usage(&batch).await;
        let Ok(mut st) = self.inner.lock() else {
            return result.map(|()| n);
        };
        // What a revocation forgot meanwhile is no longer in `writing`: not kept.
        let written = std::mem::take(&mut st.writing);
        match result {
            Ok(()) => {
                st.written
                    .retain(|_, w| now - w.last_used < SAME_USE_WINDOW_SECS);
                st.written.extend(written);
                Ok(n)
            }
            Err(e) => {
                for (uuid, u) in written {
                    st.pending.entry(uuid).or_insert(u);
                }
                Err(e)
            }
        }
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}
