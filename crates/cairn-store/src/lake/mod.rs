//! CloudTrail Lake's state: event data stores, queries and their results, and the documents
//! of imports and channels; and [`Columnar`], the contract of the engine that holds the
//! events themselves as columns and answers SQL over them (cairn-lake implements it; the rest
//! of cairn never sees the engine's types).
//!
//! [`LakeStore`] is the metadata contract; [`SqliteLake`] the embedded backend, [`PgLake`] the
//! PostgreSQL one; the shared
//! suite (`crate::suite::lake`) holds any backend to it. Writes made during a call join the
//! call's transaction; the query runner's writes (outside calls) commit at once.

mod columnar;
mod locks;
mod pg;
mod pg_locks;
mod sqlite;

use std::collections::BTreeMap;

pub use columnar::{Answer, Columnar, ColumnarAppend, KeyState, LakeKey, NoColumnar, SqlError};
pub use locks::{FileLocks, Held, OneProcess, Shared};
pub use pg::PgLake;
pub use pg_locks::PgFileLocks;
pub use sqlite::SqliteLake;

/// A JSON column read back (only the lake's backends write these columns, always from the
/// types read back).
fn json_or<T: serde::de::DeserializeOwned + Default>(text: &str) -> T {
    serde_json::from_str(text).unwrap_or_default()
}

fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

use crate::error::StoreError;

/// An event data store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventDataStore {
    pub arn: String,
    /// The id part of the ARN: the table name in queries.
    pub id: String,
    pub account: String,
    pub region: String,
    pub name: String,
    /// `CREATED`, `ENABLED`, `PENDING_DELETION`, `STARTING_INGESTION`, `STOPPING_INGESTION`,
    /// `STOPPED_INGESTION`.
    pub status: String,
    /// The API's members as last set (JSON object): AdvancedEventSelectors,
    /// MultiRegionEnabled, OrganizationEnabled, RetentionPeriod, TerminationProtectionEnabled,
    /// KmsKeyId, BillingMode.
    pub settings: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub tags: BTreeMap<String, String>,
    /// Journal offsets over which it ingests: `[from, to)`, the last open while ingesting.
    pub ingest_ranges: Vec<(u64, Option<u64>)>,
    /// When deletion was asked (PENDING_DELETION).
    pub deleted_ms: Option<i64>,
}

/// A query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub id: String,
    pub account: String,
    pub region: String,
    /// ARNs of the event data stores it reads.
    pub stores: Vec<String>,
    pub statement: String,
    /// `QUEUED`, `RUNNING`, `FINISHED`, `FAILED`, `CANCELLED`, `TIMED_OUT`.
    pub status: String,
    pub created_ms: i64,
    pub ended_ms: Option<i64>,
    pub error: Option<String>,
    /// Counters (JSON object): EventsMatched, EventsScanned, BytesScanned,
    /// ExecutionTimeInMillis.
    pub stats: String,
    pub delivery: Option<String>,
    pub delivery_status: Option<String>,
    /// Result labels, once finished.
    pub columns: Option<Vec<String>>,
}

pub trait LakeStore: Send + Sync {
    /// Creates or replaces an event data store (by ARN).
    fn put_store(&self, s: &EventDataStore) -> Result<(), StoreError>;
    fn store(&self, arn: &str) -> Result<Option<EventDataStore>, StoreError>;
    /// The event data store with this id, any account.
    fn store_by_id(&self, id: &str) -> Result<Option<EventDataStore>, StoreError>;
    /// An account's event data stores, oldest first.
    fn stores(&self, account: &str) -> Result<Vec<EventDataStore>, StoreError>;
    /// Every event data store, oldest first (for ingestion).
    fn all_stores(&self) -> Result<Vec<EventDataStore>, StoreError>;
    /// Removes an event data store's row; `false` when there was none.
    fn remove_store(&self, arn: &str) -> Result<bool, StoreError>;

    fn put_query(&self, q: &Query) -> Result<(), StoreError>;
    fn query(&self, id: &str) -> Result<Option<Query>, StoreError>;
    /// An account's queries created at or after `since_ms`, newest first.
    fn queries(&self, account: &str, since_ms: i64) -> Result<Vec<Query>, StoreError>;
    /// Queries in a status, oldest first (the runner's queue).
    fn queries_in(&self, status: &str) -> Result<Vec<Query>, StoreError>;
    /// Stores a finished query and its rows (each a JSON array), together.
    fn finish_query(&self, q: &Query, rows: &[String]) -> Result<(), StoreError>;
    /// Result rows `from..from+limit` of a query (JSON arrays), in order.
    fn results(&self, id: &str, from: u64, limit: usize) -> Result<Vec<String>, StoreError>;
    /// Forgets queries (and their rows) created before `before_ms`.
    fn forget_queries(&self, before_ms: i64) -> Result<usize, StoreError>;

    /// Creates or replaces a document (imports, channels, resource policies), by kind and key.
    fn put_document(
        &self,
        kind: &str,
        key: &str,
        account: &str,
        body: &str,
    ) -> Result<(), StoreError>;
    fn document(&self, kind: &str, key: &str) -> Result<Option<String>, StoreError>;
    /// An account's documents of a kind, by key.
    fn documents(&self, kind: &str, account: &str) -> Result<Vec<(String, String)>, StoreError>;
    /// Removes a document; `false` when there was none.
    fn remove_document(&self, kind: &str, key: &str) -> Result<bool, StoreError>;
}
