//! Event history as a journal consumer, whatever backs the index and the journal.

use std::sync::atomic::Ordering;

use super::HistoryIndex;
use crate::error::StoreError;
use crate::journal::Journal;

/// Event history as a journal consumer. The commit hook indexes each batch once it is durable;
/// when it could not (the index was busy or failed), `behind` is set and a round catches the
/// index up from its cursor.
pub struct HistoryConsumer {
    pub history: std::sync::Arc<dyn HistoryIndex>,
    pub journal: std::sync::Arc<dyn Journal>,
    pub behind: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl crate::journal::Consumer for HistoryConsumer {
    fn name(&self) -> &'static str {
        "history"
    }

    fn needs_from(&self) -> Result<u64, StoreError> {
        self.history.cursor()
    }

    fn run_due(&self) -> Result<crate::journal::Round, String> {
        if !self.behind.load(Ordering::Acquire) {
            return Ok(crate::journal::Round::default());
        }
        let n = self
            .history
            .catch_up(&*self.journal, &mut |_, _| {})
            .map_err(|e| e.to_string())?;
        if self.history.cursor().ok() == Some(self.journal.head()) {
            self.behind.store(false, Ordering::Release);
        }
        Ok(crate::journal::Round { done: n })
    }
}
