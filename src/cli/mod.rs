//! The `ferropress` command line, shaped like WP-CLI (`wp user create`,
//! `wp user application-password create|list|delete`) plus `serve`.

mod audit;
mod backup;
pub mod doctor;
mod format;
mod import;
mod local;
mod media;
mod migrate_media;
mod migrate_store;
mod option;
mod output;
mod post;
mod term;
mod user;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{LogFormat, ServeArgs, StorageArgs};

#[derive(Debug, Parser)]
#[command(
    name = "ferropress",
    version,
    about = "A WordPress REST API server with first-class Application Passwords"
)]
pub struct Cli {
    #[command(flatten)]
    pub storage: StorageArgs,
    #[command(flatten)]
    pub global: local::GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the REST API.
    Serve(ServeArgs),
    /// Manage users and their Application Passwords.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage posts, content, and meta (`--post_type` for pages and custom types).
    #[command(subcommand)]
    Post(post::PostCommand),
    /// Manage pages: `post` with `--post_type=page` by default.
    #[command(subcommand)]
    Page(post::PostCommand),
    /// Manage taxonomy terms (category, post_tag).
    #[command(subcommand)]
    Term(term::TermCommand),
    /// Retrieve and set the site options the REST settings route exposes.
    #[command(subcommand)]
    Option(option::OptionCommand),
    /// Import files as attachments.
    #[command(subcommand)]
    Media(media::MediaCommand),
    /// Read and check the audit log (token and account events, hash-chained).
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Copy everything from a SQLite data dir into an empty PostgreSQL database.
    MigrateStore(migrate_store::MigrateStoreArgs),
    /// Copy the local uploads into the bucket of --media-store (idempotent, resumable).
    MigrateMedia(migrate_media::MigrateMediaArgs),
    /// Write a consistent copy of the site (database and uploads) into one archive, while
    /// the server runs.
    Backup(backup::BackupArgs),
    /// Restore an archive written by `backup` into --data-dir (refuses a non-empty one
    /// without --force).
    Restore(backup::RestoreArgs),
    /// Report weak security settings (takes the flags and FERROPRESS_* variables of `serve`);
    /// exits 1 when it finds a problem.
    Doctor(ServeArgs),
    /// Bring a WordPress site over: from a WXR export file or through its REST API.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Write the site in a format WordPress reads (`export wxr > site.xml`).
    #[command(subcommand)]
    Export(import::ExportCommand),
    /// Runs a display filter over a JSON array of strings (side-by-side checks with PHP).
    #[command(hide = true)]
    Format(format::FormatArgs),
}

/// `WP_CLI::halt()`: ends the command with this exit code and no `Error:` line.
#[derive(Debug)]
pub struct Halt(pub u8);

impl std::fmt::Display for Halt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}", self.0)
    }
}

impl std::error::Error for Halt {}

/// Logging to stderr at `default` level (`FERROPRESS_LOG` overrides it); `batched` for the
/// server (`crate::logging`).
fn init_logging(default: &str, format: LogFormat, batched: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FERROPRESS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour only on a terminal: escape codes in a log file or a journal are noise, and
    // writing them costs every request's log line.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(crate::logging::Stderr::new(batched))
        .with_timer(crate::logging::Timer);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        // One JSON object a line, fields flattened, for log shippers.
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Entry point of the binary.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let storage = cli.storage;
    let result = match cli.command {
        Command::Serve(args) => {
            init_logging("info", args.log_format, true);
            runtime.block_on(crate::server::run(args, storage))
        }
        Command::User(cmd) => {
            init_logging("warn", LogFormat::Text, false);
            runtime.block_on(user::run(cmd, &storage, &cli.global))
        }
        Command::Post(cmd) => {
            init_logging("warn", LogFormat::Text, false);
            runtime.block_on(post::run(cmd, "post", &storage, &cli.global))
        }
        Command::Page(cmd) => {
            init_logging("warn", LogFormat::Text, false);
            runtime.block_on(post::run(cmd, "page", &storage, &cli.global))
        }
        Command::Term(cmd) => {
            init_logging("warn", LogFormat::Text, false);
            runtime.block_on(term::run(cmd, &storage, &cli.global))
        }
        Command::Option(cmd) => {
            init_logging("warn", LogFormat::Text, false);
            runtime.block_on(option::run(cmd, &storage, &cli.global))
        }
        Command::Media(cmd) => {
            init_logging("warn", LogFormat::Text, false);
            runtime.block_on(media::run(cmd, &storage, &cli.global))
        }
        Command::Audit(cmd) => {
            init_logging("warn", LogFormat::Text, false);
            runtime.block_on(audit::run(cmd, &storage))
        }
        Command::Doctor(args) => doctor::run(&args, &storage),
        Command::Format(args) => format::run(&args),
        Command::MigrateStore(args) => {
            init_logging("warn", LogFormat::Text, false);
            runtime.block_on(migrate_store::run(args))
        }
        Command::MigrateMedia(args) => {
            init_logging("warn", LogFormat::Text, false);
            runtime.block_on(migrate_media::run(args, &storage))
        }
        Command::Backup(args) => {
            init_logging("warn", LogFormat::Text, false);
            runtime.block_on(backup::backup(args, &storage))
        }
        Command::Import(cmd) => {
            init_logging("warn", LogFormat::Text, false);
            match runtime.block_on(import::import(cmd, &storage)) {
                // Something failed: the report says what; the exit status says so too.
                Ok(false) => return ExitCode::FAILURE,
                Ok(true) => Ok(()),
                Err(e) => Err(e),
            }
        }
        Command::Export(cmd) => {
            init_logging("warn", LogFormat::Text, false);
            runtime.block_on(import::export(cmd, &storage))
        }
        Command::Restore(args) => {
            init_logging("warn", LogFormat::Text, false);
            runtime.block_on(backup::restore(args, &storage))
        }
    };
    // What the server's log still holds goes out before the process ends.
    crate::logging::flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<Halt>().is_some() => {
            ExitCode::from(e.downcast_ref::<Halt>().map_or(1, |h| h.0))
        }
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
