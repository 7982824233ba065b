//! What lab criteria read, through the public APIs as the learner: trails with their status,
//! a bucket's keys, an object, event history. A read that fails is an `Err` with the
//! service's message, which a criterion turns into its explanation.

use std::io::Read;

use bytes::Bytes;
use cairn_model::timefmt::parse_event_time;
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::Ctx;
use crate::pipeline::internal::WireCall;

/// A trail as DescribeTrails and GetTrailStatus tell it.
#[derive(Clone, Debug, Default)]
pub struct Trail {
    pub name: String,
    pub arn: String,
    pub bucket: String,
    pub prefix: Option<String>,
    pub multi_region: bool,
    pub validation: bool,
    pub kms_key: Option<String>,
    pub log_group_arn: Option<String>,
    pub logging: bool,
    pub delivered_ms: Option<i64>,
    pub digest_delivered_ms: Option<i64>,
    pub cwl_delivered_ms: Option<i64>,
}

fn text(v: &Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn time_ms(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_f64().map(|f| (f * 1000.0) as i64),
        other => parse_event_time(other),
    }
}

/// The account's trails (shadow trails of other regions included), each with its status.
pub fn trails(ctx: &Ctx) -> Result<Vec<Trail>, AwsError> {
    let d = ctx.call(
        "cloudtrail",
        "DescribeTrails",
        json!({"includeShadowTrails": true}),
    )?;
    let list = d
        .get("trailList")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok(list
        .iter()
        .map(|t| {
            let arn = text(t, "TrailARN").unwrap_or_default();
            let status = ctx
                .call("cloudtrail", "GetTrailStatus", json!({"Name": arn}))
                .unwrap_or_default();
            Trail {
                name: text(t, "Name").unwrap_or_default(),
                bucket: text(t, "S3BucketName").unwrap_or_default(),
                prefix: text(t, "S3KeyPrefix"),
                multi_region: t.get("IsMultiRegionTrail").and_then(Value::as_bool) == Some(true),
                validation: t.get("LogFileValidationEnabled").and_then(Value::as_bool)
                    == Some(true),
                kms_key: text(t, "KmsKeyId"),
                log_group_arn: text(t, "CloudWatchLogsLogGroupArn"),
                logging: status.get("IsLogging").and_then(Value::as_bool) == Some(true),
                delivered_ms: time_ms(status.get("LatestDeliveryTime")),
                digest_delivered_ms: time_ms(status.get("LatestDigestDeliveryTime")),
                cwl_delivered_ms: time_ms(status.get("LatestCloudWatchLogsDeliveryTime")),
                arn,
            }
        })
        .collect())
}

impl Trail {
    /// Where the trail's files for `account` start: `[prefix/]AWSLogs/account/`.
    pub fn logs_prefix(&self, account: &str) -> String {
        match &self.prefix {
            Some(p) => format!("{p}/AWSLogs/{account}/"),
            None => format!("AWSLogs/{account}/"),
        }
    }
}

/// One key of a bucket listing.
#[derive(Clone, Debug)]
pub struct Object {
    pub key: String,
    pub modified_ms: i64,
}

fn s3(
    ctx: &Ctx,
    method: http::Method,
    path: String,
    query: Option<String>,
    body: Bytes,
) -> Result<crate::pipeline::internal::WireAnswer, AwsError> {
    ctx.who.call_wire(
        ctx.app,
        "s3",
        WireCall {
            method,
            path,
            query,
            headers: vec![("host".to_owned(), "s3.amazonaws.com".to_owned())],
            body,
        },
    )
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn encode_key(key: &str) -> String {
    key.split('/').map(encode).collect::<Vec<_>>().join("/")
}

/// Every key of `bucket` under `prefix` (ListObjectsV2, page by page).
pub fn list_objects(ctx: &Ctx, bucket: &str, prefix: &str) -> Result<Vec<Object>, AwsError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut q = format!("list-type=2&prefix={}", encode(prefix));
        if let Some(t) = &token {
            q.push_str(&format!("&continuation-token={}", encode(t)));
        }
        let a = s3(
            ctx,
            http::Method::GET,
            format!("/{bucket}"),
            Some(q),
            Bytes::new(),
        )?;
        let xml = String::from_utf8_lossy(&a.body);
        for contents in elements(&xml, "Contents") {
            let (Some(key), Some(modified)) =
                (element(contents, "Key"), element(contents, "LastModified"))
            else {
                continue;
            };
            out.push(Object {
                key,
                modified_ms: parse_event_time(&Value::String(modified)).unwrap_or(0),
            });
        }
        token = element(&xml, "NextContinuationToken");
        if token.is_none() || element(&xml, "IsTruncated").as_deref() != Some("true") {
            return Ok(out);
        }
    }
}

/// An object's bytes.
pub fn get_object(ctx: &Ctx, bucket: &str, key: &str) -> Result<Bytes, AwsError> {
    Ok(s3(
        ctx,
        http::Method::GET,
        format!("/{bucket}/{}", encode_key(key)),
        None,
        Bytes::new(),
    )?
    .body)
}

/// Writes an object.
pub fn put_object(ctx: &Ctx, bucket: &str, key: &str, body: Bytes) -> Result<(), AwsError> {
    s3(
        ctx,
        http::Method::PUT,
        format!("/{bucket}/{}", encode_key(key)),
        None,
        body,
    )
    .map(|_| ())
}

/// The XML a query-protocol service (IAM) answered an internal call with.
pub fn xml_of(answer: &Value) -> &str {
    answer
        .get("Xml")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// A gzip'd file's bytes.
pub fn gunzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut text)
        .ok()?;
    Some(text)
}

/// A gzip'd JSON document (a log or digest file).
pub fn gunzip_json(bytes: &[u8]) -> Option<Value> {
    serde_json::from_slice(&gunzip(bytes)?).ok()
}

/// Event history's events (management events, newest first) matching one lookup attribute,
/// since `start_ms`, up to `max`.
pub fn lookup(
    ctx: &Ctx,
    attribute: Option<(&str, &str)>,
    start_ms: i64,
    max: usize,
) -> Result<Vec<Value>, AwsError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({
            // Records' times are whole seconds: a call in the start's second counts.
            "StartTime": start_ms.div_euclid(1000),
            "MaxResults": 50,
        });
        if let Some((k, v)) = attribute {
            input["LookupAttributes"] = json!([{"AttributeKey": k, "AttributeValue": v}]);
        }
        if let Some(t) = &token {
            input["NextToken"] = json!(t);
        }
        let page = ctx.call("cloudtrail", "LookupEvents", input)?;
        out.extend(
            page.get("Events")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        );
        token = text(&page, "NextToken");
        if token.is_none() || out.len() >= max {
            out.truncate(max);
            return Ok(out);
        }
    }
}

/// The texts of every `<name>…</name>` element, in order (S3's and IAM's XML: no attributes
/// on these).
pub fn elements<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(&after[..j]);
        rest = &after[j + close.len()..];
    }
    out
}

/// The unescaped text of the first `<name>` element.
pub fn element(xml: &str, name: &str) -> Option<String> {
    elements(xml, name).first().map(|t| {
        t.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_read_in_order_and_unescaped() {
        let xml = "<R><Contents><Key>a&amp;b</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified></Contents><Contents><Key>c</Key></Contents><IsTruncated>false</IsTruncated></R>";
        let c = elements(xml, "Contents");
        assert_eq!(c.len(), 2);
        assert_eq!(element(c[0], "Key").as_deref(), Some("a&b"));
        assert_eq!(element(c[1], "LastModified"), None);
        assert_eq!(element(xml, "IsTruncated").as_deref(), Some("false"));
    }
}
