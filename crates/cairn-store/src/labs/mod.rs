//! Labs: each account's progress through cairn's exercises and investigations (`cairn lab`).
//!
//! [`LabsStore`] is the contract. One [`Progress`] document per account and lab: when it was
//! started, what the lab set up that grading needs (a scenario's truth, the log file a lab
//! altered), the learner's answers, and the outcome of the last check. Keeping a document
//! replaces the one before; forgetting it is the lab's reset. [`SqliteLabs`] is the embedded
//! backend, [`PgLabs`] the PostgreSQL one; the shared suite (`crate::suite::labs`) holds any
//! backend to this contract.

mod pg;
mod sqlite;

use std::collections::BTreeMap;

pub use pg::PgLabs;
pub use sqlite::SqliteLabs;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::StoreError;

/// An account's progress through one lab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub account: String,
    /// The lab's name (`create-trail`).
    pub lab: String,
    /// When `cairn lab start` ran (instance clock, ms): grading counts only what came after.
    pub started_ms: i64,
    /// What the lab set up that grading needs; the lab's own shape.
    #[serde(default)]
    pub state: Value,
    /// The learner's answers, by question id.
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
    /// When a check first found every criterion met.
    #[serde(default)]
    pub passed_ms: Option<i64>,
    /// How many checks ran, and when the last did.
    #[serde(default)]
    pub checks: u32,
    #[serde(default)]
    pub checked_ms: Option<i64>,
}

/// Where lab progress is kept.
pub trait LabsStore: Send + Sync {
    /// `account`'s progress through `lab`, if it was started.
    fn progress(&self, account: &str, lab: &str) -> Result<Option<Progress>, StoreError>;
    /// Keeps `p`, replacing what was kept for its account and lab.
    fn keep(&self, p: &Progress) -> Result<(), StoreError>;
    /// Every lab `account` started, by name.
    fn list(&self, account: &str) -> Result<Vec<Progress>, StoreError>;
    /// Forgets `account`'s progress through `lab`; whether there was any.
    fn forget(&self, account: &str, lab: &str) -> Result<bool, StoreError>;
}

pub(crate) fn encode(p: &Progress) -> Result<String, StoreError> {
    serde_json::to_string(p)
        .map_err(|e| StoreError::Invalid(format!("lab {} of {}: {e}", p.lab, p.account)))
}

pub(crate) fn decode(text: &str) -> Result<Progress, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Invalid(format!("lab progress: {e}")))
}
