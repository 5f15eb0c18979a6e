//! Test harness: a real server on 127.0.0.1:0 with a temporary data dir, reached over HTTP.

use std::process::{Command, Output};
use std::sync::Arc;

use ferropress::caps::{AppPasswordGate, Role};
use ferropress::config::{Environment, ServeArgs};
use ferropress::server::{self, RunningServer};
use ferropress::site::Site;
use ferropress::store::User;
use secrecy::ExposeSecret;
use tempfile::TempDir;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub data_dir: TempDir,
    pub site: Arc<Site>,
    server: Option<RunningServer>,
}

pub fn default_args() -> ServeArgs {
    ServeArgs {
        bind: "127.0.0.1:0".parse().expect("addr"),
        environment: None,
        tls_cert: None,
        tls_key: None,
        url: None,
        application_passwords_for: AppPasswordGate::EditPosts,
        max_body_bytes: 1024 * 1024,
        usage_flush_secs: 30,
        trusted_proxies: vec![],
    }
}

pub fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut ServeArgs)) -> Self {
        let data_dir = tempfile::tempdir().expect("tempdir");
        Self::spawn_in(data_dir, configure).await
    }

    pub async fn spawn_in(data_dir: TempDir, configure: impl FnOnce(&mut ServeArgs)) -> Self {
        install_provider();
        let mut args = default_args();
        configure(&mut args);
        let server = server::start(args, data_dir.path().to_path_buf())
            .await
            .expect("server starts");
        let base = server.site.config.home.clone();
        let client = reqwest::Client::builder()
            .tls_danger_accept_invalid_certs(true)
            .user_agent("ferropress-tests/1.0")
            .build()
            .expect("client");
        Self {
            base,
            client,
            data_dir,
            site: server.site.clone(),
            server: Some(server),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn create_user(&self, login: &str, role: Role) -> User {
        ferropress::users::insert_user(
            &self.site,
            ferropress::users::InsertUser {
                login,
                email: &format!("{login}@example.com"),
                password: &format!("pass-{login}"),
                roles: vec![role],
            },
        )
        .await
        .expect("user created")
    }

    /// Creates an Application Password and returns the token as shown to the user (24 chars).
    pub async fn create_token(&self, user_id: i64, name: &str) -> String {
        let (token, _) = ferropress::application_passwords::create(&self.site, user_id, name, None)
            .await
            .expect("token");
        token.expose_secret().to_owned()
    }

    /// A user with one token: (user, token).
    pub async fn user_with_token(&self, login: &str, role: Role) -> (User, String) {
        let user = self.create_user(login, role).await;
        let token = self.create_token(user.id, "tests").await;
        (user, token)
    }

    /// Anonymous `GET` of a path: status and JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        send(self.client.get(self.url(path))).await
    }

    pub fn cli(&self, args: &[&str]) -> Output {
        cli(self.data_dir.path(), args)
    }

    /// Stops the server (flushing usage) and hands back the data dir.
    pub async fn stop(mut self) -> TempDir {
        if let Some(s) = self.server.take() {
            s.stop().await.expect("clean stop");
        }
        self.data_dir
    }
}

pub fn cli(data_dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferropress"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .expect("run ferropress")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn chunked(token: &str) -> String {
    ferropress::auth::app_passwords::chunk(token)
}

pub async fn json_of(resp: reqwest::Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("not JSON (status {status}): {text}"));
    (status, value)
}

/// Sends a request and returns its status and JSON body.
pub async fn send(req: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    json_of(req.send().await.expect("send")).await
}

pub fn production(args: &mut ServeArgs) {
    args.environment = Some(Environment::Production);
}
