//! Delivering to SQS subscriptions through an internal call, as AWS does: SQS SendMessage as
//! `sns.amazonaws.com` with the topic as `aws:SourceArn`, so the queue policy decides, and the
//! call is recorded as SQS records it. The body is the signed JSON envelope, or with
//! RawMessageDelivery the bare message with the message attributes as SQS attributes.

use serde_json::{Map, Value, json};

use crate::app::App;
use crate::pipeline::Durability;
use crate::pipeline::internal::Internal;

/// The queue URL of a queue ARN (`arn:aws:sqs:<region>:<account>:<name>`) on cairn's endpoint.
pub(crate) fn queue_url(base_url: &str, arn: &str) -> Option<String> {
    let mut p = arn.split(':');
    let (_, _, _, _region, account, name) = (
        p.next()?,
        p.next()?,
        p.next()?,
        p.next()?,
        p.next()?,
        p.next()?,
    );
    Some(format!("{base_url}/{account}/{name}"))
}

/// SNS message attributes as SQS ones (`{"Type","Value"}` → `{"DataType","StringValue"}`).
pub(crate) fn sqs_attributes(sns: Option<&Map<String, Value>>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in sns.into_iter().flatten() {
        let kind = v.get("Type").and_then(Value::as_str).unwrap_or("String");
        let value = v.get("Value").cloned().unwrap_or(Value::Null);
        let attr = if kind.starts_with("Binary") {
            json!({"DataType": kind, "BinaryValue": value})
        } else {
            json!({"DataType": kind, "StringValue": value})
        };
        out.insert(k.clone(), attr);
    }
    out
}

/// Sends one message to the queue.
pub(crate) fn send(
    app: &App,
    topic_arn: &str,
    queue_arn: &str,
    base_url: &str,
    body: &str,
    attributes: Map<String, Value>,
) -> Result<(), String> {
    let (region, account) = match topic_arn.split(':').collect::<Vec<_>>()[..] {
        [_, _, _, r, a, _] => (r.to_owned(), a.to_owned()),
        _ => return Err(format!("not a topic ARN: {topic_arn}")),
    };
    let url =
        queue_url(base_url, queue_arn).ok_or_else(|| format!("not a queue ARN: {queue_arn}"))?;
    let mut input = json!({"QueueUrl": url, "MessageBody": body});
    if !attributes.is_empty() {
        input["MessageAttributes"] = Value::Object(attributes);
    }
    Internal::service(
        "sns.amazonaws.com",
        &account,
        &region,
        Some(topic_arn),
        Durability::Wait,
    )
    .call_json(app, "sqs", "SendMessage", input)
    .map(|_| ())
    .map_err(|e| format!("{}: {}", e.code, e.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_urls_and_attributes() {
        assert_eq!(
            queue_url(
                "http://127.0.0.1:4566",
                "arn:aws:sqs:us-east-1:111122223333:q"
            )
            .as_deref(),
            Some("http://127.0.0.1:4566/111122223333/q")
        );
        assert!(queue_url("x", "arn:aws:sqs").is_none());
        let a = json!({"n": {"Type": "Number", "Value": "5"}, "b": {"Type": "Binary", "Value": "AAE="}});
        let s = sqs_attributes(a.as_object());
        assert_eq!(s["n"], json!({"DataType": "Number", "StringValue": "5"}));
        assert_eq!(s["b"], json!({"DataType": "Binary", "BinaryValue": "AAE="}));
    }
}
