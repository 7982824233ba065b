//! CloudWatch: metrics with their datapoints, metric alarms (configuration, state, history) and
//! the alarm actions waiting to be carried out.
//!
//! [`MetricsStore`] is the contract, in the service's own terms; [`SqliteMetrics`] is the
//! embedded backend, [`PgMetrics`] the shared one; the shared suite (`crate::suite::metrics`) holds any backend to it. The
//! store keeps and finds; what the API validates, how alarms evaluate and what an action says
//! are the service's (and `cairn-rules`').

mod columns;
mod pg;
mod sqlite;

pub use pg::PgMetrics;
pub use sqlite::SqliteMetrics;

use crate::error::StoreError;

/// A metric: namespace, name and exact dimension set, in an account and region.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MetricKey {
    pub account: String,
    pub region: String,
    pub namespace: String,
    pub name: String,
    /// (name, value), sorted by name: a metric is the same whatever order they came in.
    pub dimensions: Vec<(String, String)>,
}

impl MetricKey {
    pub fn new(
        account: &str,
        region: &str,
        namespace: &str,
        name: &str,
        mut dimensions: Vec<(String, String)>,
    ) -> MetricKey {
        dimensions.sort();
        MetricKey {
            account: account.into(),
            region: region.into(),
            namespace: namespace.into(),
            name: name.into(),
            dimensions,
        }
    }
}

/// What a datapoint carries.
#[derive(Clone, Debug, PartialEq)]
pub enum DatumValue {
    /// Raw values with their counts (a single `Value` is one value counted once).
    Values(Vec<(f64, f64)>),
    /// A `StatisticValues` set.
    Set {
        sample_count: f64,
        sum: f64,
        minimum: f64,
        maximum: f64,
    },
}

/// One published datapoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Datum {
    pub timestamp_ms: i64,
    /// `None` is AWS's unit `None`.
    pub unit: Option<String>,
    pub value: DatumValue,
}

/// A metric alarm as stored. `config` is the configuration document the service accepted
/// (the store does not look inside).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredAlarm {
    pub account: String,
    pub region: String,
    pub name: String,
    pub config: String,
    pub config_updated_ms: i64,
    pub actions_enabled: bool,
    pub state: AlarmState,
    /// When the alarm is next evaluated.
    pub next_eval_ms: i64,
}

/// An alarm's state as `DescribeAlarms` shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmState {
    pub value: String,
    pub reason: String,
    /// JSON text.
    pub reason_data: Option<String>,
    pub updated_ms: i64,
    pub transitioned_ms: i64,
}

/// One `AlarmHistoryItems` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryRow {
    pub alarm: String,
    pub timestamp_ms: i64,
    /// `HistoryItemType`: `ConfigurationUpdate`, `StateUpdate`, `Action`.
    pub kind: String,
    pub summary: String,
    /// `HistoryData`, JSON text.
    pub data: String,
}

/// An alarm action to carry out (an SNS publish).
#[derive(Clone, Debug, PartialEq)]
pub struct PendingAction {
    pub id: i64,
    pub account: String,
    pub region: String,
    pub alarm: String,
    /// The action's ARN.
    pub target: String,
    pub subject: String,
    pub message: String,
    pub attempts: i64,
    pub due_ms: i64,
}

/// Which history a read covers.
#[derive(Clone, Debug, Default)]
pub struct HistoryQuery {
    pub alarm: Option<String>,
    pub kind: Option<String>,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// Oldest first (`ScanBy TimestampAscending`); newest first otherwise.
    pub ascending: bool,
}

/// CloudWatch's metrics, alarms and pending alarm actions.
pub trait MetricsStore: Send + Sync {
    /// Adds datapoints to a metric (creating it).
    fn put_data(&self, key: &MetricKey, data: &[Datum]) -> Result<(), StoreError>;

    /// A metric's datapoints with timestamps in `[start_ms, end_ms)`, oldest first.
    fn data(&self, key: &MetricKey, start_ms: i64, end_ms: i64) -> Result<Vec<Datum>, StoreError>;

    /// An account's metrics in a region, optionally of one namespace and name, sorted.
    fn metrics(
        &self,
        account: &str,
        region: &str,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Result<Vec<MetricKey>, StoreError>;

    /// Removes datapoints older than `before_ms` (retention); answers how many went.
    fn expire_data(&self, before_ms: i64) -> Result<u64, StoreError>;

    /// Creates or replaces an alarm (the whole row) and adds `history` to its history.
    fn put_alarm(&self, alarm: &StoredAlarm, history: &HistoryRow) -> Result<(), StoreError>;

    /// An alarm, `None` if there is none.
    fn alarm(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<Option<StoredAlarm>, StoreError>;

    /// An account's alarms in a region, by name.
    fn alarms(&self, account: &str, region: &str) -> Result<Vec<StoredAlarm>, StoreError>;

    /// Every alarm due for evaluation at `now_ms`, of any account and region.
    fn due_alarms(&self, now_ms: i64) -> Result<Vec<StoredAlarm>, StoreError>;

    /// Removes alarms (and their history and pending actions); answers how many existed.
    fn delete_alarms(
        &self,
        account: &str,
        region: &str,
        names: &[String],
    ) -> Result<usize, StoreError>;

    /// Sets whether an alarm's actions run; `false` if there is no such alarm.
    fn set_actions_enabled(
        &self,
        account: &str,
        region: &str,
        name: &str,
        enabled: bool,
    ) -> Result<bool, StoreError>;

    /// Records an evaluation of an alarm in one transaction: its next evaluation time, and
    /// when its state changed, the new state, the history item and the actions it causes.
    /// `false` if the alarm is gone.
    fn evaluated(
        &self,
        account: &str,
        region: &str,
        name: &str,
        next_eval_ms: i64,
        change: Option<(&AlarmState, &HistoryRow, &[PendingAction])>,
    ) -> Result<bool, StoreError>;

    /// An account's alarm history in a region, as `q` asks.
    fn history(
        &self,
        account: &str,
        region: &str,
        q: &HistoryQuery,
    ) -> Result<Vec<HistoryRow>, StoreError>;

    /// Adds a history item (an action's outcome).
    fn add_history(&self, account: &str, region: &str, row: &HistoryRow) -> Result<(), StoreError>;

    /// Removes history items older than `before_ms` (AWS keeps two weeks).
    fn expire_history(&self, before_ms: i64) -> Result<u64, StoreError>;

    /// Actions due at `now_ms`, oldest first.
    fn due_actions(&self, now_ms: i64) -> Result<Vec<PendingAction>, StoreError>;

    /// An action was carried out (or given up): it goes.
    fn action_done(&self, id: i64) -> Result<(), StoreError>;

    /// An action failed: tried again at `due_ms`.
    fn action_retry(&self, id: i64, due_ms: i64) -> Result<(), StoreError>;
}
