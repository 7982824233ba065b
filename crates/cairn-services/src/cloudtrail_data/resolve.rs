//! The channel a PutAuditEvents call names and the check it needs.
//!
//! As AWS documents for channels: the caller's identity policies and the channel's resource
//! policy decide together, as for any resource policy (within the owner's account, either may
//! allow, and an explicit deny in either refuses; another account needs both). Without a
//! resource policy, only the channel's own account can deliver. The request's `externalId` is
//! the condition key `cloudtrail:ExternalId`. A refusal is `ChannelInsufficientPermission`.
//! A channel is found at its own region's endpoint only (elsewhere: `ChannelNotFound`).

use cairn_policy::ResourceRule;
use cairn_wire::AwsError;
use serde_json::Value;

use crate::app::App;
use crate::pipeline::{Check, Operation, PolicyOf};
use crate::recorder::CallContext;

/// The Lake document kinds CloudTrail's channel operations write.
pub(super) const CHANNEL: &str = "channel";
pub(super) const POLICY: &str = "policy";
pub(super) const INGESTION: &str = "ingestion";

/// What a call acts on, found before it is authorized.
#[derive(Default)]
pub struct DataPlan {
    pub channel_arn: Option<String>,
    /// The channel's document (`Account`, `Region`, `Destinations`, …).
    pub channel: Option<Value>,
}

fn invalid_arn(named: &str) -> AwsError {
    AwsError::client(
        "InvalidChannelARN",
        format!("The channel ARN {named} is not valid."),
    )
}

/// The ARN a request names a channel by: its ARN, or the id its ARN ends with (a channel of
/// the caller's account in the call's region).
pub(super) fn channel_arn(ctx: &CallContext, named: &str) -> Result<String, AwsError> {
    let id_ok = |id: &str| {
        !id.is_empty()
            && id.len() <= 128
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if let Some(rest) = named.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        match parts.as_slice() {
            [_, "cloudtrail", region, account, res]
                if !region.is_empty()
                    && account.len() == 12
                    && account.bytes().all(|b| b.is_ascii_digit())
                    && res.strip_prefix("channel/").is_some_and(id_ok) =>
            {
                Ok(named.to_string())
            }
            _ => Err(invalid_arn(named)),
        }
    } else if id_ok(named) {
        Ok(format!(
            "arn:aws:cloudtrail:{}:{}:channel/{named}",
            ctx.region, ctx.recipient_account
        ))
    } else {
        Err(invalid_arn(named))
    }
}

fn store_failure(e: impl std::fmt::Display) -> AwsError {
    tracing::error!(error = %e, "lake store failure");
    AwsError::internal("The channel store is unavailable.")
}

pub(super) fn resolve(
    app: &App,
    ctx: &CallContext,
    op: &'static Operation,
    input: &Value,
    plan: &mut DataPlan,
) -> Result<Vec<Check>, AwsError> {
    let named = input
        .get("channelArn")
        .and_then(Value::as_str)
        .unwrap_or("");
    let arn = channel_arn(ctx, named)?;
    let channel: Option<Value> = app
        .lake
        .document(CHANNEL, &arn)
        .map_err(store_failure)?
        .and_then(|d| serde_json::from_str(&d).ok());
    // A channel takes events at its own region's endpoint.
    let channel = channel.filter(|c| c.get("Region").and_then(Value::as_str) == Some(&ctx.region));
    let Some(channel) = channel else {
        return Err(AwsError::client(
            "ChannelNotFound",
            format!("The channel {named} was not found."),
        ));
    };
    let owner = channel
        .get("Account")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let policy = app.lake.document(POLICY, &arn).map_err(store_failure)?;
    plan.channel_arn = Some(arn.clone());
    plan.channel = Some(channel);
    let keys: Vec<(&str, String)> = input
        .get("externalId")
        .and_then(Value::as_str)
        .map(|e| vec![("cloudtrail:ExternalId", e.to_string())])
        .unwrap_or_default();
    let action = op.actions.first().cloned().unwrap_or_default();
    Ok(vec![
        Check::new(action, arn.clone())
            .with_policy(PolicyOf {
                document: policy,
                account: owner,
                rule: ResourceRule::Standard,
            })
            .with_keys(keys)
            .denied_as(AwsError::client(
                "ChannelInsufficientPermission",
                format!(
                    "The caller is not allowed to deliver events to the channel {arn}: the channel's owner, or a principal its resource policy allows (with the external id it requires), may."
                ),
            )),
    ])
}
