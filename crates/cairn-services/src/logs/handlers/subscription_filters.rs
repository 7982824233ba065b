//! Subscription filters: put (create or replace by name; at most two per group; the pattern
//! checked by `cairn-rules`; a Lambda destination in the same account that CloudWatch Logs
//! may invoke), describe (by group and name prefix; pages) and delete. Delivery is
//! `crate::logs::subscriptions`.

use cairn_rules::filter::FilterPattern;
use cairn_store::logs::{GroupKey, SubscriptionFilter};
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::{
    DESCRIBE_LIMIT, bad_token, check_name, internal, invalid, limit, required, str_member,
};
use crate::app::App;
use crate::logs::{subscriptions, token, wire};
use crate::recorder::CallContext;

/// Subscription filters per log group.
const MAX_FILTERS: usize = 2;

/// The function a Lambda destination names, if it is one: (account, region).
fn lambda_destination(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(7, ':');
    let (
        Some("arn"),
        Some(_partition),
        Some("lambda"),
        Some(region),
        Some(account),
        Some("function"),
    ) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    )
    else {
        return None;
    };
    parts.next().filter(|name| !name.is_empty())?;
    Some((account, region))
}

pub(super) fn put(app: &App, key: &GroupKey, input: &Value) -> Result<Value, AwsError> {
    let name = required(input, "filterName")?;
    check_name(name, "filterName")?;
    let source = input
        .get("filterPattern")
        .and_then(Value::as_str)
        .ok_or_else(|| super::missing("filterPattern"))?;
    FilterPattern::parse(source).map_err(|e| invalid(e.to_string()))?;
    let destination = required(input, "destinationArn")?;
    let distribution = match str_member(input, "distribution") {
        None => "ByLogStream",
        Some(d @ ("ByLogStream" | "Random")) => d,
        Some(d) => {
            return Err(super::constraint(
                d,
                "distribution",
                "satisfy enum value set: [Random, ByLogStream]",
            ));
        }
    };
    let Some((account, _region)) = lambda_destination(destination) else {
        return Err(AwsError::client(
            "UnsupportedOperationException",
            format!(
                "cairn delivers subscription filters to Lambda functions only, not to {destination}."
            ),
        ));
    };
    if account != key.account {
        return Err(invalid(
            "Cross-account lambda invocation passing is not allowed. You must use DestinationPolicies to create cross account lambda triggers.",
        ));
    }
    let existing = app
        .logs
        .subscription_filters(&key.account, &key.region, Some(&key.name))
        .map_err(internal)?;
    if existing.len() >= MAX_FILTERS && !existing.iter().any(|f| f.name == name) {
        return Err(AwsError::client(
            "LimitExceededException",
            "Resource limit exceeded.",
        ));
    }
    // As AWS does, the function's policy must let CloudWatch Logs invoke it for this group.
    if subscriptions::may_invoke(app, key, destination).is_err() {
        return Err(invalid(
            "Could not execute the lambda function. Make sure you have given CloudWatch Logs permission to execute your function.",
        ));
    }
    let filter = SubscriptionFilter {
        group: key.name.clone(),
        name: name.to_owned(),
        pattern: source.to_owned(),
        destination_arn: destination.to_owned(),
        role_arn: str_member(input, "roleArn").map(str::to_owned),
        distribution: distribution.to_owned(),
        from_id: 0,
        created_ms: app.clock.now_millis(),
    };
    app.logs
        .put_subscription_filter(key, &filter)
        .map_err(internal)?;
    Ok(json!({}))
}

pub(super) fn describe(
    app: &App,
    ctx: &CallContext,
    key: &GroupKey,
    input: &Value,
) -> Result<Value, AwsError> {
    let prefix = str_member(input, "filterNamePrefix");
    let limit = limit(input, DESCRIBE_LIMIT, DESCRIBE_LIMIT)?;
    let after = match str_member(input, "nextToken") {
        Some(t) => Some(token::parse_after_name(&app.token_key, t).ok_or_else(bad_token)?),
        None => None,
    };
    let all = app
        .logs
        .subscription_filters(&ctx.recipient_account, &ctx.region, Some(&key.name))
        .map_err(internal)?;
    let mut chosen = all.iter().filter(|f| {
        prefix.is_none_or(|p| f.name.starts_with(p))
            && after.as_deref().is_none_or(|a| f.name.as_str() > a)
    });
    let page: Vec<&SubscriptionFilter> = chosen.by_ref().take(limit).collect();
    let more = chosen.next().is_some();
    let mut out = json!({
        "subscriptionFilters": page.iter().map(|f| wire::subscription_filter(f)).collect::<Vec<_>>()
    });
    if more && let Some(last) = page.last() {
        out["nextToken"] = json!(token::after_name(&app.token_key, &last.name));
    }
    Ok(out)
}

pub(super) fn delete(app: &App, key: &GroupKey, input: &Value) -> Result<Value, AwsError> {
    let name = required(input, "filterName")?;
    if !app
        .logs
        .delete_subscription_filter(key, name)
        .map_err(internal)?
    {
        return Err(AwsError::client(
            "ResourceNotFoundException",
            "The specified subscription filter does not exist.",
        ));
    }
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::lambda_destination;

    #[test]
    fn only_function_arns_are_lambda_destinations() {
        assert_eq!(
            lambda_destination("arn:aws:lambda:us-east-1:111122223333:function:f"),
            Some(("111122223333", "us-east-1"))
        );
        assert_eq!(
            lambda_destination("arn:aws:lambda:us-east-1:111122223333:function:f:prod"),
            Some(("111122223333", "us-east-1"))
        );
        assert_eq!(
            lambda_destination("arn:aws:kinesis:us-east-1:111122223333:stream/s"),
            None
        );
        assert_eq!(
            lambda_destination("arn:aws:lambda:us-east-1:111122223333:function:"),
            None
        );
    }
}
