//! S3 server access logging on its own: a bucket's logging configuration (read from a
//! `BucketLoggingStatus`, stored, answered back), the keys log objects get (simple:
//! `TargetPrefixYYYY-mm-DD-HH-MM-SS-UniqueString`; partitioned:
//! `TargetPrefix<account>/<region>/<bucket>/YYYY/MM/DD/YYYY-mm-DD-HH-MM-SS-UniqueString`), and
//! the log line of one recorded S3 call, field by field in S3's documented order. No I/O:
//! the consumer (`access_logs.rs`) reads the journal and delivers.
//!
//! A line is built from the call's CloudTrail record, which carries who, when, from where,
//! what, the answer's error, the bytes sent and received, the TLS details and the host id,
//! and from what its journal entry keeps beside the record ([`Served`]): the HTTP status
//! answered (206 for a range), the bytes sent, the object's whole size, and the total and
//! turn-around times in milliseconds. For an entry without them (written by an older build)
//! they are derived from the record as before: the status from the operation and the S3 error
//! code (S3's codes each have one status), the object size from the bytes a GET sent or a PUT
//! received; the times are then `-` (as S3 writes a field it has no value for).

use cairn_store::journal::Served;
use cairn_wire::AwsError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::wire::xml::{Doc, encode_key, parse};

/// The service principal S3 delivers access logs as; a target bucket's policy lets it write.
pub const LOGGING_SERVICE: &str = "logging.s3.amazonaws.com";

/// A bucket's server access logging: where its log objects go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggingConfig {
    pub target_bucket: String,
    pub target_prefix: String,
    /// `Some("EventTime" | "DeliveryTime")` for partitioned keys, `None` for simple ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitioned: Option<String>,
}

fn malformed() -> AwsError {
    AwsError::client(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

/// A `BucketLoggingStatus` document: `Some` configuration, or `None` to turn logging off.
pub fn parse_status(body: &[u8]) -> Result<Option<LoggingConfig>, AwsError> {
    let n = parse(body)
        .filter(|n| n.name == "BucketLoggingStatus")
        .ok_or_else(malformed)?;
    let Some(on) = n.child("LoggingEnabled") else {
        return Ok(None);
    };
    let target_bucket = on.text_of("TargetBucket").ok_or_else(malformed)?.to_owned();
    let target_prefix = on.text_of("TargetPrefix").ok_or_else(malformed)?.to_owned();
    let partitioned = match on.child("TargetObjectKeyFormat") {
        None => None,
        Some(f) => match (f.child("SimplePrefix"), f.child("PartitionedPrefix")) {
            (Some(_), None) => None,
            (None, Some(p)) => Some(match p.text_of("PartitionDateSource") {
                None | Some("EventTime") => "EventTime".to_owned(),
                Some("DeliveryTime") => "DeliveryTime".to_owned(),
                Some(_) => return Err(malformed()),
            }),
            _ => return Err(malformed()),
        },
    };
    Ok(Some(LoggingConfig {
        target_bucket,
        target_prefix,
        partitioned,
    }))
}

/// The `BucketLoggingStatus` GetBucketLogging answers.
pub fn status_document(cfg: Option<&LoggingConfig>) -> Vec<u8> {
    let mut d = Doc::new("BucketLoggingStatus");
    if let Some(c) = cfg {
        d.open("LoggingEnabled")
            .elem("TargetBucket", &c.target_bucket)
            .elem("TargetPrefix", &c.target_prefix);
        d.open("TargetObjectKeyFormat");
        match &c.partitioned {
            Some(source) => {
                d.open("PartitionedPrefix")
                    .elem("PartitionDateSource", source)
                    .close("PartitionedPrefix");
            }
            None => {
                d.open("SimplePrefix").close("SimplePrefix");
            }
        }
        d.close("TargetObjectKeyFormat").close("LoggingEnabled");
    }
    d.finish("BucketLoggingStatus")
}

fn utc(ms: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// The key of a log object delivered at `now_ms` holding records from `event_ms` on.
pub fn object_key(
    cfg: &LoggingConfig,
    source: (&str, &str, &str),
    event_ms: i64,
    now_ms: i64,
    unique: &str,
) -> String {
    let (account, region, bucket) = source;
    let stamp = |t: time::OffsetDateTime| {
        format!(
            "{:04}-{:02}-{:02}-{:02}-{:02}-{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    };
    let delivered = utc(now_ms);
    match cfg.partitioned.as_deref() {
        None => format!("{}{}-{unique}", cfg.target_prefix, stamp(delivered)),
        Some(source_time) => {
            let p = if source_time == "EventTime" {
                utc(event_ms)
            } else {
                delivered
            };
            format!(
                "{}{account}/{region}/{bucket}/{:04}/{:02}/{:02}/{}-{unique}",
                cfg.target_prefix,
                p.year(),
                u8::from(p.month()),
                p.day(),
                stamp(delivered)
            )
        }
    }
}

/// S3's operation field: `REST.<METHOD>.<RESOURCE>`, and the HTTP method, for an event name.
pub fn operation(event: &str) -> (&'static str, String) {
    // Copies are logged with S3's own verb for them, not the request's method.
    match event {
        "CopyObject" => return ("PUT", "REST.COPY.OBJECT".to_owned()),
        "UploadPartCopy" => return ("PUT", "REST.COPY.PART".to_owned()),
        _ => {}
    }
    let known: Option<(&'static str, &str)> = match event {
        "GetObject" => Some(("GET", "OBJECT")),
        "HeadObject" => Some(("HEAD", "OBJECT")),
        "PutObject" => Some(("PUT", "OBJECT")),
        "DeleteObject" => Some(("DELETE", "OBJECT")),
        "DeleteObjects" => Some(("POST", "MULTI_OBJECT_DELETE")),
        "ListObjects" => Some(("GET", "BUCKET")),
        "ListObjectVersions" => Some(("GET", "BUCKETVERSIONS")),
        "HeadBucket" => Some(("HEAD", "BUCKET")),
        "CreateBucket" => Some(("PUT", "BUCKET")),
        "DeleteBucket" => Some(("DELETE", "BUCKET")),
        "GetBucketLocation" => Some(("GET", "LOCATION")),
        "GetBucketAcl" | "GetObjectAcl" => Some(("GET", "ACL")),
        "PutBucketAcl" | "PutObjectAcl" => Some(("PUT", "ACL")),
        "GetBucketPolicy" => Some(("GET", "BUCKETPOLICY")),
        "PutBucketPolicy" => Some(("PUT", "BUCKETPOLICY")),
        "DeleteBucketPolicy" => Some(("DELETE", "BUCKETPOLICY")),
        "GetBucketVersioning" => Some(("GET", "VERSIONING")),
        "PutBucketVersioning" => Some(("PUT", "VERSIONING")),
        "GetBucketEncryption" => Some(("GET", "ENCRYPTION")),
        "PutBucketEncryption" => Some(("PUT", "ENCRYPTION")),
        "DeleteBucketEncryption" => Some(("DELETE", "ENCRYPTION")),
        "GetBucketTagging" => Some(("GET", "TAGGING")),
        "PutBucketTagging" => Some(("PUT", "TAGGING")),
        "DeleteBucketTagging" => Some(("DELETE", "TAGGING")),
        "GetObjectTagging" => Some(("GET", "OBJECT_TAGGING")),
        "PutObjectTagging" => Some(("PUT", "OBJECT_TAGGING")),
        "DeleteObjectTagging" => Some(("DELETE", "OBJECT_TAGGING")),
        "GetBucketLifecycle" => Some(("GET", "LIFECYCLE")),
        "PutBucketLifecycle" => Some(("PUT", "LIFECYCLE")),
        "DeleteBucketLifecycle" => Some(("DELETE", "LIFECYCLE")),
        "GetBucketLogging" => Some(("GET", "LOGGING_STATUS")),
        "PutBucketLogging" => Some(("PUT", "LOGGING_STATUS")),
        "CreateMultipartUpload" => Some(("POST", "UPLOADS")),
        "UploadPart" => Some(("PUT", "PART")),
        "CompleteMultipartUpload" => Some(("POST", "UPLOAD")),
        "AbortMultipartUpload" => Some(("DELETE", "UPLOAD")),
        "ListParts" => Some(("GET", "UPLOAD")),
        _ => None,
    };
    let (method, resource) = match known {
        Some((m, r)) => (m, r.to_owned()),
        None => {
            // An operation added later: its verb, and its name without it.
            let (m, rest) = [
                ("Get", "GET"),
                ("Put", "PUT"),
                ("Delete", "DELETE"),
                ("List", "GET"),
                ("Head", "HEAD"),
            ]
            .iter()
            .find_map(|(p, m)| event.strip_prefix(p).map(|r| (*m, r)))
            .unwrap_or(("POST", event));
            (m, rest.trim_start_matches("Bucket").to_ascii_uppercase())
        }
    };
    (method, format!("REST.{method}.{resource}"))
}

/// The HTTP status of a recorded call: its error code's (each S3 error code has one), or
/// what the operation answers when it succeeds.
pub fn status(event: &str, error_code: Option<&str>) -> u16 {
    match error_code {
        None if event.starts_with("Delete") && event != "DeleteObjects" => 204,
        None if matches!(event, "PutBucketPolicy" | "PutBucketTagging") => 204,
        None => 200,
        Some(code) => match code {
            "NotModified" => 304,
            "AccessDenied"
            | "SignatureDoesNotMatch"
            | "InvalidAccessKeyId"
            | "RequestTimeTooSkewed"
            | "CrossLocationLoggingProhibitted"
            | "AllAccessDisabled"
            | "InvalidObjectState" => 403,
            "NoSuchBucket"
            | "NoSuchKey"
            | "NoSuchVersion"
            | "NoSuchUpload"
            | "NoSuchBucketPolicy"
            | "NoSuchTagSet"
            | "NoSuchLifecycleConfiguration"
            | "NoSuchCORSConfiguration"
            | "ServerSideEncryptionConfigurationNotFoundError" => 404,
            "MethodNotAllowed" => 405,
            "BucketAlreadyExists"
            | "BucketAlreadyOwnedByYou"
            | "BucketNotEmpty"
            | "OperationAborted" => 409,
            "MissingContentLength" => 411,
            "PreconditionFailed" => 412,
            "InvalidRange" => 416,
            "InternalError" => 500,
            "NotImplemented" => 501,
            "ServiceUnavailable" | "SlowDown" => 503,
            _ => 400,
        },
    }
}

/// `[06/Feb/2019:00:00:38 +0000]` of a record's `eventTime`.
fn bracket_time(event_time: &str) -> String {
    let t = time::OffsetDateTime::parse(event_time, &time::format_description::well_known::Rfc3339)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!(
        "[[[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000]"
    );
    t.format(&f).unwrap_or_default()
}

/// A field as S3 writes it: `-` when there is no value.
fn or_dash(v: Option<&str>) -> String {
    match v {
        Some(s) if !s.is_empty() => s.to_owned(),
        _ => "-".to_owned(),
    }
}

/// Names in `requestParameters` that are not the request's query string.
fn is_query_param(k: &str, v: &Value) -> bool {
    v.is_string() && !matches!(k, "bucketName" | "Host" | "key") && !k.starts_with("x-amz-")
}

/// The requester: the caller's ARN; an AWS service as `svc:<service>`; `-` when anonymous.
fn requester(record: &Value) -> String {
    let ui = record.get("userIdentity");
    let s = |p: &str| ui.and_then(|u| u.get(p)).and_then(Value::as_str);
    match (s("type"), s("arn"), s("invokedBy")) {
        (Some("AWSService"), _, Some(by)) => format!("svc:{by}"),
        (_, Some(arn), _) => arn.to_owned(),
        _ => "-".to_owned(),
    }
}

/// The access log line of one recorded S3 call on a bucket, or `None` if it is not one.
/// `owner` is the bucket owner's canonical id; `served`, how the call was answered, from its
/// journal entry.
pub fn line(record: &Value, owner: &str, served: Option<&Served>) -> Option<String> {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let params = record.get("requestParameters")?;
    let bucket = text(params.get("bucketName"))?;
    let event = record.get("eventName")?.as_str()?;
    let extra = record.get("additionalEventData");
    let num = |k: &str| {
        extra
            .and_then(|e| e.get(k))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let tls = record.get("tlsDetails");
    let tls_text = |k: &str| text(tls.and_then(|t| t.get(k)));
    let key = text(params.get("key"));
    let host = text(params.get("Host")).unwrap_or_default();
    let (method, op) = operation(event);
    // The path as sent: a virtual-host request names only the key.
    let virtual_host = host.starts_with(&format!("{bucket}."));
    let mut uri = if virtual_host {
        "/".to_owned()
    } else {
        format!("/{bucket}")
    };
    if let Some(k) = &key {
        if !uri.ends_with('/') {
            uri.push('/');
        }
        uri.push_str(&encode_key(k));
    }
    let query: Vec<String> = params
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, v)| is_query_param(k, v))
                .map(|(k, v)| match v.as_str() {
                    Some("") => k.clone(),
                    Some(v) => format!("{k}={}", encode_key(v).replace('/', "%2F")),
                    None => k.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    if !query.is_empty() {
        uri.push('?');
        uri.push_str(&query.join("&"));
    }
    let error = text(record.get("errorCode"));
    let (status, sent, object_size) = match served {
        Some(s) => (s.status, s.bytes_sent, s.object_size),
        None => {
            let sent = num("bytesTransferredOut");
            let size = match (event, error.is_none()) {
                ("GetObject", true) => Some(sent),
                ("PutObject" | "UploadPart", true) => Some(num("bytesTransferredIn")),
                _ => None,
            };
            (status(event, error.as_deref()), sent, size)
        }
    };
    let ms = |v: Option<u32>| v.map_or_else(|| "-".to_owned(), |m| m.to_string());
    let fields = [
        owner.to_owned(),
        bucket,
        bracket_time(record.get("eventTime")?.as_str()?),
        or_dash(record.get("sourceIPAddress").and_then(Value::as_str)),
        requester(record),
        or_dash(record.get("requestID").and_then(Value::as_str)),
        op,
        key.map(|k| encode_key(&k))
            .unwrap_or_else(|| "-".to_owned()),
        format!("\"{method} {uri} HTTP/1.1\""),
        status.to_string(),
        or_dash(error.as_deref()),
        if sent == 0 {
            "-".to_owned()
        } else {
            sent.to_string()
        },
        object_size.map_or_else(|| "-".to_owned(), |s| s.to_string()),
        ms(served.and_then(|s| s.total_ms)),
        ms(served.and_then(|s| s.turn_around_ms)),
        "\"-\"".to_owned(),
        format!(
            "\"{}\"",
            or_dash(record.get("userAgent").and_then(Value::as_str)).replace('"', "\\\"")
        ),
        or_dash(text(params.get("versionId")).as_deref()),
        or_dash(text(extra.and_then(|e| e.get("x-amz-id-2"))).as_deref()),
        or_dash(text(extra.and_then(|e| e.get("SignatureVersion"))).as_deref()),
        or_dash(tls_text("cipherSuite").as_deref()),
        or_dash(text(extra.and_then(|e| e.get("AuthenticationMethod"))).as_deref()),
        or_dash(
            tls_text("clientProvidedHostHeader")
                .or(Some(host))
                .as_deref(),
        ),
        or_dash(tls_text("tlsVersion").as_deref()),
        "-".to_owned(),
        "-".to_owned(),
    ];
    Some(fields.join(" "))
}

/// The line S3 writes for what a lifecycle rule did (`S3.EXPIRE.OBJECT`,
/// `S3.CREATE.DELETEMARKER`), which no one requested: requester `AmazonS3`, no request URI.
pub fn lifecycle_line(
    owner: &str,
    bucket: &str,
    at_ms: i64,
    op: &str,
    key: &str,
    version_id: Option<&str>,
    request_id: &str,
) -> String {
    let t = utc(at_ms);
    let when = format!(
        "[{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000]",
        t.day(),
        &format!("{:?}", t.month())[..3],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    );
    [
        owner,
        bucket,
        &when,
        "-",
        "AmazonS3",
        request_id,
        op,
        &encode_key(key),
        "-",
        "-",
        "-",
        "-",
        "-",
        "-",
        "-",
        "\"-\"",
        "\"-\"",
        version_id.unwrap_or("-"),
        "-",
        "-",
        "-",
        "-",
        "-",
        "-",
        "-",
        "-",
    ]
    .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_get_object_line_has_s3s_fields_in_order() {
        let record = json!({
            "eventTime": "2019-02-06T00:00:38Z",
            "eventName": "GetObject",
            "sourceIPAddress": "192.0.2.3",
            "userAgent": "aws-cli/1.36.0",
            "requestID": "3E57427F3EXAMPLE",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/alice"},
            "requestParameters": {"bucketName": "logs", "Host": "logs.s3.us-east-1.amazonaws.com", "key": "AWSLogs/a b.json.gz", "versionId": "v1"},
            "additionalEventData": {"SignatureVersion": "SigV4", "AuthenticationMethod": "AuthHeader", "x-amz-id-2": "id2=", "bytesTransferredOut": 113, "bytesTransferredIn": 0},
            "tlsDetails": {"tlsVersion": "TLSv1.2", "cipherSuite": "ECDHE-RSA-AES128-GCM-SHA256", "clientProvidedHostHeader": "logs.s3.us-east-1.amazonaws.com"}
        });
        let l = line(&record, "OWNER", None).unwrap();
        assert_eq!(
            l,
            "OWNER logs [06/Feb/2019:00:00:38 +0000] 192.0.2.3 arn:aws:iam::123456789012:user/alice 3E57427F3EXAMPLE REST.GET.OBJECT AWSLogs/a%20b.json.gz \"GET /AWSLogs/a%20b.json.gz?versionId=v1 HTTP/1.1\" 200 - 113 113 - - \"-\" \"aws-cli/1.36.0\" v1 id2= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader logs.s3.us-east-1.amazonaws.com TLSv1.2 - -"
        );
        // 26 fields, the quoted ones counted once.
        let quoted = l.split('"').collect::<Vec<_>>();
        assert_eq!(quoted.len(), 7);
    }

    #[test]
    fn failures_path_style_and_services() {
        let record = json!({
            "eventTime": "2024-03-01T12:00:00Z",
            "eventName": "GetBucketTagging",
            "sourceIPAddress": "127.0.0.1",
            "errorCode": "NoSuchTagSet",
            "requestID": "R",
            "userIdentity": {"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"},
            "requestParameters": {"bucketName": "b", "Host": "127.0.0.1:4566", "tagging": ""},
            "additionalEventData": {"bytesTransferredOut": 0}
        });
        let l = line(&record, "O", None).unwrap();
        assert!(l.contains(" svc:cloudtrail.amazonaws.com R REST.GET.TAGGING - \"GET /b?tagging HTTP/1.1\" 404 NoSuchTagSet - - "), "{l}");
        assert!(
            line(
                &json!({"eventName": "ListBuckets", "requestParameters": {"Host": "h"}}),
                "O",
                None
            )
            .is_none()
        );
    }

    #[test]
    fn a_ranged_get_logs_what_its_entry_kept() {
        let record = json!({
            "eventTime": "2024-03-01T12:00:00Z",
            "eventName": "GetObject",
            "sourceIPAddress": "127.0.0.1",
            "requestID": "R",
            "userIdentity": {"type": "Root", "arn": "arn:aws:iam::123456789012:root"},
            "requestParameters": {"bucketName": "b", "Host": "127.0.0.1:4566", "key": "k"},
            "additionalEventData": {"bytesTransferredOut": 5}
        });
        let served = Served {
            status: 206,
            bytes_sent: 5,
            object_size: Some(100),
            total_ms: Some(3),
            turn_around_ms: Some(1),
        };
        let l = line(&record, "O", Some(&served)).unwrap();
        assert!(
            l.contains("\"GET /b/k HTTP/1.1\" 206 - 5 100 3 1 \"-\""),
            "{l}"
        );
        // An entry from before the answer was kept: derived from the record, times unknown.
        let l = line(&record, "O", None).unwrap();
        assert!(
            l.contains("\"GET /b/k HTTP/1.1\" 200 - 5 5 - - \"-\""),
            "{l}"
        );
    }

    #[test]
    fn statuses_and_operations() {
        assert_eq!(status("DeleteObject", None), 204);
        assert_eq!(status("GetObject", Some("AccessDenied")), 403);
        assert_eq!(status("GetObject", Some("NoSuchKey")), 404);
        assert_eq!(status("PutBucketLifecycle", Some("MalformedXML")), 400);
        assert_eq!(operation("ListObjects").1, "REST.GET.BUCKET");
        assert_eq!(operation("PutBucketLogging").1, "REST.PUT.LOGGING_STATUS");
        assert_eq!(operation("GetBucketCors").1, "REST.GET.CORS");
        assert_eq!(
            operation("CopyObject"),
            ("PUT", "REST.COPY.OBJECT".to_owned())
        );
        assert_eq!(
            operation("UploadPartCopy"),
            ("PUT", "REST.COPY.PART".to_owned())
        );
    }

    #[test]
    fn keys_simple_and_partitioned() {
        let mut c = LoggingConfig {
            target_bucket: "t".into(),
            target_prefix: "logs/".into(),
            partitioned: None,
        };
        let now = 1_549_411_238_000; // 2019-02-06T00:00:38Z
        assert_eq!(
            object_key(&c, ("123", "us-east-1", "src"), 0, now, "ABC"),
            "logs/2019-02-06-00-00-38-ABC"
        );
        c.partitioned = Some("EventTime".into());
        assert_eq!(
            object_key(&c, ("123", "us-east-1", "src"), 0, now, "ABC"),
            "logs/123/us-east-1/src/1970/01/01/2019-02-06-00-00-38-ABC"
        );
    }

    #[test]
    fn logging_status_round_trips() {
        let doc = br#"<BucketLoggingStatus xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LoggingEnabled><TargetBucket>t</TargetBucket><TargetPrefix>p/</TargetPrefix><TargetObjectKeyFormat><PartitionedPrefix><PartitionDateSource>DeliveryTime</PartitionDateSource></PartitionedPrefix></TargetObjectKeyFormat></LoggingEnabled></BucketLoggingStatus>"#;
        let c = parse_status(doc).unwrap().unwrap();
        assert_eq!(c.partitioned.as_deref(), Some("DeliveryTime"));
        assert_eq!(parse_status(&status_document(Some(&c))).unwrap(), Some(c));
        assert_eq!(parse_status(b"<BucketLoggingStatus/>").unwrap(), None);
        assert_eq!(parse_status(b"<Other/>").unwrap_err().code, "MalformedXML");
        let l = lifecycle_line("O", "b", 0, "S3.EXPIRE.OBJECT", "k", None, "R");
        assert!(
            l.starts_with("O b [01/Jan/1970:00:00:00 +0000] - AmazonS3 R S3.EXPIRE.OBJECT k - - -"),
            "{l}"
        );
    }
}
