//! Running each SQS operation, by topic: `queues` (create, URL, list, delete, attributes,
//! purge, dead-letter sources), `tags`, `send`, `receive`, `receipts` (delete and visibility
//! by receipt handle) and `batch` (the entry rules every batch shares). This file holds what
//! they share: AWS's errors and reading the members of a request.

mod batch;
mod queues;
mod receipts;
mod receive;
mod send;
mod tags;

use cairn_store::sqs::{Queue, QueueKey};
use cairn_wire::AwsError;
use serde_json::Value;

use super::resolve::SqsPlan;
use crate::app::App;
use crate::recorder::CallContext;

pub(super) fn internal(e: impl std::fmt::Display) -> AwsError {
    AwsError::internal(e.to_string())
}

/// `InvalidParameterValue`: what SQS answers for most bad input.
pub(super) fn invalid(msg: impl Into<String>) -> AwsError {
    AwsError::client("InvalidParameterValue", msg)
}

/// AWS's wording for a value out of its range.
pub(super) fn bad_value(member: &str, value: impl std::fmt::Display, reason: &str) -> AwsError {
    invalid(format!(
        "Value {value} for parameter {member} is invalid. Reason: {reason}"
    ))
}

pub(super) fn no_such_queue() -> AwsError {
    AwsError::client(
        "AWS.SimpleQueueService.NonExistentQueue",
        "The specified queue does not exist.",
    )
}

pub(super) fn missing(member: &str) -> AwsError {
    AwsError::client(
        "MissingParameter",
        format!("The request must contain the parameter {member}."),
    )
}

pub(super) use crate::members::str_member;

pub(super) fn required<'a>(input: &'a Value, name: &str) -> Result<&'a str, AwsError> {
    str_member(input, name).ok_or_else(|| missing(name))
}

/// An integer member within `lo..=hi`, worded as AWS words it when out of range.
pub(super) fn int_in(
    input: &Value,
    name: &str,
    lo: i64,
    hi: i64,
    reason: &str,
) -> Result<Option<i64>, AwsError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if (lo..=hi).contains(&n) => Ok(Some(n)),
            _ => Err(bad_value(name, v, reason)),
        },
    }
}

/// A list of strings member (absent: empty).
pub(super) fn strings(input: &Value, name: &str) -> Vec<String> {
    input
        .get(name)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Queue names: 1–80 of `[A-Za-z0-9_-]` (FIFO queues, `.fifo`, are refused elsewhere).
pub(crate) fn check_queue_name(name: &str) -> Result<(), AwsError> {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    if name.is_empty()
        || name.len() > 80
        || !base
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        ));
    }
    Ok(())
}

/// What resolve found.
pub(super) struct Found<'p> {
    pub key: &'p QueueKey,
    pub queue: Option<&'p Queue>,
}

impl<'p> Found<'p> {
    fn of(plan: &'p SqsPlan) -> Result<Found<'p>, AwsError> {
        Ok(Found {
            key: plan
                .key
                .as_ref()
                .ok_or_else(|| internal("no queue resolved"))?,
            queue: plan.queue.as_ref(),
        })
    }

    pub(super) fn queue(&self) -> Result<&'p Queue, AwsError> {
        self.queue.ok_or_else(no_such_queue)
    }
}

pub(super) fn run(
    app: &App,
    ctx: &CallContext,
    op: &str,
    input: &Value,
    plan: &mut SqsPlan,
) -> Result<Value, AwsError> {
    if !super::operations::SERVED.contains(&op) {
        return Err(AwsError::client(
            "AWS.SimpleQueueService.UnsupportedOperation",
            format!("cairn does not support {op} yet."),
        ));
    }
    if op == "ListQueues" {
        return queues::list(app, ctx, input);
    }
    let found = Found::of(plan)?;
    match op {
        "CreateQueue" => queues::create(app, &found, input),
        "GetQueueUrl" => queues::url(&found),
        "DeleteQueue" => queues::delete(app, found.key),
        "GetQueueAttributes" => queues::get_attributes(app, &found, input),
        "SetQueueAttributes" => queues::set_attributes(app, &found, input),
        "PurgeQueue" => queues::purge(app, &found),
        "ListDeadLetterSourceQueues" => queues::dead_letter_sources(app, &found, input),
        "TagQueue" => tags::tag(app, &found, input),
        "UntagQueue" => tags::untag(app, &found, input),
        "ListQueueTags" => tags::list(&found),
        "SendMessage" => send::one(app, ctx, &found, input),
        "SendMessageBatch" => send::batch(app, ctx, &found, input),
        "ReceiveMessage" => receive::receive(app, &found, input),
        "DeleteMessage" => receipts::delete(app, &found, input),
        "DeleteMessageBatch" => receipts::delete_batch(app, &found, input),
        "ChangeMessageVisibility" => receipts::change_visibility(app, &found, input),
        "ChangeMessageVisibilityBatch" => receipts::change_visibility_batch(app, &found, input),
        _ => Err(internal(format!("{op} is served but has no handler"))),
    }
}
