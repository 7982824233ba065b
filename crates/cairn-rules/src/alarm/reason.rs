//! `StateReason` text and `StateReasonData` JSON in AWS's formats (ALERTING.md §4.5).
//!
//! Two datapoint forms exist in AWS's output. The short one, "Threshold Crossed: 1 datapoint
//! [1.0 (19/09/25 21:05:00)] was greater than or equal to the threshold (1.0).", is what an
//! alarm created without `DatapointsToAlarm` shows (2025 recording; the CLI's CIS alarm). The
//! long one, "… 1 out of the last 1 datapoints […] was greater than the threshold (50.0) (minimum
//! 1 datapoint for OK -> ALARM transition).", appears in samples of alarms that set
//! `DatapointsToAlarm` (the console always does). Which field selects the form is [I].

use serde_json::{Map, Value, json};

use super::config::{AlarmConfig, StatisticSpec};
use super::evaluate::{Basis, Fill, Slot, StateValue};
use super::format::{java_double, reason_data_date, reason_date};

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn was(n: usize) -> &'static str {
    if n == 1 { "was" } else { "were" }
}

fn no_data(periods: usize, treated_as: &str) -> String {
    format!(
        "no datapoints were received for {} and {} {} treated as [{treated_as}].",
        plural(periods, "period", "periods"),
        plural(periods, "missing datapoint", "missing datapoints"),
        was(periods)
    )
}

/// The `StateReason` of a computed transition from `old` to `new`.
pub(crate) fn state_reason(
    config: &AlarmConfig,
    old: StateValue,
    new: StateValue,
    slots: &[Slot],
    basis: &Basis,
) -> String {
    if new == StateValue::InsufficientData {
        return format!(
            "Insufficient Data: {}",
            no_data(basis.fills.len(), "Missing")
        );
    }
    let alarm = new == StateValue::Alarm;
    let matching: Vec<&Slot> = basis
        .considered
        .iter()
        .filter_map(|&i| slots.get(i))
        .filter(|s| s.breaching == alarm)
        .collect();
    if matching.is_empty() {
        let treated_as = match basis.fill {
            Fill::Breaching => "Breaching",
            Fill::NonBreaching => "NonBreaching",
            Fill::Missing => "Missing",
        };
        return format!(
            "Threshold Crossed: {}",
            no_data(basis.fills.len(), treated_as)
        );
    }
    let k = matching.len();
    let list = matching
        .iter()
        .map(|s| {
            format!(
                "{} ({})",
                java_double(s.value.unwrap_or_default()),
                reason_date(s.start_ms)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let not = if alarm { "" } else { "not " };
    let comparison = format!(
        "{} {not}{} the threshold ({})",
        was(k),
        config.comparison_operator.words(),
        java_double(config.threshold)
    );
    match config.datapoints_to_alarm {
        None => format!(
            "Threshold Crossed: {} [{list}] {comparison}.",
            plural(k, "datapoint", "datapoints")
        ),
        Some(m) => {
            let n = config.evaluation_periods as usize;
            let m = m as usize;
            // Leaving ALARM takes enough non-breaching datapoints that fewer than M breach.
            let minimum = if alarm { m } else { n + 1 - m };
            let total = basis.considered.len() + basis.fills.len();
            format!(
                "Threshold Crossed: {k} out of the last {total} datapoints [{list}] {comparison} \
                 (minimum {} for {} -> {} transition).",
                plural(minimum, "datapoint", "datapoints"),
                old.as_str(),
                new.as_str()
            )
        }
    }
}

/// The `StateReasonData` object (stored and returned as a JSON string by the API layer).
pub(crate) fn state_reason_data(
    config: &AlarmConfig,
    query_ms: i64,
    end_ms: i64,
    slots: &[Slot],
    basis: &Basis,
) -> Value {
    let mut evaluated: Vec<usize> = basis
        .considered
        .iter()
        .chain(basis.fills.iter())
        .copied()
        .collect();
    evaluated.sort_unstable();
    let period_ms = i64::from(config.period) * 1000;
    let start_ms = evaluated.last().and_then(|&i| slots.get(i)).map_or(
        end_ms - i64::from(config.evaluation_periods) * period_ms,
        |s| s.start_ms,
    );

    let mut o = Map::new();
    o.insert("version".into(), json!("1.0"));
    o.insert("queryDate".into(), json!(reason_data_date(query_ms)));
    o.insert("startDate".into(), json!(reason_data_date(start_ms)));
    if let Some(unit) = &config.unit {
        o.insert("unit".into(), json!(unit));
    }
    match &config.statistic {
        StatisticSpec::Simple(s) => o.insert("statistic".into(), json!(s.as_str())),
        // [I]: recorded samples only show simple statistics; the API's own field name is used.
        StatisticSpec::Extended(e) => o.insert("extendedStatistic".into(), json!(e.as_str())),
    };
    o.insert("period".into(), json!(config.period));
    // Oldest first, as the samples list them; evaluatedDatapoints newest first.
    let recent: Vec<Value> = basis
        .considered
        .iter()
        .rev()
        .filter_map(|&i| slots.get(i).and_then(|s| s.value))
        .map(|v| json!(v))
        .collect();
    o.insert("recentDatapoints".into(), Value::Array(recent));
    o.insert("threshold".into(), json!(config.threshold));
    let points: Vec<Value> = evaluated
        .iter()
        .filter_map(|&i| slots.get(i))
        .map(|s| {
            let mut p = Map::new();
            p.insert("timestamp".into(), json!(reason_data_date(s.start_ms)));
            if let Some(v) = s.value {
                p.insert("sampleCount".into(), json!(s.sample_count));
                p.insert("value".into(), json!(v));
            }
            Value::Object(p)
        })
        .collect();
    o.insert("evaluatedDatapoints".into(), Value::Array(points));
    Value::Object(o)
}
