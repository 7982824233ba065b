//! [`Lake`] as the rest of cairn sees it: [`cairn_store::lake::Columnar`].

use std::borrow::Cow;
use std::sync::atomic::AtomicBool;

use cairn_store::StoreError;
use cairn_store::lake::{Answer, Columnar, ColumnarAppend, SqlError};

use crate::{Lake, LakeError, Limits, QueryError, prepare};

fn store_error(e: LakeError) -> StoreError {
    match e {
        LakeError::Invalid(m) => StoreError::Invalid(m),
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
        let dir = self.store(store).map_err(store_error)?;
        let dir = dir.lock().unwrap_or_else(|p| p.into_inner());
        let done = dir
            .append(stream, first, last, records)
            .map_err(store_error)?;
        if done.rows > 0 {
            // A merge that fails leaves the small files, all still read: only slower.
            if let Err(e) = crate::compact::compact(&dir, crate::compact::MAX_FILES_PER_DAY) {
                tracing::warn!(store, error = %e, "lake compaction failed");
            }
        }
        Ok(ColumnarAppend {
            rows: done.rows,
            refused: done.refused,
            already: done.already,
        })
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
        let tables = self
            .tables(&prepared.stores)
            .map_err(|e| SqlError::Failed(e.to_string()))?;
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

    fn expire(&self, store: &str, before_ms: i64) -> Result<(), StoreError> {
        let dir = self.store(store).map_err(store_error)?;
        let dir = dir.lock().unwrap_or_else(|p| p.into_inner());
        dir.drop_days_before(before_ms.div_euclid(86_400_000))
            .map_err(store_error)?;
        Ok(())
    }
}
