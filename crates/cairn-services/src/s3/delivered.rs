//! CloudTrail's own writes into the embedded S3 (log files and digests), recorded as AWS
//! records them: `PutObject` data events by the `AWSService` `cloudtrail.amazonaws.com`, in
//! the bucket owner's account. Like every data event they reach only trails that select them.

use std::sync::Arc;

use cairn_model::{EventCategory, Principal, RecordResource};
use cairn_store::journal::{Entry, EntryKind};
use cairn_store::objects::Bucket;
use serde_json::{Map, Value, json};

use super::record::id2;
use crate::app::App;
use crate::recorder::{self, CallContext, CallFacts};

const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";

pub struct DeliveryRecorder(pub Arc<App>);

impl cairn_trail::sink::WriteObserver for DeliveryRecorder {
    fn wrote(&self, bucket: &Bucket, key: &str, bytes: usize, sse: &str, kms_key: Option<&str>) {
        let app = &self.0;
        let request_id = super::new_request_id();
        let ctx = CallContext {
            principal: Principal::AwsService {
                service: CLOUDTRAIL.into(),
            },
            recipient_account: bucket.account.clone(),
            region: bucket.region.clone(),
            source_ip: CLOUDTRAIL.into(),
            user_agent: Some(CLOUDTRAIL.into()),
            request_id: request_id.clone(),
        };
        let mut params = Map::new();
        params.insert("bucketName".into(), bucket.name.clone().into());
        params.insert(
            "Host".into(),
            format!("{}.s3.{}.amazonaws.com", bucket.name, bucket.region).into(),
        );
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
            additional_event_data: Some(json!({
                "SignatureVersion": "SigV4",
                "bytesTransferredIn": bytes,
                "AuthenticationMethod": "AuthHeader",
                "x-amz-id-2": id2(&request_id),
                "bytesTransferredOut": 0,
            })),
            resources: vec![
                RecordResource::new("AWS::S3::Object", format!("{barn}/{key}"), None),
                RecordResource::new("AWS::S3::Bucket", barn, Some(bucket.account.clone())),
            ],
            shared_with: None,
        };
        let record = recorder::build_record(&ctx, facts, None, app.clock.now_millis());
        let entry = Entry {
            kind: EntryKind::Recorded,
            account: bucket.account.clone(),
            record: record.to_json_bytes(),
        };
        // The object is written either way; a record that cannot be made durable is logged.
        if let Err(e) = app.journal.append(vec![entry.encode()]).wait_blocking() {
            tracing::error!(error = %e, bucket = %bucket.name, key, "could not record a delivery write");
        }
    }
}
