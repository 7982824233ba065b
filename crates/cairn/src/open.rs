//! Opening the stores of a data directory, wired together: the journal's commit hook feeds the
//! event-history index, which first catches up with anything it has not seen.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use cairn_store::history::{HistoryIndex, IndexHook};
use cairn_store::identity::IdentityStore;
use cairn_store::journal::{Journal, JournalConfig};
use cairn_store::kms::KmsStore;
use cairn_store::objects::ObjectStore;
use cairn_store::trails::TrailStore;

use crate::datadir::DataDir;

pub struct Stores {
    pub journal: Journal,
    pub history: Arc<HistoryIndex>,
    pub identity: Arc<IdentityStore>,
    pub objects: Arc<ObjectStore>,
    pub trails: Arc<TrailStore>,
    pub kms: Arc<KmsStore>,
    /// Set when the index missed a commit and needs a catch-up pass.
    pub history_behind: Arc<AtomicBool>,
}

pub fn open(dir: &DataDir) -> anyhow::Result<Stores> {
    let identity = Arc::new(
        IdentityStore::open(&dir.identity_db())
            .with_context(|| format!("opening {}", dir.identity_db().display()))?,
    );
    let history = Arc::new(
        HistoryIndex::open(&dir.history_db())
            .with_context(|| format!("opening {}", dir.history_db().display()))?,
    );
    let behind = Arc::new(AtomicBool::new(false));
    let journal = Journal::open(
        &dir.journal(),
        JournalConfig::default(),
        Box::new(IndexHook::new(Arc::clone(&history), Arc::clone(&behind))),
    )
    .with_context(|| format!("opening the journal in {}", dir.journal().display()))?;
    let backlog = journal.head().saturating_sub(history.cursor()?);
    if backlog > 0 {
        let bar = indicatif::ProgressBar::new(backlog);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "indexing event history {bar:40} {bytes}/{total_bytes} ({eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let start = history.cursor()?;
        history
            .catch_up(&journal, |pos, _| {
                bar.set_position(pos.saturating_sub(start))
            })
            .context("indexing the journal into event history")?;
        bar.finish_and_clear();
    }
    let objects = Arc::new(
        ObjectStore::open(&dir.s3())
            .with_context(|| format!("opening the S3 store in {}", dir.s3().display()))?,
    );
    let trails = Arc::new(
        TrailStore::open(&dir.trails_db())
            .with_context(|| format!("opening {}", dir.trails_db().display()))?,
    );
    let kms = Arc::new(
        KmsStore::open(&dir.kms_db(), &dir.kms_master_key())
            .with_context(|| format!("opening {}", dir.kms_db().display()))?,
    );
    Ok(Stores {
        objects,
        kms,
        trails,
        journal,
        history,
        identity,
        history_behind: behind,
    })
}
