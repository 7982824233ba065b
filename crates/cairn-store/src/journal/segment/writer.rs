//! The group-commit writer: one thread appends every pending batch and fsyncs once; a second
//! thread hands each durable batch to the commit hook and then acknowledges its callers. A
//! caller is answered only after its entries are on disk (and indexed); if they cannot be, it
//! gets an error and the journal refuses further writes.
//!
//! Writing and indexing overlap: while the hook indexes one batch, the writer already writes and
//! fsyncs the next, and a hook that falls behind takes every batch that became durable meanwhile
//! in one go (fewer, larger index transactions under load). When nothing is waiting for the
//! hook, the writer shows the batch to it itself, so a lone caller pays no hand-over.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::frame;
use super::segments::{self, SegmentFiles, segment_path};
use crate::error::StoreError;

/// Called after each durable batch, before anyone is acknowledged. The event-history index
/// uses it so that a call is searchable once its response is sent.
pub trait CommitHook: Send + 'static {
    /// `entries` were made durable; `end` is the journal's head after them.
    fn committed(&mut self, entries: &[(u64, Vec<u8>)], end: u64);

    /// Whether the hook does nothing (callers are then acknowledged by the writer itself,
    /// without a hand-over to the hook's thread).
    fn is_noop(&self) -> bool {
        false
    }
}

/// A hook that does nothing.
pub struct NoHook;

impl CommitHook for NoHook {
    fn committed(&mut self, _entries: &[(u64, Vec<u8>)], _end: u64) {}

    fn is_noop(&self) -> bool {
        true
    }
}

type Ack = oneshot::Sender<Result<Vec<u64>, StoreError>>;

pub(crate) struct AppendRequest {
    pub payloads: Vec<Vec<u8>>,
    pub done: Ack,
}

pub(crate) struct WriterState {
    pub dir: PathBuf,
    pub base: u64,
    pub file: File,
    pub len: u64,
    pub segment_bytes: u64,
    pub fsync: bool,
    pub files: Arc<SegmentFiles>,
    pub head: Arc<AtomicU64>,
    pub failed: Arc<Mutex<Option<String>>>,
    /// Set by [`crate::journal::Journal::fail_next_write`].
    pub fail_next: Arc<AtomicBool>,
}

/// Most bytes gathered into one commit.
const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

/// A batch's outcome on its way to its callers, in journal order.
enum Outcome {
    /// On disk: to be shown to the hook, then acknowledged.
    Durable {
        entries: Vec<(u64, Vec<u8>)>,
        /// The journal's head after them.
        end: u64,
        acks: Vec<(Ack, Vec<u64>)>,
    },
    /// Refused: the callers learn why (after every earlier batch has been acknowledged).
    Failed { acks: Vec<Ack>, reason: String },
}

pub(crate) fn run(st: WriterState, rx: Receiver<AppendRequest>, hook: Box<dyn CommitHook>) {
    if hook.is_noop() {
        return write_loop(st, rx, acknowledge);
    }
    let hook = Arc::new(Mutex::new(hook));
    // Outcomes handed to the hook thread and not yet acknowledged by it.
    let in_flight = Arc::new(AtomicUsize::new(0));
    let (to_hook, from_writer) = mpsc::channel::<Outcome>();
    std::thread::scope(|scope| {
        let (thread_hook, thread_in_flight) = (Arc::clone(&hook), Arc::clone(&in_flight));
        let spawned = std::thread::Builder::new()
            .name("journal-commit-hook".into())
            .spawn_scoped(scope, move || {
                hook_loop(from_writer, &thread_hook, &thread_in_flight)
            });
        match spawned {
            // The closure owns the sender: when the writer stops, it is dropped and the hook
            // thread finishes what was handed to it, then ends (the scope waits for it).
            Ok(_) => write_loop(st, rx, move |o| {
                // Nothing earlier is waiting for the hook: show this batch here, sparing a
                // lone caller the hand-over to another thread (order is kept: every earlier
                // batch is acknowledged). Under load, batches queue for the hook thread and
                // overlap the next write.
                if in_flight.load(Ordering::Acquire) == 0
                    && let Ok(mut h) = hook.try_lock()
                {
                    show(&mut **h, vec![o]);
                    return;
                }
                in_flight.fetch_add(1, Ordering::AcqRel);
                let _ = to_hook.send(o);
            }),
            Err(e) => {
                tracing::error!(error = %e, "could not start the journal's commit-hook thread");
                *st.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                write_loop(st, rx, acknowledge);
            }
        }
    });
}

/// Shows durable batches to the hook, as many at once as have gathered, then acknowledges them.
fn hook_loop(rx: Receiver<Outcome>, hook: &Mutex<Box<dyn CommitHook>>, in_flight: &AtomicUsize) {
    while let Ok(first) = rx.recv() {
        let mut gathered = vec![first];
        gathered.extend(rx.try_iter());
        let n = gathered.len();
        {
            let mut h = hook.lock().unwrap_or_else(|p| p.into_inner());
            show(&mut **h, gathered);
        }
        in_flight.fetch_sub(n, Ordering::AcqRel);
    }
}

/// Shows `gathered` (in journal order) to the hook in one call, then acknowledges each.
fn show(hook: &mut dyn CommitHook, mut gathered: Vec<Outcome>) {
    let mut entries: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut end = None;
    for o in &mut gathered {
        if let Outcome::Durable {
            entries: e,
            end: e_end,
            ..
        } = o
        {
            entries.append(e);
            end = Some(*e_end);
        }
    }
    if let Some(end) = end {
        hook.committed(&entries, end);
    }
    for o in gathered {
        acknowledge(o);
    }
}

fn acknowledge(outcome: Outcome) {
    match outcome {
        Outcome::Durable { acks, .. } => {
            for (done, offs) in acks {
                let _ = done.send(Ok(offs));
            }
        }
        Outcome::Failed { acks, reason } => {
            for done in acks {
                let _ = done.send(Err(StoreError::JournalFailed(reason.clone())));
            }
        }
    }
}

/// Group-commits every pending request until the journal is closed, handing each batch's
/// outcome to `out` in order.
fn write_loop(mut st: WriterState, rx: Receiver<AppendRequest>, mut out: impl FnMut(Outcome)) {
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        let mut bytes: usize = batch[0].payloads.iter().map(Vec::len).sum();
        while bytes < MAX_BATCH_BYTES {
            match rx.try_recv() {
                Ok(r) => {
                    bytes += r.payloads.iter().map(Vec::len).sum::<usize>();
                    batch.push(r);
                }
                Err(TryRecvError::Empty) | Err(TryRecvError::Disconnected) => break,
            }
        }
        if let Some(reason) = st.failed.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            let acks = batch.into_iter().map(|r| r.done).collect();
            out(Outcome::Failed { acks, reason });
            continue;
        }
        match write_batch(&mut st, &mut buf, &batch) {
            Ok(offsets) => {
                let mut entries = Vec::with_capacity(offsets.iter().map(Vec::len).sum());
                let mut acks = Vec::with_capacity(batch.len());
                for (r, offs) in batch.into_iter().zip(offsets) {
                    entries.extend(offs.iter().copied().zip(r.payloads));
                    acks.push((r.done, offs));
                }
                out(Outcome::Durable {
                    entries,
                    end: st.base + st.len,
                    acks,
                });
            }
            Err(e) => {
                tracing::error!(error = %e, "journal write failed; refusing further writes");
                *st.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                let acks = batch.into_iter().map(|r| r.done).collect();
                out(Outcome::Failed {
                    acks,
                    reason: e.to_string(),
                });
            }
        }
    }
}

fn write_batch(
    st: &mut WriterState,
    buf: &mut Vec<u8>,
    batch: &[AppendRequest],
) -> Result<Vec<Vec<u64>>, StoreError> {
    if st.len >= st.segment_bytes {
        roll(st)?;
    }
    let start_len = st.len;
    buf.clear();
    let mut offsets = Vec::with_capacity(batch.len());
    for r in batch {
        let mut offs = Vec::with_capacity(r.payloads.len());
        for p in &r.payloads {
            if p.len() > frame::MAX_PAYLOAD {
                return Err(StoreError::Invalid(format!(
                    "journal entry of {} bytes exceeds the maximum",
                    p.len()
                )));
            }
            let off = st.base + st.len + buf.len() as u64;
            frame::encode_into(buf, p);
            offs.push(off);
        }
        offsets.push(offs);
    }
    let path = segment_path(&st.dir, st.base);
    if st.fail_next.swap(false, Ordering::AcqRel) {
        return Err(StoreError::io(
            path,
            std::io::Error::other("injected failure (fault-injection test)"),
        ));
    }
    let res = st.file.write_all(buf).and_then(|()| {
        if st.fsync {
            st.file.sync_data()
        } else {
            Ok(())
        }
    });
    if let Err(e) = res {
        // Cut back what may have been written, so a restart cannot resurrect entries whose
        // callers were told they failed.
        let _ = st.file.set_len(start_len);
        let _ = st.file.sync_data();
        return Err(StoreError::io(path, e));
    }
    st.len += buf.len() as u64;
    st.head.store(st.base + st.len, Ordering::Release);
    Ok(offsets)
}

fn roll(st: &mut WriterState) -> Result<(), StoreError> {
    let new_base = st.base + st.len;
    let path = segment_path(&st.dir, new_base);
    st.file = segments::open_for_append(&path, 0)?;
    segments::sync_dir(&st.dir)?;
    st.files.add(new_base)?;
    st.base = new_base;
    st.len = 0;
    Ok(())
}
