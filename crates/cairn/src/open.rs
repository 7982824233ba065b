//! Opening a data directory's stores, with a progress bar while event history catches up
//! with the journal (long after an import or a crash).

use anyhow::{Context, bail};
use cairn_services::app::{Layout, Stores};
use cairn_services::cluster::Cluster;
use cairn_store::identity::AccessKey;
use cairn_store::journal::JournalConfig;

use crate::datadir::DataDir;
use crate::serve::{FIRST_ACCOUNT_LOCK, ensure_account};

pub fn open(dir: &DataDir) -> anyhow::Result<Stores> {
    let bar = catch_up_bar();
    let stores = Stores::open(&layout(dir), JournalConfig::default(), |done, total| {
        show(&bar, done, total)
    })
    .context("opening the data directory")?;
    bar.finish_and_clear();
    Ok(stores)
}

/// Opens what this node serves, the data directory's own stores or (given one) its cluster's,
/// notes which in the directory (for the commands that read it later), and makes sure the
/// first account exists: its root key, and whether it was made now.
pub fn open_node(
    dir: &DataDir,
    cluster: Option<&Cluster>,
    now_ms: i64,
) -> anyhow::Result<(Stores, AccessKey, bool)> {
    if cluster.is_none() && dir.migrated_file().exists() {
        bail!(
            "{} was migrated into a cluster (see {}): serving its old embedded stores would fork the data. Start it as a node (--database, --object-store), or remove that file to serve the snapshot anyway",
            dir.root.display(),
            dir.migrated_file().display()
        );
    }
    let stores = match cluster {
        Some(c) => open_cluster(dir, c, now_ms)?,
        None => open(dir)?,
    };
    dir.set_cluster(cluster.map(|c| (c.database.as_str(), c.schema_prefix.as_str())))?;
    let (key, created) = match cluster {
        // Nodes starting together make one first account between them.
        Some(c) => cairn_store::pg::exclusively(&c.database, FIRST_ACCOUNT_LOCK, || {
            ensure_account(&*stores.identity, now_ms)
        })??,
        None => ensure_account(&*stores.identity, now_ms)?,
    };
    Ok((stores, key, created))
}

/// Opens a cluster's stores as a node whose own files (master keys, staging) are in `dir`.
pub fn open_cluster(dir: &DataDir, cluster: &Cluster, now_ms: i64) -> anyhow::Result<Stores> {
    let bar = catch_up_bar();
    let stores = Stores::open_cluster(&layout(dir), cluster, now_ms, |done, total| {
        show(&bar, done, total)
    })
    .context("opening the cluster's stores")?;
    bar.finish_and_clear();
    Ok(stores)
}

fn show(bar: &indicatif::ProgressBar, done: u64, total: u64) {
    if bar.is_hidden() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.set_length(total);
    }
    bar.set_position(done);
}

/// Shown only once a catch-up reports progress.
fn catch_up_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::hidden();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "indexing event history {bar:40} {bytes}/{total_bytes} ({eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// The stores' places under the data directory.
pub fn layout(dir: &DataDir) -> Layout {
    Layout::new(&dir.root)
}
