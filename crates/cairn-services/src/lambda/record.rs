//! How Lambda calls are recorded (`lambda.amazonaws.com`), as AWS's records show them:
//! `requestParameters` are the members as sent with lower-camel-case names (`functionName`,
//! `runtime`, `code: {}`), without `Environment` and `ZipFile` (AWS leaves them out) or an
//! invocation's payload; `responseElements` are the answer shaped the same way for calls
//! that change something, without the environment, and null for reads. Invocations are data
//! events naming the function (`resources: AWS::Lambda::Function`, `additionalEventData:
//! {"functionVersion": "<arn>:$LATEST"}`), so that only trails selecting them take them.

use cairn_model::RecordResource;
use serde_json::{Map, Value, json};

use super::Lambda;
use crate::pipeline::{Details, Ended, Operation, Recording};
use crate::recorder::CallContext;

/// Members AWS leaves out of Lambda's records.
const LEFT_OUT: [&str; 3] = ["Environment", "ZipFile", "Payload"];

/// Members whose values are maps: their keys are data, kept as sent.
const MAPS: [&str; 2] = ["Tags", "Variables"];

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A document in record form.
pub(super) fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::with_capacity(m.len());
            for (k, v) in m {
                if LEFT_OUT.contains(&k.as_str()) {
                    continue;
                }
                let value = if MAPS.contains(&k.as_str()) {
                    v.clone()
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

pub(super) fn record(
    op: &'static Operation,
    call: Recording<'_, Lambda>,
    ctx: &CallContext,
) -> Details {
    let arn = call.plan.arn.clone();
    let mut request = call.input.map(shape);
    if op.name == "Invoke"
        && let Some(Value::Object(m)) = &mut request
    {
        if let Some(a) = &arn {
            m.insert("functionName".into(), json!(a));
        }
        if let Some(s) = &ctx.source_arn {
            m.insert("sourceArn".into(), json!(s));
        }
    }
    let response = match call.result {
        Ok(out) if !op.read_only && call.ended == Ended::Ran && op.name != "Invoke" => {
            Some(shape(out)).filter(|v| v.as_object().is_some_and(|m| !m.is_empty()))
        }
        _ => None,
    };
    let mut details = Details {
        request_parameters: request.filter(|v| v.as_object().is_some_and(|m| !m.is_empty())),
        response_elements: response,
        ..Details::default()
    };
    if op.name == "Invoke"
        && let Some(a) = &arn
    {
        details.additional_event_data = Some(json!({"functionVersion": format!("{a}:$LATEST")}));
        details.resources = vec![RecordResource::new(
            "AWS::Lambda::Function",
            a.clone(),
            a.split(':').nth(4).map(str::to_owned),
        )];
    }
    details
}
