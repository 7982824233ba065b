//! The CloudTrail record cairn writes for each call it serves (reference section a.1).
//!
//! Field order follows AWS's own records, so a record cairn writes reads like one AWS wrote.

use serde::Serialize;
use serde_json::Value;

/// The `eventVersion` cairn writes.
pub const EVENT_VERSION: &str = "1.11";

/// Upper bounds AWS applies to string fields (they are truncated) and large objects (they are
/// omitted).
const MAX_STRING_FIELD: usize = 1024;
const MAX_LARGE_FIELD: usize = 100 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum EventCategory {
    Management,
    Data,
    Insight,
    NetworkActivity,
}

impl EventCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            EventCategory::Management => "Management",
            EventCategory::Data => "Data",
            EventCategory::Insight => "Insight",
            EventCategory::NetworkActivity => "NetworkActivity",
        }
    }
}

/// One element of `resources`. Note AWS's upper-case `ARN`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordResource {
    #[serde(rename = "accountId", skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(rename = "type")]
    pub resource_type: String,
    #[serde(rename = "ARN", skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// For listings: the prefix of the ARNs the call covers (`arn:aws:s3:::bucket/`).
    #[serde(rename = "ARNPrefix", skip_serializing_if = "Option::is_none")]
    pub arn_prefix: Option<String>,
}

impl RecordResource {
    pub fn new(resource_type: &str, arn: String, account_id: Option<String>) -> Self {
        RecordResource {
            account_id,
            resource_type: resource_type.to_owned(),
            arn: Some(arn),
            arn_prefix: None,
        }
    }
}

/// An `AwsApiCall` record.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiCallRecord {
    pub event_version: &'static str,
    pub user_identity: Value,
    pub event_time: String,
    pub event_source: String,
    pub event_name: String,
    pub aws_region: String,
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Always present; `null` when the call had no parameters.
    pub request_parameters: Option<Value>,
    /// Always present; `null` for read-only calls and calls without a response body.
    pub response_elements: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_event_data: Option<Value>,
    #[serde(rename = "requestID")]
    pub request_id: String,
    #[serde(rename = "eventID")]
    pub event_id: String,
    pub read_only: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<RecordResource>,
    pub event_type: &'static str,
    pub management_event: bool,
    pub recipient_account_id: String,
    /// The same event recorded in two accounts (a cross-account AssumeRole) shares this id.
    #[serde(rename = "sharedEventID", skip_serializing_if = "Option::is_none")]
    pub shared_event_id: Option<String>,
    pub event_category: EventCategory,
    /// How the call reached the endpoint, when it came over HTTPS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_details: Option<TlsDetails>,
    /// `sessionCredentialFromConsole`: the string `"true"` when the call was made with a
    /// console session's credentials; absent otherwise.
    #[serde(
        skip_serializing_if = "std::ops::Not::not",
        serialize_with = "true_as_string"
    )]
    pub session_credential_from_console: bool,
}

/// CloudTrail writes `sessionCredentialFromConsole` as the string `"true"`, never a boolean.
fn true_as_string<S: serde::Serializer>(v: &bool, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if *v { "true" } else { "false" })
}

/// `tlsDetails`: the TLS version and cipher suite of the connection, and the `Host` header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsDetails {
    pub tls_version: String,
    pub cipher_suite: String,
    pub client_provided_host_header: String,
}

impl ApiCallRecord {
    /// Applies AWS's size rules: long string fields are truncated, oversized objects omitted.
    pub fn enforce_size_limits(&mut self) {
        for s in [
            &mut self.user_agent,
            &mut self.error_code,
            &mut self.error_message,
        ]
        .into_iter()
        .flatten()
        {
            truncate_utf8(s, MAX_STRING_FIELD);
        }
        truncate_utf8(&mut self.request_id, MAX_STRING_FIELD);
        for v in [
            &mut self.request_parameters,
            &mut self.response_elements,
            &mut self.additional_event_data,
        ] {
            if v.as_ref()
                .is_some_and(|x| serde_json::to_vec(x).map_or(0, |b| b.len()) > MAX_LARGE_FIELD)
            {
                *v = None;
            }
        }
    }

    pub fn to_json_bytes(&self) -> Vec<u8> {
        // Serializing plain data into a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

fn truncate_utf8(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> ApiCallRecord {
        ApiCallRecord {
            event_version: EVENT_VERSION,
            user_identity: json!({"type":"Root"}),
            event_time: "2025-03-04T10:02:44Z".into(),
            event_source: "cloudtrail.amazonaws.com".into(),
            event_name: "DescribeTrails".into(),
            aws_region: "us-east-1".into(),
            source_ip_address: "127.0.0.1".into(),
            user_agent: Some("aws-cli/1.46.3".into()),
            error_code: None,
            error_message: None,
            request_parameters: None,
            response_elements: None,
            additional_event_data: None,
            request_id: "r".into(),
            event_id: "e".into(),
            read_only: true,
            resources: vec![],
            event_type: "AwsApiCall",
            management_event: true,
            recipient_account_id: "111122223333".into(),
            shared_event_id: None,
            event_category: EventCategory::Management,
            tls_details: None,
            session_credential_from_console: false,
        }
    }

    #[test]
    fn console_sessions_end_the_record_with_a_string_true() {
        let mut r = sample();
        r.session_credential_from_console = true;
        let s = String::from_utf8(r.to_json_bytes()).unwrap();
        assert!(
            s.ends_with(r#""eventCategory":"Management","sessionCredentialFromConsole":"true"}"#)
        );
    }

    #[test]
    fn serializes_in_aws_order_with_nulls() {
        let s = String::from_utf8(sample().to_json_bytes()).unwrap();
        assert!(s.starts_with(r#"{"eventVersion":"1.11","userIdentity":"#));
        assert!(s.contains(r#""requestParameters":null,"responseElements":null,"requestID":"r""#));
        assert!(!s.contains("errorCode"));
        assert!(!s.contains("resources"));
        assert!(
            s.ends_with(r#""recipientAccountId":"111122223333","eventCategory":"Management"}"#)
        );
    }

    #[test]
    fn size_limits() {
        let mut r = sample();
        r.user_agent = Some("é".repeat(1000));
        r.request_parameters = Some(json!({"big": "x".repeat(200_000)}));
        r.enforce_size_limits();
        assert!(r.user_agent.as_ref().unwrap().len() <= 1024);
        assert!(r.request_parameters.is_none());
    }
}
