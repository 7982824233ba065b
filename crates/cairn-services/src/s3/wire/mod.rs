//! S3's wire shapes: its own REST-XML codec (`codec.rs`: routing by method, bucket, key and
//! sub-resource; aws-chunked payloads), requests described as JSON for internal calls
//! (`internal.rs`), its XML documents (`xml.rs`), and the decoded request and the answer every
//! handler works with ([`S3Request`], [`S3Response`]).

pub(super) mod codec;
pub(super) mod internal;
pub(super) mod post;
pub(super) mod rfc2047;
pub mod xml;

use std::collections::BTreeMap;

use bytes::Bytes;
use cairn_wire::AwsError;
use rand::Rng;

use crate::s3::address::Address;

/// An S3-style request id: 16 upper-case letters and digits.
pub(super) fn new_request_id() -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| char::from(A[rng.gen_range(0..A.len())]))
        .collect()
}

/// S3's limit on an object key, in UTF-8 bytes.
pub(super) const MAX_KEY_BYTES: usize = 1024;

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
    /// A browser upload's form fields (PostObject), which its policy's conditions test.
    pub form: Option<cairn_wire::post_form::PostForm>,
    /// The request's bucket as stored, once read ([`S3Request::stored_bucket`]).
    pub stored: std::sync::OnceLock<Option<cairn_store::objects::Bucket>>,
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

    /// The request's bucket as stored when the call began, read once: authorization, the
    /// write's ACL, lock and encryption defaults and the CORS headers all consult it. Steps
    /// that change the bucket read it afresh from the store.
    pub fn stored_bucket(
        &self,
        objects: &dyn cairn_store::objects::ObjectStore,
    ) -> Result<Option<&cairn_store::objects::Bucket>, cairn_store::objects::ObjectsError> {
        if self.stored.get().is_none() {
            let b = objects.bucket(self.bucket())?;
            let _ = self.stored.set(b);
        }
        Ok(self.stored.get().and_then(Option::as_ref))
    }
}
