//! The embedded journal: cairn's own segment log, the [`Journal`] of `cairn serve`.
//!
//! Entries are framed with a length and a CRC32 and appended to segment files named by their
//! starting offset. A dedicated thread group-commits: it writes every pending batch, fsyncs
//! once, acknowledges, and then shows the batch to the commit hook. An offset identifies an entry
//! forever; consumers keep their own cursor (the offset to read next) and can be rebuilt by
//! reading from zero.

mod frame;
mod segments;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub use writer::{CommitHook, NoHook};

use super::{Entries, Journal, PendingAppend};
use crate::error::StoreError;
use segments::SegmentFiles;
use writer::{AppendRequest, WriterState};

#[derive(Clone, Debug)]
pub struct JournalConfig {
    /// A segment is closed and a new one started past this size.
    pub segment_bytes: u64,
    /// fsync each commit. Only benchmarks of the raw write path turn this off.
    pub fsync: bool,
}

impl Default for JournalConfig {
    fn default() -> Self {
        Self {
            segment_bytes: 64 * 1024 * 1024,
            fsync: true,
        }
    }
}

/// A handle on the segment log. Cloning it is cheap; the writer thread stops when the last
/// clone is dropped.
#[derive(Clone)]
pub struct SegmentJournal {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    files: Arc<SegmentFiles>,
    head: Arc<AtomicU64>,
    failed: Arc<Mutex<Option<String>>>,
    fail_next: Arc<AtomicBool>,
    tx: Mutex<Option<Sender<AppendRequest>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
    }
}

impl SegmentJournal {
    /// Opens (or creates) the journal in `dir`, recovering from a torn tail, and starts the
    /// writer thread with `hook`.
    pub fn open(
        dir: &Path,
        config: JournalConfig,
        hook: Box<dyn CommitHook>,
    ) -> Result<SegmentJournal, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        let files = Arc::new(SegmentFiles::new(dir));
        let mut bases = segments::list(dir)?;
        if bases.is_empty() {
            segments::open_for_append(&segments::segment_path(dir, 0), 0)?;
            segments::sync_dir(dir)?;
            bases.push(0);
        }
        for b in &bases {
            files.add(*b)?;
        }
        let last = *bases.last().unwrap_or(&0);
        let last_path = segments::segment_path(dir, last);
        let len = segments::valid_prefix_len(&last_path, last)?;
        let file = segments::open_for_append(&last_path, len)?;
        let head = Arc::new(AtomicU64::new(last + len));
        let failed = Arc::new(Mutex::new(None));
        let fail_next = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let state = WriterState {
            dir: dir.to_owned(),
            base: last,
            file,
            len,
            segment_bytes: config.segment_bytes.max(1),
            fsync: config.fsync,
            files: Arc::clone(&files),
            head: Arc::clone(&head),
            failed: Arc::clone(&failed),
            fail_next: Arc::clone(&fail_next),
        };
        let thread = std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || writer::run(state, rx, hook))
            .map_err(|e| StoreError::io(dir, e))?;
        Ok(SegmentJournal {
            inner: Arc::new(Inner {
                dir: dir.to_owned(),
                files,
                head,
                failed,
                fail_next,
                tx: Mutex::new(Some(tx)),
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }
}

impl Journal for SegmentJournal {
    fn append(&self, payloads: Vec<Vec<u8>>) -> PendingAppend {
        let (done, pending) = PendingAppend::channel();
        let sent = self
            .inner
            .tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|tx| tx.send(AppendRequest { payloads, done }).is_ok())
            .unwrap_or(false);
        if !sent {
            return PendingAppend::failed(StoreError::JournalClosed);
        }
        pending
    }

    fn fail_next_write(&self) {
        self.inner.fail_next.store(true, Ordering::Release);
    }

    fn failure(&self) -> Option<String> {
        self.inner
            .failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn head(&self) -> u64 {
        self.inner.head.load(Ordering::Acquire)
    }

    fn read_at(&self, offset: u64) -> Result<Vec<u8>, StoreError> {
        self.inner.files.read_at(offset)
    }

    fn read_from(&self, offset: u64, max_bytes: usize) -> Result<(Entries, u64), StoreError> {
        self.inner.files.read_from(offset, self.head(), max_bytes)
    }

    fn purge(
        &self,
        min_cursor: u64,
        older_than: std::time::SystemTime,
    ) -> Result<usize, StoreError> {
        let bases = self.inner.files.bases();
        let mut removed = 0;
        for pair in bases.windows(2) {
            let (base, next) = (pair[0], pair[1]);
            if next > min_cursor {
                break;
            }
            let path = segments::segment_path(&self.inner.dir, base);
            let mtime = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .map_err(|e| StoreError::io(&path, e))?;
            if mtime >= older_than {
                break;
            }
            self.inner.files.remove(base);
            std::fs::remove_file(&path).map_err(|e| StoreError::io(&path, e))?;
            removed += 1;
        }
        if removed > 0 {
            segments::sync_dir(&self.inner.dir)?;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests;
