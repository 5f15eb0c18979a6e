//! `ferropress user …` and `ferropress user application-password …`: WP-CLI's
//! `User_Command`, `User_Session_Command` and `User_Application_Password_Command`
//! (wp-cli/entity-command). Profile, role and password changes and deletions go through the
//! REST users route as an administrator (`cli::local`), so they are checked, written and
//! followed (sessions of a changed password end) exactly as over HTTP.

use std::str::FromStr;

use anyhow::{Context as _, anyhow, bail};
use clap::Subcommand;
use secrecy::ExposeSecret;
use serde_json::json;
use uuid::Uuid;

use crate::application_passwords;
use crate::caps::Role;
use crate::config::StorageArgs;
use crate::site::Site;
use crate::store::{AppPassword, AppPasswordUsage, User};
use crate::users::{InsertUser, Profile, find_user, insert_user_with_profile};

use super::local::{GlobalArgs, Local};
use super::output::{FormatArgs, Formatter, Item, success};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (`wp user create`).
    Create {
        /// The login name.
        login: String,
        /// The email address.
        email: String,
        /// Role of the new user.
        #[arg(long, default_value = "subscriber")]
        role: String,
        /// Account password; a random one is generated and printed when omitted.
        #[arg(long = "user_pass")]
        user_pass: Option<String>,
        /// The display name.
        #[arg(long = "display_name")]
        display_name: Option<String>,
        /// The user's first name.
        #[arg(long = "first_name")]
        first_name: Option<String>,
        /// The user's last name.
        #[arg(long = "last_name")]
        last_name: Option<String>,
        /// A string containing the user's URL.
        #[arg(long = "user_url")]
        user_url: Option<String>,
        /// A string that contains a URL-friendly name for the user.
        #[arg(long = "user_nicename")]
        user_nicename: Option<String>,
        /// Print only the new user's ID.
        #[arg(long)]
        porcelain: bool,
    },
    /// List users (`wp user list`).
    List {
        /// Only display users with a certain role.
        #[arg(long)]
        role: Option<String>,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Get details about a user.
    Get {
        /// User ID, user email, or user login.
        user: String,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Update an existing user.
    Update {
        /// User ID, user email, or user login.
        #[arg(required = true)]
        users: Vec<String>,
        /// A string that contains the plain text password for the user.
        #[arg(long = "user_pass")]
        user_pass: Option<String>,
        /// A string that will be shown on the site.
        #[arg(long = "display_name")]
        display_name: Option<String>,
        /// A string containing the user's email address.
        #[arg(long = "user_email")]
        user_email: Option<String>,
        /// A string used to set the user's role.
        #[arg(long)]
        role: Option<String>,
        /// The user's first name.
        #[arg(long = "first_name")]
        first_name: Option<String>,
        /// The user's last name.
        #[arg(long = "last_name")]
        last_name: Option<String>,
        /// The user's nickname.
        #[arg(long)]
        nickname: Option<String>,
        /// A string containing the user's URL.
        #[arg(long = "user_url")]
        user_url: Option<String>,
        /// A string containing content about the user.
        #[arg(long)]
        description: Option<String>,
        /// A string that contains a URL-friendly name for the user.
        #[arg(long = "user_nicename")]
        user_nicename: Option<String>,
        /// The user's locale.
        #[arg(long)]
        locale: Option<String>,
        /// Don't send an email notification to the user (ferropress sends none).
        #[arg(long = "skip-email")]
        skip_email: bool,
    },
    /// Delete one or more users from the current site.
    Delete {
        /// The user login, user email, or user ID of the user(s) to delete.
        #[arg(required = true)]
        users: Vec<String>,
        /// User ID to reassign the posts to.
        #[arg(long)]
        reassign: Option<String>,
        /// Answer yes to any confirmation prompts.
        #[arg(long)]
        yes: bool,
    },
    /// Set the user role.
    #[command(name = "set-role")]
    SetRole {
        /// User ID, user email, or user login.
        user: String,
        /// Make the user have the specified role (default: `default_role`).
        role: Option<String>,
    },
    /// Add a role for a user.
    #[command(name = "add-role")]
    AddRole {
        /// User ID, user email, or user login.
        user: String,
        /// Add the specified role(s) to the user.
        roles: Vec<String>,
    },
    /// Remove a user's role.
    #[command(name = "remove-role")]
    RemoveRole {
        /// User ID, user email, or user login.
        user: String,
        /// Remove the specified role(s); all roles when none is given.
        roles: Vec<String>,
    },
    /// Reset the password for one or more users.
    #[command(name = "reset-password")]
    ResetPassword {
        /// One or more user logins or IDs.
        #[arg(required = true)]
        users: Vec<String>,
        /// Don't send an email notification to the affected user(s) (ferropress sends none).
        #[arg(long = "skip-email")]
        skip_email: bool,
        /// Show the new password(s).
        #[arg(long = "show-password")]
        show_password: bool,
        /// Output only the new password(s).
        #[arg(long)]
        porcelain: bool,
    },
    /// Destroy a user's login sessions.
    #[command(subcommand)]
    Session(SessionCommand),
    /// Manage a user's Application Passwords.
    #[command(subcommand, name = "application-password")]
    ApplicationPassword(AppPasswordCommand),
}

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Destroy all of a user's sessions (`--all`).
    Destroy {
        /// User ID, user email, or user login.
        user: String,
        /// Destroy all of the user's sessions.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AppPasswordCommand {
    /// Create an Application Password; the token is printed once.
    Create {
        /// User ID, login or email.
        user: String,
        /// Name of the application.
        app_name: String,
        /// UUID of the application.
        #[arg(long = "app-id")]
        app_id: Option<String>,
        /// When the token stops working: a duration (`90d`), a date (`2027-06-30`), an
        /// RFC 3339 time, or `never` (default: the site's maximum lifetime, else never).
        #[arg(long)]
        expires: Option<String>,
        /// What the token may do: `read`, or `<resource>:<read|write>` entries separated by
        /// commas (default: everything its user can).
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
        /// Print only the token.
        #[arg(long)]
        porcelain: bool,
    },
    /// Give a token a new secret (same UUID, name, scopes and expiry), printed once.
    Rotate {
        /// User ID, login or email.
        user: String,
        uuid: String,
        /// How long the old secret keeps working (`1h`, `30m`, seconds); default: stops now.
        #[arg(long)]
        grace: Option<String>,
        /// Print only the new token.
        #[arg(long)]
        porcelain: bool,
    },
    /// List a user's Application Passwords (never the token or its hash).
    List {
        /// The user login, user email, or user ID.
        user: String,
        /// Filter by the UUID of the application.
        #[arg(long = "app_id", visible_alias = "app-id")]
        app_id: Option<String>,
        /// Filter by the name of the application.
        #[arg(long)]
        name: Option<String>,
        /// Filter by the Unix timestamp the application password was created at.
        #[arg(long)]
        created: Option<String>,
        /// Filter by the Unix timestamp the application password was last used at.
        #[arg(long = "last_used", visible_alias = "last-used")]
        last_used: Option<String>,
        /// Filter by the IP address the application password was last used from.
        #[arg(long = "last_ip", visible_alias = "last-ip")]
        last_ip: Option<String>,
        /// Field to order by: uuid, app_id, name, created, last_used or last_ip.
        #[arg(long, default_value = "created")]
        orderby: String,
        /// asc or desc.
        #[arg(long, default_value = "desc")]
        order: String,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Get a specific Application Password.
    Get {
        /// The user login, user email, or user ID.
        user: String,
        /// The universally unique ID of the application password.
        uuid: String,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Check whether an Application Password with this application name exists (exit 0 or 1).
    Exists {
        /// The user login, user email, or user ID.
        user: String,
        /// Name of the application.
        app_name: String,
    },
    /// Update an existing Application Password.
    Update {
        /// The user login, user email, or user ID.
        user: String,
        /// The universally unique ID of the application password.
        uuid: String,
        /// The new name of the application.
        #[arg(long)]
        name: Option<String>,
    },
    /// Record usage of an Application Password.
    #[command(name = "record-usage")]
    RecordUsage {
        /// The user login, user email, or user ID.
        user: String,
        /// The universally unique ID of the application password.
        uuid: String,
    },
    /// Revoke Application Passwords by UUID, or all of them with --all.
    Delete {
        user: String,
        uuids: Vec<String>,
        #[arg(long, conflicts_with = "uuids")]
        all: bool,
    },
}

async fn require_user(site: &Site, key: &str) -> anyhow::Result<User> {
    find_user(site, key)
        .await?
        .ok_or_else(|| anyhow!("Invalid user ID, email or login: '{key}'"))
}

/// `user_registered` as WordPress stores it (`Y-m-d H:i:s`, UTC).
fn fmt_time(ts: Option<i64>) -> String {
    ts.and_then(|t| jiff::Timestamp::from_second(t).ok())
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

fn roles_of(u: &User, sep: &str) -> String {
    u.roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(sep)
}

/// A user as WP-CLI shows one (`WP_User::to_array()` without `user_pass`).
fn user_item(u: &User, roles_sep: &str) -> Item {
    let v = json!({
        "ID": u.id,
        "user_login": u.login,
        "display_name": u.display_name,
        "user_email": u.email,
        "user_registered": fmt_time(Some(u.registered)),
        "roles": roles_of(u, roles_sep),
        "user_nicename": u.nicename,
        "user_url": u.url,
        "user_status": "0",
    });
    match v {
        serde_json::Value::Object(m) => m,
        _ => Item::new(),
    }
}

const USER_FIELDS: &[&str] = &[
    "ID",
    "user_login",
    "display_name",
    "user_email",
    "user_registered",
    "roles",
];

const APP_PASSWORD_FIELDS: &[&str] = &["uuid", "app_id", "name", "created", "last_used", "last_ip"];

/// An Application Password as WP-CLI lists one; the hash WordPress would show as
/// `password` is never printed by ferropress.
fn app_password_item(p: &AppPassword) -> Item {
    let v = json!({
        "uuid": p.uuid.to_string(),
        "app_id": p.app_id,
        "name": p.name,
        "created": p.created,
        "last_used": p.last_used,
        "last_ip": p.last_ip,
        "last_user_agent": p.last_user_agent,
        "expires": p.expires,
        "scopes": crate::auth::scopes::to_json(p.scopes.as_deref()),
    });
    match v {
        serde_json::Value::Object(m) => m,
        _ => Item::new(),
    }
}

/// A REST error as one line: its message and, for invalid parameters, why.
fn cli_message(e: &crate::error::WpError) -> String {
    match e.body()["data"]["params"].as_object() {
        Some(params) => params
            .values()
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        None => e.message.clone(),
    }
}

/// `WP_CLI::confirm()`: asks on standard input unless `--yes`; anything but `y` stops.
fn confirm(question: &str, yes: bool) -> bool {
    if yes {
        return true;
    }
    print!("{question} [y/n] ");
    let _ = std::io::Write::flush(&mut std::io::stdout());
    let mut answer = String::new();
    let _ = std::io::stdin().read_line(&mut answer);
    answer.trim().eq_ignore_ascii_case("y")
}

fn valid_role(role: &str) -> anyhow::Result<Role> {
    Role::from_str(role).map_err(|_| anyhow!("Role doesn't exist: {role}"))
}

/// `POST /wp/v2/users/{id}`.
async fn update_through_rest(
    local: &Local,
    id: i64,
    body: serde_json::Value,
) -> anyhow::Result<()> {
    local
        .rest()
        .await?
        .post(&format!("/wp/v2/users/{id}"), &body)
        .await?;
    Ok(())
}

async fn set_roles(local: &Local, user: &User, roles: &[Role]) -> anyhow::Result<()> {
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    update_through_rest(local, user.id, json!({ "roles": names })).await
}

pub async fn run(
    cmd: UserCommand,
    storage: &StorageArgs,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    let local = Local::open(storage, global).await?;
    let done = run_on(&local, cmd).await;
    // An audit entry that could not be written at once was queued: write it now, as this
    // process has no flush task.
    if let Err(e) = local.site.audit.flush(local.site.store.as_ref()).await {
        eprintln!("Warning: writing the audit log failed: {e}");
    }
    done
}

async fn run_on(local: &Local, cmd: UserCommand) -> anyhow::Result<()> {
    let site = &*local.site;
    match cmd {
        UserCommand::Create {
            login,
            email,
            role,
            user_pass,
            display_name,
            first_name,
            last_name,
            user_url,
            user_nicename,
            porcelain,
        } => {
            let role = Role::from_str(&role).map_err(|_| anyhow!("Role doesn't exist: {role}"))?;
            let generated = user_pass.is_none();
            let password = user_pass.unwrap_or_else(crate::auth::password::generate);
            let user = insert_user_with_profile(
                site,
                InsertUser {
                    login: &login,
                    email: &email,
                    password: &password,
                    roles: vec![role],
                },
                Profile {
                    display_name,
                    first_name,
                    last_name,
                    url: user_url,
                    nicename: user_nicename,
                    ..Profile::default()
                },
            )
            .await
            .map_err(|e| anyhow!("{}", e.message))?;
            if porcelain {
                println!("{}", user.id);
            } else {
                println!("Success: Created user {}.", user.id);
                if generated {
                    println!("Password: {password}");
                }
            }
        }
        UserCommand::List { role, format } => {
            let role = role.as_deref().map(valid_role).transpose()?;
            let users = site.store.list_users().await?;
            let items: Vec<Item> = users
                .iter()
                .filter(|u| role.is_none_or(|r| u.roles.contains(&r)))
                .map(|u| user_item(u, ","))
                .collect();
            Formatter {
                args: &format,
                default_fields: USER_FIELDS,
                prefix: "user",
            }
            .items(&items)?;
        }
        UserCommand::Get { user, format } => {
            let user = require_user(site, &user).await?;
            Formatter {
                args: &format,
                default_fields: &[],
                prefix: "user",
            }
            .item(&user_item(&user, ", "))?;
        }
        UserCommand::Update {
            users,
            user_pass,
            display_name,
            user_email,
            role,
            first_name,
            last_name,
            nickname,
            user_url,
            description,
            user_nicename,
            locale,
            skip_email: _,
        } => {
            if let Some(r) = &role {
                valid_role(r)?;
            }
            // `wp_update_user()` fields, under the names of the REST users schema.
            let mut body = serde_json::Map::new();
            let mut put = |k: &str, v: Option<String>| {
                if let Some(v) = v {
                    body.insert(k.to_owned(), serde_json::Value::String(v));
                }
            };
            put("password", user_pass);
            put("name", display_name);
            put("email", user_email);
            put("first_name", first_name);
            put("last_name", last_name);
            put("nickname", nickname);
            put("url", user_url);
            put("description", description);
            put("slug", user_nicename);
            put("locale", locale);
            if let Some(r) = role {
                body.insert("roles".into(), json!([r]));
            }
            if body.is_empty() {
                bail!("Need some fields to update.");
            }
            let mut found = vec![];
            for key in &users {
                match find_user(site, key).await? {
                    Some(u) => found.push(u),
                    None => eprintln!("Warning: Invalid user ID, email or login: '{key}'"),
                }
            }
            if found.is_empty() {
                bail!("No valid users found.");
            }
            for u in found {
                update_through_rest(local, u.id, serde_json::Value::Object(body.clone())).await?;
                success(&format!("Updated user {}.", u.id));
            }
        }
        UserCommand::Delete {
            users,
            reassign,
            yes,
        } => {
            let reassign = reassign.map(|r| r.trim().parse::<i64>().unwrap_or(0));
            let reassign_valid = match reassign {
                Some(id) if id > 0 => site.store.user_by_id(id).await?.is_some(),
                _ => true,
            };
            let question = if reassign.is_none_or(|id| id == 0) {
                Some(
                    "--reassign parameter not passed. All associated posts will be deleted. Proceed?",
                )
            } else if !reassign_valid {
                Some(
                    "--reassign parameter is invalid. All associated posts will be deleted. Proceed?",
                )
            } else {
                None
            };
            if let Some(q) = question
                && !confirm(q, yes)
            {
                return Ok(());
            }
            let reassign_arg = match reassign {
                Some(id) if id > 0 && reassign_valid => id.to_string(),
                _ => "false".to_owned(),
            };
            let api = local.rest().await?;
            let mut failed = 0;
            for key in &users {
                let Some(u) = find_user(site, key).await? else {
                    eprintln!("Warning: Invalid user ID, email or login: '{key}'");
                    failed += 1;
                    continue;
                };
                match api
                    .delete(
                        &format!("/wp/v2/users/{}", u.id),
                        &[("force", "true"), ("reassign", &reassign_arg)],
                    )
                    .await
                {
                    Ok(_) => success(&format!("Removed user {} from {}.", u.id, site.config.home)),
                    Err(e) => {
                        eprintln!("Warning: Failed deleting user {}: {e}", u.id);
                        failed += 1;
                    }
                }
            }
            if failed > 0 {
                bail!("Failed deleting {failed} of {} users.", users.len());
            }
        }
        UserCommand::SetRole { user, role } => {
            let user = require_user(site, &user).await?;
            let role = match role {
                Some(r) => r,
                None => site
                    .store
                    .get_option("default_role")
                    .await?
                    .unwrap_or_else(|| "subscriber".to_owned()),
            };
            let r = valid_role(&role)?;
            set_roles(local, &user, &[r]).await?;
            success(&format!(
                "Added {} ({}) to {} as {role}.",
                user.login, user.id, site.config.home
            ));
        }
        UserCommand::AddRole { user, roles } => {
            let user = require_user(site, &user).await?;
            if roles.is_empty() {
                bail!("Please specify at least one role to add.");
            }
            let mut all = user.roles.clone();
            for r in &roles {
                let r = valid_role(r)?;
                if !all.contains(&r) {
                    all.push(r);
                }
            }
            set_roles(local, &user, &all).await?;
            let label = if roles.len() > 1 { "roles" } else { "role" };
            success(&format!(
                "Added '{}' {label} for {} ({}).",
                roles.join("', '"),
                user.login,
                user.id
            ));
        }
        UserCommand::RemoveRole { user, roles } => {
            let user = require_user(site, &user).await?;
            if roles.is_empty() {
                set_roles(local, &user, &[]).await?;
                success(&format!(
                    "Removed all roles from {} ({}) on {}.",
                    user.login, user.id, site.config.home
                ));
                return Ok(());
            }
            let remove: Vec<Role> = roles
                .iter()
                .map(|r| valid_role(r))
                .collect::<Result<_, _>>()?;
            let left: Vec<Role> = user
                .roles
                .iter()
                .copied()
                .filter(|r| !remove.contains(r))
                .collect();
            set_roles(local, &user, &left).await?;
            let label = if roles.len() > 1 { "roles" } else { "role" };
            success(&format!(
                "Removed '{}' {label} from {} ({}).",
                roles.join("', '"),
                user.login,
                user.id
            ));
        }
        UserCommand::ResetPassword {
            users,
            skip_email: _,
            show_password,
            porcelain,
        } => {
            let mut found = vec![];
            for key in &users {
                match find_user(site, key).await? {
                    Some(u) => found.push(u),
                    None => eprintln!("Warning: Invalid user ID, email or login: '{key}'"),
                }
            }
            for u in &found {
                // `wp_generate_password( 24 )`, letters and digits only so it survives any shell.
                let pass = crate::auth::password::generate();
                update_through_rest(local, u.id, json!({ "password": pass })).await?;
                if porcelain {
                    println!("{pass}");
                } else {
                    println!("Reset password for {}.", u.login);
                    if show_password {
                        println!("Password: {pass}");
                    }
                }
            }
            if !porcelain {
                match found.len() {
                    0 => bail!("No user found to reset password."),
                    1 => success("Password reset for 1 user."),
                    n => success(&format!("Passwords reset for {n} users.")),
                }
            }
        }
        UserCommand::Session(SessionCommand::Destroy { user, all }) => {
            let user = require_user(site, &user).await?;
            if !all {
                bail!("Please specify --all: ferropress does not list session tokens.");
            }
            let n = site.store.delete_user_sessions(user.id).await?;
            if n == 0 {
                success("No sessions to destroy.");
            } else {
                success("Destroyed all sessions.");
            }
        }
        UserCommand::ApplicationPassword(cmd) => app_password(site, cmd).await?,
    }
    Ok(())
}

async fn app_password(site: &Site, cmd: AppPasswordCommand) -> anyhow::Result<()> {
    match cmd {
        AppPasswordCommand::Create {
            user,
            app_name,
            app_id,
            expires,
            scopes,
            porcelain,
        } => {
            let user = require_user(site, &user).await?;
            let limits = application_passwords::Limits {
                expires: expires
                    .map(|e| crate::auth::scopes::parse_expires(&e, crate::site::now()))
                    .transpose()
                    .map_err(|e| anyhow!("{e}"))?,
                scopes: if scopes.is_empty() {
                    None
                } else {
                    crate::auth::scopes::parse(site, &scopes).map_err(|bad| {
                        anyhow!("{bad:?} is not a scope: use *, read or <resource>:<read|write>")
                    })?
                },
            };
            let app_id = app_id
                .map(|s| {
                    // `wp_is_uuid()`, as the REST route and the authorize screen check it.
                    Uuid::parse_str(&s)
                        .ok()
                        .filter(|_| application_passwords::is_uuid(&s))
                        .with_context(|| format!("--app-id must be a lower-case UUID, got '{s}'"))
                })
                .transpose()?;
            let (token, _) =
                application_passwords::create(site, user.id, &app_name, app_id, limits)
                    .await
                    .map_err(|e| anyhow!("{}", cli_message(&e)))?;
            if porcelain {
                println!("{}", token.expose_secret());
            } else {
                println!("Success: Created application password.");
                println!("Password: {}", token.expose_secret());
            }
        }
        AppPasswordCommand::Rotate {
            user,
            uuid,
            grace,
            porcelain,
        } => {
            let user = require_user(site, &user).await?;
            let grace = match grace {
                None => 0,
                Some(g) => crate::auth::scopes::parse_duration(&g)
                    .with_context(|| format!("--grace must be a duration such as 1h, got '{g}'"))?,
            };
            let token = match Uuid::parse_str(&uuid) {
                Ok(u) => application_passwords::rotate(
                    site,
                    user.id,
                    u,
                    grace,
                    &crate::audit::By::system(),
                )
                .await
                .map_err(|e| anyhow!("{}", e.message))?,
                Err(_) => None,
            };
            let Some(token) = token else {
                bail!("Invalid application password UUID: '{uuid}'");
            };
            if porcelain {
                println!("{}", token.expose_secret());
            } else {
                println!("Success: Rotated application password {uuid}.");
                println!("Password: {}", token.expose_secret());
            }
        }
        AppPasswordCommand::List {
            user,
            app_id,
            name,
            created,
            last_used,
            last_ip,
            orderby,
            order,
            format,
        } => {
            let user = require_user(site, &user).await?;
            let mut items: Vec<Item> = application_passwords::list(site, user.id)
                .await?
                .iter()
                .map(app_password_item)
                .collect();
            // The filters compare as strings, as WP-CLI does.
            for (field, want) in [
                ("app_id", app_id),
                ("name", name),
                ("created", created),
                ("last_used", last_used),
                ("last_ip", last_ip),
            ] {
                if let Some(want) = want {
                    items.retain(|i| {
                        i.get(field).map(super::output::scalar).as_deref() == Some(&want)
                    });
                }
            }
            if !APP_PASSWORD_FIELDS.contains(&orderby.as_str()) {
                bail!("Invalid value specified for 'orderby'.");
            }
            // PHP's `<=>` over the raw values: numbers as numbers, strings as strings.
            items.sort_by(|a, b| {
                let (x, y) = (&a[&orderby], &b[&orderby]);
                let ord = match (x.as_i64(), y.as_i64()) {
                    (Some(x), Some(y)) => x.cmp(&y),
                    _ => super::output::scalar(x).cmp(&super::output::scalar(y)),
                };
                if order == "asc" { ord } else { ord.reverse() }
            });
            Formatter {
                args: &format,
                default_fields: APP_PASSWORD_FIELDS,
                prefix: "",
            }
            .items(&items)?;
        }
        AppPasswordCommand::Get { user, uuid, format } => {
            let user = require_user(site, &user).await?;
            let items = application_passwords::list(site, user.id).await?;
            let Some(item) = items.iter().find(|p| p.uuid.to_string() == uuid) else {
                bail!("No application password found for this user ID and UUID.");
            };
            Formatter {
                args: &format,
                default_fields: APP_PASSWORD_FIELDS,
                prefix: "",
            }
            .item(&app_password_item(item))?;
        }
        AppPasswordCommand::Exists { user, app_name } => {
            let user = require_user(site, &user).await?;
            let items = application_passwords::list(site, user.id).await?;
            // `application_name_exists_for_user()`: ASCII case-insensitive.
            if !items.iter().any(|p| p.name.eq_ignore_ascii_case(&app_name)) {
                return Err(super::Halt(1).into());
            }
        }
        AppPasswordCommand::Update { user, uuid, name } => {
            let user = require_user(site, &user).await?;
            let items = application_passwords::list(site, user.id).await?;
            let Some(item) = items.iter().find(|p| p.uuid.to_string() == uuid) else {
                bail!("Could not find an application password with that id.");
            };
            if let Some(name) = name {
                application_passwords::rename(site, user.id, item.uuid, &name)
                    .await
                    .map_err(|e| anyhow!("{}", e.message))?;
            }
            success("Updated application password.");
        }
        AppPasswordCommand::RecordUsage { user, uuid } => {
            let user = require_user(site, &user).await?;
            let items = application_passwords::list(site, user.id).await?;
            let Some(item) = items.iter().find(|p| p.uuid.to_string() == uuid) else {
                bail!("Could not find an application password with that id.");
            };
            // `record_application_password_usage()` from the command line: no client IP or
            // user agent, as `$_SERVER` has none under WP-CLI.
            site.store
                .record_app_password_usage(&[AppPasswordUsage {
                    uuid: item.uuid,
                    last_used: crate::site::now(),
                    last_ip: String::new(),
                    last_user_agent: String::new(),
                }])
                .await?;
            success("Recorded application password usage.");
        }
        AppPasswordCommand::Delete { user, uuids, all } => {
            let user = require_user(site, &user).await?;
            if all {
                application_passwords::delete_all(site, user.id).await?;
                success("Deleted all application passwords.");
                return Ok(());
            }
            if uuids.is_empty() {
                bail!("You need to specify either one or more UUIDS or provide the --all flag");
            }
            let mut errors = 0;
            for raw in &uuids {
                let deleted = match Uuid::parse_str(raw) {
                    Ok(uuid) => application_passwords::delete(site, user.id, uuid).await?,
                    Err(_) => false,
                };
                if !deleted {
                    eprintln!(
                        "Warning: Failed to delete UUID {raw}: Could not find an application password with that id."
                    );
                    errors += 1;
                }
            }
            let n = uuids.len();
            success(&format!(
                "Deleted {} of {n} application password{}.",
                n - errors,
                if n == 1 { "" } else { "s" }
            ));
            if errors > 0 {
                return Err(super::Halt(1).into());
            }
        }
    }
    Ok(())
}
