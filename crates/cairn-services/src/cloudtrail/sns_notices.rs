//! CloudTrail telling a trail's SNS topic about written log files as it does in AWS: a Publish
//! through SNS's API as the AWSService `cloudtrail.amazonaws.com` working for the trail
//! (`aws:SourceArn`), so the topic policy decides each one, sent to the topic's region, with no
//! `Subject` (a real SQS-delivered notification has none). The call is recorded as any Publish
//! is, and its record is durable before the notice is marked sent.

use std::sync::Arc;

use cairn_store::trails::Trail;
use cairn_trail::notify::Notifier;
use serde_json::json;

use super::s3_calls::cloudtrail_for;
use super::sns_settings::{topic_arn, topic_region};
use crate::app::App;
use crate::pipeline::Durability;

/// Publishes trails' notifications to their topics through SNS's API.
pub struct TrailNotices {
    app: Arc<App>,
}

impl TrailNotices {
    pub fn new(app: Arc<App>) -> TrailNotices {
        TrailNotices { app }
    }
}

impl Notifier for TrailNotices {
    /// The error is SNS's error code, as `LatestNotificationError` shows it.
    fn publish(&self, trail: &Trail, message: &str) -> Result<(), String> {
        let arn = topic_arn(trail).ok_or_else(|| "the trail has no topic".to_owned())?;
        let region = topic_region(trail, &arn);
        cloudtrail_for(trail, &trail.account, &region, Durability::Wait)
            .call_json(
                &self.app,
                "sns",
                "Publish",
                json!({"TopicArn": arn, "Message": message}),
            )
            .map(|_| ())
            .map_err(|e| e.code.to_string())
    }
}
