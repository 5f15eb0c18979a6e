//! Test harness: a real server on 127.0.0.1:0 with a temporary data dir, reached over HTTP.
//!
//! The same tests run against both stores. By default every `TestApp` and CLI call uses
//! SQLite in its temporary data dir. With `FERROPRESS_TEST_STORE=postgres` (set by the
//! `postgres::pass` test for its child run) each temporary data dir is paired with a fresh
//! schema in the database at `FERROPRESS_TEST_DATABASE_URL`, so tests stay independent.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, OnceLock};

use ferropress::caps::{AppPasswordGate, Role};
use ferropress::config::{Environment, SecurityArgs, ServeArgs, StorageArgs};
use ferropress::server::{self, RunningServer};
use ferropress::site::Site;
use ferropress::store::User;
use secrecy::ExposeSecret;
use tempfile::TempDir;

/// Set to `postgres` to run the tests against PostgreSQL.
pub const STORE_VAR: &str = "FERROPRESS_TEST_STORE";
/// The PostgreSQL database the PostgreSQL pass uses (schemas are created in it).
pub const DATABASE_URL_VAR: &str = "FERROPRESS_TEST_DATABASE_URL";
/// Prefix of the schemas of one PostgreSQL pass, so that they can be dropped together.
pub const SCHEMA_PREFIX_VAR: &str = "FERROPRESS_TEST_SCHEMA_PREFIX";

/// The PostgreSQL database of this run, when this run is the PostgreSQL pass.
pub fn postgres_base_url() -> Option<&'static str> {
    static URL: OnceLock<Option<String>> = OnceLock::new();
    URL.get_or_init(|| {
        if std::env::var(STORE_VAR).ok()? != "postgres" {
            return None;
        }
        Some(std::env::var(DATABASE_URL_VAR).unwrap_or_else(|_| {
            panic!("{STORE_VAR}=postgres needs {DATABASE_URL_VAR}=postgres://…")
        }))
    })
    .as_deref()
}

/// The PostgreSQL database of this run, for tests that only make sense there.
pub fn require_postgres() -> &'static str {
    postgres_base_url().unwrap_or_else(|| {
        panic!("this test runs in the PostgreSQL pass only ({STORE_VAR}=postgres and {DATABASE_URL_VAR})")
    })
}

/// `base` with its search_path set to `schema`.
pub fn url_with_schema(base: &str, schema: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

/// Runs `sql` on the test database, on a thread of its own (callable from sync and async
/// tests alike).
pub fn admin_sql(base: &str, sql: String) {
    let base = base.to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            use sqlx::Connection as _;
            let mut conn = sqlx::PgConnection::connect(&base)
                .await
                .expect("connect to FERROPRESS_TEST_DATABASE_URL");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await
                .expect("admin sql");
            conn.close().await.expect("close");
        });
    })
    .join()
    .expect("admin thread");
}

/// Drops every schema whose name starts with `prefix`, one transaction each (a single one
/// could run out of lock slots).
pub fn drop_schemas(base: &str, prefix: &str) {
    let (base, prefix) = (base.to_owned(), prefix.to_owned());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            use sqlx::Connection as _;
            let mut conn = sqlx::PgConnection::connect(&base).await.expect("connect");
            let schemas: Vec<String> = sqlx::query_scalar(
                "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, $1)",
            )
            .bind(&prefix)
            .fetch_all(&mut conn)
            .await
            .expect("list schemas");
            for s in schemas {
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA \"{s}\" CASCADE")))
                    .execute(&mut conn)
                    .await
                    .expect("drop schema");
            }
            conn.close().await.expect("close");
        });
    })
    .join()
    .expect("admin thread");
}

/// A schema of its own in the test database, created on first use, named after `key`.
fn schema_url(base: &str, key: &str) -> String {
    static CREATED: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    let prefix = std::env::var(SCHEMA_PREFIX_VAR).unwrap_or_else(|_| "dev".into());
    let schema = format!("t_{prefix}_{:016x}", h.finish());
    let fresh = CREATED
        .lock()
        .expect("lock")
        .get_or_insert_with(HashSet::new)
        .insert(schema.clone());
    if fresh {
        admin_sql(base, format!("CREATE SCHEMA IF NOT EXISTS {schema}"));
    }
    url_with_schema(base, &schema)
}

/// A new, empty schema of the test database (PostgreSQL pass only).
pub fn fresh_database_url() -> String {
    schema_url(require_postgres(), &uuid::Uuid::new_v4().to_string())
}

/// The store a data dir stands for: SQLite in it, or in the PostgreSQL pass the schema
/// paired with it (the same one every time, so a server and CLI calls share it).
pub fn storage_for(data_dir: &Path) -> StorageArgs {
    let storage = StorageArgs::sqlite(data_dir);
    match postgres_base_url() {
        None => storage,
        Some(base) => {
            let url = schema_url(base, &data_dir.to_string_lossy());
            storage.with_database_url(Some(&url))
        }
    }
}

/// Points a `ferropress` process at `storage`, whatever the environment of the tests says.
pub fn store_env(cmd: &mut Command, storage: &StorageArgs) {
    cmd.arg("--data-dir").arg(&storage.data_dir);
    match &storage.database_url {
        Some(url) => cmd.env("FERROPRESS_DATABASE_URL", url.expose_secret()),
        None => cmd.env_remove("FERROPRESS_DATABASE_URL"),
    };
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub data_dir: TempDir,
    pub storage: StorageArgs,
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
        max_upload_bytes: 64 * 1024 * 1024,
        uploads_dir: None,
        usage_flush_secs: 30,
        audit_retention: None,
        audit_flush_secs: 5,
        max_token_lifetime: None,
        revoke_unused_after: None,
        read_cache: true,
        allow_anonymous_comments: false,
        trusted_proxies: vec![],
        metrics_bind: None,
        tls_reload_secs: 5,
        shutdown_drain_secs: 0,
        backup_every: None,
        backup_dir: None,
        backup_keep: 7,
        log_format: ferropress::config::LogFormat::Text,
        security: SecurityArgs::default(),
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
        let storage = storage_for(data_dir.path());
        Self::spawn_at(data_dir, storage, configure).await
    }

    /// A server on the PostgreSQL database at `url`, which other servers may share.
    pub async fn spawn_on(url: &str, configure: impl FnOnce(&mut ServeArgs)) -> Self {
        let data_dir = tempfile::tempdir().expect("tempdir");
        let storage = StorageArgs::sqlite(data_dir.path()).with_database_url(Some(url));
        Self::spawn_at(data_dir, storage, configure).await
    }

    /// A server on `storage`.
    pub async fn spawn_at(
        data_dir: TempDir,
        storage: StorageArgs,
        configure: impl FnOnce(&mut ServeArgs),
    ) -> Self {
        install_provider();
        let mut args = default_args();
        configure(&mut args);
        let server = server::start(args, storage.clone())
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
            storage,
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
        let (token, _) = ferropress::application_passwords::create(
            &self.site,
            user_id,
            name,
            None,
            Default::default(),
        )
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
        cli_with(&self.storage, args)
    }

    /// The running server (to begin a shutdown, or read its metrics address).
    pub fn server_mut(&mut self) -> &mut RunningServer {
        self.server.as_mut().expect("server running")
    }

    /// `http://ADDR/metrics` of the `--metrics-bind` listener.
    pub fn metrics_url(&self) -> String {
        let addr = self
            .server
            .as_ref()
            .and_then(|s| s.metrics_addr)
            .expect("started with metrics_bind");
        format!("http://{addr}/metrics")
    }

    /// Stops the server (flushing usage) and hands back the data dir.
    pub async fn stop(mut self) -> TempDir {
        if let Some(s) = self.server.take() {
            s.stop().await.expect("clean stop");
        }
        self.data_dir
    }
}

/// Runs `ferropress` on the store of `data_dir` (see `storage_for`).
pub fn cli(data_dir: &Path, args: &[&str]) -> Output {
    cli_with(&storage_for(data_dir), args)
}

pub fn cli_with(storage: &StorageArgs, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferropress"));
    store_env(&mut cmd, storage);
    cmd.args(args).output().expect("run ferropress")
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

/// The WordPress oracle is shared by the compat suite and the import test, in the SQLite and
/// the PostgreSQL pass (two processes). The import reads the whole site while the compat
/// scenarios write to it, so it takes the oracle alone (`exclusive`); compat runs share it.
pub fn oracle_turn(exclusive: bool) -> std::fs::File {
    let path = std::env::temp_dir().join("ferropress-tests-oracle.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .expect("the oracle's lock file");
    if exclusive {
        file.lock().expect("the oracle's lock");
    } else {
        file.lock_shared().expect("the oracle's lock");
    }
    file
}

/// An ID3v2.3 text frame (ISO-8859-1).
pub fn id3_text_frame(id: &str, text: &str) -> Vec<u8> {
    let mut data = vec![0u8];
    data.extend(text.bytes());
    let mut out = id.as_bytes().to_vec();
    out.extend((data.len() as u32).to_be_bytes());
    out.extend([0, 0]);
    out.extend(data);
    out
}

/// An MP3 of `frames` silent MPEG-1 layer III frames (44.1 kHz, joint stereo, 128 kbit/s,
/// no Xing header) after an ID3v2.3 tag of `tags` (`COMM` for a comment, other ids as text
/// frames); no tag when `tags` is empty.
pub fn mp3(frames: usize, tags: &[(&str, &str)]) -> Vec<u8> {
    let mut out = vec![];
    if !tags.is_empty() {
        let mut body = vec![];
        for (id, text) in tags {
            if *id == "COMM" {
                let mut data = b"\0eng\0".to_vec();
                data.extend(text.bytes());
                body.extend(b"COMM");
                body.extend((data.len() as u32).to_be_bytes());
                body.extend([0, 0]);
                body.extend(data);
            } else {
                body.extend(id3_text_frame(id, text));
            }
        }
        let n = body.len() as u32;
        out.extend(b"ID3\x03\0\0");
        out.extend([
            (n >> 21) as u8 & 0x7f,
            (n >> 14) as u8 & 0x7f,
            (n >> 7) as u8 & 0x7f,
            n as u8 & 0x7f,
        ]);
        out.extend(body);
    }
    for _ in 0..frames {
        out.extend([0xff, 0xfb, 0x90, 0x44]);
        out.extend(std::iter::repeat_n(0u8, 417 - 4));
    }
    out
}

/// A PCM WAV of `seconds` of silence, 8 kHz, mono, 16 bits.
pub fn wav(seconds: u32) -> Vec<u8> {
    let data = vec![0u8; (8000 * 2 * seconds) as usize];
    let mut fmt = vec![];
    fmt.extend(1u16.to_le_bytes());
    fmt.extend(1u16.to_le_bytes());
    fmt.extend(8000u32.to_le_bytes());
    fmt.extend(16000u32.to_le_bytes());
    fmt.extend(2u16.to_le_bytes());
    fmt.extend(16u16.to_le_bytes());
    let mut body = b"WAVEfmt ".to_vec();
    body.extend((fmt.len() as u32).to_le_bytes());
    body.extend(fmt);
    body.extend(b"data");
    body.extend((data.len() as u32).to_le_bytes());
    body.extend(data);
    let mut out = b"RIFF".to_vec();
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}
