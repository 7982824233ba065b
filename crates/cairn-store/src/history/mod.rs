//! Event history: the index behind LookupEvents, derived from the journal and rebuildable from
//! it.
//!
//! [`HistoryIndex`] is the contract: each management or Insights event is indexed exactly once
//! (the cursor moves with the rows, across crashes), found by one attribute in a time range,
//! newest first, in keyset pages; old events are purged by time. The record itself stays in
//! the journal; an indexed event points at it by offset. [`FollowingIndex`] keeps an index
//! behind the journal's acknowledgements yet current for every read. [`SqliteHistory`] is the
//! embedded backend, [`PgHistory`] the one of nodes sharing PostgreSQL; the shared suite
//! (`crate::suite::history`) holds any backend to this contract.

mod consumer;
mod following;
pub mod pg;
mod query;
pub mod sqlite;

pub use consumer::HistoryConsumer;
pub use following::FollowingIndex;
pub use pg::PgHistory;
pub use query::{IndexedEvent, LookupKey, LookupPage, LookupQuery, PageAfter, ShownResource};
pub use sqlite::SqliteHistory;

use crate::error::StoreError;
use crate::journal::Journal;

/// The event-history index.
pub trait HistoryIndex: Send + Sync {
    /// The journal offset this index has read up to: every entry before it is indexed.
    fn cursor(&self) -> Result<u64, StoreError>;

    /// Indexes committed journal entries, in order; `end` is the journal's cursor just after
    /// the last of them (where reading goes on), which the index's cursor moves to in the same
    /// transaction as the rows. Entries before the cursor are skipped (already indexed); a gap
    /// after it is an error, left for [`HistoryIndex::catch_up`] to fill. Offsets are the
    /// journal's own: the index never computes one.
    fn apply(&self, entries: &[(u64, Vec<u8>)], end: u64) -> Result<(), StoreError>;

    /// Reads `journal` from this index's cursor to its head and indexes what it finds,
    /// skipping past purged entries. `progress(position, head)` follows along. Returns the
    /// number of entries read.
    fn catch_up(
        &self,
        journal: &dyn Journal,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<u64, StoreError>;

    /// Whether `account` already has an event with this id (of any category).
    fn has_event_id(&self, account: &str, event_id: &str) -> Result<bool, StoreError>;

    /// Looks events up, newest first (by event time, then journal offset).
    fn lookup(&self, q: &LookupQuery) -> Result<LookupPage, StoreError>;

    /// Deletes events whose `eventTime` is before `cutoff_ms`. Returns how many went.
    fn purge_before(&self, cutoff_ms: i64) -> Result<usize, StoreError>;

    /// Number of indexed events (for diagnostics and tests).
    fn count(&self) -> Result<u64, StoreError>;
}
