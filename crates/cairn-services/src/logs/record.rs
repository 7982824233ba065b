//! How Logs calls are recorded (`logs.amazonaws.com`): `requestParameters` are the members as
//! sent (the API's names are already lower camel case, and its times are epoch milliseconds,
//! kept as numbers), `responseElements` is null as in AWS's records of Logs calls, and log
//! data (PutLogEvents' messages) never reaches a record. Calls by an AWS service carry
//! `forAccount` first, as AWS records them. Data events list the log group among
//! their `resources`, so that advanced event selectors can pick them.

use cairn_model::{EventCategory, Principal, RecordResource};
use serde_json::Value;

use super::Logs;
use crate::pipeline::{Details, Ended, Operation, Recording};
use crate::recorder::CallContext;

/// Request members that carry log data: never recorded.
const LOG_DATA: [&str; 1] = ["logEvents"];

pub(super) fn record(
    ctx: &CallContext,
    op: &'static Operation,
    call: Recording<'_, Logs>,
) -> Details {
    // A call refused by identity policies is recorded without its parameters.
    if call.ended == Ended::Denied {
        return Details::default();
    }
    // Only the members that are not log data are copied (a PutLogEvents input holds up to
    // 10,000 events: copying them to drop them would be most of the call's work).
    let request = match call.input.map(|i| &i.doc) {
        Some(Value::Object(m)) => {
            let mut kept = serde_json::Map::new();
            // An AWS service writing to the account's log groups (EventBridge, log delivery)
            // is recorded with the account it acts for first, as in AWS's records of
            // events.amazonaws.com's and delivery.logs.amazonaws.com's CreateLogStream.
            if matches!(ctx.principal, Principal::AwsService { .. }) {
                kept.insert(
                    "forAccount".to_owned(),
                    Value::String(ctx.recipient_account.clone()),
                );
            }
            kept.extend(
                m.iter()
                    .filter(|(k, _)| !LOG_DATA.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        _ => None,
    };
    let resources = match (&op.category, &call.plan.key) {
        (EventCategory::Data, Some(key)) => vec![RecordResource {
            account_id: Some(ctx.recipient_account.clone()),
            resource_type: "AWS::Logs::LogGroup".into(),
            arn: Some(key.arn()),
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
