//! Command-line and environment configuration (`FERROPRESS_*`).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;

use secrecy::SecretString;

use crate::caps::AppPasswordGate;

/// `wp_get_environment_type()` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Environment {
    Local,
    Development,
    Staging,
    Production,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Local => "local",
            Environment::Development => "development",
            Environment::Staging => "staging",
            Environment::Production => "production",
        }
    }
}

/// Flags of `ferropress serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "FERROPRESS_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// `local`, `development`, `staging` or `production`. Defaults to `local` when bound to a
    /// loopback address, `production` otherwise. Application Passwords work over plain HTTP
    /// only in `local`, as in WordPress.
    #[arg(long, env = "FERROPRESS_ENVIRONMENT", value_enum)]
    pub environment: Option<Environment>,

    /// PEM certificate chain: serve HTTPS (with --tls-key).
    #[arg(long, env = "FERROPRESS_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for --tls-cert.
    #[arg(long, env = "FERROPRESS_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Public site address (WordPress's `home`), used in links. Defaults to the bound address.
    #[arg(long, env = "FERROPRESS_URL")]
    pub url: Option<String>,

    /// Which users may use Application Passwords.
    #[arg(
        long,
        env = "FERROPRESS_APPLICATION_PASSWORDS_FOR",
        value_enum,
        default_value = "edit-posts"
    )]
    pub application_passwords_for: AppPasswordGate,

    /// Reverse proxies (CIDR, repeatable or comma-separated) whose `X-Forwarded-Proto` and
    /// `X-Forwarded-For` are believed. No other source of those headers is.
    #[arg(
        long = "trusted-proxy",
        env = "FERROPRESS_TRUSTED_PROXY",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<Cidr>,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "FERROPRESS_MAX_BODY_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Largest accepted media upload (`POST /wp/v2/media`), in bytes. Uploads are streamed to
    /// disk, so this bounds disk use, not memory; a larger one is refused with 413.
    #[arg(long, env = "FERROPRESS_MAX_UPLOAD_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_upload_bytes: u64,

    /// Where uploaded media is stored (default: `uploads/` in the data dir). Instances sharing
    /// one PostgreSQL database point this at one shared directory (an NFS-like mount).
    #[arg(long, env = "FERROPRESS_UPLOADS_DIR")]
    pub uploads_dir: Option<PathBuf>,

    /// Longest life of a new Application Password (`90d`, `1y`, `12h`): a token created
    /// without an expiry gets this one, and a later expiry is refused. Unlimited if unset.
    #[arg(long, env = "FERROPRESS_MAX_TOKEN_LIFETIME", value_parser = parse_duration_arg)]
    pub max_token_lifetime: Option<i64>,

    /// Revoke Application Passwords unused (or, never used, created) for this long (`90d`),
    /// in a background sweep. Off if unset.
    #[arg(long, env = "FERROPRESS_REVOKE_UNUSED_AFTER", value_parser = parse_duration_arg)]
    pub revoke_unused_after: Option<i64>,

    /// Seconds between flushes of coalesced Application Password usage (at most 60).
    #[arg(long, env = "FERROPRESS_USAGE_FLUSH_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub usage_flush_secs: u64,

    /// Serve repeated reads (verified tokens, posts answers) from memory while the database
    /// is unchanged. Always exact (see `cache.rs`); `false` is for measuring without it.
    /// On PostgreSQL too, exact across instances (`store/pg_version.rs`).
    #[arg(long, env = "FERROPRESS_READ_CACHE", default_value_t = true, action = clap::ArgAction::Set)]
    pub read_cache: bool,

    /// Serve Prometheus metrics at `http://ADDR/metrics` on a listener of their own (off
    /// unless given; keep it private: it names routes and counts failures).
    #[arg(long, env = "FERROPRESS_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,

    /// Seconds between checks of the TLS certificate and key files for changes (they are
    /// also reloaded on SIGHUP).
    #[arg(long, env = "FERROPRESS_TLS_RELOAD_SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub tls_reload_secs: u64,

    /// Seconds between the start of a graceful shutdown (SIGTERM) and the listener closing,
    /// during which `/ferropress/health/ready` answers 503 while requests are still served,
    /// so a load balancer stops sending new ones first.
    #[arg(long, env = "FERROPRESS_SHUTDOWN_DRAIN_SECS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=300))]
    pub shutdown_drain_secs: u64,

    /// Take a backup (as `ferropress backup`) this often while serving: `30m`, `12h`, `1d`
    /// (units s, m, h, d). Off unless given.
    #[arg(long, env = "FERROPRESS_BACKUP_EVERY", value_parser = parse_interval, requires = "backup_dir")]
    pub backup_every: Option<std::time::Duration>,

    /// Where scheduled backups go (`ferropress-<UTC time>.tar.gz`).
    #[arg(long, env = "FERROPRESS_BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,

    /// Scheduled backups kept in --backup-dir; older ones are deleted after each new one.
    #[arg(long, env = "FERROPRESS_BACKUP_KEEP", default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub backup_keep: u64,

    /// Log lines as `text` (for people) or `json` (one object a line, for log shippers).
    #[arg(
        long,
        env = "FERROPRESS_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    /// Let visitors who are not logged in create comments through the REST API, as
    /// WordPress's `rest_allow_anonymous_comments` filter does (off by default, as there).
    #[arg(long, env = "FERROPRESS_ALLOW_ANONYMOUS_COMMENTS", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub allow_anonymous_comments: bool,

    /// Keep audit log entries this long (`365d`; units s, m, h, d), pruned hourly; the chain
    /// still verifies (an anchor keeps the last pruned hash). Kept forever unless given.
    #[arg(long, env = "FERROPRESS_AUDIT_RETENTION", value_parser = parse_interval)]
    pub audit_retention: Option<std::time::Duration>,

    /// Seconds between writes of batched audit events (failure counts, new networks and user
    /// agents of tokens).
    #[arg(long, env = "FERROPRESS_AUDIT_FLUSH_SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub audit_flush_secs: u64,

    #[command(flatten)]
    pub security: SecurityArgs,
}

/// A duration as `90s`, `30m`, `12h` or `1d` (at least one second).
pub fn parse_interval(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("not a duration: {s:?} (e.g. 30m, 12h, 1d)"))?;
    let secs = match unit {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        "d" => n.checked_mul(86_400),
        _ => None,
    }
    .filter(|s| *s > 0)
    .ok_or_else(|| format!("not a duration: {s:?} (e.g. 30m, 12h, 1d)"))?;
    Ok(std::time::Duration::from_secs(secs))
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Brute-force throttling and request limits (`ferropress serve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct SecurityArgs {
    /// Failed authentications allowed per client IP per minute (token bucket refill; 0 disables).
    #[arg(
        long,
        env = "FERROPRESS_AUTH_FAILURES_PER_MINUTE",
        default_value_t = 10
    )]
    pub auth_failures_per_minute: u32,

    /// Failed authentications a client IP may make in a row before the per-minute rate applies.
    #[arg(long, env = "FERROPRESS_AUTH_FAILURES_BURST", default_value_t = 5)]
    pub auth_failures_burst: u32,

    /// Failed authentications allowed per account (login or email) per minute, from all IPs
    /// together (0 disables). A throttled account still accepts its valid tokens.
    #[arg(
        long,
        env = "FERROPRESS_AUTH_ACCOUNT_FAILURES_PER_MINUTE",
        default_value_t = 30
    )]
    pub auth_account_failures_per_minute: u32,

    /// Failed authentications per account in a row before the per-minute rate applies.
    #[arg(
        long,
        env = "FERROPRESS_AUTH_ACCOUNT_FAILURES_BURST",
        default_value_t = 10
    )]
    pub auth_account_failures_burst: u32,

    /// Threads for CPU-heavy work (argon2 logins and password hashing, image sub-sizes, KSES
    /// of large bodies); 0: one per core, at most 8. Each may keep ~19 MiB (argon2).
    #[arg(long, env = "FERROPRESS_CPU_WORKERS", default_value_t = 0)]
    pub cpu_workers: usize,

    /// CPU-heavy jobs that may wait for a worker; beyond, the request is answered 503
    /// `rest_server_busy` with `Retry-After` at once.
    #[arg(long, env = "FERROPRESS_CPU_QUEUE", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub cpu_queue: u64,

    /// Largest total size of the request headers (names + values), in bytes: 431 beyond.
    #[arg(long, env = "FERROPRESS_MAX_HEADER_BYTES", default_value_t = 16 * 1024, value_parser = clap::value_parser!(u64).range(1024..=1024 * 1024))]
    pub max_header_bytes: u64,

    /// Most request headers accepted: 431 beyond.
    #[arg(long, env = "FERROPRESS_MAX_HEADERS", default_value_t = 64, value_parser = clap::value_parser!(u64).range(8..=1000))]
    pub max_headers: u64,

    /// Seconds a client has to send a request's headers before the connection is closed:
    /// counted from the connection's opening (after the TLS handshake, which has as long
    /// again) and, on a kept-alive connection, from the previous answer. A connection that
    /// sends nothing is closed after this long.
    #[arg(long, env = "FERROPRESS_HEADER_READ_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_secs: u64,

    /// Connections served at once. A connection past it is answered 503 with `Retry-After`
    /// (over HTTPS: closed) right away. Lowered at start to fit the open-files limit
    /// (`ulimit -n`) with room kept for the database and uploads.
    #[arg(long, env = "FERROPRESS_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,

    /// Largest image (width × height, in pixels) decoded to make sub-sizes; larger ones are
    /// kept without sub-sizes, decided from the header before decoding.
    #[arg(long, env = "FERROPRESS_MAX_IMAGE_PIXELS", default_value_t = crate::media::DEFAULT_MAX_IMAGE_PIXELS, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_image_pixels: u64,

    /// Seconds a request (body upload included) may take before it is answered 408.
    #[arg(long, env = "FERROPRESS_REQUEST_TIMEOUT_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_secs: u64,

    /// The XML-RPC API at `/xmlrpc.php`. `off`: every method that logs in answers WordPress's
    /// fault 405 "XML-RPC services are disabled on this site." (the `xmlrpc_enabled` filter).
    #[arg(long, env = "FERROPRESS_XMLRPC", value_enum, default_value = "on")]
    pub xmlrpc: crate::xmlrpc::Toggle,

    /// Accept account passwords on XML-RPC, as WordPress does. Off by default: account
    /// passwords are for the login form, Application Passwords for the APIs.
    #[arg(
        long,
        env = "FERROPRESS_XMLRPC_ACCOUNT_PASSWORDS",
        default_value_t = false
    )]
    pub xmlrpc_account_passwords: bool,
}

impl Default for SecurityArgs {
    fn default() -> Self {
        Self {
            auth_failures_per_minute: 10,
            auth_failures_burst: 5,
            auth_account_failures_per_minute: 30,
            auth_account_failures_burst: 10,
            cpu_workers: 0,
            cpu_queue: 64,
            max_header_bytes: 16 * 1024,
            max_headers: 64,
            header_read_timeout_secs: 30,
            request_timeout_secs: 60,
            max_connections: 1024,
            max_image_pixels: crate::media::DEFAULT_MAX_IMAGE_PIXELS,
            xmlrpc: crate::xmlrpc::Toggle::On,
            xmlrpc_account_passwords: false,
        }
    }
}

impl ServeArgs {
    pub fn environment(&self) -> Environment {
        self.environment.unwrap_or(if self.bind.ip().is_loopback() {
            Environment::Local
        } else {
            Environment::Production
        })
    }
}

/// Settings every request handler may read.
#[derive(Debug, Clone)]
pub struct SiteConfig {
    /// `home_url()` without a trailing slash, e.g. `http://127.0.0.1:8080`.
    pub home: String,
    pub environment: Environment,
    /// Whether this server terminates TLS itself.
    pub tls: bool,
    pub app_password_gate: AppPasswordGate,
    pub max_body_bytes: usize,
    pub max_upload_bytes: u64,
    /// `wp_upload_dir()`'s base: the uploads dir or a bucket, served at
    /// `{home}/wp-content/uploads/`.
    pub media: crate::media_store::MediaStore,
    pub trusted_proxies: Vec<Cidr>,
    /// `post`, `page` and the custom types of `ferropress.toml`.
    pub post_types: Vec<crate::post_types::PostType>,
    /// Brute-force throttle and request limits.
    pub security: SecurityArgs,
    /// Whether `crate::cache` may serve reads from memory.
    pub read_cache: bool,
    /// `rest_allow_anonymous_comments`.
    pub allow_anonymous_comments: bool,
    /// `--max-token-lifetime`, in seconds.
    pub max_token_lifetime: Option<i64>,
}

/// A duration flag (`90d`, `12h`, `1y`, seconds): positive seconds.
pub fn parse_duration_arg(s: &str) -> Result<i64, String> {
    match crate::auth::scopes::parse_duration(s) {
        Some(n) if n > 0 => Ok(n),
        _ => Err(format!("{s:?} is not a duration such as 90d, 12h or 3600")),
    }
}

impl SiteConfig {
    /// A site opened by a command (the CLI, an import) rather than served: local, every
    /// capability path open, no caches and no limits beyond the commands' own.
    pub fn offline(
        post_types: Vec<crate::post_types::PostType>,
        home: String,
        media: crate::media_store::MediaStore,
    ) -> Self {
        Self {
            post_types,
            home,
            environment: Environment::Local,
            tls: false,
            app_password_gate: crate::caps::AppPasswordGate::All,
            max_body_bytes: 0,
            max_upload_bytes: 0,
            media,
            trusted_proxies: vec![],
            security: SecurityArgs::default(),
            read_cache: false,
            max_token_lifetime: None,
            allow_anonymous_comments: false,
        }
    }

    /// `rest_url()`: `{home}/wp-json/`.
    pub fn rest_url(&self, route: &str) -> String {
        format!("{}/wp-json/{}", self.home, route.trim_start_matches('/'))
    }

    /// `wp_is_application_passwords_supported()`: HTTPS, or environment `local`.
    pub fn app_passwords_available(&self, https: bool) -> bool {
        https || self.environment == Environment::Local
    }
}

/// Where the data lives, for every command: `--data-dir` (`FERROPRESS_DATA_DIR`, default
/// `./ferropress-data`) and, to share one PostgreSQL database between instances,
/// `--database-url` (`FERROPRESS_DATABASE_URL`).
#[derive(Debug, Clone, clap::Args)]
pub struct StorageArgs {
    /// Data directory: the SQLite database (unless --database-url is given).
    #[arg(
        long,
        global = true,
        env = "FERROPRESS_DATA_DIR",
        default_value = "ferropress-data"
    )]
    pub data_dir: PathBuf,

    /// PostgreSQL instead of the embedded SQLite, e.g. `postgres://user:password@host/db`;
    /// several instances may share it. Without it, the SQLite file in the data dir is used.
    #[arg(
        long,
        global = true,
        env = "FERROPRESS_DATABASE_URL",
        hide_env_values = true,
        value_parser = parse_secret
    )]
    pub database_url: Option<SecretString>,

    #[command(flatten)]
    pub media: MediaStoreArgs,
}

impl StorageArgs {
    /// The SQLite store in `data_dir`.
    pub fn sqlite(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            database_url: None,
            media: MediaStoreArgs::default(),
        }
    }

    /// The data dir with the PostgreSQL database at `url` (`None`: SQLite).
    pub fn with_database_url(mut self, url: Option<&str>) -> Self {
        self.database_url = url.map(SecretString::from);
        self
    }
}

/// Where media files live, for every command (`crate::media_store`): the uploads dir by
/// default, or an S3-compatible bucket shared by every instance. Credentials come from the
/// standard `AWS_*` variables (or the flags, which `ps` shows: prefer the variables); other
/// `AWS_*` settings (session token, web identity, container credentials) are read too.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Media storage")]
pub struct MediaStoreArgs {
    /// `s3://bucket/prefix`: keep uploads in this bucket (under the prefix) instead of the
    /// uploads dir. Instances sharing one PostgreSQL database share it without a shared
    /// file system.
    #[arg(long, global = true, env = "FERROPRESS_MEDIA_STORE", value_parser = S3Location::parse)]
    pub media_store: Option<S3Location>,

    /// The S3 endpoint, for S3-compatible services (`https://s3.example.com`); default AWS.
    #[arg(long = "s3-endpoint", global = true, env = "AWS_ENDPOINT_URL")]
    pub s3_endpoint: Option<String>,

    /// The bucket's region (default `us-east-1`).
    #[arg(long = "s3-region", global = true, env = "AWS_REGION")]
    pub s3_region: Option<String>,

    /// Access key id (prefer the `AWS_ACCESS_KEY_ID` variable).
    #[arg(
        long = "s3-access-key-id",
        global = true,
        env = "AWS_ACCESS_KEY_ID",
        hide_env_values = true
    )]
    pub s3_access_key_id: Option<String>,

    /// Secret access key (prefer the `AWS_SECRET_ACCESS_KEY` variable).
    #[arg(
        long = "s3-secret-access-key",
        global = true,
        env = "AWS_SECRET_ACCESS_KEY",
        hide_env_values = true,
        value_parser = parse_secret
    )]
    pub s3_secret_access_key: Option<SecretString>,

    /// Allow a plain `http://` endpoint (a store on loopback or a private network).
    #[arg(long = "s3-allow-http", global = true, env = "AWS_ALLOW_HTTP", action = clap::ArgAction::Set, default_value_t = false)]
    pub s3_allow_http: bool,

    /// `/wp-content/uploads/…` from the bucket: `serve` (ferropress streams it, with ranges
    /// and caching headers), `presigned` (302 to a presigned URL, valid an hour, so a private
    /// bucket serves it), or `public` (302 to `--media-public-url`).
    #[arg(long = "media-redirect", global = true, env = "FERROPRESS_MEDIA_REDIRECT", value_enum, default_value_t = MediaRedirect::Serve)]
    pub media_redirect: MediaRedirect,

    /// The public address of the bucket's prefix (or of a CDN in front of it), for
    /// `--media-redirect public`: `/wp-content/uploads/2026/12/a.png` goes to
    /// `URL/2026/12/a.png`.
    #[arg(
        long = "media-public-url",
        global = true,
        env = "FERROPRESS_MEDIA_PUBLIC_URL"
    )]
    pub media_public_url: Option<String>,
}

/// How files in a bucket reach clients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum MediaRedirect {
    #[default]
    Serve,
    Presigned,
    Public,
}

/// `s3://bucket/prefix`: a bucket and the key prefix media goes under (may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Plain `/`-separated segments, no leading or trailing `/`.
    pub prefix: String,
}

impl S3Location {
    pub fn parse(s: &str) -> Result<Self, String> {
        let rest = s
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{s:?} is not an s3://bucket/prefix address"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !bucket_ok {
            return Err(format!("{bucket:?} is not an S3 bucket name"));
        }
        let prefix = prefix.trim_matches('/');
        if !prefix.is_empty()
            && prefix
                .split('/')
                .any(|seg| seg.is_empty() || seg == "." || seg == "..")
        {
            return Err(format!("{prefix:?} is not a plain key prefix"));
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// Secrets from the command line (a database URL may carry a password) never print in
/// `Debug` output or logs.
pub fn parse_secret(s: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(s))
}

/// An IP network such as `10.0.0.0/8` or `::1/128` (a bare address is a single host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("not an IP address: {addr}"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("bad prefix length in {s}"))?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        // IPv4-mapped IPv6 peers (dual-stack sockets) are compared as IPv4.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(self.prefix))
                };
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - u32::from(self.prefix))
                };
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_matching() {
        let net: Cidr = "10.1.0.0/16".parse().expect("cidr");
        assert!(net.contains("10.1.200.3".parse().expect("ip")));
        assert!(!net.contains("10.2.0.1".parse().expect("ip")));
        let host: Cidr = "127.0.0.1".parse().expect("cidr");
        assert!(host.contains("::ffff:127.0.0.1".parse().expect("ip")));
        assert!(
            "::1/128"
                .parse::<Cidr>()
                .expect("cidr")
                .contains("::1".parse().expect("ip"))
        );
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nope".parse::<Cidr>().is_err());
    }

    #[test]
    fn intervals() {
        assert_eq!(
            parse_interval("1d"),
            Ok(std::time::Duration::from_secs(86_400))
        );
        assert_eq!(
            parse_interval("12h"),
            Ok(std::time::Duration::from_secs(43_200))
        );
        assert_eq!(
            parse_interval("30m"),
            Ok(std::time::Duration::from_secs(1800))
        );
        assert_eq!(parse_interval("5s"), Ok(std::time::Duration::from_secs(5)));
        for bad in ["", "0d", "1", "d", "1w", "-1h", "99999999999999999999d"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }
}
