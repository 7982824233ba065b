//! The columnar engine's contract: event data stores' events kept as columns, appended
//! exactly once per numbered stream, and SQL over them in Lake's dialect.
//!
//! A stream is one source with numbered positions (`journal` offsets, an import's files, a
//! channel's calls). [`Columnar::append`] of `first..=last` is durable when it returns and
//! idempotent: a range at or below the stream's committed position is skipped.
//!
//! A store encrypted with a KMS key is *sealed*: its files are written and read with a data
//! key that only KMS can unwrap. The engine holds such keys in memory only, as the service
//! that talks to KMS hands them over ([`Columnar::unlock`]) or takes them back
//! ([`Columnar::lock`], when the key can no longer be used); a sealed store without its key
//! neither takes events nor answers queries.

use std::borrow::Cow;
use std::sync::atomic::AtomicBool;

use crate::error::StoreError;

/// What an append did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ColumnarAppend {
    /// Records written.
    pub rows: u64,
    /// Records refused (not JSON objects), by their index in the append, with why.
    pub refused: Vec<(u64, String)>,
    /// The range had been committed before: nothing was written.
    pub already: bool,
}

/// A query's answer: labels, rows of strings (None for NULL), and what it read.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Answer {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    pub events_scanned: u64,
    pub bytes_scanned: u64,
}

/// Why a statement was not answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    /// Lake's `InvalidQueryStatementException`: not one SELECT, bad syntax, unknown names.
    #[error("{0}")]
    Invalid(String),
    /// Failed while running (the query's `ErrorMessage`).
    #[error("{0}")]
    Failed(String),
    #[error("cancelled")]
    Cancelled,
    #[error("timed out")]
    TimedOut,
}

/// A sealed store's 256-bit data key (AES-GCM, Parquet's modular encryption).
#[derive(Clone, PartialEq, Eq)]
pub struct LakeKey(pub [u8; 32]);

impl std::fmt::Debug for LakeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LakeKey(..)")
    }
}

/// Where a store's data key stands in the engine's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Never handed over (or the store is not sealed).
    Unset,
    /// Held since this time (ms).
    Unlocked { since_ms: i64 },
    /// Taken back at this time (ms): the key could not be used.
    Locked { since_ms: i64 },
}

pub trait Columnar: Send + Sync {
    /// Adds records numbered `first..=last` of `stream` to event data store `store` (its id).
    fn append(
        &self,
        store: &str,
        stream: &str,
        first: u64,
        last: u64,
        records: &mut dyn Iterator<Item = Cow<'_, str>>,
    ) -> Result<ColumnarAppend, StoreError>;
    /// Adds `count` records to `stream` of `store`, numbered from just past its committed
    /// position, read and moved under one lock: a stream fed from several nodes (a channel's
    /// calls) numbers each call's records once. Returns the first number given.
    fn append_next(
        &self,
        store: &str,
        stream: &str,
        count: u64,
        records: &mut dyn Iterator<Item = Cow<'_, str>>,
    ) -> Result<(u64, ColumnarAppend), StoreError>;
    /// The last committed position of `stream` in `store`.
    fn committed(&self, store: &str, stream: &str) -> Result<Option<u64>, StoreError>;
    /// The event data store ids a statement names (lower case), or why it is not a statement
    /// Lake takes.
    fn tables_of(&self, sql: &str) -> Result<Vec<String>, SqlError>;
    /// Plans a statement without running it: unknown columns or functions are `Invalid`.
    fn check(&self, sql: &str) -> Result<(), SqlError>;
    /// Runs a statement to its end (blocking), giving up when `cancel` is set.
    fn run(&self, sql: &str, cancel: &AtomicBool) -> Result<Answer, SqlError>;
    /// Deletes a store's events.
    fn remove(&self, store: &str) -> Result<(), StoreError>;
    /// Deletes a store's events of days before `before_ms` (its retention period).
    fn expire(&self, store: &str, before_ms: i64) -> Result<(), StoreError>;
    /// Hands over a store's data key at `now_ms`. The first key a store is given seals it
    /// (durably: from then on its files are encrypted and it needs its key); a key that is
    /// not the one it was sealed with is refused.
    fn unlock(&self, store: &str, key: &LakeKey, now_ms: i64) -> Result<(), StoreError>;
    /// Forgets a store's data key at `now_ms`: its key can no longer be used.
    fn lock(&self, store: &str, now_ms: i64);
    /// Where the store's key stands.
    fn key_state(&self, store: &str) -> KeyState;
}

/// An engine for builds and tests without one: every statement is refused, appends fail.
pub struct NoColumnar;

impl Columnar for NoColumnar {
    fn append(
        &self,
        _store: &str,
        _stream: &str,
        _first: u64,
        _last: u64,
        _records: &mut dyn Iterator<Item = Cow<'_, str>>,
    ) -> Result<ColumnarAppend, StoreError> {
        Err(StoreError::Backend {
            engine: "columnar",
            message: "no columnar engine in this build".into(),
        })
    }
    fn append_next(
        &self,
        _store: &str,
        _stream: &str,
        _count: u64,
        _records: &mut dyn Iterator<Item = Cow<'_, str>>,
    ) -> Result<(u64, ColumnarAppend), StoreError> {
        Err(StoreError::Backend {
            engine: "columnar",
            message: "no columnar engine in this build".into(),
        })
    }
    fn committed(&self, _store: &str, _stream: &str) -> Result<Option<u64>, StoreError> {
        Ok(None)
    }
    fn tables_of(&self, _sql: &str) -> Result<Vec<String>, SqlError> {
        Err(SqlError::Invalid("no SQL engine in this build".into()))
    }
    fn check(&self, _sql: &str) -> Result<(), SqlError> {
        Err(SqlError::Invalid("no SQL engine in this build".into()))
    }
    fn run(&self, _sql: &str, _cancel: &AtomicBool) -> Result<Answer, SqlError> {
        Err(SqlError::Failed("no SQL engine in this build".into()))
    }
    fn remove(&self, _store: &str) -> Result<(), StoreError> {
        Ok(())
    }
    fn expire(&self, _store: &str, _before_ms: i64) -> Result<(), StoreError> {
        Ok(())
    }
    fn unlock(&self, _store: &str, _key: &LakeKey, _now_ms: i64) -> Result<(), StoreError> {
        Err(StoreError::Backend {
            engine: "columnar",
            message: "no columnar engine in this build".into(),
        })
    }
    fn lock(&self, _store: &str, _now_ms: i64) {}
    fn key_state(&self, _store: &str) -> KeyState {
        KeyState::Unset
    }
}
