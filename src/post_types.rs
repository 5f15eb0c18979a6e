//! Post types and their registered meta (`register_post_type()`, `register_post_meta()`):
//! the built-in `post` and `page`, plus custom ones declared in `ferropress.toml` in the
//! data directory.
//!
//! ```toml
//! [[post_types]]
//! name = "book"               # sanitize_key, at most 20 characters
//! rest_base = "books"         # default: the name
//! hierarchical = false
//! capability_type = "post"    # or ["book", "books"] for its own capabilities
//! supports = ["title", "editor", "excerpt", "author", "custom-fields"]
//! labels = { name = "Books", singular_name = "Book" }
//!
//! [[meta]]
//! post_type = "book"          # or "post", "page"
//! key = "isbn"
//! type = "string"             # string, boolean, integer, number, array, object
//! single = true
//! default = ""
//! ```

use std::path::Path;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::caps::PostTypeCaps;

pub const CONFIG_FILE: &str = "ferropress.toml";

/// The built-in `attachment` type (`PostType::attachment()`).
pub static ATTACHMENT: std::sync::LazyLock<PostType> =
    std::sync::LazyLock::new(PostType::attachment);

/// A registered meta key, exposed in the `meta` field of its post type.
#[derive(Debug, Clone, PartialEq)]
pub struct MetaKey {
    pub key: String,
    pub ty: MetaType,
    pub single: bool,
    pub default: Value,
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetaType {
    String,
    Boolean,
    Integer,
    Number,
    Array,
    Object,
}

impl MetaType {
    pub fn as_str(self) -> &'static str {
        match self {
            MetaType::String => "string",
            MetaType::Boolean => "boolean",
            MetaType::Integer => "integer",
            MetaType::Number => "number",
            MetaType::Array => "array",
            MetaType::Object => "object",
        }
    }

    /// The empty value of the type, WordPress's default when none is registered.
    pub fn empty(self) -> Value {
        match self {
            MetaType::String => json!(""),
            MetaType::Boolean => json!(false),
            MetaType::Integer | MetaType::Number => json!(0),
            MetaType::Array => json!([]),
            MetaType::Object => json!({}),
        }
    }

    /// `rest_validate_value_from_schema()` for one value: the type's check, with
    /// WordPress's loose scalar forms ("1" for an integer, "true" for a boolean) coerced.
    pub fn coerce(self, v: &Value) -> Option<Value> {
        match (self, v) {
            (MetaType::String, Value::String(_)) => Some(v.clone()),
            (MetaType::String, Value::Number(n)) => Some(json!(n.to_string())),
            (MetaType::Boolean, Value::Bool(_)) => Some(v.clone()),
            (MetaType::Boolean, Value::String(s)) => match s.as_str() {
                "true" | "1" => Some(json!(true)),
                "false" | "0" | "" => Some(json!(false)),
                _ => None,
            },
            (MetaType::Boolean, Value::Number(n)) => match n.as_i64() {
                Some(1) => Some(json!(true)),
                Some(0) => Some(json!(false)),
                _ => None,
            },
            (MetaType::Integer, Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(|i| json!(i)),
            (MetaType::Integer, Value::String(s)) => s.trim().parse::<i64>().ok().map(|i| json!(i)),
            (MetaType::Number, Value::Number(_)) => Some(v.clone()),
            (MetaType::Number, Value::String(s)) => s.trim().parse::<f64>().ok().map(|f| json!(f)),
            (MetaType::Array, Value::Array(_)) | (MetaType::Object, Value::Object(_)) => {
                Some(v.clone())
            }
            _ => None,
        }
    }
}

/// A post type served by the posts controller.
#[derive(Debug, Clone)]
pub struct PostType {
    pub name: String,
    pub rest_base: String,
    pub hierarchical: bool,
    pub caps: PostTypeCaps,
    /// `post_type_supports()` features, in declaration order.
    pub supports: Vec<String>,
    /// `labels.name` and `labels.singular_name`, and any other label given.
    pub labels: Vec<(String, String)>,
    pub description: String,
    pub builtin: bool,
    pub meta: Vec<MetaKey>,
}

impl PostType {
    pub fn supports(&self, feature: &str) -> bool {
        self.supports.iter().any(|s| s == feature)
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn builtin(name: &str, rest_base: &str, hierarchical: bool, supports: &[&str]) -> Self {
        let (plural, singular) = if hierarchical {
            ("Pages", "Page")
        } else {
            ("Posts", "Post")
        };
        Self {
            name: name.into(),
            rest_base: rest_base.into(),
            hierarchical,
            caps: PostTypeCaps::for_plural(rest_base),
            supports: supports.iter().map(|s| (*s).to_owned()).collect(),
            labels: vec![
                ("name".into(), plural.into()),
                ("singular_name".into(), singular.into()),
            ],
            description: String::new(),
            builtin: true,
            // Registered by WordPress itself since 6.3 for the block editor's footnotes.
            meta: vec![MetaKey {
                key: "footnotes".into(),
                ty: MetaType::String,
                single: true,
                default: json!(""),
                description: String::new(),
            }],
        }
    }

    pub fn post() -> Self {
        Self::builtin(
            "post",
            "posts",
            false,
            &[
                "title",
                "editor",
                "author",
                "thumbnail",
                "excerpt",
                "trackbacks",
                "custom-fields",
                "comments",
                "revisions",
                "post-formats",
            ],
        )
    }

    /// `attachment`, served by the media controller at `/wp/v2/media` (not by the posts
    /// controller): creating one needs `upload_files`.
    pub fn attachment() -> Self {
        let mut caps = PostTypeCaps::for_plural("posts");
        caps.create_posts = "upload_files".into();
        Self {
            name: "attachment".into(),
            rest_base: "media".into(),
            hierarchical: false,
            caps,
            supports: vec!["title".into(), "author".into(), "comments".into()],
            labels: vec![
                ("name".into(), "Media".into()),
                ("singular_name".into(), "Media".into()),
            ],
            description: String::new(),
            builtin: true,
            meta: vec![],
        }
    }

    pub fn page() -> Self {
        Self::builtin(
            "page",
            "pages",
            true,
            &[
                "title",
                "editor",
                "author",
                "thumbnail",
                "page-attributes",
                "custom-fields",
                "comments",
                "revisions",
            ],
        )
    }
}

/// `get_post_type_labels()` of a non-hierarchical type with no labels of its own (6.1).
const POST_LABELS: &[(&str, &str)] = &[
    ("name", "Posts"),
    ("singular_name", "Post"),
    ("add_new", "Add New"),
    ("add_new_item", "Add New Post"),
    ("edit_item", "Edit Post"),
    ("new_item", "New Post"),
    ("view_item", "View Post"),
    ("view_items", "View Posts"),
    ("search_items", "Search Posts"),
    ("not_found", "No posts found."),
    ("not_found_in_trash", "No posts found in Trash."),
    ("parent_item_colon", ""),
    ("all_items", "All Posts"),
    ("archives", "Post Archives"),
    ("attributes", "Post Attributes"),
    ("insert_into_item", "Insert into post"),
    ("uploaded_to_this_item", "Uploaded to this post"),
    ("featured_image", "Featured image"),
    ("set_featured_image", "Set featured image"),
    ("remove_featured_image", "Remove featured image"),
    ("use_featured_image", "Use as featured image"),
    ("filter_items_list", "Filter posts list"),
    ("filter_by_date", "Filter by date"),
    ("items_list_navigation", "Posts list navigation"),
    ("items_list", "Posts list"),
    ("item_published", "Post published."),
    ("item_published_privately", "Post published privately."),
    ("item_reverted_to_draft", "Post reverted to draft."),
    ("item_scheduled", "Post scheduled."),
    ("item_updated", "Post updated."),
    ("item_link", "Post Link"),
    ("item_link_description", "A link to a post."),
    ("menu_name", "Posts"),
    ("name_admin_bar", "Post"),
];

/// The same for hierarchical types.
const PAGE_LABELS: &[(&str, &str)] = &[
    ("name", "Pages"),
    ("singular_name", "Page"),
    ("add_new", "Add New"),
    ("add_new_item", "Add New Page"),
    ("edit_item", "Edit Page"),
    ("new_item", "New Page"),
    ("view_item", "View Page"),
    ("view_items", "View Pages"),
    ("search_items", "Search Pages"),
    ("not_found", "No pages found."),
    ("not_found_in_trash", "No pages found in Trash."),
    ("parent_item_colon", "Parent Page:"),
    ("all_items", "All Pages"),
    ("archives", "Page Archives"),
    ("attributes", "Page Attributes"),
    ("insert_into_item", "Insert into page"),
    ("uploaded_to_this_item", "Uploaded to this page"),
    ("featured_image", "Featured image"),
    ("set_featured_image", "Set featured image"),
    ("remove_featured_image", "Remove featured image"),
    ("use_featured_image", "Use as featured image"),
    ("filter_items_list", "Filter pages list"),
    ("filter_by_date", "Filter by date"),
    ("items_list_navigation", "Pages list navigation"),
    ("items_list", "Pages list"),
    ("item_published", "Page published."),
    ("item_published_privately", "Page published privately."),
    ("item_reverted_to_draft", "Page reverted to draft."),
    ("item_scheduled", "Page scheduled."),
    ("item_updated", "Page updated."),
    ("item_link", "Page Link"),
    ("item_link_description", "A link to a page."),
    ("menu_name", "Pages"),
    ("name_admin_bar", "Page"),
];

/// `attachment`'s labels as `create_initial_post_types()` registers them.
const ATTACHMENT_LABELS: &[(&str, &str)] = &[
    ("name", "Media"),
    ("singular_name", "Media"),
    ("add_new", "Add New"),
    ("add_new_item", "Add New Post"),
    ("edit_item", "Edit Media"),
    ("new_item", "New Post"),
    ("view_item", "View Attachment Page"),
    ("view_items", "View Posts"),
    ("search_items", "Search Posts"),
    ("not_found", "No posts found."),
    ("not_found_in_trash", "No posts found in Trash."),
    ("parent_item_colon", ""),
    ("all_items", "Media"),
    ("archives", "Media"),
    ("attributes", "Attachment Attributes"),
    ("insert_into_item", "Insert into post"),
    ("uploaded_to_this_item", "Uploaded to this post"),
    ("featured_image", "Featured image"),
    ("set_featured_image", "Set featured image"),
    ("remove_featured_image", "Remove featured image"),
    ("use_featured_image", "Use as featured image"),
    ("filter_items_list", "Filter posts list"),
    ("filter_by_date", "Filter by date"),
    ("items_list_navigation", "Posts list navigation"),
    ("items_list", "Posts list"),
    ("item_published", "Post published."),
    ("item_published_privately", "Post published privately."),
    ("item_reverted_to_draft", "Post reverted to draft."),
    ("item_scheduled", "Post scheduled."),
    ("item_updated", "Post updated."),
    ("item_link", "Post Link"),
    ("item_link_description", "A link to a post."),
    ("menu_name", "Media"),
    ("name_admin_bar", "Media"),
];

impl PostType {
    /// Every label, as `get_post_type_labels()` fills them: WordPress's defaults for posts or
    /// pages, the type's own labels over them, then `menu_name`, `all_items`, `archives` and
    /// `name_admin_bar` derived from those when not given.
    pub fn all_labels(&self) -> Vec<(String, String)> {
        let defaults = match (self.name.as_str(), self.hierarchical) {
            ("attachment", _) => ATTACHMENT_LABELS,
            (_, true) => PAGE_LABELS,
            (_, false) => POST_LABELS,
        };
        let own = |k: &str| {
            self.labels
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let mut out: Vec<(String, String)> = defaults
            .iter()
            .map(|(k, v)| ((*k).to_owned(), own(k).unwrap_or_else(|| (*v).to_owned())))
            .collect();
        if !self.builtin {
            let name = own("name").unwrap_or_default();
            let singular = own("singular_name").unwrap_or_else(|| name.clone());
            let menu = own("menu_name").unwrap_or_else(|| name.clone());
            let all = own("all_items").unwrap_or_else(|| menu.clone());
            for (k, v) in &mut out {
                match k.as_str() {
                    "menu_name" => *v = menu.clone(),
                    "all_items" => *v = all.clone(),
                    "archives" => *v = own("archives").unwrap_or_else(|| all.clone()),
                    "name_admin_bar" => {
                        *v = own("name_admin_bar").unwrap_or_else(|| singular.clone());
                    }
                    _ => {}
                }
            }
        }
        out
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    post_types: Vec<PostTypeConfig>,
    #[serde(default)]
    meta: Vec<MetaConfig>,
    /// Read by `crate::webhooks`.
    #[serde(default)]
    #[allow(dead_code)]
    webhooks: Vec<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostTypeConfig {
    name: String,
    rest_base: Option<String>,
    #[serde(default)]
    hierarchical: bool,
    capability_type: Option<CapabilityType>,
    supports: Option<Vec<String>>,
    #[serde(default)]
    labels: toml::Table,
    #[serde(default)]
    description: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum CapabilityType {
    One(String),
    Pair(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetaConfig {
    post_type: String,
    key: String,
    #[serde(rename = "type")]
    ty: MetaType,
    #[serde(default)]
    single: bool,
    default: Option<toml::Value>,
    #[serde(default)]
    description: String,
}

/// Route bases WordPress (or ferropress) already uses under `wp/v2`.
const RESERVED_BASES: &[&str] = &[
    "posts",
    "pages",
    "media",
    "users",
    "types",
    "statuses",
    "taxonomies",
    "categories",
    "tags",
    "comments",
    "search",
    "settings",
    "themes",
    "plugins",
    "blocks",
    "block-types",
    "menus",
    "menu-items",
    "sidebars",
    "widgets",
];

/// The post types of a site: `post`, `page`, then those of `ferropress.toml` in the data dir.
pub fn load(data_dir: &Path) -> anyhow::Result<Vec<PostType>> {
    let path = data_dir.join(CONFIG_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(anyhow::anyhow!("reading {}: {e}", path.display())),
    };
    parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

pub fn parse(text: &str) -> anyhow::Result<Vec<PostType>> {
    let file: ConfigFile = toml::from_str(text)?;
    let mut types = vec![PostType::post(), PostType::page()];
    for c in file.post_types {
        let name = c.name.trim().to_owned();
        let valid_name = !name.is_empty()
            && name.len() <= 20
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !valid_name {
            anyhow::bail!(
                "post type name {name:?}: 1 to 20 characters of lowercase letters, digits, '-' or '_'"
            );
        }
        let rest_base = c.rest_base.unwrap_or_else(|| name.clone());
        let valid_base = !rest_base.is_empty()
            && rest_base
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !valid_base {
            anyhow::bail!(
                "post type {name}: rest_base {rest_base:?} must be lowercase letters, digits, '-' or '_'"
            );
        }
        if types.iter().any(|t| t.name == name) {
            anyhow::bail!("post type {name} is declared twice (or is built in)");
        }
        if RESERVED_BASES.contains(&rest_base.as_str())
            || types.iter().any(|t| t.rest_base == rest_base)
        {
            anyhow::bail!("post type {name}: rest_base {rest_base:?} is already a route");
        }
        let caps = match c.capability_type {
            None => PostTypeCaps::for_plural("posts"),
            Some(CapabilityType::One(s)) => PostTypeCaps::for_plural(&format!("{s}s")),
            Some(CapabilityType::Pair(p)) if p.len() == 2 => PostTypeCaps::for_plural(&p[1]),
            Some(CapabilityType::Pair(_)) => {
                anyhow::bail!("post type {name}: capability_type is \"x\" or [\"x\", \"xs\"]")
            }
        };
        let mut labels: Vec<(String, String)> = vec![];
        for (k, v) in &c.labels {
            let Some(s) = v.as_str() else {
                anyhow::bail!("post type {name}: label {k} must be a string");
            };
            labels.push((k.clone(), s.to_owned()));
        }
        let singular_default = if c.hierarchical { "Page" } else { "Post" };
        let plural_default = if c.hierarchical { "Pages" } else { "Posts" };
        if !labels.iter().any(|(k, _)| k == "name") {
            labels.insert(0, ("name".into(), plural_default.into()));
        }
        if !labels.iter().any(|(k, _)| k == "singular_name") {
            let plural = labels
                .iter()
                .find(|(k, _)| k == "name")
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| singular_default.into());
            labels.insert(1, ("singular_name".into(), plural));
        }
        types.push(PostType {
            name,
            rest_base,
            hierarchical: c.hierarchical,
            caps,
            supports: c
                .supports
                .unwrap_or_else(|| vec!["title".into(), "editor".into()]),
            labels,
            description: c.description,
            builtin: false,
            meta: vec![],
        });
    }
    for m in file.meta {
        let Some(pt) = types.iter_mut().find(|t| t.name == m.post_type) else {
            anyhow::bail!("meta {}: unknown post type {}", m.key, m.post_type);
        };
        if m.key.is_empty() || m.key.starts_with('_') {
            anyhow::bail!(
                "meta key {:?}: protected or empty keys are not exposed",
                m.key
            );
        }
        let default = match m.default {
            None => {
                if m.single {
                    m.ty.empty()
                } else {
                    json!([])
                }
            }
            Some(v) => {
                let json = serde_json::to_value(&v)?;
                let ok = if m.single {
                    m.ty.coerce(&json)
                } else {
                    json.as_array()
                        .map(|a| a.iter().all(|x| m.ty.coerce(x).is_some()))
                        .and_then(|ok| ok.then(|| json.clone()))
                };
                ok.ok_or_else(|| {
                    anyhow::anyhow!("meta {}: default is not of type {}", m.key, m.ty.as_str())
                })?
            }
        };
        pt.meta.retain(|k| k.key != m.key);
        pt.meta.push(MetaKey {
            key: m.key,
            ty: m.ty,
            single: m.single,
            default,
            description: m.description,
        });
    }
    Ok(types)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_types_and_meta() {
        let types = parse(
            r#"
            [[post_types]]
            name = "book"
            rest_base = "books"
            capability_type = ["book", "books"]
            supports = ["title", "custom-fields"]
            labels = { name = "Books", singular_name = "Book" }

            [[meta]]
            post_type = "book"
            key = "isbn"
            type = "string"
            single = true

            [[meta]]
            post_type = "post"
            key = "rating"
            type = "integer"
            single = true
            default = 3
            "#,
        )
        .expect("parses");
        let book = &types[2];
        assert_eq!(
            (book.name.as_str(), book.rest_base.as_str()),
            ("book", "books")
        );
        assert_eq!(book.caps.edit_posts, "edit_books");
        assert_eq!(book.label("singular_name"), Some("Book"));
        assert_eq!(book.meta[0].default, json!(""));
        assert_eq!(types[0].meta[1].default, json!(3));
    }

    #[test]
    fn refusals() {
        for bad in [
            "[[post_types]]\nname = \"Has Space\"",
            "[[post_types]]\nname = \"x\"\nrest_base = \"users\"",
            "[[post_types]]\nname = \"post\"",
            "[[meta]]\npost_type = \"nope\"\nkey = \"k\"\ntype = \"string\"",
            "[[meta]]\npost_type = \"post\"\nkey = \"k\"\ntype = \"integer\"\nsingle = true\ndefault = \"x\"",
            "unknown = 1",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
