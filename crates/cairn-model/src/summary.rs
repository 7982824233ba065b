//! What event history needs to know about a record, read from the record itself.
//!
//! Works on any record, cairn's own or imported from AWS, of any `eventVersion`: old records
//! lack `eventCategory`, `managementEvent` or `readOnly`, and some exporters write `readOnly` or
//! `managementEvent` as strings.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::record::EventCategory;
use crate::timefmt::parse_event_time;

/// One entry of LookupEvents' `Resources`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryResource {
    pub resource_type: Option<String>,
    pub resource_name: String,
    /// The full ARN, when the record gave one; lookups by ResourceName match it too.
    pub arn: Option<String>,
}

/// The lookup attributes and ordering keys of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventSummary {
    pub event_id: Option<String>,
    pub event_time_ms: Option<i64>,
    pub event_name: Option<String>,
    pub event_source: Option<String>,
    pub aws_region: Option<String>,
    pub username: Option<String>,
    pub access_key_id: Option<String>,
    /// `"true"` / `"false"`, as LookupEvents reports it.
    pub read_only: Option<String>,
    /// `None` for categories event history never shows (Lake-only ones).
    pub category: Option<EventCategory>,
    pub resources: Vec<SummaryResource>,
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn bool_like(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Classifies a record the way event history does.
pub fn category_of(record: &Value) -> Option<EventCategory> {
    if let Some(c) = record.get("eventCategory").and_then(Value::as_str) {
        return match c {
            "Management" => Some(EventCategory::Management),
            "Data" => Some(EventCategory::Data),
            "Insight" => Some(EventCategory::Insight),
            "NetworkActivity" => Some(EventCategory::NetworkActivity),
            _ => None,
        };
    }
    match record.get("eventType").and_then(Value::as_str) {
        Some("AwsCloudTrailInsight") => return Some(EventCategory::Insight),
        Some("AwsVpceEvent") => return Some(EventCategory::NetworkActivity),
        _ => {}
    }
    if bool_like(record.get("managementEvent")) == Some(false) {
        return Some(EventCategory::Data);
    }
    Some(EventCategory::Management)
}

/// The `Username` LookupEvents shows for a `userIdentity`.
fn username_of(ui: &Value) -> Option<String> {
    if let Some(n) = str_field(ui, "userName") {
        return Some(n);
    }
    match ui.get("type").and_then(Value::as_str) {
        Some("Root") => Some("root".to_owned()),
        Some("AssumedRole") | Some("FederatedUser") => ui
            .get("principalId")
            .and_then(Value::as_str)
            .and_then(|p| p.split_once(':').map(|(_, s)| s.to_owned()))
            .or_else(|| last_arn_segment(ui.get("arn")?.as_str()?)),
        Some("AWSService") => str_field(ui, "invokedBy"),
        _ => ui
            .get("arn")
            .and_then(Value::as_str)
            .and_then(last_arn_segment),
    }
}

fn last_arn_segment(arn: &str) -> Option<String> {
    arn.rsplit(['/', ':'])
        .next()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The resource name event history shows for an ARN: the part after the resource type.
/// `arn:aws:s3:::bucket` → `bucket`, `arn:aws:iam::1:user/alice` → `alice`.
pub fn resource_name_of_arn(arn: &str) -> String {
    let mut parts = arn.splitn(6, ':');
    let resource = match (parts.next(), parts.nth(4)) {
        (Some("arn"), Some(r)) => r,
        _ => return arn.to_owned(),
    };
    // S3 ARNs have no type prefix: the resource is the bucket, or bucket/key.
    if arn.starts_with("arn:aws:s3:") {
        return resource.to_owned();
    }
    resource.rsplit('/').next().unwrap_or(resource).to_owned()
}

/// Request members that name a resource, per event source, for records without `resources`:
/// event history lists them as AWS does (for example the trail of a CloudTrail call).
const NAMED_RESOURCES: &[(&str, &str, &str)] = &[
    ("cloudtrail.amazonaws.com", "name", "AWS::CloudTrail::Trail"),
    (
        "cloudtrail.amazonaws.com",
        "trailName",
        "AWS::CloudTrail::Trail",
    ),
    ("s3.amazonaws.com", "bucketName", "AWS::S3::Bucket"),
    ("iam.amazonaws.com", "userName", "AWS::IAM::User"),
    ("iam.amazonaws.com", "roleName", "AWS::IAM::Role"),
    ("iam.amazonaws.com", "groupName", "AWS::IAM::Group"),
    ("iam.amazonaws.com", "policyArn", "AWS::IAM::Policy"),
    ("kms.amazonaws.com", "keyId", "AWS::KMS::Key"),
];

fn derived_resources(record: &Value) -> Vec<SummaryResource> {
    let (Some(source), Some(params)) = (
        record.get("eventSource").and_then(Value::as_str),
        record.get("requestParameters").and_then(Value::as_object),
    ) else {
        return Vec::new();
    };
    NAMED_RESOURCES
        .iter()
        .filter(|(s, _, _)| *s == source)
        .filter_map(|(_, member, rtype)| {
            let v = params.get(*member)?.as_str().filter(|v| !v.is_empty())?;
            let (name, arn) = if v.starts_with("arn:") {
                (resource_name_of_arn(v), Some(v.to_owned()))
            } else {
                (v.to_owned(), None)
            };
            Some(SummaryResource {
                resource_type: Some((*rtype).to_owned()),
                resource_name: name,
                arn,
            })
        })
        .collect()
}

/// The top-level members [`EventSummary::of`] reads. Deserializing only these skips the rest
/// of a record (request parameters aside, its bulk) without building it as a `Value`. A member
/// that is `null` reads as absent, as it does in `of`.
#[derive(Deserialize)]
struct Members {
    #[serde(rename = "eventID")]
    event_id: Option<Value>,
    #[serde(rename = "eventTime")]
    event_time: Option<Value>,
    #[serde(rename = "eventName")]
    event_name: Option<Value>,
    #[serde(rename = "eventSource")]
    event_source: Option<Value>,
    #[serde(rename = "awsRegion")]
    aws_region: Option<Value>,
    #[serde(rename = "userIdentity")]
    user_identity: Option<Value>,
    #[serde(rename = "readOnly")]
    read_only: Option<Value>,
    #[serde(rename = "eventCategory")]
    event_category: Option<Value>,
    #[serde(rename = "eventType")]
    event_type: Option<Value>,
    #[serde(rename = "managementEvent")]
    management_event: Option<Value>,
    #[serde(rename = "resources")]
    resources: Option<Value>,
    #[serde(rename = "requestParameters")]
    request_parameters: Option<Value>,
    #[serde(rename = "insightDetails")]
    insight_details: Option<Value>,
}

impl Members {
    fn into_record(self) -> Value {
        let mut m = Map::new();
        for (k, v) in [
            ("eventID", self.event_id),
            ("eventTime", self.event_time),
            ("eventName", self.event_name),
            ("eventSource", self.event_source),
            ("awsRegion", self.aws_region),
            ("userIdentity", self.user_identity),
            ("readOnly", self.read_only),
            ("eventCategory", self.event_category),
            ("eventType", self.event_type),
            ("managementEvent", self.management_event),
            ("resources", self.resources),
            ("requestParameters", self.request_parameters),
            ("insightDetails", self.insight_details),
        ] {
            if let Some(v) = v {
                m.insert(k.to_owned(), v);
            }
        }
        Value::Object(m)
    }
}

impl EventSummary {
    /// The summary of a record given as JSON text, or `None` when it is not JSON. Same answer
    /// as [`EventSummary::of`] on the parsed record, reading only the members it needs.
    pub fn of_json(raw: &[u8]) -> Option<Self> {
        match serde_json::from_slice::<Members>(raw) {
            Ok(m) => Some(Self::of(&m.into_record())),
            // Not an object, or a member given twice: the whole record decides, as before.
            Err(_) => serde_json::from_slice::<Value>(raw)
                .ok()
                .map(|v| Self::of(&v)),
        }
    }

    pub fn of(record: &Value) -> Self {
        let ui = record.get("userIdentity").unwrap_or(&Value::Null);
        let resources: Vec<SummaryResource> = record
            .get("resources")
            .and_then(Value::as_array)
            .map(|rs| {
                rs.iter()
                    .filter_map(|r| {
                        let arn = r
                            .get("ARN")
                            .or_else(|| r.get("arn"))
                            .and_then(Value::as_str)?;
                        Some(SummaryResource {
                            resource_type: str_field(r, "type"),
                            resource_name: resource_name_of_arn(arn),
                            arn: Some(arn.to_owned()),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let resources = if resources.is_empty() {
            derived_resources(record)
        } else {
            resources
        };
        EventSummary {
            event_id: str_field(record, "eventID"),
            event_time_ms: record.get("eventTime").and_then(parse_event_time),
            // Insights records name their API in `insightDetails`.
            event_name: str_field(record, "eventName").or_else(|| {
                record
                    .get("insightDetails")
                    .and_then(|d| str_field(d, "eventName"))
            }),
            event_source: str_field(record, "eventSource").or_else(|| {
                record
                    .get("insightDetails")
                    .and_then(|d| str_field(d, "eventSource"))
            }),
            aws_region: str_field(record, "awsRegion"),
            username: username_of(ui),
            access_key_id: str_field(ui, "accessKeyId").filter(|k| !k.is_empty()),
            read_only: bool_like(record.get("readOnly")).map(|b| b.to_string()),
            category: category_of(record),
            resources,
        }
    }
}

/// The id a record is known by: its `eventID`, or for the rare record without one a
/// deterministic GUID-shaped id derived from its bytes (so importing it twice is still a no-op).
pub fn effective_event_id(event_id: Option<&str>, raw: &[u8]) -> String {
    if let Some(id) = event_id {
        return id.to_owned();
    }
    use sha2::{Digest, Sha256};
    let h = hex::encode(&Sha256::digest(raw)[..16]);
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
    use serde_json::json;

    #[test]
    fn of_json_reads_what_of_reads() {
        let records = [
            json!({"eventID":"e1","eventTime":"2024-11-25T17:50:24Z","eventName":"GetEventSelectors",
                "eventSource":"cloudtrail.amazonaws.com","awsRegion":"us-west-2","readOnly":"TRUE",
                "userIdentity":{"type":"AssumedRole","principalId":"AROA1:leroy","accessKeyId":"ASIA1"},
                "resources":[{"ARN":"arn:aws:iam::111122223333:role/Deployer","type":"AWS::IAM::Role"}],
                "requestParameters":{"big":[1,2,3]},"responseElements":{"x":{"y":null}}}),
            json!({"eventSource":"s3.amazonaws.com","eventName":"CreateBucket","managementEvent":"false",
                "requestParameters":{"bucketName":"b1"},"resources":null,"eventCategory":null}),
            json!({"eventType":"AwsCloudTrailInsight","eventTime":null,"userIdentity":null}),
            json!({"eventType":"AwsCloudTrailInsight","eventCategory":"Insight",
                "insightDetails":{"state":"Start","eventSource":"iam.amazonaws.com","eventName":"CreateUser"}}),
            json!({"eventSource":"iam.amazonaws.com","requestParameters":{"userName":"alice"},
                "userIdentity":{"type":"Root"},"readOnly":false}),
            json!({}),
            json!([1, 2]),
            json!("text"),
        ];
        for r in &records {
            let raw = serde_json::to_vec(r).unwrap();
            assert_eq!(
                EventSummary::of_json(&raw),
                Some(EventSummary::of(r)),
                "{r}"
            );
        }
        // A member given twice: the last one counts, as when the whole record is parsed.
        let twice = br#"{"eventName":"A","eventName":"B","eventCategory":"Management"}"#;
        let whole: Value = serde_json::from_slice(twice).unwrap();
        assert_eq!(EventSummary::of_json(twice), Some(EventSummary::of(&whole)));
        assert_eq!(EventSummary::of_json(b"not json"), None);
    }

    #[test]
    fn summary_of_assumed_role_record() {
        let r = json!({
            "eventID":"e1","eventTime":"2024-11-25T17:50:24Z","eventName":"GetEventSelectors",
            "eventSource":"cloudtrail.amazonaws.com","awsRegion":"us-west-2","readOnly":true,
            "eventCategory":"Management",
            "userIdentity":{"type":"AssumedRole","principalId":"AROA1:leroy","accessKeyId":"ASIA1",
                            "arn":"arn:aws:sts::1:assumed-role/R/leroy"},
            "resources":[{"ARN":"arn:aws:iam::111122223333:role/Deployer","type":"AWS::IAM::Role"}]
        });
        let s = EventSummary::of(&r);
        assert_eq!(s.username.as_deref(), Some("leroy"));
        assert_eq!(s.read_only.as_deref(), Some("true"));
        assert_eq!(s.access_key_id.as_deref(), Some("ASIA1"));
        assert_eq!(s.category, Some(EventCategory::Management));
        assert_eq!(s.resources[0].resource_name, "Deployer");
        assert_eq!(s.event_time_ms, Some(1_732_557_024_000));
    }

    #[test]
    fn resources_from_request_parameters() {
        let s = EventSummary::of(&json!({"eventSource":"cloudtrail.amazonaws.com",
            "requestParameters":{"name":"arn:aws:cloudtrail:us-east-1:1:trail/t1"}}));
        assert_eq!(
            s.resources[0].resource_type.as_deref(),
            Some("AWS::CloudTrail::Trail")
        );
        assert_eq!(s.resources[0].resource_name, "t1");
        let s = EventSummary::of(&json!({"eventSource":"s3.amazonaws.com",
            "requestParameters":{"bucketName":"b"}}));
        assert_eq!(s.resources[0].resource_name, "b");
        assert!(
            EventSummary::of(&json!({"eventSource":"x","requestParameters":null}))
                .resources
                .is_empty()
        );
    }

    #[test]
    fn categories() {
        assert_eq!(category_of(&json!({})), Some(EventCategory::Management));
        assert_eq!(
            category_of(&json!({"managementEvent":false})),
            Some(EventCategory::Data)
        );
        assert_eq!(
            category_of(&json!({"eventType":"AwsCloudTrailInsight"})),
            Some(EventCategory::Insight)
        );
        assert_eq!(
            category_of(&json!({"eventCategory":"ActivityAuditLog"})),
            None
        );
        assert_eq!(
            category_of(&json!({"eventCategory":"Data","managementEvent":true})),
            Some(EventCategory::Data)
        );
    }

    #[test]
    fn resource_names() {
        assert_eq!(resource_name_of_arn("arn:aws:s3:::bucket"), "bucket");
        assert_eq!(
            resource_name_of_arn("arn:aws:s3:::bucket/a/b"),
            "bucket/a/b"
        );
        assert_eq!(
            resource_name_of_arn("arn:aws:ec2:us-east-1:1:instance/i-123"),
            "i-123"
        );
        assert_eq!(
            resource_name_of_arn("arn:aws:cloudtrail:us-east-1:1:trail/t"),
            "t"
        );
        assert_eq!(resource_name_of_arn("not-an-arn"), "not-an-arn");
        assert_eq!(
            resource_name_of_arn("arn:aws:sns:us-east-1:1:topic"),
            "topic"
        );
    }

    #[test]
    fn root_username_and_string_booleans() {
        let s = EventSummary::of(&json!({"userIdentity":{"type":"Root"},"readOnly":"false"}));
        assert_eq!(s.username.as_deref(), Some("root"));
        assert_eq!(s.read_only.as_deref(), Some("false"));
    }
}
