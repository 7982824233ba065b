//! Events as EventBridge builds them: the envelope (`version`, `id`, `detail-type`,
//! `source`, `account`, `time`, `region`, `resources`, `detail`, in that order, as AWS's
//! deliveries show), and CloudTrail records on the bus: `detail-type` by `eventType`,
//! `source` `aws.<service>` from `eventSource`, `detail` the record in its own key order
//! without `eventContext`. Records of data events, and events over 256 KB, stay off the bus.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// AWS's largest event.
const MOST_BYTES: usize = 256 * 1024;

/// An event as targets get it, as compact JSON.
#[allow(clippy::too_many_arguments)]
pub(crate) fn event_json(
    id: &str,
    detail_type: &str,
    source: &str,
    account: &str,
    time: &str,
    region: &str,
    resources: Value,
    detail: Value,
) -> String {
    let mut m = Map::new();
    m.insert("version".into(), Value::from("0"));
    m.insert("id".into(), Value::from(id));
    m.insert("detail-type".into(), Value::from(detail_type));
    m.insert("source".into(), Value::from(source));
    m.insert("account".into(), Value::from(account));
    m.insert("time".into(), Value::from(time));
    m.insert("region".into(), Value::from(region));
    m.insert("resources".into(), resources);
    m.insert("detail".into(), detail);
    Value::Object(m).to_string()
}

/// A CloudTrail record on its way to the default bus.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TrailEvent {
    pub account: String,
    pub region: String,
    /// A read-only management event: only rules that ask for them get it.
    pub read_only: bool,
    pub event: String,
    /// The event, parsed.
    pub value: Value,
}

/// The `detail-type` of a record's `eventType`.
fn detail_type(event_type: &str) -> Option<&'static str> {
    Some(match event_type {
        "AwsApiCall" => "AWS API Call via CloudTrail",
        "AwsConsoleSignIn" => "AWS Console Sign In via CloudTrail",
        "AwsConsoleAction" => "AWS Console Action via CloudTrail",
        "AwsServiceEvent" => "AWS Service Event via CloudTrail",
        "AwsCloudTrailInsight" => "AWS Insight via CloudTrail",
        _ => return None,
    })
}

/// An event id of the UUID form, the same for the same record every time it is routed (a
/// record routed twice after a crash reaches its targets with one id).
fn id_for(event_id: &str) -> String {
    let h = Sha256::digest(format!("eventbridge:{event_id}").as_bytes());
    let x = hex::encode(&h[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// The event a CloudTrail record puts on its account's default bus, if it puts one.
pub(crate) fn from_record(record: &[u8]) -> Option<TrailEvent> {
    let Ok(Value::Object(mut r)) = serde_json::from_slice::<Value>(record) else {
        return None;
    };
    let text =
        |r: &Map<String, Value>, k: &str| r.get(k).and_then(Value::as_str).map(str::to_owned);
    // Data events reach EventBridge only through trails that log them; cairn puts
    // management events on the bus, and Insights events (from `aws.cloudtrail`).
    let insight = text(&r, "eventCategory").as_deref() == Some("Insight");
    if r.get("managementEvent").and_then(Value::as_bool) == Some(false)
        || text(&r, "eventCategory").is_some_and(|c| c != "Management" && c != "Insight")
    {
        return None;
    }
    let detail_type = detail_type(&text(&r, "eventType")?)?;
    let source = if insight {
        "aws.cloudtrail".to_owned()
    } else {
        let event_source = text(&r, "eventSource")?;
        format!(
            "aws.{}",
            event_source
                .strip_suffix(".amazonaws.com")
                .unwrap_or(&event_source)
        )
    };
    let account = text(&r, "recipientAccountId")?;
    let region = text(&r, "awsRegion")?;
    let time = text(&r, "eventTime")?;
    let id = id_for(&text(&r, "eventID").unwrap_or_default());
    let read_only = r.get("readOnly").and_then(Value::as_bool).unwrap_or(false);
    r.shift_remove("eventContext");
    let event = event_json(
        &id,
        detail_type,
        &source,
        &account,
        &time,
        &region,
        Value::Array(Vec::new()),
        Value::Object(r),
    );
    if event.len() > MOST_BYTES {
        tracing::debug!(
            size = event.len(),
            "a CloudTrail event over 256 KB stays off the bus"
        );
        return None;
    }
    let value = serde_json::from_str(&event).ok()?;
    Some(TrailEvent {
        account,
        region,
        read_only,
        event,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(extra: &str) -> Vec<u8> {
        format!(
            r#"{{"eventVersion":"1.11","userIdentity":{{"type":"Root"}},"eventTime":"2026-01-02T03:04:05Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"eu-west-1","sourceIPAddress":"127.0.0.1","requestParameters":{{"name":"main"}},"responseElements":null,"eventID":"e-1","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"{extra}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn a_call_becomes_an_api_call_event_in_aws_key_order() {
        let e = from_record(&record(r#","eventContext":{"x":1}"#)).expect("an event");
        assert_eq!(e.account, "111122223333");
        assert_eq!(e.region, "eu-west-1");
        assert!(!e.read_only);
        let v: Value = serde_json::from_str(&e.event).expect("JSON");
        let keys: Vec<&str> = v
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "version",
                "id",
                "detail-type",
                "source",
                "account",
                "time",
                "region",
                "resources",
                "detail"
            ]
        );
        assert_eq!(v["detail-type"], "AWS API Call via CloudTrail");
        assert_eq!(v["source"], "aws.cloudtrail");
        assert_eq!(v["time"], "2026-01-02T03:04:05Z");
        assert_eq!(v["resources"], Value::Array(vec![]));
        assert_eq!(v["detail"]["eventName"], "StopLogging");
        assert_eq!(v["detail"]["requestParameters"]["name"], "main");
        assert!(v["detail"].get("eventContext").is_none());
        let detail_keys: Vec<&str> = v["detail"]
            .as_object()
            .expect("detail")
            .keys()
            .take(3)
            .map(String::as_str)
            .collect();
        assert_eq!(detail_keys, ["eventVersion", "userIdentity", "eventTime"]);
        // The same record always gets the same event id.
        let again = from_record(&record("")).expect("an event");
        let w: Value = serde_json::from_str(&again.event).expect("JSON");
        assert_eq!(v["id"], w["id"]);
        assert_eq!(v["id"].as_str().map(str::len), Some(36));
    }

    #[test]
    fn detail_types_follow_the_event_type() {
        let signin = String::from_utf8(record(""))
            .expect("utf8")
            .replace("AwsApiCall", "AwsConsoleSignIn")
            .replace("cloudtrail.amazonaws.com", "signin.amazonaws.com");
        let e = from_record(signin.as_bytes()).expect("an event");
        let v: Value = serde_json::from_str(&e.event).expect("JSON");
        assert_eq!(v["detail-type"], "AWS Console Sign In via CloudTrail");
        assert_eq!(v["source"], "aws.signin");
        let service = String::from_utf8(record(""))
            .expect("utf8")
            .replace("AwsApiCall", "AwsServiceEvent");
        let v: Value = serde_json::from_str(&from_record(service.as_bytes()).expect("event").event)
            .expect("JSON");
        assert_eq!(v["detail-type"], "AWS Service Event via CloudTrail");
    }

    #[test]
    fn read_only_data_and_oversized_records() {
        let read = String::from_utf8(record(""))
            .expect("utf8")
            .replace(r#""readOnly":false"#, r#""readOnly":true"#);
        assert!(from_record(read.as_bytes()).expect("an event").read_only);
        let data = String::from_utf8(record(""))
            .expect("utf8")
            .replace(r#""managementEvent":true"#, r#""managementEvent":false"#)
            .replace(
                r#""eventCategory":"Management""#,
                r#""eventCategory":"Data""#,
            );
        assert_eq!(from_record(data.as_bytes()), None);
        let big = record(&format!(
            r#","additionalEventData":{{"blob":"{}"}}"#,
            "x".repeat(MOST_BYTES)
        ));
        assert_eq!(from_record(&big), None);
        assert_eq!(from_record(b"not json"), None);
    }
}
