//! The resources the Create trail wizard makes when asked for new ones, with the policies
//! AWS's console writes on them so that CloudTrail (and only for this trail) may use them:
//! a KMS key CloudTrail may encrypt log files with and the account may decrypt them with, an
//! SNS topic CloudTrail may publish to, and a CloudWatch Logs group with the role CloudTrail
//! assumes to write to it.

use serde_json::json;

/// The key policy of a new KMS key for a trail's log files.
pub fn key_policy(account: &str, trail_arn: &str) -> String {
    let trails = format!("arn:aws:cloudtrail:*:{account}:trail/*");
    json!({
        "Version": "2012-10-17",
        "Id": "Key policy created by CloudTrail",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": "Allow CloudTrail to encrypt logs",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"AWS:SourceArn": trail_arn},
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails}
                }
            },
            {
                "Sid": "Allow CloudTrail to describe key",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:DescribeKey",
                "Resource": "*"
            },
            {
                "Sid": "Allow principals in the account to decrypt log files",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:CallerAccount": account},
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails}
                }
            }
        ]
    })
    .to_string()
}

/// The topic policy of a new SNS topic for a trail's notifications.
pub fn topic_policy(topic_arn: &str, trail_arn: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AWSCloudTrailSNSPolicy20131101",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "SNS:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"AWS:SourceArn": trail_arn}}
        }]
    })
    .to_string()
}

/// The trust policy of the role CloudTrail assumes to write to CloudWatch Logs.
pub fn logs_role_trust() -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

/// The role's permissions: streams and events in the trail's log group only.
pub fn logs_role_policy(account: &str, region: &str, group: &str) -> String {
    let streams = format!(
        "arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:{account}_CloudTrail_{region}*"
    );
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AWSCloudTrailCreateLogStream2014110", "Effect": "Allow",
             "Action": ["logs:CreateLogStream"], "Resource": [streams]},
            {"Sid": "AWSCloudTrailPutLogEvents20141101", "Effect": "Allow",
             "Action": ["logs:PutLogEvents"], "Resource": [streams]}
        ]
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn policies_are_for_this_trail_and_group() {
        let k: serde_json::Value =
            serde_json::from_str(&key_policy("111122223333", "arn:t")).unwrap();
        assert_eq!(
            k["Statement"][1]["Condition"]["StringEquals"]["AWS:SourceArn"],
            "arn:t"
        );
        let r: serde_json::Value =
            serde_json::from_str(&logs_role_policy("111122223333", "eu-west-1", "g")).unwrap();
        assert_eq!(
            r["Statement"][1]["Resource"][0],
            "arn:aws:logs:eu-west-1:111122223333:log-group:g:log-stream:111122223333_CloudTrail_eu-west-1*"
        );
    }
}
