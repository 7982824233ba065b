//! CloudWatch Logs' wire shapes: the `X-Amz-Target` prefix (`Logs_20140328.<Op>`; the codec is
//! `codec.rs`) and the documents its answers carry. Times are epoch milliseconds (the model's `long`), not
//! the epoch seconds of JSON timestamps.

use cairn_store::logs::{
    GroupKey, LogGroup, LogStream, MetricFilter, ResourcePolicy, SubscriptionFilter,
};
use serde_json::{Value, json};

pub const TARGET_PREFIX: &str = "Logs_20140328.";

/// `arn:aws:logs:<r>:<acct>:log-group:<name>:*`, DescribeLogGroups' `arn` (the form IAM
/// policies and a trail's `CloudWatchLogsLogGroupArn` carry).
pub(super) fn group_arn_star(key: &GroupKey) -> String {
    format!("{}:*", key.arn())
}

pub(super) fn stream_arn(key: &GroupKey, stream: &str) -> String {
    format!("{}:log-stream:{stream}", key.arn())
}

/// A `LogGroup` as DescribeLogGroups answers it. With `logGroupNamePattern` AWS answers only
/// the name, creation time and `arn` (`brief`).
pub(super) fn log_group(g: &LogGroup, metric_filters: usize, brief: bool) -> Value {
    let mut v = json!({
        "logGroupName": g.key.name,
        "creationTime": g.created_ms,
        "arn": group_arn_star(&g.key),
    });
    if brief {
        return v;
    }
    v["metricFilterCount"] = json!(metric_filters);
    v["storedBytes"] = json!(0);
    v["logGroupClass"] = json!("STANDARD");
    v["logGroupArn"] = json!(g.key.arn());
    if let Some(days) = g.retention_days {
        v["retentionInDays"] = json!(days);
    }
    v
}

/// The token PutLogEvents answers after `uploads` batches: 56 digits, like AWS's. AWS ignores
/// sequence tokens since 2023, so it is only ever shown, never checked.
pub(super) fn sequence_token(uploads: i64) -> String {
    format!("{:056}", uploads.max(0))
}

/// A `LogStream` as DescribeLogStreams answers it: event times only once it has events;
/// `storedBytes` is always 0 (AWS stopped counting per stream in 2019).
pub(super) fn log_stream(key: &GroupKey, s: &LogStream) -> Value {
    let mut v = json!({
        "logStreamName": s.name,
        "creationTime": s.created_ms,
        "arn": stream_arn(key, &s.name),
        "storedBytes": 0,
    });
    if let Some(t) = s.first_event_ms {
        v["firstEventTimestamp"] = json!(t);
    }
    if let Some(t) = s.last_event_ms {
        v["lastEventTimestamp"] = json!(t);
    }
    if let Some(t) = s.last_ingestion_ms {
        v["lastIngestionTime"] = json!(t);
    }
    if s.uploads > 0 {
        v["uploadSequenceToken"] = json!(sequence_token(s.uploads));
    }
    v
}

/// A `MetricFilter` as DescribeMetricFilters answers it.
pub(super) fn metric_filter(f: &MetricFilter) -> Value {
    let transformations: Value =
        serde_json::from_str(&f.transformations).unwrap_or_else(|_| json!([]));
    json!({
        "filterName": f.name,
        "filterPattern": f.pattern,
        "metricTransformations": transformations,
        "creationTime": f.created_ms,
        "logGroupName": f.group,
        "applyOnTransformedLogs": false,
    })
}

/// A `SubscriptionFilter` as DescribeSubscriptionFilters answers it.
pub(super) fn subscription_filter(f: &SubscriptionFilter) -> Value {
    let mut v = json!({
        "filterName": f.name,
        "logGroupName": f.group,
        "filterPattern": f.pattern,
        "destinationArn": f.destination_arn,
        "distribution": f.distribution,
        "applyOnTransformedLogs": false,
        "creationTime": f.created_ms,
    });
    if let Some(role) = &f.role_arn {
        v["roleArn"] = json!(role);
    }
    v
}

/// A `ResourcePolicy` as PutResourcePolicy and DescribeResourcePolicies answer it: an
/// account-level one carries no `resourceArn` or `revisionId` (those are "only populated for
/// resource-scoped policies").
pub(super) fn resource_policy(p: &ResourcePolicy) -> Value {
    json!({
        "policyName": p.name,
        "policyDocument": p.document,
        "lastUpdatedTime": p.updated_ms,
        "policyScope": "ACCOUNT",
    })
}
