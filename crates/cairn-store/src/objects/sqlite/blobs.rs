//! Object bodies, encrypted at rest (see `sealed`). Small bodies written without a demand for
//! power-loss durability live in the metadata's own database (`s3.db`, table `bodies`), written
//! in the same transaction as the row that names them: committed or rolled back with it, with
//! no inode to allocate per PUT, and the bodies of a group of calls sharing one commit. (Before,
//! they were committed one by one into `small.db`, which is still read for bodies kept there.)
//! The others are files under fresh names in one of 256 shard directories, fsynced with their
//! directory when asked. Read whole or by range.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::ObjectsError;
use super::sealed::{CHUNK, Sealer};
use crate::db::Db;

/// Bodies up to this size may be kept in `small.db`.
pub const SMALL_MAX: usize = 64 * 1024;
/// Names of bodies kept in `small.db` (written by earlier versions; still read).
const SMALL_PREFIX: &str = "s:";
/// Names of bodies kept in the metadata's database: `d:<id>`.
const PACKED_PREFIX: &str = "d:";

pub struct Blobs {
    dir: PathBuf,
    sealer: Sealer,
    small: Mutex<Connection>,
    /// Reads bodies beside the writer (WAL: it sees every committed insert).
    small_reader: Mutex<Connection>,
    /// `small.db`'s log is checkpointed off the writer's path while this is kept.
    _checkpointed: crate::db::checkpoint::Checkpointed,
    /// The metadata's database, holding small bodies in `bodies` (none for a store whose
    /// metadata is elsewhere: its small bodies go to `small.db`).
    meta: Option<Db>,
    /// Ids of packed bodies no row names any more, deleted by the next small write: they are
    /// let go in hooks that run under `meta`'s lock, where it cannot be written.
    unnamed: Arc<Mutex<Vec<i64>>>,
}

fn db_err(path: &Path, e: rusqlite::Error) -> ObjectsError {
    ObjectsError::io(path, std::io::Error::other(e.to_string()))
}

impl Blobs {
    /// The bodies under `dir`, small ones in its `small.db`.
    pub fn open(dir: &Path) -> Result<Blobs, ObjectsError> {
        Blobs::open_with(dir, None)
    }

    /// The bodies under `dir`, small ones in `meta` (the metadata's SQLite database).
    pub fn open_beside(dir: &Path, meta: Db) -> Result<Blobs, ObjectsError> {
        Blobs::open_with(dir, Some(meta))
    }

    fn open_with(dir: &Path, meta: Option<Db>) -> Result<Blobs, ObjectsError> {
        std::fs::create_dir_all(dir).map_err(|e| ObjectsError::io(dir, e))?;
        let sealer = Sealer::open(&dir.join("master.key"))?;
        let db = dir.join("small.db");
        let small = Connection::open(&db).map_err(|e| db_err(&db, e))?;
        // Not locking_mode = EXCLUSIVE: a reader and the checkpoint thread use it beside the
        // writer.
        small
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 CREATE TABLE IF NOT EXISTS small (name TEXT PRIMARY KEY, data BLOB NOT NULL);",
            )
            .map_err(|e| db_err(&db, e))?;
        let reader = Connection::open_with_flags(
            &db,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| db_err(&db, e))?;
        for c in [&small, &reader] {
            c.busy_timeout(std::time::Duration::from_secs(10))
                .map_err(|e| db_err(&db, e))?;
        }
        let checkpointed =
            crate::db::checkpoint::register(&db, &small).map_err(|e| db_err(&db, e))?;
        Ok(Blobs {
            dir: dir.to_owned(),
            sealer,
            small: Mutex::new(small),
            small_reader: Mutex::new(reader),
            _checkpointed: checkpointed,
            meta,
            unnamed: Arc::new(Mutex::new(Vec::new())),
        })
    }

    fn small_db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.small.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn small_reader(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.small_reader.lock().unwrap_or_else(|p| p.into_inner())
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
            return match &self.meta {
                Some(meta) => self.write_packed(meta, sealed),
                None => self.write_small_db(sealed),
            };
        }
        let (name, path, f) = self.create()?;
        let io = |e| ObjectsError::io(&path, e);
        let mut w = sealer.writer(f).map_err(io)?;
        w.write(body).map_err(io)?;
        let f = w.finish().map_err(io)?;
        self.commit(&path, f, durable)?;
        Ok(name)
    }

    /// Stores a small sealed body in the metadata's database: inside a call, in the group
    /// transaction that will hold the row naming it. Bodies no longer named are deleted in the
    /// same transaction (and let go again should it roll back).
    fn write_packed(&self, meta: &Db, sealed: Vec<u8>) -> Result<String, ObjectsError> {
        let unnamed = std::mem::take(&mut *self.unnamed_ids());
        let c = meta.write()?;
        for id in &unnamed {
            delete_packed(&c, *id)?;
        }
        c.prepare_cached("INSERT INTO bodies (data) VALUES (?1)")?
            .execute([sealed])?;
        let id = c.last_insert_rowid();
        drop(c);
        if !unnamed.is_empty() {
            let again = Arc::clone(&self.unnamed);
            meta.after_rollback(move || {
                again
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend(unnamed)
            });
        }
        Ok(format!("{PACKED_PREFIX}{id}"))
    }

    /// Stores a small sealed body in `small.db`, committed at once.
    fn write_small_db(&self, sealed: Vec<u8>) -> Result<String, ObjectsError> {
        let db = self.small_path();
        let name = format!("{SMALL_PREFIX}{}", uuid::Uuid::new_v4().simple());
        self.small_db()
            .prepare_cached("INSERT INTO small (name, data) VALUES (?1, ?2)")
            .and_then(|mut st| st.execute(params![name, sealed]))
            .map_err(|e| db_err(&db, e))?;
        Ok(name)
    }

    fn unnamed_ids(&self) -> std::sync::MutexGuard<'_, Vec<i64>> {
        self.unnamed.lock().unwrap_or_else(|p| p.into_inner())
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

    /// A packed body's sealed bytes.
    fn small_body(&self, name: &str) -> Result<Vec<u8>, ObjectsError> {
        if let Some(id) = packed_id(name) {
            let Some(meta) = &self.meta else {
                return Err(missing(
                    &self.dir,
                    format!("body {name} is kept with metadata this store does not have"),
                ));
            };
            let found: Option<Vec<u8>> = meta
                .read()
                .prepare_cached("SELECT data FROM bodies WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            return found.ok_or_else(|| missing(&self.dir, format!("no body {name}")));
        }
        let db = self.small_path();
        self.small_reader()
            .prepare_cached("SELECT data FROM small WHERE name = ?1")
            .and_then(|mut st| st.query_row([name], |r| r.get(0)).optional())
            .map_err(|e| db_err(&db, e))?
            .ok_or_else(|| missing(&db, format!("no body {name}")))
    }

    fn read_with(
        &self,
        sealer: &Sealer,
        name: &str,
        range: Option<(u64, u64)>,
    ) -> Result<Vec<u8>, ObjectsError> {
        if Blobs::is_packed(name) {
            let sealed = self.small_body(name)?;
            return sealer.read_bytes(&sealed, range, &self.small_path());
        }
        sealer.read(&self.path(name), range)
    }

    /// The plaintext length of a stored body.
    fn plain_len(&self, name: &str) -> Result<u64, ObjectsError> {
        if Blobs::is_packed(name) {
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

    /// Whether a body is packed in a database rather than a file of its own.
    pub fn is_packed(name: &str) -> bool {
        name.starts_with(SMALL_PREFIX) || name.starts_with(PACKED_PREFIX)
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

    /// Deletes a body the current write made and no row names: a packed one in the write's
    /// own transaction (should it roll back, the body and its deletion both go).
    pub fn discard(&self, name: &str) {
        if let (Some(id), Some(meta)) = (packed_id(name), &self.meta) {
            let res = meta
                .write()
                .map_err(ObjectsError::from)
                .and_then(|c| delete_packed(&c, id));
            if let Err(e) = res {
                tracing::warn!(name, error = %e, "could not remove an unused object body");
            }
            return;
        }
        self.remove(name);
    }

    /// Whether a body is packed in the metadata's database (`bodies`).
    pub fn is_packed_here(name: &str) -> bool {
        name.starts_with(PACKED_PREFIX)
    }

    /// Lets a body go. A packed one is deleted by the next small write (this may run where
    /// the metadata's database cannot be written).
    pub fn remove(&self, name: &str) {
        if let Some(id) = packed_id(name) {
            self.unnamed_ids().push(id);
            return;
        }
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

/// Deletes a body packed in the metadata's database.
fn delete_packed(c: &Connection, id: i64) -> Result<(), ObjectsError> {
    c.prepare_cached("DELETE FROM bodies WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// A body that is not where its name says.
fn missing(at: &Path, message: String) -> ObjectsError {
    ObjectsError::io(
        at,
        std::io::Error::new(std::io::ErrorKind::NotFound, message),
    )
}

/// The id in `bodies` of a body packed there.
fn packed_id(name: &str) -> Option<i64> {
    name.strip_prefix(PACKED_PREFIX)?.parse().ok()
}

/// The plaintext length of a stored body, from its size.
fn plain_len(path: &Path) -> Result<u64, ObjectsError> {
    let stored = std::fs::metadata(path)
        .map_err(|e| ObjectsError::io(path, e))?
        .len();
    Ok(super::sealed::plain_len(stored))
}
