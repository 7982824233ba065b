//! Object bodies encrypted at rest (SSE-S3): AES-256-GCM in 1 MiB chunks, so that a range read
//! decrypts only the chunks it covers. The key lives in `s3/master.key` (mode 0600).
//!
//! File layout: `CAIRNSSE` (8 bytes), version (1), base nonce (8), then for each chunk its
//! ciphertext and 16-byte tag. Chunk `i`'s nonce is the base nonce followed by `i` (u32, big
//! endian); a chunk's position is bound by its nonce, so chunks cannot be reordered unnoticed.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

// ring's AES-GCM (AES-NI, carry-less multiply) runs several times faster than a portable
// implementation: on large objects, sealing is most of the work.
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

use super::ObjectsError;

const MAGIC: &[u8; 8] = b"CAIRNSSE";
const VERSION: u8 = 1;
pub(crate) const HEADER: u64 = 17;
pub const CHUNK: usize = 1 << 20;
const TAG: usize = 16;

/// The plaintext length of a sealed file of `stored` bytes.
pub fn plain_len(stored: u64) -> u64 {
    let body = stored.saturating_sub(HEADER);
    let per = (CHUNK + TAG) as u64;
    (body / per) * CHUNK as u64 + (body % per).saturating_sub(TAG as u64)
}

/// The bytes of a sealed body of `file_len` bytes that hold plaintext `[first, last]`: the
/// chunks covering it (empty for an empty body).
pub(crate) fn chunk_span(file_len: u64, first: u64, last: u64) -> std::ops::Range<u64> {
    let stored = (CHUNK + TAG) as u64;
    let chunks = file_len.saturating_sub(HEADER).div_ceil(stored);
    if chunks == 0 {
        return HEADER..HEADER;
    }
    let first_chunk = (first / CHUNK as u64).min(chunks - 1);
    let last_chunk = (last / CHUNK as u64).min(chunks - 1);
    HEADER + first_chunk * stored..(HEADER + (last_chunk + 1) * stored).min(file_len)
}

pub struct Sealer {
    cipher: LessSafeKey,
}

fn corrupt(path: &Path, what: &str) -> ObjectsError {
    ObjectsError::Io {
        path: path.display().to_string(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned()),
    }
}

impl Sealer {
    /// Loads the master key, creating it (0600) on first use.
    pub fn open(key_path: &Path) -> Result<Sealer, ObjectsError> {
        let key =
            crate::seal::load_or_create_key(key_path).map_err(|e| ObjectsError::io(key_path, e))?;
        let cipher = UnboundKey::new(&AES_256_GCM, &key)
            .map_err(|_| corrupt(key_path, "bad S3 master key"))?;
        Ok(Sealer {
            cipher: LessSafeKey::new(cipher),
        })
    }

    /// A sealer for one object's own key (SSE-KMS: the object's data key).
    pub fn from_key(key: &[u8]) -> Result<Sealer, ObjectsError> {
        let cipher = UnboundKey::new(&AES_256_GCM, key).map_err(|_| ObjectsError::Io {
            path: "data key".into(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a 256-bit key"),
        })?;
        Ok(Sealer {
            cipher: LessSafeKey::new(cipher),
        })
    }

    fn nonce(base: &[u8; 8], i: u32) -> [u8; 12] {
        let mut n = [0u8; 12];
        n[..8].copy_from_slice(base);
        n[8..].copy_from_slice(&i.to_be_bytes());
        n
    }

    /// Starts an encrypted body in `f` (a file, or memory for bodies kept in the database).
    pub fn writer<W: Write>(&self, f: W) -> Result<SealWriter<'_, W>, std::io::Error> {
        let base: [u8; 8] = rand::random();
        let mut w = SealWriter {
            sealer: self,
            f,
            base,
            index: 0,
            // Sized by the first write: most bodies are far smaller than a chunk.
            buf: Vec::new(),
        };
        w.f.write_all(MAGIC)?;
        w.f.write_all(&[VERSION])?;
        w.f.write_all(&base)?;
        Ok(w)
    }

    /// Reads and decrypts `[first, last]` (inclusive) of the plaintext, or all of it.
    pub fn read(&self, path: &Path, range: Option<(u64, u64)>) -> Result<Vec<u8>, ObjectsError> {
        let f = File::open(path).map_err(|e| ObjectsError::io(path, e))?;
        let len = f.metadata().map_err(|e| ObjectsError::io(path, e))?.len();
        self.read_from(f, len, range, path)
    }

    /// The same, from a sealed body held in memory.
    pub fn read_bytes(
        &self,
        sealed: &[u8],
        range: Option<(u64, u64)>,
        label: &Path,
    ) -> Result<Vec<u8>, ObjectsError> {
        self.read_from(
            std::io::Cursor::new(sealed),
            sealed.len() as u64,
            range,
            label,
        )
    }

    /// The same, from any reader of the sealed body (only the header and the chunks the range
    /// covers are read).
    pub(crate) fn read_parts<R: Read + Seek>(
        &self,
        f: R,
        file_len: u64,
        range: Option<(u64, u64)>,
        label: &Path,
    ) -> Result<Vec<u8>, ObjectsError> {
        self.read_from(f, file_len, range, label)
    }

    fn read_from<R: Read + Seek>(
        &self,
        mut f: R,
        file_len: u64,
        range: Option<(u64, u64)>,
        path: &Path,
    ) -> Result<Vec<u8>, ObjectsError> {
        let mut header = [0u8; HEADER as usize];
        f.read_exact(&mut header)
            .map_err(|e| ObjectsError::io(path, e))?;
        if &header[..8] != MAGIC || header[8] != VERSION {
            return Err(corrupt(path, "not an encrypted object body"));
        }
        let base: [u8; 8] = header[9..17]
            .try_into()
            .map_err(|_| corrupt(path, "short header"))?;
        let stored = (CHUNK + TAG) as u64;
        let chunks = (file_len - HEADER).div_ceil(stored);
        let (first_chunk, last_chunk) = match range {
            None => (0, chunks.saturating_sub(1)),
            Some((a, b)) => (
                a / CHUNK as u64,
                (b / CHUNK as u64).min(chunks.saturating_sub(1)),
            ),
        };
        if chunks == 0 {
            return Ok(Vec::new());
        }
        f.seek(SeekFrom::Start(HEADER + first_chunk * stored))
            .map_err(|e| ObjectsError::io(path, e))?;
        // Each chunk is read straight into the output and decrypted there: no buffer between
        // the file and the answer, and one allocation of the size the chunks come to.
        let stored_len = |i: u64| ((file_len - HEADER - i * stored).min(stored)) as usize;
        let capacity: usize = (first_chunk..=last_chunk).map(stored_len).sum();
        let mut out = Vec::with_capacity(capacity);
        for i in first_chunk..=last_chunk {
            let len = stored_len(i);
            let at = out.len();
            // read_to_end fills the spare capacity without zeroing it first.
            let got = (&mut f)
                .take(len as u64)
                .read_to_end(&mut out)
                .map_err(|e| ObjectsError::io(path, e))?;
            if got != len {
                return Err(corrupt(path, "truncated object body"));
            }
            let nonce = Nonce::assume_unique_for_key(Self::nonce(&base, i as u32));
            let plain = self
                .cipher
                .open_in_place(nonce, Aad::empty(), &mut out[at..])
                .map_err(|_| corrupt(path, "object body failed authentication"))?
                .len();
            out.truncate(at + plain);
        }
        if let Some((a, b)) = range {
            let offset = ((a - first_chunk * CHUNK as u64) as usize).min(out.len());
            let end = (offset + (b - a + 1) as usize).min(out.len());
            out.copy_within(offset..end, 0);
            out.truncate(end - offset);
        }
        Ok(out)
    }
}

/// Encrypts what is written to it, a chunk at a time.
pub struct SealWriter<'a, W: Write> {
    sealer: &'a Sealer,
    f: W,
    base: [u8; 8],
    index: u32,
    buf: Vec<u8>,
}

impl<W: Write> SealWriter<'_, W> {
    fn flush_chunk(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let nonce = Nonce::assume_unique_for_key(Sealer::nonce(&self.base, self.index));
        // Each chunk's nonce is unique: a random base per body, the chunk index after it.
        let tag = self
            .sealer
            .cipher
            .seal_in_place_separate_tag(nonce, Aad::empty(), &mut self.buf)
            .map_err(|_| std::io::Error::other("encryption failed"))?;
        self.f.write_all(&self.buf)?;
        self.f.write_all(tag.as_ref())?;
        self.index += 1;
        self.buf.clear();
        Ok(())
    }

    pub fn write(&mut self, mut data: &[u8]) -> std::io::Result<()> {
        if self.buf.capacity() == 0 {
            self.buf.reserve(CHUNK.min(data.len()));
        }
        while !data.is_empty() {
            let n = (CHUNK - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.buf.len() == CHUNK {
                self.flush_chunk()?;
            }
        }
        Ok(())
    }

    /// Writes the last chunk and returns the file (or buffer).
    pub fn finish(mut self) -> std::io::Result<W> {
        self.flush_chunk()?;
        Ok(self.f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn round_trips_ranges_and_detects_tampering() {
        let d = tempfile::tempdir().unwrap();
        let s = Sealer::open(&d.path().join("master.key")).unwrap();
        assert_eq!(
            std::fs::metadata(d.path().join("master.key"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
        let body: Vec<u8> = (0..(CHUNK * 2 + 1234)).map(|i| (i % 251) as u8).collect();
        let p = d.path().join("blob");
        let mut w = s.writer(File::create(&p).unwrap()).unwrap();
        w.write(&body[..10]).unwrap();
        w.write(&body[10..]).unwrap();
        w.finish().unwrap();
        let raw = std::fs::read(&p).unwrap();
        assert!(
            !raw.windows(64).any(|x| x == &body[1000..1064]),
            "plaintext must not be on disk"
        );
        assert_eq!(s.read(&p, None).unwrap(), body);
        for (a, b) in [
            (0, 0),
            (5, CHUNK as u64 + 5),
            (CHUNK as u64 - 1, CHUNK as u64),
            (2 * CHUNK as u64, body.len() as u64 - 1),
        ] {
            assert_eq!(
                s.read(&p, Some((a, b))).unwrap(),
                &body[a as usize..=b as usize]
            );
        }
        assert_eq!(plain_len(raw.len() as u64), body.len() as u64);
        let s2 = Sealer::open(&d.path().join("master.key")).unwrap();
        assert_eq!(s2.read(&p, Some((0, 9))).unwrap(), &body[..10]);
        let mut bad = raw.clone();
        bad[100] ^= 1;
        std::fs::write(&p, bad).unwrap();
        assert!(s.read(&p, None).is_err());
        let empty = d.path().join("empty");
        s.writer(File::create(&empty).unwrap())
            .unwrap()
            .finish()
            .unwrap();
        assert!(s.read(&empty, None).unwrap().is_empty());
    }
}
