//! The datapoints a log group's metric filters make of the events it ingests: for each filter,
//! one datapoint per matching event (its `metricValue`, read from the event or constant, at
//! the event's time, with the filter's dimensions and unit), or the filter's `defaultValue`
//! once when a batch has no match. They go to CloudWatch through its API as
//! `logs.amazonaws.com`, unrecorded, as AWS shows no PutMetricData for metric filters; in the
//! same group transaction as the events, so a refused PutLogEvents publishes nothing.

use cairn_rules::filter::{Dimension, FilterPattern, FilterSet, MetricValue};
use cairn_store::logs::{GroupKey, MetricFilter, NewEvent};
use cairn_wire::AwsError;
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::pipeline::Durability;
use crate::pipeline::internal::Internal;

/// The service principal metric filters publish as.
const LOGS: &str = "logs.amazonaws.com";

/// Most datapoints in one PutMetricData.
const BATCH: usize = 1000;

/// One filter, ready to match: its pattern, and its transformation's parts.
struct Ready {
    pattern: FilterPattern,
    namespace: String,
    name: String,
    value: MetricValue,
    default: Option<f64>,
    dimensions: Vec<(String, Dimension)>,
    unit: Option<String>,
}

fn ready(f: &MetricFilter) -> Option<Ready> {
    let pattern = FilterPattern::parse(&f.pattern).ok()?;
    let t: Value = serde_json::from_str(&f.transformations).ok()?;
    let t = t.get(0)?;
    let text = |m: &str| t.get(m).and_then(Value::as_str).map(str::to_owned);
    let dimensions = t
        .get("dimensions")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), Dimension::parse(v.as_str()?).ok()?)))
                .collect()
        })
        .unwrap_or_default();
    Some(Ready {
        pattern,
        namespace: text("metricNamespace")?,
        name: text("metricName")?,
        value: MetricValue::parse(&text("metricValue")?).ok()?,
        default: t.get("defaultValue").and_then(Value::as_f64),
        dimensions,
        unit: text("unit"),
    })
}

fn datum(r: &Ready, timestamp_ms: i64, value: f64, dims: Vec<Value>) -> Value {
    let mut d = Map::new();
    d.insert("MetricName".into(), json!(r.name));
    d.insert("Timestamp".into(), json!(timestamp_ms as f64 / 1000.0));
    d.insert("Value".into(), json!(value));
    if !dims.is_empty() {
        d.insert("Dimensions".into(), Value::Array(dims));
    }
    if let Some(u) = &r.unit {
        d.insert("Unit".into(), json!(u));
    }
    Value::Object(d)
}

/// Publishes what the group's metric filters make of `events` (just stored, at `now_ms`).
pub(super) fn publish(
    app: &App,
    key: &GroupKey,
    events: &[NewEvent],
    now_ms: i64,
) -> Result<(), AwsError> {
    if events.is_empty() {
        return Ok(());
    }
    let filters = app
        .logs
        .metric_filters(&key.account, &key.region, Some(&key.name))
        .map_err(|e| AwsError::internal(e.to_string()))?;
    let ready: Vec<Ready> = filters.iter().filter_map(ready).collect();
    if ready.is_empty() {
        return Ok(());
    }
    // All of the group's patterns in one scan of each event (a JSON event is parsed once for
    // every filter); an event's values are read only when a filter matched it.
    let set = FilterSet::new(ready.iter().map(|f| f.pattern.clone()).collect());
    let mut data: Vec<Vec<Value>> = vec![Vec::new(); ready.len()];
    let mut matched = Vec::with_capacity(ready.len());
    for e in events {
        set.matches_into(&e.message, &mut matched);
        for (i, f) in ready.iter().enumerate() {
            if !matched.get(i).copied().unwrap_or(false) {
                continue;
            }
            let Some(m) = f.pattern.matches(&e.message) else {
                continue;
            };
            let Some(v) = f.value.extract(&m) else {
                continue;
            };
            let mut dims = Vec::with_capacity(f.dimensions.len());
            for (name, d) in &f.dimensions {
                if let Some(value) = d.extract(&m) {
                    dims.push(json!({"Name": name, "Value": value}));
                }
            }
            data[i].push(datum(f, e.timestamp, v, dims));
        }
    }
    for (f, mut data) in ready.iter().zip(data) {
        if data.is_empty()
            && let Some(d) = f.default
        {
            data.push(datum(f, now_ms, d, Vec::new()));
        }
        let caller = Internal::service(
            LOGS,
            &key.account,
            &key.region,
            None,
            Durability::Unrecorded,
        );
        for chunk in data.chunks(BATCH) {
            caller.call_json(
                app,
                "monitoring",
                "PutMetricData",
                json!({"Namespace": f.namespace, "MetricData": chunk}),
            )?;
        }
    }
    Ok(())
}
