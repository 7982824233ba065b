//! `DescribeAlarmHistory` items for state changes (ALERTING.md §4.5).

use serde_json::{Map, Value, json};

use super::evaluate::AlarmStatus;

/// One `AlarmHistoryItems` entry of type `StateUpdate`.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryItem {
    pub alarm_name: String,
    /// `AlarmType`: always `MetricAlarm` here.
    pub alarm_type: &'static str,
    pub timestamp_ms: i64,
    pub history_item_type: &'static str,
    /// "Alarm updated from OK to ALARM".
    pub history_summary: String,
    /// The JSON string AWS returns in `HistoryData`.
    pub history_data: String,
}

fn state_json(s: &AlarmStatus) -> Value {
    let mut o = Map::new();
    o.insert("stateValue".into(), json!(s.value.as_str()));
    o.insert("stateReason".into(), json!(s.reason));
    if let Some(data) = &s.reason_data {
        o.insert("stateReasonData".into(), data.clone());
    }
    Value::Object(o)
}

impl HistoryItem {
    pub(crate) fn state_update(
        alarm_name: &str,
        timestamp_ms: i64,
        old: &AlarmStatus,
        new: &AlarmStatus,
    ) -> Self {
        let data = json!({
            "version": "1.0",
            "oldState": state_json(old),
            "newState": state_json(new),
        });
        Self {
            alarm_name: alarm_name.to_owned(),
            alarm_type: "MetricAlarm",
            timestamp_ms,
            history_item_type: "StateUpdate",
            history_summary: format!(
                "Alarm updated from {} to {}",
                old.value.as_str(),
                new.value.as_str()
            ),
            history_data: data.to_string(),
        }
    }
}
