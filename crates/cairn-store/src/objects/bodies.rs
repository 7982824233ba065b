//! Where object bodies are kept, apart from the metadata that names them: the seam between a
//! store's metadata (SQLite, PostgreSQL) and its bodies. [`Blobs`] (sealed files, small bodies
//! packed, under one directory) keeps a single node's; [`super::RemoteBodies`] (a bucket of an
//! S3-compatible endpoint) those of nodes that share no disk.
//!
//! A metadata store writes a body before the row that names it and removes it once no
//! committed row names it (or the call that wrote it was refused), so a body store needs no
//! transactions of its own: only fresh names, reads and removals.

use super::ObjectsError;
use super::sqlite::Blobs;

/// Object bodies under names of the store's choosing.
pub trait Bodies: Send + Sync {
    /// Stores a body, encrypted under `data_key` (an object's own key, SSE-KMS) or the store's
    /// own; `durable` asks for it to outlive a power loss before this returns. Its new name.
    fn put(
        &self,
        body: &[u8],
        data_key: Option<&[u8]>,
        durable: bool,
    ) -> Result<String, ObjectsError>;

    /// Stores the concatenation of stored bodies (a completed multipart upload).
    fn concat(&self, parts: &[String], durable: bool) -> Result<String, ObjectsError>;

    /// A body, or its inclusive byte range, decrypted with `data_key` when it was stored
    /// under one.
    fn get(
        &self,
        name: &str,
        range: Option<(u64, u64)>,
        data_key: Option<&[u8]>,
    ) -> Result<Vec<u8>, ObjectsError>;

    /// Removes a body nothing names any longer. Best effort: one left behind costs space, not
    /// correctness.
    fn remove(&self, name: &str);
}

impl Bodies for Blobs {
    fn put(
        &self,
        body: &[u8],
        data_key: Option<&[u8]>,
        durable: bool,
    ) -> Result<String, ObjectsError> {
        self.write_keyed(body, data_key, durable)
    }

    fn concat(&self, parts: &[String], durable: bool) -> Result<String, ObjectsError> {
        Blobs::concat(self, parts, durable)
    }

    fn get(
        &self,
        name: &str,
        range: Option<(u64, u64)>,
        data_key: Option<&[u8]>,
    ) -> Result<Vec<u8>, ObjectsError> {
        match data_key {
            Some(k) => self.read_keyed(name, range, k),
            None => self.read(name, range),
        }
    }

    fn remove(&self, name: &str) {
        Blobs::remove(self, name)
    }
}

/// Bodies in a bucket of an S3-compatible endpoint, which every node of a cluster reaches: a
/// body there is durable once stored, so `durable` asks nothing more.
impl Bodies for super::RemoteBodies {
    fn put(
        &self,
        body: &[u8],
        data_key: Option<&[u8]>,
        _durable: bool,
    ) -> Result<String, ObjectsError> {
        self.write_keyed(body, data_key)
    }

    fn concat(&self, parts: &[String], _durable: bool) -> Result<String, ObjectsError> {
        super::RemoteBodies::concat(self, parts)
    }

    fn get(
        &self,
        name: &str,
        range: Option<(u64, u64)>,
        data_key: Option<&[u8]>,
    ) -> Result<Vec<u8>, ObjectsError> {
        match data_key {
            Some(k) => self.read_keyed(name, range, k),
            None => self.read(name, range),
        }
    }

    fn remove(&self, name: &str) {
        super::RemoteBodies::remove(self, name)
    }
}
