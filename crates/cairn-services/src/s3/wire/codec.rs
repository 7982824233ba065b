//! S3's REST-XML codec: the operation a request is follows from its method, whether it
//! names a bucket and key (path-style or virtual-host), and its sub-resource; the payload may
//! be aws-chunked (its chunk signatures checked); answers are S3's headers and XML.

use std::collections::BTreeMap;

use bytes::Bytes;
use cairn_wire::{AwsError, Protocol, chunked};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use percent_encoding::percent_decode_str;

use super::{MAX_KEY_BYTES, S3Request, S3Response};
use crate::edge::error_response;
use crate::pipeline::codec::{Answer, Codec, WireRequest};
use crate::pipeline::operation::{Operation, find};
use crate::recorder::CallContext;
use crate::s3::address::{self, Address};
use crate::s3::{handlers, record};

pub struct S3Codec;

/// Where a request is addressed, as routing found it.
pub struct Routed {
    op: &'static str,
    addr: Address,
    host: String,
    query: BTreeMap<String, String>,
}

impl Codec for S3Codec {
    type Routed = Routed;
    type Input = S3Request;
    type Output = S3Response;

    fn protocol(&self) -> Protocol {
        Protocol::RestXml
    }

    fn route(
        &self,
        ops: &'static [Operation],
        req: &WireRequest,
        _body: &Bytes,
    ) -> Result<(&'static Operation, Routed), AwsError> {
        let host = req.header("host").unwrap_or("").to_owned();
        let query = parse_query(req.raw_query.as_deref());
        // S3 Control's account-level settings name no bucket or key (their host name starts
        // with the account id, which is no bucket either).
        let (addr, name) = match control_operation(&req.method, &req.path, &req.headers)? {
            Some(name) => (
                Address {
                    bucket: None,
                    key: None,
                    virtual_host: false,
                },
                name,
            ),
            None => {
                let addr = address::resolve(&host, &req.path);
                let name = operation(&req.method, &addr, &query, &req.headers)?;
                (addr, name)
            }
        };
        if addr.key.as_ref().is_some_and(|k| k.len() > MAX_KEY_BYTES) {
            return Err(AwsError::client("KeyTooLongError", "Your key is too long"));
        }
        let op = find(ops, name)
            .ok_or_else(|| AwsError::internal(format!("{name} is missing from S3's table")))?;

        Ok((
            op,
            Routed {
                op: op.name,
                addr,
                host,
                query,
            },
        ))
    }

    /// Hashing and decoding a large body is CPU work: it runs here, off the threads serving
    /// sockets. A payload that does not check out fails the call after it is recorded.
    fn parse(
        &self,
        routed: Routed,
        req: &WireRequest,
        body: Bytes,
        ctx: &CallContext,
    ) -> Result<S3Request, AwsError> {
        let mut out = S3Request {
            op: routed.op,
            method: req.method.clone(),
            addr: routed.addr,
            host: routed.host,
            query: routed.query,
            headers: req.headers.clone(),
            payload: Bytes::new(),
            checksums: BTreeMap::new(),
            bad_payload: None,
            bytes_in: body.len(),
            account: ctx.recipient_account.clone(),
            region: ctx.region.clone(),
            caller_arn: ctx.principal.arn(),
            stored: Default::default(),
            signature_version: req.auth.signature_version,
            auth_method: req.auth.method.as_str(),
            form: None,
        };
        if out.op == "PostObject" {
            // The object, its key and headers are fields of the form, not of the request.
            if let Err(e) = super::post::take_form(&mut out, &body) {
                out.bad_payload = Some(e);
            }
            return Ok(out);
        }
        match decode_payload(&req.headers, &body, req.auth.streaming.as_ref()) {
            Ok((payload, checksums)) => {
                out.payload = payload;
                out.checksums = checksums;
            }
            Err(e) => out.bad_payload = Some(e),
        }
        Ok(out)
    }

    fn encode(
        &self,
        _op: &'static Operation,
        out: S3Response,
        answer: &Answer,
    ) -> Response<Full<Bytes>> {
        build_response(out, &answer.request_id, answer.head)
    }

    fn error(&self, e: &AwsError, answer: &Answer) -> Response<Full<Bytes>> {
        s3_error(e, &answer.request_id, answer.head)
    }

    /// A request described as JSON ([`super::internal`]).
    fn input_of_json(
        &self,
        op: &'static Operation,
        ctx: &CallContext,
        input: serde_json::Value,
    ) -> Option<S3Request> {
        super::internal::request_of_json(op, ctx, input)
    }

    fn json_of_output(&self, output: S3Response) -> Option<serde_json::Value> {
        Some(super::internal::json_of_response(output))
    }
}

fn parse_query(raw: Option<&str>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for p in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        let d = |s: &str| {
            percent_decode_str(&s.replace('+', "%20"))
                .decode_utf8_lossy()
                .into_owned()
        };
        out.insert(d(k), d(v));
    }
    out
}

fn not_implemented(what: &str) -> AwsError {
    AwsError::new(
        501,
        "NotImplemented",
        format!("cairn's S3 does not implement {what} yet."),
    )
}

/// The S3 Control operation a request is, if it is one: S3 Control's paths are versioned
/// (`/v20180820/…`) and its requests name the account in `x-amz-account-id`.
fn control_operation(
    method: &http::Method,
    path: &str,
    h: &http::HeaderMap,
) -> Result<Option<&'static str>, AwsError> {
    if path != CONTROL_PUBLIC_ACCESS_BLOCK || !h.contains_key("x-amz-account-id") {
        return Ok(None);
    }
    Ok(Some(match method.as_str() {
        "PUT" => "PutAccountPublicAccessBlock",
        "GET" => "GetAccountPublicAccessBlock",
        "DELETE" => "DeleteAccountPublicAccessBlock",
        _ => {
            return Err(AwsError::new(
                405,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            ));
        }
    }))
}

/// The operation (CloudTrail eventName) a request is.
pub(super) fn operation(
    method: &http::Method,
    addr: &Address,
    q: &BTreeMap<String, String>,
    h: &http::HeaderMap,
) -> Result<&'static str, AwsError> {
    let has = |k: &str| q.contains_key(k);
    let op = match (addr.bucket.is_some(), addr.key.is_some(), method.as_str()) {
        (false, _, "GET") => "ListBuckets",
        (false, _, _) => {
            return Err(AwsError::new(
                405,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            ));
        }
        (true, false, "PUT") if has("publicAccessBlock") => "PutPublicAccessBlock",
        (true, false, "GET") if has("publicAccessBlock") => "GetPublicAccessBlock",
        (true, false, "DELETE") if has("publicAccessBlock") => "DeletePublicAccessBlock",
        (true, false, "GET") if has("policyStatus") => "GetBucketPolicyStatus",
        (true, false, "PUT") if has("cors") => "PutBucketCors",
        (true, false, "GET") if has("cors") => "GetBucketCors",
        (true, false, "DELETE") if has("cors") => "DeleteBucketCors",
        (true, false, "PUT") if has("ownershipControls") => "PutBucketOwnershipControls",
        (true, false, "GET") if has("ownershipControls") => "GetBucketOwnershipControls",
        (true, false, "DELETE") if has("ownershipControls") => "DeleteBucketOwnershipControls",
        (true, false, "PUT") if has("acl") => "PutBucketAcl",
        (true, false, "GET") if has("acl") => "GetBucketAcl",
        (true, false, "PUT") if has("policy") => "PutBucketPolicy",
        (true, false, "PUT") if has("versioning") => "PutBucketVersioning",
        (true, false, "PUT") if has("encryption") => "PutBucketEncryption",
        (true, false, "GET") if has("location") => "GetBucketLocation",
        (true, false, "GET") if has("policy") => "GetBucketPolicy",
        (true, false, "GET") if has("versioning") => "GetBucketVersioning",
        (true, false, "GET") if has("encryption") => "GetBucketEncryption",
        // Recorded as CloudTrail names them, `…BucketObjectLockConfiguration` (operations.rs).
        (true, false, "PUT") if has("object-lock") => "PutObjectLockConfiguration",
        (true, false, "GET") if has("object-lock") => "GetObjectLockConfiguration",
        (true, false, "DELETE") if has("policy") => "DeleteBucketPolicy",
        (true, false, "DELETE") if has("encryption") => "DeleteBucketEncryption",
        (true, false, "PUT") if has("tagging") => "PutBucketTagging",
        (true, false, "GET") if has("tagging") => "GetBucketTagging",
        (true, false, "DELETE") if has("tagging") => "DeleteBucketTagging",
        (true, false, "PUT") if has("lifecycle") => "PutBucketLifecycle",
        (true, false, "GET") if has("lifecycle") => "GetBucketLifecycle",
        (true, false, "DELETE") if has("lifecycle") => "DeleteBucketLifecycle",
        (true, false, "PUT") if has("logging") => "PutBucketLogging",
        (true, false, "GET") if has("logging") => "GetBucketLogging",
        (true, false, "POST") if has("delete") => "DeleteObjects",
        (true, false, "POST")
            if cairn_wire::post_form::is_form(
                h.get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok()),
            ) =>
        {
            "PostObject"
        }
        (true, false, "GET") if has("uploads") => "ListMultipartUploads",
        (true, false, "GET") if has("versions") => "ListObjectVersions",
        (true, false, _) if SUBRESOURCES.iter().any(|s| has(s)) => {
            let s = SUBRESOURCES.iter().find(|s| has(s)).copied().unwrap_or("");
            return Err(not_implemented(&format!("the bucket sub-resource ?{s}")));
        }
        (true, false, "PUT") => "CreateBucket",
        (true, false, "GET") => "ListObjects",
        (true, false, "DELETE") => "DeleteBucket",
        (true, false, "HEAD") => "HeadBucket",
        (true, true, "PUT") if has("acl") => "PutObjectAcl",
        (true, true, "GET") if has("acl") => "GetObjectAcl",
        (true, true, "PUT") if has("partNumber") && has("uploadId") => {
            if h.contains_key("x-amz-copy-source") {
                "UploadPartCopy"
            } else {
                "UploadPart"
            }
        }
        (true, true, "PUT") if has("tagging") => "PutObjectTagging",
        (true, true, "GET") if has("tagging") => "GetObjectTagging",
        (true, true, "DELETE") if has("tagging") => "DeleteObjectTagging",
        (true, true, "PUT") if has("retention") => "PutObjectRetention",
        (true, true, "GET") if has("retention") => "GetObjectRetention",
        (true, true, "PUT") if has("legal-hold") => "PutObjectLegalHold",
        (true, true, "GET") if has("legal-hold") => "GetObjectLegalHold",
        (true, true, "PUT") if h.contains_key("x-amz-copy-source") => "CopyObject",
        (true, true, "GET") if has("attributes") => "GetObjectAttributes",
        (true, true, _) if ["torrent", "restore", "select"].iter().any(|s| has(s)) => {
            return Err(not_implemented("this object sub-resource"));
        }
        (true, true, "PUT") => "PutObject",
        (true, true, "GET") if has("uploadId") => "ListParts",
        (true, true, "GET") => "GetObject",
        (true, true, "HEAD") => "HeadObject",
        (true, true, "DELETE") if has("uploadId") => "AbortMultipartUpload",
        (true, true, "DELETE") => "DeleteObject",
        (true, true, "POST") if has("uploads") => "CreateMultipartUpload",
        (true, true, "POST") if has("uploadId") => "CompleteMultipartUpload",
        _ => {
            return Err(AwsError::new(
                405,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            ));
        }
    };
    Ok(op)
}

/// The path of an account's public access block in S3 Control's API.
const CONTROL_PUBLIC_ACCESS_BLOCK: &str = "/v20180820/configuration/publicAccessBlock";

/// Whether an operation is S3 Control's (an account's, not a bucket's).
pub(in crate::s3) fn is_control(op: &str) -> bool {
    op.ends_with("AccountPublicAccessBlock")
}

/// Bucket sub-resources cairn does not serve yet.
const SUBRESOURCES: &[&str] = &[
    "notification",
    "replication",
    "website",
    "accelerate",
    "requestPayment",
    "analytics",
    "metrics",
    "inventory",
    "intelligent-tiering",
];

pub(in crate::s3) fn build_response(
    r: S3Response,
    request_id: &str,
    head: bool,
) -> Response<Full<Bytes>> {
    let len = r.body.len();
    let mut resp = Response::new(Full::new(if head {
        Bytes::new()
    } else {
        Bytes::from(r.body)
    }));
    *resp.status_mut() = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
    let h = resp.headers_mut();
    for (k, v) in r.headers {
        if let (Ok(k), Ok(v)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            h.append(k, v);
        }
    }
    if head
        && !h.contains_key(http::header::CONTENT_LENGTH)
        && let Ok(v) = HeaderValue::from_str(&len.to_string())
    {
        h.insert(http::header::CONTENT_LENGTH, v);
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amz-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&record::id2(request_id)) {
        h.insert("x-amz-id-2", v);
    }
    resp
}

pub(in crate::s3) fn s3_error(e: &AwsError, request_id: &str, head: bool) -> Response<Full<Bytes>> {
    let mut resp = error_response(e, Protocol::RestXml, request_id);
    if head {
        *resp.body_mut() = Full::new(Bytes::new());
    }
    if let Ok(v) = HeaderValue::from_str(&record::id2(request_id)) {
        resp.headers_mut().insert("x-amz-id-2", v);
    }
    resp
}

/// Decodes the payload (aws-chunked or plain) and checks it against what the client declared,
/// chunk signatures included for signed streams.
fn decode_payload(
    headers: &http::HeaderMap,
    body: &Bytes,
    seed: Option<&cairn_wire::sigv4::StreamingSeed>,
) -> Result<(Bytes, BTreeMap<String, String>), AwsError> {
    let sha = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let encoding = headers
        .get(http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // A declared hash covers the bytes sent, whatever their encoding.
    if sha.len() == 64
        && sha.bytes().all(|b| b.is_ascii_hexdigit())
        && cairn_wire::sigv4::sha256_hex(body) != sha.to_ascii_lowercase()
    {
        return Err(AwsError::client(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        ));
    }
    let mut checksums = BTreeMap::new();
    let payload = if sha.starts_with("STREAMING-")
        || encoding.split(',').any(|e| e.trim() == "aws-chunked")
    {
        let d =
            chunked::decode(body).map_err(|e| AwsError::client("IncompleteBody", e.to_string()))?;
        if let Some(seed) = seed {
            seed.verify(&d)
                .map_err(|e| e.to_aws_error(Protocol::RestXml, None))?;
            if sha == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" {
                seed.verify_trailer(&d)
                    .map_err(|e| e.to_aws_error(Protocol::RestXml, None))?;
            }
        }
        if let Some(declared) = headers
            .get("x-amz-decoded-content-length")
            .and_then(|v| v.to_str().ok())
            && declared.parse::<usize>().ok() != Some(d.payload.len())
        {
            return Err(AwsError::client(
                "IncompleteBody",
                "The request body terminated unexpectedly",
            ));
        }
        checksums.extend(
            d.trailers
                .into_iter()
                .filter(|(k, _)| k.starts_with("x-amz-checksum-")),
        );
        Bytes::from(d.payload)
    } else {
        body.clone()
    };
    for (k, v) in headers {
        if k.as_str().starts_with("x-amz-checksum-")
            && k.as_str() != "x-amz-checksum-type"
            && let Ok(v) = v.to_str()
        {
            checksums.insert(k.as_str().to_owned(), v.to_owned());
        }
    }
    handlers::verify_checksums(headers, &checksums, &payload)?;
    Ok((payload, checksums))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Service;

    /// Every operation routing can name is in S3's table, and every table entry is reachable.
    #[test]
    fn routing_names_exactly_the_table() {
        let cases: &[(&str, &str, &str, bool)] = &[
            ("GET", "/", "", false),
            ("PUT", "/b", "", false),
            ("DELETE", "/b", "", false),
            ("HEAD", "/b", "", false),
            ("GET", "/b", "", false),
            ("GET", "/b", "location", false),
            ("GET", "/b", "acl", false),
            ("PUT", "/b", "acl", false),
            ("PUT", "/b", "policy", false),
            ("GET", "/b", "policy", false),
            ("DELETE", "/b", "policy", false),
            ("PUT", "/b", "versioning", false),
            ("GET", "/b", "versioning", false),
            ("PUT", "/b", "encryption", false),
            ("GET", "/b", "encryption", false),
            ("DELETE", "/b", "encryption", false),
            ("POST", "/b", "delete", false),
            ("GET", "/b", "versions", false),
            ("PUT", "/b", "tagging", false),
            ("GET", "/b", "tagging", false),
            ("DELETE", "/b", "tagging", false),
            ("PUT", "/b", "lifecycle", false),
            ("GET", "/b", "lifecycle", false),
            ("DELETE", "/b", "lifecycle", false),
            ("PUT", "/b", "logging", false),
            ("GET", "/b", "logging", false),
            ("PUT", "/b/k", "tagging", false),
            ("GET", "/b/k", "tagging", false),
            ("DELETE", "/b/k", "tagging", false),
            ("GET", "/b/k", "acl", false),
            ("PUT", "/b/k", "acl", false),
            ("PUT", "/b/k", "", false),
            ("PUT", "/b/k", "", true),
            ("GET", "/b/k", "", false),
            ("HEAD", "/b/k", "", false),
            ("DELETE", "/b/k", "", false),
            ("POST", "/b/k", "uploads", false),
            ("PUT", "/b/k", "partNumber=1&uploadId=u", false),
            ("PUT", "/b/k", "partNumber=1&uploadId=u", true),
            ("POST", "/b/k", "uploadId=u", false),
            ("DELETE", "/b/k", "uploadId=u", false),
            ("GET", "/b/k", "uploadId=u", false),
            ("GET", "/b", "uploads", false),
            ("GET", "/b/k", "attributes", false),
            ("POST", "/b", "", true),
            ("PUT", "/b", "publicAccessBlock", false),
            ("GET", "/b", "publicAccessBlock", false),
            ("DELETE", "/b", "publicAccessBlock", false),
            ("GET", "/b", "policyStatus", false),
            ("PUT", "/b", "cors", false),
            ("GET", "/b", "cors", false),
            ("DELETE", "/b", "cors", false),
            ("PUT", "/b", "ownershipControls", false),
            ("GET", "/b", "ownershipControls", false),
            ("DELETE", "/b", "ownershipControls", false),
            ("PUT", "/b", "object-lock", false),
            ("GET", "/b", "object-lock", false),
            ("PUT", "/b/k", "retention", false),
            ("GET", "/b/k", "retention", false),
            ("PUT", "/b/k", "legal-hold", false),
            ("GET", "/b/k", "legal-hold", false),
        ];
        let table: std::collections::BTreeSet<_> =
            crate::s3::S3.operations().iter().map(|o| o.name).collect();
        let mut routed = std::collections::BTreeSet::new();
        for (method, path, query, copy) in cases {
            let addr = address::resolve("localhost:4566", path);
            let q = parse_query(Some(query));
            let mut h = http::HeaderMap::new();
            if *copy {
                h.insert("x-amz-copy-source", HeaderValue::from_static("/a/b"));
                h.insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("multipart/form-data; boundary=x"),
                );
            }
            let m = http::Method::from_bytes(method.as_bytes()).unwrap_or_default();
            let name = operation(&m, &addr, &q, &h).unwrap_or("(refused)");
            assert!(
                table.contains(name),
                "{method} {path}?{query} routes to {name}"
            );
            routed.insert(name);
        }
        // S3 Control's account-level settings, by path and account header.
        let mut control = http::HeaderMap::new();
        control.insert("x-amz-account-id", HeaderValue::from_static("111122223333"));
        for method in [http::Method::PUT, http::Method::GET, http::Method::DELETE] {
            let name = control_operation(&method, CONTROL_PUBLIC_ACCESS_BLOCK, &control)
                .ok()
                .flatten()
                .unwrap_or("(refused)");
            assert!(table.contains(name), "S3 Control {method} routes to {name}");
            routed.insert(name);
        }
        assert_eq!(
            control_operation(
                &http::Method::GET,
                CONTROL_PUBLIC_ACCESS_BLOCK,
                &http::HeaderMap::new()
            )
            .ok()
            .flatten(),
            None
        );
        assert_eq!(routed, table);
    }
}
