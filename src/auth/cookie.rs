//! Login sessions and nonces for the admin screens and cookie-authenticated REST calls.
//! Mirrors `wp_set_auth_cookie()`, `wp_validate_auth_cookie()`, `wp_create_nonce()` and
//! `wp_verify_nonce()` in `wp-includes/pluggable.php`, `WP_Session_Tokens`
//! (`class-wp-session-tokens.php`) and `rest_cookie_check_errors()` in `rest-api.php`.
//!
//! The cookie carries a random session token; the store keeps only its SHA-256 verifier,
//! as WordPress's `session_tokens` meta does, so logging out (deleting the row) ends the
//! session everywhere. Nonces are WordPress's: a keyed hash of the tick, action, user id and
//! session token, valid for the current and the previous half-day tick.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::auth::{Auth, Client};
use crate::error::WpError;
use crate::site::{Site, now};
use crate::store::{Session, User};

/// The option holding the nonce key (`NONCE_KEY` + `NONCE_SALT` in `wp-config.php`).
const NONCE_KEY_OPTION: &str = "ferropress_nonce_key";

/// `DAY_IN_SECONDS`: a nonce lives one to two half-day ticks (`nonce_life`).
const NONCE_LIFE: i64 = 86_400;
/// `wp_set_auth_cookie()`: two days, or fourteen with "Remember Me".
pub const SESSION_SECS: i64 = 2 * 86_400;
pub const REMEMBER_SECS: i64 = 14 * 86_400;
/// `wp_generate_password( 43, false, false )` in `WP_Session_Tokens::create()`.
const TOKEN_LENGTH: usize = 43;

/// The secret key of nonces, shared by every instance through the store. Never printed.
pub struct NonceKey(SecretString);

impl std::fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NonceKey(..)")
    }
}

/// The site's nonce key, made on first use. `add_option` lets the first instance of a shared
/// database win, and everyone then reads the same value back.
pub async fn nonce_key(site: &Site) -> Result<&NonceKey, WpError> {
    site.nonce_key
        .get_or_try_init(|| async {
            let fresh = random_alphanumeric(64);
            site.store.add_option(NONCE_KEY_OPTION, &fresh).await?;
            let stored = site
                .store
                .get_option(NONCE_KEY_OPTION)
                .await?
                .filter(|k| k.len() >= 32)
                .ok_or_else(WpError::internal)?;
            Ok(NonceKey(SecretString::from(stored)))
        })
        .await
}

fn random_alphanumeric(len: usize) -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

fn sha256_hex(input: &str) -> String {
    let digest = Sha256::digest(input.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// `wp_nonce_tick()`: half-days since the epoch, rounded up.
fn nonce_tick(now: i64) -> i64 {
    let half = NONCE_LIFE / 2;
    (now + half - 1).div_euclid(half)
}

fn nonce_at(key: &NonceKey, tick: i64, action: &str, user_id: i64, token: &str) -> String {
    // `substr( wp_hash( "$i|$action|$uid|$token", 'nonce' ), -12, 10 )`, with HMAC-SHA256.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.0.expose_secret().as_bytes()) else {
        return String::new();
    };
    mac.update(format!("{tick}|{action}|{user_id}|{token}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    hex[hex.len() - 12..hex.len() - 2].to_owned()
}

/// `wp_create_nonce( $action )` for a user and session (user 0 and an empty token when
/// logged out, as in WordPress).
pub fn create_nonce(key: &NonceKey, action: &str, user_id: i64, token: &str) -> String {
    nonce_at(key, nonce_tick(now()), action, user_id, token)
}

/// `wp_verify_nonce()`: `Some(1)` when made in the current tick, `Some(2)` in the previous
/// one, `None` otherwise. Compared in constant time.
pub fn verify_nonce(
    key: &NonceKey,
    nonce: &str,
    action: &str,
    user_id: i64,
    token: &str,
) -> Option<u8> {
    if nonce.is_empty() {
        return None;
    }
    let tick = nonce_tick(now());
    for (age, t) in [(1u8, tick), (2u8, tick - 1)] {
        let expected = nonce_at(key, t, action, user_id, token);
        if bool::from(expected.as_bytes().ct_eq(nonce.as_bytes())) {
            return Some(age);
        }
    }
    None
}

/// A valid login session: the user and the session token the cookie carried.
#[derive(Clone)]
pub struct LoggedIn {
    pub user: Arc<User>,
    pub token: SecretString,
    pub session: Session,
}

impl std::fmt::Debug for LoggedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoggedIn")
            .field("user", &self.user.login)
            .finish_non_exhaustive()
    }
}

impl LoggedIn {
    pub fn nonce(&self, key: &NonceKey, action: &str) -> String {
        create_nonce(key, action, self.user.id, self.token.expose_secret())
    }

    pub fn verify(&self, key: &NonceKey, nonce: &str, action: &str) -> bool {
        verify_nonce(key, nonce, action, self.user.id, self.token.expose_secret()).is_some()
    }
}

/// `LOGGED_IN_COOKIE`: `wordpress_logged_in_` and a hash of the site address, so two sites
/// on one host do not share cookies.
pub fn cookie_name(site: &Site) -> String {
    format!(
        "wordpress_logged_in_{}",
        &sha256_hex(&site.config.home)[..32]
    )
}

/// `$pass_frag` of `wp_generate_auth_cookie()`: ties a session to the password hash it began
/// with, so changing the password logs every session out. A keyless digest of the hash,
/// shortened: it says nothing usable about the password.
fn pass_frag(user: &User) -> String {
    sha256_hex(&user.pass_hash)[..16].to_owned()
}

/// `WP_Session_Tokens::create()`: a new session for `user`; returns the token for the cookie.
pub async fn create_session(
    site: &Site,
    user: &User,
    remember: bool,
    client: &Client,
) -> Result<(SecretString, i64), WpError> {
    let now = now();
    // Expired sessions are dropped when someone logs in, as `WP_User_Meta_Session_Tokens`
    // drops them when it writes.
    site.store.delete_expired_sessions(now).await?;
    let token = random_alphanumeric(TOKEN_LENGTH);
    let expiration = now
        + if remember {
            REMEMBER_SECS
        } else {
            SESSION_SECS
        };
    site.store
        .create_session(&Session {
            verifier: sha256_hex(&token),
            user_id: user.id,
            expiration,
            login: now,
            ip: client.ip.clone(),
            user_agent: client.user_agent.chars().take(512).collect(),
            pass_frag: pass_frag(user),
        })
        .await?;
    tracing::info!(user = %user.login, ip = %client.ip, "logged in");
    Ok((SecretString::from(token), expiration))
}

/// `WP_Session_Tokens::destroy()`.
pub async fn destroy_session(site: &Site, session: &Session) -> Result<(), WpError> {
    site.store.delete_session(&session.verifier).await?;
    Ok(())
}

/// The `Set-Cookie` value of a new session: HttpOnly, SameSite=Lax, Secure over HTTPS; a
/// browser-session cookie unless "Remember Me" was ticked (then it expires with the session).
pub fn session_cookie(
    site: &Site,
    token: &SecretString,
    max_age: Option<i64>,
    https: bool,
) -> HeaderValue {
    let mut c = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Lax",
        cookie_name(site),
        token.expose_secret()
    );
    if let Some(secs) = max_age {
        c.push_str(&format!("; Max-Age={secs}"));
    }
    if https {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `wp_clear_auth_cookie()`.
pub fn clear_cookie(site: &Site, https: bool) -> HeaderValue {
    let secure = if https { "; Secure" } else { "" };
    let c = format!(
        "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}",
        cookie_name(site)
    );
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The session token of the request's login cookie, if it has one of the right shape.
fn cookie_token(site: &Site, headers: &HeaderMap) -> Option<String> {
    let name = cookie_name(site);
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| v.len() == TOKEN_LENGTH && v.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// `wp_validate_auth_cookie()`: the logged-in user of the request, if its cookie names a
/// session that exists, has not expired, and whose user still exists.
pub async fn validate_auth_cookie(
    site: &Site,
    headers: &HeaderMap,
) -> Result<Option<LoggedIn>, WpError> {
    let Some(token) = cookie_token(site, headers) else {
        return Ok(None);
    };
    let Some(session) = site.store.session_by_verifier(&sha256_hex(&token)).await? else {
        return Ok(None);
    };
    if session.expiration < now() {
        return Ok(None);
    }
    let Some(user) = site.store.user_by_id(session.user_id).await? else {
        return Ok(None);
    };
    if !bool::from(
        pass_frag(&user)
            .as_bytes()
            .ct_eq(session.pass_frag.as_bytes()),
    ) {
        // The password changed since this session began.
        return Ok(None);
    }
    Ok(Some(LoggedIn {
        user: Arc::new(user),
        token: SecretString::from(token),
        session,
    }))
}

/// `rest_cookie_check_errors()`, for a request that sent no `Authorization` header:
/// `Ok(None)` leaves it anonymous (no valid cookie, or a cookie without a nonce, which
/// WordPress answers as user 0); a valid `wp_rest` nonce (`_wpnonce` in the query or
/// `X-WP-Nonce`) makes the cookie's user the request's, with a fresh nonce to send back;
/// a wrong one is `rest_cookie_invalid_nonce` (403).
pub async fn rest_cookie_check_errors(
    site: &Site,
    headers: &HeaderMap,
    query: &str,
) -> Result<Option<(Auth, HeaderValue)>, WpError> {
    let Some(logged_in) = validate_auth_cookie(site, headers).await? else {
        return Ok(None);
    };
    let nonce = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "_wpnonce")
        .map(|(_, v)| v.into_owned())
        .or_else(|| {
            headers
                .get("x-wp-nonce")
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        });
    let Some(nonce) = nonce else {
        return Ok(None);
    };
    let key = nonce_key(site).await?;
    if !logged_in.verify(key, &nonce, "wp_rest") {
        return Err(WpError::new(
            StatusCode::FORBIDDEN,
            "rest_cookie_invalid_nonce",
            "Cookie check failed",
        ));
    }
    let fresh = HeaderValue::from_str(&logged_in.nonce(key, "wp_rest"))
        .unwrap_or_else(|_| HeaderValue::from_static(""));
    Ok(Some((
        Auth {
            user: Some(logged_in.user),
            app_password: None,
            grant: None,
        },
        fresh,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> NonceKey {
        NonceKey(SecretString::from("k".repeat(64)))
    }

    #[test]
    fn ticks_are_half_days_rounded_up() {
        assert_eq!(nonce_tick(1), 1);
        assert_eq!(nonce_tick(43_200), 1);
        assert_eq!(nonce_tick(43_201), 2);
    }

    #[test]
    fn nonces_bind_action_user_and_token() {
        let k = key();
        let n = create_nonce(&k, "wp_rest", 3, "tok");
        assert_eq!(n.len(), 10);
        assert_eq!(verify_nonce(&k, &n, "wp_rest", 3, "tok"), Some(1));
        assert_eq!(verify_nonce(&k, &n, "log-out", 3, "tok"), None);
        assert_eq!(verify_nonce(&k, &n, "wp_rest", 4, "tok"), None);
        assert_eq!(verify_nonce(&k, &n, "wp_rest", 3, "other"), None);
        assert_eq!(verify_nonce(&k, "", "wp_rest", 3, "tok"), None);
        let other = NonceKey(SecretString::from("j".repeat(64)));
        assert_eq!(verify_nonce(&other, &n, "wp_rest", 3, "tok"), None);
    }

    #[test]
    fn previous_tick_is_still_valid() {
        let k = key();
        let t = nonce_tick(now());
        let old = nonce_at(&k, t - 1, "a", 1, "x");
        assert_eq!(verify_nonce(&k, &old, "a", 1, "x"), Some(2));
        let older = nonce_at(&k, t - 2, "a", 1, "x");
        assert_eq!(verify_nonce(&k, &older, "a", 1, "x"), None);
    }

    #[test]
    fn verifier_is_sha256_hex() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
