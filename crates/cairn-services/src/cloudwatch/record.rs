//! How CloudWatch calls are recorded (`monitoring.amazonaws.com`): `requestParameters` are the
//! members as sent with lower-camel-case names (AWS's records of CloudWatch show
//! `{"maxRecords":100}`), `responseElements` null, and the metric data operations (data
//! events) list the metric's namespace among their `resources` as `AWS::CloudWatch::Metric`.

use cairn_model::{EventCategory, RecordResource};
use serde_json::Value;

use super::CloudWatch;
use crate::params::request_parameters;
use crate::pipeline::{Details, Ended, Operation, Recording};
use crate::recorder::CallContext;

pub(super) fn record(
    ctx: &CallContext,
    op: &'static Operation,
    call: Recording<'_, CloudWatch>,
) -> Details {
    // A call refused by identity policies is recorded without its parameters.
    if call.ended == Ended::Denied {
        return Details::default();
    }
    let request = call.input.and_then(request_parameters);
    let resources = match (
        &op.category,
        call.input
            .and_then(|i| i.get("Namespace"))
            .and_then(Value::as_str),
    ) {
        (EventCategory::Data, Some(ns)) => vec![RecordResource {
            account_id: Some(ctx.recipient_account.clone()),
            resource_type: "AWS::CloudWatch::Metric".into(),
            arn: Some(format!(
                "arn:aws:cloudwatch:{}:{}:metric/{ns}",
                ctx.region, ctx.recipient_account
            )),
            arn_prefix: None,
        }],
        _ => Vec::new(),
    };
    Details {
        request_parameters: request,
        resources,
        ..Details::default()
    }
}
