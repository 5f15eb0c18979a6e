//! `ferropress doctor`: reports weak settings before they matter. It reads the same flags
//! and `FERROPRESS_*` variables as `serve`, so `ferropress doctor` in the service's
//! environment checks what `ferropress serve` would run with. Exits 1 on any problem.

use std::path::Path;

use secrecy::ExposeSecret as _;

use crate::config::{Environment, ServeArgs, StorageArgs};

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub problem: bool,
    pub message: String,
}

fn problem(message: impl Into<String>) -> Finding {
    Finding {
        problem: true,
        message: message.into(),
    }
}

fn ok(message: impl Into<String>) -> Finding {
    Finding {
        problem: false,
        message: message.into(),
    }
}

#[cfg(unix)]
fn mode_of(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).ok().map(|m| m.permissions().mode())
}

#[cfg(not(unix))]
fn mode_of(_: &Path) -> Option<u32> {
    None
}

/// Files that hold secrets (database, TLS key) must not be readable by group or others.
fn check_private(findings: &mut Vec<Finding>, what: &str, path: &Path, is_dir: bool) {
    let Some(mode) = mode_of(path) else {
        return;
    };
    if mode & 0o077 != 0 {
        let fix = if is_dir { "700" } else { "600" };
        findings.push(problem(format!(
            "{what} {} is accessible to other users (mode {:o}): chmod {fix} it",
            path.display(),
            mode & 0o777
        )));
    } else {
        findings.push(ok(format!(
            "{what} {} is private (mode {:o})",
            path.display(),
            mode & 0o777
        )));
    }
}

/// The TLS key may be readable by its group (mode 640: how a renewal hook hands it to a
/// service user it cannot name, e.g. systemd's `DynamicUser`, through a group such as
/// Debian's `ssl-cert`), never by others nor writable by the group.
fn check_tls_key(findings: &mut Vec<Finding>, key: &Path) {
    let Some(mode) = mode_of(key) else {
        return;
    };
    if mode & 0o037 != 0 {
        findings.push(problem(format!(
            "TLS key {} is accessible to other users (mode {:o}): chmod 600 it (or 640 with a group only the service is in)",
            key.display(),
            mode & 0o777
        )));
    } else {
        findings.push(ok(format!(
            "TLS key {} is private (mode {:o})",
            key.display(),
            mode & 0o777
        )));
    }
}

/// `90d`, `12h`, `45s`: the largest unit that divides the duration.
fn human_duration(secs: i64) -> String {
    for (unit, n) in [("d", 86_400), ("h", 3600), ("m", 60)] {
        if secs % n == 0 {
            return format!("{}{unit}", secs / n);
        }
    }
    format!("{secs}s")
}

/// Everything `doctor` finds about these settings.
pub fn diagnose(serve: &ServeArgs, storage: &StorageArgs) -> Vec<Finding> {
    let mut f = vec![];
    let loopback = serve.bind.ip().is_loopback();
    let tls = serve.tls_cert.is_some() && serve.tls_key.is_some();
    let proxied = !serve.trusted_proxies.is_empty();
    let env = serve.environment();

    // Transport.
    if !loopback && !tls && !proxied {
        f.push(problem(format!(
            "plain HTTP on {} (not loopback) without TLS or a trusted proxy: give \
             --tls-cert/--tls-key, or put a TLS proxy in front and list it with --trusted-proxy",
            serve.bind
        )));
    } else if tls {
        f.push(ok("TLS is served directly (HSTS is sent)"));
    } else if proxied {
        f.push(ok(
            "behind a trusted proxy (HTTPS when it sends X-Forwarded-Proto: https)",
        ));
    } else {
        f.push(ok(format!("bound to loopback {}", serve.bind)));
    }
    if env == Environment::Local && !loopback {
        f.push(problem(format!(
            "environment `local` on {}: Application Passwords are accepted over plain HTTP \
             from the network; use --environment production",
            serve.bind
        )));
    } else {
        f.push(ok(format!("environment: {}", env.as_str())));
    }
    if let Some(key) = &serve.tls_key {
        if key.exists() {
            check_tls_key(&mut f, key);
        } else {
            f.push(problem(format!("TLS key {} does not exist", key.display())));
        }
    }
    if let Some(url) = &serve.url
        && url.starts_with("http://")
        && !loopback
    {
        f.push(problem(format!(
            "--url {url} is plain HTTP: links and Application Password authorization would \
             send clients over HTTP"
        )));
    }

    // Brute-force throttle.
    let sec = serve.security;
    if sec.auth_failures_per_minute == 0 || sec.auth_failures_burst == 0 {
        f.push(problem(
            "failed-authentication throttle per IP is disabled (--auth-failures-per-minute 0)",
        ));
    } else {
        f.push(ok(format!(
            "failed authentications per IP: {}/min, burst {}",
            sec.auth_failures_per_minute, sec.auth_failures_burst
        )));
    }
    if sec.auth_account_failures_per_minute == 0 || sec.auth_account_failures_burst == 0 {
        f.push(problem(
            "failed-authentication throttle per account is disabled \
             (--auth-account-failures-per-minute 0)",
        ));
    }

    // Application Password lifetime (issue 18). Not a problem either way: WordPress's
    // tokens never expire, and clients may rely on that.
    f.push(ok(match serve.max_token_lifetime {
        Some(max) => format!(
            "Application Passwords: new tokens expire within {} (--max-token-lifetime)",
            human_duration(max)
        ),
        None => "Application Passwords: no maximum lifetime (--max-token-lifetime unset)".into(),
    }));
    f.push(ok(match serve.revoke_unused_after {
        Some(idle) => format!(
            "Application Passwords unused for {} are revoked (--revoke-unused-after)",
            human_duration(idle)
        ),
        None => "Application Passwords are never revoked for disuse (--revoke-unused-after unset)"
            .into(),
    }));

    // CPU-heavy work (argon2, images, KSES of large bodies).
    f.push(ok(format!(
        "CPU-heavy work: {} worker threads, {} jobs may wait (then 503 rest_server_busy)",
        crate::work::effective_workers(sec.cpu_workers),
        sec.cpu_queue
    )));

    // Storage.
    match &storage.database_url {
        Some(url) => {
            let url = url.expose_secret();
            let local = ["@localhost", "@127.0.0.1", "@[::1]", "@/"]
                .iter()
                .any(|h| url.contains(h));
            if !local && !url.contains("sslmode=require") && !url.contains("sslmode=verify") {
                f.push(problem(
                    "the PostgreSQL server is not local and the URL does not require TLS: add \
                     ?sslmode=verify-full (or require)",
                ));
            } else {
                f.push(ok("PostgreSQL connection is local or requires TLS"));
            }
        }
        None => {
            let dir = &storage.data_dir;
            if dir.exists() {
                check_private(&mut f, "data dir", dir, true);
                for name in [
                    crate::store::sqlite::FILE_NAME.to_owned(),
                    format!("{}-wal", crate::store::sqlite::FILE_NAME),
                    format!("{}-shm", crate::store::sqlite::FILE_NAME),
                ] {
                    let p = dir.join(name);
                    if p.exists() {
                        check_private(&mut f, "database file", &p, false);
                    }
                }
            } else {
                f.push(ok(format!(
                    "data dir {} does not exist yet (serve creates it private)",
                    dir.display()
                )));
            }
        }
    }
    f
}

/// Prints the findings; `Err` when there is a problem (exit code 1).
pub fn run(serve: &ServeArgs, storage: &StorageArgs) -> anyhow::Result<()> {
    let findings = diagnose(serve, storage);
    let problems = findings.iter().filter(|f| f.problem).count();
    for f in &findings {
        println!(
            "{} {}",
            if f.problem { "PROBLEM" } else { "ok     " },
            f.message
        );
    }
    if problems > 0 {
        anyhow::bail!("{problems} problem(s) found");
    }
    println!("no problems found");
    Ok(())
}
