//! How both backends keep a metric's dimensions and a datapoint's value in one text column
//! each. The dimensions' text is part of a metric's identity (unique with its namespace and
//! name), so it must be written the same way by every backend.

use serde_json::{Value, json};

use super::DatumValue;

pub(super) fn dims_text(dims: &[(String, String)]) -> String {
    serde_json::to_string(dims).unwrap_or_else(|_| "[]".into())
}

pub(super) fn dims_of(text: &str) -> Vec<(String, String)> {
    // Only the stores write the column, always from a list of pairs of strings.
    serde_json::from_str(text).unwrap_or_default()
}

pub(super) fn value_text(v: &DatumValue) -> String {
    match v {
        DatumValue::Values(vs) => json!({ "v": vs }).to_string(),
        DatumValue::Set {
            sample_count,
            sum,
            minimum,
            maximum,
        } => json!({ "s": [sample_count, sum, minimum, maximum] }).to_string(),
    }
}

pub(super) fn value_of(text: &str) -> DatumValue {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    if let Some(s) = v.get("s").and_then(Value::as_array) {
        let n = |i: usize| s.get(i).and_then(Value::as_f64).unwrap_or(0.0);
        return DatumValue::Set {
            sample_count: n(0),
            sum: n(1),
            minimum: n(2),
            maximum: n(3),
        };
    }
    let pairs = v
        .get("v")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    Some((
                        p.get(0)?.as_f64()?,
                        p.get(1).and_then(Value::as_f64).unwrap_or(1.0),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    DatumValue::Values(pairs)
}
