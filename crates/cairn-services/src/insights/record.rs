//! Insights records exactly as AWS writes them (field order from real records): no
//! `userIdentity`, `eventSource` or `eventName` at the top; the API, the state and the
//! statistics in `insightDetails`; `sharedEventID` linking a Start to its End.

use cairn_model::record::EVENT_VERSION;
use cairn_model::timefmt::{event_time, parse_event_time};
use cairn_rules::insights::{Insight, Share};
use cairn_store::journal::{Entry, EntryKind};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{CALL_RATE, ERROR_RATE, Key, MINUTE_MS};

/// The journal entry of a Start or End, in its key's account.
pub fn entry(key: &Key, insight: &Insight) -> Vec<u8> {
    Entry {
        kind: EntryKind::Recorded,
        account: key.account.clone(),
        record: record(key, insight).to_string().into_bytes(),
        served: None,
    }
    .encode()
}

/// The record. Its ids are derived from what it is: the same insight judged again after a
/// restart gets the same `sharedEventID`, and its Start or End the same `eventID`.
pub fn record(key: &Key, i: &Insight) -> Value {
    let shared = guid(&format!("{}\n{}", name(key), i.start_minute));
    let event_id = guid(&format!("{shared}\n{}", i.state.as_str()));
    let mut details = Map::new();
    details.insert("state".into(), i.state.as_str().into());
    details.insert("eventSource".into(), key.event_source.clone().into());
    details.insert("eventName".into(), key.event_name.clone().into());
    details.insert("insightType".into(), key.insight_type.into());
    if let Some(code) = &key.error_code {
        details.insert("errorCode".into(), code.clone().into());
    }
    let mut statistics = Map::new();
    statistics.insert("baseline".into(), json!({"average": i.baseline_average}));
    statistics.insert("insight".into(), json!({"average": i.insight_average}));
    if let Some(d) = i.insight_duration {
        statistics.insert("insightDuration".into(), d.into());
    }
    statistics.insert("baselineDuration".into(), i.baseline_duration.into());
    let shares = |s: &[Share]| {
        Value::Array(
            s.iter()
                .map(|s| json!({"value": s.value, "average": s.average}))
                .collect(),
        )
    };
    let attributions: Vec<Value> = i
        .attributions
        .iter()
        .map(|a| {
            json!({
                "attribute": a.attribute,
                "insight": shares(&a.insight),
                "baseline": shares(&a.baseline),
            })
        })
        .collect();
    details.insert(
        "insightContext".into(),
        json!({"statistics": statistics, "attributions": attributions}),
    );
    json!({
        "eventVersion": EVENT_VERSION,
        "eventTime": event_time(i.event_minute * MINUTE_MS),
        "awsRegion": key.region,
        "eventID": event_id,
        "eventType": "AwsCloudTrailInsight",
        "recipientAccountId": key.account,
        "sharedEventID": shared,
        "insightDetails": details,
        "eventCategory": "Insight",
    })
}

/// The series an Insights record is about, in `account`.
pub fn key_of(account: &str, r: &Value) -> Option<Key> {
    let d = r.get("insightDetails")?;
    let text = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_owned);
    let insight_type = match d.get("insightType").and_then(Value::as_str)? {
        CALL_RATE => CALL_RATE,
        ERROR_RATE => ERROR_RATE,
        _ => return None,
    };
    Some(Key {
        account: account.to_owned(),
        region: r.get("awsRegion")?.as_str()?.to_owned(),
        insight_type,
        event_source: text("eventSource")?,
        event_name: text("eventName")?,
        error_code: text("errorCode"),
    })
}

/// The first minute of the insight an Insights record belongs to: a Start's own minute, an
/// End's minute less the insight's duration.
pub fn start_minute(r: &Value) -> Option<i64> {
    let minute = r.get("eventTime").and_then(parse_event_time)? / MINUTE_MS;
    let duration = r
        .pointer("/insightDetails/insightContext/statistics/insightDuration")
        .and_then(Value::as_i64);
    match r.pointer("/insightDetails/state").and_then(Value::as_str)? {
        "End" => Some(minute - duration?),
        _ => Some(minute),
    }
}

fn name(k: &Key) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        k.account,
        k.region,
        k.insight_type,
        k.event_source,
        k.event_name,
        k.error_code.as_deref().unwrap_or("")
    )
}

/// A GUID-shaped id derived from `text`.
fn guid(text: &str) -> String {
    let h = hex::encode(&Sha256::digest(format!("cairn-insights\n{text}").as_bytes())[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_rules::insights::{Attribution, State};

    #[test]
    fn records_have_aws_fields_in_aws_order_and_read_back_as_their_series() {
        let key = Key {
            account: "111122223333".into(),
            region: "us-east-1".into(),
            insight_type: CALL_RATE,
            event_source: "iam.amazonaws.com".into(),
            event_name: "CreateUser".into(),
            error_code: None,
        };
        let end = Insight {
            state: State::End,
            start_minute: 29_000_000,
            event_minute: 29_000_003,
            baseline_average: 0.0417,
            insight_average: 12.0,
            baseline_duration: 10080,
            insight_duration: Some(3),
            attributions: vec![Attribution {
                attribute: "userIdentityArn",
                insight: vec![Share {
                    value: "arn:aws:iam::111122223333:user/a".into(),
                    average: 12.0,
                }],
                baseline: vec![],
            }],
        };
        let r = record(&key, &end);
        let fields: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "eventVersion",
                "eventTime",
                "awsRegion",
                "eventID",
                "eventType",
                "recipientAccountId",
                "sharedEventID",
                "insightDetails",
                "eventCategory"
            ]
        );
        let stats = r
            .pointer("/insightDetails/insightContext/statistics")
            .unwrap();
        assert_eq!(
            stats.to_string(),
            r#"{"baseline":{"average":0.0417},"insight":{"average":12.0},"insightDuration":3,"baselineDuration":10080}"#
        );
        assert_eq!(key_of("111122223333", &r), Some(key.clone()));
        assert_eq!(start_minute(&r), Some(29_000_000));
        let start = Insight {
            state: State::Start,
            event_minute: 29_000_000,
            insight_duration: None,
            ..end
        };
        let s = record(&key, &start);
        assert_eq!(s["sharedEventID"], r["sharedEventID"]);
        assert_ne!(s["eventID"], r["eventID"]);
    }
}
