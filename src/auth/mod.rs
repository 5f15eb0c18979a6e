//! Who is making a request. Mirrors `wp_validate_application_password()` and
//! `wp_authenticate_application_password()` in `user.php`.

pub mod app_passwords;
pub mod basic;
pub mod cookie;
pub mod password;
pub mod scopes;
pub mod throttle;

use std::sync::Arc;

use uuid::Uuid;

use crate::cache::Version;
use crate::caps::{Actor, Role};
use crate::error::WpError;
use crate::formatting::is_email;
use crate::site::{Site, now};
use crate::store::User;

use scopes::Grant;

/// The authenticated user of a request, if any, and the Application Password used.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    pub user: Option<Arc<User>>,
    pub app_password: Option<Uuid>,
    /// The token's expiry and scopes (`None` for cookies and the CLI: unrestricted).
    pub grant: Option<Arc<Grant>>,
}

impl Auth {
    pub fn actor(&self) -> Actor<'_> {
        match &self.user {
            Some(u) => Actor {
                id: u.id,
                roles: &u.roles,
            },
            None => Actor::ANONYMOUS,
        }
    }

    pub fn logged_in(&self) -> bool {
        self.user.is_some()
    }

    pub fn user_id(&self) -> i64 {
        self.user.as_ref().map_or(0, |u| u.id)
    }
}

/// Where a request came from, for the usage audit.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: String,
    pub user_agent: String,
}

/// A [`Client`] borrowed from what the request already holds, so authenticating copies
/// neither the IP nor the user agent.
#[derive(Debug, Clone, Copy)]
pub struct ClientRef<'a> {
    pub ip: &'a str,
    pub user_agent: &'a str,
}

impl Client {
    pub fn borrowed(&self) -> ClientRef<'_> {
        ClientRef {
            ip: &self.ip,
            user_agent: &self.user_agent,
        }
    }
}

/// Authenticates a REST request from its `Authorization` header.
///
/// `Ok(Auth::default())` means anonymous: no header, a header PHP would not parse as Basic
/// credentials, or Application Passwords unavailable on this connection. An `Err` is the
/// WordPress error the REST server answers with before dispatching (status 401).
///
/// `version` is the database version the request started at: a token verified at the
/// same version is not looked up again (see `crate::cache`).
pub async fn authenticate_request(
    site: &Site,
    authorization: Option<&[u8]>,
    https: bool,
    client: ClientRef<'_>,
    version: Option<Version>,
) -> Result<Auth, WpError> {
    let Some(header) = authorization else {
        return Ok(Auth::default());
    };
    if !site.config.app_passwords_available(https) {
        return Ok(Auth::default());
    }
    let Some(decoded) = basic::decode(header) else {
        return Ok(Auth::default());
    };
    let login = decoded.login();
    let login = login.as_ref();
    let throttle = &site.auth_throttle;
    // The throttle's token is taken before the check, so parallel guesses cannot all be
    // verified before the first failure is counted.
    let attempt = match throttle.reserve(client.ip, login).await {
        Ok(a) => a,
        Err(wait) => {
            site.audit
                .auth_failure(crate::audit::Event::AuthThrottled, login, client.ip);
            tracing::warn!(
                user = ?login,
                ip = %client.ip,
                user_agent = ?client.user_agent,
                auth_throttled_total = throttle.metrics.throttled(),
                "authentication refused: too many failures from this IP"
            );
            return Err(WpError::too_many_requests(throttle::retry_after_secs(wait)));
        }
    };
    let hash = app_passwords::hash(&decoded.password());
    let cached = version.and_then(|v| site.cache.auth(v, login, &hash));
    if version.is_some() {
        site.metrics.cache_lookup(cached.is_some());
    }
    let verified = match cached {
        Some(found) => Ok(found),
        None => verify_token_hash(site, login, &hash)
            .await
            .map(|(user, grant)| {
                let found = (Arc::new(user), Arc::new(grant));
                if let Some(v) = version {
                    site.cache.put_auth(v, login, &hash, found.clone());
                }
                found
            }),
    };
    // Expiry and a rotation's grace depend on the clock, not the database: checked on every
    // request, cached or not.
    let verified = verified.and_then(|(user, grant)| {
        check_grant_time(&grant, now())?;
        Ok((user, grant))
    });
    let (user, grant) = match verified {
        Ok(found) => {
            attempt.refund();
            site.metrics
                .auth(crate::metrics::AuthKind::ApplicationPassword, true);
            found
        }
        // Wrong credentials (401); a storage failure (500) is nobody's fault and not counted.
        Err(e) if e.status == axum::http::StatusCode::UNAUTHORIZED => {
            let failure = attempt.fail();
            // An expired token is its own event (the `token.expired` alert), counted the same way.
            let event = if e.code == "application_password_expired" {
                crate::audit::Event::TokenExpired
            } else {
                crate::audit::Event::AuthFailed
            };
            site.audit.auth_failure(event, login, client.ip);
            site.metrics
                .auth(crate::metrics::AuthKind::ApplicationPassword, false);
            tracing::warn!(
                user = ?login,
                ip = %client.ip,
                user_agent = ?client.user_agent,
                code = e.code,
                auth_failures_total = failure.failures,
                "authentication failed"
            );
            if let Some(wait) = failure.throttled {
                return Err(WpError::too_many_requests(throttle::retry_after_secs(wait)));
            }
            return Err(e);
        }
        Err(e) => {
            attempt.refund();
            return Err(e);
        }
    };
    site.audit
        .token_used(grant.uuid, user.id, client.ip, client.user_agent);
    site.usage
        .record(grant.uuid, now(), client.ip, client.user_agent);
    Ok(Auth {
        user: Some(user),
        app_password: Some(grant.uuid),
        grant: Some(grant),
    })
}

/// An expired token is refused with `application_password_expired`; the secret a rotation
/// replaced, once its grace is over, is just a wrong password.
pub fn check_grant_time(grant: &Grant, now: i64) -> Result<(), WpError> {
    if grant.prev_valid_until.is_some_and(|t| now >= t) {
        return Err(WpError::incorrect_password());
    }
    if grant.expires.is_some_and(|t| now >= t) {
        return Err(scopes::expired_error());
    }
    Ok(())
}

/// `wp_authenticate_application_password()`: finds the user by login, then by email, and
/// checks the token. The token hash is looked up by index (one read, whatever the number of
/// tokens) and compared in constant time. Unknown users cost the same hash and lookup.
pub async fn authenticate_application_password(
    site: &Site,
    login: &str,
    password: &str,
) -> Result<(User, Grant), WpError> {
    let (user, grant) = verify_token_hash(site, login, &app_passwords::hash(password)).await?;
    check_grant_time(&grant, now())?;
    Ok((user, grant))
}

/// `authenticate_application_password` for a token already hashed (the request path
/// hashes once, for the read cache's key and for the lookup).
async fn verify_token_hash(site: &Site, login: &str, hash: &str) -> Result<(User, Grant), WpError> {
    let store = &site.store;
    // No login holds a NUL (PostgreSQL text cannot even be asked about one): such a name is
    // an unknown user, at the same cost.
    let login_key = if login.contains('\0') { "" } else { login };
    let mut user = store.user_by_login(login_key).await?;
    if user.is_none() && is_email(login_key) {
        user = store.user_by_email(login_key).await?;
    }
    let found = store.app_password_by_hash(hash).await?;

    let Some(user) = user else {
        tracing::debug!(login = ?login, "application password authentication failed: unknown user");
        return Err(if is_email(login) {
            WpError::invalid_email()
        } else {
            WpError::invalid_username()
        });
    };
    if !site.config.app_password_gate.allows(&user.roles) {
        tracing::debug!(user = %user.login, "application password refused: not available for this user");
        return Err(WpError::application_passwords_disabled_for_user());
    }
    match found {
        Some((item, stored))
            if item.user_id == user.id && app_passwords::hashes_equal(&stored, hash) =>
        {
            let grant = Grant {
                uuid: item.uuid,
                expires: item.expires,
                prev_valid_until: item.prev_valid_until,
                scopes: scopes::Scopes::from_stored(item.scopes.as_deref()),
            };
            Ok((user, grant))
        }
        _ => {
            tracing::debug!(user = %user.login, "application password authentication failed: incorrect password");
            Err(WpError::incorrect_password())
        }
    }
}

/// Whether Application Passwords may be used by a user with these roles.
pub fn available_for_roles(site: &Site, roles: &[Role]) -> bool {
    site.config.app_password_gate.allows(roles)
}
