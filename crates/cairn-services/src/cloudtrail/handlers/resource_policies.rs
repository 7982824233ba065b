//! Resource-based policies on channels: Put/Get/DeleteResourcePolicy.
//!
//! A policy is a Lake document of kind `policy`, keyed by the channel's ARN, holding the text
//! as given. It is checked as AWS documents for channels: valid JSON policy syntax, 1 to 20
//! statements, each naming 1 to 50 principals, only the action `cloudtrail-data:PutAuditEvents`
//! and only the channel's own ARN as resource. cloudtrail-data's PutAuditEvents judges callers
//! with it (condition key `cloudtrail:ExternalId` for the request's `externalId`).
//! Event data store and dashboard policies are not supported yet.

use cairn_policy::{PolicyDocument, PolicyKind};
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::channels;
use super::trails::{internal, str_member};
use crate::app::App;
use crate::recorder::CallContext;

pub(in crate::cloudtrail) const POLICY: &str = "policy";
const MAX_STATEMENTS: usize = 20;
const MAX_PRINCIPALS: usize = 50;
const ACTION: &str = "cloudtrail-data:PutAuditEvents";

fn not_valid(msg: impl Into<String>) -> AwsError {
    AwsError::client("ResourcePolicyNotValidException", msg)
}

/// The channel a ResourceArn names, in the caller's account.
fn channel_of(app: &App, ctx: &CallContext, input: &Value) -> Result<String, AwsError> {
    let arn = str_member(input, "ResourceArn").unwrap_or("");
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let resource = match parts.as_slice() {
        ["arn", _, "cloudtrail", _, _, res] => *res,
        _ => {
            return Err(AwsError::client(
                "ResourceARNNotValidException",
                format!("The resource ARN {arn} is not valid."),
            ));
        }
    };
    if !resource.starts_with("channel/") {
        return Err(AwsError::client(
            "ResourceTypeNotSupportedException",
            "cairn keeps resource policies for channels only; event data store and dashboard policies are not supported yet.",
        ));
    }
    match channels::find(app, ctx, arn) {
        Ok(c) => Ok(c.arn),
        Err(e) if e.code == "ChannelARNInvalidException" => Err(AwsError::client(
            "ResourceARNNotValidException",
            format!("The resource ARN {arn} is not valid."),
        )),
        Err(e) if e.code == "ChannelNotFoundException" => Err(AwsError::client(
            "ResourceNotFoundException",
            format!("The resource {arn} was not found."),
        )),
        Err(e) => Err(e),
    }
}

/// Strings of a policy element that may be one string or a list.
fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Checks a channel policy as AWS documents its requirements.
fn validate(text: &str, channel: &str) -> Result<(), AwsError> {
    if text.is_empty() || text.len() > 8192 {
        return Err(not_valid("A resource policy must be 1 to 8192 characters."));
    }
    PolicyDocument::parse(text, PolicyKind::Resource).map_err(|e| not_valid(e.to_string()))?;
    let doc: Value = serde_json::from_str(text).map_err(|e| not_valid(e.to_string()))?;
    let statements = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect::<Vec<_>>(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => Vec::new(),
    };
    if statements.is_empty() || statements.len() > MAX_STATEMENTS {
        return Err(not_valid(format!(
            "A channel's resource policy must have 1 to {MAX_STATEMENTS} statements."
        )));
    }
    for s in statements {
        let principals = match s.get("Principal") {
            Some(Value::Object(m)) => m.values().map(|v| strings(Some(v)).len()).sum(),
            Some(Value::String(_)) => 1,
            _ => 0,
        };
        if principals == 0 || principals > MAX_PRINCIPALS {
            return Err(not_valid(format!(
                "Each statement of a channel's resource policy must name 1 to {MAX_PRINCIPALS} principals."
            )));
        }
        let actions = strings(s.get("Action"));
        if actions.is_empty() || actions.iter().any(|a| *a != ACTION) {
            return Err(not_valid(format!(
                "A channel's resource policy allows only the action {ACTION}."
            )));
        }
        let resources = strings(s.get("Resource"));
        if resources.is_empty() || resources.iter().any(|r| *r != channel) {
            return Err(not_valid(format!(
                "The resource of a channel's resource policy must be the channel's ARN, {channel}."
            )));
        }
    }
    Ok(())
}

pub fn put(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let channel = channel_of(app, ctx, input)?;
    let text = str_member(input, "ResourcePolicy").unwrap_or("");
    validate(text, &channel)?;
    app.lake
        .put_document(POLICY, &channel, &ctx.recipient_account, text)
        .map_err(internal)?;
    Ok(json!({"ResourceArn": channel, "ResourcePolicy": text}))
}

pub fn get(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let channel = channel_of(app, ctx, input)?;
    match app.lake.document(POLICY, &channel).map_err(internal)? {
        Some(text) => Ok(json!({"ResourceArn": channel, "ResourcePolicy": text})),
        None => Err(no_policy(&channel)),
    }
}

pub fn delete(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let channel = channel_of(app, ctx, input)?;
    if !app
        .lake
        .remove_document(POLICY, &channel)
        .map_err(internal)?
    {
        return Err(no_policy(&channel));
    }
    Ok(json!({}))
}

fn no_policy(arn: &str) -> AwsError {
    AwsError::client(
        "ResourcePolicyNotFoundException",
        format!("The resource {arn} has no resource policy."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const CH: &str = "arn:aws:cloudtrail:us-east-1:111122223333:channel/abc";

    fn policy(statement: Value) -> String {
        json!({"Version": "2012-10-17", "Statement": [statement]}).to_string()
    }

    #[test]
    fn channel_policies_follow_aws_requirements() {
        let ok = policy(json!({
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::111122223333:root"]},
            "Action": ACTION,
            "Resource": CH,
            "Condition": {"StringEquals": {"cloudtrail:ExternalId": "x-1"}}
        }));
        validate(&ok, CH).unwrap();
        for bad in [
            policy(
                json!({"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "cloudtrail:GetChannel", "Resource": CH}),
            ),
            policy(
                json!({"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": ACTION, "Resource": "arn:aws:cloudtrail:us-east-1:111122223333:channel/other"}),
            ),
            policy(json!({"Effect": "Allow", "Action": ACTION, "Resource": CH})),
            json!({"Version": "2012-10-17", "Statement": []}).to_string(),
            "{not json".to_string(),
        ] {
            assert_eq!(
                validate(&bad, CH).unwrap_err().code,
                "ResourcePolicyNotValidException",
                "{bad}"
            );
        }
    }
}
