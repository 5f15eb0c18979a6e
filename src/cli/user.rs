//! `ferropress user …` and `ferropress user application-password …`.

use std::str::FromStr;
use std::sync::Arc;

use anyhow::{Context as _, anyhow, bail};
use clap::{Subcommand, ValueEnum};
use secrecy::ExposeSecret;
use serde_json::json;
use uuid::Uuid;

use crate::caps::{AppPasswordGate, Role};
use crate::config::{Environment, SiteConfig, StorageArgs};
use crate::site::Site;
use crate::store::{AppPassword, User};
use crate::users::{InsertUser, find_user, insert_user};
use crate::{application_passwords, server};

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
        /// Print only the new user's ID.
        #[arg(long)]
        porcelain: bool,
    },
    /// List users.
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Manage a user's Application Passwords.
    #[command(subcommand, name = "application-password")]
    ApplicationPassword(AppPasswordCommand),
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
        user: String,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Revoke Application Passwords by UUID, or all of them with --all.
    Delete {
        user: String,
        uuids: Vec<String>,
        #[arg(long, conflicts_with = "uuids")]
        all: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

async fn open_site(storage: &StorageArgs) -> anyhow::Result<Arc<Site>> {
    let store = server::open_store(storage).await?;
    // The CLI does not serve requests: only the store matters in this configuration.
    let config = SiteConfig {
        post_types: Vec::new(),
        home: String::new(),
        environment: Environment::Local,
        tls: false,
        app_password_gate: AppPasswordGate::All,
        max_body_bytes: 0,
        max_upload_bytes: 0,
        uploads_dir: storage.data_dir.join("uploads"),
        trusted_proxies: vec![],
        security: crate::config::SecurityArgs::default(),
        read_cache: false,
        max_token_lifetime: std::env::var("FERROPRESS_MAX_TOKEN_LIFETIME")
            .ok()
            .and_then(|v| crate::config::parse_duration_arg(&v).ok()),
        allow_anonymous_comments: false,
    };
    Ok(Site::new(store, config))
}

async fn require_user(site: &Site, key: &str) -> anyhow::Result<User> {
    find_user(site, key)
        .await?
        .ok_or_else(|| anyhow!("Invalid user ID, email or login: '{key}'"))
}

fn fmt_time(ts: Option<i64>) -> String {
    ts.and_then(|t| jiff::Timestamp::from_second(t).ok())
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    println!(
        "{}",
        line(headers.iter().map(|h| (*h).to_owned()).collect())
    );
    for row in rows {
        println!("{}", line(row.clone()));
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

fn app_password_json(p: &AppPassword) -> serde_json::Value {
    json!({
        "uuid": p.uuid.to_string(),
        "app_id": p.app_id,
        "name": p.name,
        "created": p.created,
        "last_used": p.last_used,
        "last_ip": p.last_ip,
        "last_user_agent": p.last_user_agent,
        "expires": p.expires,
        "scopes": crate::auth::scopes::to_json(p.scopes.as_deref()),
    })
}

pub async fn run(cmd: UserCommand, storage: &StorageArgs) -> anyhow::Result<()> {
    let site = open_site(storage).await?;
    match cmd {
        UserCommand::Create {
            login,
            email,
            role,
            user_pass,
            porcelain,
        } => {
            let role = Role::from_str(&role).map_err(|_| anyhow!("Role doesn't exist: {role}"))?;
            let generated = user_pass.is_none();
            let password = user_pass.unwrap_or_else(crate::auth::password::generate);
            let user = insert_user(
                &site,
                InsertUser {
                    login: &login,
                    email: &email,
                    password: &password,
                    roles: vec![role],
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
        UserCommand::List { format } => {
            let users = site.store.list_users().await?;
            match format {
                Format::Json => {
                    let list: Vec<_> = users
                        .iter()
                        .map(|u| {
                            json!({ "ID": u.id, "user_login": u.login, "display_name": u.display_name,
                                    "user_email": u.email, "user_registered": fmt_time(Some(u.registered)),
                                    "roles": u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",") })
                        })
                        .collect();
                    println!("{}", serde_json::Value::Array(list));
                }
                Format::Table => {
                    let rows: Vec<Vec<String>> = users
                        .iter()
                        .map(|u| {
                            vec![
                                u.id.to_string(),
                                u.login.clone(),
                                u.display_name.clone(),
                                u.email.clone(),
                                fmt_time(Some(u.registered)),
                                u.roles
                                    .iter()
                                    .map(|r| r.as_str())
                                    .collect::<Vec<_>>()
                                    .join(","),
                            ]
                        })
                        .collect();
                    print_table(
                        &[
                            "ID",
                            "user_login",
                            "display_name",
                            "user_email",
                            "user_registered",
                            "roles",
                        ],
                        &rows,
                    );
                }
            }
        }
        UserCommand::ApplicationPassword(cmd) => app_password(&site, cmd).await?,
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
                Ok(u) => application_passwords::rotate(site, user.id, u, grace)
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
        AppPasswordCommand::List { user, format } => {
            let user = require_user(site, &user).await?;
            let items = application_passwords::list(site, user.id).await?;
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::Value::Array(items.iter().map(app_password_json).collect())
                ),
                Format::Table => {
                    let rows: Vec<Vec<String>> = items
                        .iter()
                        .map(|p| {
                            vec![
                                p.uuid.to_string(),
                                p.app_id.clone(),
                                p.name.clone(),
                                fmt_time(Some(p.created)),
                                fmt_time(p.last_used),
                                p.last_ip.clone().unwrap_or_default(),
                                p.last_user_agent.clone().unwrap_or_default(),
                            ]
                        })
                        .collect();
                    print_table(
                        &[
                            "uuid",
                            "app_id",
                            "name",
                            "created",
                            "last_used",
                            "last_ip",
                            "last_user_agent",
                        ],
                        &rows,
                    );
                }
            }
        }
        AppPasswordCommand::Delete { user, uuids, all } => {
            let user = require_user(site, &user).await?;
            if all {
                let n = application_passwords::delete_all(site, user.id).await?;
                println!(
                    "Success: Deleted {n} application password{}.",
                    if n == 1 { "" } else { "s" }
                );
                return Ok(());
            }
            if uuids.is_empty() {
                bail!("Please specify one or more application password UUIDs, or use --all.");
            }
            let mut failed = vec![];
            for raw in &uuids {
                let deleted = match Uuid::parse_str(raw) {
                    Ok(uuid) => application_passwords::delete(site, user.id, uuid).await?,
                    Err(_) => false,
                };
                if deleted {
                    println!("Success: Deleted application password {raw}.");
                } else {
                    failed.push(raw.as_str());
                }
            }
            if !failed.is_empty() {
                bail!("Failed to delete UUID(s): {}", failed.join(", "));
            }
        }
    }
    Ok(())
}
