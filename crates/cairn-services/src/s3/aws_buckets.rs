//! AWS's own public buckets that clients read while setting CloudTrail up, served read-only:
//! `awscloudtrail-policy-<region>`, where `aws cloudtrail create-subscription` and
//! `update-subscription` fetch the bucket and topic policy templates they fill in
//! (`policy/S3/AWSCloudTrail-S3BucketPolicy-2014-12-17.json`,
//! `policy/SNS/AWSCloudTrail-SnsTopicPolicy-2014-12-17.json`). They belong to no cairn account:
//! anyone may read them, nobody may change them, and no account can create a bucket by their
//! name.

use md5::{Digest, Md5};

use super::S3Request;
use super::wire::S3Response;
use cairn_wire::AwsError;

/// The S3 bucket policy template: CloudTrail may read the bucket's ACL and write log files
/// under the account's `AWSLogs/` folder with `bucket-owner-full-control`. The CLI replaces
/// `<BucketName>`, `<Prefix>/` (or `<Prefix>`) and `<CustomerAccountID>`.
const S3_TEMPLATE: &str = r#"{
	"Version": "2012-10-17",
	"Statement": [
		{
			"Sid": "AWSCloudTrailAclCheck20131101",
			"Effect": "Allow",
			"Principal": {
				"Service": "cloudtrail.amazonaws.com"
			},
			"Action": "s3:GetBucketAcl",
			"Resource": "arn:aws:s3:::<BucketName>"
		},
		{
			"Sid": "AWSCloudTrailWrite20131101",
			"Effect": "Allow",
			"Principal": {
				"Service": "cloudtrail.amazonaws.com"
			},
			"Action": "s3:PutObject",
			"Resource": "arn:aws:s3:::<BucketName>/<Prefix>/AWSLogs/<CustomerAccountID>/*",
			"Condition": {
				"StringEquals": {
					"s3:x-amz-acl": "bucket-owner-full-control"
				}
			}
		}
	]
}
"#;

/// The SNS topic policy template: CloudTrail may publish to the topic. The CLI replaces
/// `<Region>`, `<SNSTopicOwnerAccountId>` and `<SNSTopicName>` and merges the statement into
/// the topic's default policy.
const SNS_TEMPLATE: &str = r#"{
	"Version": "2008-10-17",
	"Statement": [
		{
			"Sid": "AWSCloudTrailSNSPolicy20131101",
			"Effect": "Allow",
			"Principal": {
				"Service": "cloudtrail.amazonaws.com"
			},
			"Action": "SNS:Publish",
			"Resource": "arn:aws:sns:<Region>:<SNSTopicOwnerAccountId>:<SNSTopicName>"
		}
	]
}
"#;

const OBJECTS: [(&str, &str); 2] = [
    (
        "policy/S3/AWSCloudTrail-S3BucketPolicy-2014-12-17.json",
        S3_TEMPLATE,
    ),
    (
        "policy/SNS/AWSCloudTrail-SnsTopicPolicy-2014-12-17.json",
        SNS_TEMPLATE,
    ),
];

/// When the templates were last changed, as `Last-Modified` shows it.
const LAST_MODIFIED: &str = "Wed, 17 Dec 2014 00:00:00 GMT";

/// Whether `bucket` is one of AWS's public buckets (`awscloudtrail-policy-<region>`).
pub fn is_aws_bucket(bucket: &str) -> bool {
    bucket
        .strip_prefix("awscloudtrail-policy-")
        .is_some_and(|region| {
            let parts: Vec<&str> = region.split('-').collect();
            parts.len() >= 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
                && parts
                    .last()
                    .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
        })
}

fn etag(body: &str) -> String {
    format!("\"{}\"", hex::encode(Md5::digest(body.as_bytes())))
}

fn access_denied() -> AwsError {
    AwsError::new(403, "AccessDenied", "Access Denied")
}

fn no_such_key(req: &S3Request) -> AwsError {
    AwsError::new(404, "NoSuchKey", "The specified key does not exist.")
        .with_extra("Key", req.key())
}

/// Answers a request to one of AWS's public buckets: its two objects and a listing of them
/// can be read; everything else is refused as AWS refuses writes to a bucket one does not own.
pub fn answer(req: &S3Request) -> Result<S3Response, AwsError> {
    match req.op {
        "GetObject" | "HeadObject" => {
            let (_, body) = OBJECTS
                .iter()
                .find(|(k, _)| *k == req.key())
                .ok_or_else(|| no_such_key(req))?;
            let r = S3Response {
                status: 200,
                headers: Vec::new(),
                body: if req.op == "GetObject" {
                    body.as_bytes().to_vec()
                } else {
                    Vec::new()
                },
            };
            Ok(r.header("content-type", "application/json")
                .header("etag", etag(body))
                .header("last-modified", LAST_MODIFIED)
                .header("accept-ranges", "bytes")
                .header("content-length", body.len().to_string()))
        }
        "HeadBucket" => Ok(S3Response::empty(200)),
        "GetBucketLocation" => {
            let region = req.bucket().trim_start_matches("awscloudtrail-policy-");
            Ok(S3Response::ok(
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{}</LocationConstraint>",
                    if region == "us-east-1" { "" } else { region }
                )
                .into_bytes(),
            ))
        }
        // CreateBucket of this name: it exists and is someone else's.
        "CreateBucket" => Err(AwsError::new(
            409,
            "BucketAlreadyExists",
            "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
        )
        .with_extra("BucketName", req.bucket())),
        _ => Err(access_denied()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_regional_policy_buckets_are_aws_buckets() {
        assert!(is_aws_bucket("awscloudtrail-policy-us-east-1"));
        assert!(is_aws_bucket("awscloudtrail-policy-ap-southeast-2"));
        assert!(!is_aws_bucket("awscloudtrail-policy-"));
        assert!(!is_aws_bucket("awscloudtrail-policy-useast"));
        assert!(!is_aws_bucket("my-bucket"));
    }

    #[test]
    fn the_templates_are_json_with_the_placeholders_the_cli_fills() {
        for (_, t) in OBJECTS {
            assert!(serde_json::from_str::<serde_json::Value>(t).is_ok());
        }
        for p in ["<BucketName>", "<Prefix>/", "<CustomerAccountID>"] {
            assert!(S3_TEMPLATE.contains(p), "{p}");
        }
        for p in ["<Region>", "<SNSTopicOwnerAccountId>", "<SNSTopicName>"] {
            assert!(SNS_TEMPLATE.contains(p), "{p}");
        }
    }
}
