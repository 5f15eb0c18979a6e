//! `ferropress import wxr FILE` and `ferropress import wordpress --url …` (see
//! `crate::import`), `ferropress export wxr` (see `crate::wxr::export`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Subcommand;
use secrecy::SecretString;

use crate::config::{SiteConfig, StorageArgs, parse_secret};
use crate::import::{Importer, Options};
use crate::site::Site;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import a WordPress export file (WXR, from Tools → Export or `wp export`).
    Wxr {
        /// The WXR file.
        file: PathBuf,
        /// The source site's uploads directory: attachments are copied from there when
        /// present, else downloaded from their URL.
        #[arg(long)]
        uploads: Option<PathBuf>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Import a live WordPress site through its REST API, with an Application Password.
    Wordpress {
        /// The site's address, e.g. https://example.com.
        #[arg(long)]
        url: String,
        /// The user whose Application Password is given (an administrator sees everything).
        // The id of WP-CLI's global `--user` (`cli::local::GlobalArgs`), so this argument
        // takes its place here instead of clashing with it (as `--url` does by name).
        #[arg(long, id = "as_user", value_name = "USER")]
        user: String,
        /// The Application Password.
        #[arg(long, env = "FERROPRESS_IMPORT_APP_PASSWORD", hide_env_values = true, value_parser = parse_secret)]
        app_password: SecretString,
        #[command(flatten)]
        common: CommonArgs,
    },
}

#[derive(Debug, clap::Args)]
pub struct CommonArgs {
    /// Report what would be imported; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Requests to the source site at once, of every kind: REST pages (`import wordpress`)
    /// and file downloads.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Milliseconds to wait after each request to the source site (before the next one
    /// takes its place among the --concurrency).
    #[arg(long, default_value_t = 0)]
    delay: u64,
    /// This site's public address (as `serve --url`): links to the source's uploads inside
    /// content are rewritten to it. Without it they are left as they are.
    #[arg(long = "site-url", env = "FERROPRESS_URL")]
    site_url: Option<String>,
    /// The uploads directory, when the server runs with --uploads-dir.
    #[arg(long, env = "FERROPRESS_UPLOADS_DIR")]
    uploads_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Write the site as a WXR file on standard output (`ferropress export wxr > site.xml`).
    Wxr {
        /// This site's public address (as `serve --url`), for links and the uploads' URLs.
        #[arg(
            long = "site-url",
            env = "FERROPRESS_URL",
            default_value = "http://localhost"
        )]
        site_url: String,
    },
}

async fn open_site(
    storage: &StorageArgs,
    home: &str,
    uploads: Option<PathBuf>,
) -> anyhow::Result<Arc<Site>> {
    let post_types = crate::post_types::load(&storage.data_dir)?;
    let store = crate::server::open_store(storage).await?;
    let media = crate::media_store::MediaStore::open(
        uploads.unwrap_or_else(|| storage.data_dir.join("uploads")),
        &storage.media,
    )?;
    let config = SiteConfig::offline(post_types, home.trim_end_matches('/').to_owned(), media);
    Ok(Site::new(store, config))
}

pub async fn import(cmd: ImportCommand, storage: &StorageArgs) -> anyhow::Result<bool> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let common = match &cmd {
        ImportCommand::Wxr { common, .. } | ImportCommand::Wordpress { common, .. } => common,
    };
    let site = open_site(
        storage,
        common.site_url.as_deref().unwrap_or(""),
        common.uploads_dir.clone(),
    )
    .await?;
    let client = reqwest::Client::builder()
        .user_agent(concat!("ferropress-import/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30))
        .timeout(Duration::from_secs(600))
        .build()
        .context("building the HTTP client")?;
    let dry_run = common.dry_run;
    let uploads = match &cmd {
        ImportCommand::Wxr { uploads, .. } => uploads.clone(),
        ImportCommand::Wordpress { .. } => None,
    };
    let opts = Options {
        dry_run,
        uploads,
        concurrency: common.concurrency.max(1),
        delay: Duration::from_millis(common.delay),
        client,
        postgres: storage.database_url.is_some(),
    };
    let importer = Importer::new(site.clone(), opts, common.site_url.clone()).await?;
    let report = match cmd {
        ImportCommand::Wxr { file, .. } => crate::import::import_wxr(importer, file).await?,
        ImportCommand::Wordpress {
            url,
            user,
            app_password,
            ..
        } => {
            crate::import::rest::import(
                importer,
                crate::import::rest::Source {
                    url: url.trim_end_matches('/').to_owned(),
                    user,
                    app_password,
                },
            )
            .await?
        }
    };
    site.store.close().await;
    print!("{}", report.render(dry_run));
    if report.failed() {
        println!(
            "Error: some objects could not be imported (see above); run the command again to retry them."
        );
    } else {
        println!(
            "Success: {}.",
            if dry_run {
                "dry run done, nothing written"
            } else {
                "import done"
            }
        );
    }
    Ok(!report.failed())
}

pub async fn export(cmd: ExportCommand, storage: &StorageArgs) -> anyhow::Result<()> {
    let ExportCommand::Wxr { site_url } = cmd;
    let site = open_site(storage, &site_url, None).await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, stdout.lock());
    let done = crate::wxr::export::export_wp(&site, site.config.home.as_str(), &mut out).await?;
    drop(out);
    site.store.close().await;
    eprintln!(
        "Success: exported {} users, {} terms, {} posts, {} comments.",
        done.users, done.terms, done.posts, done.comments
    );
    Ok(())
}
