//! `requestParameters` and `responseElements` as CloudTrail writes them for JSON-protocol
//! services (CloudTrail, KMS, …): the members as sent, with lower-camel-case names, and
//! timestamps in the Java date form AWS's serializer uses (`Apr 13, 2017 8:41:00 AM`).

use cairn_model::timefmt;
use serde_json::{Map, Value};

/// The record form of a request (or response) body; `None` when there is nothing in it.
pub fn request_parameters(input: &Value) -> Option<Value> {
    match input {
        Value::Object(m) if m.is_empty() => None,
        Value::Null => None,
        v => Some(shape(v, None)),
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Timestamp members of JSON-protocol shapes are named `…Time`, `…Timestamp` or `…Date`.
fn is_time_member(name: &str) -> bool {
    name.ends_with("Time") || name.ends_with("Timestamp") || name.ends_with("Date")
}

fn shape(v: &Value, member: Option<&str>) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::with_capacity(m.len());
            for (k, v) in m {
                out.insert(lower_first(k), shape(v, Some(k)));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| shape(x, None)).collect()),
        Value::Number(_) if member.is_some_and(is_time_member) => {
            match timefmt::from_epoch_seconds(v) {
                Some(ms) => Value::String(timefmt::java_date(ms)),
                None => v.clone(),
            }
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookup_events_parameters() {
        let input = json!({"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"X"}],
                           "StartTime": 1492072860, "MaxResults": 5});
        assert_eq!(
            request_parameters(&input).unwrap(),
            json!({"lookupAttributes":[{"attributeKey":"EventName","attributeValue":"X"}],
                   "startTime":"Apr 13, 2017 8:41:00 AM","maxResults":5})
        );
        assert_eq!(request_parameters(&json!({})), None);
    }

    #[test]
    fn names_like_aws() {
        let v = request_parameters(&json!({"S3BucketName":"b","IsMultiRegionTrail":true})).unwrap();
        assert_eq!(v, json!({"s3BucketName":"b","isMultiRegionTrail":true}));
    }
}
