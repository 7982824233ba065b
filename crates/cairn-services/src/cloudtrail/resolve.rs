//! What a CloudTrail call acts on: the trail it names (by name or ARN), judged by identity
//! policies; `*` for calls on no one trail.

use serde_json::Value;

use crate::pipeline::{Check, Operation};
use crate::recorder::CallContext;

/// The check a call needs.
pub(super) fn resolve(ctx: &CallContext, op: &'static Operation, input: &Value) -> Vec<Check> {
    vec![Check::new(
        format!("cloudtrail:{}", op.name),
        resource_of(ctx, input),
    )]
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
