//! Health endpoints for load balancers and orchestrators (no WordPress equivalent):
//! `GET /ferropress/health/live` answers 200 while the process serves HTTP at all;
//! `GET /ferropress/health/ready` answers 200 only once the site is started, while the
//! database answers with every migration applied, and until a graceful shutdown begins
//! (so a load balancer stops sending traffic before the listener closes). Otherwise 503
//! with `{"status":"unavailable","reason":…}`. No authentication, never cached.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::site::Site;

pub const LIVE: &str = "/ferropress/health/live";
pub const READY: &str = "/ferropress/health/ready";

/// How long the readiness check waits for the database.
const DB_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

const STARTING: u8 = 0;
const SERVING: u8 = 1;
const DRAINING: u8 = 2;

/// Where the server is in its life.
#[derive(Debug, Default)]
pub struct Health(AtomicU8);

impl Health {
    /// The site is ready to serve (called once start-up is complete).
    pub fn serving(&self) {
        let _ = self
            .0
            .compare_exchange(STARTING, SERVING, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// A graceful shutdown began: readiness is false from now on.
    pub fn draining(&self) {
        self.0.store(DRAINING, Ordering::SeqCst);
    }

    /// Started and not shutting down (the database is checked separately).
    pub fn accepting(&self) -> bool {
        self.0.load(Ordering::SeqCst) == SERVING
    }

    fn not_accepting_reason(&self) -> Option<&'static str> {
        match self.0.load(Ordering::SeqCst) {
            STARTING => Some("starting"),
            DRAINING => Some("shutting down"),
            _ => None,
        }
    }
}

/// Both endpoints on the site.
pub fn routes(site: Arc<Site>) -> Router {
    Router::new()
        .route(LIVE, get(live))
        .route(READY, get(ready))
        .with_state(site)
}

/// What answers while the site is still starting (the database is opened and migrated
/// after the listener is bound): live 200, ready 503, anything else 503 with `Retry-After`.
pub fn starting_routes() -> Router {
    Router::new()
        .route(LIVE, get(live))
        .route(READY, get(|| async { unavailable("starting") }))
        .fallback(|| async {
            let mut resp = crate::error::WpError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "rest_server_starting",
                "The server is starting. Please try again shortly.",
            )
            .into_response();
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            resp
        })
}

fn answer(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut resp = (status, crate::rest::json_body(body)).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(crate::rest::JSON_CONTENT_TYPE),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn unavailable(reason: &str) -> Response {
    answer(
        StatusCode::SERVICE_UNAVAILABLE,
        &json!({ "status": "unavailable", "reason": reason }),
    )
}

async fn live() -> Response {
    answer(StatusCode::OK, &json!({ "status": "ok" }))
}

async fn ready(State(site): State<Arc<Site>>) -> Response {
    if let Some(reason) = site.health.not_accepting_reason() {
        return unavailable(reason);
    }
    match tokio::time::timeout(DB_CHECK_TIMEOUT, site.store.ready()).await {
        Ok(Ok(())) => answer(StatusCode::OK, &json!({ "status": "ready" })),
        Ok(Err(reason)) => unavailable(&reason),
        Err(_) => unavailable("the database did not answer in time"),
    }
}
