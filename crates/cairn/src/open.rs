//! Opening a data directory's stores, with a progress bar while event history catches up
//! with the journal (long after an import or a crash).

use anyhow::Context;
use cairn_services::app::{Layout, Stores};
use cairn_services::cluster::Cluster;
use cairn_store::journal::JournalConfig;

use crate::datadir::DataDir;

pub fn open(dir: &DataDir) -> anyhow::Result<Stores> {
    let bar = catch_up_bar();
    let stores = Stores::open(&layout(dir), JournalConfig::default(), |done, total| {
        show(&bar, done, total)
    })
    .context("opening the data directory")?;
    bar.finish_and_clear();
    Ok(stores)
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
