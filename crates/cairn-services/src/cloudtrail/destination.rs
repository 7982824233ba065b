//! Where a trail delivers, checked as AWS checks it when a trail is created or changed: the
//! bucket must exist and its policy let CloudTrail check its ACL and write; a KMS key must exist
//! in the trail's region and its policy let CloudTrail make data keys.
//!
//! Each check is CloudTrail calling S3 or KMS through the pipeline as `cloudtrail.amazonaws.com`
//! for the trail, so the real bucket and key policies decide, judged as for any call. AWS
//! shows no event for these checks: the one CreateTrail in the real corpus (grycap
//! 974349055189, `Default`, 2014-09-26T11:26:19Z, into a trail that logs S3 bucket reads such as
//! GetBucketLocation and GetBucketPolicy) has no GetBucketAcl, PutObject or KMS call by
//! cloudtrail.amazonaws.com beside it; CloudTrail's recorded GetBucketAcl and GenerateDataKey
//! come with deliveries (see `delivery`). So they are made [`Durability::Unrecorded`], and the
//! write is only judged
//! ([`crate::pipeline::internal::Internal::authorize_wire`]), never made.

use std::collections::BTreeMap;

use bytes::Bytes;
use cairn_store::trails::Trail;
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::handlers::trails::internal;
use super::s3_calls::{cloudtrail_for, get_bucket_acl, put_object};
use crate::app::App;
use crate::pipeline::Durability;

/// The KMS key a trail encrypts its log files with, as its ARN: it must exist in the trail's
/// region and its key policy must let CloudTrail make data keys for the trail (a data key is
/// made, bound to `aws:cloudtrail:arn`, and thrown away). An empty id turns encryption off.
pub(super) fn trail_kms_key(
    app: &App,
    t: &Trail,
    id: Option<&str>,
) -> Result<Option<String>, AwsError> {
    let Some(id) = id.filter(|i| !i.is_empty()) else {
        return Ok(None);
    };
    if app.external_buckets.contains_key(&t.s3_bucket) {
        return Err(AwsError::client(
            "UnsupportedOperationException",
            "cairn does not support KMS-encrypted log files in external buckets yet.",
        ));
    }
    let context: BTreeMap<&str, &str> = [("aws:cloudtrail:arn", t.arn.as_str())].into();
    let made = cloudtrail_for(t, &t.account, &t.home_region, Durability::Unrecorded).call_json(
        app,
        "kms",
        "GenerateDataKey",
        json!({"KeyId": id, "KeySpec": "AES_256", "EncryptionContext": context}),
    );
    let insufficient = |key: &str| {
        AwsError::client(
            "InsufficientEncryptionPolicyException",
            format!(
                "Insufficient permissions to access S3 bucket {} or KMS key {key}.",
                t.s3_bucket
            ),
        )
    };
    match made {
        Ok(v) => v
            .get("KeyId")
            .and_then(Value::as_str)
            .map(|arn| Some(arn.to_owned()))
            .ok_or_else(|| AwsError::internal("KMS answered no key ARN")),
        Err(e) => Err(match e.code.as_ref() {
            "NotFoundException" | "InvalidArnException" | "ValidationException" => {
                AwsError::client(
                    "KmsKeyNotFoundException",
                    format!(
                        "KMS key {id} does not exist in {} or is not in the same region as the trail.",
                        t.home_region
                    ),
                )
            }
            // The refusal names the key's ARN, as CloudTrail's message does.
            "AccessDeniedException" => insufficient(key_arn_in(&e.message).unwrap_or(id)),
            "DisabledException" | "KMSInvalidStateException" => {
                AwsError::client("KmsException", e.message.clone())
            }
            _ => e,
        }),
    }
}

/// The key ARN a KMS refusal names ("… on resource: arn:aws:kms:… because …").
fn key_arn_in(message: &str) -> Option<&str> {
    let at = message.find("arn:aws:kms:")?;
    message[at..].split_whitespace().next()
}

/// The bucket must exist and its policy must let CloudTrail check its ACL and write logs.
pub(super) fn check_bucket(app: &App, t: &Trail) -> Result<(), AwsError> {
    if let Some(ext) = app.external_buckets.get(&t.s3_bucket) {
        // An external bucket enforces its own access rules; it must at least exist.
        return match ext.exists() {
            Ok(true) => Ok(()),
            Ok(false) => Err(AwsError::client(
                "S3BucketDoesNotExistException",
                format!("S3 bucket does not exist: {}", t.s3_bucket),
            )),
            Err(e) => Err(AwsError::client(
                "S3BucketDoesNotExistException",
                format!("S3 bucket {} could not be reached: {e}", t.s3_bucket),
            )),
        };
    }
    let insufficient = || {
        AwsError::client(
            "InsufficientS3BucketPolicyException",
            format!(
                "Incorrect S3 bucket policy is detected for bucket: {}",
                t.s3_bucket
            ),
        )
    };
    let (bucket, region) = (t.s3_bucket.as_str(), t.home_region.as_str());
    let cloudtrail = cloudtrail_for(t, &t.account, region, Durability::Unrecorded);
    // S3 answers NoSuchBucket before it judges anything, then the ACL read's permission.
    match cloudtrail.call_wire(app, "s3", get_bucket_acl(bucket, region)) {
        Ok(_) => {}
        Err(e) if e.code == "NoSuchBucket" => {
            return Err(AwsError::client(
                "S3BucketDoesNotExistException",
                format!("S3 bucket does not exist: {}", t.s3_bucket),
            ));
        }
        Err(e) if e.code == "AccessDenied" => return Err(insufficient()),
        Err(e) => return Err(internal(format!("{}: {}", e.code, e.message))),
    }
    let prefix = t
        .s3_key_prefix
        .as_deref()
        .map(|p| format!("{p}/"))
        .unwrap_or_default();
    let key = format!(
        "{prefix}AWSLogs/{}/{}_CloudTrail_{}_example.json.gz",
        t.account, t.account, t.home_region
    );
    let write = put_object(bucket, region, &key, Vec::new(), Bytes::new());
    match cloudtrail.authorize_wire(app, "s3", write) {
        Ok(()) => Ok(()),
        Err(e) if e.code == "AccessDenied" => Err(insufficient()),
        Err(e) => Err(internal(format!("{}: {}", e.code, e.message))),
    }
}
