//! `wp.getOptions` and `wp.setOptions` (`initialise_blog_option_info()`, `_getOptions()`):
//! what the WordPress apps read after logging in. Writable options are written through the
//! settings route's sanitizers (`sanitize_option()`).

use serde_json::Value as Json;

use crate::caps::Cap;

use super::blog::{actor_can, credentials};
use super::{Fault, RpcResult, Server, Value};

/// Where an option's value comes from.
enum Source {
    Fixed(&'static str),
    Computed(fn(&str) -> String),
    /// An option of the database, with the value a new site has when it was never written.
    Option(&'static str, Option<&'static str>),
    /// WordPress's option, which ferropress does not make writable (docs/compat.md).
    Constant(&'static str),
}

/// `$this->blog_options`, in order: name, description, writable by administrators, source.
const BLOG_OPTIONS: &[(&str, &str, bool, Source)] = &[
    (
        "software_name",
        "Software Name",
        false,
        Source::Fixed("WordPress"),
    ),
    (
        "software_version",
        "Software Version",
        false,
        Source::Fixed(WORDPRESS_VERSION),
    ),
    (
        "blog_url",
        "WordPress Address (URL)",
        false,
        Source::Computed(|home| home.to_owned()),
    ),
    (
        "home_url",
        "Site Address (URL)",
        false,
        Source::Computed(|home| home.to_owned()),
    ),
    (
        "login_url",
        "Login Address (URL)",
        false,
        Source::Computed(|home| format!("{home}/wp-login.php")),
    ),
    (
        "admin_url",
        "The URL to the admin area",
        false,
        Source::Computed(|home| format!("{home}/wp-admin/")),
    ),
    (
        "image_default_link_type",
        "Image default link type",
        false,
        Source::Fixed("none"),
    ),
    (
        "image_default_size",
        "Image default size",
        false,
        Source::Fixed(""),
    ),
    (
        "image_default_align",
        "Image default align",
        false,
        Source::Fixed(""),
    ),
    (
        "template",
        "Template",
        false,
        Source::Fixed(crate::rest::themes::STYLESHEET),
    ),
    (
        "stylesheet",
        "Stylesheet",
        false,
        Source::Fixed(crate::rest::themes::STYLESHEET),
    ),
    ("post_thumbnail", "Post Thumbnail", false, Source::Fixed("")),
    (
        "time_zone",
        "Time Zone",
        true,
        Source::Option("gmt_offset", Some("0")),
    ),
    (
        "blog_title",
        "Site Title",
        true,
        Source::Option("blogname", None),
    ),
    (
        "blog_tagline",
        "Site Tagline",
        true,
        Source::Option("blogdescription", Some("")),
    ),
    (
        "date_format",
        "Date Format",
        true,
        Source::Option("date_format", None),
    ),
    (
        "time_format",
        "Time Format",
        true,
        Source::Option("time_format", None),
    ),
    (
        "users_can_register",
        "Allow new users to sign up",
        true,
        Source::Constant("0"),
    ),
    (
        "thumbnail_size_w",
        "Thumbnail Width",
        true,
        Source::Constant("150"),
    ),
    (
        "thumbnail_size_h",
        "Thumbnail Height",
        true,
        Source::Constant("150"),
    ),
    (
        "thumbnail_crop",
        "Crop thumbnail to exact dimensions",
        true,
        Source::Constant("1"),
    ),
    (
        "medium_size_w",
        "Medium size image width",
        true,
        Source::Constant("300"),
    ),
    (
        "medium_size_h",
        "Medium size image height",
        true,
        Source::Constant("300"),
    ),
    (
        "medium_large_size_w",
        "Medium-Large size image width",
        true,
        Source::Constant("768"),
    ),
    (
        "medium_large_size_h",
        "Medium-Large size image height",
        true,
        Source::Constant("0"),
    ),
    (
        "large_size_w",
        "Large size image width",
        true,
        Source::Constant("1024"),
    ),
    (
        "large_size_h",
        "Large size image height",
        true,
        Source::Constant("1024"),
    ),
    (
        "default_comment_status",
        "Allow people to submit comments on new posts.",
        true,
        Source::Option("default_comment_status", None),
    ),
    (
        "default_ping_status",
        "Allow link notifications from other blogs (pingbacks and trackbacks) on new posts.",
        true,
        Source::Option("default_ping_status", None),
    ),
];

/// The WordPress release whose behaviour ferropress's APIs follow, for clients that check it.
pub const WORDPRESS_VERSION: &str = "6.1.9";

/// `_getOptions()`: the named options (all when none are named), read-only for users who may
/// not `manage_options`.
async fn get_options(s: &Server<'_>, names: &[String], can_manage: bool) -> RpcResult {
    let home = &s.site.config.home;
    let mut out = Vec::new();
    for name in names {
        let Some((key, desc, writable, source)) = BLOG_OPTIONS.iter().find(|(k, ..)| k == name)
        else {
            continue;
        };
        let value = match source {
            // current_theme_supports( 'post-thumbnails' ): the built-in theme does.
            Source::Fixed("") if *key == "post_thumbnail" => Value::Bool(true),
            Source::Fixed(v) | Source::Constant(v) => Value::str(*v),
            Source::Computed(f) => Value::String(f(home)),
            Source::Option(option, default) => match s.site.store.get_option(option).await? {
                Some(v) => Value::String(v),
                None => default.map_or(Value::Bool(false), Value::str),
            },
        };
        let writable = *writable && !matches!(source, Source::Constant(_)) && can_manage;
        out.push((
            (*key).to_owned(),
            Value::object([
                ("desc", Value::str(*desc)),
                ("readonly", Value::Bool(!writable)),
                ("value", value),
            ]),
        ));
    }
    Ok(Value::Struct(out))
}

fn names_of(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a.iter().map(Value::as_php_string).collect(),
        Some(Value::Struct(m)) => m.iter().map(|(_, v)| v.as_php_string()).collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => vec![],
    }
}

/// `wp.getOptions( blog_id, username, password, options )`.
pub async fn get(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let mut names = names_of(args.get(3));
    let user = s.login(&username, &password).await?;
    if names.is_empty() {
        names = BLOG_OPTIONS.iter().map(|(k, ..)| (*k).to_owned()).collect();
    }
    get_options(
        s,
        &names,
        actor_can(&user, Cap::Primitive("manage_options")),
    )
    .await
}

/// `wp.setOptions( blog_id, username, password, options )`: writes the writable ones, then
/// answers as `wp.getOptions` for every name given.
pub async fn set(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    let (username, password) = credentials(args, 1);
    let user = s.login(&username, &password).await?;
    if !actor_can(&user, Cap::Primitive("manage_options")) {
        return Err(Fault::new(
            403,
            "Sorry, you are not allowed to update options.",
        ));
    }
    let mut names = Vec::new();
    if let Some(Value::Struct(options)) = args.get(3) {
        for (name, value) in options {
            names.push(name.clone());
            let Some((_, _, true, Source::Option(option, _))) =
                BLOG_OPTIONS.iter().find(|(k, ..)| k == name)
            else {
                continue;
            };
            let json = Json::String(value.as_php_string());
            if let Some(v) = crate::rest::settings::sanitize_option(option, &json) {
                s.site.store.set_option(option, &v).await?;
            }
        }
    }
    get_options(s, &names, true).await
}
