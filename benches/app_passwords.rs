//! Verifying one Application Password for a user holding 1 token and a user holding 1,000:
//! the lookup is by hash index, so the two should cost the same.
//!
//! Then the timing of a valid token against a wrong token and an unknown user.
//!
//! Run: `cargo bench --bench app_passwords`

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use ferropress::auth::authenticate_application_password;
use ferropress::caps::{AppPasswordGate, Role};
use ferropress::config::{Environment, SiteConfig};
use ferropress::site::Site;
use ferropress::store::NewAppPassword;
use ferropress::store::sqlite::SqliteStore;
use ferropress::users::{InsertUser, insert_user};
use secrecy::ExposeSecret;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let (site, one, many) = rt.block_on(async {
        let store = SqliteStore::open(dir.path()).await.expect("store");
        let config = SiteConfig {
            home: "http://127.0.0.1".into(),
            environment: Environment::Local,
            tls: false,
            app_password_gate: AppPasswordGate::EditPosts,
            max_body_bytes: 0,
            max_upload_bytes: 0,
            media: ferropress::media_store::MediaStore::local(dir.path().join("uploads")),
            trusted_proxies: vec![],
            security: ferropress::config::SecurityArgs::default(),
            post_types: ferropress::post_types::parse("").expect("built-in post types"),
            read_cache: false,
            allow_anonymous_comments: false,
            max_token_lifetime: None,
        };
        let site = Site::new(Arc::new(store), config);
        let mut tokens = vec![];
        for (login, count) in [("one", 1), ("many", 1000)] {
            let user = insert_user(
                &site,
                InsertUser {
                    login,
                    email: &format!("{login}@example.com"),
                    password: "x",
                    roles: vec![Role::Author],
                },
            )
            .await
            .expect("user");
            // The oldest token is the one verified: a linear scan would find it first,
            // so the newest 999 are added after it to make the scan cost show if it existed.
            let mut first = None;
            for i in 0..count {
                let token = ferropress::auth::app_passwords::generate();
                site.store
                    .create_app_password(NewAppPassword {
                        uuid: uuid::Uuid::new_v4(),
                        user_id: user.id,
                        app_id: String::new(),
                        name: format!("token {i}"),
                        password_hash: ferropress::auth::app_passwords::hash_secret(&token),
                        created: i64::from(i),
                        expires: None,
                        scopes: None,
                    })
                    .await
                    .expect("token");
                if first.is_none() {
                    first = Some(token.expose_secret().to_owned());
                }
            }
            tokens.push(first.expect("one token"));
        }
        (site, tokens[0].clone(), tokens[1].clone())
    });

    let mut group = c.benchmark_group("verify_application_password");
    group.bench_function("user_with_1_token", |b| {
        b.iter(|| {
            rt.block_on(authenticate_application_password(&site, "one", &one))
                .expect("valid")
        });
    });
    group.bench_function("user_with_1000_tokens", |b| {
        b.iter(|| {
            rt.block_on(authenticate_application_password(&site, "many", &many))
                .expect("valid")
        });
    });
    group.finish();

    // Timing side channel: a wrong token for an existing user, any token for an unknown
    // user, and a valid token must cost the same (one hash, one indexed lookup each), so
    // that neither the token nor the account's existence shows in response times.
    let wrong = ferropress::auth::app_passwords::generate();
    let wrong = wrong.expose_secret().to_owned();
    let mut group = c.benchmark_group("verify_timing");
    group.bench_function("valid_token", |b| {
        b.iter(|| {
            rt.block_on(authenticate_application_password(&site, "one", &one))
                .expect("valid")
        });
    });
    group.bench_function("wrong_token_existing_user", |b| {
        b.iter(|| {
            rt.block_on(authenticate_application_password(&site, "one", &wrong))
                .expect_err("wrong")
        });
    });
    group.bench_function("unknown_user", |b| {
        b.iter(|| {
            rt.block_on(authenticate_application_password(&site, "nobody", &wrong))
                .expect_err("unknown")
        });
    });
    group.bench_function("unknown_email", |b| {
        b.iter(|| {
            rt.block_on(authenticate_application_password(
                &site,
                "nobody@example.com",
                &wrong,
            ))
            .expect_err("unknown")
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
