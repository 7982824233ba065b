//! [`Lake`] as the rest of cairn sees it: [`cairn_store::lake::Columnar`].

use std::borrow::Cow;
use std::sync::atomic::AtomicBool;

use cairn_store::StoreError;
use cairn_store::lake::{Answer, Columnar, ColumnarAppend, KeyState, LakeKey, SqlError};

use crate::{DataKey, Lake, LakeError, Limits, QueryError, prepare};

fn store_error(e: LakeError) -> StoreError {
    match e {
        LakeError::Invalid(m) => StoreError::Invalid(m),
        LakeError::Locked => StoreError::Crypto(LakeError::Locked.to_string()),
        other => StoreError::Backend {
            engine: "lake",
            message: other.to_string(),
        },
    }
}

fn sql_error(e: QueryError) -> SqlError {
    match e {
        QueryError::Invalid(m) => SqlError::Invalid(m),
        QueryError::Failed(m) => SqlError::Failed(m),
        QueryError::Cancelled => SqlError::Cancelled,
        QueryError::TimedOut(_) => SqlError::TimedOut,
    }
}

impl Columnar for Lake {
    fn append(
        &self,
        store: &str,
        stream: &str,
        first: u64,
        last: u64,
        records: &mut dyn Iterator<Item = Cow<'_, str>>,
    ) -> Result<ColumnarAppend, StoreError> {
        self.writing(store, |dir| {
            append_compacting(store, dir, stream, first, last, records)
        })
        .map_err(store_error)
    }

    fn append_next(
        &self,
        store: &str,
        stream: &str,
        count: u64,
        records: &mut dyn Iterator<Item = Cow<'_, str>>,
    ) -> Result<(u64, ColumnarAppend), StoreError> {
        if count == 0 {
            return Err(StoreError::Invalid("an append of no records".into()));
        }
        self.writing(store, |dir| {
            let first = dir.committed()?.get(stream).copied().unwrap_or(0) + 1;
            let done = append_compacting(store, dir, stream, first, first + count - 1, records)?;
            Ok((first, done))
        })
        .map_err(store_error)
    }

    fn committed(&self, store: &str, stream: &str) -> Result<Option<u64>, StoreError> {
        let dir = self.store(store).map_err(store_error)?;
        let dir = dir.lock().unwrap_or_else(|p| p.into_inner());
        Ok(dir.committed().map_err(store_error)?.get(stream).copied())
    }

    fn tables_of(&self, sql: &str) -> Result<Vec<String>, SqlError> {
        prepare(sql)
            .map(|p| p.stores)
            .map_err(|e| SqlError::Invalid(e.0))
    }

    fn check(&self, sql: &str) -> Result<(), SqlError> {
        let prepared = prepare(sql).map_err(|e| SqlError::Invalid(e.0))?;
        // Planning needs the schema only, never a file (nor so a sealed store's key).
        let tables: Vec<crate::Table> = prepared
            .stores
            .iter()
            .map(|id| crate::Table {
                id: id.clone(),
                files: Vec::new(),
                key: None,
                bucket: None,
            })
            .collect();
        self.engine().check(&prepared, &tables).map_err(sql_error)
    }

    fn run(&self, sql: &str, cancel: &AtomicBool) -> Result<Answer, SqlError> {
        let prepared = prepare(sql).map_err(|e| SqlError::Invalid(e.0))?;
        let out = self
            .query(&prepared, cancel, Limits::default())
            .map_err(sql_error)?;
        Ok(Answer {
            columns: out.columns,
            rows: out.rows,
            events_scanned: out.events_scanned,
            bytes_scanned: out.bytes_scanned,
        })
    }

    fn remove(&self, store: &str) -> Result<(), StoreError> {
        Lake::remove(self, store).map_err(store_error)
    }

    fn unlock(&self, store: &str, key: &LakeKey, now_ms: i64) -> Result<(), StoreError> {
        self.set_key(store, DataKey(key.0)).map_err(store_error)?;
        self.key_states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(store.to_string(), KeyState::Unlocked { since_ms: now_ms });
        Ok(())
    }

    fn lock(&self, store: &str, now_ms: i64) {
        if let Err(e) = self.forget_key(store) {
            tracing::warn!(store, error = %e, "forgetting a lake key");
        }
        self.key_states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(store.to_string(), KeyState::Locked { since_ms: now_ms });
    }

    fn key_state(&self, store: &str) -> KeyState {
        self.key_states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(store)
            .copied()
            .unwrap_or(KeyState::Unset)
    }

    fn expire(&self, store: &str, before_ms: i64) -> Result<(), StoreError> {
        self.writing(store, |dir| {
            dir.drop_days_before(before_ms.div_euclid(86_400_000))
        })
        .map_err(store_error)?;
        Ok(())
    }
}

/// Appends, then merges the day's small files when the append wrote any.
fn append_compacting(
    store: &str,
    dir: &mut crate::StoreDir,
    stream: &str,
    first: u64,
    last: u64,
    records: &mut dyn Iterator<Item = Cow<'_, str>>,
) -> Result<ColumnarAppend, LakeError> {
    let done = dir.append(stream, first, last, records)?;
    if done.rows > 0 {
        // A merge that fails leaves the small files, all still read: only slower.
        if let Err(e) = crate::compact::compact(dir, crate::compact::MAX_FILES_PER_DAY) {
            tracing::warn!(store, error = %e, "lake compaction failed");
        }
    }
    Ok(ColumnarAppend {
        rows: done.rows,
        refused: done.refused,
        already: done.already,
    })
}
