//! Roles, capabilities and `map_meta_cap`: the one place where permissions are decided.
//!
//! Mirrors `wp-admin/includes/schema.php` (`populate_roles*`) for the role capability lists
//! and `wp-includes/capabilities.php` (`map_meta_cap`, `user_can`) for meta capabilities.

use std::fmt;
use std::str::FromStr;

/// The five default WordPress roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Administrator,
    Editor,
    Author,
    Contributor,
    Subscriber,
}

const ADMINISTRATOR: &[&str] = &[
    "switch_themes",
    "edit_themes",
    "activate_plugins",
    "edit_plugins",
    "edit_users",
    "edit_files",
    "manage_options",
    "moderate_comments",
    "manage_categories",
    "manage_links",
    "upload_files",
    "import",
    "unfiltered_html",
    "edit_posts",
    "edit_others_posts",
    "edit_published_posts",
    "publish_posts",
    "edit_pages",
    "read",
    "level_10",
    "level_9",
    "level_8",
    "level_7",
    "level_6",
    "level_5",
    "level_4",
    "level_3",
    "level_2",
    "level_1",
    "level_0",
    "edit_others_pages",
    "edit_published_pages",
    "publish_pages",
    "delete_pages",
    "delete_others_pages",
    "delete_published_pages",
    "delete_posts",
    "delete_others_posts",
    "delete_published_posts",
    "delete_private_posts",
    "edit_private_posts",
    "read_private_posts",
    "delete_private_pages",
    "edit_private_pages",
    "read_private_pages",
    "delete_users",
    "create_users",
    "unfiltered_upload",
    "edit_dashboard",
    "update_plugins",
    "delete_plugins",
    "install_plugins",
    "update_themes",
    "install_themes",
    "update_core",
    "list_users",
    "remove_users",
    "promote_users",
    "edit_theme_options",
    "delete_themes",
    "export",
];

const EDITOR: &[&str] = &[
    "moderate_comments",
    "manage_categories",
    "manage_links",
    "upload_files",
    "unfiltered_html",
    "edit_posts",
    "edit_others_posts",
    "edit_published_posts",
    "publish_posts",
    "edit_pages",
    "read",
    "level_7",
    "level_6",
    "level_5",
    "level_4",
    "level_3",
    "level_2",
    "level_1",
    "level_0",
    "edit_others_pages",
    "edit_published_pages",
    "publish_pages",
    "delete_pages",
    "delete_others_pages",
    "delete_published_pages",
    "delete_posts",
    "delete_others_posts",
    "delete_published_posts",
    "delete_private_posts",
    "edit_private_posts",
    "read_private_posts",
    "delete_private_pages",
    "edit_private_pages",
    "read_private_pages",
];

const AUTHOR: &[&str] = &[
    "upload_files",
    "edit_posts",
    "edit_published_posts",
    "publish_posts",
    "read",
    "level_2",
    "level_1",
    "level_0",
    "delete_posts",
    "delete_published_posts",
];

const CONTRIBUTOR: &[&str] = &["edit_posts", "read", "level_1", "level_0", "delete_posts"];

const SUBSCRIBER: &[&str] = &["read", "level_0"];

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Administrator,
        Role::Editor,
        Role::Author,
        Role::Contributor,
        Role::Subscriber,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Editor => "editor",
            Role::Author => "author",
            Role::Contributor => "contributor",
            Role::Subscriber => "subscriber",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Role::Administrator => "Administrator",
            Role::Editor => "Editor",
            Role::Author => "Author",
            Role::Contributor => "Contributor",
            Role::Subscriber => "Subscriber",
        }
    }

    /// The role's primitive capabilities, in the order `populate_roles` adds them.
    pub fn caps(self) -> &'static [&'static str] {
        match self {
            Role::Administrator => ADMINISTRATOR,
            Role::Editor => EDITOR,
            Role::Author => AUTHOR,
            Role::Contributor => CONTRIBUTOR,
            Role::Subscriber => SUBSCRIBER,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("The role {s} does not exist."))
    }
}

/// Who is asking: a logged-in user (id ≥ 1 with roles) or nobody (id 0, no caps at all).
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub id: i64,
    pub roles: &'a [Role],
}

impl Actor<'_> {
    pub const ANONYMOUS: Actor<'static> = Actor { id: 0, roles: &[] };

    pub fn logged_in(&self) -> bool {
        self.id > 0
    }

    /// Whether the actor holds a primitive capability (or a role name, as WordPress's
    /// `has_cap` also answers for the role key).
    pub fn has_primitive(&self, cap: &str) -> bool {
        if cap == "exist" {
            return true;
        }
        if cap == "do_not_allow" || !self.logged_in() {
            return false;
        }
        let held = |c: &str| {
            self.roles
                .iter()
                .any(|r| r.as_str() == c || r.caps().contains(&c))
        };
        held(cap) || post_equivalent(cap).is_some_and(|c| held(&c))
    }

    /// `user_can( $user, $cap, ...$args )`: maps the capability, then requires every primitive.
    pub fn can(&self, cap: Cap<'_>) -> bool {
        if !self.logged_in() {
            return false;
        }
        map_meta_cap(cap, self)
            .iter()
            .all(|c| self.has_primitive(c))
    }
}

/// Prefixes of the primitive capabilities a `capability_type` generates.
const POST_CAP_PREFIXES: &[&str] = &[
    "edit_others_",
    "edit_private_",
    "edit_published_",
    "read_private_",
    "delete_others_",
    "delete_private_",
    "delete_published_",
    "publish_",
    "edit_",
    "delete_",
];

/// A custom post type's own capability (`edit_books`) is held by the roles that hold the
/// posts one (`edit_posts`). WordPress grants such capabilities to no role until a plugin
/// adds them; ferropress has no such plugin, so it grants them as for posts
/// (docs/compat.md).
fn post_equivalent(cap: &str) -> Option<String> {
    // The longest prefix decides (`edit_published_posts` is not `edit_` + `published_posts`).
    let p = POST_CAP_PREFIXES.iter().find(|p| cap.starts_with(**p))?;
    {
        let plural = &cap[p.len()..];
        let custom = !plural.is_empty()
            && !matches!(
                plural,
                "posts" | "pages" | "users" | "others_posts" | "themes"
            )
            && plural
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        // Only names of the shape a capability_type makes; user/theme/plugin caps are not.
        let known_other = matches!(
            cap,
            "edit_users"
                | "delete_users"
                | "edit_theme_options"
                | "edit_dashboard"
                | "edit_files"
                | "edit_plugins"
                | "edit_themes"
                | "delete_plugins"
                | "delete_themes"
                | "delete_site"
        );
        (custom && !known_other && plural.ends_with('s')).then(|| format!("{p}posts"))
    }
}

/// Capability names of a post type (`get_post_type_capabilities`), from its `capability_type`.
#[derive(Debug, Clone)]
pub struct PostTypeCaps {
    pub edit_posts: String,
    pub edit_others_posts: String,
    pub edit_private_posts: String,
    pub edit_published_posts: String,
    pub publish_posts: String,
    pub read_private_posts: String,
    pub delete_posts: String,
    pub delete_private_posts: String,
    pub delete_published_posts: String,
    pub delete_others_posts: String,
    /// `create_posts` defaults to `edit_posts`.
    pub create_posts: String,
}

impl PostTypeCaps {
    /// Capabilities for `capability_type` `(singular, plural)`, e.g. `("post","posts")`.
    pub fn for_plural(plural: &str) -> Self {
        let c = |prefix: &str| format!("{prefix}_{plural}");
        Self {
            edit_posts: c("edit"),
            edit_others_posts: c("edit_others"),
            edit_private_posts: c("edit_private"),
            edit_published_posts: c("edit_published"),
            publish_posts: c("publish"),
            read_private_posts: c("read_private"),
            delete_posts: c("delete"),
            delete_private_posts: c("delete_private"),
            delete_published_posts: c("delete_published"),
            delete_others_posts: c("delete_others"),
            create_posts: c("edit"),
        }
    }
}

/// What `map_meta_cap` needs to know about a post.
#[derive(Debug, Clone, Copy)]
pub struct PostRef<'a> {
    pub author: i64,
    pub status: &'a str,
    /// For trashed posts, the status before trashing (`_wp_trash_meta_status`).
    pub pre_trash_status: Option<&'a str>,
    pub caps: &'a PostTypeCaps,
}

/// A capability check, with the arguments its meta capability takes.
#[derive(Debug, Clone, Copy)]
pub enum Cap<'a> {
    /// A primitive capability such as `list_users`, or a post type capability name.
    Primitive(&'a str),
    EditPost(PostRef<'a>),
    ReadPost(PostRef<'a>),
    DeletePost(PostRef<'a>),
    /// `edit_user` on a target user id.
    EditUser(i64),
    DeleteUser(i64),
    PromoteUser(i64),
    CreateUsers,
    /// `edit_comment`: the comment's post (`None` for an orphaned comment, whose post is
    /// gone or 0). Also decides who may moderate, trash and delete the comment.
    EditComment(Option<PostRef<'a>>),
    /// All application-password meta caps (`create_app_password`, `list_app_passwords`,
    /// `read_app_password`, `edit_app_password`, `delete_app_password(s)`) map to `edit_user`.
    ManageAppPasswords(i64),
}

fn is_published(status: &str) -> bool {
    matches!(status, "publish" | "future")
}

/// `WP_REST_Themes_Controller::check_read_active_theme_permission()`: the active theme may
/// be read by anyone who can edit posts of some type (`edit_posts_caps`: each REST post
/// type's `edit_posts` capability).
pub fn can_read_active_theme<'c>(
    actor: &Actor<'_>,
    edit_posts_caps: impl IntoIterator<Item = &'c str>,
) -> bool {
    actor.can(Cap::Primitive("edit_posts"))
        || edit_posts_caps
            .into_iter()
            .any(|c| actor.can(Cap::Primitive(c)))
}

/// Reading the audit log (`ferropress/v1/audit`, the Activity table): every entry with
/// `edit_users` (administrators), else only those about oneself (`target`: the account the
/// entries are about; `None`: all accounts).
pub fn can_read_audit_log(actor: &Actor<'_>, target: Option<i64>) -> bool {
    if !actor.logged_in() {
        return false;
    }
    actor.can(Cap::Primitive("edit_users")) || target == Some(actor.id)
}

/// Seeing every installed theme (`switch_themes`; `manage_network_themes` is multisite's).
pub fn can_view_themes(actor: &Actor<'_>) -> bool {
    actor.can(Cap::Primitive("switch_themes"))
}

/// `map_meta_cap()`: the primitive capabilities a check requires. `do_not_allow` denies.
pub fn map_meta_cap(cap: Cap<'_>, actor: &Actor<'_>) -> Vec<String> {
    match cap {
        Cap::Primitive(c) => vec![c.to_owned()],
        Cap::EditPost(p) => edit_post_caps(p, actor),
        Cap::DeletePost(p) => {
            let c = p.caps;
            if p.author == actor.id && p.author != 0 {
                let was_published = is_published(p.status)
                    || (p.status == "trash" && p.pre_trash_status.is_some_and(is_published));
                if was_published {
                    vec![c.delete_published_posts.clone()]
                } else {
                    vec![c.delete_posts.clone()]
                }
            } else {
                let mut v = vec![c.delete_others_posts.clone()];
                if is_published(p.status) {
                    v.push(c.delete_published_posts.clone());
                } else if p.status == "private" {
                    v.push(c.delete_private_posts.clone());
                }
                v
            }
        }
        Cap::ReadPost(p) => {
            if p.status == "publish" {
                vec!["read".into()]
            } else if p.author == actor.id && p.author != 0 {
                vec!["read".into()]
            } else if p.status == "private" {
                vec![p.caps.read_private_posts.clone()]
            } else {
                edit_post_caps(p, actor)
            }
        }
        Cap::EditUser(target) | Cap::ManageAppPasswords(target) => {
            if !actor.logged_in() {
                vec!["do_not_allow".into()]
            } else if target == actor.id {
                // Editing oneself requires nothing.
                vec![]
            } else {
                vec!["edit_users".into()]
            }
        }
        // `edit_comment` is `edit_post` on the comment's post; an orphaned comment falls
        // back to `edit_posts`.
        Cap::EditComment(Some(p)) => edit_post_caps(p, actor),
        Cap::EditComment(None) => vec!["edit_posts".into()],
        Cap::DeleteUser(_) => vec!["delete_users".into()],
        Cap::PromoteUser(_) => vec!["promote_users".into()],
        Cap::CreateUsers => vec!["create_users".into()],
    }
}

fn edit_post_caps(p: PostRef<'_>, actor: &Actor<'_>) -> Vec<String> {
    let c = p.caps;
    if p.author == actor.id && p.author != 0 {
        let was_published = is_published(p.status)
            || (p.status == "trash" && p.pre_trash_status.is_some_and(is_published));
        if was_published {
            vec![c.edit_published_posts.clone()]
        } else {
            vec![c.edit_posts.clone()]
        }
    } else {
        let mut v = vec![c.edit_others_posts.clone()];
        if is_published(p.status) {
            v.push(c.edit_published_posts.clone());
        } else if p.status == "private" {
            v.push(c.edit_private_posts.clone());
        }
        v
    }
}

/// Who may use Application Passwords (`wp_is_application_passwords_available_for_user`).
/// WordPress's default is everyone; ferropress's product default gates on `edit_posts`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AppPasswordGate {
    /// Every role, as WordPress without filters.
    All,
    /// Users who can `edit_posts` (contributor and up).
    #[default]
    EditPosts,
    /// Administrators only (users with `manage_options`).
    Administrators,
}

impl AppPasswordGate {
    pub fn allows(self, roles: &[Role]) -> bool {
        let actor = Actor {
            id: i64::MAX,
            roles,
        };
        match self {
            AppPasswordGate::All => true,
            AppPasswordGate::EditPosts => actor.has_primitive("edit_posts"),
            AppPasswordGate::Administrators => actor.has_primitive("manage_options"),
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn custom_capability_types_follow_posts() {
        let editor = Actor {
            id: 1,
            roles: &[Role::Editor],
        };
        let contributor = Actor {
            id: 2,
            roles: &[Role::Contributor],
        };
        let subscriber = Actor {
            id: 3,
            roles: &[Role::Subscriber],
        };
        assert!(editor.has_primitive("edit_others_books"));
        assert!(contributor.has_primitive("edit_books"));
        assert!(!contributor.has_primitive("publish_books"));
        assert!(!subscriber.has_primitive("edit_books"));
        // Not capability-type names: never derived.
        assert!(!editor.has_primitive("edit_users"));
        assert!(!editor.has_primitive("delete_themes"));
    }

    use super::*;

    #[test]
    fn role_capability_counts_match_wordpress() {
        assert_eq!(ADMINISTRATOR.len(), 61);
        assert_eq!(EDITOR.len(), 34);
        assert_eq!(AUTHOR.len(), 10);
        assert_eq!(CONTRIBUTOR.len(), 5);
        assert_eq!(SUBSCRIBER.len(), 2);
    }

    #[test]
    fn app_password_caps_follow_edit_user() {
        let editor = Actor {
            id: 2,
            roles: &[Role::Editor],
        };
        let admin = Actor {
            id: 1,
            roles: &[Role::Administrator],
        };
        assert!(editor.can(Cap::ManageAppPasswords(2)));
        assert!(!editor.can(Cap::ManageAppPasswords(1)));
        assert!(admin.can(Cap::ManageAppPasswords(2)));
        assert!(!Actor::ANONYMOUS.can(Cap::ManageAppPasswords(0)));
    }

    #[test]
    fn edit_comment_follows_edit_post_of_its_post() {
        let caps = PostTypeCaps::for_plural("posts");
        let author = Actor {
            id: 6,
            roles: &[Role::Author],
        };
        let own = PostRef {
            author: 6,
            status: "publish",
            pre_trash_status: None,
            caps: &caps,
        };
        let other = PostRef { author: 1, ..own };
        assert!(author.can(Cap::EditComment(Some(own))));
        assert!(!author.can(Cap::EditComment(Some(other))));
        assert!(author.can(Cap::EditComment(None)));
        assert!(!author.can(Cap::Primitive("moderate_comments")));
        let subscriber = Actor {
            id: 7,
            roles: &[Role::Subscriber],
        };
        assert!(!subscriber.can(Cap::EditComment(None)));
    }

    #[test]
    fn edit_post_depends_on_author_and_status() {
        let caps = PostTypeCaps::for_plural("posts");
        let contributor = Actor {
            id: 5,
            roles: &[Role::Contributor],
        };
        let author = Actor {
            id: 6,
            roles: &[Role::Author],
        };
        let own_draft = PostRef {
            author: 5,
            status: "draft",
            pre_trash_status: None,
            caps: &caps,
        };
        let own_published = PostRef {
            author: 5,
            status: "publish",
            pre_trash_status: None,
            caps: &caps,
        };
        assert!(contributor.can(Cap::EditPost(own_draft)));
        assert!(!contributor.can(Cap::EditPost(own_published)));
        assert!(!author.can(Cap::EditPost(own_draft)));
        assert!(!author.can(Cap::ReadPost(own_draft)));
        assert!(author.can(Cap::ReadPost(own_published)));
    }
}
