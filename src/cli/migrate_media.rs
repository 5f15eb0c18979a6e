//! `ferropress migrate-media --media-store s3://bucket/prefix`: copies the files of the local
//! uploads dir into the bucket under the same paths, so a site can move its media to object
//! storage (and be served by several instances) without changing an attachment. Idempotent
//! and resumable: a file already in the bucket with its size is skipped; the local files are
//! left in place (remove them once the instances run with `--media-store`).

use std::path::PathBuf;

use anyhow::bail;

use crate::config::StorageArgs;
use crate::media_store::MediaStore;

use super::output::success;

#[derive(Debug, clap::Args)]
pub struct MigrateMediaArgs {
    /// The local uploads dir to copy from (default: `uploads/` in the data dir).
    #[arg(long, env = "FERROPRESS_UPLOADS_DIR")]
    pub uploads_dir: Option<PathBuf>,
}

pub async fn run(args: MigrateMediaArgs, storage: &StorageArgs) -> anyhow::Result<()> {
    let Some(bucket) = &storage.media.media_store else {
        bail!("migrate-media copies into a bucket: give --media-store s3://bucket/prefix");
    };
    let source = args
        .uploads_dir
        .unwrap_or_else(|| storage.data_dir.join("uploads"));
    if !source.is_dir() {
        bail!("{} is not a directory", source.display());
    }
    let store = MediaStore::open(source.clone(), &storage.media)?;
    store.check().await?;
    let report = store.copy_from_local(&source).await?;
    let line = format!(
        "Copied {} files ({} bytes) from {} to {bucket}; {} already there; {} failed.",
        report.copied,
        report.bytes,
        source.display(),
        report.skipped,
        report.failed
    );
    if report.failed > 0 {
        bail!("{line} Run it again to copy the rest.");
    }
    success(&line);
    Ok(())
}
