//! Segment files: naming, listing, torn-tail recovery, and positional reads.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use super::frame::{self, Decoded, HEADER_LEN};
use crate::error::StoreError;
use crate::journal::Entries;

const SUFFIX: &str = ".seg";

pub fn segment_path(dir: &Path, base: u64) -> PathBuf {
    dir.join(format!("{base:020}{SUFFIX}"))
}

/// The base offsets of the segments in `dir`, ascending.
pub fn list(dir: &Path) -> Result<Vec<u64>, StoreError> {
    let mut bases = Vec::new();
    let rd = std::fs::read_dir(dir).map_err(|e| StoreError::io(dir, e))?;
    for ent in rd {
        let ent = ent.map_err(|e| StoreError::io(dir, e))?;
        let name = ent.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(num) = name.strip_suffix(SUFFIX)
            && let Ok(base) = num.parse::<u64>()
        {
            bases.push(base);
        }
    }
    bases.sort_unstable();
    Ok(bases)
}

/// Scans a segment and returns the length of its valid prefix. A torn tail (the end of a write
/// that a crash interrupted) is expected and cut off; damage anywhere else is corruption that
/// is reported, not silently dropped.
pub fn valid_prefix_len(path: &Path, base: u64) -> Result<u64, StoreError> {
    let mut buf = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut buf))
        .map_err(|e| StoreError::io(path, e))?;
    let mut pos = 0usize;
    while pos < buf.len() {
        match frame::decode(&buf[pos..]) {
            Decoded::Frame { len, .. } => pos += len,
            Decoded::Incomplete => break,
            Decoded::Corrupt(reason) => {
                // A bad frame followed by nothing valid is a torn write of the last batch;
                // the checksum covers a frame whose bytes were only partly flushed.
                if any_valid_frame_after(&buf, pos + 1) {
                    return Err(StoreError::Corrupt {
                        offset: base + pos as u64,
                        reason: reason.to_owned(),
                    });
                }
                break;
            }
        }
    }
    Ok(pos as u64)
}

fn any_valid_frame_after(buf: &[u8], from: usize) -> bool {
    (from..buf.len().saturating_sub(HEADER_LEN)).any(|p| {
        matches!(frame::decode(&buf[p..]), Decoded::Frame { payload, .. } if !payload.is_empty())
    })
}

/// Open segment files, shared by the writer (which adds segments) and readers.
#[derive(Default)]
pub struct SegmentFiles {
    dir: PathBuf,
    files: RwLock<BTreeMap<u64, Arc<File>>>,
}

impl SegmentFiles {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_owned(),
            files: RwLock::new(BTreeMap::new()),
        }
    }

    pub fn add(&self, base: u64) -> Result<(), StoreError> {
        let path = segment_path(&self.dir, base);
        let f = File::open(&path).map_err(|e| StoreError::io(&path, e))?;
        let mut files = self.files.write().unwrap_or_else(|p| p.into_inner());
        files.insert(base, Arc::new(f));
        Ok(())
    }

    pub fn remove(&self, base: u64) {
        let mut files = self.files.write().unwrap_or_else(|p| p.into_inner());
        files.remove(&base);
    }

    pub fn bases(&self) -> Vec<u64> {
        let files = self.files.read().unwrap_or_else(|p| p.into_inner());
        files.keys().copied().collect()
    }

    /// The segment holding `offset`: its base and file.
    fn locate(&self, offset: u64) -> Option<(u64, Arc<File>)> {
        let files = self.files.read().unwrap_or_else(|p| p.into_inner());
        files
            .range(..=offset)
            .next_back()
            .map(|(b, f)| (*b, Arc::clone(f)))
    }

    /// The first segment base after `base`.
    pub fn next_base(&self, base: u64) -> Option<u64> {
        let files = self.files.read().unwrap_or_else(|p| p.into_inner());
        files.range(base + 1..).next().map(|(b, _)| *b)
    }

    /// Reads the payload of the frame at `offset`.
    pub fn read_at(&self, offset: u64) -> Result<Vec<u8>, StoreError> {
        let (base, file) = self.locate(offset).ok_or_else(|| StoreError::Corrupt {
            offset,
            reason: "no segment holds this offset (removed by retention?)".into(),
        })?;
        let pos = offset - base;
        let mut header = [0u8; HEADER_LEN];
        file.read_exact_at(&mut header, pos)
            .map_err(|e| StoreError::io(segment_path(&self.dir, base), e))?;
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if len > frame::MAX_PAYLOAD {
            return Err(StoreError::Corrupt {
                offset,
                reason: "length beyond the maximum payload".into(),
            });
        }
        let mut buf = vec![0u8; HEADER_LEN + len];
        buf[..HEADER_LEN].copy_from_slice(&header);
        file.read_exact_at(&mut buf[HEADER_LEN..], pos + HEADER_LEN as u64)
            .map_err(|e| StoreError::io(segment_path(&self.dir, base), e))?;
        match frame::decode(&buf) {
            Decoded::Frame { payload, .. } => Ok(payload.to_vec()),
            Decoded::Incomplete => Err(StoreError::Corrupt {
                offset,
                reason: "frame incomplete".into(),
            }),
            Decoded::Corrupt(r) => Err(StoreError::Corrupt {
                offset,
                reason: r.into(),
            }),
        }
    }

    /// Reads whole frames starting at `offset`, stopping at `head` (the committed end), at the
    /// end of the segment, or after about `max_bytes`. Returns `(offset, payload)` pairs and the
    /// offset to continue from.
    pub fn read_from(
        &self,
        offset: u64,
        head: u64,
        max_bytes: usize,
    ) -> Result<(Entries, u64), StoreError> {
        if offset >= head {
            return Ok((Vec::new(), offset));
        }
        let Some((base, file)) = self.locate(offset) else {
            // Before the first segment (purged): continue from the first one there is.
            return match self.bases().into_iter().find(|b| *b > offset) {
                Some(b) => self.read_from(b, head, max_bytes),
                None => Ok((Vec::new(), offset)),
            };
        };
        let seg_len = file
            .metadata()
            .map_err(|e| StoreError::io(segment_path(&self.dir, base), e))?
            .len();
        let seg_end = (base + seg_len).min(head);
        if offset >= seg_end {
            // At the end of this segment: move to the next one, if any.
            return match self.next_base(base) {
                Some(next) if next <= head && next > offset => {
                    self.read_from(next, head, max_bytes)
                }
                _ => Ok((Vec::new(), offset)),
            };
        }
        let want = usize::try_from(seg_end - offset)
            .unwrap_or(usize::MAX)
            .min(max_bytes.max(frame::MAX_PAYLOAD + HEADER_LEN));
        let mut buf = vec![0u8; want];
        file.read_exact_at(&mut buf, offset - base)
            .map_err(|e| StoreError::io(segment_path(&self.dir, base), e))?;
        let mut out = Vec::new();
        let mut pos = 0usize;
        while pos < buf.len() && pos < max_bytes {
            match frame::decode(&buf[pos..]) {
                Decoded::Frame { payload, len } => {
                    out.push((offset + pos as u64, payload.to_vec()));
                    pos += len;
                }
                Decoded::Incomplete => break,
                Decoded::Corrupt(r) => {
                    return Err(StoreError::Corrupt {
                        offset: offset + pos as u64,
                        reason: r.into(),
                    });
                }
            }
        }
        Ok((out, offset + pos as u64))
    }
}

/// Opens a segment for appending at `len`, cutting anything after it.
pub fn open_for_append(path: &Path, len: u64) -> Result<File, StoreError> {
    let f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| StoreError::io(path, e))?;
    if f.metadata().map_err(|e| StoreError::io(path, e))?.len() != len {
        f.set_len(len).map_err(|e| StoreError::io(path, e))?;
        f.sync_all().map_err(|e| StoreError::io(path, e))?;
    }
    Ok(f)
}

pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(dir, e))
}
