//! Subscription filter delivery: a consumer of the Logs store (not of the journal) that reads
//! the batches stored since its durable cursor, matches each against its group's subscription
//! filters, and invokes each filter's function asynchronously (`InvocationType: Event`) as
//! `logs.amazonaws.com`, with AWS's payload: `{"awslogs":{"data": base64(gzip(json))}}`, the
//! JSON `{"messageType":"DATA_MESSAGE","owner","logGroup","logStream","subscriptionFilters",
//! "logEvents":[{"id","timestamp","message"}]}`, one per filter and stream batch.
//!
//! The cursor moves past a batch once its invocations were accepted (Lambda queues them
//! durably), so a crash delivers a batch again rather than never (at least once). A batch
//! whose function refuses the invocation (deleted, permission removed) is given up with a
//! warning, as AWS drops what it cannot deliver; a busy or failing Lambda holds the cursor
//! and is tried again next round.

use std::io::Write;
use std::sync::Arc;

use base64::Engine;
use cairn_rules::filter::FilterPattern;
use cairn_store::StoreError;
use cairn_store::journal::{Consumer, Round};
use cairn_store::logs::{GroupKey, Position, StoredBatch, SubscriptionFilter};
use cairn_wire::AwsError;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

use super::{token, wire};
use crate::app::App;
use crate::pipeline::Durability;
use crate::pipeline::internal::Internal;

/// The service principal deliveries are made as.
const LOGS: &str = "logs.amazonaws.com";

/// Batches read per store query.
const BATCHES: usize = 50;

/// Most message bytes in one payload before it is split (Lambda takes 1 MB per asynchronous
/// invocation; gzip and base64 keep a payload of this many bytes of messages well under it).
const PAYLOAD_MESSAGE_BYTES: usize = 2 * 1024 * 1024;

/// Whether CloudWatch Logs may invoke `function` for `key`'s group: the function's policy
/// decides, as for the deliveries themselves.
pub(super) fn may_invoke(app: &App, key: &GroupKey, function: &str) -> Result<(), AwsError> {
    caller(key).authorize_json(
        app,
        "lambda",
        "Invoke",
        json!({"FunctionName": function, "InvocationType": "Event", "Payload": ""}),
    )
}

fn caller(key: &GroupKey) -> Internal {
    Internal::service(
        LOGS,
        &key.account,
        &key.region,
        Some(&wire::group_arn_star(key)),
        Durability::Wait,
    )
}

/// Delivers subscription filters' matches.
pub struct SubscriptionDelivery {
    pub app: Arc<App>,
}

/// One filter, ready to match.
struct Ready {
    key: GroupKey,
    filter: SubscriptionFilter,
    pattern: FilterPattern,
}

/// Why a round stopped early: the store, or a delivery to retry next round.
enum Stop {
    Store(StoreError),
    Retry(String),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Stop {
        Stop::Store(e)
    }
}

impl SubscriptionDelivery {
    /// Delivers everything stored since the cursor; how many invocations were made.
    pub fn run_once(&self) -> Result<u64, String> {
        let logs = &self.app.logs;
        let (mut cursor, end) = logs.subscription_cursor().map_err(|e| e.to_string())?;
        if cursor >= end {
            return Ok(0);
        }
        let filters: Vec<Ready> = logs
            .all_subscription_filters()
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter_map(|(key, filter)| {
                let pattern = FilterPattern::parse(&filter.pattern).ok()?;
                Some(Ready {
                    key,
                    filter,
                    pattern,
                })
            })
            .collect();
        if filters.is_empty() {
            // Nothing subscribes: nothing stored so far will ever be delivered.
            logs.set_subscription_cursor(end)
                .map_err(|e| e.to_string())?;
            return Ok(0);
        }
        let mut made = 0;
        loop {
            let batches = logs
                .batches_from(cursor, BATCHES)
                .map_err(|e| e.to_string())?;
            if batches.is_empty() {
                break;
            }
            for b in &batches {
                match self.deliver(b, &filters) {
                    Ok(n) => made += n,
                    Err(Stop::Store(e)) => return Err(e.to_string()),
                    Err(Stop::Retry(why)) => {
                        tracing::warn!(group = %b.key.name, error = %why, "subscription delivery will be retried");
                        return Ok(made);
                    }
                }
                cursor = b.first_id + b.events.len() as i64;
                logs.set_subscription_cursor(cursor)
                    .map_err(|e| e.to_string())?;
            }
            if batches.len() < BATCHES {
                break;
            }
        }
        // Batches of deleted groups leave gaps: everything up to the end read so far is done.
        if cursor < end
            && logs
                .batches_from(cursor, 1)
                .map_err(|e| e.to_string())?
                .is_empty()
        {
            logs.set_subscription_cursor(end)
                .map_err(|e| e.to_string())?;
        }
        Ok(made)
    }

    /// Invokes each of the batch's group's filters with the events it matches.
    fn deliver(&self, b: &StoredBatch, filters: &[Ready]) -> Result<u64, Stop> {
        let mut made = 0;
        for f in filters.iter().filter(|f| f.key == b.key) {
            let events: Vec<Value> = b
                .events
                .iter()
                .enumerate()
                .map(|(i, (ts, m))| (b.first_id + i as i64, *ts, m))
                .filter(|(id, _, m)| *id >= f.filter.from_id && f.pattern.matches(m).is_some())
                .map(|(id, timestamp, message)| {
                    json!({
                        "id": token::position(&self.app.token_key, Position { timestamp, id }),
                        "timestamp": timestamp,
                        "message": message,
                    })
                })
                .collect();
            for chunk in chunks(events) {
                let payload = awslogs_payload(b, &f.filter.name, chunk)
                    .map_err(|e| Stop::Retry(e.to_string()))?;
                match invoke(&self.app, &b.key, &f.filter.destination_arn, &payload) {
                    Ok(()) => made += 1,
                    Err(e) if retryable(&e) => {
                        return Err(Stop::Retry(format!("{}: {}", e.code, e.message)));
                    }
                    Err(e) => {
                        tracing::warn!(filter = %f.filter.name, group = %b.key.name, code = %e.code, error = %e.message, "a subscription filter's function refused its events; they are dropped");
                    }
                }
            }
        }
        Ok(made)
    }
}

/// Splits a batch's matches so each payload stays within Lambda's asynchronous limit.
fn chunks(events: Vec<Value>) -> Vec<Vec<Value>> {
    let mut out: Vec<Vec<Value>> = Vec::new();
    let mut size = 0;
    for e in events {
        let n = e["message"].as_str().map_or(0, str::len) + 100;
        if out.is_empty() || size + n > PAYLOAD_MESSAGE_BYTES {
            out.push(Vec::new());
            size = 0;
        }
        size += n;
        if let Some(last) = out.last_mut() {
            last.push(e);
        }
    }
    out
}

/// `{"awslogs":{"data": base64(gzip(DATA_MESSAGE))}}`.
fn awslogs_payload(
    b: &StoredBatch,
    filter: &str,
    events: Vec<Value>,
) -> Result<Vec<u8>, std::io::Error> {
    let message = json!({
        "messageType": "DATA_MESSAGE",
        "owner": b.key.account,
        "logGroup": b.key.name,
        "logStream": b.stream,
        "subscriptionFilters": [filter],
        "logEvents": events,
    });
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(message.to_string().as_bytes())?;
    let data = base64::engine::general_purpose::STANDARD.encode(gz.finish()?);
    Ok(json!({"awslogs": {"data": data}}).to_string().into_bytes())
}

fn invoke(app: &App, key: &GroupKey, function: &str, payload: &[u8]) -> Result<(), AwsError> {
    caller(key)
        .call_json(
            app,
            "lambda",
            "Invoke",
            json!({
                "FunctionName": function,
                "InvocationType": "Event",
                "Payload": base64::engine::general_purpose::STANDARD.encode(payload),
            }),
        )
        .map(|_| ())
}

/// Errors worth another try: throttling and the service's own failures.
fn retryable(e: &AwsError) -> bool {
    e.status >= 500 || e.status == 429
}

impl Consumer for SubscriptionDelivery {
    fn name(&self) -> &'static str {
        "log-subscriptions"
    }
    fn needs_from(&self) -> Result<u64, StoreError> {
        Ok(u64::MAX)
    }
    fn run_due(&self) -> Result<Round, String> {
        Ok(Round {
            done: self.run_once()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    #[test]
    fn the_payload_is_gzipped_base64_json_as_lambda_receives_it() {
        let b = StoredBatch {
            key: GroupKey::new("111122223333", "us-east-1", "ct"),
            stream: "111122223333_CloudTrail_us-east-1".into(),
            first_id: 7,
            events: vec![(1, "m".into())],
        };
        let events = vec![json!({"id": "1", "timestamp": 1, "message": "m"})];
        let p: Value = serde_json::from_slice(&awslogs_payload(&b, "f", events).unwrap()).unwrap();
        let data = p["awslogs"]["data"].as_str().unwrap();
        let gz = base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap();
        let mut text = String::new();
        GzDecoder::new(&gz[..]).read_to_string(&mut text).unwrap();
        let m: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(m["messageType"], "DATA_MESSAGE");
        assert_eq!(m["owner"], "111122223333");
        assert_eq!(m["logGroup"], "ct");
        assert_eq!(m["logStream"], "111122223333_CloudTrail_us-east-1");
        assert_eq!(m["subscriptionFilters"], json!(["f"]));
        assert_eq!(m["logEvents"][0]["message"], "m");
    }

    #[test]
    fn large_matches_are_split() {
        let big = "x".repeat(1024 * 1024);
        let events: Vec<Value> = (0..5).map(|i| json!({"id": i, "message": big})).collect();
        let c = chunks(events);
        assert_eq!(c.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1, 1, 1, 1]);
        assert!(chunks(Vec::new()).is_empty());
    }
}
