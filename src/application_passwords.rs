//! Application Passwords records: `WP_Application_Passwords` (create, list, revoke).
//! Secrets and hashing live in `auth::app_passwords`; authentication in `auth`.

use axum::http::StatusCode;
use secrecy::SecretString;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, By, Event, Record};
use crate::auth::app_passwords;
use crate::error::WpError;
use crate::formatting::sanitize_text_field;
use crate::site::{Site, now};
use crate::store::{AppPassword, Conflict, NewAppPassword, StoreError};

/// `wp_is_uuid()`: a lower-case hexadecimal UUID of any version. Upper case is refused, as
/// WordPress's pattern has no `/i`.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
}

/// `application_name_exists_for_user()`: names compare after PHP's ASCII-only
/// `strtolower()` (WordPress 5.7+), so `CaseApp` and `caseapp` are the same application.
/// `except` is the token being renamed, which may change the case of its own name.
async fn name_exists(
    site: &Site,
    user_id: i64,
    name: &str,
    except: Option<Uuid>,
) -> Result<bool, WpError> {
    let items = site.store.app_passwords_for_user(user_id).await?;
    Ok(items
        .iter()
        .any(|p| Some(p.uuid) != except && p.name.eq_ignore_ascii_case(name)))
}

/// A token's expiry and scopes as asked for (issue 18; WordPress has neither).
#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// `None`: not given (the site's maximum lifetime, if any, applies);
    /// `Some(None)`: never expires.
    pub expires: Option<Option<i64>>,
    /// Stored form (`crate::auth::scopes::parse`); `None`: unrestricted.
    pub scopes: Option<String>,
}

/// The expiry a new or updated token gets under `--max-token-lifetime`: a token asked
/// without one gets the maximum; a later one (or none) is refused, as is a past one.
pub fn capped_expiry(
    site: &Site,
    asked: Option<Option<i64>>,
    now: i64,
) -> Result<Option<i64>, WpError> {
    let max = site
        .config
        .max_token_lifetime
        .map(|m| now.saturating_add(m));
    let expires = match (asked, max) {
        (None, max) => max,
        (Some(None), None) => None,
        (Some(None), Some(_)) => {
            return Err(expiry_error(
                "expires cannot be null: this site limits the lifetime of application passwords."
                    .into(),
            ));
        }
        (Some(Some(t)), Some(m)) if t > m => {
            return Err(expiry_error(format!(
                "expires must be no later than {} (this site's maximum lifetime of application passwords).",
                crate::auth::scopes::rfc3339(m)
            )));
        }
        (Some(Some(t)), _) => Some(t),
    };
    if expires.is_some_and(|t| t <= now) {
        return Err(expiry_error("expires must be in the future.".into()));
    }
    Ok(expires)
}

fn expiry_error(message: String) -> WpError {
    WpError::new(
        StatusCode::BAD_REQUEST,
        "rest_invalid_param",
        "Invalid parameter(s): expires",
    )
    .with_data("params", serde_json::json!({ "expires": message }))
}

/// `create_new_application_password()`: the new token (shown once) and its record.
pub async fn create(
    site: &Site,
    user_id: i64,
    name: &str,
    app_id: Option<Uuid>,
    limits: Limits,
) -> Result<(SecretString, AppPassword), WpError> {
    create_by(site, user_id, name, app_id, limits, &By::system()).await
}

/// `create`, audited as done by `by`.
pub async fn create_by(
    site: &Site,
    user_id: i64,
    name: &str,
    app_id: Option<Uuid>,
    limits: Limits,
    by: &By,
) -> Result<(SecretString, AppPassword), WpError> {
    let name = sanitize_text_field(name);
    if name.is_empty() {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "application_password_empty_name",
            "An application name is required to create an application password.",
        ));
    }
    if name_exists(site, user_id, &name, None).await? {
        return Err(duplicate_name());
    }
    let created = now();
    let expires = capped_expiry(site, limits.expires, created)?;
    // The unique (user, name) index decides between concurrent creations of one exact name.
    for _ in 0..3 {
        let token = app_passwords::generate();
        let new = NewAppPassword {
            uuid: Uuid::new_v4(),
            user_id,
            app_id: app_id.map(|u| u.to_string()).unwrap_or_default(),
            name: name.clone(),
            password_hash: app_passwords::hash_secret(&token),
            created,
            expires,
            scopes: limits.scopes.clone(),
        };
        match site.store.create_app_password(new).await {
            Ok(item) => {
                tracing::info!(user_id, uuid = %item.uuid, "application password created");
                audit::record(
                    site,
                    Record::new(Event::TokenCreated, user_id, by)
                        .token(item.uuid)
                        .data(json!({
                            "name": item.name,
                            "app_id": item.app_id,
                            "expires": item.expires,
                            "scopes": item.scopes,
                        })),
                )
                .await;
                return Ok((token, item));
            }
            Err(StoreError::Conflict(Conflict::AppPasswordName)) => return Err(duplicate_name()),
            // A 142-bit collision: draw again.
            Err(StoreError::Conflict(Conflict::AppPasswordHash)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(WpError::internal())
}

/// `get_user_application_passwords()`, with usage not yet flushed merged in.
pub async fn list(site: &Site, user_id: i64) -> Result<Vec<AppPassword>, WpError> {
    let mut items = site.store.app_passwords_for_user(user_id).await?;
    site.usage.merge(&mut items);
    Ok(items)
}

/// `delete_application_password()`: whether it existed.
pub async fn delete(site: &Site, user_id: i64, uuid: Uuid) -> Result<bool, WpError> {
    delete_by(site, user_id, uuid, &By::system()).await
}

/// `delete`, audited as done by `by`.
pub async fn delete_by(site: &Site, user_id: i64, uuid: Uuid, by: &By) -> Result<bool, WpError> {
    let name = site
        .store
        .app_passwords_for_user(user_id)
        .await?
        .into_iter()
        .find(|p| p.uuid == uuid)
        .map(|p| p.name);
    let deleted = site.store.delete_app_password(user_id, uuid).await?;
    if deleted {
        site.usage.forget(&uuid);
        tracing::info!(user_id, uuid = %uuid, "application password revoked");
        audit::record(
            site,
            Record::new(Event::TokenRevoked, user_id, by)
                .token(uuid)
                .data(json!({ "name": name })),
        )
        .await;
    }
    Ok(deleted)
}

/// `delete_all_application_passwords()`: how many were revoked.
pub async fn delete_all(site: &Site, user_id: i64) -> Result<u64, WpError> {
    delete_all_by(site, user_id, &By::system()).await
}

/// `delete_all`, audited as done by `by`.
pub async fn delete_all_by(site: &Site, user_id: i64, by: &By) -> Result<u64, WpError> {
    let items = site.store.app_passwords_for_user(user_id).await?;
    let n = site.store.delete_all_app_passwords(user_id).await?;
    for item in &items {
        site.usage.forget(&item.uuid);
    }
    tracing::info!(user_id, count = n, "all application passwords revoked");
    if n > 0 {
        let uuids: Vec<String> = items.iter().map(|i| i.uuid.to_string()).collect();
        audit::record(
            site,
            Record::new(Event::TokenRevokedAll, user_id, by)
                .data(json!({ "count": n, "tokens": uuids })),
        )
        .await;
    }
    Ok(n)
}

/// `update_application_password()`: renames a token. Unlike WordPress, a name another token
/// of the same user already has is refused (409), so names stay unique.
pub async fn rename(site: &Site, user_id: i64, uuid: Uuid, name: &str) -> Result<(), WpError> {
    rename_by(site, user_id, uuid, name, &By::system()).await
}

/// `rename`, audited as done by `by`.
pub async fn rename_by(
    site: &Site,
    user_id: i64,
    uuid: Uuid,
    name: &str,
    by: &By,
) -> Result<(), WpError> {
    let name = sanitize_text_field(name);
    if name.is_empty() {
        // WordPress ignores an update whose sanitised name is empty.
        return Ok(());
    }
    if name_exists(site, user_id, &name, Some(uuid)).await? {
        return Err(duplicate_name());
    }
    let old = site
        .store
        .app_passwords_for_user(user_id)
        .await?
        .into_iter()
        .find(|p| p.uuid == uuid)
        .map(|p| p.name);
    match site.store.rename_app_password(user_id, uuid, &name).await {
        Ok(renamed) => {
            if renamed && old.as_deref() != Some(name.as_str()) {
                audit::record(
                    site,
                    Record::new(Event::TokenRenamed, user_id, by)
                        .token(uuid)
                        .data(json!({ "from": old, "to": name })),
                )
                .await;
            }
            Ok(())
        }
        Err(StoreError::Conflict(Conflict::AppPasswordName)) => Err(duplicate_name()),
        Err(e) => Err(e.into()),
    }
}

/// Sets a token's expiry and scopes (`None`: leave as is). Whether the token exists.
pub async fn set_limits(
    site: &Site,
    item: &AppPassword,
    expires: Option<Option<i64>>,
    scopes: Option<Option<String>>,
) -> Result<(), WpError> {
    if expires.is_none() && scopes.is_none() {
        return Ok(());
    }
    let expires = match expires {
        Some(asked) => capped_expiry(site, Some(asked), now())?,
        None => item.expires,
    };
    let scopes = scopes.unwrap_or_else(|| item.scopes.clone());
    site.store
        .set_app_password_limits(item.user_id, item.uuid, expires, scopes.as_deref())
        .await?;
    Ok(())
}

/// Rotation (issue 18): a new secret for the same token (uuid, name, scopes and expiry
/// kept), shown once. The old secret stops at once, or after `grace` seconds.
pub async fn rotate(
    site: &Site,
    user_id: i64,
    uuid: Uuid,
    grace: i64,
    by: &By,
) -> Result<Option<SecretString>, WpError> {
    let prev_valid_until = (grace > 0).then(|| now().saturating_add(grace));
    for _ in 0..3 {
        let token = app_passwords::generate();
        let hash = app_passwords::hash_secret(&token);
        match site
            .store
            .rotate_app_password(user_id, uuid, &hash, prev_valid_until)
            .await
        {
            Ok(true) => {
                tracing::info!(user_id, uuid = %uuid, grace, "application password rotated");
                audit::record(
                    site,
                    Record::new(Event::TokenRotated, user_id, by)
                        .token(uuid)
                        .data(json!({ "grace_seconds": grace })),
                )
                .await;
                return Ok(Some(token));
            }
            Ok(false) => return Ok(None),
            Err(StoreError::Conflict(Conflict::AppPasswordHash)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(WpError::internal())
}

/// How long before its expiry a token's owner is warned (`token.expiring`).
pub const EXPIRY_WARNING_SECS: i64 = 7 * 86_400;

/// Records `token.expiring` once for each token that expires within
/// `EXPIRY_WARNING_SECS` (at most `limit` per call; the rest on the next).
pub async fn warn_expiring(site: &Site, limit: i64) -> Result<usize, WpError> {
    let now = now();
    let expiring = site
        .store
        .claim_expiring_app_passwords(now, now.saturating_add(EXPIRY_WARNING_SECS), limit)
        .await?;
    for item in &expiring {
        audit::record(
            site,
            Record::new(Event::TokenExpiring, item.user_id, &By::system())
                .token(item.uuid)
                .data(json!({ "name": item.name, "expires": item.expires })),
        )
        .await;
    }
    Ok(expiring.len())
}

/// Tokens revoked per idle sweep at most (the rest wait for the next one).
pub const IDLE_SWEEP_BATCH: i64 = 500;

/// `--revoke-unused-after`: revokes at most `limit` tokens unused (or never used, counted
/// from creation) for `idle` seconds. Pending usage is written first, so a token in use is
/// never taken for an idle one.
pub async fn revoke_unused(
    site: &Site,
    idle: i64,
    limit: i64,
) -> Result<Vec<(i64, Uuid)>, WpError> {
    let now = now();
    site.usage.flush(site.store.as_ref(), now).await?;
    let revoked = site
        .store
        .revoke_unused_app_passwords(now.saturating_sub(idle), limit)
        .await?;
    for (user_id, uuid) in &revoked {
        site.usage.forget(uuid);
        tracing::info!(user_id, uuid = %uuid, "application password revoked: unused");
        audit::record(
            site,
            Record::new(Event::TokenIdleRevoked, *user_id, &By::system())
                .token(*uuid)
                .data(json!({ "idle_seconds": idle })),
        )
        .await;
    }
    Ok(revoked)
}

fn duplicate_name() -> WpError {
    WpError::new(
        StatusCode::CONFLICT,
        "application_password_duplicate_name",
        "Each application name should be unique.",
    )
}
