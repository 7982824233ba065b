//! The embedded S3 front (REST-XML): buckets, objects, listings, multipart uploads, bucket
//! policy, versioning and default encryption, over path-style and virtual-host addressing.
//!
//! Bucket operations are recorded as management events; object operations (and listings) as
//! data events, which never appear in event history.

mod access;
mod acl;
/// Path-style and virtual-host addressing: wire-level, shared with the edge (`cairn-wire`).
pub use cairn_wire::s3_address as address;
mod codec;
mod internal;
mod ops;
pub mod policy;
mod record;
pub mod xml;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use bytes::Bytes;
use cairn_wire::AwsError;
use rand::Rng;

use crate::app::App;
use crate::pipeline::{Access, Check, Details, Operation, Recording, Service};
use crate::recorder::CallContext;
use address::Address;
pub use codec::S3Codec;

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
    /// Why the payload did not check out (the call fails, after it is recorded).
    pub bad_payload: Option<AwsError>,
    /// The body's length as sent (chunk framing included).
    pub bytes_in: usize,
    /// `SigV4` or `SigV2`, and `AuthHeader` or `QueryString`, for the record.
    pub signature_version: &'static str,
    pub auth_method: &'static str,
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

/// Every operation cairn's S3 serves, with the IAM actions it may need (ListObjectsV2 is
/// ListObjects, as CloudTrail names it). Requests for other operations are answered
/// `NotImplemented` when they are routed, before anything is recorded.
const OPERATIONS: [(&str, &[&str]); 29] = [
    ("ListBuckets", &["s3:ListAllMyBuckets"]),
    ("CreateBucket", &["s3:CreateBucket"]),
    ("DeleteBucket", &["s3:DeleteBucket"]),
    ("HeadBucket", &["s3:ListBucket"]),
    ("ListObjects", &["s3:ListBucket"]),
    ("GetBucketLocation", &["s3:GetBucketLocation"]),
    ("GetBucketAcl", &["s3:GetBucketAcl"]),
    ("PutBucketAcl", &["s3:PutBucketAcl"]),
    ("PutBucketPolicy", &["s3:PutBucketPolicy"]),
    ("GetBucketPolicy", &["s3:GetBucketPolicy"]),
    ("DeleteBucketPolicy", &["s3:DeleteBucketPolicy"]),
    ("PutBucketVersioning", &["s3:PutBucketVersioning"]),
    ("GetBucketVersioning", &["s3:GetBucketVersioning"]),
    ("PutBucketEncryption", &["s3:PutEncryptionConfiguration"]),
    ("GetBucketEncryption", &["s3:GetEncryptionConfiguration"]),
    ("DeleteBucketEncryption", &["s3:PutEncryptionConfiguration"]),
    (
        "GetObjectAcl",
        &["s3:GetObjectAcl", "s3:GetObjectVersionAcl"],
    ),
    (
        "PutObjectAcl",
        &["s3:PutObjectAcl", "s3:PutObjectVersionAcl"],
    ),
    ("PutObject", &["s3:PutObject"]),
    ("CopyObject", &["s3:PutObject", "s3:GetObject"]),
    ("GetObject", &["s3:GetObject", "s3:GetObjectVersion"]),
    ("HeadObject", &["s3:GetObject", "s3:GetObjectVersion"]),
    (
        "DeleteObject",
        &["s3:DeleteObject", "s3:DeleteObjectVersion"],
    ),
    // Judged key by key as each is deleted.
    ("DeleteObjects", &["s3:DeleteObject"]),
    ("CreateMultipartUpload", &["s3:PutObject"]),
    ("UploadPart", &["s3:PutObject"]),
    ("CompleteMultipartUpload", &["s3:PutObject"]),
    ("AbortMultipartUpload", &["s3:AbortMultipartUpload"]),
    ("ListParts", &["s3:ListMultipartUploadParts"]),
];

/// The embedded S3 service.
pub struct S3;

impl Service for S3 {
    type Codec = S3Codec;
    type Plan = ();

    fn signing_name(&self) -> &'static str {
        "s3"
    }

    fn event_source(&self) -> &'static str {
        "s3.amazonaws.com"
    }

    fn codec(&self) -> &S3Codec {
        &S3Codec
    }

    fn operations(&self) -> &'static [Operation] {
        static TABLE: OnceLock<Vec<Operation>> = OnceLock::new();
        TABLE.get_or_init(|| {
            OPERATIONS
                .iter()
                .map(|&(name, actions)| {
                    let op = Operation::named("s3", name, record::is_read_only(name), true)
                        .actions(actions)
                        .access(if name == "ListBuckets" {
                            Access::Identity
                        } else {
                            Access::BucketPolicy
                        });
                    if record::is_data(name) { op.data() } else { op }
                })
                .collect()
        })
    }

    /// S3 request ids have their own shape.
    fn new_request_id(&self) -> String {
        new_request_id()
    }

    fn resolve(
        &self,
        app: &App,
        ctx: &CallContext,
        _op: &'static Operation,
        req: &S3Request,
        _plan: &mut (),
    ) -> Result<Vec<Check>, AwsError> {
        if let Some(e) = &req.bad_payload {
            return Err(e.clone());
        }
        access::checks(app, ctx, req)
    }

    fn run(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        req: &S3Request,
        _plan: &mut (),
    ) -> Result<S3Response, AwsError> {
        ops::run(app, ctx, op, req)
    }

    /// S3 records a refused call with its parameters, as AWS does.
    fn record(
        &self,
        _app: &App,
        ctx: &CallContext,
        _op: &'static Operation,
        call: Recording<'_, Self>,
    ) -> Details {
        match call.input {
            Some(req) => record::details(req, call.result.ok(), &ctx.request_id),
            None => Details::default(),
        }
    }
}
