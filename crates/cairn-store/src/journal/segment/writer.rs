//! The group-commit writer: one thread appends every pending batch, fsyncs once, tells the
//! commit hook, then acknowledges all of them. A caller is answered only after its entries are
//! on disk; if they cannot be, it gets an error and the journal refuses further writes.

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

/// Called on the writer thread after each durable batch, before anyone is acknowledged. The
/// event-history index uses it so that a call is searchable once its response is sent.
pub trait CommitHook: Send + 'static {
    /// `entries` were made durable; `end` is the journal's head after them.
    fn committed(&mut self, entries: &[(u64, Vec<u8>)], end: u64);
}

/// A hook that does nothing.
pub struct NoHook;

impl CommitHook for NoHook {
    fn committed(&mut self, _entries: &[(u64, Vec<u8>)], _end: u64) {}
}

pub(crate) struct AppendRequest {
    pub payloads: Vec<Vec<u8>>,
    pub done: oneshot::Sender<Result<Vec<u64>, StoreError>>,
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

pub(crate) fn run(mut st: WriterState, rx: Receiver<AppendRequest>, mut hook: Box<dyn CommitHook>) {
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
            for r in batch {
                let _ = r.done.send(Err(StoreError::JournalFailed(reason.clone())));
            }
            continue;
        }
        match write_batch(&mut st, &mut buf, &batch) {
            Ok((offsets, committed)) => {
                hook.committed(&committed, st.base + st.len);
                for (r, offs) in batch.into_iter().zip(offsets) {
                    let _ = r.done.send(Ok(offs));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "journal write failed; refusing further writes");
                *st.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                for r in batch {
                    let _ = r.done.send(Err(StoreError::JournalFailed(e.to_string())));
                }
            }
        }
    }
}

type Committed = (Vec<Vec<u64>>, Vec<(u64, Vec<u8>)>);

fn write_batch(
    st: &mut WriterState,
    buf: &mut Vec<u8>,
    batch: &[AppendRequest],
) -> Result<Committed, StoreError> {
    if st.len >= st.segment_bytes {
        roll(st)?;
    }
    let start_len = st.len;
    buf.clear();
    let mut offsets = Vec::with_capacity(batch.len());
    let mut committed = Vec::new();
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
            committed.push((off, p.clone()));
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
    Ok((offsets, committed))
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
