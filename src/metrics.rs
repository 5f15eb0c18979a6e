//! Prometheus metrics (`--metrics-bind`): requests by route template, method and status,
//! latency, authentication outcomes, throttling, Application Password uses, read-cache hits,
//! database pool, CPU pool and upload bytes. WordPress has no equivalent; this is what a
//! monitoring system scrapes from a long-running server.
//!
//! Labels have bounded values only: the route label is the matched route template (the
//! WordPress route pattern under `/wp-json`, or the axum route elsewhere), never the raw
//! path; methods outside the standard set count as `OTHER`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::site::Site;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AuthLabels {
    kind: String,
    outcome: String,
}

/// How a request or login authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// `Authorization: Basic` with an Application Password (REST).
    ApplicationPassword,
    /// The admin session cookie with a `wp_rest` nonce (REST).
    Cookie,
    /// The account password on the login screen.
    AccountPassword,
}

impl AuthKind {
    /// Its row in `Metrics::auth` (the order the rows are made in).
    fn index(self) -> usize {
        match self {
            AuthKind::ApplicationPassword => 0,
            AuthKind::Cookie => 1,
            AuthKind::AccountPassword => 2,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            AuthKind::ApplicationPassword => "application_password",
            AuthKind::Cookie => "cookie",
            AuthKind::AccountPassword => "account_password",
        }
    }
}

/// The route template a response was served by, set by the code that matched it (the REST
/// pipeline sets WordPress's route pattern), read by [`track`].
#[derive(Clone, Debug)]
pub struct RouteTemplate(pub String);

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// The process's counters. Values kept elsewhere (cache sizes, pool sizes, the throttle's
/// counters) are read at scrape time.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
    /// `auth_attempts` by [`AuthKind`] and outcome (failure, success), made up front: a
    /// labelled lookup per authenticated request (two `String`s and a locked map) cost
    /// about 3 % of a cached authenticated read.
    auth: [[Counter; 2]; 3],
    app_password_uses: Counter,
    upload_bytes: Counter,
    in_flight: Gauge,
    /// Read-cache lookups (responses and verified tokens together).
    pub cache_hits: AtomicU64,
    pub cache_misses: AtomicU64,
    /// Whether a `--metrics-bind` listener serves these: without one, requests are not
    /// timed or counted by route (that bookkeeping is per request, on the hot path).
    serving: std::sync::atomic::AtomicBool,
}

impl Metrics {
    /// A metrics listener is up: from now on requests are timed and counted by route.
    pub fn serve(&self) {
        self.serving.store(true, Ordering::Relaxed);
    }

    /// Whether a metrics listener serves these (requests are then timed by route).
    pub fn is_serving(&self) -> bool {
        self.serving.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn latency_histogram() -> Histogram {
    // 1 ms to ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("ferropress");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request (until the response head), by route template and method",
            latency.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "http_requests_in_flight",
            "Requests being answered now",
            in_flight.clone(),
        );
        let auth_family = Family::<AuthLabels, Counter>::default();
        registry.register(
            "auth_attempts",
            "Authentication attempts by kind (application_password, cookie, account_password) and outcome (success, failure)",
            auth_family.clone(),
        );
        let auth = [
            AuthKind::ApplicationPassword,
            AuthKind::Cookie,
            AuthKind::AccountPassword,
        ]
        .map(|kind| {
            ["failure", "success"].map(|outcome| {
                auth_family
                    .get_or_create(&AuthLabels {
                        kind: kind.as_str().to_owned(),
                        outcome: outcome.to_owned(),
                    })
                    .clone()
            })
        });
        let app_password_uses = Counter::default();
        registry.register(
            "application_password_uses",
            "Requests authenticated with an Application Password",
            app_password_uses.clone(),
        );
        let upload_bytes = Counter::default();
        registry.register(
            "upload_bytes",
            "Bytes of media uploads received and stored",
            upload_bytes.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            auth,
            app_password_uses,
            upload_bytes,
            in_flight,
            cache_hits: AtomicU64::new(0),
            cache_misses: AtomicU64::new(0),
            serving: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl Metrics {
    /// Counts one authentication attempt.
    pub fn auth(&self, kind: AuthKind, success: bool) {
        self.auth[kind.index()][usize::from(success)].inc();
        if success && kind == AuthKind::ApplicationPassword {
            self.app_password_uses.inc();
        }
    }

    /// Counts bytes of an upload written to disk.
    pub fn upload_bytes(&self, n: u64) {
        self.upload_bytes.inc_by(n);
    }

    /// Counts a read-cache lookup.
    pub fn cache_lookup(&self, hit: bool) {
        let c = if hit {
            &self.cache_hits
        } else {
            &self.cache_misses
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    fn request(&self, route: String, method: &Method, status: u16, seconds: f64) {
        let method = method_label(method).to_owned();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.clone(),
                method: method.clone(),
            })
            .observe(seconds);
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method,
                status,
            })
            .inc();
    }
}

/// The standard methods by name, any other as `OTHER` (a client may send any token).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Middleware counting every request by route template, method and status.
pub async fn track(State(site): State<Arc<Site>>, req: Request, next: Next) -> Response {
    if !site.metrics.serving.load(Ordering::Relaxed) {
        return next.run(req).await;
    }
    let method = req.method().clone();
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let started = std::time::Instant::now();
    let m = &site.metrics;
    let resp = {
        // Decremented however the request ends (also when the client goes away).
        let _in_flight = InFlight::enter(&m.in_flight);
        next.run(req).await
    };
    let route = resp
        .extensions()
        .get::<RouteTemplate>()
        .map(|r| r.0.clone())
        .or(matched)
        .unwrap_or_else(|| "unmatched".to_owned());
    m.request(
        route,
        &method,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    resp
}

struct InFlight<'a>(&'a Gauge);

impl<'a> InFlight<'a> {
    fn enter(g: &'a Gauge) -> Self {
        g.inc();
        Self(g)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The text exposition of everything, in Prometheus text format 0.0.4.
pub fn render(site: &Site) -> Result<String, std::fmt::Error> {
    use prometheus_client::encoding::prometheus_text::encode;
    let mut out = String::new();
    encode(&mut out, &site.metrics.registry)?;
    encode(&mut out, &scrape_time(site))?;
    Ok(out)
}

fn counter(v: u64) -> Counter {
    let c = Counter::default();
    c.inc_by(v);
    c
}

fn gauge(v: u64) -> Gauge {
    let g = Gauge::default();
    g.set(i64::try_from(v).unwrap_or(i64::MAX));
    g
}

/// Values read from where they are kept, at scrape time.
fn scrape_time(site: &Site) -> Registry {
    let mut r = Registry::with_prefix("ferropress");
    let m = &site.metrics;
    let throttle = &site.auth_throttle.metrics;
    r.register(
        "auth_throttled",
        "Authentication attempts refused with 429 by the failed-authentication throttle",
        counter(throttle.throttled()),
    );
    r.register(
        "auth_failures_counted",
        "Failed authentications counted by the throttle (all kinds)",
        counter(throttle.failures()),
    );
    r.register(
        "cache_hits",
        "Read-cache lookups answered from memory (responses and verified tokens)",
        counter(m.cache_hits.load(Ordering::Relaxed)),
    );
    r.register(
        "cache_misses",
        "Read-cache lookups that went to the database",
        counter(m.cache_misses.load(Ordering::Relaxed)),
    );
    let responses = site.cache.response_stats();
    let auth = site.cache.auth_stats();
    r.register(
        "cache_entries",
        "Entries held by the read caches",
        gauge((responses.entries + auth.entries) as u64),
    );
    r.register(
        "cache_bytes",
        "Bytes counted against the read caches' caps",
        gauge((responses.bytes + auth.bytes) as u64),
    );
    if let Some(pool) = site.store.pool_status() {
        r.register(
            "db_pool_connections",
            "Database connections open in the pool",
            gauge(u64::from(pool.size)),
        );
        r.register(
            "db_pool_idle",
            "Database connections idle in the pool",
            gauge(pool.idle as u64),
        );
        r.register(
            "db_pool_max",
            "Most database connections the pool opens",
            gauge(u64::from(pool.max)),
        );
        r.register(
            "db_pool_in_use",
            "Database connections lent to queries now (at db_pool_max, further queries wait)",
            gauge(u64::from(pool.size).saturating_sub(pool.idle as u64)),
        );
    }
    let cpu = &site.cpu;
    r.register(
        "cpu_pool_workers",
        "Threads of the CPU-heavy work pool",
        gauge(cpu.workers() as u64),
    );
    r.register(
        "cpu_pool_queue_capacity",
        "Jobs that may wait for a CPU worker",
        gauge(cpu.queue() as u64),
    );
    r.register(
        "cpu_pool_queued",
        "Jobs waiting for a CPU worker now",
        gauge(cpu.waiting() as u64),
    );
    r.register(
        "cpu_pool_refused",
        "CPU-heavy jobs refused with 503 because the queue was full",
        counter(cpu.busy()),
    );
    let info = Family::<BuildLabels, Gauge>::default();
    info.get_or_create(&BuildLabels {
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
    .set(1);
    r.register("build_info", "The running ferropress version", info);
    r.register(
        "ready",
        "1 while /ferropress/health/ready answers 200",
        gauge(u64::from(site.health.accepting())),
    );
    r
}

/// `GET /metrics` on the metrics listener.
pub async fn get_metrics(State(site): State<Arc<Site>>) -> Response {
    match render(&site) {
        Ok(text) => {
            let mut resp = text.into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
                ),
            );
            resp
        }
        Err(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The router of the metrics listener: `/metrics` only.
pub fn router(site: Arc<Site>) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(get_metrics))
        .with_state(site)
}
