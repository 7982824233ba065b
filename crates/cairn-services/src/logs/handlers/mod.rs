//! Running each Logs operation, by topic: `groups`, `streams`, `log_events`, `metric_filters`,
//! `subscription_filters`, `resource_policies`, `tags`. This file holds what they share: AWS's validation texts and errors, and reading
//! the members of a request.

mod groups;
mod log_events;
mod metric_filters;
mod resource_policies;
mod streams;
mod subscription_filters;
mod tags;

use cairn_store::logs::{GroupKey, LogGroup};
use cairn_wire::AwsError;
use serde_json::Value;

use super::codec::LogsInput;
use super::resolve::LogsPlan;
use crate::app::App;
use crate::recorder::CallContext;

/// How many Describe* results a page holds at most (the model's `limit` range is 1–50).
pub(super) const DESCRIBE_LIMIT: i64 = 50;

pub(super) fn internal(e: impl std::fmt::Display) -> AwsError {
    AwsError::internal(e.to_string())
}

/// `InvalidParameterException`: what CloudWatch Logs answers for any bad input.
pub(super) fn invalid(msg: impl Into<String>) -> AwsError {
    AwsError::client("InvalidParameterException", msg)
}

pub(super) fn no_such_group() -> AwsError {
    AwsError::client(
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )
}

pub(super) fn no_such_stream() -> AwsError {
    AwsError::client(
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )
}

pub(super) fn bad_token() -> AwsError {
    invalid("The specified nextToken is invalid.")
}

/// The standard template for a member that must be present.
pub(super) fn missing(member: &str) -> AwsError {
    invalid(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    ))
}

/// The standard template for a value out of its constraint.
pub(super) fn constraint(value: &str, member: &str, rule: &str) -> AwsError {
    invalid(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must {rule}"
    ))
}

pub(super) use crate::members::str_member;

pub(super) fn required<'a>(input: &'a Value, name: &str) -> Result<&'a str, AwsError> {
    str_member(input, name).ok_or_else(|| missing(name))
}

pub(super) fn int_member(input: &Value, name: &str) -> Option<i64> {
    input.get(name).and_then(Value::as_i64)
}

pub(super) fn bool_member(input: &Value, name: &str) -> bool {
    input.get(name).and_then(Value::as_bool).unwrap_or(false)
}

/// A `limit` member within `1..=max`, or `default`.
pub(super) fn limit(input: &Value, max: i64, default: i64) -> Result<usize, AwsError> {
    match int_member(input, "limit") {
        None => Ok(usize::try_from(default).unwrap_or(0)),
        Some(n) if n < 1 => Err(constraint(
            &n.to_string(),
            "limit",
            "have value greater than or equal to 1",
        )),
        Some(n) if n > max => Err(constraint(
            &n.to_string(),
            "limit",
            &format!("have value less than or equal to {max}"),
        )),
        Some(n) => Ok(usize::try_from(n).unwrap_or(0)),
    }
}

/// Log group names: 1–512 of `[\.\-_/#A-Za-z0-9]`.
pub(super) fn check_group_name(name: &str) -> Result<(), AwsError> {
    if name.chars().count() > 512 {
        return Err(invalid(
            "Invalid LogGroup or LogStream, both must have length less than or equal to 512.",
        ));
    }
    if name.is_empty() {
        return Err(constraint(
            name,
            "logGroupName",
            "have length greater than or equal to 1",
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-/#".contains(c))
    {
        return Err(constraint(
            name,
            "logGroupName",
            r"satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+",
        ));
    }
    Ok(())
}

/// Log stream and filter names: 1–512 characters, none of `:` or `*`.
pub(super) fn check_name(name: &str, member: &str) -> Result<(), AwsError> {
    if name.chars().count() > 512 {
        return Err(if member == "logStreamName" {
            invalid(
                "Invalid LogGroup or LogStream, both must have length less than or equal to 512.",
            )
        } else {
            constraint(name, member, "have length less than or equal to 512")
        });
    }
    if name.is_empty() {
        return Err(constraint(
            name,
            member,
            "have length greater than or equal to 1",
        ));
    }
    if name.contains([':', '*']) {
        return Err(constraint(
            name,
            member,
            "satisfy regular expression pattern: [^:*]*",
        ));
    }
    Ok(())
}

/// The group a call names: `logGroupName`, or `logGroupIdentifier` (a name or an ARN with or
/// without `:*`), never both.
pub(crate) fn group_name_of<'a>(ctx: &CallContext, input: &'a Value) -> Result<&'a str, AwsError> {
    match (
        str_member(input, "logGroupName"),
        str_member(input, "logGroupIdentifier"),
    ) {
        (Some(_), Some(_)) => Err(AwsError::client(
            "ValidationException",
            "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
        )),
        (Some(name), None) => {
            check_group_name(name)?;
            Ok(name)
        }
        (None, Some(id)) => {
            let prefix = format!(
                "arn:aws:logs:{}:{}:log-group:",
                ctx.region, ctx.recipient_account
            );
            let name = match id.strip_prefix(&prefix) {
                Some(rest) => rest.strip_suffix(":*").unwrap_or(rest),
                None if id.starts_with("arn:") => return Err(no_such_group()),
                None => id,
            };
            check_group_name(name)?;
            Ok(name)
        }
        (None, None) => Err(missing("logGroupName")),
    }
}

/// What resolve found: the group's key, and the group when the call needs it to exist.
pub(super) struct Found<'p> {
    pub key: &'p GroupKey,
    pub group: Option<&'p LogGroup>,
}

impl<'p> Found<'p> {
    fn of(plan: &'p LogsPlan) -> Result<Found<'p>, AwsError> {
        Ok(Found {
            key: plan
                .key
                .as_ref()
                .ok_or_else(|| internal("no log group resolved"))?,
            group: plan.group.as_ref(),
        })
    }

    pub(super) fn group(&self) -> Result<&'p LogGroup, AwsError> {
        self.group.ok_or_else(no_such_group)
    }
}

pub(super) fn run(
    app: &App,
    ctx: &CallContext,
    op: &str,
    call: &LogsInput,
    plan: &mut LogsPlan,
) -> Result<Value, AwsError> {
    let input = &call.doc;
    if !super::operations::SERVED.contains(&op) {
        return Err(AwsError::client(
            "UnsupportedOperationException",
            format!("cairn does not support {op} yet."),
        ));
    }
    match op {
        "DescribeLogGroups" => groups::describe(app, ctx, input),
        "TestMetricFilter" => metric_filters::test(input),
        "PutResourcePolicy" => resource_policies::put(app, ctx, input),
        "DescribeResourcePolicies" => resource_policies::describe(app, ctx, input),
        "DeleteResourcePolicy" => resource_policies::delete(app, ctx, input),
        "DescribeMetricFilters" if plan.key.is_none() => {
            metric_filters::describe(app, ctx, None, input)
        }
        _ => {
            let found = Found::of(plan)?;
            match op {
                "CreateLogGroup" => groups::create(app, found.key, input),
                "DeleteLogGroup" => groups::delete(app, found.key),
                "PutRetentionPolicy" => groups::put_retention(app, found.key, input),
                "DeleteRetentionPolicy" => groups::delete_retention(app, found.key),
                "CreateLogStream" => streams::create(app, found.key, input),
                "DeleteLogStream" => streams::delete(app, found.key, input),
                "DescribeLogStreams" => streams::describe(app, found.key, input),
                "PutLogEvents" => log_events::put(app, &found, call),
                "GetLogEvents" => log_events::get(app, &found, input),
                "FilterLogEvents" => log_events::filter(app, &found, input),
                "PutMetricFilter" => metric_filters::put(app, found.key, input),
                "DescribeMetricFilters" => {
                    metric_filters::describe(app, ctx, Some(found.key), input)
                }
                "DeleteMetricFilter" => metric_filters::delete(app, found.key, input),
                "PutSubscriptionFilter" => subscription_filters::put(app, found.key, input),
                "DescribeSubscriptionFilters" => {
                    subscription_filters::describe(app, ctx, found.key, input)
                }
                "DeleteSubscriptionFilter" => subscription_filters::delete(app, found.key, input),
                "TagResource" | "TagLogGroup" => tags::tag(app, &found, input),
                "UntagResource" | "UntagLogGroup" => tags::untag(app, &found, input),
                "ListTagsForResource" | "ListTagsLogGroup" => tags::list(&found),
                _ => Err(internal(format!("{op} is served but has no handler"))),
            }
        }
    }
}
