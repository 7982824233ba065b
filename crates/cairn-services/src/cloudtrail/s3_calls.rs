//! CloudTrail's requests to S3, as CloudTrail sends them in AWS: to the bucket's virtual host
//! (`<bucket>.s3.<region>.amazonaws.com`, the `Host` AWS records), made by the AWSService
//! `cloudtrail.amazonaws.com` for a trail (`aws:SourceArn`). They go through S3's own API
//! and the pipeline ([`crate::pipeline::internal`]), never into S3's code.

use bytes::Bytes;
use cairn_store::trails::Trail;

use crate::pipeline::Durability;
use crate::pipeline::internal::{Internal, WireCall};

/// The service principal CloudTrail acts as.
pub const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";

/// The canned ACL CloudTrail writes with, which the documented bucket policy requires.
pub const OWNER_FULL_CONTROL: &str = "bucket-owner-full-control";

/// CloudTrail working for `trail`, in the account and region of the bucket it calls.
pub fn cloudtrail_for(trail: &Trail, account: &str, region: &str, d: Durability) -> Internal {
    cloudtrail_as(&trail.arn, account, region, d)
}

/// CloudTrail working for the resource `source_arn` (a trail, an event data store), in the
/// account and region of the bucket it calls: `aws:SourceArn` is that resource.
pub fn cloudtrail_as(source_arn: &str, account: &str, region: &str, d: Durability) -> Internal {
    let mut i = Internal::service(CLOUDTRAIL, account, region, Some(source_arn), d);
    i.cause = source_arn.to_owned();
    i
}

/// `GET /?acl` on a bucket.
pub fn get_bucket_acl(bucket: &str, region: &str) -> WireCall {
    WireCall {
        method: http::Method::GET,
        path: "/".to_owned(),
        query: Some("acl".to_owned()),
        headers: vec![("host".to_owned(), host(bucket, region))],
        body: Bytes::new(),
    }
}

/// `PUT /<key>` of an object, with its headers (`host`, `x-amz-acl` and `Content-MD5` are
/// added: S3 takes no write into an Object Lock bucket without a digest, and CloudTrail
/// delivers into such buckets).
pub fn put_object(
    bucket: &str,
    region: &str,
    key: &str,
    mut headers: Vec<(String, String)>,
    body: Bytes,
) -> WireCall {
    headers.push(("host".to_owned(), host(bucket, region)));
    headers.push(("x-amz-acl".to_owned(), OWNER_FULL_CONTROL.to_owned()));
    headers.push(("content-length".to_owned(), body.len().to_string()));
    headers.push(("content-md5".to_owned(), content_md5(&body)));
    WireCall {
        method: http::Method::PUT,
        path: format!(
            "/{}",
            cairn_wire::sigv4::uri_encode(key).replace("%2F", "/")
        ),
        query: None,
        headers,
        body,
    }
}

/// A body's `Content-MD5`: the base64 of its MD5.
fn content_md5(body: &[u8]) -> String {
    use base64::Engine;
    use md5::Digest;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(body))
}

fn host(bucket: &str, region: &str) -> String {
    format!("{bucket}.s3.{region}.amazonaws.com")
}

/// `GET /?list-type=2` (ListObjectsV2) of the keys under `prefix`, one page.
pub fn list_objects(bucket: &str, region: &str, prefix: &str, token: Option<&str>) -> WireCall {
    let enc = cairn_wire::sigv4::uri_encode;
    let mut query = format!("list-type=2&prefix={}", enc(prefix));
    if let Some(t) = token {
        query.push_str(&format!("&continuation-token={}", enc(t)));
    }
    WireCall {
        method: http::Method::GET,
        path: "/".to_owned(),
        query: Some(query),
        headers: vec![("host".to_owned(), host(bucket, region))],
        body: Bytes::new(),
    }
}

/// `GET /<key>` of an object.
pub fn get_object(bucket: &str, region: &str, key: &str) -> WireCall {
    WireCall {
        method: http::Method::GET,
        path: format!(
            "/{}",
            cairn_wire::sigv4::uri_encode(key).replace("%2F", "/")
        ),
        query: None,
        headers: vec![("host".to_owned(), host(bucket, region))],
        body: Bytes::new(),
    }
}
