//! CloudTrail's own calls to the embedded S3, recorded as AWS records them, by the `AWSService`
//! `cloudtrail.amazonaws.com` in the bucket owner's account: each write of a log file or digest
//! is a `PutObject` data event (it reaches only trails that select it), and the bucket ACL
//! check before delivering is a read-only `GetBucketAcl` management event (in event history
//! and every trail logging management events, as in AWS).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cairn_model::{EventCategory, Principal, RecordResource};
use cairn_store::journal::{Entry, EntryKind};
use cairn_store::objects::Bucket;
use cairn_store::trails::Trail;
use serde_json::{Map, Value, json};

use super::record::id2;
use crate::app::App;
use crate::recorder::{self, CallContext, CallFacts};

const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";

/// How often a trail's bucket ACL check is made (and recorded) again. AWS checks now and
/// then rather than before every file; checking at most hourly keeps an idle trail to one
/// small log file an hour (the file that carries the check itself).
const ACL_CHECK_EVERY_MS: i64 = 60 * 60 * 1000;

/// The `additionalEventData` S3 gives CloudTrail's own calls (signed with SigV4 in a header).
fn transfer(request_id: &str, bytes_in: usize, bytes_out: usize) -> Value {
    json!({
        "SignatureVersion": "SigV4",
        "bytesTransferredIn": bytes_in,
        "AuthenticationMethod": "AuthHeader",
        "x-amz-id-2": id2(request_id),
        "bytesTransferredOut": bytes_out,
    })
}

pub struct DeliveryRecorder {
    app: Arc<App>,
    /// When each (trail, bucket) had its ACL checked last.
    acl_checked: Mutex<HashMap<(String, String), i64>>,
}

impl DeliveryRecorder {
    pub fn new(app: Arc<App>) -> DeliveryRecorder {
        DeliveryRecorder {
            app,
            acl_checked: Mutex::default(),
        }
    }

    fn context(bucket: &Bucket, request_id: &str) -> CallContext {
        CallContext {
            principal: Principal::AwsService {
                service: CLOUDTRAIL.into(),
            },
            recipient_account: bucket.account.clone(),
            region: bucket.region.clone(),
            source_ip: CLOUDTRAIL.into(),
            user_agent: Some(CLOUDTRAIL.into()),
            request_id: request_id.to_owned(),
            // CloudTrail reaches S3 inside AWS: its records carry no client TLS details.
            tls: None,
            invoked_by: None,
            source_arn: None,
        }
    }

    fn bucket_params(bucket: &Bucket) -> Map<String, Value> {
        let mut params = Map::new();
        params.insert("bucketName".into(), bucket.name.clone().into());
        params.insert(
            "Host".into(),
            format!("{}.s3.{}.amazonaws.com", bucket.name, bucket.region).into(),
        );
        params
    }

    fn append(&self, record: &cairn_model::ApiCallRecord, bucket: &Bucket, what: &str) {
        let entry = Entry {
            kind: EntryKind::Recorded,
            account: bucket.account.clone(),
            record: record.to_json_bytes(),
        };
        // The delivery goes on either way; a record that cannot be made durable is logged.
        if let Err(e) = self
            .app
            .journal
            .append(vec![entry.encode()])
            .wait_blocking()
        {
            tracing::error!(error = %e, bucket = %bucket.name, "could not record {what}");
        }
    }

    /// Whether the (trail, bucket) ACL check is due, marking it made if so.
    fn acl_check_due(&self, trail: &Trail, bucket: &Bucket, now_ms: i64) -> bool {
        let Ok(mut checked) = self.acl_checked.lock() else {
            return false;
        };
        let key = (trail.arn.clone(), bucket.name.clone());
        if checked
            .get(&key)
            .is_some_and(|at| now_ms - at < ACL_CHECK_EVERY_MS)
        {
            return false;
        }
        checked.insert(key, now_ms);
        true
    }
}

impl cairn_trail::sink::WriteObserver for DeliveryRecorder {
    fn checking_acl(&self, bucket: &Bucket, trail: &Trail) {
        let app = &self.app;
        let now = app.clock.now_millis();
        if !self.acl_check_due(trail, bucket, now) {
            return;
        }
        let request_id = super::new_request_id();
        let ctx = Self::context(bucket, &request_id);
        let mut params = Self::bucket_params(bucket);
        params.insert("acl".into(), "".into());
        let barn = format!("arn:aws:s3:::{}", bucket.name);
        let allowed = bucket.policy.as_deref().is_some_and(|p| {
            crate::policy::allows_service(
                p,
                CLOUDTRAIL,
                "s3:GetBucketAcl",
                &barn,
                &[
                    ("aws:SourceArn", trail.arn.as_str()),
                    ("aws:SourceAccount", trail.account.as_str()),
                ],
            )
        });
        let answer = super::acl::owner_full_control(&bucket.account);
        let facts = CallFacts {
            event_source: "s3.amazonaws.com".into(),
            event_name: "GetBucketAcl".into(),
            read_only: true,
            category: EventCategory::Management,
            request_parameters: Some(Value::Object(params)),
            response_elements: None,
            additional_event_data: Some(transfer(
                &request_id,
                0,
                if allowed { answer.len() } else { 0 },
            )),
            resources: vec![RecordResource::new(
                "AWS::S3::Bucket",
                barn,
                Some(bucket.account.clone()),
            )],
            shared_with: None,
        };
        let denied = cairn_wire::AwsError::new(403, "AccessDenied", "Access Denied");
        let mut record = recorder::build_record(&ctx, facts, (!allowed).then_some(&denied), now);
        // AWS gives the records of CloudTrail's bucket checks a sharedEventID: the call is
        // CloudTrail's, made on the bucket owner's behalf.
        record.shared_event_id = Some(cairn_model::ids::new_uuid());
        self.append(&record, bucket, "a bucket ACL check");
    }

    fn wrote(&self, bucket: &Bucket, key: &str, bytes: usize, sse: &str, kms_key: Option<&str>) {
        let app = &self.app;
        let request_id = super::new_request_id();
        let ctx = Self::context(bucket, &request_id);
        let mut params = Self::bucket_params(bucket);
        params.insert("key".into(), key.into());
        params.insert("x-amz-acl".into(), "bucket-owner-full-control".into());
        params.insert("x-amz-server-side-encryption".into(), sse.into());
        let mut response = Map::new();
        response.insert("x-amz-server-side-encryption".into(), sse.into());
        if let Some(k) = kms_key {
            params.insert(
                "x-amz-server-side-encryption-aws-kms-key-id".into(),
                k.into(),
            );
            response.insert(
                "x-amz-server-side-encryption-aws-kms-key-id".into(),
                k.into(),
            );
        }
        let barn = format!("arn:aws:s3:::{}", bucket.name);
        let facts = CallFacts {
            event_source: "s3.amazonaws.com".into(),
            event_name: "PutObject".into(),
            read_only: false,
            category: EventCategory::Data,
            request_parameters: Some(Value::Object(params)),
            response_elements: Some(Value::Object(response)),
            additional_event_data: Some(transfer(&request_id, bytes, 0)),
            resources: vec![
                RecordResource::new("AWS::S3::Object", format!("{barn}/{key}"), None),
                RecordResource::new("AWS::S3::Bucket", barn, Some(bucket.account.clone())),
            ],
            shared_with: None,
        };
        let record = recorder::build_record(&ctx, facts, None, app.clock.now_millis());
        self.append(&record, bucket, "a delivery write");
    }
}
