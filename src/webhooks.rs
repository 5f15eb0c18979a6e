//! Webhook alerts (issue 18): audit events POSTed as JSON to the URLs of `ferropress.toml`,
//! signed as GitHub signs its webhooks (`X-Ferropress-Signature: sha256=<hex HMAC-SHA256 of
//! the body with the hook's secret>`). WordPress has nothing like it.
//!
//! ```toml
//! [[webhooks]]
//! url = "https://alerts.example.com/ferropress"
//! secret = "…"
//! events = ["token.new_ip", "token.revoked", "auth.throttled"]   # default: DEFAULT_EVENTS
//! ```
//!
//! Deliveries are rows of a persistent outbox written in the audit entry's transaction, so
//! neither a receiver outage nor a restart loses one (at least once). One worker per process
//! claims due rows (a lease, so instances sharing PostgreSQL do not take the same row),
//! sends them with bounded concurrency and a timeout, and retries failures with exponential
//! back-off up to [`MAX_ATTEMPTS`].

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;

use crate::site::{Site, now};
use crate::store::{AuditEntry, OutboxItem};

/// Events sent when a hook lists none.
pub const DEFAULT_EVENTS: [&str; 5] = [
    "token.new_ip",
    "token.expiring",
    "token.expired",
    "token.revoked",
    "auth.throttled",
];
/// Attempts before a delivery is given up (logged as an error).
pub const MAX_ATTEMPTS: i64 = 20;
/// Deliveries in flight at once, per process.
const CONCURRENCY: usize = 4;
/// Deliveries claimed per round.
const BATCH: i64 = 32;

/// One `[[webhooks]]` entry.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub url: String,
    pub secret: SecretString,
    pub events: Vec<String>,
    /// Seconds a delivery may take.
    pub timeout_secs: u64,
    /// Longest wait between two attempts (back-off doubles from 1 s up to it).
    pub max_backoff_secs: u64,
}

impl Webhook {
    pub fn wants(&self, event: &str) -> bool {
        self.events.iter().any(|e| e == event || e == "*")
    }
}

#[derive(Debug, Deserialize, Default)]
struct File {
    #[serde(default)]
    webhooks: Vec<HookConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HookConfig {
    url: String,
    secret: String,
    events: Option<Vec<String>>,
    timeout_secs: Option<u64>,
    max_backoff_secs: Option<u64>,
}

/// The webhooks of `ferropress.toml` in the data dir (none when the file is absent).
pub fn load(data_dir: &Path) -> anyhow::Result<Vec<Webhook>> {
    let path = data_dir.join(crate::post_types::CONFIG_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(anyhow::anyhow!("reading {}: {e}", path.display())),
    };
    parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

pub fn parse(text: &str) -> anyhow::Result<Vec<Webhook>> {
    let file: File = toml::from_str(text)?;
    let mut hooks = Vec::new();
    for h in file.webhooks {
        if !(h.url.starts_with("https://") || h.url.starts_with("http://")) {
            anyhow::bail!(
                "webhook url {:?} must start with https:// or http://",
                h.url
            );
        }
        if h.secret.len() < 16 {
            anyhow::bail!("webhook {}: secret must be at least 16 characters", h.url);
        }
        if hooks.iter().any(|o: &Webhook| o.url == h.url) {
            anyhow::bail!("webhook {} is declared twice", h.url);
        }
        let events = h
            .events
            .unwrap_or_else(|| DEFAULT_EVENTS.iter().map(|s| (*s).to_owned()).collect());
        for e in &events {
            if e != "*" && crate::audit::Event::from_name(e).is_none() {
                anyhow::bail!("webhook {}: unknown event {e:?}", h.url);
            }
        }
        hooks.push(Webhook {
            url: h.url,
            secret: SecretString::from(h.secret),
            events,
            timeout_secs: h.timeout_secs.unwrap_or(10).clamp(1, 60),
            max_backoff_secs: h.max_backoff_secs.unwrap_or(3600).clamp(1, 86_400),
        });
    }
    Ok(hooks)
}

/// The JSON body delivered for an audit entry.
pub fn payload(entry: &AuditEntry) -> String {
    crate::audit::entry_json(entry).to_string()
}

/// `sha256=<hex>`: HMAC-SHA256 of `body` keyed with `secret` (GitHub's
/// `X-Hub-Signature-256` scheme).
pub fn signature(secret: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let mut out = String::from("sha256=");
    for b in tag.iter() {
        use std::fmt::Write as _;
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Seconds before attempt `attempts + 1`: 1, 2, 4, … capped at `max`.
pub fn backoff(attempts: i64, max: u64) -> u64 {
    let exp = u32::try_from(attempts.clamp(0, 30)).unwrap_or(30);
    2u64.saturating_pow(exp).min(max)
}

/// The delivery worker: runs until aborted. Wakes when an entry queued deliveries, and at
/// least every second for retries.
pub async fn run(site: Arc<Site>) {
    if site.audit.hooks().is_empty() {
        // Deliveries queued before the hooks were removed from the file wait (and are
        // delivered if the hook comes back).
        return;
    }
    let client = match reqwest::Client::builder()
        .user_agent(concat!("ferropress/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhooks disabled: no HTTP client");
            return;
        }
    };
    let limit = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    loop {
        let longest = site
            .audit
            .hooks()
            .iter()
            .map(|h| h.timeout_secs)
            .max()
            .unwrap_or(10);
        let at = now();
        let lease = i64::try_from(longest).unwrap_or(60) * 2 + 5;
        match site.store.claim_webhooks(at, at + lease, BATCH).await {
            Ok(items) if !items.is_empty() => {
                let mut tasks = tokio::task::JoinSet::new();
                for item in items {
                    let Ok(permit) = limit.clone().acquire_owned().await else {
                        return;
                    };
                    let site = site.clone();
                    let client = client.clone();
                    tasks.spawn(async move {
                        deliver(&site, &client, item).await;
                        drop(permit);
                    });
                }
                while tasks.join_next().await.is_some() {}
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "reading the webhook outbox failed"),
        }
        tokio::select! {
            () = site.audit.outbox.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

async fn deliver(site: &Site, client: &reqwest::Client, item: OutboxItem) {
    let Some(hook) = site.audit.hooks().iter().find(|h| h.url == item.hook) else {
        // The hook is no longer configured: keep the row for a while, as if it failed.
        retry(site, &item, 3600, "webhook no longer configured").await;
        return;
    };
    let body = item.payload.clone().into_bytes();
    let sent = client
        .post(&hook.url)
        .timeout(Duration::from_secs(hook.timeout_secs))
        .header("Content-Type", "application/json")
        .header("X-Ferropress-Event", &item.event)
        .header("X-Ferropress-Delivery", item.audit_id.to_string())
        .header(
            "X-Ferropress-Signature",
            signature(hook.secret.expose_secret(), &body),
        )
        .body(body)
        .send()
        .await;
    let error = match sent {
        Ok(resp) if resp.status().is_success() => {
            if let Err(e) = site.store.webhook_done(item.id).await {
                tracing::error!(error = %e, "recording a webhook delivery failed");
            }
            return;
        }
        Ok(resp) => format!("HTTP {}", resp.status().as_u16()),
        Err(e) => e.to_string(),
    };
    retry(
        site,
        &item,
        backoff(item.attempts, hook.max_backoff_secs),
        &error,
    )
    .await;
}

async fn retry(site: &Site, item: &OutboxItem, wait: u64, error: &str) {
    let attempts = item.attempts + 1;
    let result = if attempts >= MAX_ATTEMPTS {
        tracing::error!(url = %item.hook, event = %item.event, audit_id = item.audit_id, error, "webhook delivery given up");
        site.store.webhook_done(item.id).await
    } else {
        tracing::warn!(url = %item.hook, event = %item.event, attempts, error, "webhook delivery failed; will retry");
        let error: String = error.chars().take(500).collect();
        site.store
            .webhook_retry(
                item.id,
                attempts,
                now() + i64::try_from(wait).unwrap_or(3600),
                &error,
            )
            .await
    };
    if let Err(e) = result {
        tracing::error!(error = %e, "recording a webhook attempt failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_style_signature() {
        // The example of GitHub's "Validating webhook deliveries" documentation.
        assert_eq!(
            signature("It's a Secret to Everybody", b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    #[test]
    fn backoff_doubles_to_its_cap() {
        assert_eq!(backoff(0, 3600), 1);
        assert_eq!(backoff(3, 3600), 8);
        assert_eq!(backoff(40, 3600), 3600);
        assert_eq!(backoff(5, 10), 10);
    }

    #[test]
    fn parses_hooks() {
        let hooks =
            parse("[[webhooks]]\nurl = \"http://127.0.0.1:9/x\"\nsecret = \"0123456789abcdef\"\n")
                .expect("parses");
        assert_eq!(hooks.len(), 1);
        assert!(hooks[0].wants("token.new_ip"));
        assert!(!hooks[0].wants("token.created"));
        assert!(parse("[[webhooks]]\nurl = \"ftp://x\"\nsecret = \"0123456789abcdef\"\n").is_err());
        assert!(
            parse("[[webhooks]]\nurl = \"http://x\"\nsecret = \"0123456789abcdef\"\nevents = [\"nope\"]\n")
                .is_err()
        );
    }
}
