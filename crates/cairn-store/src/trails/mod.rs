//! Trails: settings, event and Insights selectors, tags, logging state, delivery status,
//! delivery plans and the delivery cursor, CloudWatch Logs delivery state, SNS notifications of
//! written log files, digest signing keys, and digest state.
//!
//! [`TrailStore`] is the contract; every multi-step change a crash could interrupt (planning
//! with the cursor, a written plan with its digest entry, a decided digest) is atomic.
//! [`SqliteTrails`] is the embedded backend, [`PgTrails`] the shared one; the shared suite
//! (`crate::suite::trails`) holds any backend to this contract.

pub mod digests;
mod pg;
mod sqlite;

pub use pg::PgTrails;
pub use sqlite::SqliteTrails;

use crate::error::StoreError;
use digests::{DecidedDigest, DigestChain, DigestFile, DigestPlan};

/// A trail as stored, in its home region.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Trail {
    pub arn: String,
    pub account: String,
    pub home_region: String,
    pub name: String,
    pub s3_bucket: String,
    pub s3_key_prefix: Option<String>,
    pub sns_topic_name: Option<String>,
    pub include_global_events: bool,
    pub multi_region: bool,
    pub log_file_validation: bool,
    pub cw_log_group_arn: Option<String>,
    pub cw_role_arn: Option<String>,
    pub kms_key_id: Option<String>,
    pub organization: bool,
    pub event_selectors: Option<String>,
    pub advanced_event_selectors: Option<String>,
    pub insight_selectors: Option<String>,
    pub logging: bool,
    /// Journal offset ranges `[from, to)` in which the trail was logging; `to` is `None` while
    /// it still is.
    pub logging_ranges: Vec<(u64, Option<u64>)>,
    pub start_logging_ms: Option<i64>,
    pub stop_logging_ms: Option<i64>,
    pub created_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TrailStatus {
    pub latest_delivery_ms: Option<i64>,
    pub latest_delivery_attempt_ms: Option<i64>,
    pub latest_delivery_error: Option<String>,
    pub latest_digest_ms: Option<i64>,
    pub latest_digest_error: Option<String>,
}

/// A trail's CloudWatch Logs delivery: its own journal cursor and what it last did.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CwlState {
    /// The journal offset from which records have yet to reach the log group.
    pub cursor: u64,
    /// A batch was being written when the state was last saved: it may be in the group
    /// already, so the next attempt checks before writing.
    pub in_flight: bool,
    /// The latest successful delivery (`LatestCloudWatchLogsDeliveryTime`).
    pub latest_ms: Option<i64>,
    /// The latest failure, while unresolved (`LatestCloudWatchLogsDeliveryError`).
    pub latest_error: Option<String>,
    pub error_ms: Option<i64>,
}

/// An SNS notification owed for a written log file: queued with the file's written mark, sent
/// to the trail's topic (whatever it is by then), then forgotten.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub id: i64,
    pub trail_arn: String,
    pub bucket: String,
    pub key: String,
    pub created_ms: i64,
}

/// What a trail's SNS notifications last did (GetTrailStatus's `LatestNotification*`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NotifyStatus {
    /// The latest notification sent.
    pub latest_ms: Option<i64>,
    /// The latest attempt, sent or not.
    pub attempt_ms: Option<i64>,
    /// SNS's error of the latest attempt, while unresolved.
    pub latest_error: Option<String>,
}

/// A log file to write: its trail, region, key and the journal offsets of its records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryPlan {
    pub id: i64,
    pub trail_arn: String,
    pub region: String,
    pub key: String,
    pub offsets: Vec<u64>,
    pub created_ms: i64,
}

/// A digest signing key as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKey {
    pub region: String,
    pub fingerprint: String,
    pub public_der: Vec<u8>,
    pub private_sealed: Vec<u8>,
    pub valid_from_ms: i64,
    pub valid_to_ms: i64,
}

/// Trails and everything delivery and digests keep about them.
pub trait TrailStore: Send + Sync {
    /// Inserts a new trail, or replaces the settings of an existing one (same ARN).
    fn put(&self, t: &Trail) -> Result<(), StoreError>;

    /// A trail by ARN, `None` if there is none.
    fn get(&self, arn: &str) -> Result<Option<Trail>, StoreError>;

    /// Every trail of an account, in every home region, by name.
    fn list(&self, account: &str) -> Result<Vec<Trail>, StoreError>;

    /// Every trail of every account (for delivery).
    fn all(&self) -> Result<Vec<Trail>, StoreError>;

    /// Removes a trail with its tags and status; says whether there was one.
    fn delete(&self, arn: &str) -> Result<bool, StoreError>;

    /// A trail's tags, in the order they were added.
    fn tags(&self, arn: &str) -> Result<Vec<(String, String)>, StoreError>;

    /// Adds tags, replacing the values of keys already there.
    fn add_tags(&self, arn: &str, tags: &[(String, String)]) -> Result<(), StoreError>;

    /// Removes the tags with these keys.
    fn remove_tags(&self, arn: &str, keys: &[String]) -> Result<(), StoreError>;

    /// A trail's delivery status (all empty if none was set).
    fn status(&self, arn: &str) -> Result<TrailStatus, StoreError>;

    /// Replaces a trail's delivery status.
    fn set_status(&self, arn: &str, s: &TrailStatus) -> Result<(), StoreError>;

    /// The journal offset trail delivery has planned up to (its consumer cursor).
    fn delivery_cursor(&self) -> Result<u64, StoreError>;

    /// Records new plans and moves the delivery cursor, atomically.
    fn plan(&self, plans: &[DeliveryPlan], cursor: u64) -> Result<(), StoreError>;

    /// Plans not yet written, oldest first.
    fn pending_plans(&self) -> Result<Vec<DeliveryPlan>, StoreError>;

    /// Forgets a written plan.
    fn plan_done(&self, id: i64) -> Result<(), StoreError>;

    /// Stores a new digest signing key.
    fn add_signing_key(&self, k: &StoredKey) -> Result<(), StoreError>;

    /// A region's keys whose validity overlaps `[from, to]`, oldest first.
    fn signing_keys(
        &self,
        region: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<StoredKey>, StoreError>;

    /// Marks a log file plan written and, for a validating trail, queues the file for its digest
    /// and, for a trail with a topic, its SNS notification, atomically: a crash cannot list a
    /// file twice or lose it, nor lose its notification.
    fn plan_written(
        &self,
        plan_id: i64,
        file: Option<&DigestFile>,
        notice: Option<&Notice>,
    ) -> Result<(), StoreError>;

    /// Notifications not yet sent, oldest first.
    fn pending_notices(&self) -> Result<Vec<Notice>, StoreError>;

    /// Forgets notifications that were sent (or are owed no more).
    fn notices_done(&self, ids: &[i64]) -> Result<(), StoreError>;

    /// What a trail's notifications last did (all empty if nothing yet).
    fn notify_status(&self, arn: &str) -> Result<NotifyStatus, StoreError>;

    /// Replaces it.
    fn set_notify_status(&self, arn: &str, s: &NotifyStatus) -> Result<(), StoreError>;

    /// Log files of a trail that no digest lists yet, oldest plan first.
    fn digest_files(&self, trail_arn: &str) -> Result<Vec<DigestFile>, StoreError>;

    /// A trail's chains, by region then range.
    fn digest_chains(&self, trail_arn: &str) -> Result<Vec<DigestChain>, StoreError>;

    /// Starts (or restarts) a digest chain.
    fn start_digest_chain(&self, chain: &DigestChain) -> Result<(), StoreError>;

    /// The newest digest end time of a (trail, region) chain kind; digests must end later.
    fn digest_last_end(
        &self,
        trail_arn: &str,
        region: &str,
        backfill: bool,
    ) -> Result<Option<i64>, StoreError>;

    /// Commits a decided digest: the chain moves on (or ends), its files leave the queue, and
    /// the digest waits to be written.
    fn decide_digest(&self, d: &DecidedDigest<'_>) -> Result<(), StoreError>;

    /// Digests not yet written, oldest first.
    fn pending_digests(&self) -> Result<Vec<DigestPlan>, StoreError>;

    /// Marks a decided digest written.
    fn digest_written(&self, id: i64) -> Result<(), StoreError>;

    /// Every digest decided for a (trail, source region), oldest first: `(backfill, bucket, key,
    /// end_ms)`.
    fn digests_delivered(
        &self,
        trail_arn: &str,
        region: &str,
    ) -> Result<Vec<(bool, String, String, i64)>, StoreError>;

    /// Forgets a trail's digest state (validation turned off, or the trail deleted): files
    /// delivered meanwhile are never listed, and the next digest starts a new chain.
    fn drop_digest_state(&self, trail_arn: &str) -> Result<(), StoreError>;

    /// A trail's CloudWatch Logs delivery state, `None` if it has none.
    fn cwl_state(&self, arn: &str) -> Result<Option<CwlState>, StoreError>;

    /// Replaces a trail's CloudWatch Logs delivery state.
    fn set_cwl_state(&self, arn: &str, s: &CwlState) -> Result<(), StoreError>;

    /// Forgets it (delivery turned off, or pointed elsewhere).
    fn drop_cwl_state(&self, arn: &str) -> Result<(), StoreError>;
}
