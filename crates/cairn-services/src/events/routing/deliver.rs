//! Delivering one event to one target through internal calls, as EventBridge does: as
//! `events.amazonaws.com` with the rule's ARN as `aws:SourceArn`, so the queue's, topic's or
//! function's policy decides, and each call is recorded as its service records it. SQS
//! `SendMessage` (with `MessageGroupId` for FIFO queues), SNS `Publish`, CloudWatch Logs
//! (a stream named after the event, `PutLogEvents` with the event's time), another bus
//! (`PutEvents`), Lambda (`Invoke`, `InvocationType: Event`). A dead-letter queue gets the
//! event with AWS's message attributes.
//!
//! CloudWatch Logs targets are written as AWS writes them: by `events.amazonaws.com` itself,
//! allowed by one of the account's Logs resource policies (which the console creates and CLI
//! users put with `aws logs put-resource-policy`); without one the delivery is refused
//! (`AccessDeniedException`), which `retry` treats as any refusal: not retried, dead-lettered. CreateLogStream is recorded as AWS records
//! it (`AWSService`, `invokedBy` events.amazonaws.com, `forAccount`).

use base64::Engine;
use cairn_wire::AwsError;
use serde_json::{Value, json};

use crate::app::App;
use crate::events::EVENT_SOURCE;
use crate::pipeline::Durability;
use crate::pipeline::internal::Internal;

/// A failed attempt: the error's code and message.
pub(crate) type Failure = (String, String);

fn failed(e: AwsError) -> Failure {
    (e.code.to_string(), e.message)
}

/// `arn:aws:<service>:<region>:<account>:<resource>` → its parts.
pub(crate) struct Arn<'a> {
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

pub(crate) fn split_arn(arn: &str) -> Option<Arn<'_>> {
    let p: Vec<&str> = arn.splitn(6, ':').collect();
    match p[..] {
        ["arn", _, service, region, account, resource] => Some(Arn {
            service,
            region,
            account,
            resource,
        }),
        _ => None,
    }
}

fn as_events(rule_arn: &str) -> Result<Internal, Failure> {
    let rule = split_arn(rule_arn).ok_or_else(|| ("InvalidArn".into(), rule_arn.to_owned()))?;
    Ok(Internal::service(
        EVENT_SOURCE,
        rule.account,
        rule.region,
        Some(rule_arn),
        Durability::Wait,
    ))
}

/// Sends `input` to the target (a `Target` structure).
pub(crate) fn deliver(
    app: &App,
    base_url: &str,
    rule_arn: &str,
    target: &Value,
    event: &Value,
    input: &str,
    event_ms: i64,
) -> Result<(), Failure> {
    let arn = target
        .get("Arn")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let t =
        split_arn(arn).ok_or_else(|| ("InvalidArn".to_owned(), format!("{arn} is not an ARN")))?;
    let me = as_events(rule_arn)?;
    let event_id = event.get("id").and_then(Value::as_str).unwrap_or_default();
    match t.service {
        "sqs" => {
            let mut body = json!({
                "QueueUrl": format!("{base_url}/{}/{}", t.account, t.resource),
                "MessageBody": input,
            });
            if let Some(g) = target.pointer("/SqsParameters/MessageGroupId") {
                body["MessageGroupId"] = g.clone();
                body["MessageDeduplicationId"] = json!(event_id);
            }
            me.call_json(app, "sqs", "SendMessage", body)
                .map(|_| ())
                .map_err(failed)
        }
        "sns" => me
            .call_json(
                app,
                "sns",
                "Publish",
                json!({"TopicArn": arn, "Message": input}),
            )
            .map(|_| ())
            .map_err(failed),
        "events" => {
            let entry = json!({
                "Source": event.get("source").cloned().unwrap_or_default(),
                "DetailType": event.get("detail-type").cloned().unwrap_or_default(),
                "Detail": event.get("detail").map(Value::to_string).unwrap_or_else(|| "{}".into()),
                "Resources": event.get("resources").cloned().unwrap_or_else(|| json!([])),
                "Time": event_ms as f64 / 1000.0,
                "EventBusName": arn,
            });
            let answer = me
                .call_json(app, "events", "PutEvents", json!({"Entries": [entry]}))
                .map_err(failed)?;
            match answer
                .pointer("/Entries/0/ErrorCode")
                .and_then(Value::as_str)
            {
                Some(code) => Err((
                    code.to_owned(),
                    answer
                        .pointer("/Entries/0/ErrorMessage")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                )),
                None => Ok(()),
            }
        }
        "logs" => {
            let group = t
                .resource
                .strip_prefix("log-group:")
                .map(|g| g.strip_suffix(":*").unwrap_or(g))
                .ok_or_else(|| ("InvalidArn".to_owned(), format!("{arn} is not a log group")))?;
            // The group is named in the rule's account (`me`'s): a log group of another
            // account is not a target EventBridge writes to.
            if t.account != me.account || t.region != me.region {
                return Err((
                    "ResourceNotFoundException".to_owned(),
                    format!("{arn} is not in the rule's account and region"),
                ));
            }
            let stream = json!({"logGroupName": group, "logStreamName": event_id});
            match me.call_json(app, "logs", "CreateLogStream", stream) {
                Ok(_) => {}
                Err(e) if e.code == "ResourceAlreadyExistsException" => {}
                Err(e) => return Err(failed(e)),
            }
            me.call_json(
                app,
                "logs",
                "PutLogEvents",
                json!({"logGroupName": group, "logStreamName": event_id,
                       "logEvents": [{"timestamp": event_ms, "message": input}]}),
            )
            .map(|_| ())
            .map_err(failed)
        }
        // The function's ARN names it (with any qualifier); Lambda answers 202 once the
        // invocation is queued, and retries it itself as AWS does.
        "lambda" => me
            .call_json(
                app,
                "lambda",
                "Invoke",
                json!({
                    "FunctionName": arn,
                    "InvocationType": "Event",
                    "Payload": base64::engine::general_purpose::STANDARD.encode(input),
                }),
            )
            .map(|_| ())
            .map_err(failed),
        other => Err((
            "UnsupportedTarget".to_owned(),
            format!("cairn does not deliver to {other} targets"),
        )),
    }
}

#[allow(clippy::too_many_arguments)]
/// Sends a given-up event to the target's dead-letter queue, with AWS's attributes.
pub(crate) fn dead_letter(
    app: &App,
    base_url: &str,
    queue_arn: &str,
    rule_arn: &str,
    target_arn: &str,
    event: &str,
    why: &Failure,
    exhausted: &str,
    attempts: i64,
) -> Result<(), Failure> {
    let q = split_arn(queue_arn)
        .filter(|q| q.service == "sqs")
        .ok_or_else(|| {
            (
                "InvalidArn".to_owned(),
                format!("{queue_arn} is not a queue"),
            )
        })?;
    let s = |v: &str| json!({"DataType": "String", "StringValue": v});
    let attributes = json!({
        "RULE_ARN": s(rule_arn),
        "TARGET_ARN": s(target_arn),
        "ERROR_CODE": s(&why.0),
        "ERROR_MESSAGE": s(&why.1),
        "EXHAUSTED_RETRY_CONDITION": s(exhausted),
        "RETRY_ATTEMPTS": {"DataType": "Number", "StringValue": attempts.to_string()},
    });
    as_events(rule_arn)?
        .call_json(
            app,
            "sqs",
            "SendMessage",
            json!({
                "QueueUrl": format!("{base_url}/{}/{}", q.account, q.resource),
                "MessageBody": event,
                "MessageAttributes": attributes,
            }),
        )
        .map(|_| ())
        .map_err(failed)
}
