//! How S3 calls are recorded: AWS's `requestParameters`, `resources` and `additionalEventData`
//! shapes, management events for buckets, data events for objects and listings.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cairn_model::RecordResource;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{S3Request, S3Response};
use crate::pipeline::{Details, Recording};
use crate::recorder::{AnswerFacts, CallContext};

use super::S3;

/// How a call is recorded; a refused call keeps its parameters, as AWS records it.
pub(super) fn record(ctx: &CallContext, call: Recording<'_, S3>) -> Details {
    match call.input {
        Some(req) => details(req, call.result.ok(), &ctx.request_id),
        None => Details::default(),
    }
}

/// The `x-amz-id-2` of a request: an opaque host id derived from its request id.
pub fn id2(request_id: &str) -> String {
    let a = Sha256::digest(request_id.as_bytes());
    let b = Sha256::digest(a);
    let mut both = a.to_vec();
    both.extend_from_slice(&b[..24]);
    STANDARD.encode(both)
}

/// Query parameters that authenticate rather than parameterise a request.
fn is_auth_param(k: &str) -> bool {
    k.starts_with("X-Amz-") || matches!(k, "AWSAccessKeyId" | "Signature" | "Expires" | "x-id")
}

/// How an S3 call is recorded, whatever its outcome.
fn details(req: &S3Request, resp: Option<&S3Response>, request_id: &str) -> Details {
    let bytes_out = resp.map_or(0, |r| r.body.len());
    let op = req.op;
    let mut params = Map::new();
    if let Some(b) = &req.addr.bucket {
        params.insert("bucketName".into(), b.clone().into());
    }
    params.insert("Host".into(), req.host.clone().into());
    if let Some(k) = &req.addr.key {
        params.insert("key".into(), k.clone().into());
    }
    for (k, v) in &req.query {
        if !is_auth_param(k) {
            params.insert(k.clone(), v.clone().into());
        }
    }
    // The headers that parameterise a write, as S3 records them beside the key.
    if matches!(
        op,
        "PutObject" | "PostObject" | "CopyObject" | "CreateMultipartUpload"
    ) {
        for h in [
            "x-amz-acl",
            "x-amz-server-side-encryption",
            "x-amz-server-side-encryption-aws-kms-key-id",
        ] {
            if let Some(v) = req.header(h) {
                params.insert(h.to_owned(), v.into());
            }
        }
    }
    if op == "PutBucketPolicy"
        && let Ok(p) = serde_json::from_slice::<Value>(&req.payload)
    {
        params.insert("bucketPolicy".into(), p);
    } else if records_document(op)
        && let Some(doc) = super::xml::parse(&req.payload)
    {
        // A configuration put as XML is recorded as its document, namespace included.
        // An empty document (logging turned off) is recorded as its namespace alone.
        let mut v = match doc.to_json() {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let ns = if super::wire::codec::is_control(op) {
            CONTROL_NS
        } else {
            super::xml::NS
        };
        v.insert("xmlns".into(), ns.into());
        params.insert(doc.name.clone(), Value::Object(v));
    }
    // A copy's source (and the range of it a part copies), as the header named them.
    if matches!(op, "CopyObject" | "UploadPartCopy") {
        for h in ["x-amz-copy-source", "x-amz-copy-source-range"] {
            if let Some(v) = req.header(h) {
                params.insert(h.to_owned(), v.into());
            }
        }
    }
    let mut response = Map::new();
    if let Some(r) = resp {
        for (k, v) in &r.headers {
            if matches!(
                k.as_str(),
                "x-amz-server-side-encryption"
                    | "x-amz-version-id"
                    | "x-amz-server-side-encryption-aws-kms-key-id"
            ) {
                response.insert(k.clone(), v.clone().into());
            }
        }
    }
    let bucket_arn = req
        .addr
        .bucket
        .as_ref()
        .map(|b| format!("arn:aws:s3:::{b}"));
    let mut resources = Vec::new();
    if let Some(barn) = &bucket_arn {
        match (op, &req.addr.key) {
            (
                "ListObjects" | "ListObjectVersions" | "ListMultipartUploads" | "DeleteObjects",
                _,
            ) => resources.push(RecordResource {
                account_id: None,
                resource_type: "AWS::S3::Object".into(),
                arn: None,
                arn_prefix: Some(format!("{barn}/")),
            }),
            (_, Some(k)) => resources.push(RecordResource::new(
                "AWS::S3::Object",
                format!("{barn}/{k}"),
                None,
            )),
            _ => {}
        }
        resources.push(RecordResource::new(
            "AWS::S3::Bucket",
            barn.clone(),
            Some(req.account.clone()),
        ));
    }
    Details {
        request_parameters: Some(Value::Object(params)),
        response_elements: (!response.is_empty()).then_some(Value::Object(response)),
        additional_event_data: Some(additional(req, request_id, bytes_out)),
        resources,
        shared_with: None,
        recorded_error: None,
        answer: answer(req, resp),
        unauthenticated: None,
    }
}

/// What the server access log needs of an answer that a record does not say: its status (206
/// for a range, the 204s), the bytes sent, and the object's whole size.
fn answer(req: &S3Request, resp: Option<&S3Response>) -> AnswerFacts {
    let Some(r) = resp else {
        return AnswerFacts::default();
    };
    let header = |name: &str| {
        r.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let sent = u64::try_from(r.body.len()).ok();
    let object_size = match req.op {
        // `Content-Range: bytes 0-4/100`: the object is 100 bytes.
        "GetObject" | "HeadObject" => header("content-range")
            .and_then(|c| c.rsplit_once('/'))
            .and_then(|(_, total)| total.parse().ok())
            .or_else(|| header("content-length").and_then(|l| l.parse().ok()))
            .or(sent),
        "PutObject" | "UploadPart" => u64::try_from(req.bytes_in).ok(),
        _ => None,
    };
    AnswerFacts {
        status: Some(r.status),
        bytes_sent: sent,
        object_size,
    }
}

/// `additionalEventData`: an anonymous request proved nothing, and S3 writes neither a
/// signature version nor an authentication method for it.
fn additional(req: &S3Request, request_id: &str, bytes_out: usize) -> Value {
    let mut m = Map::new();
    if !req.signature_version.is_empty() {
        m.insert("SignatureVersion".into(), req.signature_version.into());
    }
    m.insert("bytesTransferredIn".into(), req.bytes_in.into());
    if !req.auth_method.is_empty() {
        m.insert("AuthenticationMethod".into(), req.auth_method.into());
    }
    m.insert("x-amz-id-2".into(), id2(request_id).into());
    m.insert("bytesTransferredOut".into(), bytes_out.into());
    Value::Object(m)
}

const CONTROL_NS: &str = "http://awss3control.amazonaws.com/doc/2018-08-20/";

/// Operations whose XML request document CloudTrail records in `requestParameters`: the
/// configurations put on buckets and accounts (not object bodies, nor the documents S3
/// records otherwise).
fn records_document(op: &str) -> bool {
    op.starts_with("Put") && !matches!(op, "PutObject" | "PutBucketPolicy")
}
