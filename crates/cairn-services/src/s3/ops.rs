//! The S3 operations, each from a decoded request to a response or an S3 error.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cairn_store::objects::{BucketConfig, ListQuery, NewObject, ObjectVersion, ObjectsError};
use cairn_wire::AwsError;
use sha2::{Digest, Sha256};

use super::xml::{Doc, encode_key, parse};
use super::{S3Request, S3Response};
use super::{access, acl};
use crate::app::App;
use crate::kms::Scope as KmsScope;
use crate::kms::envelope as kms_envelope;
use crate::policy::Requester;
use crate::recorder::CallContext;

type S3Result = Result<S3Response, AwsError>;

fn objects_error(e: ObjectsError, req: &S3Request) -> AwsError {
    let msg = e.to_string();
    match e {
        ObjectsError::NoSuchBucket => {
            AwsError::new(404, "NoSuchBucket", msg).with_extra("BucketName", req.bucket())
        }
        ObjectsError::BucketAlreadyExists => {
            AwsError::new(409, "BucketAlreadyExists", msg).with_extra("BucketName", req.bucket())
        }
        ObjectsError::BucketAlreadyOwnedByYou => AwsError::new(409, "BucketAlreadyOwnedByYou", msg)
            .with_extra("BucketName", req.bucket()),
        ObjectsError::BucketNotEmpty => {
            AwsError::new(409, "BucketNotEmpty", msg).with_extra("BucketName", req.bucket())
        }
        ObjectsError::NoSuchKey => {
            AwsError::new(404, "NoSuchKey", msg).with_extra("Key", req.key())
        }
        ObjectsError::NoSuchVersion => {
            AwsError::new(404, "NoSuchVersion", msg).with_extra("Key", req.key())
        }
        ObjectsError::NoSuchUpload => AwsError::new(404, "NoSuchUpload", msg),
        ObjectsError::InvalidPart => AwsError::client("InvalidPart", msg),
        ObjectsError::InvalidPartOrder => AwsError::client("InvalidPartOrder", msg),
        ObjectsError::EntityTooSmall => AwsError::client("EntityTooSmall", msg),
        ObjectsError::Sqlite(_) | ObjectsError::Io { .. } => {
            tracing::error!(error = %msg, "S3 store failure");
            AwsError::new(
                500,
                "InternalError",
                "We encountered an internal error. Please try again.",
            )
        }
    }
}

fn malformed_xml() -> AwsError {
    AwsError::client(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

fn iso(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn http_date(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(&f).unwrap_or_default()
}

/// Checks `Content-MD5` and `x-amz-checksum-*` against the payload.
pub fn verify_checksums(
    headers: &http::HeaderMap,
    checksums: &BTreeMap<String, String>,
    payload: &[u8],
) -> Result<(), AwsError> {
    if let Some(md5) = headers.get("content-md5").and_then(|v| v.to_str().ok()) {
        use md5::Digest as _;
        if STANDARD.encode(md5::Md5::digest(payload)) != md5 {
            return Err(AwsError::client(
                "BadDigest",
                "The Content-MD5 you specified did not match what we received.",
            ));
        }
    }
    for (name, want) in checksums {
        let got = match name.as_str() {
            "x-amz-checksum-crc32" => STANDARD.encode(crc32fast::hash(payload).to_be_bytes()),
            "x-amz-checksum-crc32c" => STANDARD.encode(crc32c::crc32c(payload).to_be_bytes()),
            "x-amz-checksum-sha1" => {
                use sha1::Digest as _;
                STANDARD.encode(sha1::Sha1::digest(payload))
            }
            "x-amz-checksum-sha256" => STANDARD.encode(Sha256::digest(payload)),
            // CRC64NVME and future algorithms: stored and echoed, not verified.
            _ => continue,
        };
        if &got != want {
            let algo = name
                .trim_start_matches("x-amz-checksum-")
                .to_ascii_uppercase();
            return Err(AwsError::client(
                "BadDigest",
                format!("The {algo} you specified did not match the calculated checksum."),
            ));
        }
    }
    Ok(())
}

pub fn run(app: &App, ctx: &CallContext, req: &S3Request) -> S3Result {
    let now = app.clock.now_millis();
    let s = &app.objects;
    let oe = |e| objects_error(e, req);
    // Each permission is judged against the bucket it names (a copy's source included);
    // a bucket that does not exist is for the operation itself to report.
    for (action, resource) in access::permissions(req) {
        let bucket_name = resource
            .strip_prefix("arn:aws:s3:::")
            .map(|r| r.split('/').next().unwrap_or(r));
        let bucket = match bucket_name {
            Some(b) => s.bucket(b).map_err(oe)?,
            None => None,
        };
        if bucket.is_none() && bucket_name.is_some() && req.op != "CreateBucket" {
            continue;
        }
        access::check(app, ctx, req, action, &resource, bucket.as_ref())?;
    }
    match req.op {
        "ListBuckets" => {
            let buckets = s.list_buckets(&req.account).map_err(oe)?;
            let mut d = Doc::new("ListAllMyBucketsResult");
            d.open("Owner")
                .elem("ID", &acl::canonical_id(&req.account))
                .close("Owner")
                .open("Buckets");
            for b in buckets {
                d.open("Bucket")
                    .elem("Name", &b.name)
                    .elem("CreationDate", &iso(b.created_ms))
                    .elem("BucketRegion", &b.region)
                    .close("Bucket");
            }
            d.close("Buckets");
            Ok(S3Response::ok(d.finish("ListAllMyBucketsResult")))
        }
        "CreateBucket" => create_bucket(app, req, now),
        "DeleteBucket" => {
            s.delete_bucket(req.bucket()).map_err(oe)?;
            Ok(S3Response::empty(204))
        }
        "HeadBucket" => {
            let b = s
                .bucket(req.bucket())
                .map_err(oe)?
                .ok_or_else(|| oe(ObjectsError::NoSuchBucket))?;
            Ok(S3Response::empty(200).header("x-amz-bucket-region", b.region))
        }
        "GetBucketLocation" => {
            let b = s
                .bucket(req.bucket())
                .map_err(oe)?
                .ok_or_else(|| oe(ObjectsError::NoSuchBucket))?;
            let region = if b.region == "us-east-1" {
                ""
            } else {
                b.region.as_str()
            };
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"{}\">{}</LocationConstraint>",
                super::xml::NS,
                cairn_wire::xml::escape(region)
            );
            Ok(S3Response::ok(body.into_bytes()))
        }
        "GetBucketAcl" => Ok(S3Response::ok(acl::owner_full_control(&req.account))),
        "PutBucketAcl" => {
            acl::check_put(req, &req.account)?;
            Ok(S3Response::empty(200))
        }
        "GetObjectAcl" | "PutObjectAcl" => {
            s.head_object(
                req.bucket(),
                req.key(),
                req.query.get("versionId").map(String::as_str),
            )
            .map_err(oe)?;
            if req.op == "PutObjectAcl" {
                acl::check_put(req, &req.account)?;
                return Ok(S3Response::empty(200));
            }
            Ok(S3Response::ok(acl::owner_full_control(&req.account)))
        }
        "PutBucketPolicy" => {
            let v: serde_json::Value = serde_json::from_slice(&req.payload).map_err(|_| {
                AwsError::client(
                    "MalformedPolicy",
                    "Policies must be valid JSON and the first byte must be '{'",
                )
            })?;
            if !v.is_object() || v.get("Statement").is_none() {
                return Err(AwsError::client(
                    "MalformedPolicy",
                    "Missing required field Statement",
                ));
            }
            let text = String::from_utf8_lossy(&req.payload).into_owned();
            cairn_policy::PolicyDocument::parse(&text, cairn_policy::PolicyKind::Resource)
                .map_err(|e| AwsError::client("MalformedPolicy", e.to_string()))?;
            s.set_bucket_config(req.bucket(), BucketConfig::Policy, Some(&text))
                .map_err(oe)?;
            Ok(S3Response::empty(204))
        }
        "GetBucketPolicy" => {
            let b = s
                .bucket(req.bucket())
                .map_err(oe)?
                .ok_or_else(|| oe(ObjectsError::NoSuchBucket))?;
            match b.policy {
                Some(p) => Ok(S3Response {
                    status: 200,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: p.into_bytes(),
                }),
                None => Err(AwsError::new(
                    404,
                    "NoSuchBucketPolicy",
                    "The bucket policy does not exist",
                )
                .with_extra("BucketName", req.bucket())),
            }
        }
        "DeleteBucketPolicy" => {
            s.set_bucket_config(req.bucket(), BucketConfig::Policy, None)
                .map_err(oe)?;
            Ok(S3Response::empty(204))
        }
        "PutBucketVersioning" => {
            let n = parse(&req.payload)
                .filter(|n| n.name == "VersioningConfiguration")
                .ok_or_else(malformed_xml)?;
            let status = n.text_of("Status").unwrap_or("");
            if !matches!(status, "Enabled" | "Suspended") {
                return Err(malformed_xml());
            }
            s.set_bucket_config(req.bucket(), BucketConfig::Versioning, Some(status))
                .map_err(oe)?;
            Ok(S3Response::empty(200))
        }
        "GetBucketVersioning" => {
            let b = s
                .bucket(req.bucket())
                .map_err(oe)?
                .ok_or_else(|| oe(ObjectsError::NoSuchBucket))?;
            let mut d = Doc::new("VersioningConfiguration");
            if let Some(v) = b.versioning {
                d.elem("Status", &v);
            }
            Ok(S3Response::ok(d.finish("VersioningConfiguration")))
        }
        "PutBucketEncryption" => {
            let n = parse(&req.payload)
                .filter(|n| n.name == "ServerSideEncryptionConfiguration")
                .ok_or_else(malformed_xml)?;
            let algo = n
                .child("Rule")
                .and_then(|r| r.child("ApplyServerSideEncryptionByDefault"))
                .and_then(|a| a.text_of("SSEAlgorithm"))
                .ok_or_else(malformed_xml)?;
            if !matches!(algo, "AES256" | "aws:kms" | "aws:kms:dsse") {
                return Err(malformed_xml());
            }
            let text = String::from_utf8_lossy(&req.payload).into_owned();
            s.set_bucket_config(req.bucket(), BucketConfig::Encryption, Some(&text))
                .map_err(oe)?;
            Ok(S3Response::empty(200))
        }
        "GetBucketEncryption" => {
            let b = s
                .bucket(req.bucket())
                .map_err(oe)?
                .ok_or_else(|| oe(ObjectsError::NoSuchBucket))?;
            // Every bucket has SSE-S3 by default, as in S3 since 2023.
            let body = b.encryption.map(String::into_bytes).unwrap_or_else(|| {
                let mut d = Doc::new("ServerSideEncryptionConfiguration");
                d.open("Rule")
                    .open("ApplyServerSideEncryptionByDefault")
                    .elem("SSEAlgorithm", "AES256")
                    .close("ApplyServerSideEncryptionByDefault")
                    .elem("BucketKeyEnabled", "false")
                    .close("Rule");
                d.finish("ServerSideEncryptionConfiguration")
            });
            Ok(S3Response::ok(body))
        }
        "DeleteBucketEncryption" => {
            s.set_bucket_config(req.bucket(), BucketConfig::Encryption, None)
                .map_err(oe)?;
            Ok(S3Response::empty(204))
        }
        "ListObjects" => list_objects(app, req),
        "PutObject" => {
            let new = new_object(app, req)?;
            let v = s
                .put_object(req.bucket(), req.key(), &req.payload, &new, now)
                .map_err(oe)?;
            Ok(written(S3Response::empty(200), &v, req))
        }
        "CopyObject" => copy_object(app, req, now),
        "GetObject" | "HeadObject" => get_object(app, req),
        "DeleteObject" => {
            let marker = s.delete_object(req.bucket(), req.key(), now).map_err(oe)?;
            let mut r = S3Response::empty(204);
            if let Some(m) = marker {
                r = r
                    .header("x-amz-delete-marker", "true")
                    .header("x-amz-version-id", m.version_id);
            }
            Ok(r)
        }
        "DeleteObjects" => delete_objects(app, ctx, req, now),
        "CreateMultipartUpload" => {
            let new = new_object(app, req)?;
            if new.data_key.is_some() {
                return Err(AwsError::new(
                    501,
                    "NotImplemented",
                    "cairn does not support SSE-KMS for multipart uploads yet; upload in one PutObject or use SSE-S3 (AES256).",
                ));
            }
            let id = s
                .create_upload(req.bucket(), req.key(), &new, now)
                .map_err(oe)?;
            let mut d = Doc::new("InitiateMultipartUploadResult");
            d.elem("Bucket", req.bucket())
                .elem("Key", req.key())
                .elem("UploadId", &id);
            let mut r = S3Response::ok(d.finish("InitiateMultipartUploadResult"));
            if let Some(sse) = new.sse {
                r = r.header("x-amz-server-side-encryption", sse);
            }
            Ok(r)
        }
        "UploadPart" => {
            let (num, id) = part_args(req)?;
            let etag = s
                .put_part(req.bucket(), req.key(), &id, num, &req.payload, now)
                .map_err(oe)?;
            let mut r = S3Response::empty(200).header("etag", etag);
            for (k, v) in &req.checksums {
                r = r.header(k, v.clone());
            }
            Ok(r)
        }
        "ListParts" => {
            let id = req.query.get("uploadId").cloned().unwrap_or_default();
            let parts = s.list_parts(req.bucket(), req.key(), &id).map_err(oe)?;
            let mut d = Doc::new("ListPartsResult");
            d.elem("Bucket", req.bucket())
                .elem("Key", req.key())
                .elem("UploadId", &id)
                .elem("IsTruncated", "false");
            for (num, size, etag, created) in parts {
                d.open("Part")
                    .elem("PartNumber", &num.to_string())
                    .elem("LastModified", &iso(created))
                    .elem("ETag", &etag)
                    .elem("Size", &size.to_string())
                    .close("Part");
            }
            Ok(S3Response::ok(d.finish("ListPartsResult")))
        }
        "AbortMultipartUpload" => {
            let id = req.query.get("uploadId").cloned().unwrap_or_default();
            s.abort_upload(req.bucket(), req.key(), &id).map_err(oe)?;
            Ok(S3Response::empty(204))
        }
        "CompleteMultipartUpload" => {
            let id = req.query.get("uploadId").cloned().unwrap_or_default();
            let n = parse(&req.payload)
                .filter(|n| n.name == "CompleteMultipartUpload")
                .ok_or_else(malformed_xml)?;
            let mut wanted = Vec::new();
            for p in n.all("Part") {
                let num = p
                    .text_of("PartNumber")
                    .and_then(|x| x.parse::<i64>().ok())
                    .ok_or_else(malformed_xml)?;
                wanted.push((num, p.text_of("ETag").unwrap_or("").to_owned()));
            }
            let v = s
                .complete_upload(req.bucket(), req.key(), &id, &wanted, now)
                .map_err(oe)?;
            let mut d = Doc::new("CompleteMultipartUploadResult");
            d.elem(
                "Location",
                &format!(
                    "http://{}/{}/{}",
                    req.host,
                    req.bucket(),
                    encode_key(req.key())
                ),
            )
            .elem("Bucket", req.bucket())
            .elem("Key", req.key())
            .elem("ETag", &v.etag);
            Ok(written(
                S3Response::ok(d.finish("CompleteMultipartUploadResult")),
                &v,
                req,
            ))
        }
        other => Err(AwsError::new(
            501,
            "NotImplemented",
            format!("cairn's S3 does not implement {other} yet."),
        )),
    }
}

fn part_args(req: &S3Request) -> Result<(i64, String), AwsError> {
    let num = req
        .query
        .get("partNumber")
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| {
            AwsError::client(
                "InvalidArgument",
                "Part number must be an integer between 1 and 10000, inclusive",
            )
        })?;
    Ok((num, req.query.get("uploadId").cloned().unwrap_or_default()))
}

/// Headers every write answers with.
fn written(mut r: S3Response, v: &ObjectVersion, req: &S3Request) -> S3Response {
    if !v.etag.is_empty() && !r.headers.iter().any(|(k, _)| k == "etag") {
        r = r.header("etag", v.etag.clone());
    }
    if let Some(sse) = &v.sse {
        r = r.header("x-amz-server-side-encryption", sse.clone());
    }
    if let Some(key) = v.metadata.get(KMS_KEY_HEADER) {
        r = r.header("x-amz-server-side-encryption-aws-kms-key-id", key.clone());
    }
    if v.version_id != "null" {
        r = r.header("x-amz-version-id", v.version_id.clone());
    }
    for (k, val) in &req.checksums {
        r = r.header(k, val.clone());
    }
    r
}

/// The region a new bucket goes in: its LocationConstraint, else us-east-1 as in S3.
fn bucket_region(req: &S3Request) -> Result<String, AwsError> {
    let n = if req.payload.is_empty() {
        None
    } else {
        Some(parse(&req.payload).ok_or_else(malformed_xml)?)
    };
    match n.as_ref().and_then(|n| n.text_of("LocationConstraint")) {
        Some(r) if !r.is_empty() => Ok(r.to_owned()),
        _ => Ok("us-east-1".to_owned()),
    }
}

fn valid_bucket_name(n: &str) -> bool {
    let b = n.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && !n.contains("..")
        && n.parse::<std::net::Ipv4Addr>().is_err()
        && !n.starts_with("xn--")
}

fn create_bucket(app: &App, req: &S3Request, now: i64) -> S3Result {
    if !valid_bucket_name(req.bucket()) {
        return Err(
            AwsError::client("InvalidBucketName", "The specified bucket is not valid.")
                .with_extra("BucketName", req.bucket()),
        );
    }
    if let Some(canned) = req.header("x-amz-acl")
        && !matches!(canned, "private" | "bucket-owner-full-control")
    {
        return Err(AwsError::client(
            "InvalidBucketAclWithObjectOwnership",
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
        ));
    }
    let region = bucket_region(req)?;
    app.objects
        .create_bucket(req.bucket(), &req.account, &region, now)
        .map_err(|e| objects_error(e, req))?;
    Ok(S3Response::empty(200).header("location", format!("/{}", req.bucket())))
}

/// What a new object stores: content type, user metadata, system headers, checksums, and its
/// SSE (the request's header, else the bucket default, SSE-S3).
fn new_object(app: &App, req: &S3Request) -> Result<NewObject, AwsError> {
    acl::check_headers(req, &req.account)?;
    let mut metadata = BTreeMap::new();
    for (k, v) in &req.headers {
        if let Some(name) = k.as_str().strip_prefix("x-amz-meta-") {
            metadata.insert(
                name.to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            );
        }
    }
    for h in [
        "cache-control",
        "content-disposition",
        "content-encoding",
        "content-language",
        "expires",
    ] {
        if let Some(v) = req.header(h) {
            // aws-chunked is transport framing, not the object's encoding.
            let v: Vec<&str> = v
                .split(',')
                .map(str::trim)
                .filter(|e| *e != "aws-chunked")
                .collect();
            if !v.is_empty() {
                metadata.insert(format!(":{h}"), v.join(","));
            }
        }
    }
    for (k, v) in &req.checksums {
        metadata.insert(format!(":{k}"), v.clone());
    }
    let (sse, kms_key) = match req.header("x-amz-server-side-encryption") {
        Some("AES256") => ("AES256".to_owned(), None),
        Some("aws:kms") => (
            "aws:kms".to_owned(),
            req.header("x-amz-server-side-encryption-aws-kms-key-id")
                .map(str::to_owned)
                .or_else(|| bucket_default_encryption(app, req).and_then(|(_, k)| k)),
        ),
        Some(other) => {
            return Err(AwsError::client(
                "InvalidArgument",
                format!("The encryption method specified is not supported: {other}"),
            ));
        }
        None => match bucket_default_encryption(app, req) {
            Some((algo, key)) if algo == "aws:kms" => (algo, key),
            _ => ("AES256".to_owned(), None),
        },
    };
    let mut data_key = None;
    if sse == "aws:kms" {
        let key_ref = kms_key.ok_or_else(|| {
            AwsError::client(
                "InvalidArgument",
                "cairn has no AWS managed key (aws/s3): name a KMS key with x-amz-server-side-encryption-aws-kms-key-id or in the bucket's default encryption.",
            )
        })?;
        // As S3 binds a data key: to the object's ARN.
        let context: BTreeMap<String, String> = [(
            "aws:s3:arn".to_owned(),
            format!("arn:aws:s3:::{}/{}", req.bucket(), req.key()),
        )]
        .into();
        let dk = kms_envelope::new_data_key(
            app,
            KmsScope {
                account: &req.account,
                region: &req.region,
            },
            &key_ref,
            Requester::Aws {
                account: &req.account,
                arn: &req.caller_arn,
            },
            &req.caller_arn,
            &context,
        )?;
        metadata.insert(KMS_KEY_HEADER.to_owned(), dk.key_arn);
        metadata.insert(WRAPPED_KEY.to_owned(), dk.wrapped);
        metadata.insert(
            KEY_CONTEXT.to_owned(),
            serde_json::to_string(&context).unwrap_or_default(),
        );
        data_key = Some(dk.plaintext);
    }
    Ok(NewObject {
        content_type: req.header("content-type").map(str::to_owned),
        metadata,
        sse: Some(sse),
        data_key,
        durable: false,
    })
}

use kms_envelope::{KEY_CONTEXT, KMS_KEY_HEADER, WRAPPED_KEY};

/// The bucket's default encryption: its algorithm and KMS key, if configured.
fn bucket_default_encryption(app: &App, req: &S3Request) -> Option<(String, Option<String>)> {
    let b = app.objects.bucket(req.bucket()).ok()??;
    let xml = b.encryption?;
    let n = parse(xml.as_bytes())?;
    let d = n
        .child("Rule")
        .and_then(|r| r.child("ApplyServerSideEncryptionByDefault"))?;
    Some((
        d.text_of("SSEAlgorithm")?.to_owned(),
        d.text_of("KMSMasterKeyID").map(str::to_owned),
    ))
}

/// An object's body, decrypted with its own data key when it is SSE-KMS (which takes
/// kms:Decrypt on its key, for the caller).
fn read_object(
    app: &App,
    req: &S3Request,
    v: &ObjectVersion,
    range: Option<(u64, u64)>,
) -> Result<Vec<u8>, AwsError> {
    let Some(wrapped) = v.metadata.get(WRAPPED_KEY) else {
        return app
            .objects
            .read_body(v, range)
            .map_err(|e| objects_error(e, req));
    };
    let key_region = v
        .metadata
        .get(KMS_KEY_HEADER)
        .and_then(|arn| arn.split(':').nth(3))
        .unwrap_or(&req.region)
        .to_owned();
    let data_key = kms_envelope::open_data_key(
        app,
        KmsScope {
            account: &req.account,
            region: &key_region,
        },
        wrapped,
        Requester::Aws {
            account: &req.account,
            arn: &req.caller_arn,
        },
        &req.caller_arn,
        &v.metadata
            .get(KEY_CONTEXT)
            .and_then(|c| serde_json::from_str(c).ok())
            .unwrap_or_default(),
    )?;
    app.objects
        .read_body_keyed(v, range, &data_key)
        .map_err(|e| objects_error(e, req))
}

fn copy_object(app: &App, req: &S3Request, now: i64) -> S3Result {
    let src = req.header("x-amz-copy-source").unwrap_or("");
    let src = percent_encoding::percent_decode_str(src)
        .decode_utf8_lossy()
        .into_owned();
    let (src, version) = match src.split_once("?versionId=") {
        Some((s, v)) => (s.to_owned(), Some(v.to_owned())),
        None => (src, None),
    };
    let src = src.trim_start_matches('/');
    let Some((sb, sk)) = src.split_once('/') else {
        return Err(AwsError::client(
            "InvalidArgument",
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        ));
    };
    let s = &app.objects;
    let source = s
        .head_object(sb, sk, version.as_deref())
        .map_err(|e| objects_error(e, req))?;
    if let Some(b) = s.bucket(sb).map_err(|e| objects_error(e, req))?
        && b.account != req.account
    {
        return Err(AwsError::new(403, "AccessDenied", "Access Denied"));
    }
    let body = read_object(app, req, &source, None)?;
    let mut new = new_object(app, req)?;
    if req.header("x-amz-metadata-directive") != Some("REPLACE") {
        // The copy's encryption is its own: keep the new object's key entries, not the source's.
        let own: Vec<(String, String)> = [KMS_KEY_HEADER, WRAPPED_KEY, KEY_CONTEXT]
            .iter()
            .filter_map(|k| new.metadata.get(*k).map(|v| ((*k).to_owned(), v.clone())))
            .collect();
        new.metadata = source.metadata.clone();
        new.metadata.remove(KMS_KEY_HEADER);
        new.metadata.remove(WRAPPED_KEY);
        new.metadata.remove(KEY_CONTEXT);
        new.metadata.extend(own);
        new.content_type = source.content_type.clone();
    }
    if sb == req.bucket()
        && sk == req.key()
        && req.header("x-amz-metadata-directive") != Some("REPLACE")
    {
        return Err(AwsError::client(
            "InvalidRequest",
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    let v = s
        .put_object(req.bucket(), req.key(), &body, &new, now)
        .map_err(|e| objects_error(e, req))?;
    let mut d = Doc::new("CopyObjectResult");
    d.elem("LastModified", &iso(v.created_ms))
        .elem("ETag", &v.etag);
    let mut r = written(S3Response::ok(d.finish("CopyObjectResult")), &v, req);
    r.headers.retain(|(k, _)| k != "etag");
    Ok(r)
}

/// Parses `bytes=a-b`, `bytes=a-`, `bytes=-n` against a size; `Err` if unsatisfiable.
fn parse_range(h: &str, size: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = h.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None; // multiple ranges: S3 ignores the header
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let r = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 || size == 0 {
            return Some(Err(()));
        }
        (size.saturating_sub(n), size - 1)
    } else {
        let first: u64 = a.parse().ok()?;
        let last: u64 = if b.is_empty() {
            size.saturating_sub(1)
        } else {
            b.parse::<u64>().ok()?.min(size.saturating_sub(1))
        };
        if first >= size || first > last {
            return Some(Err(()));
        }
        (first, last)
    };
    Some(Ok(r))
}

fn get_object(app: &App, req: &S3Request) -> S3Result {
    let s = &app.objects;
    let v = s
        .head_object(
            req.bucket(),
            req.key(),
            req.query.get("versionId").map(String::as_str),
        )
        .map_err(|e| objects_error(e, req))?;
    let range = match req.header("range").and_then(|h| parse_range(h, v.size)) {
        Some(Ok(r)) => Some(r),
        Some(Err(())) => {
            return Err(AwsError::new(
                416,
                "InvalidRange",
                "The requested range is not satisfiable",
            )
            .with_extra("RangeRequested", req.header("range").unwrap_or(""))
            .with_extra("ActualObjectSize", v.size.to_string()));
        }
        None => None,
    };
    let head = req.op == "HeadObject";
    let body = if head {
        Vec::new()
    } else {
        read_object(app, req, &v, range)?
    };
    let mut r = S3Response {
        status: if range.is_some() { 206 } else { 200 },
        headers: Vec::new(),
        body,
    };
    let len = match range {
        Some((a, b)) => b - a + 1,
        None => v.size,
    };
    r = r
        .header(
            "content-type",
            v.content_type
                .clone()
                .unwrap_or_else(|| "binary/octet-stream".into()),
        )
        .header("etag", v.etag.clone())
        .header("last-modified", http_date(v.created_ms))
        .header("accept-ranges", "bytes")
        .header("content-length", len.to_string());
    if let Some((a, b)) = range {
        r = r.header("content-range", format!("bytes {a}-{b}/{}", v.size));
    }
    for (k, val) in &v.metadata {
        match k.strip_prefix(':') {
            // Internal entries (a wrapped data key) are never answered.
            Some(sys) if sys.starts_with(':') => {}
            Some(sys) if sys.starts_with("x-amz-checksum-") => {
                if req.header("x-amz-checksum-mode") == Some("ENABLED") && range.is_none() {
                    r = r.header(sys, val.clone());
                }
            }
            Some(sys) => r = r.header(sys, val.clone()),
            None => r = r.header(&format!("x-amz-meta-{k}"), val.clone()),
        }
    }
    if let Some(sse) = &v.sse {
        r = r.header("x-amz-server-side-encryption", sse.clone());
    }
    if v.version_id != "null" {
        r = r.header("x-amz-version-id", v.version_id.clone());
    }
    Ok(r)
}

fn delete_objects(app: &App, ctx: &CallContext, req: &S3Request, now: i64) -> S3Result {
    let n = parse(&req.payload)
        .filter(|n| n.name == "Delete")
        .ok_or_else(malformed_xml)?;
    let quiet = n.text_of("Quiet") == Some("true");
    let keys: Vec<String> = n
        .all("Object")
        .filter_map(|o| o.text_of("Key").map(str::to_owned))
        .collect();
    if keys.len() > 1000 {
        return Err(malformed_xml());
    }
    let mut d = Doc::new("DeleteResult");
    let bucket = app
        .objects
        .bucket(req.bucket())
        .map_err(|e| objects_error(e, req))?;
    for k in keys {
        let arn = format!("arn:aws:s3:::{}/{k}", req.bucket());
        let allowed = access::check(app, ctx, req, "s3:DeleteObject", &arn, bucket.as_ref());
        let outcome = match allowed {
            Ok(()) => app
                .objects
                .delete_object(req.bucket(), &k, now)
                .map_err(|e| objects_error(e, req)),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(marker) => {
                if !quiet {
                    d.open("Deleted").elem("Key", &k);
                    if let Some(m) = marker {
                        d.elem("DeleteMarker", "true")
                            .elem("DeleteMarkerVersionId", &m.version_id);
                    }
                    d.close("Deleted");
                }
            }
            Err(ae) => {
                d.open("Error")
                    .elem("Key", &k)
                    .elem("Code", &ae.code)
                    .elem("Message", &ae.message)
                    .close("Error");
            }
        }
    }
    Ok(S3Response::ok(d.finish("DeleteResult")))
}

fn list_objects(app: &App, req: &S3Request) -> S3Result {
    let q = &req.query;
    let v2 = q.get("list-type").map(String::as_str) == Some("2");
    let url = q.get("encoding-type").map(String::as_str) == Some("url");
    if let Some(e) = q.get("encoding-type").filter(|e| e.as_str() != "url") {
        return Err(AwsError::client(
            "InvalidArgument",
            format!("Invalid Encoding Method specified in Request ({e})"),
        ));
    }
    let max_keys = match q.get("max-keys") {
        None => 1000,
        Some(m) => m
            .parse::<i64>()
            .ok()
            .filter(|m| *m >= 0)
            .ok_or_else(|| {
                AwsError::client(
                    "InvalidArgument",
                    "Provided max-keys not an integer or within integer range",
                )
            })?
            .min(1000) as usize,
    };
    let prefix = q.get("prefix").cloned().unwrap_or_default();
    let delimiter = q.get("delimiter").cloned().filter(|d| !d.is_empty());
    let token = q.get("continuation-token").cloned();
    let after = if v2 {
        match &token {
            Some(t) => Some(
                STANDARD
                    .decode(t)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| {
                        AwsError::client(
                            "InvalidArgument",
                            "The continuation token provided is incorrect",
                        )
                    })?,
            ),
            None => q.get("start-after").cloned(),
        }
    } else {
        q.get("marker").cloned()
    };
    let page = app
        .objects
        .list(&ListQuery {
            bucket: req.bucket().to_owned(),
            prefix: prefix.clone(),
            delimiter: delimiter.clone(),
            after: after.clone(),
            max_keys,
        })
        .map_err(|e| objects_error(e, req))?;
    let enc = |s: &str| if url { encode_key(s) } else { s.to_owned() };
    let mut d = Doc::new("ListBucketResult");
    d.elem("Name", req.bucket()).elem("Prefix", &enc(&prefix));
    if v2 {
        d.elem(
            "KeyCount",
            &(page.contents.len() + page.common_prefixes.len()).to_string(),
        );
        if let Some(t) = &token {
            d.elem("ContinuationToken", t);
        }
        if let Some(sa) = q.get("start-after") {
            d.elem("StartAfter", &enc(sa));
        }
    } else {
        d.elem("Marker", &enc(after.as_deref().unwrap_or("")));
    }
    d.elem("MaxKeys", &max_keys.to_string());
    if let Some(dl) = &delimiter {
        d.elem("Delimiter", &enc(dl));
    }
    if url {
        d.elem("EncodingType", "url");
    }
    d.elem("IsTruncated", if page.truncated { "true" } else { "false" });
    if page.truncated
        && let Some(next) = &page.next_after
    {
        if v2 {
            d.elem("NextContinuationToken", &STANDARD.encode(next.as_bytes()));
        } else if delimiter.is_some() {
            d.elem("NextMarker", &enc(next));
        }
    }
    let owner = acl::canonical_id(&req.account);
    for o in &page.contents {
        d.open("Contents")
            .elem("Key", &enc(&o.key))
            .elem("LastModified", &iso(o.created_ms))
            .elem("ETag", &o.etag)
            .elem("Size", &o.size.to_string());
        if !v2 || q.get("fetch-owner").map(String::as_str) == Some("true") {
            d.open("Owner").elem("ID", &owner).close("Owner");
        }
        d.elem("StorageClass", "STANDARD").close("Contents");
    }
    for p in &page.common_prefixes {
        d.open("CommonPrefixes")
            .elem("Prefix", &enc(p))
            .close("CommonPrefixes");
    }
    Ok(S3Response::ok(d.finish("ListBucketResult")))
}
