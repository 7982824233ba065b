//! How SQS calls are recorded (`sqs.amazonaws.com`), as AWS's records show them:
//! `requestParameters` are the members as sent with lower-camel-case names (`queueUrl`,
//! `attributes`), the keys of maps (attributes, tags, message attributes) kept as sent;
//! message bodies are replaced by `HIDDEN_DUE_TO_SECURITY_REASONS` (SendMessage and each
//! SendMessageBatch entry). `responseElements` are shaped the same way for calls that change
//! something (`queueUrl`, `mD5OfMessageBody`, `messageId`) and null for reads, so that
//! ReceiveMessage's messages never reach a record. Every call on a queue lists it among its
//! `resources` (`AWS::SQS::Queue`), so that advanced event selectors can pick data events.

use cairn_model::RecordResource;
use serde_json::{Map, Value};

use super::Sqs;
use crate::pipeline::{Details, Ended, Operation, Recording};
use crate::recorder::CallContext;

pub(super) const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// Members whose values are maps: their keys are data, kept as sent.
const MAPS: [&str; 6] = [
    "Attributes",
    "attributes",
    "tags",
    "Tags",
    "MessageAttributes",
    "MessageSystemAttributes",
];

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A structure in record form.
pub(super) fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::with_capacity(m.len());
            for (k, v) in m {
                let value = if k == "MessageBody" {
                    Value::String(HIDDEN.into())
                } else if MAPS.contains(&k.as_str()) {
                    map_values(v)
                } else {
                    shape(v)
                };
                out.insert(lower_first(k), value);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
        other => other.clone(),
    }
}

/// A map: its keys as sent, structure values (message attributes) in record form.
fn map_values(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), if v.is_object() { shape(v) } else { v.clone() }))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn non_empty(v: Value) -> Option<Value> {
    match v {
        Value::Object(m) if m.is_empty() => None,
        Value::Null => None,
        v => Some(v),
    }
}

pub(super) fn record(
    op: &'static Operation,
    call: Recording<'_, Sqs>,
    _ctx: &CallContext,
) -> Details {
    // A call refused by identity policies is recorded without its parameters.
    if call.ended == Ended::Denied {
        return Details::default();
    }
    let request_parameters = call.input.and_then(|i| non_empty(shape(i)));
    let response_elements = match call.result {
        Ok(out) if !op.read_only => non_empty(shape(out)),
        _ => None,
    };
    let resources = call
        .plan
        .key
        .iter()
        .map(|k| RecordResource {
            account_id: Some(k.account.clone()),
            resource_type: "AWS::SQS::Queue".into(),
            arn: Some(k.arn()),
            arn_prefix: None,
        })
        .collect();
    Details {
        request_parameters,
        response_elements,
        resources,
        ..Details::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_are_hidden_and_map_keys_kept() {
        let input = json!({
            "QueueUrl": "https://sqs.us-east-1.amazonaws.com/111122223333/q",
            "MessageBody": "secret",
            "MessageAttributes": {"Colour": {"DataType": "String", "StringValue": "red"}},
        });
        assert_eq!(
            shape(&input),
            json!({
                "queueUrl": "https://sqs.us-east-1.amazonaws.com/111122223333/q",
                "messageBody": HIDDEN,
                "messageAttributes": {"Colour": {"dataType": "String", "stringValue": "red"}},
            })
        );
        let batch = json!({"Entries": [{"Id": "a", "MessageBody": "secret"}]});
        assert_eq!(
            shape(&batch),
            json!({"entries": [{"id": "a", "messageBody": HIDDEN}]})
        );
        let create = json!({"QueueName": "q", "Attributes": {"VisibilityTimeout": "5"}, "tags": {"Team": "sec"}});
        assert_eq!(
            shape(&create),
            json!({"queueName": "q", "attributes": {"VisibilityTimeout": "5"}, "tags": {"Team": "sec"}})
        );
        let sent = json!({"MD5OfMessageBody": "x", "MessageId": "m"});
        assert_eq!(
            shape(&sent),
            json!({"mD5OfMessageBody": "x", "messageId": "m"})
        );
    }
}
