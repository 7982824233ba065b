//! CloudWatch metric alarm evaluation as AWS documents it (ALERTING.md §4): configuration and its
//! validation, statistics over a period, period alignment and the evaluation range, the M-of-N
//! decision with `TreatMissingData`, AWS's `StateReason`/`StateReasonData` texts, history items
//! and the SNS notification an alarm action sends.
//!
//! Everything here is a pure function of its inputs: the caller (the CloudWatch service) stores
//! datapoints and alarm states, drives evaluations with cairn's injected clock at the instants
//! [`next_evaluation_ms`] names, and performs the actions of a [`Transition`].

mod config;
mod evaluate;
mod format;
mod history;
mod notify;
mod period;
mod reason;
mod stats;

pub use config::{
    AlarmConfig, AlarmError, ComparisonOperator, Dimension, LowSampleCount, StatisticSpec,
    TreatMissingData,
};
pub use evaluate::{AlarmStatus, Evaluation, StateValue, Transition, evaluate, set_alarm_state};
pub use format::{java_double, reason_data_date, reason_date};
pub use history::HistoryItem;
pub use notify::{AlarmIdentity, notification_message, notification_subject, region_long_name};
pub use period::{
    DatumValue, MetricDatum, PeriodAggregate, StatisticSet, evaluation_range, evaluation_time_ms,
    next_evaluation_ms,
};
pub use stats::{ExtendedStatistic, Statistic};
