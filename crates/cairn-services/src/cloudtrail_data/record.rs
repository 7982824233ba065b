//! How CloudTrail Data calls are recorded: PutAuditEvents as a data event of
//! `cloudtrail-data.amazonaws.com` on the channel (`AWS::CloudTrail::Channel`), with the
//! channel as its parameter. The events themselves are not copied into the record (they go to
//! the channel's event data stores), nor is the external id (a shared secret). A call from
//! another account (a partner delivering) is also recorded for the channel's owner, as AWS
//! shares data events on a resource with the account that owns it.

use cairn_model::RecordResource;
use serde_json::{Value, json};

use super::CloudTrailData;
use crate::pipeline::{Details, Ended, Operation, Recording};
use crate::recorder::CallContext;

pub(super) fn record(
    ctx: &CallContext,
    _op: &'static Operation,
    call: Recording<'_, CloudTrailData>,
) -> Details {
    let mut details = Details::default();
    let owner = call
        .plan
        .channel
        .as_ref()
        .and_then(|c| c.get("Account"))
        .and_then(Value::as_str);
    if let Some(owner) = owner
        && owner != ctx.recipient_account
    {
        details.shared_with = Some(owner.to_owned());
    }
    if let Some(arn) = &call.plan.channel_arn {
        details.resources = vec![RecordResource::new(
            "AWS::CloudTrail::Channel",
            arn.clone(),
            arn.split(':').nth(4).map(str::to_owned),
        )];
    }
    if let (Ended::Unresolved | Ended::Ran, Some(input)) = (call.ended, call.input)
        && let Some(v) = input.get("channelArn").and_then(Value::as_str)
    {
        details.request_parameters = Some(json!({ "channelArn": v }));
    }
    details
}
