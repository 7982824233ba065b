//! Server access log delivery: a journal consumer. Every S3 call is journaled whether or not a
//! trail selects it, so the journal holds every request a bucket served; each round reads it
//! from this consumer's cursor, makes the log line of each call on a bucket with logging on
//! (`access_log.rs`), and writes one log object per bucket into its target bucket, as S3
//! does: through S3's API, as `logging.s3.amazonaws.com`, so the target bucket's policy must
//! let that service write (AWS's requirement). Rounds run on the clock (the test clock runs
//! one when it jumps).
//!
//! Delivery is best effort, as S3's is: lines refused by the target bucket (no policy for the
//! logging service, a bucket gone) are dropped with a warning; a crash after a write and
//! before the cursor moves writes those lines again. The writes themselves are not recorded
//! (no one called them), and calls made by the logging service are not logged, so a bucket
//! that logs to itself does not log its own log deliveries without end.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use cairn_model::timefmt::parse_event_time;
use cairn_store::StoreError;
use cairn_store::journal::{Consumer, Entry, EntryKind, Round};
use cairn_store::objects::{Bucket, BucketConfig};
use rand::Rng;
use serde_json::Value;

use super::access_log::{self, LOGGING_SERVICE, LoggingConfig};
use crate::app::App;
use crate::pipeline::Durability;
use crate::pipeline::internal::{Internal, WireCall};

/// Where the consumer's cursor is kept (among the named cursors of cairn's store).
const CURSOR: &str = "s3-access-logs";
/// Journal bytes read per batch, and batches per round at most.
const READ_BYTES: usize = 1 << 20;
const BATCHES: usize = 50;

pub struct AccessLogs {
    app: Arc<App>,
}

impl AccessLogs {
    /// The first time, the consumer starts at the journal's head: turning logging on logs
    /// what comes after, not what came before.
    pub fn new(app: Arc<App>) -> Result<AccessLogs, StoreError> {
        if app.events.cursor(CURSOR)?.is_none() {
            let head = i64::try_from(app.journal.head()).unwrap_or(i64::MAX);
            app.events
                .advance(CURSOR, head, &[], app.clock.now_millis())?;
        }
        Ok(AccessLogs { app })
    }

    fn round(&self) -> Result<u64, StoreError> {
        let app = &self.app;
        let head = app.journal.head();
        let mut cursor = app
            .events
            .cursor(CURSOR)?
            .and_then(|c| u64::try_from(c).ok())
            .unwrap_or(head);
        if cursor >= head {
            return Ok(0);
        }
        let now = app.clock.now_millis();
        let logged: BTreeMap<String, (Bucket, LoggingConfig)> = app
            .objects
            .buckets_with(BucketConfig::Logging)
            .map_err(|e| StoreError::Invalid(e.to_string()))?
            .into_iter()
            .filter_map(|b| {
                let cfg = serde_json::from_str(b.config(BucketConfig::Logging)?).ok()?;
                Some((b.name.clone(), (b, cfg)))
            })
            .collect();
        // (first event time, lines) by source bucket.
        let mut lines: BTreeMap<String, (i64, Vec<String>)> = BTreeMap::new();
        for _ in 0..BATCHES {
            if logged.is_empty() || cursor >= head {
                cursor = cursor.max(head);
                break;
            }
            let (entries, next) = app.journal.read_from(cursor, READ_BYTES)?;
            if entries.is_empty() && next == cursor {
                break;
            }
            for (offset, payload) in &entries {
                let Ok(entry) = Entry::decode(*offset, payload) else {
                    continue;
                };
                if entry.kind != EntryKind::Recorded {
                    continue;
                }
                let Ok(record) = serde_json::from_slice::<Value>(&entry.record) else {
                    continue;
                };
                if record.get("eventSource").and_then(Value::as_str) != Some("s3.amazonaws.com")
                    || record
                        .pointer("/userIdentity/invokedBy")
                        .and_then(Value::as_str)
                        == Some(LOGGING_SERVICE)
                {
                    continue;
                }
                let Some((bucket, _)) = record
                    .pointer("/requestParameters/bucketName")
                    .and_then(Value::as_str)
                    .and_then(|b| logged.get(b))
                else {
                    continue;
                };
                let owner = super::handlers::canonical_id(&bucket.account);
                if let Some(l) = access_log::line(&record, &owner, entry.served.as_ref()) {
                    let at = record
                        .get("eventTime")
                        .and_then(parse_event_time)
                        .unwrap_or(now);
                    let slot = lines
                        .entry(bucket.name.clone())
                        .or_insert_with(|| (at, Vec::new()));
                    slot.1.push(l);
                }
            }
            cursor = next;
        }
        let mut written = 0;
        for (name, (first_ms, ls)) in lines {
            if let Some((bucket, cfg)) = logged.get(&name)
                && deliver(app, bucket, cfg, &ls, first_ms, now)
            {
                written += 1;
            }
        }
        app.events
            .advance(CURSOR, i64::try_from(cursor).unwrap_or(i64::MAX), &[], now)?;
        Ok(written)
    }
}

/// A log object's unique part: 16 upper-case hex digits.
fn unique() -> String {
    format!("{:016X}", rand::thread_rng().r#gen::<u64>())
}

/// Writes `lines` as one log object of `source`'s into its target bucket, as the logging
/// service; whether it was written.
pub fn deliver(
    app: &App,
    source: &Bucket,
    cfg: &LoggingConfig,
    lines: &[String],
    first_event_ms: i64,
    now_ms: i64,
) -> bool {
    if lines.is_empty() {
        return false;
    }
    let Ok(Some(target)) = app.objects.bucket(&cfg.target_bucket) else {
        tracing::warn!(bucket = %source.name, target = %cfg.target_bucket, "access logs dropped: the target bucket is gone");
        return false;
    };
    let key = access_log::object_key(
        cfg,
        (&source.account, &source.region, &source.name),
        first_event_ms,
        now_ms,
        &unique(),
    );
    let mut body = lines.join("\n");
    body.push('\n');
    let call = WireCall {
        method: http::Method::PUT,
        path: format!(
            "/{}",
            cairn_wire::sigv4::uri_encode(&key).replace("%2F", "/")
        ),
        query: None,
        headers: vec![
            (
                "host".to_owned(),
                format!("{}.s3.{}.amazonaws.com", target.name, target.region),
            ),
            ("content-type".to_owned(), "text/plain".to_owned()),
            ("content-length".to_owned(), body.len().to_string()),
        ],
        body: Bytes::from(body),
    };
    let source_arn = format!("arn:aws:s3:::{}", source.name);
    let logger = Internal::service(
        LOGGING_SERVICE,
        &target.account,
        &target.region,
        Some(&source_arn),
        Durability::Unrecorded,
    );
    match logger.call_wire(app, "s3", call) {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(bucket = %source.name, target = %cfg.target_bucket, code = %e.code, "access logs refused by the target bucket");
            false
        }
    }
}

impl Consumer for AccessLogs {
    fn name(&self) -> &'static str {
        "s3-access-logs"
    }

    fn needs_from(&self) -> Result<u64, StoreError> {
        Ok(self
            .app
            .events
            .cursor(CURSOR)?
            .and_then(|c| u64::try_from(c).ok())
            .unwrap_or(0))
    }

    fn run_due(&self) -> Result<Round, String> {
        self.round()
            .map(|done| Round { done })
            .map_err(|e| e.to_string())
    }
}
