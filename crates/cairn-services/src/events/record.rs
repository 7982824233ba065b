//! How EventBridge calls are recorded (`events.amazonaws.com`): `requestParameters` are the
//! members as sent with their names in lower camel case (`name`, `eventPattern`,
//! `targets[].arn`), PutEvents' entries without their `detail` (event bodies are the
//! caller's data); `responseElements` carry a write's answer in lower camel case (`ruleArn`,
//! `eventBusArn`, `failedEntryCount`) and are null for reads. PutEvents is a data event and
//! lists the bus among its `resources`.

use cairn_model::{EventCategory, RecordResource};
use serde_json::{Map, Value};

use super::Events;
use crate::pipeline::codec::form::lower_first;
use crate::pipeline::{Details, Ended, Operation, Recording};
use crate::recorder::CallContext;

/// `v` with every object key in lower camel case, leaving out `Detail` members.
fn camel(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| k.as_str() != "Detail")
                .map(|(k, v)| (lower_first(k), camel(v)))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(camel).collect()),
        other => other.clone(),
    }
}

pub(super) fn record(
    ctx: &CallContext,
    op: &'static Operation,
    call: Recording<'_, Events>,
) -> Details {
    // A call refused by identity policies is recorded without its parameters.
    if call.ended == Ended::Denied {
        return Details::default();
    }
    let request = call
        .input
        .map(camel)
        .filter(|v| v.as_object().is_some_and(|m| !m.is_empty()));
    let response = if op.read_only {
        None
    } else {
        call.result.ok().map(camel)
    };
    let resources = match (&op.category, &call.plan.resource) {
        (EventCategory::Data, Some(arn)) => vec![RecordResource {
            account_id: Some(ctx.recipient_account.clone()),
            resource_type: "AWS::Events::EventBus".into(),
            arn: Some(arn.clone()),
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
