//! Where a trail delivers, checked as AWS checks it when a trail is created or changed: the
//! bucket must exist and its policy let CloudTrail check its ACL and write; a KMS key must exist
//! in the trail's region and its policy let CloudTrail make data keys.

use cairn_store::trails::Trail;
use cairn_wire::AwsError;

use super::trails::internal;
use crate::app::App;
use crate::s3::policy::allows_service;

/// The KMS key a trail encrypts its log files with, as its ARN: it must exist in the trail's
/// region and its key policy must let CloudTrail make data keys. An empty id turns encryption
/// off.
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
    let scope = crate::kms::Scope {
        account: &t.account,
        region: &t.home_region,
    };
    let key = crate::kms::resolve_key(app, scope, id).map_err(|_| {
        AwsError::client(
            "KmsKeyNotFoundException",
            format!(
                "KMS key {id} does not exist in {} or is not in the same region as the trail.",
                t.home_region
            ),
        )
    })?;
    let ctx = [
        ("aws:SourceArn", t.arn.as_str()),
        ("kms:EncryptionContext:aws:cloudtrail:arn", t.arn.as_str()),
    ];
    if !crate::policy::allows(
        &key.policy,
        crate::policy::Requester::Service("cloudtrail.amazonaws.com"),
        "kms:GenerateDataKey",
        &key.arn(),
        &ctx,
    ) {
        return Err(AwsError::client(
            "InsufficientEncryptionPolicyException",
            format!(
                "Insufficient permissions to access S3 bucket {} or KMS key {}.",
                t.s3_bucket,
                key.arn()
            ),
        ));
    }
    Ok(Some(key.arn()))
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
    let bucket = app
        .objects
        .bucket(&t.s3_bucket)
        .map_err(internal)?
        .ok_or_else(|| {
            AwsError::client(
                "S3BucketDoesNotExistException",
                format!("S3 bucket does not exist: {}", t.s3_bucket),
            )
        })?;
    let insufficient = || {
        AwsError::client(
            "InsufficientS3BucketPolicyException",
            format!(
                "Incorrect S3 bucket policy is detected for bucket: {}",
                t.s3_bucket
            ),
        )
    };
    let policy = bucket.policy.ok_or_else(insufficient)?;
    let prefix = t
        .s3_key_prefix
        .as_deref()
        .map(|p| format!("{p}/"))
        .unwrap_or_default();
    let object = format!(
        "arn:aws:s3:::{}/{prefix}AWSLogs/{}/{}_CloudTrail_{}_example.json.gz",
        t.s3_bucket, t.account, t.account, t.home_region
    );
    let ctx = [
        ("aws:SourceArn", t.arn.as_str()),
        ("aws:SourceAccount", t.account.as_str()),
        ("s3:x-amz-acl", "bucket-owner-full-control"),
    ];
    let acl = allows_service(
        &policy,
        "cloudtrail.amazonaws.com",
        "s3:GetBucketAcl",
        &format!("arn:aws:s3:::{}", t.s3_bucket),
        &ctx,
    );
    let put = allows_service(
        &policy,
        "cloudtrail.amazonaws.com",
        "s3:PutObject",
        &object,
        &ctx,
    );
    if acl && put {
        Ok(())
    } else {
        Err(insufficient())
    }
}
