//! `--metrics-bind`: the Prometheus text exposition, read with a Prometheus-format parser
//! (`prometheus-parse`), moves with the traffic the test makes.

use std::collections::HashMap;

use ferropress::caps::Role;
use prometheus_parse::{Scrape, Value as Sample};

use crate::helpers::*;

struct Scraped(Scrape);

impl Scraped {
    /// The value of the sample `name` whose labels include `labels` (0 when absent).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
            .map(|s| match &s.value {
                Sample::Counter(v) | Sample::Gauge(v) | Sample::Untyped(v) => *v,
                Sample::Histogram(_) | Sample::Summary(_) => 0.0,
            })
            .sum()
    }

    fn histogram_count(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
            .map(|s| match &s.value {
                Sample::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
                _ => 0.0,
            })
            .sum()
    }

    fn label_values(&self, name: &str, label: &str) -> Vec<String> {
        self.0
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .filter_map(|s| s.labels.get(label).map(str::to_owned))
            .collect()
    }
}

async fn scrape(app: &TestApp) -> Scraped {
    let resp = app
        .client
        .get(app.metrics_url())
        .send()
        .await
        .expect("scrape");
    assert_eq!(resp.status(), 200);
    let ct = resp.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let text = resp.text().await.expect("text");
    let parsed = Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text");
    assert!(!parsed.samples.is_empty(), "{text}");
    Scraped(parsed)
}

#[tokio::test]
async fn metrics_are_scraped_parsed_and_move_with_traffic() {
    let app =
        TestApp::spawn_with(|a| a.metrics_bind = Some("127.0.0.1:0".parse().expect("addr"))).await;
    let (_, token) = app.user_with_token("metered", Role::Author).await;
    let before = scrape(&app).await;

    let posts = [
        ("route", "/wp-json/wp/v2/posts"),
        ("method", "GET"),
        ("status", "200"),
    ];
    for _ in 0..3 {
        let (status, _) = app.get_json("/wp-json/wp/v2/posts").await;
        assert_eq!(status, 200);
    }
    // Two ids, one route template: the raw path never becomes a label.
    for id in [987_654_321u64, 123_456_789] {
        let (status, _) = app.get_json(&format!("/wp-json/wp/v2/posts/{id}")).await;
        assert_eq!(status, 404);
    }
    let resp = app
        .client
        .get(app.url("/no/such/page/4242"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 404);
    // One good and two bad Application Passwords.
    let (status, _) = send(
        app.client
            .get(app.url("/wp-json/wp/v2/users/me"))
            .basic_auth("metered", Some(&token)),
    )
    .await;
    assert_eq!(status, 200);
    for _ in 0..2 {
        let (status, _) = send(
            app.client
                .get(app.url("/wp-json/wp/v2/users/me"))
                .basic_auth("metered", Some("aaaa bbbb cccc dddd eeee ffff")),
        )
        .await;
        assert_eq!(status, 401);
    }
    // A failed login on the login screen (account password).
    let resp = app
        .client
        .post(app.url("/wp-login.php"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("log=metered&pwd=not+the+password")
        .send()
        .await
        .expect("login");
    assert!(resp.status().is_success(), "{}", resp.status());
    // An upload.
    let body = crate::backup::pattern_png(40, 40, 1);
    let body_len = body.len() as f64;
    let (status, m) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/media"))
            .basic_auth("metered", Some(&token))
            .header("content-type", "image/png")
            .header("content-disposition", "attachment; filename=\"m.png\"")
            .body(body),
    )
    .await;
    assert_eq!(status, 201, "{m}");

    let after = scrape(&app).await;
    let delta = |name: &str, labels: &[(&str, &str)]| {
        after.value(name, labels) - before.value(name, labels)
    };

    assert_eq!(delta("ferropress_http_requests_total", &posts), 3.0);
    assert_eq!(
        delta(
            "ferropress_http_requests_total",
            &[("method", "GET"), ("status", "404"), ("route", "unmatched")]
        ),
        1.0
    );
    assert_eq!(
        delta(
            "ferropress_http_requests_total",
            &[("method", "GET"), ("status", "404")]
        ),
        3.0,
        "two unknown posts and one unknown page"
    );
    assert!(
        after.histogram_count(
            "ferropress_http_request_duration_seconds",
            &[("route", "/wp-json/wp/v2/posts"), ("method", "GET")]
        ) >= 3.0
    );
    let routes = after.label_values("ferropress_http_requests_total", "route");
    assert!(
        routes
            .iter()
            .all(|r| !r.contains("987654321") && !r.contains("4242")),
        "route labels are templates: {routes:?}"
    );
    let app_pw = |outcome| [("kind", "application_password"), ("outcome", outcome)];
    assert_eq!(
        delta("ferropress_auth_attempts_total", &app_pw("success")),
        2.0,
        "users/me and the upload"
    );
    assert_eq!(
        delta("ferropress_auth_attempts_total", &app_pw("failure")),
        2.0
    );
    assert_eq!(
        delta(
            "ferropress_auth_attempts_total",
            &[("kind", "account_password"), ("outcome", "failure")]
        ),
        1.0
    );
    assert_eq!(
        delta("ferropress_application_password_uses_total", &[]),
        2.0
    );
    assert_eq!(delta("ferropress_upload_bytes_total", &[]), body_len);
    assert_eq!(delta("ferropress_auth_failures_counted_total", &[]), 3.0);
    assert!(after.value("ferropress_db_pool_max", &[]) >= 1.0);
    assert!(after.value("ferropress_cpu_pool_workers", &[]) >= 1.0);
    assert_eq!(after.value("ferropress_ready", &[]), 1.0);
    assert_eq!(
        after.value(
            "ferropress_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    if postgres_base_url().is_none() {
        // SQLite serves repeated reads from memory: the second and third list are hits.
        assert!(delta("ferropress_cache_hits_total", &[]) >= 2.0);
    }
    assert!(delta("ferropress_cache_misses_total", &[]) >= 0.0);

    // Throttled: a burst of failures past the per-IP allowance is answered 429 and counted.
    let mut throttled = 0;
    for _ in 0..10 {
        let resp = app
            .client
            .get(app.url("/wp-json/wp/v2/users/me"))
            .basic_auth("metered", Some("aaaa bbbb cccc dddd eeee ffff"))
            .send()
            .await
            .expect("send");
        if resp.status() == 429 {
            throttled += 1;
        }
    }
    assert!(throttled > 0);
    let last = scrape(&app).await;
    assert_eq!(
        last.value("ferropress_auth_throttled_total", &[])
            - after.value("ferropress_auth_throttled_total", &[]),
        f64::from(throttled)
    );
    let by_status: HashMap<String, f64> = last
        .0
        .samples
        .iter()
        .filter(|s| s.metric == "ferropress_http_requests_total")
        .filter(|s| s.labels.get("route") == Some("/wp-json/wp/v2/users/me"))
        .map(|s| {
            (
                s.labels.get("status").unwrap_or("").to_owned(),
                after_value(&s.value),
            )
        })
        .collect();
    assert_eq!(
        by_status.get("429").copied(),
        Some(f64::from(throttled)),
        "{by_status:?}"
    );

    // Not on the site's own listener.
    let (status, _) = {
        let resp = app
            .client
            .get(app.url("/metrics"))
            .send()
            .await
            .expect("send");
        (resp.status().as_u16(), ())
    };
    assert_eq!(status, 404);
    app.stop().await;
}

fn after_value(v: &Sample) -> f64 {
    match v {
        Sample::Counter(v) | Sample::Gauge(v) | Sample::Untyped(v) => *v,
        _ => 0.0,
    }
}

#[tokio::test]
async fn no_metrics_listener_unless_asked() {
    let app = TestApp::spawn().await;
    assert!(app.site.config.home.starts_with("http://"));
    let resp = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 404);
    app.stop().await;
}
