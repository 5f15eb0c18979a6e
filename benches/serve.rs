//! Micro-benchmarks of the request path below HTTP: parsing a Basic `Authorization`
//! header, WordPress's paragraph formatting of a post, and a post or a page of ten posts
//! turned into the REST answer by the real router (in process, no socket), with the read
//! cache off (every answer built from the database) and on (see `src/cache.rs`).
//!
//! Run: `cargo bench --bench serve`

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use base64::Engine;
use criterion::{Criterion, criterion_group, criterion_main};
use ferropress::caps::{AppPasswordGate, Role};
use ferropress::config::{Environment, SiteConfig};
use ferropress::site::Site;
use ferropress::store::Post;
use ferropress::store::sqlite::SqliteStore;
use ferropress::users::{InsertUser, insert_user};
use tower::ServiceExt;

const CONTENT: &str = "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n\nSed do \
eiusmod tempor <em>incididunt</em> ut labore et dolore magna aliqua. Ut enim ad minim veniam, \
quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.\n\n<ul>\n\
<li>One</li>\n<li>Two</li>\n</ul>\n\nDuis aute irure dolor in reprehenderit in voluptate velit \
esse cillum dolore eu fugiat nulla pariatur.\nExcepteur sint occaecat cupidatat non proident.";

fn site(rt: &tokio::runtime::Runtime, dir: &std::path::Path, read_cache: bool) -> Arc<Site> {
    rt.block_on(async {
        let store = SqliteStore::open(dir).await.expect("store");
        let config = SiteConfig {
            home: "http://127.0.0.1".into(),
            environment: Environment::Local,
            tls: false,
            app_password_gate: AppPasswordGate::EditPosts,
            max_body_bytes: 1 << 20,
            max_upload_bytes: 0,
            media: ferropress::media_store::MediaStore::local(dir.join("uploads")),
            trusted_proxies: vec![],
            security: ferropress::config::SecurityArgs::default(),
            post_types: ferropress::post_types::parse("").expect("built-in post types"),
            read_cache,
            allow_anonymous_comments: false,
            max_token_lifetime: None,
        };
        Site::new(Arc::new(store), config)
    })
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("basic_header");
    let header = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:AbCd EfGh IjKl MnOp QrSt UvWx")
    );
    group.bench_function("parse", |b| {
        b.iter(|| ferropress::auth::basic::parse(header.as_bytes()).expect("credentials"));
    });
    group.bench_function("parse_malformed", |b| {
        b.iter(|| ferropress::auth::basic::parse(b"Basic !!!not base64!!!"));
    });
    group.finish();

    c.bench_function("wpautop_post", |b| {
        b.iter(|| ferropress::formatting::wpautop(CONTENT));
    });

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    // Seeded once through the store: an author and 100 published posts.
    let seeded = site(&rt, dir.path(), false);
    rt.block_on(async {
        let author = insert_user(
            &seeded,
            InsertUser {
                login: "alice",
                email: "alice@example.com",
                password: "x",
                roles: vec![Role::Author],
            },
        )
        .await
        .expect("user");
        for i in 0..100 {
            seeded
                .store
                .insert_post(&Post {
                    id: 0,
                    post_type: "post".into(),
                    status: "publish".into(),
                    author: author.id,
                    title: format!("Post {i}"),
                    content: CONTENT.into(),
                    excerpt: String::new(),
                    slug: format!("post-{i}"),
                    password: String::new(),
                    parent: 0,
                    menu_order: 0,
                    comment_status: "open".into(),
                    ping_status: "open".into(),
                    date: 1_700_000_000 + i,
                    date_floating: false,
                    modified: 1_700_000_000 + i,
                    pre_trash_status: None,
                    mime_type: String::new(),
                    featured_media: 0,
                    format: String::new(),
                    guid: String::new(),
                })
                .await
                .expect("post");
        }
    });
    drop(seeded);

    for read_cache in [false, true] {
        let app = ferropress::server::app(site(&rt, dir.path(), read_cache));
        let label = if read_cache { "cached" } else { "uncached" };
        let mut group = c.benchmark_group(format!("serve_{label}"));
        for (name, uri) in [
            ("one_post", "/wp-json/wp/v2/posts/50"),
            ("ten_posts", "/wp-json/wp/v2/posts?per_page=10"),
        ] {
            group.bench_function(name, |b| {
                b.iter(|| {
                    rt.block_on(async {
                        let resp = app
                            .clone()
                            .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
                            .await
                            .expect("response");
                        assert_eq!(resp.status(), 200);
                        axum::body::to_bytes(resp.into_body(), usize::MAX)
                            .await
                            .expect("body")
                    })
                });
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
