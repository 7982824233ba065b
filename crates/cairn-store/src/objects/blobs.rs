//! Object bodies as files: encrypted at rest (see `sealed`), written atomically (temporary
//! file, fsync, rename, fsync of the directory), read whole or by range.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::ObjectsError;
use super::sealed::{CHUNK, Sealer};

pub struct Blobs {
    dir: PathBuf,
    sealer: Sealer,
}

impl Blobs {
    pub fn open(dir: &Path) -> Result<Blobs, ObjectsError> {
        std::fs::create_dir_all(dir.join("tmp")).map_err(|e| ObjectsError::io(dir, e))?;
        let sealer = Sealer::open(&dir.join("master.key"))?;
        Ok(Blobs {
            dir: dir.to_owned(),
            sealer,
        })
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(&name[..2.min(name.len())]).join(name)
    }

    fn commit(&self, tmp: &Path, f: File) -> Result<String, ObjectsError> {
        f.sync_all().map_err(|e| ObjectsError::io(tmp, e))?;
        let name = uuid::Uuid::new_v4().simple().to_string();
        let dest = self.path(&name);
        let parent = dest.parent().unwrap_or(&self.dir).to_owned();
        std::fs::create_dir_all(&parent).map_err(|e| ObjectsError::io(&parent, e))?;
        std::fs::rename(tmp, &dest).map_err(|e| ObjectsError::io(&dest, e))?;
        File::open(&parent)
            .and_then(|d| d.sync_all())
            .map_err(|e| ObjectsError::io(&parent, e))?;
        Ok(name)
    }

    fn temp(&self) -> Result<(PathBuf, File), ObjectsError> {
        let tmp = self
            .dir
            .join("tmp")
            .join(uuid::Uuid::new_v4().simple().to_string());
        let f = File::create(&tmp).map_err(|e| ObjectsError::io(&tmp, e))?;
        Ok((tmp, f))
    }

    /// Writes a body durably, encrypted; returns its name.
    pub fn write(&self, body: &[u8]) -> Result<String, ObjectsError> {
        self.write_keyed(body, None)
    }

    /// Writes a body encrypted under `key` (an object's own data key), or the master key.
    pub fn write_keyed(&self, body: &[u8], key: Option<&[u8]>) -> Result<String, ObjectsError> {
        let own = key.map(Sealer::from_key).transpose()?;
        let sealer = own.as_ref().unwrap_or(&self.sealer);
        let (tmp, f) = self.temp()?;
        let io = |e| ObjectsError::io(&tmp, e);
        let mut w = sealer.writer(f).map_err(io)?;
        w.write(body).map_err(io)?;
        let f = w.finish().map_err(io)?;
        self.commit(&tmp, f)
    }

    /// Writes the concatenation of existing blobs (completing a multipart upload), a chunk of
    /// plaintext at a time.
    pub fn concat(&self, parts: &[String]) -> Result<String, ObjectsError> {
        let (tmp, f) = self.temp()?;
        let mut w = self
            .sealer
            .writer(f)
            .map_err(|e| ObjectsError::io(&tmp, e))?;
        for p in parts {
            let path = self.path(p);
            let len = plain_len(&path)?;
            let mut at = 0u64;
            while at < len {
                let end = (at + CHUNK as u64).min(len) - 1;
                let piece = self.sealer.read(&path, Some((at, end)))?;
                w.write(&piece).map_err(|e| ObjectsError::io(&tmp, e))?;
                at = end + 1;
            }
        }
        let f = w.finish().map_err(|e| ObjectsError::io(&tmp, e))?;
        self.commit(&tmp, f)
    }

    /// Reads a body, or the inclusive byte range `(first, last)` of it.
    pub fn read(&self, name: &str, range: Option<(u64, u64)>) -> Result<Vec<u8>, ObjectsError> {
        self.sealer.read(&self.path(name), range)
    }

    /// Reads a body written under its own key.
    pub fn read_keyed(
        &self,
        name: &str,
        range: Option<(u64, u64)>,
        key: &[u8],
    ) -> Result<Vec<u8>, ObjectsError> {
        Sealer::from_key(key)?.read(&self.path(name), range)
    }

    pub fn remove(&self, name: &str) {
        let p = self.path(name);
        if let Err(e) = std::fs::remove_file(&p) {
            tracing::warn!(path = %p.display(), error = %e, "could not remove replaced object body");
        }
    }
}

/// The plaintext length of a stored body, from its size.
fn plain_len(path: &Path) -> Result<u64, ObjectsError> {
    let stored = std::fs::metadata(path)
        .map_err(|e| ObjectsError::io(path, e))?
        .len();
    Ok(super::sealed::plain_len(stored))
}
