//! What a CloudTrail call acts on: the trail or event data store it names (by name, id or
//! ARN), the channel or the resource policy's resource, judged by identity policies; `*` for
//! calls on no one resource.

use serde_json::Value;

use crate::pipeline::{Check, Operation};
use crate::recorder::CallContext;

/// The check a call needs.
pub(super) fn resolve(ctx: &CallContext, op: &'static Operation, input: &Value) -> Vec<Check> {
    let resource = if op.name == "CreateEventDataStore" {
        format!(
            "arn:aws:cloudtrail:{}:{}:eventdatastore/*",
            ctx.region, ctx.recipient_account
        )
    } else if op.name == "CreateChannel" {
        format!(
            "arn:aws:cloudtrail:{}:{}:channel/*",
            ctx.region, ctx.recipient_account
        )
    } else if let Some(ch) = input.get("Channel").and_then(Value::as_str) {
        if ch.starts_with("arn:") {
            ch.to_owned()
        } else {
            format!(
                "arn:aws:cloudtrail:{}:{}:channel/{ch}",
                ctx.region, ctx.recipient_account
            )
        }
    } else if let Some(arn) = input.get("ResourceArn").and_then(Value::as_str) {
        arn.to_owned()
    } else if let Some(eds) = input.get("EventDataStore").and_then(Value::as_str) {
        event_data_store_arn(ctx, eds)
    } else {
        resource_of(ctx, input)
    };
    vec![Check::new(format!("cloudtrail:{}", op.name), resource)]
}

/// An event data store named by ARN or id, as an ARN.
fn event_data_store_arn(ctx: &CallContext, named: &str) -> String {
    if named.starts_with("arn:") {
        named.to_owned()
    } else {
        format!(
            "arn:aws:cloudtrail:{}:{}:eventdatastore/{named}",
            ctx.region, ctx.recipient_account
        )
    }
}

/// The trail a call names (by name or ARN), as an ARN; `*` for calls on no one trail.
fn resource_of(ctx: &CallContext, input: &Value) -> String {
    let named = ["Name", "TrailName"]
        .iter()
        .find_map(|m| input.get(*m).and_then(Value::as_str))
        .or_else(|| {
            input
                .get("ResourceIdList")
                .and_then(|l| l.get(0))
                .or_else(|| input.get("ResourceId"))
                .and_then(Value::as_str)
        });
    match named {
        Some(arn) if arn.starts_with("arn:") => arn.to_owned(),
        Some(name) => format!(
            "arn:aws:cloudtrail:{}:{}:trail/{name}",
            ctx.region, ctx.recipient_account
        ),
        None => "*".to_owned(),
    }
}
