//! The HTTP server: router, listeners (plain or TLS through rustls, the certificate
//! reloaded in place: `crate::tls`), graceful shutdown (readiness false first, then drain:
//! `crate::health`), the metrics listener (`crate::metrics`), scheduled backups, the
//! first-run administrator, and the periodic flush of Application Password usage.
//!
//! The listener is bound before the database is opened: while the store opens and
//! migrates, the health endpoints answer (ready: "starting") and everything else is 503.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Router, ServiceExt as _};
use secrecy::ExposeSecret as _;
use tokio::sync::oneshot;
use tower::Layer as _;
use tower_http::catch_panic::CatchPanicLayer;

use crate::caps::Role;
use crate::config::{ServeArgs, SiteConfig, StorageArgs};
use crate::error::WpError;
use crate::site::{Site, now};
use crate::store::Store;
use crate::store::postgres::{PostgresStore, is_postgres_url};
use crate::store::sqlite::SqliteStore;
use crate::users::{InsertUser, insert_user};

/// A server that is running, as `start` returns it.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// The `--metrics-bind` listener's address, when metrics are served.
    pub metrics_addr: Option<SocketAddr>,
    pub site: Arc<Site>,
    /// Login and password of the administrator created on this first run, if any.
    pub initial_admin: Option<(String, String)>,
    shutdown: Option<oneshot::Sender<()>>,
    join: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Stops accepting, finishes in-flight requests, flushes usage, and waits.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.join.await?
    }

    /// Starts a graceful shutdown without waiting for it (readiness goes false at once;
    /// the listener closes after `--shutdown-drain-secs`). `stop` or `wait` then waits.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Waits until the server stops by itself (SIGINT/SIGTERM).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.join.await?
    }
}

/// Opens the store `storage` names: PostgreSQL when a database URL is given, otherwise the
/// SQLite database in the data dir (created private to the owner).
pub async fn open_store(storage: &StorageArgs) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(url) = &storage.database_url {
        if !is_postgres_url(url.expose_secret()) {
            anyhow::bail!("--database-url must start with postgres:// or postgresql://");
        }
        let store = PostgresStore::open(url)
            .await
            .context("opening the PostgreSQL database")?;
        return Ok(Arc::new(store));
    }
    let data_dir = &storage.data_dir;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data dir {}", data_dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700));
    }
    let store = SqliteStore::open(data_dir)
        .await
        .with_context(|| format!("opening the database in {}", data_dir.display()))?;
    // The database holds token hashes and account password hashes: owner only, whatever
    // the umask made of the files SQLite created.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let db = crate::store::sqlite::FILE_NAME;
        for name in [db.to_owned(), format!("{db}-wal"), format!("{db}-shm")] {
            let path = data_dir.join(name);
            if path.exists() {
                let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
            }
        }
    }
    Ok(Arc::new(store))
}

fn install_crypto_provider() {
    // One provider for the whole process (ring); a second install attempt is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The whole application: REST API, front page discovery, logging, panic safety.
pub fn app(site: Arc<Site>) -> Router {
    let api = crate::rest::Api::new(site.clone());
    app_with(site, api)
}

/// What a started server serves: the application's router and, when no metrics are
/// served, the REST API apart, which REST requests reach directly.
struct Served {
    site: Arc<Site>,
    router: Router,
    /// Requests to `/wp-json` go straight here, without the router's matching, its
    /// `/wp-json` nesting and per-route layers (`limit_and_log` is called the same way, and
    /// panics are caught around the whole dispatch). Not when metrics are served: they
    /// count requests as the router matched them.
    api: Option<crate::rest::Api>,
}

impl Served {
    fn new(site: Arc<Site>) -> Self {
        let api = crate::rest::Api::new(site.clone());
        let router = app_with(site.clone(), api.clone());
        let api = (!site.metrics.is_serving()).then_some(api);
        Self { site, router, api }
    }

    async fn serve(&self, req: Request) -> Response {
        if let Some(api) = &self.api
            && crate::rest::is_rest_path(req.uri().path())
        {
            return limit_and_log(&self.site, req, |req| api.handle(req)).await;
        }
        match tower::ServiceExt::oneshot(self.router.clone(), req).await {
            Ok(resp) => resp,
            Err(never) => match never {},
        }
    }
}

/// `app` around a REST API already made.
fn app_with(site: Arc<Site>, api: crate::rest::Api) -> Router {
    let home = site.config.rest_url("");
    let edit_uri = crate::xmlrpc::rsd_link(&site.config.home);
    let app = Router::new()
        .merge(crate::rest::routes_of(api))
        .merge(crate::admin::routes(site.clone()))
        .merge(uploads(site.clone()))
        .merge(crate::health::routes(site.clone()))
        .merge(crate::xmlrpc::routes(site.clone()))
        .route("/", get(move || front_page(home.clone(), edit_uri.clone())))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                Html("<!DOCTYPE html><title>Not Found</title><h1>Not Found</h1>"),
            )
        })
        // The limits and the log line are one layer: each layer is a boxed service cloned
        // and a future boxed per request.
        .layer(axum::middleware::from_fn_with_state(
            site.clone(),
            limit_and_log_layer,
        ));
    // Without a metrics listener the layer would only pass requests on (a boxed service
    // cloned per request). It counts what the limits answer too.
    let app = if site.metrics.is_serving() {
        app.layer(axum::middleware::from_fn_with_state(
            site,
            crate::metrics::track,
        ))
    } else {
        app
    };
    app.layer(CatchPanicLayer::custom(panicked))
}

/// The answer to a request whose handler panicked.
fn panicked(_: Box<dyn std::any::Any + Send>) -> Response {
    tracing::error!("request handler panicked");
    WpError::internal().into_response()
}

/// Uploaded files at `source_url` (`/wp-content/uploads/YYYY/MM/name`), served from the
/// uploads dir as a web server would: type from the extension, `Content-Length`,
/// `Last-Modified`, `ETag`, conditional requests and single ranges (206/416). `ServeDir`
/// refuses `..`; hidden names and anything outside the uploads dir are never served.
/// From a bucket, the media store answers the same way (or redirects).
fn uploads(site: Arc<Site>) -> Router {
    let Some(dir) = site.config.media.local_root().map(Path::to_owned) else {
        let store = site.config.media.clone();
        return Router::new().route(
            "/wp-content/uploads/{*rel}",
            get(move |req: Request| {
                let store = store.clone();
                async move {
                    match upload_rel(req.uri()) {
                        Some(rel) => store.respond(&rel, req.headers()).await,
                        None => crate::media_store::not_found(),
                    }
                }
            }),
        );
    };
    let serve = tower_http::services::ServeDir::new(&dir)
        .append_index_html_on_directories(false)
        .call_fallback_on_method_not_allowed(false);
    Router::new()
        .nest_service("/wp-content/uploads", serve)
        .layer(axum::middleware::from_fn_with_state(dir, upload_headers))
}

/// The decoded store path of a `/wp-content/uploads/…` request, unless it names something
/// hidden (the scratch dir, dot files) or leaves the uploads.
fn upload_rel(uri: &axum::http::Uri) -> Option<String> {
    let rel = uri
        .path()
        .strip_prefix("/wp-content/uploads/")
        .unwrap_or("");
    let decoded: String =
        form_urlencoded::parse(format!("p={}", rel.replace('+', "%2B")).as_bytes())
            .map(|(_, v)| v.into_owned())
            .next()
            .unwrap_or_default();
    (!decoded
        .split('/')
        .any(|seg| seg.starts_with('.') || seg.contains('\\')))
    .then_some(decoded)
}

async fn upload_headers(
    axum::extract::State(dir): axum::extract::State<std::path::PathBuf>,
    req: Request,
    next: Next,
) -> Response {
    let not_found = crate::media_store::not_found;
    let Some(path) = upload_rel(req.uri()).and_then(|rel| crate::media::safe_join(&dir, &rel))
    else {
        return not_found();
    };
    let etag = tokio::fs::metadata(&path).await.ok().map(|m| {
        let mtime = m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        format!("\"{:x}-{mtime:x}\"", m.len())
    });
    if let (Some(tag), Some(inm)) = (&etag, req.headers().get(header::IF_NONE_MATCH))
        && inm
            .to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
    {
        let mut resp = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(v) = HeaderValue::from_str(tag) {
            resp.headers_mut().insert(header::ETAG, v);
        }
        return resp;
    }
    let mut resp = next.run(req).await;
    let status = resp.status();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        let h = resp.headers_mut();
        if let Some(v) = etag.and_then(|t| HeaderValue::from_str(&t).ok()) {
            h.insert(header::ETAG, v);
        }
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000"),
        );
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
    } else if status != StatusCode::RANGE_NOT_SATISFIABLE {
        return not_found();
    }
    resp
}

/// The front page carries the API discovery link, as WordPress's `rest_output_link_header`.
/// It also names the XML-RPC endpoint (`rsd_link()`), as blogging clients look for it there.
async fn front_page(api_root: String, edit_uri: String) -> Response {
    let mut resp = Html(format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>ferropress</title>\
         <link rel=\"https://api.w.org/\" href=\"{api_root}\" />{edit_uri}</head>\
         <body><p>This site serves the WordPress REST API at <a href=\"{api_root}\">{api_root}</a>.</p></body></html>"
    ))
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("<{api_root}>; rel=\"https://api.w.org/\"")) {
        resp.headers_mut().insert(header::LINK, v);
    }
    resp
}

/// `Strict-Transport-Security` on every HTTPS answer (direct TLS, or a trusted proxy's
/// `X-Forwarded-Proto: https`): a year, as recommended for sites that are HTTPS only.
const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000");

/// `limit_and_log` as a layer of the router.
async fn limit_and_log_layer(
    axum::extract::State(site): axum::extract::State<Arc<Site>>,
    req: Request,
    next: Next,
) -> Response {
    limit_and_log(&site, req, |req| next.run(req)).await
}

/// Every request: `request_limits`, and one log line (`log_request`).
async fn limit_and_log<F, Fut>(site: &Site, req: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    // The URI is shared, not copied (the log line needs its path after the request is gone).
    let method = req.method().clone();
    let uri = req.uri().clone();
    let started = Instant::now();
    let resp = request_limits(site, req, next).await;
    log_request(&method, &uri, &resp, started);
    resp
}

/// Limits every request meets before routing: the request target's length (414, as Apache
/// answers past its `LimitRequestLine`), header count and size (431), the whole request,
/// body upload included, within `--request-timeout-secs` (408); and HSTS.
async fn request_limits<F, Fut>(site: &Site, req: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let sec = site.config.security;
    let headers = req.headers();
    let bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.as_bytes().len())
        .sum();
    let https = crate::rest::is_https(site, req.extensions(), req.headers());
    let target = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    let mut resp = if target as u64 > sec.max_header_bytes {
        tracing::info!(bytes = target, "request target over the limit");
        WpError::uri_too_long().into_response()
    } else if headers.len() as u64 > sec.max_headers || bytes as u64 > sec.max_header_bytes {
        tracing::info!(
            headers = headers.len(),
            bytes,
            "request headers over the limit"
        );
        WpError::request_header_fields_too_large().into_response()
    } else {
        let limit = Duration::from_secs(sec.request_timeout_secs);
        match tokio::time::timeout(limit, next(req)).await {
            Ok(resp) => resp,
            Err(_) => WpError::request_timeout().into_response(),
        }
    };
    if https {
        resp.headers_mut()
            .insert(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    resp
}

/// One log line per request. The query string is left out: it may carry passwords.
fn log_request(
    method: &axum::http::Method,
    uri: &axum::http::Uri,
    resp: &Response,
    started: Instant,
) {
    tracing::info!(
        method = %method,
        path = %uri.path(),
        status = resp.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
}

async fn shutdown_signal(rx: oneshot::Receiver<()>) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
        _ = rx => {},
    }
}

/// Creates `admin` with a random password when the site has no users yet.
async fn ensure_first_admin(site: &Site) -> anyhow::Result<Option<(String, String)>> {
    if site.store.count_users().await? > 0 {
        return Ok(None);
    }
    let password = crate::auth::password::generate();
    let created = insert_user(
        site,
        InsertUser {
            login: "admin",
            email: "admin@localhost.localdomain",
            password: &password,
            roles: vec![Role::Administrator],
        },
    )
    .await;
    match created {
        Ok(_) => Ok(Some(("admin".into(), password))),
        // Another process created the first user at the same moment.
        Err(e) if e.code == "existing_user_login" || e.code == "existing_user_email" => Ok(None),
        Err(e) => Err(anyhow::anyhow!("creating the first administrator: {e}")),
    }
}

/// Binds, prepares the site and starts serving in the background.
pub async fn start(args: ServeArgs, storage: StorageArgs) -> anyhow::Result<RunningServer> {
    begin(args, storage).await?.finish().await
}

/// A server that is bound and answers its health endpoints (ready: 503 "starting"), while
/// the database is opened and migrated by [`Starting::finish`].
pub struct Starting {
    pub addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    args: ServeArgs,
    storage: StorageArgs,
    tls: bool,
    cert: Option<Arc<crate::tls::ReloadingCert>>,
    metrics_listener: Option<tokio::net::TcpListener>,
    app: Arc<std::sync::OnceLock<Arc<Served>>>,
    shutdown: oneshot::Sender<()>,
    join: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Binds the listeners and starts answering: health endpoints at once, everything else
/// once [`Starting::finish`] has opened the site.
pub async fn begin(args: ServeArgs, storage: StorageArgs) -> anyhow::Result<Starting> {
    install_crypto_provider();
    let cert = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(
            crate::tls::ReloadingCert::load(cert, key)
                .context("loading the TLS certificate and key")?,
        ),
        _ => None,
    };
    let tls = cert
        .as_ref()
        .map(|c| axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(c.server_config())));

    let listener =
        std::net::TcpListener::bind(args.bind).with_context(|| format!("binding {}", args.bind))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let metrics_listener = match args.metrics_bind {
        Some(bind) => Some(
            tokio::net::TcpListener::bind(bind)
                .await
                .with_context(|| format!("binding --metrics-bind {bind}"))?,
        ),
        None => None,
    };
    let metrics_addr = match &metrics_listener {
        Some(l) => Some(l.local_addr()?),
        None => None,
    };

    let (tx, rx) = oneshot::channel();
    let app: Arc<std::sync::OnceLock<Arc<Served>>> = Arc::default();
    let serving = app.clone();
    let sec = args.security;
    let drain = Duration::from_secs(args.shutdown_drain_secs);
    let has_tls = tls.is_some();
    let join = tokio::spawn(async move {
        let handle = axum_server::Handle::new();
        let h = handle.clone();
        let draining = serving.clone();
        tokio::spawn(async move {
            shutdown_signal(rx).await;
            // Readiness goes false first; the listener keeps serving for the drain time so
            // a load balancer sees it and stops sending requests before it closes.
            if let Some(served) = draining.get() {
                served.site.health.draining();
                tracing::info!(
                    drain_secs = drain.as_secs(),
                    "shutting down: readiness is now false"
                );
            }
            tokio::time::sleep(drain).await;
            h.graceful_shutdown(Some(Duration::from_secs(10)));
        });
        // Until the site is open, requests go to the start-up router.
        let starting = crate::health::starting_routes();
        let dispatch = tower::service_fn(move |req: Request<hyper::body::Incoming>| {
            let served = serving.get().cloned();
            let starting = served.is_none().then(|| starting.clone());
            async move {
                let req = req.map(axum::body::Body::new);
                let resp = match (served, starting) {
                    (Some(served), _) => served.serve(req).await,
                    (None, Some(starting)) => match tower::ServiceExt::oneshot(starting, req).await
                    {
                        Ok(resp) => resp,
                        Err(never) => match never {},
                    },
                    (None, None) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
                };
                Ok::<_, std::convert::Infallible>(resp)
            }
        });
        // Panics are caught around the whole dispatch (the router also catches its own).
        let dispatch = CatchPanicLayer::custom(panicked).layer(dispatch);
        let svc =
            tower::util::MapRequestLayer::new(crate::rest::canonicalize::<hyper::body::Incoming>)
                .layer(dispatch);
        let make = svc.into_make_service_with_connect_info::<SocketAddr>();
        let header_timeout = Duration::from_secs(sec.header_read_timeout_secs);
        // hyper's header timer runs only once bytes arrive (its protocol detection waits
        // without one): a connection that sends nothing is closed after the same time.
        let mut server = axum_server::from_tcp(listener)?
            .handle(handle)
            .first_request_timeout(header_timeout);
        configure_http(server.http_builder(), sec);
        // No byte either way for this long ends a connection (an HTTP/2 one idling between
        // requests): longer than any request may run, so an answer always comes first.
        let idle = Duration::from_secs(sec.request_timeout_secs + sec.header_read_timeout_secs);
        let limit =
            ConnectionLimit::new(connection_bound(sec.max_connections), tls.is_none(), idle);
        match tls {
            None => server.acceptor(limit).serve(make).await?,
            Some(tls) => {
                server
                    .acceptor(
                        axum_server::tls_rustls::RustlsAcceptor::new(tls)
                            .handshake_timeout(header_timeout)
                            .acceptor(limit),
                    )
                    .serve(make)
                    .await?;
            }
        }
        Ok(())
    });
    Ok(Starting {
        addr,
        metrics_addr,
        args,
        storage,
        tls: has_tls,
        cert,
        metrics_listener,
        app,
        shutdown: tx,
        join,
    })
}

impl Starting {
    /// Opens the store (migrating it), prepares the site and serves it.
    pub async fn finish(self) -> anyhow::Result<RunningServer> {
        let Starting {
            addr,
            metrics_addr,
            args,
            storage,
            tls,
            cert,
            metrics_listener,
            app: cell,
            shutdown,
            join,
        } = self;
        let prepared = prepare(&args, &storage, addr, tls).await;
        let (site, store, initial_admin) = match prepared {
            Ok(p) => p,
            Err(e) => {
                let _ = shutdown.send(());
                let _ = join.await;
                return Err(e);
            }
        };
        // Before the router is made: it times requests only if metrics are served.
        if metrics_listener.is_some() {
            site.metrics.serve();
        }
        let _ = cell.set(Arc::new(Served::new(site.clone())));
        site.health.serving();

        let mut background = Vec::new();
        let flush_site = site.clone();
        let flush_every = Duration::from_secs(args.usage_flush_secs);
        background.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(flush_every);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = flush_site
                    .usage
                    .flush(flush_site.store.as_ref(), now())
                    .await
                {
                    tracing::error!(error = %e, "flushing application password usage failed");
                }
            }
        }));

        let audit_site = site.clone();
        let audit_every = Duration::from_secs(args.audit_flush_secs);
        background.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(audit_every);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = audit_site.audit.flush(audit_site.store.as_ref()).await {
                    tracing::error!(error = %e, "writing the audit log failed");
                }
                // `token.expiring`: an indexed look at tokens not yet warned.
                if let Err(e) = crate::application_passwords::warn_expiring(&audit_site, 100).await
                {
                    tracing::error!(error = %e.message, "warning of expiring tokens failed");
                }
            }
        }));
        background.push(tokio::spawn(crate::webhooks::run(site.clone())));
        if let Some(retention) = args.audit_retention {
            let prune_site = site.clone();
            background.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(3600));
                loop {
                    tick.tick().await;
                    match crate::audit::prune(prune_site.store.as_ref(), retention).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(pruned = n, "old audit log entries deleted"),
                        Err(e) => tracing::error!(error = %e, "pruning the audit log failed"),
                    }
                }
            }));
        }
        // `--revoke-unused-after`: idle tokens are revoked a bounded batch at a time, checked
        // a quarter of the idle period apart (at least every second, at most every hour).
        if let Some(idle) = args.revoke_unused_after {
            let sweep_site = site.clone();
            let every = Duration::from_secs(u64::try_from(idle / 4).unwrap_or(1).clamp(1, 3600));
            background.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                loop {
                    tick.tick().await;
                    // A full batch means more may be waiting: the next one a second later,
                    // not a whole period later.
                    loop {
                        match crate::application_passwords::revoke_unused(
                            &sweep_site,
                            idle,
                            crate::application_passwords::IDLE_SWEEP_BATCH,
                        )
                        .await
                        {
                            Ok(done)
                                if i64::try_from(done.len()).unwrap_or(i64::MAX)
                                    >= crate::application_passwords::IDLE_SWEEP_BATCH =>
                            {
                                tokio::time::sleep(Duration::from_secs(1)).await;
                            }
                            Ok(_) => break,
                            Err(e) => {
                                tracing::error!(error = %e.message, "revoking unused application passwords failed");
                                break;
                            }
                        }
                    }
                }
            }));
        }

        // WordPress publishes a scheduled post when its time comes (the `publish_future_post`
        // cron event); here a check every second does it.
        let publish_site = site.clone();
        background.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                if let Err(e) = crate::rest::posts::publish_future_posts(&publish_site).await {
                    tracing::error!(error = %e.message, "publishing scheduled posts failed");
                }
            }
        }));

        if let Some(cert) = cert {
            background.push(tokio::spawn(
                cert.watch(Duration::from_secs(args.tls_reload_secs)),
            ));
        } else {
            // SIGHUP (`systemctl reload`) must not end a server that has nothing to reload.
            #[cfg(unix)]
            if let Ok(mut hup) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            {
                background.push(tokio::spawn(async move {
                    while hup.recv().await.is_some() {
                        tracing::info!("SIGHUP: no TLS certificate to reload");
                    }
                }));
            }
        }
        if let (Some(every), Some(dir)) = (args.backup_every, args.backup_dir.clone()) {
            let source = crate::backup::Source {
                data_dir: storage.data_dir.clone(),
                uploads_dir: site.config.media.local_root().map(Path::to_owned),
                postgres: storage.database_url.is_some(),
            };
            let keep = usize::try_from(args.backup_keep).unwrap_or(usize::MAX);
            background.push(tokio::spawn(crate::backup::schedule(
                source, dir, every, keep,
            )));
        }
        if let Some(listener) = metrics_listener {
            site.metrics.serve();
            let router = crate::metrics::router(site.clone());
            background.push(tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    tracing::error!(error = %e, "the metrics listener failed");
                }
            }));
        }

        let serve_site = site.clone();
        let join = tokio::spawn(async move {
            // Whether serving ends or this task is dropped with its runtime, the router's
            // reference to the site goes, so the site can be freed.
            struct ReleaseApi(Arc<Site>);
            impl Drop for ReleaseApi {
                fn drop(&mut self) {
                    self.0.release_api();
                }
            }
            let _release = ReleaseApi(serve_site.clone());
            let served = join.await;
            for task in background {
                task.abort();
            }
            let flushed = serve_site
                .usage
                .flush(serve_site.store.as_ref(), now())
                .await;
            if let Err(e) = serve_site.audit.flush(serve_site.store.as_ref()).await {
                tracing::error!(error = %e, "writing the audit log at shutdown failed");
            }
            store.close().await;
            tracing::info!("server stopped");
            served??;
            flushed?;
            Ok(())
        });

        Ok(RunningServer {
            addr,
            metrics_addr,
            site,
            initial_admin,
            shutdown: Some(shutdown),
            join,
        })
    }
}

/// Opens the store (migrating it) and the site, and creates the first administrator.
async fn prepare(
    args: &ServeArgs,
    storage: &StorageArgs,
    addr: SocketAddr,
    tls: bool,
) -> anyhow::Result<(Arc<Site>, Arc<dyn Store>, Option<(String, String)>)> {
    if let Some(dir) = &args.backup_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating --backup-dir {}", dir.display()))?;
    }
    let post_types = crate::post_types::load(&storage.data_dir)?;
    let media = crate::media_store::MediaStore::open(
        args.uploads_dir
            .clone()
            .unwrap_or_else(|| storage.data_dir.join("uploads")),
        &storage.media,
    )?;
    media.check().await?;
    let store = open_store(storage).await?;
    let scheme = if tls { "https" } else { "http" };
    let home = args
        .url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{addr}"))
        .trim_end_matches('/')
        .to_owned();
    let config = SiteConfig {
        home,
        environment: args.environment(),
        tls,
        app_password_gate: args.application_passwords_for,
        max_body_bytes: args.max_body_bytes,
        max_upload_bytes: args.max_upload_bytes,
        media,
        trusted_proxies: args.trusted_proxies.clone(),
        security: args.security,
        post_types,
        read_cache: args.read_cache,
        max_token_lifetime: args.max_token_lifetime,
        allow_anonymous_comments: args.allow_anonymous_comments,
    };
    let site = Site::new(store.clone(), config);
    match crate::webhooks::load(&storage.data_dir) {
        Ok(hooks) => site.audit.set_hooks(hooks),
        Err(e) => {
            store.close().await;
            return Err(e);
        }
    }
    match ensure_first_admin(&site).await {
        Ok(initial_admin) => Ok((site, store, initial_admin)),
        Err(e) => {
            store.close().await;
            Err(e)
        }
    }
}

/// Kept free under the open-files limit for the database, uploads, logs and the listener.
const FD_RESERVE: usize = 64;

/// `--max-connections`, lowered to fit the open-files limit: past that limit `accept()`
/// fails and every client waits, so the bound must bite first.
fn connection_bound(configured: u64) -> usize {
    let configured = usize::try_from(configured).unwrap_or(usize::MAX).max(1);
    let Some(files) = open_files_limit() else {
        return configured;
    };
    let fit = files.saturating_sub(FD_RESERVE.min(files / 2)).max(1);
    if fit < configured {
        tracing::warn!(
            max_connections = configured,
            open_files = files,
            serving = fit,
            "--max-connections lowered to fit the open-files limit (ulimit -n)"
        );
    }
    configured.min(fit)
}

/// The soft `RLIMIT_NOFILE` (`ulimit -n`), read from `/proc/self/limits` (Linux), which
/// needs no `unsafe` call; `None` when unknown or unlimited.
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Bounds the connections being served: each holds a permit from accept to close (TLS
/// handshake included). Past the bound a plain HTTP connection is answered 503 with
/// `Retry-After` and closed; a TLS one is closed (an HTTP answer would not be readable
/// before a handshake). Nothing queues, so an attacker holding connections open cannot
/// make other clients wait in line, only be turned away until theirs time out.
#[derive(Clone)]
struct ConnectionLimit {
    permits: Arc<tokio::sync::Semaphore>,
    plain: bool,
    idle: Duration,
}

impl ConnectionLimit {
    fn new(max: usize, plain: bool, idle: Duration) -> Self {
        Self {
            permits: Arc::new(tokio::sync::Semaphore::new(max)),
            plain,
            idle,
        }
    }
}

impl<S: Send + 'static> axum_server::accept::Accept<tokio::net::TcpStream, S> for ConnectionLimit {
    type Stream = Limited;
    type Service = S;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<(Limited, S)>> + Send>>;

    fn accept(&self, stream: tokio::net::TcpStream, service: S) -> Self::Future {
        let permit = self.permits.clone().try_acquire_owned();
        let (plain, idle) = (self.plain, self.idle);
        Box::pin(async move {
            match permit {
                Ok(permit) => Ok((
                    Limited {
                        stream,
                        _permit: permit,
                        idle,
                        deadline: Box::pin(tokio::time::sleep(idle)),
                    },
                    service,
                )),
                Err(_) => {
                    tracing::debug!("connection refused: --max-connections reached");
                    if plain {
                        refuse(stream).await;
                    }
                    Err(std::io::Error::other("--max-connections reached"))
                }
            }
        })
    }
}

/// Answers 503 on a connection past the bound, without reading its request (a write to
/// a fresh socket lands in its send buffer at once; the timeout covers a full one).
async fn refuse(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt as _;
    let e = WpError::too_many_connections();
    let body = crate::rest::json_body(&e.body());
    let retry = e.retry_after.map_or(1, std::num::NonZeroU32::get);
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: {}\r\nretry-after: {retry}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        crate::rest::JSON_CONTENT_TYPE,
        body.len()
    );
    let write = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}

/// A served connection's stream, holding its permit until hyper drops it, and failing its
/// reads once no byte went either way for `idle`.
struct Limited {
    stream: tokio::net::TcpStream,
    _permit: tokio::sync::OwnedSemaphorePermit,
    idle: Duration,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl Limited {
    fn active(&mut self) {
        let next = tokio::time::Instant::now() + self.idle;
        self.deadline.as_mut().reset(next);
    }
}

impl tokio::io::AsyncRead for Limited {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        let before = buf.filled().len();
        match std::pin::Pin::new(&mut self.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.active();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(std::io::ErrorKind::TimedOut.into())),
                Poll::Pending => Poll::Pending,
            },
            other => other,
        }
    }
}

impl tokio::io::AsyncWrite for Limited {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let done = std::pin::Pin::new(&mut self.stream).poll_write(cx, buf);
        if matches!(done, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.active();
        }
        done
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let done = std::pin::Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(done, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.active();
        }
        done
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// hyper's own ceilings, above the limits `request_limits` answers with a JSON 431: a
/// header block too large for them is refused by hyper itself (431, no body) before any
/// of it is buffered further. Slow headers close the connection after the read timeout.
fn configure_http(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    sec: crate::config::SecurityArgs,
) {
    let hard_bytes = usize::try_from(sec.max_header_bytes.saturating_mul(4))
        .unwrap_or(usize::MAX)
        .max(64 * 1024);
    let hard_count = usize::try_from(sec.max_headers.saturating_mul(2)).unwrap_or(usize::MAX);
    builder
        .http1()
        .max_buf_size(hard_bytes)
        .max_headers(hard_count)
        .header_read_timeout(Duration::from_secs(sec.header_read_timeout_secs));
    builder
        .http2()
        .max_header_list_size(u32::try_from(hard_bytes).unwrap_or(u32::MAX));
}

/// `ferropress serve`: runs until SIGINT/SIGTERM.
pub async fn run(args: ServeArgs, storage: StorageArgs) -> anyhow::Result<()> {
    let env = args.environment();
    let postgres = storage.database_url.is_some();
    let data = if postgres {
        "PostgreSQL".to_owned()
    } else {
        storage.data_dir.display().to_string()
    };
    let mut server = start(args, storage.clone()).await?;
    // The banner goes to whoever started us; if they stopped reading (a closed pipe), the
    // server keeps serving rather than dying on the write error `println!` would panic on.
    let mut out = std::io::stdout();
    let mut say = |line: std::fmt::Arguments<'_>| {
        use std::io::Write as _;
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    let home = server.site.config.home.clone();
    say(format_args!(
        "ferropress is serving {home}/wp-json/ (environment: {}, data: {data})",
        env.as_str(),
    ));
    say(format_args!(
        "Admin screens (users, Application Passwords): {home}/wp-admin/"
    ));
    if let Some((login, password)) = server.initial_admin.take() {
        say(format_args!(""));
        say(format_args!(
            "Created the first administrator. Save this password now; it is not shown again:"
        ));
        say(format_args!("  username: {login}"));
        say(format_args!("  password: {password}"));
        say(format_args!(""));
        say(format_args!(
            "Create an Application Password for API clients:"
        ));
        // The database URL may carry a password: it is named, never printed.
        let store_flag = if postgres {
            "--database-url \"$FERROPRESS_DATABASE_URL\"".to_owned()
        } else {
            format!("--data-dir {}", storage.data_dir.display())
        };
        say(format_args!(
            "  ferropress {store_flag} user application-password create {login} \"My Integration\""
        ));
    }
    if !server
        .site
        .config
        .app_passwords_available(server.site.config.tls)
    {
        say(format_args!(
            "Note: Application Passwords need HTTPS outside the local environment (use --tls-cert/--tls-key)."
        ));
    }
    // `stop` is never sent here: the signal handler inside `start` ends the server.
    let tx = server.shutdown.take();
    let result = server.wait().await;
    drop(tx);
    result
}
