//! The journal: cairn's durable, append-only source of truth, as every backend offers it.
//!
//! [`Journal`] is the contract: appends are acknowledged only once durable (group-committed),
//! an offset names an entry forever, entries are read back in offset order from any cursor,
//! and a journal that failed to make a batch durable refuses writes from then on (audit fails
//! closed). Consumers ([`consumer`]) keep their own cursors and say how far back they still
//! need the journal; [`Journal::purge`] drops only what all of them have read.
//!
//! The embedded backend is [`segment::SegmentJournal`], cairn's own segment log; nodes sharing
//! a PostgreSQL database use [`pg::PgJournal`]; the shared
//! suite (`crate::suite::journal`) holds any backend to this contract.

pub mod consumer;
mod entry;
pub mod lease;
pub mod pg;
pub mod segment;

use tokio::sync::oneshot;

pub use consumer::{Consumer, Consumers, Round, Serial};
pub use entry::{Entry, EntryKind, Served};
pub use lease::{LEASE_TTL_MS, Lease, Leased, Leases, PgLeases, Solo};
pub use pg::PgJournal;
pub use segment::{CommitHook, JournalConfig, NoHook, SegmentJournal};

use crate::error::StoreError;

/// Journal entries as `(offset, payload)` pairs, in offset order.
pub type Entries = Vec<(u64, Vec<u8>)>;

/// The durable, ordered log of recorded and imported calls.
pub trait Journal: Send + Sync {
    /// Queues entries for the next group commit; the returned handle resolves with their
    /// offsets once they are durable, or with the reason they are not.
    fn append(&self, payloads: Vec<Vec<u8>>) -> PendingAppend;

    /// Why the journal refuses writes, if it does (an earlier batch could not be made
    /// durable). Calls are refused while this is `Some`.
    fn failure(&self) -> Option<String>;

    /// Makes the next group commit fail as a failing disk or database would: its callers are
    /// told their entries are not durable, nothing of it is kept, and the journal refuses
    /// writes from then on. For fault-injection tests of audit that fails closed.
    fn fail_next_write(&self);

    /// The end of the durable journal: every entry before this offset is durable, and the
    /// next one appended gets an offset at or after it.
    fn head(&self) -> u64;

    /// The payload of the entry at `offset`.
    fn read_at(&self, offset: u64) -> Result<Vec<u8>, StoreError>;

    /// Durable entries from `offset` on, in order, about `max_bytes` at a time, and the
    /// cursor to continue from. An offset before the oldest kept entry (purged) continues at
    /// the oldest; an empty batch with an unchanged cursor means the reader is at the head.
    fn read_from(&self, offset: u64, max_bytes: usize) -> Result<(Entries, u64), StoreError>;

    /// Drops entries that every consumer has read past (`min_cursor`) and that were written
    /// before `older_than`, in whatever units the backend keeps (segments, partitions).
    /// Returns how many units went. Entries at or after `min_cursor` are never dropped.
    fn purge(
        &self,
        min_cursor: u64,
        older_than: std::time::SystemTime,
    ) -> Result<usize, StoreError>;
}

/// A pending append; resolves once the entries are durable.
pub struct PendingAppend(oneshot::Receiver<Result<Vec<u64>, StoreError>>);

impl PendingAppend {
    /// The handle a backend answers through: it sends the offsets (or the failure) on the
    /// other end once it knows.
    pub fn channel() -> (oneshot::Sender<Result<Vec<u64>, StoreError>>, PendingAppend) {
        let (tx, rx) = oneshot::channel();
        (tx, PendingAppend(rx))
    }

    /// An append refused at once.
    pub fn failed(e: StoreError) -> PendingAppend {
        let (tx, p) = PendingAppend::channel();
        let _ = tx.send(Err(e));
        p
    }

    pub async fn wait(self) -> Result<Vec<u64>, StoreError> {
        self.0.await.unwrap_or(Err(StoreError::JournalClosed))
    }

    /// Blocks the current (non-async) thread until the entries are durable.
    pub fn wait_blocking(self) -> Result<Vec<u64>, StoreError> {
        self.0
            .blocking_recv()
            .unwrap_or(Err(StoreError::JournalClosed))
    }
}
