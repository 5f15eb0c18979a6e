//! The ceiling of the HTTP stack on this machine: axum on a multi-threaded tokio runtime
//! (as `ferropress serve` runs), answering every GET and doing nothing else.
//! `bench/http.sh` puts the same load on it and on ferropress and prints the ratio.
//!
//! Not a criterion bench: `cargo bench --bench bare_axum -- --serve 127.0.0.1:PORT
//! [--body FILE]` serves until killed; without `--serve` it exits at once, so `cargo bench`
//! stays quick. `/` answers a small JSON object; with `--body`, `/body` answers that file's
//! bytes as JSON (bench/http.sh gives it the answer of scenario B, so the ceiling sends as
//! many bytes as ferropress does).

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::routing::get;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .skip_while(|a| *a != flag)
            .nth(1)
            .map(String::as_str)
    };
    let Some(addr) = value("--serve") else {
        return;
    };
    let body = Bytes::from(
        value("--body")
            .map(|path| std::fs::read(path).expect("reading --body"))
            .unwrap_or_default(),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let app = Router::new()
            .route(
                "/",
                get(|| async { axum::Json(serde_json::json!({ "hello": "world" })) }),
            )
            .route(
                "/body",
                // A clone of `Bytes` shares the buffer, as ferropress's cached answers do.
                get(move || {
                    let body = body.clone();
                    async move {
                        (
                            [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
                            body,
                        )
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
        axum::serve(listener, app).await.expect("serve");
    });
}
