//! Object bodies, encrypted at rest (see `sealed`). Small bodies written without a demand for
//! power-loss durability live in `small.db` (SQLite): as durable as the metadata that names them
//! (they survive a killed process), and with no inode to allocate per PUT, which is what small
//! PUTs otherwise spend their time on. The others are files under fresh names in one of 256
//! shard directories, fsynced with their directory when asked. Read whole or by range.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use super::ObjectsError;
use super::sealed::{CHUNK, Sealer};

/// Bodies up to this size may be kept in `small.db`.
pub const SMALL_MAX: usize = 64 * 1024;
/// Names of bodies kept in `small.db`.
const SMALL_PREFIX: &str = "s:";

pub struct Blobs {
    dir: PathBuf,
    sealer: Sealer,
    small: Mutex<Connection>,
}

fn db_err(path: &Path, e: rusqlite::Error) -> ObjectsError {
    ObjectsError::io(path, std::io::Error::other(e.to_string()))
}

impl Blobs {
    pub fn open(dir: &Path) -> Result<Blobs, ObjectsError> {
        std::fs::create_dir_all(dir).map_err(|e| ObjectsError::io(dir, e))?;
        let sealer = Sealer::open(&dir.join("master.key"))?;
        let db = dir.join("small.db");
        let small = Connection::open(&db).map_err(|e| db_err(&db, e))?;
        small
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA locking_mode = EXCLUSIVE;
                 CREATE TABLE IF NOT EXISTS small (name TEXT PRIMARY KEY, data BLOB NOT NULL);",
            )
            .map_err(|e| db_err(&db, e))?;
        Ok(Blobs {
            dir: dir.to_owned(),
            sealer,
            small: Mutex::new(small),
        })
    }

    fn small_db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.small.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn small_path(&self) -> PathBuf {
        self.dir.join("small.db")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(&name[..2.min(name.len())]).join(name)
    }

    /// Finishes a body written under its final name. `durable` flushes it and its directory
    /// entry to stable storage; otherwise it is as durable as the metadata that will name it (it
    /// survives a killed process, not necessarily a power loss). A body is only reachable once
    /// its metadata names it, so a half-written one is never seen.
    fn commit(&self, path: &Path, f: File, durable: bool) -> Result<(), ObjectsError> {
        if durable {
            f.sync_all().map_err(|e| ObjectsError::io(path, e))?;
            let parent = path.parent().unwrap_or(&self.dir);
            File::open(parent)
                .and_then(|d| d.sync_all())
                .map_err(|e| ObjectsError::io(parent, e))?;
        }
        Ok(())
    }

    /// A new body file under a fresh name, in its shard directory (one of 256, so that
    /// concurrent writers rarely share a directory lock).
    fn create(&self) -> Result<(String, PathBuf, File), ObjectsError> {
        let name = uuid::Uuid::new_v4().simple().to_string();
        let path = self.path(&name);
        let f = match File::create_new(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let parent = path.parent().unwrap_or(&self.dir);
                std::fs::create_dir_all(parent).map_err(|e| ObjectsError::io(parent, e))?;
                File::create_new(&path).map_err(|e| ObjectsError::io(&path, e))?
            }
            Err(e) => return Err(ObjectsError::io(&path, e)),
        };
        Ok((name, path, f))
    }

    /// Writes a body, encrypted; returns its name.
    pub fn write(&self, body: &[u8], durable: bool) -> Result<String, ObjectsError> {
        self.write_keyed(body, None, durable)
    }

    /// Writes a body encrypted under `key` (an object's own data key), or the master key.
    pub fn write_keyed(
        &self,
        body: &[u8],
        key: Option<&[u8]>,
        durable: bool,
    ) -> Result<String, ObjectsError> {
        let own = key.map(Sealer::from_key).transpose()?;
        let sealer = own.as_ref().unwrap_or(&self.sealer);
        if !durable && body.len() <= SMALL_MAX {
            let db = self.small_path();
            let io = |e| ObjectsError::io(&db, e);
            let mut w = sealer
                .writer(Vec::with_capacity(body.len() + 64))
                .map_err(io)?;
            w.write(body).map_err(io)?;
            let sealed = w.finish().map_err(io)?;
            let name = format!("{SMALL_PREFIX}{}", uuid::Uuid::new_v4().simple());
            self.small_db()
                .prepare_cached("INSERT INTO small (name, data) VALUES (?1, ?2)")
                .and_then(|mut st| st.execute(params![name, sealed]))
                .map_err(|e| db_err(&db, e))?;
            return Ok(name);
        }
        let (name, path, f) = self.create()?;
        let io = |e| ObjectsError::io(&path, e);
        let mut w = sealer.writer(f).map_err(io)?;
        w.write(body).map_err(io)?;
        let f = w.finish().map_err(io)?;
        self.commit(&path, f, durable)?;
        Ok(name)
    }

    /// Writes the concatenation of existing blobs (completing a multipart upload), a chunk of
    /// plaintext at a time.
    pub fn concat(&self, parts: &[String], durable: bool) -> Result<String, ObjectsError> {
        let (name, path, f) = self.create()?;
        let mut w = self
            .sealer
            .writer(f)
            .map_err(|e| ObjectsError::io(&path, e))?;
        for p in parts {
            let len = self.plain_len(p)?;
            let mut at = 0u64;
            while at < len {
                let end = (at + CHUNK as u64).min(len) - 1;
                let piece = self.read(p, Some((at, end)))?;
                w.write(&piece).map_err(|e| ObjectsError::io(&path, e))?;
                at = end + 1;
            }
        }
        let f = w.finish().map_err(|e| ObjectsError::io(&path, e))?;
        self.commit(&path, f, durable)?;
        Ok(name)
    }

    /// A small body's sealed bytes.
    fn small_body(&self, name: &str) -> Result<Vec<u8>, ObjectsError> {
        let db = self.small_path();
        self.small_db()
            .prepare_cached("SELECT data FROM small WHERE name = ?1")
            .and_then(|mut st| st.query_row([name], |r| r.get(0)).optional())
            .map_err(|e| db_err(&db, e))?
            .ok_or_else(|| {
                ObjectsError::io(
                    &db,
                    std::io::Error::new(std::io::ErrorKind::NotFound, format!("no body {name}")),
                )
            })
    }

    fn read_with(
        &self,
        sealer: &Sealer,
        name: &str,
        range: Option<(u64, u64)>,
    ) -> Result<Vec<u8>, ObjectsError> {
        if name.starts_with(SMALL_PREFIX) {
            let sealed = self.small_body(name)?;
            return sealer.read_bytes(&sealed, range, &self.small_path());
        }
        sealer.read(&self.path(name), range)
    }

    /// The plaintext length of a stored body.
    fn plain_len(&self, name: &str) -> Result<u64, ObjectsError> {
        if name.starts_with(SMALL_PREFIX) {
            return Ok(super::sealed::plain_len(self.small_body(name)?.len() as u64));
        }
        plain_len(&self.path(name))
    }

    /// A body's sealed bytes, exactly as stored.
    pub fn sealed(&self, name: &str) -> Result<Vec<u8>, ObjectsError> {
        if Blobs::is_packed(name) {
            return self.small_body(name);
        }
        let path = self.path(name);
        std::fs::read(&path).map_err(|e| ObjectsError::io(&path, e))
    }

    /// Whether a body is packed in the small bodies' database rather than a file of its own.
    pub fn is_packed(name: &str) -> bool {
        name.starts_with(SMALL_PREFIX)
    }

    /// Reads a body, or the inclusive byte range `(first, last)` of it.
    pub fn read(&self, name: &str, range: Option<(u64, u64)>) -> Result<Vec<u8>, ObjectsError> {
        self.read_with(&self.sealer, name, range)
    }

    /// Reads a body written under its own key.
    pub fn read_keyed(
        &self,
        name: &str,
        range: Option<(u64, u64)>,
        key: &[u8],
    ) -> Result<Vec<u8>, ObjectsError> {
        self.read_with(&Sealer::from_key(key)?, name, range)
    }

    pub fn remove(&self, name: &str) {
        if name.starts_with(SMALL_PREFIX) {
            if let Err(e) = self
                .small_db()
                .prepare_cached("DELETE FROM small WHERE name = ?1")
                .and_then(|mut st| st.execute([name]))
            {
                tracing::warn!(name, error = %e, "could not remove replaced object body");
            }
            return;
        }
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
