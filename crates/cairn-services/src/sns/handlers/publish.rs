//! Publish and PublishBatch: AWS's checks on the message, subject, structure and message
//! attributes, then the fan-out: one outbox row per confirmed subscription whose filter
//! policy passes, written in the call's own transaction, so a message whose Publish was
//! answered is on disk and is delivered even after kill -9.

use std::collections::BTreeMap;

use cairn_store::sns::{NewDelivery, Topic};
use cairn_wire::AwsError;
use cairn_wire::xml::escape;
use serde_json::{Value, json};

use super::{internal, invalid};
use crate::app::App;
use crate::pipeline::codec::form::{Form, optional};
use crate::pipeline::codec::query::Reply;
use crate::recorder::CallContext;
use crate::sns::filter::{self, Scope};
use crate::sns::message;
use crate::sns::resolve::SnsPlan;
use crate::sns::wire::{MessageAttribute, member_forms, message_attributes};

/// A message, its attributes included, is at most 256 KiB.
const MAX_BYTES: usize = 262_144;
const MAX_ATTRIBUTES: usize = 10;

/// A message checked and ready to fan out.
struct Checked {
    message: String,
    /// Per-protocol messages (MessageStructure=json).
    per_protocol: Option<serde_json::Map<String, Value>>,
    subject: Option<String>,
    attributes: BTreeMap<String, MessageAttribute>,
}

fn check_attributes(attrs: &BTreeMap<String, MessageAttribute>) -> Result<(), AwsError> {
    if attrs.len() > MAX_ATTRIBUTES {
        return Err(invalid(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [{MAX_ATTRIBUTES}].",
            attrs.len()
        )));
    }
    for (name, a) in attrs {
        let lower = name.to_ascii_lowercase();
        if name.is_empty()
            || name.len() > 256
            || lower.starts_with("aws.")
            || lower.starts_with("amazon.")
            || name.starts_with('.')
            || name.ends_with('.')
            || name.contains("..")
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        {
            return Err(invalid(format!(
                "The message attribute name '{name}' is invalid."
            )));
        }
        let base = a.data_type.split('.').next().unwrap_or_default();
        if !["String", "Number", "Binary"].contains(&base) {
            return Err(invalid(format!(
                "The message attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
            )));
        }
        if a.value.is_empty() {
            return Err(invalid(format!(
                "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{}'.",
                a.data_type
            )));
        }
        if base == "Number" && a.value.trim().parse::<f64>().is_err() {
            return Err(invalid(format!(
                "Could not cast message attribute '{name}' value to number."
            )));
        }
        if a.data_type == "String.Array"
            && !serde_json::from_str::<Value>(&a.value).is_ok_and(|v| {
                v.as_array()
                    .is_some_and(|items| items.iter().all(|i| !i.is_array() && !i.is_object()))
            })
        {
            return Err(invalid(format!(
                "The message attribute '{name}' with type 'String.Array' has an invalid value: {}",
                a.value
            )));
        }
        if base == "Binary" && !a.binary {
            return Err(invalid(format!(
                "The message attribute '{name}' with type 'Binary' must use field 'Binary'."
            )));
        }
    }
    Ok(())
}

/// AWS's checks on one message (a Publish call, or one entry of a batch).
fn check(form: &Form) -> Result<Checked, AwsError> {
    if form.contains_key("PhoneNumber") || form.contains_key("TargetArn") {
        return Err(invalid(
            "cairn publishes to topics only (TopicArn); PhoneNumber and TargetArn are not supported yet",
        ));
    }
    if form.contains_key("MessageGroupId") || form.contains_key("MessageDeduplicationId") {
        return Err(invalid(
            "The request includes MessageGroupId parameter that is not valid for this topic type",
        ));
    }
    let message = optional(form, "Message").unwrap_or_default().to_owned();
    if message.is_empty() {
        return Err(invalid("Empty message"));
    }
    let subject = optional(form, "Subject").map(str::to_owned);
    if let Some(s) = &subject
        && (s.is_empty() || s.chars().count() > 100 || s.chars().any(|c| c.is_control()))
    {
        return Err(invalid("Subject"));
    }
    let attributes = message_attributes(form, "MessageAttributes");
    check_attributes(&attributes)?;
    let size = message.len()
        + attributes
            .iter()
            .map(|(k, a)| k.len() + a.data_type.len() + a.value.len())
            .sum::<usize>();
    if size > MAX_BYTES {
        return Err(invalid("Message too long"));
    }
    let per_protocol = match optional(form, "MessageStructure") {
        None => None,
        Some("json") => {
            let v: Value = serde_json::from_str(&message)
                .map_err(|_| invalid("Message Structure - JSON message body failed to parse"))?;
            let obj = v
                .as_object()
                .cloned()
                .ok_or_else(|| invalid("Message Structure - JSON message body failed to parse"))?;
            if !obj.get("default").is_some_and(Value::is_string) {
                return Err(invalid(
                    "Message Structure - No default entry in JSON message body",
                ));
            }
            Some(obj)
        }
        Some(_) => return Err(invalid("MessageStructure")),
    };
    Ok(Checked {
        message,
        per_protocol,
        subject,
        attributes,
    })
}

/// The outbox rows of one message: one per confirmed subscription that its filter passes.
fn fan_out(
    app: &App,
    topic: &Topic,
    c: &Checked,
    message_id: &str,
) -> Result<Vec<NewDelivery>, AwsError> {
    let now = app.clock.now_millis();
    let mut rows = Vec::new();
    for sub in app.sns.subscriptions_of(&topic.arn).map_err(internal)? {
        if !sub.confirmed {
            continue;
        }
        let text = c
            .per_protocol
            .as_ref()
            .map(|m| {
                m.get(&sub.protocol)
                    .or_else(|| m.get("default"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            })
            .unwrap_or_else(|| c.message.clone());
        if let Some(policy) = sub.attributes.get("FilterPolicy")
            && let Ok(policy) = filter::validate(policy)
        {
            let scope = match sub.attributes.get("FilterPolicyScope").map(String::as_str) {
                Some("MessageBody") => Scope::MessageBody,
                _ => Scope::MessageAttributes,
            };
            if !filter::matches(&policy, scope, &c.attributes, &text) {
                continue;
            }
        }
        let payload = message::notification(
            topic,
            message_id,
            c.subject.as_deref(),
            &text,
            now,
            &c.attributes,
        );
        rows.push(NewDelivery {
            subscription_arn: sub.arn.clone(),
            topic_arn: topic.arn.clone(),
            payload: payload.to_string(),
            due_ms: now,
        });
    }
    Ok(rows)
}

pub(super) fn publish(
    app: &App,
    _ctx: &CallContext,
    form: &Form,
    plan: &mut SnsPlan,
) -> Result<Reply, AwsError> {
    let Some(topic) = plan.topic.clone() else {
        return Err(invalid("TopicArn"));
    };
    let checked = check(form)?;
    let message_id = cairn_model::ids::new_uuid();
    let rows = fan_out(app, &topic, &checked, &message_id)?;
    app.sns
        .enqueue(&rows, app.clock.now_millis())
        .map_err(internal)?;
    Ok(Reply::xml(
        format!("    <MessageId>{}</MessageId>\n", escape(&message_id)),
        Some(json!({"messageId": message_id})),
    ))
}

pub(super) fn publish_batch(
    app: &App,
    _ctx: &CallContext,
    form: &Form,
    plan: &mut SnsPlan,
) -> Result<Reply, AwsError> {
    let Some(topic) = plan.topic.clone() else {
        return Err(invalid("TopicArn"));
    };
    let entries = member_forms(form, "PublishBatchRequestEntries");
    if entries.is_empty() {
        return Err(AwsError::client(
            "EmptyBatchRequest",
            "The batch request doesn't contain any entries",
        ));
    }
    if entries.len() > 10 {
        return Err(AwsError::client(
            "TooManyEntriesInBatchRequest",
            "The batch request contains more entries than permissible",
        ));
    }
    let ids: Vec<&str> = entries
        .iter()
        .map(|e| optional(e, "Id").unwrap_or_default())
        .collect();
    let distinct: std::collections::BTreeSet<&&str> = ids.iter().collect();
    if distinct.len() != ids.len() {
        return Err(AwsError::client(
            "BatchEntryIdsNotDistinct",
            "Two or more batch entries in the request have the same Id",
        ));
    }
    let (mut ok_xml, mut failed_xml) = (String::new(), String::new());
    let (mut ok_json, mut failed_json) = (Vec::new(), Vec::new());
    let mut rows = Vec::new();
    for (entry, id) in entries.iter().zip(&ids) {
        if id.is_empty()
            || id.len() > 80
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(AwsError::client(
                "InvalidBatchEntryId",
                "The Id of a batch entry in a batch request doesn't abide by the specification",
            ));
        }
        match check(entry) {
            Ok(c) => {
                let message_id = cairn_model::ids::new_uuid();
                rows.extend(fan_out(app, &topic, &c, &message_id)?);
                ok_xml.push_str(&format!(
                    "      <member>\n        <Id>{}</Id>\n        <MessageId>{}</MessageId>\n      </member>\n",
                    escape(id),
                    escape(&message_id)
                ));
                ok_json.push(json!({"id": id, "messageId": message_id}));
            }
            Err(e) => {
                failed_xml.push_str(&format!(
                    "      <member>\n        <Id>{}</Id>\n        <Code>{}</Code>\n        <Message>{}</Message>\n        <SenderFault>true</SenderFault>\n      </member>\n",
                    escape(id),
                    escape(&e.code),
                    escape(&e.message)
                ));
                failed_json.push(
                    json!({"id": id, "code": e.code, "message": e.message, "senderFault": true}),
                );
            }
        }
    }
    app.sns
        .enqueue(&rows, app.clock.now_millis())
        .map_err(internal)?;
    Ok(Reply::xml(
        format!(
            "    <Successful>\n{ok_xml}    </Successful>\n    <Failed>\n{failed_xml}    </Failed>\n"
        ),
        Some(json!({"successful": ok_json, "failed": failed_json})),
    ))
}
