//! The group-commit writer: one thread appends every pending batch, fsyncs once, and
//! acknowledges its callers, then shows the batch to the commit hook. A caller is answered only
//! after its entries are on disk; if they cannot be, it gets an error and the journal refuses
//! further writes. The hook runs behind the callers, never in their way: whoever reads what it
//! derives waits for it (see `crate::history::FollowingIndex`).

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::frame;
use super::segments::{self, SegmentFiles, segment_path};
use crate::error::StoreError;

/// Shown each durable batch, in journal order, on the writer's thread just after its callers
/// were answered. It must not block: a hook with real work hands it to a thread of its own
/// (the event-history index does).
pub trait CommitHook: Send + 'static {
    /// `entries` were made durable; `end` is the journal's head after them.
    fn committed(&mut self, entries: Vec<(u64, Vec<u8>)>, end: u64);
}

/// A hook that does nothing.
pub struct NoHook;

impl CommitHook for NoHook {
    fn committed(&mut self, _entries: Vec<(u64, Vec<u8>)>, _end: u64) {}
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

/// A batch's outcome.
enum Outcome {
    /// On disk: its callers are acknowledged, then the hook is shown the entries.
    Durable {
        entries: Vec<(u64, Vec<u8>)>,
        /// The journal's head after them.
        end: u64,
        acks: Vec<(Ack, Vec<u64>)>,
    },
    /// Refused: the callers learn why.
    Failed { acks: Vec<Ack>, reason: String },
}

pub(crate) fn run(st: WriterState, rx: Receiver<AppendRequest>, mut hook: Box<dyn CommitHook>) {
    write_loop(st, rx, |outcome| match outcome {
        Outcome::Durable { entries, end, acks } => {
            for (done, offs) in acks {
                let _ = done.send(Ok(offs));
            }
            hook.committed(entries, end);
        }
        Outcome::Failed { acks, reason } => {
            for done in acks {
                let _ = done.send(Err(StoreError::JournalFailed(reason.clone())));
            }
        }
    })
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
