//! cairn's lake: event data stores as columnar files and SQL over them.
//!
//! - `schema.rs`: the Lake schema (AWS's columns and types) as Arrow.
//! - `convert.rs`: CloudTrail records (JSON text) into Arrow batches of that schema.
//! - `files.rs`: a store's Parquet files, partitioned by day, appended exactly once.
//! - `place.rs`: where those files are: a folder on the disk or a bucket on an S3 endpoint.
//! - `compact.rs`: many small files of a day merged into one.
//! - `statement.rs`: what Lake accepts as a query, and its result labels.
//! - `functions.rs`: the Trino functions Lake's queries use.
//! - `render.rs`: result values as Lake prints them.
//! - `query.rs`: running a statement with DataFusion.
//!
//! This is the only crate that depends on DataFusion; the rest of cairn reaches it through
//! [`cairn_store::lake::Columnar`], which [`Lake`] implements.

pub mod compact;
pub mod convert;
mod expand;
pub mod files;
pub mod functions;
pub mod place;
pub mod query;
pub mod render;
pub mod schema;
pub mod statement;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cairn_store::lake::{FileLocks, Held, OneProcess};

pub use files::{Appended, DataKey, StoreDir};
pub use place::{Bucket, BucketConfig, Place};
pub use query::{Engine, Limits, Output, QueryError, ResultFile, Table};
pub use statement::{Invalid, Prepared, prepare, prepare_naming};

/// What can go wrong in the lake's files.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("lake i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("lake file: {0}")]
    Parquet(#[from] datafusion::parquet::errors::ParquetError),
    #[error("lake batch: {0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    #[error("lake state is damaged: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Invalid(String),
    /// A sealed store whose data key was not handed over (or was taken back).
    #[error("the event data store's KMS key cannot be used now")]
    Locked,
    /// Other processes sharing the files could not be kept from writing them.
    #[error("lake store lock: {0}")]
    Shared(String),
    /// The bucket holding the files could not be reached or refused a call.
    #[error("lake bucket: {0}")]
    Bucket(String),
}

/// Every event data store's files under one folder (`<data>/lake`) or in one bucket, and the
/// SQL engine.
pub struct Lake {
    root: PathBuf,
    /// The bucket the files are in, when not under `root`.
    bucket: Option<Arc<Bucket>>,
    /// Keeps other processes sharing the files (a cluster's nodes) from writing a store while
    /// this one does.
    locks: Arc<dyn FileLocks>,
    stores: Mutex<HashMap<String, Arc<Mutex<StoreDir>>>>,
    /// When each sealed store's key was handed over or taken back.
    key_states: Mutex<HashMap<String, cairn_store::lake::KeyState>>,
    engine: Engine,
}

impl Lake {
    pub fn open(root: &Path) -> Result<Lake, LakeError> {
        Lake::open_with(root, None)
    }

    /// Stores' files in `bucket` when given (`root` then holds only files waiting to be
    /// uploaded), else under `root`.
    pub fn open_with(root: &Path, bucket: Option<&BucketConfig>) -> Result<Lake, LakeError> {
        std::fs::create_dir_all(root)?;
        let engine = Engine::new()?;
        let bucket = match bucket {
            Some(config) => Some(Arc::new(Bucket::connect(
                config,
                root.join("staging"),
                engine.handle(),
            )?)),
            None => None,
        };
        Ok(Lake {
            root: root.to_path_buf(),
            bucket,
            locks: Arc::new(OneProcess),
            stores: Mutex::new(HashMap::new()),
            key_states: Mutex::new(HashMap::new()),
            engine,
        })
    }

    /// The lake with its stores' files shared with other processes, which `locks` keeps from
    /// writing a store while this one does (and this one from theirs).
    pub fn with_locks(mut self, locks: Arc<dyn FileLocks>) -> Lake {
        self.locks = locks;
        self
    }

    /// Where store `id`'s files are.
    pub fn place(&self, id: &str) -> Place {
        match &self.bucket {
            Some(b) => b.place(id),
            None => Place::Folder(self.root.join(id)),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A store's folder, opened (and recovered) on first use. Write it through
    /// [`Lake::writing`].
    pub fn store(&self, id: &str) -> Result<Arc<Mutex<StoreDir>>, LakeError> {
        if !files::valid_stream(id) {
            return Err(LakeError::Invalid(format!("event data store id {id:?}")));
        }
        if let Some(s) = self.opened().get(id) {
            return Ok(s.clone());
        }
        // Recovery deletes what looks cut short: only while no other process writes the store.
        let dir = {
            let _held = self.hold(id)?;
            let dir = StoreDir::attach(self.place(id))?;
            dir.recover()?;
            dir
        };
        let mut all = self.opened();
        Ok(all
            .entry(id.to_string())
            .or_insert_with(|| Arc::new(Mutex::new(dir)))
            .clone())
    }

    fn opened(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Mutex<StoreDir>>>> {
        self.stores.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn hold(&self, id: &str) -> Result<Held, LakeError> {
        self.locks
            .hold(id)
            .map_err(|e| LakeError::Shared(e.to_string()))
    }

    /// Runs `write` on store `id`'s folder with no other writer of it, in this process or any
    /// other sharing the files. The other processes' lock is taken first, so that waiting for
    /// one does not hold up this one's readers.
    pub fn writing<T>(
        &self,
        id: &str,
        write: impl FnOnce(&mut StoreDir) -> Result<T, LakeError>,
    ) -> Result<T, LakeError> {
        let store = self.store(id)?;
        let _held = self.hold(id)?;
        let mut dir = store.lock().unwrap_or_else(|p| p.into_inner());
        write(&mut dir)
    }

    /// The tables a query over `ids` reads (a sealed store's with its key: without it, the
    /// store cannot be read).
    pub fn tables(&self, ids: &[String]) -> Result<Vec<Table>, LakeError> {
        ids.iter()
            .map(|id| {
                let store = self.store(id)?;
                let dir = store.lock().unwrap_or_else(|p| p.into_inner());
                let key = match (dir.key(), dir.sealed()?) {
                    (Some(k), _) => Some(k.clone()),
                    (None, false) => None,
                    (None, true) => return Err(LakeError::Locked),
                };
                Ok(Table {
                    id: id.clone(),
                    files: dir.parts()?.iter().map(|p| dir.location(p)).collect(),
                    key,
                    bucket: dir.place().object_store(),
                })
            })
            .collect()
    }

    /// Hands a store its data key (sealing it if it was not).
    pub fn set_key(&self, id: &str, key: DataKey) -> Result<(), LakeError> {
        self.writing(id, |dir| dir.set_key(key))
    }

    /// Takes a store's data key back.
    pub fn forget_key(&self, id: &str) -> Result<(), LakeError> {
        let store = self.store(id)?;
        store.lock().unwrap_or_else(|p| p.into_inner()).forget_key();
        Ok(())
    }

    /// Runs a statement over the stores it names. A file can go while a query runs (a
    /// compaction covered it); the query then runs again over the new listing.
    pub fn query(
        &self,
        prepared: &Prepared,
        cancel: &std::sync::atomic::AtomicBool,
        limits: Limits,
    ) -> Result<Output, QueryError> {
        const ATTEMPTS: usize = 3;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let tables = self
                .tables(&prepared.stores)
                .map_err(|e| QueryError::Failed(e.to_string()))?;
            match self.engine.run(prepared, &tables, cancel, limits) {
                Err(QueryError::Failed(m)) if attempt < ATTEMPTS && self.any_gone(&tables) => {
                    tracing::debug!(error = %m, "a file went during the query; running it again");
                }
                other => return other,
            }
        }
    }

    /// Whether a file a query was given has gone since (a compaction covered it).
    fn any_gone(&self, tables: &[Table]) -> bool {
        tables.iter().any(|t| {
            let place = self.place(&t.id);
            t.files.iter().any(|f| !place.exists_at(f))
        })
    }

    /// Deletes a store's files.
    pub fn remove(&self, id: &str) -> Result<(), LakeError> {
        self.writing(id, |dir| {
            self.opened().remove(id);
            dir.place().remove_folder("")
        })
    }
}

mod columnar;
