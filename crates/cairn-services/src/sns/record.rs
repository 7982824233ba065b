//! How SNS calls are recorded (`sns.amazonaws.com`): `requestParameters` are the members as
//! sent, lower camel case, with the form's maps as objects (`attributes`), tags as a list
//! of `{key, value}` and message attributes by name; message bodies never reach a record
//! (Publish's and each batch entry's `message`, and message attribute values), nor does a
//! subscription's confirmation token. `responseElements` carry what AWS's records carry
//! (`topicArn`, `subscriptionArn`, `messageId`). Publish and PublishBatch are data events
//! and list the topic among their `resources`.

use cairn_model::{EventCategory, RecordResource};
use serde_json::{Map, Value, json};

use super::Sns;
use super::wire::{entries, member_forms, message_attributes};
use crate::pipeline::codec::form::{Form, lower_first, tags};
use crate::pipeline::{Details, Ended, Operation, Recording};
use crate::recorder::CallContext;

/// Members that never reach a record: message bodies and confirmation tokens.
const OMITTED: [&str; 2] = ["Message", "Token"];

/// One message's (or the call's) parameters.
fn parameters(form: &Form) -> Map<String, Value> {
    let mut m = Map::new();
    for (k, v) in form {
        if k == "Action" || k == "Version" || OMITTED.contains(&k.as_str()) || k.contains('.') {
            continue;
        }
        let value = match k.as_str() {
            "ReturnSubscriptionArn" => Value::Bool(v.eq_ignore_ascii_case("true")),
            _ => Value::String(v.clone()),
        };
        m.insert(lower_first(k), value);
    }
    let attributes = entries(form, "Attributes");
    if !attributes.is_empty() {
        m.insert("attributes".into(), json!(attributes));
    }
    let t = tags(form);
    if !t.is_empty() || form.keys().any(|k| k.starts_with("Tags.")) {
        m.insert(
            "tags".into(),
            Value::Array(
                t.iter()
                    .map(|(k, v)| json!({"key": k, "value": v}))
                    .collect(),
            ),
        );
    }
    let keys: Vec<Value> = (1..)
        .map_while(|n| form.get(&format!("TagKeys.member.{n}")).cloned())
        .map(Value::String)
        .collect();
    if !keys.is_empty() {
        m.insert("tagKeys".into(), Value::Array(keys));
    }
    let attrs = message_attributes(form, "MessageAttributes");
    if !attrs.is_empty() {
        let shown: Map<String, Value> = attrs
            .iter()
            .map(|(k, a)| (k.clone(), json!({"dataType": a.data_type})))
            .collect();
        m.insert("messageAttributes".into(), Value::Object(shown));
    }
    m
}

pub(super) fn record(
    ctx: &CallContext,
    op: &'static Operation,
    call: Recording<'_, Sns>,
) -> Details {
    // A call refused by identity policies is recorded without its parameters.
    if call.ended == Ended::Denied {
        return Details::default();
    }
    let request = call.input.map(|form| {
        let mut m = parameters(form);
        let batch = member_forms(form, "PublishBatchRequestEntries");
        if !batch.is_empty() {
            m.insert(
                "publishBatchRequestEntries".into(),
                Value::Array(batch.iter().map(|e| Value::Object(parameters(e))).collect()),
            );
        }
        m
    });
    let request = request.filter(|m| !m.is_empty()).map(Value::Object);
    let response = call.result.ok().and_then(|r| r.response.clone());
    let topic = call
        .plan
        .topic
        .as_ref()
        .map(|t| t.arn.clone())
        .or_else(|| call.plan.new_arn.clone());
    let resources = match (&op.category, topic) {
        (EventCategory::Data, Some(arn)) => vec![RecordResource {
            account_id: Some(ctx.recipient_account.clone()),
            resource_type: "AWS::SNS::Topic".into(),
            arn: Some(arn),
            arn_prefix: None,
        }],
        _ => Vec::new(),
    };
    Details {
        request_parameters: request,
        response_elements: response,
        resources,
        ..Details::default()
    }
}
