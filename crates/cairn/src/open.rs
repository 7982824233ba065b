//! Opening a data directory's stores, with a progress bar while event history catches up
//! with the journal (long after an import or a crash).

use anyhow::Context;
use cairn_services::app::{Layout, Stores};
use cairn_store::journal::JournalConfig;

use crate::datadir::DataDir;

pub fn open(dir: &DataDir) -> anyhow::Result<Stores> {
    let bar = indicatif::ProgressBar::hidden();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "indexing event history {bar:40} {bytes}/{total_bytes} ({eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let stores = Stores::open(&layout(dir), JournalConfig::default(), |done, total| {
        if bar.is_hidden() {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.set_length(total);
        }
        bar.set_position(done);
    })
    .context("opening the data directory")?;
    bar.finish_and_clear();
    Ok(stores)
}

/// The stores' places under the data directory.
pub fn layout(dir: &DataDir) -> Layout {
    Layout::new(&dir.root)
}
