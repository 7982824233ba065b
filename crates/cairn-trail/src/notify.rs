//! SNS notifications of written log files (CloudTrail's `SnsTopicName`): a consumer that sends
//! the notices delivery queued, to each trail's topic, as AWS's message
//! `{"s3Bucket":"…","s3ObjectKey":["…", …]}`.
//!
//! A notice is queued in the transaction that marks its log file written and leaves the queue
//! only after the topic took it, so a crash between the two sends it again: at least once,
//! never lost. The notices of one trail and bucket waiting together go in one message (AWS's
//! notification may list several keys), at most [`MAX_KEYS`] each. A trail whose topic
//! refuses is retried with backoff; its error is `LatestNotificationError` meanwhile.

use std::collections::BTreeMap;
use std::sync::Arc;

use cairn_model::Clock;
use cairn_store::StoreError;
use cairn_store::trails::{Notice, Trail, TrailStore};

use crate::backoff::Backoff;

/// Most keys in one notification. Keys are at most ~300 bytes, so a message stays far under
/// SNS's 256 KB limit.
pub const MAX_KEYS: usize = 50;

/// Publishes a notification to a trail's topic; an error is the text GetTrailStatus shows.
pub trait Notifier: Send + Sync {
    fn publish(&self, trail: &Trail, message: &str) -> Result<(), String>;
}

/// AWS's notification message: compact JSON, bucket then keys.
pub fn message(bucket: &str, keys: &[&str]) -> String {
    serde_json::json!({"s3Bucket": bucket, "s3ObjectKey": keys}).to_string()
}

pub struct Notifications {
    pub trails: Arc<dyn TrailStore>,
    pub notifier: Arc<dyn Notifier>,
    pub clock: Arc<dyn Clock>,
    pub backoff: Backoff,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct NotifyReport {
    /// Messages the topics took.
    pub sent: usize,
    /// Messages refused (left queued for a later round).
    pub failed: usize,
    /// Notices dropped because their trail is gone or has no topic any more.
    pub dropped: usize,
}

impl Notifications {
    /// Sends what is queued and due. Safe to call again after any failure.
    pub fn run_once(&self) -> Result<NotifyReport, StoreError> {
        let now = self.clock.now_millis();
        let mut report = NotifyReport::default();
        // Per trail, per bucket, in queue order.
        let mut groups: BTreeMap<(String, String), Vec<Notice>> = BTreeMap::new();
        for n in self.trails.pending_notices()? {
            groups
                .entry((n.trail_arn.clone(), n.bucket.clone()))
                .or_default()
                .push(n);
        }
        let mut outcome: BTreeMap<String, Option<String>> = BTreeMap::new();
        for ((arn, bucket), notices) in groups {
            let trail = self
                .trails
                .get(&arn)?
                .filter(|t| t.sns_topic_name.is_some());
            let Some(trail) = trail else {
                // The trail is gone or notifies no more: nothing is owed.
                let ids: Vec<i64> = notices.iter().map(|n| n.id).collect();
                self.trails.notices_done(&ids)?;
                report.dropped += ids.len();
                continue;
            };
            if matches!(outcome.get(&arn), Some(Some(_))) || !self.backoff.due(&arn, now) {
                continue;
            }
            for chunk in notices.chunks(MAX_KEYS) {
                let keys: Vec<&str> = chunk.iter().map(|n| n.key.as_str()).collect();
                match self.notifier.publish(&trail, &message(&bucket, &keys)) {
                    Ok(()) => {
                        let ids: Vec<i64> = chunk.iter().map(|n| n.id).collect();
                        self.trails.notices_done(&ids)?;
                        self.backoff.succeeded(&arn);
                        report.sent += 1;
                        outcome.entry(arn.clone()).or_insert(None);
                    }
                    Err(reason) => {
                        let next = self.backoff.failed(&arn, now);
                        tracing::warn!(trail = %arn, %reason, retry_in_ms = next - now, "trail SNS notification failed; will retry");
                        report.failed += 1;
                        outcome.insert(arn.clone(), Some(reason));
                        break;
                    }
                }
            }
        }
        for (arn, err) in outcome {
            let mut s = self.trails.notify_status(&arn)?;
            s.attempt_ms = Some(now);
            match err {
                None => {
                    s.latest_ms = Some(now);
                    s.latest_error = None;
                }
                Some(e) => s.latest_error = Some(e),
            }
            self.trails.set_notify_status(&arn, &s)?;
        }
        Ok(report)
    }
}

/// Reads no journal: the notices are in the trail store.
impl cairn_store::journal::Consumer for Notifications {
    fn name(&self) -> &'static str {
        "trail-notifications"
    }

    fn needs_from(&self) -> Result<u64, StoreError> {
        Ok(u64::MAX)
    }

    fn run_due(&self) -> Result<cairn_store::journal::Round, String> {
        let r = self.run_once().map_err(|e| e.to_string())?;
        if r.sent > 0 {
            tracing::info!(messages = r.sent, "trail SNS notifications");
        }
        Ok(cairn_store::journal::Round {
            done: r.sent as u64,
        })
    }
}

#[cfg(test)]
#[path = "notify_tests.rs"]
mod tests;
