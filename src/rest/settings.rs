//! `/wp/v2/settings`: `WP_REST_Settings_Controller` (`class-wp-rest-settings-controller.php`)
//! over the settings `register_initial_settings()` shows in REST. Values live in the
//! `option` table under WordPress's option names (`blogname`, `blogdescription`, …) and go
//! through `sanitize_option()` on the way in, as `update_option()` does.
//!
//! Nothing here is cached: every reader (the index, post dates, new posts) reads the options
//! per request, so a change is seen at once by every instance sharing the database; the
//! response cache of `src/cache.rs` is keyed by the database version, which the write moves.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::auth::Auth;
use crate::caps::Cap;
use crate::error::{WpError, WpResult};
use crate::site::Site;

use super::json_response;
use super::params::{Params, Validator};

pub fn routes() -> Router<Arc<Site>> {
    Router::new().route(
        "/wp/v2/settings",
        get(get_item)
            .post(update_item)
            .put(update_item)
            .patch(update_item),
    )
}

/// The REST type of a setting (its schema), which decides validation and how a stored
/// value is shown (`prepare_value()`).
#[derive(Clone, Copy)]
enum Ty {
    String,
    Integer,
    Boolean,
    /// `format: email`.
    Email,
    /// `format: uri`.
    Uri,
    Enum(&'static [&'static str]),
}

/// One registered setting: REST name, option name, type, and the schema default
/// (`get_option( $option, $default )` when the option does not exist).
struct Setting {
    name: &'static str,
    option: &'static str,
    ty: Ty,
    default: Option<&'static str>,
}

const OPEN_CLOSED: &[&str] = &["open", "closed"];

/// `register_initial_settings()`, in its order.
const SETTINGS: &[Setting] = &[
    s("title", "blogname", Ty::String, None),
    s("description", "blogdescription", Ty::String, None),
    s("url", "siteurl", Ty::Uri, None),
    s("email", "admin_email", Ty::Email, None),
    s("timezone", "timezone_string", Ty::String, None),
    s("date_format", "date_format", Ty::String, None),
    s("time_format", "time_format", Ty::String, None),
    s("start_of_week", "start_of_week", Ty::Integer, None),
    s("language", "WPLANG", Ty::String, Some("en_US")),
    s("use_smilies", "use_smilies", Ty::Boolean, Some("1")),
    s("default_category", "default_category", Ty::Integer, None),
    s(
        "default_post_format",
        "default_post_format",
        Ty::String,
        None,
    ),
    s("posts_per_page", "posts_per_page", Ty::Integer, Some("10")),
    s("show_on_front", "show_on_front", Ty::String, None),
    s("page_on_front", "page_on_front", Ty::Integer, None),
    s("page_for_posts", "page_for_posts", Ty::Integer, None),
    // Newer than 6.1: WordPress 7.0 (and the Gutenberg plugin before it) shows the privacy
    // policy page, which the editor labels beside the front and posts pages.
    s(
        "page_for_privacy_policy",
        "wp_page_for_privacy_policy",
        Ty::Integer,
        Some("0"),
    ),
    s(
        "default_ping_status",
        "default_ping_status",
        Ty::Enum(OPEN_CLOSED),
        None,
    ),
    s(
        "default_comment_status",
        "default_comment_status",
        Ty::Enum(OPEN_CLOSED),
        None,
    ),
    s("site_logo", "site_logo", Ty::Integer, None),
    s("site_icon", "site_icon", Ty::Integer, None),
];

/// (REST name, option name) of every setting the route exposes, in its order (the options
/// `ferropress option` reads and writes).
pub fn option_names() -> Vec<(&'static str, &'static str)> {
    SETTINGS.iter().map(|st| (st.name, st.option)).collect()
}

const fn s(
    name: &'static str,
    option: &'static str,
    ty: Ty,
    default: Option<&'static str>,
) -> Setting {
    Setting {
        name,
        option,
        ty,
        default,
    }
}

/// `timezone_identifiers_list( DateTimeZone::ALL_WITH_BC )` of PHP 8.2 (the oracle's), the
/// list `sanitize_option( 'timezone_string' )` accepts, without the three files of Debian's
/// system zone directory that are no zones (`leapseconds`, `tzdata.zi`, `localtime`).
static TIMEZONES: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("schemas/timezones.txt").lines().collect());

pub fn is_valid_timezone(name: &str) -> bool {
    TIMEZONES.contains(name)
}

/// `get_item_permissions_check()`, for both methods.
fn permissions_check(auth: &Auth) -> WpResult<()> {
    let actor = auth.actor();
    if actor.can(Cap::Primitive("manage_options")) {
        Ok(())
    } else {
        Err(WpError::rest_forbidden(actor.logged_in()))
    }
}

/// For `Allow`.
pub fn allowed(auth: &Auth) -> Vec<&'static str> {
    if permissions_check(auth).is_ok() {
        vec!["GET", "POST", "PUT", "PATCH"]
    } else {
        vec![]
    }
}

/// `rest_is_boolean()` on a stored string.
fn stored_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" => Some(true),
        "0" | "false" | "" => Some(false),
        _ => None,
    }
}

/// `prepare_value()`: the stored value if it is valid for the schema, else `null`.
fn prepare_value(site: &Site, st: &Setting, stored: Option<String>) -> Value {
    let value = match (stored, st.default) {
        (Some(v), _) => v,
        (None, Some(d)) => d.to_owned(),
        // The address ferropress serves at, until a client stores another one.
        (None, None) if st.option == "siteurl" => site.config.home.clone(),
        (None, None) => return Value::Null,
    };
    match st.ty {
        Ty::String | Ty::Uri => json!(value),
        Ty::Email => {
            if crate::formatting::is_email(&value) {
                json!(value)
            } else {
                Value::Null
            }
        }
        Ty::Integer => value
            .trim()
            .parse::<i64>()
            .map_or(Value::Null, |i| json!(i)),
        Ty::Boolean => stored_bool(&value).map_or(Value::Null, |b| json!(b)),
        Ty::Enum(allowed) => {
            if allowed.contains(&value.as_str()) {
                json!(value)
            } else {
                Value::Null
            }
        }
    }
}

/// `get_item()`.
async fn read_all(site: &Site) -> WpResult<Value> {
    let mut out = Map::new();
    for st in SETTINGS {
        let mut stored = site.store.get_option(st.option).await?;
        if stored.is_none() && st.option == "admin_email" {
            stored = first_administrator_email(site).await?;
        }
        out.insert(st.name.to_owned(), prepare_value(site, st, stored));
    }
    Ok(Value::Object(out))
}

/// WordPress's installer stores the installing administrator's address as `admin_email`;
/// ferropress makes its first administrator later (first run, CLI), so until the option is
/// written the oldest administrator's address stands for it.
async fn first_administrator_email(site: &Site) -> WpResult<Option<String>> {
    let q = crate::store::UserQuery {
        role_sets: vec![vec![crate::caps::Role::Administrator]],
        orderby: crate::store::UserOrderBy::Id,
        ascending: true,
        limit: 1,
        ..crate::store::UserQuery::default()
    };
    let (users, _) = site.store.query_users(&q).await?;
    Ok(users.into_iter().next().map(|u| u.email))
}

async fn get_item(State(site): State<Arc<Site>>, auth: Auth) -> WpResult<Response> {
    permissions_check(&auth)?;
    Ok(json_response(StatusCode::OK, &read_all(&site).await?))
}

/// A validated value to write (`None`: delete the option, as a `null` does).
type Update = (&'static Setting, Option<Value>);

/// The schema checks of the `EDITABLE` arguments (`rest_validate_request_arg`); a `null`
/// is not validated (`WP_REST_Request::has_valid_params()` skips it).
fn validate(params: &Params) -> WpResult<Vec<Update>> {
    let mut v = Validator::new(params);
    let mut updates = vec![];
    for st in SETTINGS {
        match params.get(st.name) {
            None => continue,
            Some(Value::Null) => {
                updates.push((st, None));
                continue;
            }
            Some(_) => {}
        }
        let value = match st.ty {
            Ty::String | Ty::Uri => v.string(st.name).map(Value::String),
            Ty::Email => v.string(st.name).and_then(|e| {
                if crate::formatting::is_email(&e) {
                    Some(Value::String(e))
                } else {
                    v.invalid(
                        st.name,
                        "rest_invalid_email",
                        "Invalid email address.".into(),
                        Value::Null,
                    );
                    None
                }
            }),
            Ty::Integer => v.integer(st.name).map(Value::from),
            Ty::Boolean => v.boolean(st.name).map(Value::Bool),
            Ty::Enum(allowed) => v.one_of(st.name, allowed).map(Value::from),
        };
        if let Some(value) = value {
            updates.push((st, Some(value)));
        }
    }
    v.finish()?;
    Ok(updates)
}

/// `absint()` on an integer.
fn absint(i: i64) -> i64 {
    i.saturating_abs()
}

/// `sanitize_option()` for the options of this controller: the value to store, or `None`
/// where WordPress records a settings error and keeps the old value.
pub(crate) fn sanitize_option(option: &str, value: &Value) -> Option<String> {
    let text = || match value {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "1".into(),
        Value::Bool(false) => String::new(),
        other => other.to_string(),
    };
    match option {
        "blogname" | "blogdescription" => Some(crate::kses::esc_html(&text())),
        "date_format" | "time_format" => Some(crate::kses::filter_kses(
            &crate::formatting::strip_tags(&text()),
        )),
        "admin_email" => {
            let e = text();
            crate::formatting::is_email(&e).then_some(e)
        }
        "siteurl" => {
            // The REST argument was already `sanitize_url()`d; `sanitize_option()` then wants
            // a scheme and a host (`#http(s?)://(.+)#i`).
            let url = crate::users::esc_url_raw(&text());
            let lower = url.to_ascii_lowercase();
            let has_host = ["http://", "https://"]
                .iter()
                .any(|p| lower.find(p).is_some_and(|i| url.len() > i + p.len()));
            has_host.then_some(url)
        }
        // XML-RPC's `time_zone` (wp.setOptions).
        "gmt_offset" => Some(
            text()
                .chars()
                .filter(|c| c.is_ascii_digit() || matches!(c, ':' | '.' | '-'))
                .collect(),
        ),
        "timezone_string" => {
            let tz = text();
            (tz.is_empty() || is_valid_timezone(&tz)).then_some(tz)
        }
        "WPLANG" => {
            // Only `en_US` is installed, which WordPress stores as the empty string; any
            // other locale is not available and the old value is kept.
            let lang = text();
            lang.is_empty().then_some(lang)
        }
        "posts_per_page" => {
            let mut n = value.as_i64().unwrap_or(0);
            if n == 0 {
                n = 1;
            }
            if n < -1 {
                n = n.saturating_abs();
            }
            Some(n.to_string())
        }
        "start_of_week" | "default_category" | "page_on_front" | "page_for_posts" | "site_icon" => {
            Some(absint(value.as_i64().unwrap_or(0)).to_string())
        }
        "default_ping_status" | "default_comment_status" => {
            let s = text();
            Some(if s.is_empty() || s == "0" {
                "closed".into()
            } else {
                s
            })
        }
        _ => Some(text()),
    }
}

/// `update_item()`: writes each given setting (a `null` deletes the option), then answers
/// as `get_item()`.
async fn update_item(
    State(site): State<Arc<Site>>,
    auth: Auth,
    params: Params,
) -> WpResult<Response> {
    let updates = validate(&params)?;
    permissions_check(&auth)?;
    for (st, value) in updates {
        match value {
            None => {
                // WordPress refuses to delete an option whose stored value would not
                // validate (`rest_invalid_stored_value`).
                let stored = site.store.get_option(st.option).await?;
                if stored.is_some() && prepare_value(&site, st, stored).is_null() {
                    return Err(WpError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "rest_invalid_stored_value",
                        format!(
                            "The {} property has an invalid stored value, and cannot be updated to null.",
                            st.name
                        ),
                    ));
                }
                site.store.delete_option(st.option).await?;
            }
            Some(value) => {
                if let Some(stored) = sanitize_option(st.option, &value) {
                    site.store.set_option(st.option, &stored).await?;
                }
            }
        }
    }
    Ok(json_response(StatusCode::OK, &read_all(&site).await?))
}

/// `get_option( 'default_category' )`: the category a post without one gets.
pub async fn default_category(site: &Site) -> WpResult<i64> {
    Ok(site
        .get_option("default_category")
        .await?
        .and_then(|v| v.trim().parse().ok())
        .filter(|&id: &i64| id > 0)
        .unwrap_or(super::terms::DEFAULT_CATEGORY))
}

/// `get_default_comment_status( $post_type, $comment_type )`: `closed` for pages, the
/// site's `default_{comment,ping}_status` for other types.
pub async fn default_comment_status(site: &Site, post_type: &str, ping: bool) -> WpResult<String> {
    if post_type == "page" {
        return Ok("closed".into());
    }
    let option = if ping {
        "default_ping_status"
    } else {
        "default_comment_status"
    };
    Ok(match site.get_option(option).await? {
        Some(v) if v == "closed" => "closed".into(),
        _ => "open".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_sanitized_as_wordpress_does() {
        // `sanitize_option()` outputs taken from the oracle (PHP).
        let s = "a & b <c> \"d\" 'e' &amp; &foo; &#39;";
        assert_eq!(
            sanitize_option("blogname", &json!(s)).as_deref(),
            Some("a &amp; b &lt;c&gt; &quot;d&quot; &#039;e&#039; &amp; &amp;foo; &#039;")
        );
        assert_eq!(
            sanitize_option("date_format", &json!("<b>x</b>")).as_deref(),
            Some("x")
        );
        assert_eq!(
            sanitize_option("posts_per_page", &json!(-5)).as_deref(),
            Some("5")
        );
        assert_eq!(
            sanitize_option("posts_per_page", &json!(0)).as_deref(),
            Some("1")
        );
        assert_eq!(
            sanitize_option("start_of_week", &json!(-3)).as_deref(),
            Some("3")
        );
        assert_eq!(
            sanitize_option("timezone_string", &json!("Mars/Olympus")),
            None
        );
        assert_eq!(
            sanitize_option("timezone_string", &json!("Europe/Paris")).as_deref(),
            Some("Europe/Paris")
        );
        assert_eq!(
            sanitize_option("siteurl", &json!("javascript:alert(1)")),
            None
        );
        assert_eq!(
            sanitize_option("siteurl", &json!("example.com/blog")).as_deref(),
            Some("http://example.com/blog")
        );
        assert_eq!(sanitize_option("admin_email", &json!("x@")), None);
    }

    #[test]
    fn every_listed_time_zone_is_known_to_jiff() {
        for tz in TIMEZONES.iter() {
            assert!(jiff::tz::TimeZone::get(tz).is_ok(), "{tz}");
        }
        assert!(is_valid_timezone("UTC") && !is_valid_timezone("utc"));
    }
}
