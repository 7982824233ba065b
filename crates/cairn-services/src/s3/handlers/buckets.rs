//! Bucket operations: creating, listing and deleting buckets, and their configuration (location,
//! ACL, policy, default encryption; versioning is `mfa.rs`'s, Object Lock `lock.rs`'s).

use cairn_store::objects::{BucketConfig, ObjectsError};
use cairn_wire::AwsError;

use super::{S3Result, iso, malformed_xml, not_implemented, objects_error};
use super::{acl, ownership, public_access};
use crate::app::App;
use crate::s3::wire::xml::{Doc, parse};
use crate::s3::{S3Request, S3Response};

/// S3's limit on a bucket policy (20 KB).
const MAX_BUCKET_POLICY_BYTES: usize = 20 * 1024;

pub(super) fn run(app: &App, req: &S3Request, now: i64) -> S3Result {
    let s = &app.objects;
    let oe = |e| objects_error(e, req);
    // The request's bucket, or S3's NoSuchBucket.
    let existing = || {
        s.bucket(req.bucket())
            .map_err(oe)?
            .ok_or_else(|| oe(ObjectsError::NoSuchBucket))
    };
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
            let b = existing()?;
            Ok(S3Response::empty(200).header("x-amz-bucket-region", b.region))
        }
        "GetBucketLocation" => {
            let b = existing()?;
            let region = if b.region == "us-east-1" {
                ""
            } else {
                b.region.as_str()
            };
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"{}\">{}</LocationConstraint>",
                crate::s3::wire::xml::NS,
                cairn_wire::xml::escape(region)
            );
            Ok(S3Response::ok(body.into_bytes()))
        }
        // The ACL as set while ACLs are enabled, else the owner's full control; a bucket
        // that does not exist has no ACL to read.
        "GetBucketAcl" => {
            let b = existing()?;
            let stored = acl::Acl::stored(b.config(BucketConfig::Acl));
            Ok(S3Response::ok(
                stored
                    .unwrap_or_else(|| acl::Acl::private(&b.account))
                    .xml(),
            ))
        }
        "PutBucketAcl" => {
            let b = existing()?;
            if let Some(set) = acl::of_put(app, req, &b, &b.account, true)? {
                s.set_bucket_config(req.bucket(), BucketConfig::Acl, Some(&set.text()))
                    .map_err(oe)?;
            }
            Ok(S3Response::empty(200))
        }
        "PutBucketPolicy" => {
            if req.payload.len() > MAX_BUCKET_POLICY_BYTES {
                return Err(AwsError::client(
                    "PolicyTooLarge",
                    "Policy exceeds the maximum allowed document size.",
                ));
            }
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
            let b = existing()?;
            if public_access::policy_is_public(&text)
                && public_access::effective(app, &b)
                    .map_err(oe)?
                    .block_public_policy
            {
                return Err(public_access::public_policy_blocked(req));
            }
            s.set_bucket_config(req.bucket(), BucketConfig::Policy, Some(&text))
                .map_err(oe)?;
            Ok(S3Response::empty(204))
        }
        "GetBucketPolicy" => {
            let b = existing()?;
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
            let b = existing()?;
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
        other => Err(not_implemented(other)),
    }
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
        && !RESERVED_PREFIXES.iter().any(|p| n.starts_with(p))
        && !RESERVED_SUFFIXES.iter().any(|x| n.ends_with(x))
}

/// Name prefixes and suffixes S3 keeps for itself (access point aliases, directory buckets…).
const RESERVED_PREFIXES: &[&str] = &["xn--", "sthree-", "amzn-s3-demo-"];
const RESERVED_SUFFIXES: &[&str] = &["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

fn create_bucket(app: &App, req: &S3Request, now: i64) -> S3Result {
    if !valid_bucket_name(req.bucket()) {
        return Err(
            AwsError::client("InvalidBucketName", "The specified bucket is not valid.")
                .with_extra("BucketName", req.bucket()),
        );
    }
    let ownership = ownership::of_create(req)?;
    let enforced = ownership == ownership::Ownership::BucketOwnerEnforced;
    if enforced
        && let Some(canned) = req.header("x-amz-acl")
        && !matches!(canned, "private" | "bucket-owner-full-control")
    {
        return Err(AwsError::client(
            "InvalidBucketAclWithObjectOwnership",
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
        ));
    }
    let region = bucket_region(req)?;
    let oe = |e| objects_error(e, req);
    let bucket = app
        .objects
        .create_bucket(req.bucket(), &req.account, &region, now)
        .map_err(oe)?;
    // As S3 has made every new bucket since April 2023: public access blocked, ACLs disabled
    // unless asked for.
    app.objects
        .set_bucket_config(
            req.bucket(),
            BucketConfig::PublicAccessBlock,
            Some(&public_access::new_bucket_default()),
        )
        .map_err(oe)?;
    ownership::store(app, req.bucket(), ownership).map_err(oe)?;
    if !enforced && (req.header("x-amz-acl").is_some() || has_grants(req)) {
        let bucket = app
            .objects
            .bucket(req.bucket())
            .map_err(oe)?
            .unwrap_or(bucket);
        let set = acl::of_new_bucket(app, req, &bucket)?;
        app.objects
            .set_bucket_config(req.bucket(), BucketConfig::Acl, Some(&set.text()))
            .map_err(oe)?;
    }
    super::lock::on_create(app, req)?;
    Ok(S3Response::empty(200).header("location", format!("/{}", req.bucket())))
}

fn has_grants(req: &S3Request) -> bool {
    req.headers
        .keys()
        .any(|k| k.as_str().starts_with("x-amz-grant-"))
}
