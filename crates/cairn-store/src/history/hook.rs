//! Feeds each durable journal batch to the event-history index before callers are answered.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::HistoryIndex;
use crate::journal::CommitHook;

pub struct IndexHook {
    index: Arc<dyn HistoryIndex>,
    /// Set when a batch could not be indexed; a background catch-up clears it.
    behind: Arc<AtomicBool>,
}

impl IndexHook {
    pub fn new(index: Arc<dyn HistoryIndex>, behind: Arc<AtomicBool>) -> Self {
        Self { index, behind }
    }
}

impl CommitHook for IndexHook {
    fn committed(&mut self, entries: &[(u64, Vec<u8>)], end: u64) {
        if self.behind.load(Ordering::Acquire) {
            return;
        }
        if let Err(e) = self.index.apply(entries, end) {
            tracing::error!(error = %e, "event history fell behind the journal; catching up in the background");
            self.behind.store(true, Ordering::Release);
        }
    }
}
