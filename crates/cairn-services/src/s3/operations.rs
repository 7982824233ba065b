//! S3's operation table: every operation cairn's S3 serves, with the IAM actions it may need,
//! which are read-only, which are data events (objects and listings) and who decides them
//! (bucket policies, with identity policies). Requests for other operations are answered
//! `NotImplemented` when they are routed, before anything is recorded.

use std::sync::OnceLock;

use crate::pipeline::{Access, Operation};

/// Every operation cairn's S3 serves, with the IAM actions it may need (ListObjectsV2 is
/// ListObjects, as CloudTrail names it). Requests for other operations are answered
/// `NotImplemented` when they are routed, before anything is recorded.
const OPERATIONS: [(&str, &[&str]); 64] = [
    ("ListBuckets", &["s3:ListAllMyBuckets"]),
    ("CreateBucket", &["s3:CreateBucket"]),
    ("DeleteBucket", &["s3:DeleteBucket"]),
    ("HeadBucket", &["s3:ListBucket"]),
    ("ListObjects", &["s3:ListBucket"]),
    ("ListObjectVersions", &["s3:ListBucketVersions"]),
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
    ("PutPublicAccessBlock", &["s3:PutBucketPublicAccessBlock"]),
    ("GetPublicAccessBlock", &["s3:GetBucketPublicAccessBlock"]),
    (
        "DeletePublicAccessBlock",
        &["s3:PutBucketPublicAccessBlock"],
    ),
    ("GetBucketPolicyStatus", &["s3:GetBucketPolicyStatus"]),
    ("PutBucketCors", &["s3:PutBucketCORS"]),
    ("GetBucketCors", &["s3:GetBucketCORS"]),
    ("DeleteBucketCors", &["s3:PutBucketCORS"]),
    (
        "PutBucketOwnershipControls",
        &["s3:PutBucketOwnershipControls"],
    ),
    (
        "GetBucketOwnershipControls",
        &["s3:GetBucketOwnershipControls"],
    ),
    (
        "DeleteBucketOwnershipControls",
        &["s3:PutBucketOwnershipControls"],
    ),
    // S3 Control: an account's settings, decided by identity policies alone.
    (
        "PutAccountPublicAccessBlock",
        &["s3:PutAccountPublicAccessBlock"],
    ),
    (
        "GetAccountPublicAccessBlock",
        &["s3:GetAccountPublicAccessBlock"],
    ),
    (
        "DeleteAccountPublicAccessBlock",
        &["s3:PutAccountPublicAccessBlock"],
    ),
    (
        "GetObjectAcl",
        &["s3:GetObjectAcl", "s3:GetObjectVersionAcl"],
    ),
    (
        "PutObjectAcl",
        &["s3:PutObjectAcl", "s3:PutObjectVersionAcl"],
    ),
    // A write naming tags or a lock needs their permissions too.
    (
        "PutObject",
        &[
            "s3:PutObject",
            "s3:PutObjectTagging",
            "s3:PutObjectRetention",
            "s3:PutObjectLegalHold",
        ],
    ),
    // A browser upload (a form POSTed to the bucket): PutObject, as IAM judges it.
    ("PostObject", &["s3:PutObject"]),
    (
        "GetObjectAttributes",
        &["s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"],
    ),
    ("ListMultipartUploads", &["s3:ListBucketMultipartUploads"]),
    // A copy reads its source: s3:GetObjectVersion when it names the source's version.
    (
        "CopyObject",
        &[
            "s3:PutObject",
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:PutObjectTagging",
            "s3:PutObjectRetention",
            "s3:PutObjectLegalHold",
        ],
    ),
    // A read answers a version's lock to a caller that may read it.
    (
        "GetObject",
        &[
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:GetObjectRetention",
            "s3:GetObjectLegalHold",
        ],
    ),
    (
        "HeadObject",
        &[
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:GetObjectRetention",
            "s3:GetObjectLegalHold",
        ],
    ),
    (
        "DeleteObject",
        &[
            "s3:DeleteObject",
            "s3:DeleteObjectVersion",
            "s3:BypassGovernanceRetention",
        ],
    ),
    // Judged key by key as each is deleted.
    (
        "DeleteObjects",
        &[
            "s3:DeleteObject",
            "s3:DeleteObjectVersion",
            "s3:BypassGovernanceRetention",
        ],
    ),
    (
        "PutObjectLockConfiguration",
        &["s3:PutBucketObjectLockConfiguration"],
    ),
    (
        "GetObjectLockConfiguration",
        &["s3:GetBucketObjectLockConfiguration"],
    ),
    (
        "PutObjectRetention",
        &["s3:PutObjectRetention", "s3:BypassGovernanceRetention"],
    ),
    ("GetObjectRetention", &["s3:GetObjectRetention"]),
    ("PutObjectLegalHold", &["s3:PutObjectLegalHold"]),
    ("GetObjectLegalHold", &["s3:GetObjectLegalHold"]),
    (
        "CreateMultipartUpload",
        &[
            "s3:PutObject",
            "s3:PutObjectTagging",
            "s3:PutObjectRetention",
            "s3:PutObjectLegalHold",
        ],
    ),
    ("UploadPart", &["s3:PutObject"]),
    (
        "UploadPartCopy",
        &["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion"],
    ),
    ("CompleteMultipartUpload", &["s3:PutObject"]),
    ("AbortMultipartUpload", &["s3:AbortMultipartUpload"]),
    ("ListParts", &["s3:ListMultipartUploadParts"]),
    ("PutBucketTagging", &["s3:PutBucketTagging"]),
    ("GetBucketTagging", &["s3:GetBucketTagging"]),
    ("DeleteBucketTagging", &["s3:PutBucketTagging"]),
    (
        "PutObjectTagging",
        &["s3:PutObjectTagging", "s3:PutObjectVersionTagging"],
    ),
    (
        "GetObjectTagging",
        &["s3:GetObjectTagging", "s3:GetObjectVersionTagging"],
    ),
    (
        "DeleteObjectTagging",
        &["s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"],
    ),
    // CloudTrail names the lifecycle calls without "Configuration".
    ("PutBucketLifecycle", &["s3:PutLifecycleConfiguration"]),
    ("GetBucketLifecycle", &["s3:GetLifecycleConfiguration"]),
    ("DeleteBucketLifecycle", &["s3:PutLifecycleConfiguration"]),
    ("PutBucketLogging", &["s3:PutBucketLogging"]),
    ("GetBucketLogging", &["s3:GetBucketLogging"]),
];

/// CloudTrail's names for operations it names otherwise than the API.
fn event_name(op: &'static str) -> &'static str {
    match op {
        "PutObjectLockConfiguration" => "PutBucketObjectLockConfiguration",
        "GetObjectLockConfiguration" => "GetBucketObjectLockConfiguration",
        "PutPublicAccessBlock" => "PutBucketPublicAccessBlock",
        "GetPublicAccessBlock" => "GetBucketPublicAccessBlock",
        "DeletePublicAccessBlock" => "DeleteBucketPublicAccessBlock",
        other => other,
    }
}

/// Object-level operations (and listings): data events.
fn is_data(op: &str) -> bool {
    matches!(
        op,
        "GetObject"
            | "HeadObject"
            | "PutObject"
            | "PostObject"
            | "GetObjectAttributes"
            | "ListMultipartUploads"
            | "DeleteObject"
            | "DeleteObjects"
            | "CopyObject"
            | "ListObjects"
            | "ListObjectVersions"
            | "CreateMultipartUpload"
            | "UploadPart"
            | "UploadPartCopy"
            | "CompleteMultipartUpload"
            | "AbortMultipartUpload"
            | "ListParts"
            | "GetObjectAcl"
            | "PutObjectAcl"
            | "PutObjectTagging"
            | "GetObjectTagging"
            | "DeleteObjectTagging"
            | "PutObjectRetention"
            | "GetObjectRetention"
            | "PutObjectLegalHold"
            | "GetObjectLegalHold"
    )
}

fn is_read_only(op: &str) -> bool {
    op.starts_with("Get") || op.starts_with("Head") || op.starts_with("List")
}

/// The table `Service::operations` answers.
pub(super) fn table() -> &'static [Operation] {
    static TABLE: OnceLock<Vec<Operation>> = OnceLock::new();
    TABLE.get_or_init(|| {
        OPERATIONS
            .iter()
            .map(|&(name, actions)| {
                let op = Operation::named("s3", name, is_read_only(name), true)
                    .actions(actions)
                    .access(
                        if name == "ListBuckets" || name.ends_with("AccountPublicAccessBlock") {
                            Access::Identity
                        } else {
                            Access::BucketPolicy
                        },
                    )
                    .recorded_as(event_name(name));
                if is_data(name) { op.data() } else { op }
            })
            .collect()
    })
}
