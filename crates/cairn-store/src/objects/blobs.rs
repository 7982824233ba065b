//! Object bodies as files: written atomically, read whole or by range.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::ObjectsError;

pub struct Blobs {
    dir: PathBuf,
}

impl Blobs {
    pub fn open(dir: &Path) -> Result<Blobs, ObjectsError> {
        std::fs::create_dir_all(dir.join("tmp")).map_err(|e| ObjectsError::io(dir, e))?;
        Ok(Blobs {
            dir: dir.to_owned(),
        })
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(&name[..2.min(name.len())]).join(name)
    }

    fn commit(&self, tmp: &Path, mut f: File) -> Result<String, ObjectsError> {
        f.flush().map_err(|e| ObjectsError::io(tmp, e))?;
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

    /// Writes a body durably; returns its name.
    pub fn write(&self, body: &[u8]) -> Result<String, ObjectsError> {
        let (tmp, mut f) = self.temp()?;
        f.write_all(body).map_err(|e| ObjectsError::io(&tmp, e))?;
        self.commit(&tmp, f)
    }

    /// Writes the concatenation of existing blob files (completing a multipart upload).
    pub fn concat(&self, parts: &[PathBuf]) -> Result<String, ObjectsError> {
        let (tmp, mut f) = self.temp()?;
        for p in parts {
            let mut src = File::open(p).map_err(|e| ObjectsError::io(p, e))?;
            std::io::copy(&mut src, &mut f).map_err(|e| ObjectsError::io(&tmp, e))?;
        }
        self.commit(&tmp, f)
    }

    /// Reads a body, or the inclusive byte range `(first, last)` of it.
    pub fn read(&self, name: &str, range: Option<(u64, u64)>) -> Result<Vec<u8>, ObjectsError> {
        let path = self.path(name);
        let mut f = File::open(&path).map_err(|e| ObjectsError::io(&path, e))?;
        let mut out = Vec::new();
        match range {
            None => {
                f.read_to_end(&mut out)
                    .map_err(|e| ObjectsError::io(&path, e))?;
            }
            Some((first, last)) => {
                f.seek(SeekFrom::Start(first))
                    .map_err(|e| ObjectsError::io(&path, e))?;
                f.take(last.saturating_sub(first) + 1)
                    .read_to_end(&mut out)
                    .map_err(|e| ObjectsError::io(&path, e))?;
            }
        }
        Ok(out)
    }

    pub fn remove(&self, name: &str) {
        let p = self.path(name);
        if let Err(e) = std::fs::remove_file(&p) {
            tracing::warn!(path = %p.display(), error = %e, "could not remove replaced object body");
        }
    }
}
