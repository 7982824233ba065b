//! The embedded S3 front (REST-XML): buckets, objects, listings, multipart uploads, bucket
//! policy, versioning and default encryption, over path-style and virtual-host addressing.
//!
//! Bucket operations are recorded as management events; object operations (and listings) as
//! data events, which never appear in event history.

mod access;
mod acl;
pub mod address;
mod delivered;
mod ops;
pub mod policy;
mod record;
pub mod xml;

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use cairn_wire::{AwsError, Protocol, chunked};
use http::request::Parts;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use percent_encoding::percent_decode_str;
use rand::Rng;

use crate::app::App;
use crate::edge::Call;
use crate::edge::auth::Authenticated;
use crate::edge::error_response;
use crate::recorder::{self, CallContext};
use address::Address;
pub use delivered::DeliveryRecorder;

/// A bucket's default encryption: its algorithm and KMS key, if configured.
pub fn default_encryption(
    bucket: &cairn_store::objects::Bucket,
) -> Option<(String, Option<String>)> {
    let xml = bucket.encryption.as_deref()?;
    let n = xml::parse(xml.as_bytes())?;
    let d = n
        .child("Rule")
        .and_then(|r| r.child("ApplyServerSideEncryptionByDefault"))?;
    Some((
        d.text_of("SSEAlgorithm")?.to_owned(),
        d.text_of("KMSMasterKeyID").map(str::to_owned),
    ))
}

/// An S3-style request id: 16 upper-case letters and digits.
pub fn new_request_id() -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| char::from(A[rng.gen_range(0..A.len())]))
        .collect()
}

/// S3's limit on an object key, in UTF-8 bytes.
const MAX_KEY_BYTES: usize = 1024;

/// What an operation answers.
pub struct S3Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl S3Response {
    pub fn ok(body: Vec<u8>) -> S3Response {
        S3Response {
            status: 200,
            headers: vec![("content-type".into(), "application/xml".into())],
            body,
        }
    }
    pub fn empty(status: u16) -> S3Response {
        S3Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
    pub fn header(mut self, k: &str, v: impl Into<String>) -> S3Response {
        self.headers.push((k.to_owned(), v.into()));
        self
    }
}

/// One S3 request, decoded.
pub struct S3Request {
    pub op: &'static str,
    pub method: http::Method,
    pub addr: Address,
    pub host: String,
    pub query: BTreeMap<String, String>,
    pub headers: http::HeaderMap,
    pub payload: Bytes,
    /// Checksum headers, from the headers or the aws-chunked trailer.
    pub checksums: BTreeMap<String, String>,
    pub account: String,
    pub region: String,
    /// The caller's ARN, as key policies and AccessDenied messages name it.
    pub caller_arn: String,
}

impl S3Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn bucket(&self) -> &str {
        self.addr.bucket.as_deref().unwrap_or("")
    }
    pub fn key(&self) -> &str {
        self.addr.key.as_deref().unwrap_or("")
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

/// The operation (CloudTrail eventName) a request is.
fn operation(
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
        (true, false, "PUT") if has("acl") => "PutBucketAcl",
        (true, false, "GET") if has("acl") => "GetBucketAcl",
        (true, false, "PUT") if has("policy") => "PutBucketPolicy",
        (true, false, "PUT") if has("versioning") => "PutBucketVersioning",
        (true, false, "PUT") if has("encryption") => "PutBucketEncryption",
        (true, false, "GET") if has("location") => "GetBucketLocation",
        (true, false, "GET") if has("policy") => "GetBucketPolicy",
        (true, false, "GET") if has("versioning") => "GetBucketVersioning",
        (true, false, "GET") if has("encryption") => "GetBucketEncryption",
        (true, false, "DELETE") if has("policy") => "DeleteBucketPolicy",
        (true, false, "DELETE") if has("encryption") => "DeleteBucketEncryption",
        (true, false, "POST") if has("delete") => "DeleteObjects",
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
                return Err(not_implemented("UploadPartCopy"));
            }
            "UploadPart"
        }
        (true, true, "PUT") if h.contains_key("x-amz-copy-source") => "CopyObject",
        (true, true, _)
            if [
                "tagging",
                "retention",
                "legal-hold",
                "torrent",
                "restore",
                "select",
                "attributes",
            ]
            .iter()
            .any(|s| has(s)) =>
        {
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

/// Bucket sub-resources cairn does not serve yet.
const SUBRESOURCES: &[&str] = &[
    "cors",
    "lifecycle",
    "logging",
    "notification",
    "replication",
    "tagging",
    "website",
    "accelerate",
    "requestPayment",
    "object-lock",
    "publicAccessBlock",
    "ownershipControls",
    "analytics",
    "metrics",
    "inventory",
    "intelligent-tiering",
    "uploads",
    "versions",
];

fn build_response(r: S3Response, request_id: &str, head: bool) -> Response<Full<Bytes>> {
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

fn s3_error(e: &AwsError, request_id: &str, head: bool) -> Response<Full<Bytes>> {
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
    ops::verify_checksums(headers, &checksums, &payload)?;
    Ok((payload, checksums))
}

pub async fn serve(
    app: Arc<App>,
    call: Call,
    authed: &Authenticated,
    parts: &Parts,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let rid = call.request_id.clone();
    let head = parts.method == http::Method::HEAD;
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let addr = address::resolve(&host, parts.uri.path());
    let query = parse_query(parts.uri.query());
    let op = match operation(&parts.method, &addr, &query, &parts.headers) {
        Ok(op) => op,
        Err(e) => return s3_error(&e, &rid, head),
    };
    if addr.key.as_ref().is_some_and(|k| k.len() > MAX_KEY_BYTES) {
        let e = AwsError::client("KeyTooLongError", "Your key is too long");
        return s3_error(&e, &rid, head);
    }
    let Some(account) = call.principal.account().map(|a| a.to_string()) else {
        return s3_error(&AwsError::internal("caller has no account"), &rid, head);
    };
    if app.journal.failure().is_some() {
        return s3_error(&AwsError::audit_unavailable(), &rid, head);
    }
    let caller_arn = call.principal.arn();
    let ctx = CallContext {
        principal: call.principal,
        recipient_account: account.clone(),
        region: call.region.clone(),
        source_ip: call.source_ip,
        user_agent: call.user_agent,
        request_id: rid.clone(),
        tls: call.tls,
    };
    let bytes_in = body.len();
    let streaming = authed.streaming.clone();
    let req = S3Request {
        op,
        method: parts.method.clone(),
        addr,
        host,
        query,
        headers: parts.headers.clone(),
        payload: Bytes::new(),
        checksums: BTreeMap::new(),
        account,
        region: call.region,
        caller_arn,
    };
    let app2 = Arc::clone(&app);
    let ctx2 = ctx.clone();
    let worked = tokio::task::spawn_blocking(move || {
        let mut req = req;
        // Hashing a large body is CPU work: it belongs here, off the threads serving sockets.
        let result = match decode_payload(&req.headers, &body, streaming.as_ref()) {
            Ok((payload, checksums)) => {
                req.payload = payload;
                req.checksums = checksums;
                ops::run(&app2, &ctx2, &req)
            }
            Err(e) => Err(e),
        };
        (req, result)
    })
    .await;
    let Ok((req, result)) = worked else {
        return s3_error(
            &AwsError::internal("the operation failed unexpectedly"),
            &rid,
            head,
        );
    };
    let bytes_out = result.as_ref().map_or(0, |r| r.body.len());
    let facts = record::facts(
        &req,
        result.as_ref().ok(),
        bytes_in,
        bytes_out,
        authed,
        &rid,
    );
    let rec = recorder::build_record(&ctx, facts, result.as_ref().err(), app.clock.now_millis());
    if let Err(e) = recorder::commit(&app, &req.account, &rec).await {
        return s3_error(&e, &rid, head);
    }
    match result {
        Ok(r) => build_response(r, &rid, head),
        Err(e) => s3_error(&e, &rid, head),
    }
}
