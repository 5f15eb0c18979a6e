//! The TLS certificate is replaced under a running server (files rewritten, as certbot
//! renews in place; and on SIGHUP): new connections get the new certificate, a keep-alive
//! connection opened before goes on working, and a broken new file keeps the old one.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::helpers::*;

struct Pair {
    cert_pem: String,
    key_pem: String,
    der: Vec<u8>,
}

fn new_pair() -> Pair {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("rcgen");
    Pair {
        cert_pem: ck.cert.pem(),
        key_pem: ck.signing_key.serialize_pem(),
        der: ck.cert.der().to_vec(),
    }
}

/// Replaces the files as renewal tools do: written beside, renamed over.
fn install(dir: &Path, pair: &Pair) {
    for (name, text) in [("cert.pem", &pair.cert_pem), ("key.pem", &pair.key_pem)] {
        let tmp = dir.join(format!("{name}.new"));
        std::fs::write(&tmp, text).expect("write");
        std::fs::rename(&tmp, dir.join(name)).expect("rename");
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .tls_info(true)
        .build()
        .expect("client")
}

/// The certificate the server presented on the connection that answered.
async fn served_cert(client: &reqwest::Client, base: &str) -> Vec<u8> {
    let resp = client
        .get(format!("{base}/ferropress/health/live"))
        .send()
        .await
        .expect("request over TLS");
    assert_eq!(resp.status(), 200);
    resp.extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|i| i.peer_certificate())
        .expect("tls info")
        .to_vec()
}

/// Waits until a fresh connection is served `want`.
async fn wait_for_cert(base: &str, want: &[u8]) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if served_cert(&client(), base).await == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was not picked up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn tls_app(dir: &Path, reload_secs: u64) -> TestApp {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    TestApp::spawn_with(|a| {
        a.tls_cert = Some(cert);
        a.tls_key = Some(key);
        a.tls_reload_secs = reload_secs;
    })
    .await
}

#[tokio::test]
async fn a_renewed_certificate_is_served_to_new_connections_and_open_ones_survive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (first, second) = (new_pair(), new_pair());
    install(dir.path(), &first);
    let app = tls_app(dir.path(), 1).await;
    assert!(app.base.starts_with("https://"));

    // A keep-alive connection opened under the first certificate.
    let kept = client();
    assert_eq!(served_cert(&kept, &app.base).await, first.der);

    install(dir.path(), &second);
    wait_for_cert(&app.base, &second.der).await;

    // The old connection still works, and is still the one of the first certificate.
    for _ in 0..3 {
        assert_eq!(
            served_cert(&kept, &app.base).await,
            first.der,
            "the connection opened before the renewal is kept and keeps answering"
        );
    }

    // A broken renewal (a key that is not PEM) keeps the current certificate serving.
    std::fs::write(
        dir.path().join("key.pem"),
        "-----BEGIN PRIVATE KEY-----\nnot base64!\n",
    )
    .expect("write");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(served_cert(&client(), &app.base).await, second.der);
    // A certificate whose key does not match it: refused too.
    let third = new_pair();
    std::fs::write(dir.path().join("cert.pem"), &third.cert_pem).expect("write");
    std::fs::write(dir.path().join("key.pem"), &first.key_pem).expect("write");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(served_cert(&client(), &app.base).await, second.der);
    // Fixed: picked up.
    install(dir.path(), &third);
    wait_for_cert(&app.base, &third.der).await;
    assert_eq!(served_cert(&kept, &app.base).await, first.der);
    app.stop().await;
}

#[tokio::test]
async fn sighup_reloads_the_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (first, second) = (new_pair(), new_pair());
    install(dir.path(), &first);
    // Checks of the files an hour apart: only the signal can explain a reload.
    let app = tls_app(dir.path(), 3600).await;
    assert_eq!(served_cert(&client(), &app.base).await, first.der);
    install(dir.path(), &second);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        served_cert(&client(), &app.base).await,
        first.der,
        "no reload without a signal"
    );
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    wait_for_cert(&app.base, &second.der).await;
    app.stop().await;
}

#[test]
fn doctor_accepts_a_group_readable_tls_key_and_refuses_a_world_readable_one() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    install(dir.path(), &new_pair());
    let key = dir.path().join("key.pem");
    let doctor = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ferropress"));
        for var in [
            "FERROPRESS_DATABASE_URL",
            "FERROPRESS_BIND",
            "FERROPRESS_ENVIRONMENT",
        ] {
            cmd.env_remove(var);
        }
        cmd.arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("doctor")
            .arg("--tls-cert")
            .arg(dir.path().join("cert.pem"))
            .arg("--tls-key")
            .arg(&key);
        stdout(&cmd.output().expect("doctor"))
    };
    // The deploy guide's renewal hook: mode 640, group of the service.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let text = doctor();
    assert!(
        text.contains("TLS key") && !text.contains("PROBLEM TLS key"),
        "{text}"
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    assert!(doctor().contains("PROBLEM TLS key"));
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o660)).expect("chmod");
    assert!(doctor().contains("PROBLEM TLS key"), "group-writable");
}
