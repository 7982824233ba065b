//! A bucket policy judged on its own, for the delivery benchmark's direct writes into the
//! object store. Everything else (CreateTrail's checks, `cairn serve`'s deliveries) calls S3
//! through the pipeline, where the same policies are judged with the caller's identity.

pub use crate::policy::{allows_service, wildcard_match};
use cairn_store::trails::Trail;
use cairn_trail::delivery::BucketGate;

/// Judges trail delivery writes by the bucket policy, as S3 judges CloudTrail's PutObject.
pub struct PolicyGate;

impl BucketGate for PolicyGate {
    fn may_write(&self, bucket_policy: Option<&str>, trail: &Trail, key: &str) -> bool {
        let Some(policy) = bucket_policy else {
            return false;
        };
        let ctx = [
            ("aws:SourceArn", trail.arn.as_str()),
            ("aws:SourceAccount", trail.account.as_str()),
            ("s3:x-amz-acl", "bucket-owner-full-control"),
        ];
        allows_service(
            policy,
            "cloudtrail.amazonaws.com",
            "s3:PutObject",
            &format!("arn:aws:s3:::{}/{key}", trail.s3_bucket),
            &ctx,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bucket policy the CloudTrail User Guide gives for trail delivery.
    const DOCUMENTED: &str = r#"{"Version":"2012-10-17","Statement":[
      {"Sid":"AWSCloudTrailAclCheck20150319","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
       "Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::myBucketName",
       "Condition":{"StringEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:111122223333:trail/myTrail"}}},
      {"Sid":"AWSCloudTrailWrite20150319","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
       "Action":"s3:PutObject","Resource":"arn:aws:s3:::myBucketName/AWSLogs/111122223333/*",
       "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control",
         "aws:SourceArn":"arn:aws:cloudtrail:us-east-1:111122223333:trail/myTrail"}}}]}"#;

    #[test]
    fn documented_policy_allows_the_trail_and_only_it() {
        let ctx = [
            (
                "aws:SourceArn",
                "arn:aws:cloudtrail:us-east-1:111122223333:trail/myTrail",
            ),
            ("s3:x-amz-acl", "bucket-owner-full-control"),
        ];
        assert!(allows_service(
            DOCUMENTED,
            "cloudtrail.amazonaws.com",
            "s3:GetBucketAcl",
            "arn:aws:s3:::myBucketName",
            &ctx
        ));
        assert!(allows_service(
            DOCUMENTED,
            "cloudtrail.amazonaws.com",
            "s3:PutObject",
            "arn:aws:s3:::myBucketName/AWSLogs/111122223333/x",
            &ctx
        ));
        let other = [
            (
                "aws:SourceArn",
                "arn:aws:cloudtrail:us-east-1:111122223333:trail/other",
            ),
            ("s3:x-amz-acl", "bucket-owner-full-control"),
        ];
        assert!(!allows_service(
            DOCUMENTED,
            "cloudtrail.amazonaws.com",
            "s3:PutObject",
            "arn:aws:s3:::myBucketName/AWSLogs/111122223333/x",
            &other
        ));
        assert!(!allows_service(
            DOCUMENTED,
            "cloudtrail.amazonaws.com",
            "s3:PutObject",
            "arn:aws:s3:::myBucketName/prefix/AWSLogs/111122223333/x",
            &ctx
        ));
        assert!(!allows_service(
            DOCUMENTED,
            "config.amazonaws.com",
            "s3:GetBucketAcl",
            "arn:aws:s3:::myBucketName",
            &ctx
        ));
        let deny = DOCUMENTED.replacen(
            r#""Statement":["#,
            r#""Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"},"#,
            1,
        );
        assert!(!allows_service(
            &deny,
            "cloudtrail.amazonaws.com",
            "s3:GetBucketAcl",
            "arn:aws:s3:::myBucketName",
            &ctx
        ));
        assert!(!allows_service(
            "not json",
            "cloudtrail.amazonaws.com",
            "s3:GetBucketAcl",
            "arn:aws:s3:::b",
            &ctx
        ));
    }
}
