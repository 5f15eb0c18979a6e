//! Users: `wp_insert_user()`, `wp_update_user()` and `wp_delete_user()` (`user.php`,
//! `wp-admin/includes/user.php`): the checks and defaults every way of creating, changing or
//! removing a user goes through (CLI, first run, REST).

use axum::http::StatusCode;

use crate::auth::password;
use crate::caps::Role;
use crate::error::WpError;
use crate::formatting::{
    is_email, pre_name_field, sanitize_title, sanitize_user_strict, strip_all_tags,
};
use crate::site::{Site, now};
use crate::store::{Conflict, DeletedUser, NewUser, StoreError, User};

pub struct InsertUser<'a> {
    pub login: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub roles: Vec<Role>,
}

/// The optional profile fields of `wp_insert_user()`. `None` (or empty) takes WordPress's
/// default: display name from first/last name or the login, nickname = login, nicename
/// from the login.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub display_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub nickname: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub locale: Option<String>,
    pub nicename: Option<String>,
}

/// `pre_user_description`: `wp_filter_kses()` (with `a[rel]`), then `wp_targeted_link_rel()`.
fn pre_user_description(description: &str) -> String {
    crate::kses::targeted_link_rel(&crate::kses::filter_user_description(description))
}

/// The save filters `wp_insert_user()` runs on a user's text fields (`pre_user_*` in
/// `default-filters.php`; the description's, which may be large, runs on the CPU pool
/// before this), for every caller (REST, admin screens, CLI) and every role:
/// `unfiltered_html` lifts none of them. `wp_update_user()` goes through `wp_insert_user()`
/// with every field, so an update filters the stored values again too.
fn apply_save_filters(user: &mut User) {
    for field in [
        &mut user.first_name,
        &mut user.last_name,
        &mut user.nickname,
        &mut user.display_name,
    ] {
        *field = pre_name_field(field);
    }
    user.url = pre_user_url(&user.url);
    user.email = pre_user_email(&user.email);
}

/// `pre_user_url`: `wp_strip_all_tags()`, `sanitize_url()`, `wp_filter_kses()` (which turns
/// a lone `&` into `&amp;`).
fn pre_user_url(url: &str) -> String {
    crate::kses::filter_kses(&esc_url_raw(&strip_all_tags(url)))
}

/// `pre_user_email`: trimmed, `sanitize_email()` (a no-op on what `is_email()` accepts),
/// `wp_filter_kses()`.
fn pre_user_email(email: &str) -> String {
    crate::kses::filter_kses(email.trim())
}

/// Changes `wp_update_user()` applies to an existing user; `None` leaves a field alone.
/// `roles`, when given, replace the user's roles.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub profile: Profile,
    pub email: Option<String>,
    pub password: Option<String>,
    pub roles: Option<Vec<Role>>,
}

/// WordPress passes `wp_insert_user` errors through REST without a status: HTTP 500 with
/// `"data": null`.
fn insert_error(code: &'static str, message: &str) -> WpError {
    let mut e = WpError::new(StatusCode::INTERNAL_SERVER_ERROR, code, message);
    e.data_null = true;
    e
}

fn user_url_too_long() -> WpError {
    insert_error(
        "user_url_too_long",
        "User URL may not be longer than 100 characters.",
    )
}

fn user_nicename_too_long() -> WpError {
    insert_error(
        "user_nicename_too_long",
        "Nicename may not be longer than 50 characters.",
    )
}

/// `esc_url_raw()` / `sanitize_url()`: `esc_url()` in its `'db'` context (`formatting.php`,
/// WordPress 6.1), step for step, each step one pass over the text: left-trimmed, spaces
/// as `%20`, every character outside WordPress's whitelist dropped, `%0d`/`%0a` removed
/// (`_deep_replace`, except for `mailto:`), `;//` read as `://`, `http://` prepended to a
/// value without a scheme, `[`/`]` after the authority percent-encoded, and a value whose
/// protocol `wp_kses_bad_protocol()` changes (one not in `wp_allowed_protocols()`, hidden
/// `javascript:` …) emptied.
pub fn esc_url_raw(input: &str) -> String {
    clean_url(input, false)
}

/// `esc_url()` in its display context: as [`esc_url_raw`], with entities normalised, `&`
/// as `&#038;` and `'` as `&#039;` before the brackets are encoded (so a `#` of `&#038;`
/// can end the authority, as in WordPress).
pub fn esc_url(input: &str) -> String {
    clean_url(input, true)
}

fn clean_url(input: &str, display: bool) -> String {
    let url = input.trim_start_matches([' ', '\t', '\n', '\r', '\0', '\x0b']);
    // `str_replace(' ', '%20')`, then the whitelist
    // `[^a-z0-9-~+_.?#=!&;,/:%@$\|*\'()\[\]\x80-\xff]` (case-insensitive): every
    // non-ASCII character is kept, as its UTF-8 bytes all fall in `\x80-\xff`.
    let mut kept = String::with_capacity(url.len());
    for c in url.chars() {
        if c == ' ' {
            kept.push_str("%20");
        } else if !c.is_ascii()
            || c.is_ascii_alphanumeric()
            || "-~+_.?#=!&;,/:%@$|*'()[]".contains(c)
        {
            kept.push(c);
        }
    }
    if kept.is_empty() {
        return kept;
    }
    let mut url = if kept
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("mailto:"))
    {
        kept
    } else {
        strip_crlf_octets(&kept)
    };
    url = url.replace(";//", "://");
    if !url.contains(':') && !url.starts_with(['/', '#', '?']) && !starts_with_php_file(&url) {
        url = format!("http://{url}");
    }
    if display {
        url = crate::kses::normalize_entities(&url)
            .replace("&amp;", "&#038;")
            .replace('\'', "&#039;");
    }
    if url.contains(['[', ']']) {
        url = encode_brackets_after_authority(&url);
    }
    if url.starts_with('/') {
        return url;
    }
    let good = crate::kses::bad_protocol(&url);
    // PHP's `strtolower()` is ASCII-only.
    if good.eq_ignore_ascii_case(&url) {
        good
    } else {
        String::new()
    }
}

/// `_deep_replace(['%0d', '%0a', '%0D', '%0A'], $url)`: removes those octets until none is
/// left, including ones that removing others brings together (`%0%0dd`). The patterns
/// cannot overlap, so removing them as they complete on a stack gives the same result in
/// one pass.
fn strip_crlf_octets(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        out.push(c);
        let b = out.as_bytes();
        let n = b.len();
        if n >= 3
            && b[n - 3] == b'%'
            && b[n - 2] == b'0'
            && matches!(b[n - 1], b'd' | b'a' | b'D' | b'A')
        {
            out.truncate(n - 3);
        }
    }
    out
}

/// `preg_match('/^[a-z0-9-]+?\.php/i', $url)`: a relative link to a PHP file.
fn starts_with_php_file(url: &str) -> bool {
    let name_len = url
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-')
        .count();
    name_len > 0
        && url[name_len..]
            .get(..4)
            .is_some_and(|ext| ext.eq_ignore_ascii_case(".php"))
}

/// `strtol($s, $end, 10)` as PHP's `parse_url()` reads a port: optional leading spaces and
/// sign, then digits; `None` when no digit was read or the value is negative.
fn php_strtol_prefix(s: &str) -> Option<u32> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n: u32 = t[..digits].parse().ok()?;
    if negative && n != 0 { None } else { Some(n) }
}

/// `esc_url()`'s bracket step: `[` and `]` become `%5B`/`%5D` except in the part that
/// `wp_parse_url()` reads as scheme, user, password, host and port (an IPv6 host keeps
/// its brackets). The `str_replace()` calls are mirrored as they are, replacing every
/// occurrence.
fn encode_brackets_after_authority(url: &str) -> String {
    let front = match parse_url_front(url) {
        Some(front) => front,
        None if url.starts_with('/') => "//".to_owned(),
        None => String::new(),
    };
    let end_dirty = if front.is_empty() {
        url.to_owned()
    } else {
        url.replace(&front, "")
    };
    let end_clean = end_dirty.replace('[', "%5B").replace(']', "%5D");
    if end_dirty.is_empty() {
        return url.to_owned();
    }
    url.replace(&end_dirty, &end_clean)
}

/// The `scheme://user:pass@host:port` prefix `esc_url()` rebuilds from `wp_parse_url()`,
/// for the URLs PHP's `parse_url()` splits that way (a scheme or nothing followed by `//`);
/// `None` otherwise, and when `parse_url()` fails (a bad port, an empty host): then only a
/// leading `/` counts as front, as in `esc_url()`.
fn parse_url_front(url: &str) -> Option<String> {
    // `wp_parse_url()` reads a protocol-relative `//host/…` with its host too.
    let (mut front, rest) = if let Some(rest) = url.strip_prefix("//") {
        ("//".to_owned(), rest)
    } else {
        let colon = url.find(':')?;
        let scheme = &url[..colon];
        let valid_scheme = scheme
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        let rest = url[colon + 1..].strip_prefix("//")?;
        if !valid_scheme {
            return None;
        }
        (format!("{scheme}://"), rest)
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    // PHP's port scan: the last `:` (none for a bracketed `[…]` host), at most five
    // characters after it, read by `strtol()` (leading digits; `1]` is port 1). A
    // malformed port or an empty host makes `parse_url()` fail: the empty front.
    let bracketed = hostport.len() >= 2 && hostport.starts_with('[') && hostport.ends_with(']');
    let (host, port) = match hostport.rfind(':').filter(|_| !bracketed) {
        Some(c) => {
            let after = &hostport[c + 1..];
            if after.len() > 5 {
                return None;
            }
            let port = if after.is_empty() {
                None
            } else {
                match php_strtol_prefix(after) {
                    Some(n) if n <= 65535 => Some(n),
                    _ => return None,
                }
            };
            (&hostport[..c], port)
        }
        None => (hostport, None),
    };
    if host.is_empty() {
        return None;
    }
    if let Some(info) = userinfo {
        match info.split_once(':') {
            Some((user, pass)) => {
                front.push_str(user);
                front.push(':');
                front.push_str(pass);
            }
            None => front.push_str(info),
        }
        front.push('@');
    }
    front.push_str(host);
    if let Some(n) = port {
        front.push(':');
        front.push_str(&n.to_string());
    }
    Some(front)
}

/// The display name `wp_insert_user()` derives when none is given.
fn default_display_name(login: &str, first: &str, last: &str) -> String {
    match (first.is_empty(), last.is_empty()) {
        (false, false) => format!("{first} {last}"),
        (false, true) => first.to_owned(),
        (true, false) => last.to_owned(),
        (true, true) => login.to_owned(),
    }
}

async fn nicename_taken(site: &Site, nicename: &str, except_id: i64) -> Result<bool, WpError> {
    if except_id <= 0 {
        return Ok(site.store.nicename_exists(nicename).await?);
    }
    let q = crate::store::UserQuery {
        nicenames: vec![nicename.to_owned()],
        exclude: vec![except_id],
        limit: 1,
        ..crate::store::UserQuery::default()
    };
    Ok(site.store.query_users(&q).await?.1 > 0)
}

/// A unique `user_nicename` from a wanted one (`-2`, `-3`, … appended within 50
/// characters), not counting the user `except_id` itself.
async fn unique_nicename(site: &Site, wanted: &str, except_id: i64) -> Result<String, WpError> {
    let mut nicename = wanted.to_owned();
    let mut suffix: u32 = 2;
    while nicename_taken(site, &nicename, except_id).await? {
        let base: String = wanted.chars().take(49 - suffix.to_string().len()).collect();
        nicename = format!("{base}-{suffix}");
        suffix += 1;
    }
    Ok(nicename)
}

/// The `user_nicename` for a wanted slug: `sanitize_title(sanitize_user(slug, true))`.
fn nicename_of(slug: &str) -> String {
    sanitize_title(&sanitize_user_strict(slug))
}

/// `wp_hash_password()`, on the bounded CPU pool (503 when its queue is full).
async fn hash_password(site: &Site, plain: &str) -> Result<String, WpError> {
    password::hash_in(&site.cpu, plain.into()).await
}

pub async fn insert_user(site: &Site, new: InsertUser<'_>) -> Result<User, WpError> {
    insert_user_with_profile(site, new, Profile::default()).await
}

/// `wp_insert_user()` with profile fields.
pub async fn insert_user_with_profile(
    site: &Site,
    new: InsertUser<'_>,
    profile: Profile,
) -> Result<User, WpError> {
    let login = sanitize_user_strict(new.login).trim().to_owned();
    if login.is_empty() {
        return Err(insert_error(
            "empty_user_login",
            "Cannot create a user with an empty login name.",
        ));
    }
    if login != new.login {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "invalid_username",
            "This username is invalid because it uses illegal characters. Please enter a valid username.",
        ));
    }
    if login.chars().count() > 60 {
        return Err(insert_error(
            "user_login_too_long",
            "Username may not be longer than 60 characters.",
        ));
    }
    if !is_email(new.email.trim()) {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "invalid_email",
            "Invalid email address.",
        ));
    }
    let email = &pre_user_email(new.email);
    if new.password.is_empty() {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "empty_password",
            "Passwords cannot be empty.",
        ));
    }
    if new.password.contains('\\') {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "illegal_password",
            "Passwords cannot contain the \"\\\" character.",
        ));
    }
    if site.store.user_by_login(&login).await?.is_some() {
        return Err(insert_error(
            "existing_user_login",
            "Sorry, that username already exists!",
        ));
    }
    if site.store.user_by_email(email).await?.is_some() {
        return Err(insert_error(
            "existing_user_email",
            "Sorry, that email address is already used!",
        ));
    }

    let url = pre_user_url(profile.url.as_deref().unwrap_or(""));
    if url.chars().count() > 100 {
        return Err(user_url_too_long());
    }

    // user_nicename: the given slug (at most 50 characters) or the login's first 50
    // characters, sanitised as a title, made unique.
    let base = match profile.nicename.as_deref().filter(|n| !n.is_empty()) {
        Some(wanted) => {
            let n = nicename_of(wanted);
            if n.chars().count() > 50 {
                return Err(user_nicename_too_long());
            }
            n
        }
        None => sanitize_title(&login.chars().take(50).collect::<String>()),
    };
    let base = if base.is_empty() {
        "user".to_owned()
    } else {
        base
    };
    let nicename = unique_nicename(site, &base, 0).await?;

    let pass_hash = hash_password(site, new.password).await?;

    // `wp_insert_user()`'s order: the names are filtered, the default display name made
    // from the filtered ones, then filtered in turn; the nickname falls back to the login
    // before its filter.
    let first_name = pre_name_field(profile.first_name.as_deref().unwrap_or(""));
    let last_name = pre_name_field(profile.last_name.as_deref().unwrap_or(""));
    let display_name = pre_name_field(
        &profile
            .display_name
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| default_display_name(&login, &first_name, &last_name)),
    );
    let nickname = pre_name_field(
        &profile
            .nickname
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| login.clone()),
    );
    let description = profile.description.unwrap_or_default();
    let description = site
        .cpu
        .run_sized(description.len(), move || {
            pre_user_description(&description)
        })
        .await?;
    let created = site
        .store
        .create_user(NewUser {
            id: 0,
            login: login.clone(),
            email: email.to_owned(),
            nicename,
            display_name,
            first_name,
            last_name,
            nickname,
            description,
            url,
            locale: profile.locale.unwrap_or_default(),
            roles: new.roles,
            pass_hash,
            registered: now(),
        })
        .await;
    match created {
        Ok(u) => Ok(u),
        Err(StoreError::Conflict(Conflict::UserLogin)) => Err(insert_error(
            "existing_user_login",
            "Sorry, that username already exists!",
        )),
        Err(StoreError::Conflict(Conflict::UserEmail)) => Err(insert_error(
            "existing_user_email",
            "Sorry, that email address is already used!",
        )),
        Err(e) => Err(e.into()),
    }
}

/// `wp_update_user()`: applies the changes to `user` and writes them. Callers check
/// permissions and the REST-level collisions (email, slug) first; a collision that slips
/// through a race is still refused by the store's unique indexes.
pub async fn update_user(site: &Site, user: User, changes: UserChanges) -> Result<User, WpError> {
    update_user_by(site, user, changes, &crate::audit::By::system()).await
}

/// `update_user`, with role and password changes audited as done by `by`.
pub async fn update_user_by(
    site: &Site,
    mut user: User,
    changes: UserChanges,
    by: &crate::audit::By,
) -> Result<User, WpError> {
    let old_roles = user.roles.clone();
    let p = changes.profile;
    if let Some(email) = changes.email {
        let email = email.trim().to_owned();
        if !is_email(&email) {
            return Err(WpError::new(
                StatusCode::BAD_REQUEST,
                "invalid_email",
                "Invalid email address.",
            ));
        }
        user.email = email;
    }
    if let Some(v) = p.first_name {
        user.first_name = v;
    }
    if let Some(v) = p.last_name {
        user.last_name = v;
    }
    if let Some(v) = p.description {
        user.description = v;
    }
    if let Some(v) = p.locale {
        user.locale = v;
    }
    if let Some(url) = p.url {
        user.url = url;
    }
    // An emptied display name or nickname falls back to the login, as on update in WordPress.
    if let Some(v) = p.display_name {
        user.display_name = if v.is_empty() { user.login.clone() } else { v };
    }
    if let Some(v) = p.nickname {
        user.nickname = if v.is_empty() { user.login.clone() } else { v };
    }
    if let Some(wanted) = p.nicename.filter(|n| !n.is_empty()) {
        let n = nicename_of(&wanted);
        if n.chars().count() > 50 {
            return Err(user_nicename_too_long());
        }
        if !n.is_empty() && n != user.nicename {
            user.nicename = unique_nicename(site, &n, user.id).await?;
        }
    }
    let description = std::mem::take(&mut user.description);
    user.description = site
        .cpu
        .run_sized(description.len(), move || {
            pre_user_description(&description)
        })
        .await?;
    apply_save_filters(&mut user);
    if user.url.chars().count() > 100 {
        return Err(user_url_too_long());
    }
    if let Some(roles) = changes.roles {
        user.roles = roles;
    }
    let password_changed = changes.password.is_some();
    if let Some(plain) = changes.password {
        user.pass_hash = hash_password(site, &plain).await?;
    }
    match site.store.update_user(&user).await {
        Ok(true) => {
            use crate::audit::{Event, Record, record};
            if user.roles != old_roles {
                let names = |r: &[crate::caps::Role]| -> Vec<&'static str> {
                    r.iter().map(|r| r.as_str()).collect()
                };
                record(
                    site,
                    Record::new(Event::RoleChanged, user.id, by).data(serde_json::json!({
                        "from": names(&old_roles),
                        "to": names(&user.roles),
                    })),
                )
                .await;
            }
            if password_changed {
                record(site, Record::new(Event::PasswordChanged, user.id, by)).await;
            }
            Ok(user)
        }
        Ok(false) => Err(WpError::rest_user_invalid_id()),
        Err(StoreError::Conflict(Conflict::UserEmail)) => Err(insert_error(
            "existing_user_email",
            "Sorry, that email address is already used!",
        )),
        Err(StoreError::Conflict(Conflict::UserNicename)) => Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_user_invalid_slug",
            "Invalid slug.",
        )),
        Err(e) => Err(e.into()),
    }
}

/// `wp_delete_user()`: revokes the user's Application Passwords and reassigns, trashes or
/// deletes their posts, all in one store transaction; then forgets the revoked tokens' pending
/// usage. `None` when the user did not exist.
pub async fn delete_user(
    site: &Site,
    id: i64,
    reassign: Option<i64>,
) -> Result<Option<DeletedUser>, WpError> {
    // Types deleted with their author (`delete_with_user`): custom types supporting authors.
    // `post` and `page` go to the trash instead, as `wp_delete_post()` does for them.
    let delete_types: Vec<String> = site
        .config
        .post_types
        .iter()
        .filter(|pt| !pt.builtin && pt.supports("author"))
        .map(|pt| pt.name.clone())
        .collect();
    let Some(done) = site
        .store
        .delete_user(id, reassign, &delete_types, now())
        .await?
    else {
        return Ok(None);
    };
    for uuid in &done.app_passwords {
        site.usage.forget(uuid);
    }
    tracing::info!(
        user_id = id,
        reassign = ?reassign,
        revoked = done.app_passwords.len(),
        trashed = done.trashed_posts.len(),
        deleted_posts = done.deleted_posts.len(),
        "user deleted"
    );
    Ok(Some(done))
}

/// Finds a user the way WP-CLI's user fetcher does: numeric ID, then login, then email.
pub async fn find_user(site: &Site, key: &str) -> Result<Option<User>, WpError> {
    if let Ok(id) = key.parse::<i64>()
        && let Some(u) = site.store.user_by_id(id).await?
    {
        return Ok(Some(u));
    }
    if let Some(u) = site.store.user_by_login(key).await? {
        return Ok(Some(u));
    }
    Ok(site.store.user_by_email(key).await?)
}

#[cfg(test)]
mod tests {
    use super::esc_url_raw;

    /// Inputs and what WordPress 6.1's `esc_url_raw()` returns for them, from the oracle:
    /// `php -r 'require "wp-load.php"; echo json_encode(array_map("esc_url_raw", $corpus));'`.
    #[test]
    fn esc_url_raw_matches_wordpress() {
        let corpus: &[(&str, &str)] = &[
            (
                "https://example.com/path?a=1&b=2#frag",
                "https://example.com/path?a=1&b=2#frag",
            ),
            ("example.com", "http://example.com"),
            ("www.example.com/a b", "http://www.example.com/a%20b"),
            ("  https://example.com  ", "https://example.com%20%20"),
            (
                "https://x/\"><script>alert(1)</script>",
                "https://x/scriptalert(1)/script",
            ),
            ("feed:javascript:alert(1)", ""),
            ("javascript:alert(1)", ""),
            ("JaVaScRiPt:alert(1)", ""),
            ("java\tscript:alert(1)", ""),
            ("jav&#x09;ascript:alert(1)", ""),
            (
                "javascript&colon;alert(1)",
                "http://javascript&colon;alert(1)",
            ),
            ("data:text/html,<script>alert(1)</script>", ""),
            ("vbscript:msgbox(1)", ""),
            (
                "http://example.com/%0d%0aSet-Cookie:x=1",
                "http://example.com/Set-Cookie:x=1",
            ),
            ("http://example.com/%0%0dd%0Aa", "http://example.com/a"),
            (
                "mailto:a@b.c?subject=%0d%0ahi",
                "mailto:a@b.c?subject=%0d%0ahi",
            ),
            ("mailto:someone@example.com", "mailto:someone@example.com"),
            ("tel:+1-555-0100", "tel:+1-555-0100"),
            (
                "ftp://ftp.example.com/file.txt",
                "ftp://ftp.example.com/file.txt",
            ),
            (
                "//example.com/proto-relative",
                "//example.com/proto-relative",
            ),
            ("/relative/path?x=1", "/relative/path?x=1"),
            ("#anchor", "#anchor"),
            ("?query=1", "?query=1"),
            ("index.php?p=1", "index.php?p=1"),
            ("foo.php", "foo.php"),
            ("http://[::1]:8080/path", "http://[::1]:8080/path"),
            (
                "http://example.com/a[0]=1&b[]=2",
                "http://example.com/a%5B0%5D=1&b%5B%5D=2",
            ),
            ("/path/with[brackets]", "/path/with%5Bbrackets%5D"),
            (
                "http://user:pass@example.com:8080/p[1]",
                "http://user:pass@example.com:8080/p%5B1%5D",
            ),
            (
                "https://example.com/ünïcödé/路径",
                "https://example.com/ünïcödé/路径",
            ),
            ("https://example.com/it's", "https://example.com/it's"),
            ("https://example.com/a;//b", "https://example.com/a://b"),
            ("http;//example.com", "http://example.com"),
            (
                "https://example.com/<b>bold</b>",
                "https://example.com/bbold/b",
            ),
            (
                "https://example.com/a\"onmouseover=\"alert(1)",
                "https://example.com/aonmouseover=alert(1)",
            ),
            (
                "https://example.com/{curly}^`|",
                "https://example.com/curly|",
            ),
            ("http://example.com/\u{0}null", "http://example.com/null"),
            ("http://example.com/a\\b", "http://example.com/ab"),
            ("   ", ""),
            ("", ""),
            ("http://", "http://"),
            ("unknown:thing", ""),
            ("x:y:z", ""),
            (
                "feed:http://example.com/feed",
                "feed:http://example.com/feed",
            ),
            ("irc6://irc.example.com", "irc6://irc.example.com"),
            ("https://example.com/?q=<>", "https://example.com/?q="),
            (
                "https://example.com/&amp;&lt;&#38;",
                "https://example.com/&amp;&lt;&#38;",
            ),
            (
                "http://example.com/?a=javascript:alert(1)",
                "http://example.com/?a=javascript:alert(1)",
            ),
            ("mailto:javascript:alert(1)", "mailto:javascript:alert(1)"),
            ("https://ex ample.com/a%20b", "https://ex%20ample.com/a%20b"),
            ("HTTP://EXAMPLE.COM/UPPER", "http://EXAMPLE.COM/UPPER"),
            (
                "https://example.com/*!$@,+~-_.",
                "https://example.com/*!$@,+~-_.",
            ),
            ("ht\ntp://example.com", "http://example.com"),
            ("&#106;avascript:alert(1)", ""),
            (
                "https://example.com/%3Cscript%3E",
                "https://example.com/%3Cscript%3E",
            ),
            // parse_url() corners of the bracket step, found by a differential run of 17,000
            // generated URLs against the oracle.
            ("//[", "//["),
            ("`//.php,]^", "//.php,]"),
            ("//-[::1]", "//-[::1%5D"),
            ("[d%0a-@%0d", "http://%5Bd-@"),
            ("//ftp[::1]&#0058;https", "//ftp[::1%5D&#0058;https"),
            ("//://]//%0a]\0?", "//://]//]?"),
            ("http://e.com:99999/[", "http://e.com:99999/%5B"),
        ];
        for (input, expected) in corpus {
            assert_eq!(esc_url_raw(input), *expected, "esc_url_raw({input:?})");
        }
    }

    /// `_deep_replace()` of `%0d`/`%0a` and the whitelist stay linear: a value built to make
    /// a repeated-pass implementation quadratic is handled in one pass.
    #[test]
    fn esc_url_raw_strips_nested_crlf_octets() {
        let nested = format!("http://e.com/{}{}", "%0".repeat(50_000), "d".repeat(50_000));
        assert_eq!(esc_url_raw(&nested), "http://e.com/");
    }
}
