//! `ferropress backup --to FILE` and `ferropress restore FILE` (see `crate::backup`).

use std::path::PathBuf;

use crate::backup::{self, Source};
use crate::config::StorageArgs;

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The archive to write (tar; gzip-compressed when the name ends in .gz or .tgz).
    #[arg(long)]
    pub to: PathBuf,

    /// The uploads directory, when the server runs with --uploads-dir.
    #[arg(long, env = "FERROPRESS_UPLOADS_DIR")]
    pub uploads_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The archive `ferropress backup` wrote.
    pub file: PathBuf,

    /// Replace a data dir that is not empty (stop its server first).
    #[arg(long)]
    pub force: bool,
}

pub async fn backup(args: BackupArgs, storage: &StorageArgs) -> anyhow::Result<()> {
    let postgres = storage.database_url.is_some();
    if postgres {
        eprintln!(
            "This site's database is PostgreSQL: back it up with PostgreSQL's own tools, e.g.\n  \
             pg_dump --format=custom --file=ferropress.pgdump \"$FERROPRESS_DATABASE_URL\"\n\
             This archive holds the uploads and ferropress.toml only."
        );
    }
    let uploads_dir = match &storage.media.media_store {
        Some(bucket) => {
            eprintln!(
                "Media is in {bucket}: it is not copied into this archive (keep the bucket's \
                 own versioning or replication as its backup)."
            );
            None
        }
        None => Some(
            args.uploads_dir
                .unwrap_or_else(|| storage.data_dir.join(backup::UPLOADS)),
        ),
    };
    let source = Source {
        data_dir: storage.data_dir.clone(),
        uploads_dir,
        postgres,
    };
    let manifest = backup::backup(&source, &args.to).await?;
    let bytes: u64 = manifest.files.iter().map(|f| f.size).sum();
    println!(
        "Backup written to {} ({} files, {bytes} bytes before compression).",
        args.to.display(),
        manifest.files.len()
    );
    Ok(())
}

pub async fn restore(args: RestoreArgs, storage: &StorageArgs) -> anyhow::Result<()> {
    let restored = backup::restore(&args.file, &storage.data_dir, args.force).await?;
    let m = &restored.manifest;
    println!(
        "Restored the backup of {} ({} files, ferropress {}) into {}{}.",
        m.created,
        m.files.len(),
        m.ferropress_version,
        storage.data_dir.display(),
        if restored.replaced {
            ", replacing what was there"
        } else {
            ""
        }
    );
    if m.store == "sqlite" && storage.database_url.is_some() {
        println!(
            "The backup is of a SQLite site; this command was given a PostgreSQL database, which \
             is left untouched. To move the restored site there: ferropress migrate-store \
             --from sqlite:{} --to \"$FERROPRESS_DATABASE_URL\"",
            storage.data_dir.display()
        );
    }
    if m.store == "postgres" {
        println!(
            "The backup is of a PostgreSQL site: it held the uploads only. Restore the database \
             with PostgreSQL's own tools (pg_restore)."
        );
    }
    Ok(())
}
