//! Detections: the findings the rule engine made from the journal's records, and the engine's
//! cursor into the journal.
//!
//! [`DetectionsStore`] is the contract. Findings are kept as documents in the order they were
//! made (a sequence number each), listed per account or for all; the cursor moves in the same
//! transaction as the findings made from the records before it, so a crash never loses or
//! repeats a finding. [`SqliteDetections`] is the embedded backend, [`PgDetections`] the
//! PostgreSQL one; the shared suite (`crate::suite::detections`) holds any backend to this
//! contract.

mod pg;
mod sqlite;

pub use pg::PgDetections;
pub use sqlite::SqliteDetections;

use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// A rule's firing, as kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// A UUID.
    pub id: String,
    /// The account whose records fired the rule.
    pub account: String,
    pub region: String,
    /// The rule's Sigma `id` (or its file name), and its set (`cairn`, or the folder's name).
    pub rule_id: String,
    pub rule_set: String,
    pub title: String,
    /// `informational`, `low`, `medium`, `high` or `critical`.
    pub level: String,
    pub tags: Vec<String>,
    /// When the finding was made (instance clock), and the firing record's `eventTime`.
    pub created_ms: i64,
    pub event_time: String,
    /// The firing record's `eventID`, `eventName`, `eventSource` and caller ARN.
    pub event_id: String,
    pub event_name: String,
    pub event_source: String,
    pub principal: Option<String>,
    pub source_ip: Option<String>,
    /// An aggregating rule's group (the `by` field's value) and count.
    pub group: Option<String>,
    pub count: u64,
}

/// A finding with its place in the store's order.
#[derive(Clone, Debug, PartialEq)]
pub struct Kept {
    pub seq: i64,
    pub finding: Finding,
}

/// The raw contract: findings as JSON documents.
pub trait DetectionsStore: Send + Sync {
    /// The journal position the engine has judged everything before (`None`: it never ran).
    fn cursor(&self) -> Result<Option<u64>, StoreError>;
    /// Keeps `findings` and moves the cursor to `position`, together.
    fn advance(&self, position: u64, findings: &[Finding]) -> Result<(), StoreError>;
    /// Findings after `after_seq`, oldest first, `account`'s only when given.
    fn list(
        &self,
        account: Option<&str>,
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<Kept>, StoreError>;
}

pub(crate) fn encode(f: &Finding) -> Result<String, StoreError> {
    serde_json::to_string(f).map_err(|e| StoreError::Invalid(format!("finding {}: {e}", f.id)))
}

pub(crate) fn decode(seq: i64, text: &str) -> Result<Kept, StoreError> {
    serde_json::from_str(text)
        .map(|finding| Kept { seq, finding })
        .map_err(|e| StoreError::Invalid(format!("finding #{seq}: {e}")))
}
