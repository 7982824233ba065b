//! Each audit event checked as AWS documents PutAuditEvents' `eventData` (required fields,
//! lengths, formats, the checksum, the recipient), and the record CloudTrail makes of an
//! accepted one: `eventCategory` `ActivityAuditLog`, `eventType` `ActivityLog`, the caller's
//! data under `eventData`, and `metadata{ingestionTime, channelARN}`.

use std::net::IpAddr;

use base64::Engine;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// A per-event failure: AWS's error code and a message.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Failure {
    pub code: &'static str,
    pub message: String,
}

fn fail(code: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

/// Whether an event id is 1–128 of `[-_A-Za-z0-9]`.
pub(super) fn id_ok(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A string field's limit, in characters.
fn check_len(data: &Map<String, Value>, field: &str, max: usize) -> Result<(), Failure> {
    match data.get(field) {
        Some(Value::String(s)) if s.chars().count() > max => Err(fail(
            "FieldTooLong",
            format!("{field} is longer than {max} characters."),
        )),
        _ => Ok(()),
    }
}

/// A structure's limit, in bytes of its JSON text.
fn check_size(data: &Map<String, Value>, field: &str, max: usize) -> Result<(), Failure> {
    match data.get(field) {
        Some(v) if v.to_string().len() > max => Err(fail(
            "FieldTooLong",
            format!("{field} is larger than {} KB.", max / 1024),
        )),
        _ => Ok(()),
    }
}

fn required_str<'a>(data: &'a Map<String, Value>, field: &str) -> Result<&'a str, Failure> {
    match data.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(fail(
            "FieldNotFound",
            format!("The required field {field} is missing."),
        )),
        Some(_) => Err(fail("InvalidData", format!("{field} must be a string."))),
    }
}

/// `yyyy-MM-ddTHH:mm:ss`, optionally with fractions and `Z`, in UTC.
fn time_ok(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 19 {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let shape = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let rest = &s[19..];
    let rest = rest.strip_suffix('Z').unwrap_or(rest);
    let rest_ok = rest.is_empty()
        || rest
            .strip_prefix('.')
            .is_some_and(|f| !f.is_empty() && f.bytes().all(|c| c.is_ascii_digit()));
    shape
        && rest_ok
        && cairn_model::timefmt::parse_event_time(&json!(format!("{}Z", &s[..19]))).is_some()
}

/// Checks one event's `eventData` (and its checksum) for a channel owned by `owner`; the data
/// as a JSON object when it passes.
pub(super) fn check(
    event_data: &str,
    checksum: Option<&str>,
    owner: &str,
) -> Result<Map<String, Value>, Failure> {
    if let Some(sum) = checksum {
        let ours =
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(event_data.as_bytes()));
        if sum != ours {
            return Err(fail(
                "InvalidChecksum",
                "eventDataChecksum is not the base64 SHA-256 of eventData.",
            ));
        }
    }
    let data = match serde_json::from_str::<Value>(event_data) {
        Ok(Value::Object(m)) => m,
        _ => {
            return Err(fail(
                "InvalidData",
                "eventData must be a JSON object in a string.",
            ));
        }
    };
    required_str(&data, "version")?;
    let identity = match data.get("userIdentity") {
        Some(Value::Object(m)) => m,
        None | Some(Value::Null) => {
            return Err(fail(
                "FieldNotFound",
                "The required field userIdentity is missing.",
            ));
        }
        Some(_) => return Err(fail("InvalidData", "userIdentity must be an object.")),
    };
    required_str(identity, "type")?;
    required_str(identity, "principalId")?;
    check_len(identity, "type", 128)?;
    check_len(identity, "principalId", 1024)?;
    if let Some(d) = identity.get("details")
        && !d.is_object()
        && !d.is_null()
    {
        return Err(fail(
            "InvalidData",
            "userIdentity.details must be an object.",
        ));
    }
    required_str(&data, "eventSource")?;
    required_str(&data, "eventName")?;
    let time = required_str(&data, "eventTime")?;
    required_str(&data, "UID")?;
    let recipient = required_str(&data, "recipientAccountId")?;
    check_len(&data, "version", 256)?;
    check_len(&data, "userAgent", 1024)?;
    check_len(&data, "eventSource", 1024)?;
    check_len(&data, "eventName", 1024)?;
    check_len(&data, "UID", 1024)?;
    check_len(&data, "errorCode", 256)?;
    check_len(&data, "errorMessage", 256)?;
    check_size(&data, "requestParameters", 100 * 1024)?;
    check_size(&data, "responseElements", 100 * 1024)?;
    check_size(&data, "additionalEventData", 28 * 1024)?;
    if !time_ok(time) {
        return Err(fail(
            "InvalidData",
            "eventTime must be yyyy-MM-ddTHH:mm:ss in UTC.",
        ));
    }
    if let Some(ip) = data.get("sourceIPAddress")
        && !ip.is_null()
        && ip.as_str().and_then(|s| s.parse::<IpAddr>().ok()).is_none()
    {
        return Err(fail(
            "InvalidData",
            "sourceIPAddress must be an IPv4 or IPv6 address.",
        ));
    }
    for field in [
        "requestParameters",
        "responseElements",
        "additionalEventData",
    ] {
        if let Some(v) = data.get(field)
            && !v.is_object()
            && !v.is_null()
        {
            return Err(fail("InvalidData", format!("{field} must be an object.")));
        }
    }
    if recipient != owner {
        return Err(fail(
            "InvalidRecipient",
            "recipientAccountId must be the account that owns the channel.",
        ));
    }
    Ok(data)
}

/// The record CloudTrail keeps of an accepted event.
pub(super) fn record(
    data: Map<String, Value>,
    event_id: &str,
    region: &str,
    owner: &str,
    channel_arn: &str,
    ingestion_time: &str,
) -> Value {
    let event_time = data
        .get("eventTime")
        .and_then(Value::as_str)
        .map(|t| {
            let t = &t[..19.min(t.len())];
            format!("{t}Z")
        })
        .unwrap_or_else(|| ingestion_time.to_string());
    json!({
        "eventVersion": "1.11",
        "eventCategory": "ActivityAuditLog",
        "eventType": "ActivityLog",
        "eventID": event_id,
        "eventTime": event_time,
        "awsRegion": region,
        "recipientAccountId": owner,
        "metadata": {"ingestionTime": ingestion_time, "channelARN": channel_arn},
        "eventData": Value::Object(data),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: &str = "111122223333";

    fn event(over: Value) -> String {
        let mut e = json!({
            "version": "1.0",
            "userIdentity": {"type": "CustomUser", "principalId": "u-42", "details": {"team": "sre"}},
            "eventSource": "myapp.example.com",
            "eventName": "Login",
            "eventTime": "2025-03-04T12:00:59Z",
            "UID": "req-0001",
            "sourceIPAddress": "198.51.100.2",
            "recipientAccountId": OWNER,
        });
        for (k, v) in over.as_object().unwrap() {
            if v.is_null() {
                e.as_object_mut().unwrap().remove(k);
            } else {
                e[k] = v.clone();
            }
        }
        e.to_string()
    }

    fn code(data: &str) -> &'static str {
        check(data, None, OWNER).unwrap_err().code
    }

    #[test]
    fn a_good_event_passes_and_becomes_a_record() {
        let text = event(json!({}));
        let sum = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()));
        let data = check(&text, Some(&sum), OWNER).unwrap();
        let r = record(
            data,
            "e-1",
            "eu-west-1",
            OWNER,
            "arn:ch",
            "2025-03-04T12:01:03Z",
        );
        assert_eq!(r["eventCategory"], "ActivityAuditLog");
        assert_eq!(r["eventType"], "ActivityLog");
        assert_eq!(r["eventTime"], "2025-03-04T12:00:59Z");
        assert_eq!(r["eventData"]["eventName"], "Login");
        assert_eq!(r["metadata"]["channelARN"], "arn:ch");
        assert!(
            check(
                &event(json!({"eventTime": "2025-03-04T12:00:59"})),
                None,
                OWNER
            )
            .is_ok()
        );
    }

    #[test]
    fn bad_events_fail_with_aws_codes() {
        assert_eq!(
            check(&event(json!({})), Some("AAAA"), OWNER)
                .unwrap_err()
                .code,
            "InvalidChecksum"
        );
        assert_eq!(code("not json"), "InvalidData");
        assert_eq!(code("[1]"), "InvalidData");
        assert_eq!(code(&event(json!({"eventName": null}))), "FieldNotFound");
        assert_eq!(code(&event(json!({"UID": null}))), "FieldNotFound");
        assert_eq!(
            code(&event(json!({"userIdentity": {"type": "X"}}))),
            "FieldNotFound"
        );
        assert_eq!(
            code(&event(json!({"eventName": "x".repeat(1025)}))),
            "FieldTooLong"
        );
        assert_eq!(
            code(&event(json!({"errorCode": "x".repeat(257)}))),
            "FieldTooLong"
        );
        assert_eq!(
            code(&event(json!({"eventTime": "yesterday"}))),
            "InvalidData"
        );
        assert_eq!(
            code(&event(json!({"eventTime": "2025-13-40T12:00:00Z"}))),
            "InvalidData"
        );
        assert_eq!(
            code(&event(json!({"sourceIPAddress": "host"}))),
            "InvalidData"
        );
        assert_eq!(
            code(&event(json!({"recipientAccountId": "444455556666"}))),
            "InvalidRecipient"
        );
        assert!(id_ok("a-b_C9"));
        assert!(!id_ok(""));
        assert!(!id_ok("a b"));
        assert!(!id_ok(&"a".repeat(129)));
    }
}
