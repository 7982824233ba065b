//! CloudTrail writing a trail's log files and digests into cairn's embedded S3 as it does in
//! AWS: through S3's API, as the AWSService `cloudtrail.amazonaws.com` working for the trail,
//! so the bucket policy (and, for SSE-KMS, the key policy) decide each write, and each call is
//! recorded as AWS records it:
//!
//! - now and then, a `GetBucketAcl` of the bucket before writing: a read-only management event
//!   (matched field by field with the real one in opensearch-catalog `samples-large.json`,
//!   eventID 8e6ffb2a-af42-47e6-9da9-8d90adbdc937: `{"type": "AWSService", "invokedBy":
//!   "cloudtrail.amazonaws.com"}`, source and user agent `cloudtrail.amazonaws.com`,
//!   `bucketName`, `Host` `<bucket>.s3.<region>.amazonaws.com`, `acl: ""`, a `sharedEventID`,
//!   the bucket as resource);
//! - for a log file under a KMS key, the `GenerateDataKey` S3 makes for CloudTrail, bound to
//!   `aws:cloudtrail:arn` and `aws:s3:arn` (eventID 139bde74-a3a8-4016-be18-e72c16f0cf3b: a
//!   read-only management event by the same identity, `keyId` the key's ARN, `keySpec`
//!   `AES_256`, no response elements);
//! - the `PutObject` itself: an S3 data event, delivered only by trails that select it (AWS's
//!   User Guide: a trail logging data events on its own bucket logs each delivery "in the next
//!   log file").
//!
//! Those records land in the journal after the delivery round that made them read it, so they
//! go to the next round's files, never the current one's: each round ends, and an idle trail
//! that records its own deliveries writes one small file per round, as in AWS, rather than
//! looping. Each call's record is durable before the call returns, so before delivery marks
//! the file written and moves on; if cairn stops in between, the next round writes the same
//! file again under the same key (exactly once per event) and that write is recorded too, as
//! AWS records every PutObject.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use cairn_store::trails::Trail;
use cairn_trail::sink::{LogSink, TrailObject};
use cairn_wire::AwsError;

use super::s3_calls::{cloudtrail_for, get_bucket_acl, put_object};
use crate::app::App;
use crate::pipeline::Durability;

/// How often a trail's bucket ACL check is made (and recorded) again. AWS checks now and
/// then rather than before every file; checking at most hourly keeps an idle trail to one
/// small log file an hour (the file that carries the check itself).
const ACL_CHECK_EVERY_MS: i64 = 60 * 60 * 1000;

/// Writes trails' objects into the embedded S3 through S3's API.
pub struct TrailWrites {
    app: Arc<App>,
    /// When each (trail, bucket) had its ACL checked last.
    acl_checked: Mutex<HashMap<(String, String), i64>>,
}

impl TrailWrites {
    pub fn new(app: Arc<App>) -> TrailWrites {
        TrailWrites {
            app,
            acl_checked: Mutex::default(),
        }
    }

    /// Whether the (trail, bucket) ACL check is due, marking it made if so.
    fn acl_check_due(&self, trail: &Trail, bucket: &str, now_ms: i64) -> bool {
        let Ok(mut checked) = self.acl_checked.lock() else {
            return false;
        };
        let key = (trail.arn.clone(), bucket.to_owned());
        if checked
            .get(&key)
            .is_some_and(|at| now_ms - at < ACL_CHECK_EVERY_MS)
        {
            return false;
        }
        checked.insert(key, now_ms);
        true
    }

    /// The encryption headers of a write: a log file of a trail with a KMS key asks for
    /// SSE-KMS under it, with the trail in the encryption context; other log files take the
    /// bucket's default encryption; digests are SSE-S3 by name, as AWS writes them.
    fn encryption(trail: &Trail, obj: &TrailObject<'_>) -> Vec<(String, String)> {
        match (obj.trail_key, &trail.kms_key_id) {
            (true, Some(key)) => {
                let context = serde_json::json!({"aws:cloudtrail:arn": trail.arn});
                vec![
                    (
                        "x-amz-server-side-encryption".to_owned(),
                        "aws:kms".to_owned(),
                    ),
                    (
                        "x-amz-server-side-encryption-aws-kms-key-id".to_owned(),
                        key.clone(),
                    ),
                    (
                        "x-amz-server-side-encryption-context".to_owned(),
                        B64.encode(context.to_string()),
                    ),
                ]
            }
            (true, None) => Vec::new(),
            (false, _) => vec![(
                "x-amz-server-side-encryption".to_owned(),
                "AES256".to_owned(),
            )],
        }
    }
}

/// What GetTrailStatus shows for a failed write: S3's error code, or `KMS: <code>` when it was
/// KMS that refused the object's data key (S3 passes KMS's errors on, their codes ending in
/// `Exception`, a refusal as `AccessDenied` naming the `kms:` action).
fn delivery_error(e: &AwsError) -> String {
    if e.code.ends_with("Exception") {
        format!("KMS: {}", e.code)
    } else if e.code == "AccessDenied" && e.message.contains(" kms:") {
        "KMS: AccessDeniedException".to_owned()
    } else {
        e.code.to_string()
    }
}

impl LogSink for TrailWrites {
    fn put(&self, trail: &Trail, obj: &TrailObject<'_>) -> Result<(), String> {
        // Where the bucket is and who owns it: the account and region S3 records the calls in.
        let bucket = self
            .app
            .objects
            .bucket(obj.bucket)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "NoSuchBucket".to_owned())?;
        let (account, region) = (bucket.account.as_str(), bucket.region.as_str());
        let now = self.app.clock.now_millis();
        if self.acl_check_due(trail, obj.bucket, now) {
            let check = cloudtrail_for(trail, account, region, Durability::Wait);
            // The check is recorded whatever S3 answers; the write below is judged on its own.
            if let Err(e) = check.call_wire(&self.app, "s3", get_bucket_acl(obj.bucket, region)) {
                tracing::warn!(trail = %trail.arn, bucket = obj.bucket, code = %e.code, "bucket ACL check refused");
            }
        }
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        headers.extend(
            obj.metadata
                .iter()
                .map(|(k, v)| (format!("x-amz-meta-{k}"), (*v).to_owned())),
        );
        headers.extend(Self::encryption(trail, obj));
        let write = put_object(
            obj.bucket,
            region,
            obj.key,
            headers,
            Bytes::copy_from_slice(obj.body),
        );
        // Waited for: the write and its record are durable before delivery marks the file
        // written (exactly once across crashes).
        cloudtrail_for(trail, account, region, Durability::Wait)
            .call_wire(&self.app, "s3", write)
            .map(|_| ())
            .map_err(|e| delivery_error(&e))
    }
}
