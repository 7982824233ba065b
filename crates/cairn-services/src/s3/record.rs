//! How S3 calls are recorded: AWS's `requestParameters`, `resources` and `additionalEventData`
//! shapes, management events for buckets, data events for objects and listings.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cairn_model::RecordResource;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{S3Request, S3Response};
use crate::pipeline::{Details, Recording};
use crate::recorder::CallContext;

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

/// A request's XML document as S3 records it: `(root name, {"xmlns": …, child: text or
/// object, …})`, repeated children as a list.
fn xml_document(payload: &[u8]) -> Option<(String, Value)> {
    fn value(n: &super::xml::Node) -> Value {
        if n.children.is_empty() {
            return Value::String(n.text.clone());
        }
        let mut m = Map::new();
        for c in &n.children {
            let v = value(c);
            match m.get_mut(&c.name) {
                Some(Value::Array(a)) => a.push(v),
                Some(first) => *first = Value::Array(vec![first.take(), v]),
                None => {
                    m.insert(c.name.clone(), v);
                }
            }
        }
        Value::Object(m)
    }
    let n = super::xml::parse(payload)?;
    let mut doc = match value(&n) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    doc.insert("xmlns".into(), super::xml::NS.into());
    Some((n.name.clone(), Value::Object(doc)))
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
    if matches!(op, "PutObject" | "CopyObject" | "CreateMultipartUpload") {
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
    }
    // Configuration documents, recorded as S3 records a request's XML: under the root
    // element's name, with its namespace.
    if matches!(
        op,
        "PutBucketVersioning"
            | "PutObjectLockConfiguration"
            | "PutObjectRetention"
            | "PutObjectLegalHold"
    ) && let Some((root, doc)) = xml_document(&req.payload)
    {
        params.insert(root, doc);
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
            ("ListObjects" | "ListObjectVersions" | "DeleteObjects", _) => {
                resources.push(RecordResource {
                    account_id: None,
                    resource_type: "AWS::S3::Object".into(),
                    arn: None,
                    arn_prefix: Some(format!("{barn}/")),
                })
            }
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
        additional_event_data: Some(json!({
            "SignatureVersion": req.signature_version,
            "bytesTransferredIn": req.bytes_in,
            "AuthenticationMethod": req.auth_method,
            "x-amz-id-2": id2(request_id),
            "bytesTransferredOut": bytes_out,
        })),
        resources,
        shared_with: None,
        recorded_error: None,
        unauthenticated: None,
    }
}

#[cfg(test)]
mod tests {
    use super::xml_document;
    use serde_json::json;

    #[test]
    fn request_documents_are_recorded_under_their_root() {
        let (root, doc) = xml_document(b"<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>").unwrap();
        assert_eq!(root, "VersioningConfiguration");
        assert_eq!(
            doc,
            json!({"Status": "Enabled", "MfaDelete": "Enabled", "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"})
        );
        let (_, lock) = xml_document(b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>").unwrap();
        assert_eq!(lock["Rule"]["DefaultRetention"]["Days"], "1");
        let (_, many) = xml_document(b"<A><B>1</B><B>2</B><B>3</B></A>").unwrap();
        assert_eq!(many["B"], json!(["1", "2", "3"]));
        assert!(xml_document(b"not xml <").is_none());
    }
}
