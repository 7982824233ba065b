//! Running each CloudWatch operation, by topic: `metrics` (publishing and reading datapoints)
//! and `alarms` (metric alarms, their state and history). This file holds what they share:
//! AWS's error codes and texts, and reading the members of a request.

mod alarms;
mod metrics;

pub(super) use metrics::rules_value as metrics_rules_value;

use cairn_wire::AwsError;
use serde_json::Value;

use crate::app::App;
use crate::recorder::CallContext;

pub(super) fn internal(e: impl std::fmt::Display) -> AwsError {
    AwsError::internal(e.to_string())
}

/// `InvalidParameterValue` (the `InvalidParameterValueException` shape).
pub(super) fn invalid_value(msg: impl Into<String>) -> AwsError {
    AwsError::client("InvalidParameterValue", msg)
}

/// `InvalidParameterCombination`.
pub(super) fn invalid_combination(msg: impl Into<String>) -> AwsError {
    AwsError::client("InvalidParameterCombination", msg)
}

/// `ValidationError`: the model's constraints and the alarm rules.
pub(super) fn validation(msg: impl Into<String>) -> AwsError {
    AwsError::client("ValidationError", msg)
}

/// `MissingParameter`: a member the operation needs that the model does not require.
pub(super) fn missing(member: &str) -> AwsError {
    AwsError::client(
        "MissingParameter",
        format!("The parameter {member} is required."),
    )
}

/// `ResourceNotFound` (404).
pub(super) fn not_found(msg: impl Into<String>) -> AwsError {
    let mut e = AwsError::client("ResourceNotFound", msg);
    e.status = 404;
    e
}

pub(super) fn bad_token() -> AwsError {
    AwsError::client(
        "InvalidNextToken",
        "The value of the NextToken is not valid.",
    )
}

pub(super) use crate::members::str_member;

pub(super) fn required<'a>(input: &'a Value, name: &str) -> Result<&'a str, AwsError> {
    str_member(input, name).ok_or_else(|| missing(name))
}

/// A timestamp member (epoch seconds in the document model) in milliseconds.
pub(super) fn time_ms(input: &Value, name: &str) -> Result<Option<i64>, AwsError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => cairn_model::timefmt::from_epoch_seconds(v)
            .map(Some)
            .ok_or_else(|| invalid_value(format!("The parameter {name} is not a valid time."))),
    }
}

/// The strings of a list member.
pub(super) fn strings(input: &Value, name: &str) -> Vec<String> {
    input
        .get(name)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A page of `items` from the opaque `NextToken` (an offset, as text) on, at most `max`.
pub(super) fn page<T>(
    items: Vec<T>,
    token: Option<&str>,
    max: usize,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let start = match token {
        None => 0,
        Some(t) => t.parse::<usize>().map_err(|_| bad_token())?,
    };
    if start > items.len() {
        return Err(bad_token());
    }
    let end = start.saturating_add(max).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((
        items.into_iter().skip(start).take(end - start).collect(),
        next,
    ))
}

pub(super) fn run(
    app: &App,
    ctx: &CallContext,
    op: &str,
    input: &Value,
) -> Result<Value, AwsError> {
    match op {
        "PutMetricData" => metrics::put_metric_data(app, ctx, input),
        "GetMetricStatistics" => metrics::get_metric_statistics(app, ctx, input),
        "GetMetricData" => metrics::get_metric_data(app, ctx, input),
        "ListMetrics" => metrics::list_metrics(app, ctx, input),
        "PutMetricAlarm" => alarms::put_metric_alarm(app, ctx, input),
        "DescribeAlarms" => alarms::describe_alarms(app, ctx, input),
        "DescribeAlarmsForMetric" => alarms::describe_alarms_for_metric(app, ctx, input),
        "DescribeAlarmHistory" => alarms::describe_alarm_history(app, ctx, input),
        "SetAlarmState" => alarms::set_alarm_state(app, ctx, input),
        "DeleteAlarms" => alarms::delete_alarms(app, ctx, input),
        "EnableAlarmActions" => alarms::set_actions_enabled(app, ctx, input, true),
        "DisableAlarmActions" => alarms::set_actions_enabled(app, ctx, input, false),
        // AWS's awsQueryCompatible services answer an unknown action `InvalidAction` (400).
        _ => Err(AwsError::client(
            "InvalidAction",
            format!("cairn does not support {op} yet."),
        )),
    }
}
