//! The event-history index as it follows the journal: written behind the callers, and read
//! only once it has caught up with every call acknowledged before the read began.
//!
//! The journal acknowledges a call once its record is durable, then hands the batch to this
//! index's own thread, which gathers batches for a few milliseconds and indexes them in one
//! transaction: under load one commit covers hundreds of events instead of one fsync's worth.
//! A read that finds the index behind the journal's head asks the thread to index what it
//! holds at once and waits for it. A client that sees its call answered therefore finds it in
//! LookupEvents, and indexing never sits between a call and its answer.
//!
//! Nodes of a cluster share one journal and one index ([`FollowingIndex::shared`]): a node's
//! commits are only some of the journal's, so its thread indexes by reading the journal from
//! the index's cursor (the index takes each entry once, whichever node gets there first), and
//! a read compares the index's cursor in the database with the journal's head, so a call
//! answered by any node is found by a read on any other.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{HistoryIndex, LookupPage, LookupQuery};
use crate::error::StoreError;
use crate::journal::{CommitHook, Journal};

/// How long the indexing thread gathers batches before it writes them, unless a reader waits.
const GATHER: Duration = Duration::from_millis(200);

/// Most entries written in one transaction.
const MOST_ENTRIES: usize = 20_000;

/// How long a read waits for the index before it answers with what is indexed. Only a failing
/// index (disk full, a broken file) should ever get near it.
const MOST_WAIT: Duration = Duration::from_secs(5);

/// An index that follows a journal: see the module documentation.
pub struct FollowingIndex {
    shared: Arc<Shared>,
}

struct Shared {
    inner: Arc<dyn HistoryIndex>,
    /// Durable batches waiting for the indexing thread.
    queue: Mutex<Queue>,
    /// Wakes the indexing thread (work arrived, a reader waits, or the journal closed).
    work: Condvar,
    /// Every journal entry before this offset is indexed.
    indexed: AtomicU64,
    /// Wakes readers waiting for `indexed` to move.
    moved: (Mutex<()>, Condvar),
    /// Set when a batch could not be indexed; a catch-up from the index's cursor clears it.
    behind: Arc<AtomicBool>,
    /// Other nodes write to the journal and the index too.
    cluster: bool,
    /// Weak: the journal holds this index's hook, which holds `shared`.
    journal: OnceLock<Weak<dyn Journal>>,
}

#[derive(Default)]
struct Queue {
    entries: Vec<(u64, Vec<u8>)>,
    end: u64,
    /// When the oldest queued batch arrived.
    since: Option<Instant>,
    /// A reader waits: index what is queued now.
    wanted: bool,
    /// The journal closed: index what is queued, then stop.
    closed: bool,
}

impl FollowingIndex {
    /// Wraps `inner`, whose cursor says how far it has indexed. `behind` is shared with the
    /// history consumer that catches a failed index up.
    pub fn new(
        inner: Arc<dyn HistoryIndex>,
        behind: Arc<AtomicBool>,
    ) -> Result<Arc<FollowingIndex>, StoreError> {
        FollowingIndex::with(inner, behind, false)
    }

    /// The same for a node of a cluster (see the module documentation).
    pub fn shared(
        inner: Arc<dyn HistoryIndex>,
        behind: Arc<AtomicBool>,
    ) -> Result<Arc<FollowingIndex>, StoreError> {
        FollowingIndex::with(inner, behind, true)
    }

    fn with(
        inner: Arc<dyn HistoryIndex>,
        behind: Arc<AtomicBool>,
        cluster: bool,
    ) -> Result<Arc<FollowingIndex>, StoreError> {
        let indexed = AtomicU64::new(inner.cursor()?);
        Ok(Arc::new(FollowingIndex {
            shared: Arc::new(Shared {
                inner,
                queue: Mutex::new(Queue::default()),
                work: Condvar::new(),
                indexed,
                moved: (Mutex::new(()), Condvar::new()),
                behind,
                cluster,
                journal: OnceLock::new(),
            }),
        }))
    }

    /// The commit hook to open the journal with; it starts the indexing thread, which stops
    /// when the journal closes (after indexing what it was handed).
    pub fn hook(&self) -> Result<Box<dyn CommitHook>, StoreError> {
        let shared = Arc::clone(&self.shared);
        let thread = std::thread::Builder::new()
            .name("history-index".into())
            .spawn(move || shared.index_loop())
            .map_err(|e| StoreError::Invalid(format!("starting the history index thread: {e}")))?;
        Ok(Box::new(Hook {
            shared: Arc::clone(&self.shared),
            thread: Some(thread),
        }))
    }

    /// The journal this index follows (known once it is open); reads wait for its head.
    pub fn follow(&self, journal: &Arc<dyn Journal>) {
        let _ = self.shared.journal.set(Arc::downgrade(journal));
    }

    /// Waits until every entry the journal had acknowledged when this was called is indexed.
    /// If the index fell behind (a batch failed to index), catches it up here rather than
    /// waiting for the consumer's next round.
    fn settle(&self) {
        let s = &self.shared;
        let Some(journal) = s.journal.get().and_then(Weak::upgrade) else {
            return;
        };
        let target = journal.head();
        if s.indexed.load(Ordering::Acquire) >= target {
            return;
        }
        let deadline = Instant::now() + MOST_WAIT;
        loop {
            if s.behind.load(Ordering::Acquire) {
                // A failed catch-up is tried again until the deadline: the index's database
                // may be back a moment later (its connections are made again on their next use).
                match self.catch_up(&*journal, &mut |_, _| {}) {
                    Ok(_) if s.indexed.load(Ordering::Acquire) >= target => return,
                    Ok(_) => {}
                    Err(e) if Instant::now() >= deadline => {
                        tracing::warn!(error = %e, "event history could not catch up; answering with what is indexed");
                        return;
                    }
                    Err(_) => {}
                }
            }
            // Nodes of a cluster share the index: another node may have indexed these
            // entries, as the shared cursor says.
            if s.cluster {
                match s.inner.cursor() {
                    Ok(cursor) if cursor >= target => {
                        s.moved_to(cursor);
                        return;
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "could not read event history's cursor"),
                }
            }
            {
                let mut q = s.queue.lock().unwrap_or_else(|p| p.into_inner());
                q.wanted = true;
                s.work.notify_one();
            }
            let now = Instant::now();
            if now >= deadline {
                tracing::warn!(
                    target,
                    "event history is behind the journal; answering with what is indexed"
                );
                return;
            }
            let guard = s.moved.0.lock().unwrap_or_else(|p| p.into_inner());
            if s.indexed.load(Ordering::Acquire) >= target {
                return;
            }
            let wait = (deadline - now).min(Duration::from_millis(20));
            let _ = s.moved.1.wait_timeout(guard, wait);
            if s.indexed.load(Ordering::Acquire) >= target {
                return;
            }
        }
    }
}

impl Shared {
    /// Indexes what the journal holds past the index's cursor: this node's entries and the
    /// other nodes' alike.
    fn index_from_journal(&self) {
        let Some(journal) = self.journal.get().and_then(Weak::upgrade) else {
            return;
        };
        let done = self
            .inner
            .catch_up(&*journal, &mut |_, _| {})
            .and_then(|_| self.inner.cursor());
        match done {
            Ok(cursor) => self.moved_to(cursor),
            Err(e) => {
                tracing::error!(error = %e, "event history fell behind the journal; catching up");
                self.behind.store(true, Ordering::Release);
                let _guard = self.moved.0.lock().unwrap_or_else(|p| p.into_inner());
                self.moved.1.notify_all();
            }
        }
    }

    fn moved_to(&self, end: u64) {
        self.indexed.fetch_max(end, Ordering::AcqRel);
        let _guard = self.moved.0.lock().unwrap_or_else(|p| p.into_inner());
        self.moved.1.notify_all();
    }

    /// The indexing thread: waits for batches, gathers them for [`GATHER`] (less when a
    /// reader waits), and indexes them in one transaction.
    fn index_loop(&self) {
        loop {
            let (entries, end) = {
                let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
                // In a cluster a waiting reader is work even with nothing queued here: the
                // entries it waits for may be another node's.
                while q.entries.is_empty() && !q.closed && !(self.cluster && q.wanted) {
                    q = self.work.wait(q).unwrap_or_else(|p| p.into_inner());
                }
                if q.entries.is_empty() && !(self.cluster && q.wanted) {
                    return;
                }
                let due = q.since.unwrap_or_else(Instant::now) + GATHER;
                loop {
                    let now = Instant::now();
                    if q.wanted || q.closed || q.entries.len() >= MOST_ENTRIES || now >= due {
                        break;
                    }
                    q = self
                        .work
                        .wait_timeout(q, due - now)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
                q.since = None;
                q.wanted = false;
                (std::mem::take(&mut q.entries), q.end)
            };
            if self.behind.load(Ordering::Acquire) {
                // A catch-up from the index's cursor will read these from the journal.
                continue;
            }
            if self.cluster {
                self.index_from_journal();
                continue;
            }
            match self.inner.apply(&entries, end) {
                Ok(()) => self.moved_to(end),
                Err(e) => {
                    tracing::error!(error = %e, "event history fell behind the journal; catching up");
                    self.behind.store(true, Ordering::Release);
                    // Wake readers so that they catch the index up themselves.
                    let _guard = self.moved.0.lock().unwrap_or_else(|p| p.into_inner());
                    self.moved.1.notify_all();
                }
            }
        }
    }
}

impl HistoryIndex for FollowingIndex {
    fn cursor(&self) -> Result<u64, StoreError> {
        self.shared.inner.cursor()
    }

    fn apply(&self, entries: &[(u64, Vec<u8>)], end: u64) -> Result<(), StoreError> {
        self.shared.inner.apply(entries, end)?;
        self.shared.moved_to(end);
        Ok(())
    }

    fn catch_up(
        &self,
        journal: &dyn Journal,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<u64, StoreError> {
        let n = self.shared.inner.catch_up(journal, progress)?;
        self.shared.moved_to(self.shared.inner.cursor()?);
        Ok(n)
    }

    fn has_event_id(&self, account: &str, event_id: &str) -> Result<bool, StoreError> {
        self.settle();
        self.shared.inner.has_event_id(account, event_id)
    }

    fn lookup(&self, q: &LookupQuery) -> Result<LookupPage, StoreError> {
        self.settle();
        self.shared.inner.lookup(q)
    }

    fn purge_before(&self, cutoff_ms: i64) -> Result<usize, StoreError> {
        self.shared.inner.purge_before(cutoff_ms)
    }

    fn count(&self) -> Result<u64, StoreError> {
        self.settle();
        self.shared.inner.count()
    }
}

/// Queues each durable batch for the indexing thread; closing the journal drops it, which
/// lets the thread finish and waits for it.
struct Hook {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl CommitHook for Hook {
    fn committed(&mut self, mut entries: Vec<(u64, Vec<u8>)>, end: u64) {
        let mut q = self.shared.queue.lock().unwrap_or_else(|p| p.into_inner());
        if q.entries.is_empty() {
            q.entries = std::mem::take(&mut entries);
            q.since = Some(Instant::now());
            self.shared.work.notify_one();
        } else {
            q.entries.append(&mut entries);
            if q.entries.len() >= MOST_ENTRIES {
                self.shared.work.notify_one();
            }
        }
        q.end = end;
    }
}

impl Drop for Hook {
    fn drop(&mut self) {
        {
            let mut q = self.shared.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.closed = true;
            self.shared.work.notify_one();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
