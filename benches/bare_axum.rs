//! The ceiling of the HTTP stack on this machine: axum on a multi-threaded tokio runtime
//! (as `ferropress serve` runs), answering every GET with a small JSON body and nothing
//! else. `bench/http.sh` puts the same load on it and on ferropress and prints the ratio.
//!
//! Not a criterion bench: `cargo bench --bench bare_axum -- --serve 127.0.0.1:PORT`
//! serves until killed; without `--serve` it exits at once, so `cargo bench` stays quick.

use axum::Router;
use axum::routing::get;

fn main() {
    let mut args = std::env::args().skip_while(|a| a != "--serve").skip(1);
    let Some(addr) = args.next() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let app = Router::new().route(
            "/",
            get(|| async { axum::Json(serde_json::json!({ "hello": "world" })) }),
        );
        let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
        axum::serve(listener, app).await.expect("serve");
    });
}
