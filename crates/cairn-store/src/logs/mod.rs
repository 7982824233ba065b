//! CloudWatch Logs: log groups, log streams, log events, metric and subscription filters,
//! and the account's resource policies.
//!
//! [`LogsStore`] is the contract, in the service's own terms; [`SqliteLogs`] is the embedded
//! backend, [`PgLogs`] the one of several nodes sharing PostgreSQL; the shared suite
//! (`crate::suite::logs`) holds any backend to it. Everything is scoped by a [`GroupKey`]
//! (account, region, group name), as log group names are unique per account and region. What the API validates (names, limits, time windows) is the
//! service's; the store keeps and orders.

mod batch;
mod pg;
mod sqlite;

use std::collections::BTreeMap;

pub use pg::PgLogs;
pub use sqlite::SqliteLogs;

use crate::error::StoreError;

/// A log group's place: account, region and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupKey {
    pub account: String,
    pub region: String,
    pub name: String,
}

impl GroupKey {
    pub fn new(account: &str, region: &str, name: &str) -> GroupKey {
        GroupKey {
            account: account.into(),
            region: region.into(),
            name: name.into(),
        }
    }

    /// `arn:aws:logs:<region>:<account>:log-group:<name>` (DescribeLogGroups' `logGroupArn`,
    /// and what tagging names).
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:logs:{}:{}:log-group:{}",
            self.region, self.account, self.name
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogGroup {
    pub key: GroupKey,
    pub created_ms: i64,
    pub retention_days: Option<i64>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogStream {
    pub name: String,
    pub created_ms: i64,
    pub first_event_ms: Option<i64>,
    pub last_event_ms: Option<i64>,
    pub last_ingestion_ms: Option<i64>,
    /// How many PutLogEvents batches it took: the basis of `uploadSequenceToken`.
    pub uploads: i64,
}

/// An event to store: its timestamp (ms) and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    pub timestamp: i64,
    pub message: String,
}

/// A stored event. `id` orders events of equal timestamp in the order they were ingested.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEvent {
    pub id: i64,
    pub stream: String,
    pub timestamp: i64,
    pub message: String,
    pub ingestion_ms: i64,
}

impl LogEvent {
    /// Where the event sits in a (timestamp, id) ordering.
    pub fn position(&self) -> Position {
        Position {
            timestamp: self.timestamp,
            id: self.id,
        }
    }
}

/// A place between events, in (timestamp, id) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub timestamp: i64,
    pub id: i64,
}

/// Which streams a read covers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Streams {
    /// Every stream of the group.
    #[default]
    All,
    /// These streams.
    Named(Vec<String>),
    /// Streams whose names start with this.
    Prefix(String),
}

/// A read of a group's events: in (timestamp, id) order, ascending or descending, in the
/// window `[start, end)`, strictly after (ascending) or before (descending) `from`.
#[derive(Clone, Debug, Default)]
pub struct EventQuery {
    pub streams: Streams,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub from: Option<Position>,
    pub descending: bool,
    pub limit: usize,
}

/// A subscription filter: events matching `pattern` ingested from event id `from_id` on go
/// to `destination_arn`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionFilter {
    pub group: String,
    pub name: String,
    pub pattern: String,
    pub destination_arn: String,
    pub role_arn: Option<String>,
    /// `ByLogStream` (the default) or `Random`.
    pub distribution: String,
    pub from_id: i64,
    pub created_ms: i64,
}

/// A stored PutLogEvents batch, as subscription delivery reads it: event `i` has id
/// `first_id + i`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBatch {
    pub key: GroupKey,
    pub stream: String,
    pub first_id: i64,
    /// (timestamp, message), in the batch's order.
    pub events: Vec<(i64, String)>,
}

/// A metric filter: `transformations` is the `metricTransformations` JSON document as the
/// service accepted it (the store does not look inside).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricFilter {
    pub group: String,
    pub name: String,
    pub pattern: String,
    pub transformations: String,
    pub created_ms: i64,
}

/// An account-level resource policy (PutResourcePolicy): the document as the service
/// accepted it, and when it was last put.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourcePolicy {
    pub name: String,
    pub document: String,
    pub updated_ms: i64,
}

/// CloudWatch Logs' groups, streams, events and metric filters.
pub trait LogsStore: Send + Sync {
    /// Creates a group; `false` if one of that name exists.
    fn create_group(&self, g: &LogGroup) -> Result<bool, StoreError>;

    /// A group, `None` if there is none.
    fn group(&self, key: &GroupKey) -> Result<Option<LogGroup>, StoreError>;

    /// An account's groups in a region, by name.
    fn groups(&self, account: &str, region: &str) -> Result<Vec<LogGroup>, StoreError>;

    /// Removes a group with its streams, events and metric filters; `false` if there was none.
    fn delete_group(&self, key: &GroupKey) -> Result<bool, StoreError>;

    /// Sets (or with `None` removes) a group's retention; `false` if there is no such group.
    fn set_retention(&self, key: &GroupKey, days: Option<i64>) -> Result<bool, StoreError>;

    /// Replaces a group's tags; `false` if there is no such group.
    fn set_tags(&self, key: &GroupKey, tags: &BTreeMap<String, String>)
    -> Result<bool, StoreError>;

    /// Creates a stream in an existing group; `false` if one of that name exists.
    fn create_stream(&self, key: &GroupKey, s: &LogStream) -> Result<bool, StoreError>;

    /// A stream, `None` if there is none.
    fn stream(&self, key: &GroupKey, name: &str) -> Result<Option<LogStream>, StoreError>;

    /// A group's streams, by name.
    fn streams(&self, key: &GroupKey) -> Result<Vec<LogStream>, StoreError>;

    /// Removes a stream with its events; `false` if there was none.
    fn delete_stream(&self, key: &GroupKey, name: &str) -> Result<bool, StoreError>;

    /// Appends events (already validated and in order) to an existing stream, ingested at
    /// `ingestion_ms`, and moves the stream's first/last event times and upload count on.
    /// Answers the stream as it now is.
    fn put_events(
        &self,
        key: &GroupKey,
        stream: &str,
        events: &[NewEvent],
        ingestion_ms: i64,
    ) -> Result<LogStream, StoreError>;

    /// Events of a group, as `q` asks, at most `q.limit`.
    fn events(&self, key: &GroupKey, q: &EventQuery) -> Result<Vec<LogEvent>, StoreError>;

    /// Removes a group's events older than `before_ms` (retention); answers how many.
    fn expire_events(&self, key: &GroupKey, before_ms: i64) -> Result<u64, StoreError>;

    /// Creates or replaces a metric filter of an existing group (by name, keeping its
    /// creation time when it replaces one).
    fn put_metric_filter(&self, key: &GroupKey, f: &MetricFilter) -> Result<(), StoreError>;

    /// An account's metric filters in a region, of one group or all, by group then name.
    fn metric_filters(
        &self,
        account: &str,
        region: &str,
        group: Option<&str>,
    ) -> Result<Vec<MetricFilter>, StoreError>;

    /// Removes a metric filter; `false` if there was none.
    fn delete_metric_filter(&self, key: &GroupKey, name: &str) -> Result<bool, StoreError>;

    /// Creates or replaces a subscription filter of an existing group. `from_id` is ignored:
    /// the filter sees events stored from now on (a replaced filter too), and the stored
    /// filter says from which id.
    fn put_subscription_filter(
        &self,
        key: &GroupKey,
        f: &SubscriptionFilter,
    ) -> Result<(), StoreError>;

    /// An account's subscription filters in a region, of one group or all, by group then name.
    fn subscription_filters(
        &self,
        account: &str,
        region: &str,
        group: Option<&str>,
    ) -> Result<Vec<SubscriptionFilter>, StoreError>;

    /// Every subscription filter of every account, with its group's key.
    fn all_subscription_filters(&self) -> Result<Vec<(GroupKey, SubscriptionFilter)>, StoreError>;

    /// Removes a subscription filter; `false` if there was none.
    fn delete_subscription_filter(&self, key: &GroupKey, name: &str) -> Result<bool, StoreError>;

    /// The next event id subscription delivery has not handled, and the next id the store
    /// will give (the end).
    fn subscription_cursor(&self) -> Result<(i64, i64), StoreError>;

    /// Moves subscription delivery's cursor (durably).
    fn set_subscription_cursor(&self, next: i64) -> Result<(), StoreError>;

    /// Up to `limit` stored batches whose first event id is `from` or later, in id order.
    fn batches_from(&self, from: i64, limit: usize) -> Result<Vec<StoredBatch>, StoreError>;

    /// Creates or replaces an account's resource policy in a region (by name).
    fn put_resource_policy(
        &self,
        account: &str,
        region: &str,
        p: &ResourcePolicy,
    ) -> Result<(), StoreError>;

    /// An account's resource policies in a region, by name.
    fn resource_policies(
        &self,
        account: &str,
        region: &str,
    ) -> Result<Vec<ResourcePolicy>, StoreError>;

    /// Removes a resource policy; `false` if there was none.
    fn delete_resource_policy(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<bool, StoreError>;
}
