//! ReceiveMessage: up to 10 visible messages, hidden for the visibility timeout, with the
//! system and message attributes asked for; long polling (up to 20 s of real time) that
//! answers as soon as a message is ready; and dead-letter moves under a redrive policy.
//!
//! Visibility, delays and retention follow the application's clock (a test clock moves
//! them); only the long poll's wait is real time. The wait looks again whenever the store
//! says messages were committed, and at least every [`RECHECK`] in case the clock moved.

use std::time::{Duration, Instant};

use cairn_store::sqs::{DeadLetter, Message, Receive};
use cairn_wire::AwsError;
use serde_json::{Map, Value, json};

use super::queues::oldest_kept;
use super::receipts::receipt_handle;
use super::{Found, int_in, internal, strings};
use crate::app::App;
use crate::sqs::{attributes, md5};

/// How often a long poll looks again when nothing was committed.
const RECHECK: Duration = Duration::from_millis(200);
/// How often it looks at the store's generation meanwhile.
const TICK: Duration = Duration::from_millis(10);

/// The message attributes a receive asked for (`All`, `.*`, names, `prefix.*`).
fn wanted(names: &[String], name: &str) -> bool {
    names.iter().any(|n| {
        n == "All"
            || n == ".*"
            || n == name
            || n.strip_suffix(".*")
                .is_some_and(|p| name.starts_with(&format!("{p}.")))
    })
}

/// A message as ReceiveMessage answers it.
fn message_doc(m: &Message, system: &[String], names: &[String]) -> Value {
    let mut doc = json!({
        "MessageId": m.id,
        "ReceiptHandle": m.receipt,
        "MD5OfBody": m.md5_body,
        "Body": m.body,
    });
    let all = system.iter().any(|n| n == "All");
    let mut attrs = Map::new();
    let mut put = |name: &str, value: String| {
        if all || system.iter().any(|n| n == name) {
            attrs.insert(name.to_owned(), Value::String(value));
        }
    };
    put("SenderId", m.sender_id.clone());
    put("SentTimestamp", m.sent_ms.to_string());
    put("ApproximateReceiveCount", m.receive_count.to_string());
    put(
        "ApproximateFirstReceiveTimestamp",
        m.first_receive_ms.unwrap_or(m.sent_ms).to_string(),
    );
    if let Some(src) = &m.source_arn {
        put("DeadLetterQueueSourceArn", src.clone());
    }
    if !attrs.is_empty() {
        doc["Attributes"] = Value::Object(attrs);
    }
    let stored: Map<String, Value> = serde_json::from_str(&m.attributes).unwrap_or_default();
    let chosen: Map<String, Value> = stored
        .into_iter()
        .filter(|(k, _)| wanted(names, k))
        .collect();
    if let Some(digest) = md5::of_attributes(&chosen) {
        doc["MD5OfMessageAttributes"] = json!(digest);
        doc["MessageAttributes"] = Value::Object(chosen);
    }
    doc
}

pub(super) fn receive(app: &App, found: &Found<'_>, input: &Value) -> Result<Value, AwsError> {
    let q = found.queue()?;
    let max = int_in(
        input,
        "MaxNumberOfMessages",
        1,
        10,
        "Must be between 1 and 10, if provided.",
    )?
    .unwrap_or(1);
    let wait = int_in(
        input,
        "WaitTimeSeconds",
        0,
        20,
        "Must be >= 0 and <= 20, if provided.",
    )?
    .unwrap_or_else(|| attributes::int_of(&q.attributes, "ReceiveMessageWaitTimeSeconds"));
    let hide = int_in(
        input,
        "VisibilityTimeout",
        0,
        43_200,
        "Must be >= 0 and <= 43200, if provided.",
    )?
    .unwrap_or_else(|| attributes::int_of(&q.attributes, "VisibilityTimeout"));
    let mut system = strings(input, "AttributeNames");
    system.extend(strings(input, "MessageSystemAttributeNames"));
    let names = strings(input, "MessageAttributeNames");

    let redrive = match q.attributes.get("RedrivePolicy") {
        Some(r) => match attributes::redrive_of(r) {
            // A dead-letter queue deleted since is no longer a destination.
            Ok(r) if app.sqs.queue(&r.target).map_err(internal)?.is_some() => Some(r),
            _ => None,
        },
        None => None,
    };
    let source_arn = q.key.arn();
    let make_receipt = |m: &Message| receipt_handle(&source_arn, &m.id);
    let deadline = Instant::now() + Duration::from_secs(u64::try_from(wait).unwrap_or(0));
    let got = loop {
        let seen = app.sqs.generation();
        let now = app.clock.now_millis();
        let r = Receive {
            now_ms: now,
            oldest_ms: oldest_kept(app, q),
            max: usize::try_from(max).unwrap_or(1),
            visible_until_ms: now + hide * 1000,
            receipt: &make_receipt,
            dead_letter: redrive.as_ref().map(|r| DeadLetter {
                queue: &r.target,
                max_receives: r.max_receives,
                source_arn: &source_arn,
            }),
        };
        let got = app.sqs.receive(found.key, &r).map_err(internal)?;
        if !got.is_empty() || Instant::now() >= deadline {
            break got;
        }
        let look_again = (Instant::now() + RECHECK).min(deadline);
        while Instant::now() < look_again && app.sqs.generation() == seen {
            std::thread::sleep(TICK);
        }
    };
    let docs: Vec<Value> = got
        .iter()
        .map(|m| message_doc(m, &system, &names))
        .collect();
    Ok(if docs.is_empty() {
        json!({})
    } else {
        json!({ "Messages": docs })
    })
}

#[cfg(test)]
mod tests {
    use super::wanted;

    #[test]
    fn attribute_names_select_by_name_prefix_or_all() {
        let names = vec!["trace.*".to_string(), "colour".to_string()];
        assert!(wanted(&names, "trace.id"));
        assert!(!wanted(&names, "tracer"));
        assert!(wanted(&names, "colour"));
        assert!(!wanted(&names, "size"));
        assert!(wanted(&["All".to_string()], "size"));
        assert!(wanted(&[".*".to_string()], "size"));
    }
}
