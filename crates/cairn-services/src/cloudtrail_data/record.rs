//! How CloudTrail Data calls are recorded: PutAuditEvents as a data event of
//! `cloudtrail-data.amazonaws.com` on the channel (`AWS::CloudTrail::Channel`), with the
//! channel as its parameter. The events themselves are not copied into the record (they go to
//! the channel's event data stores), nor is the external id (a shared secret).

use cairn_model::RecordResource;
use serde_json::{Value, json};

use super::CloudTrailData;
use crate::pipeline::{Details, Ended, Operation, Recording};

pub(super) fn record(_op: &'static Operation, call: Recording<'_, CloudTrailData>) -> Details {
    let mut details = Details::default();
    if let Some(arn) = &call.plan.channel_arn {
        details.resources = vec![RecordResource::new(
            "AWS::CloudTrail::Channel",
            arn.clone(),
            arn.split(':').nth(4).map(str::to_owned),
        )];
    }
    if let (Ended::Unresolved | Ended::Ran, Some(input)) = (call.ended, call.input) {
        if let Some(v) = input.get("channelArn").and_then(Value::as_str) {
            details.request_parameters = Some(json!({ "channelArn": v }));
        }
    }
    details
}
