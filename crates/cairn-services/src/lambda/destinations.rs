//! Where an asynchronous invocation's result goes: the on-success or on-failure destination
//! of the function's event invoke configuration, sent the record AWS sends
//! (`{"version":"1.0","timestamp",requestContext:{requestId,functionArn,condition,
//! approximateInvokeCount},requestPayload,responseContext:{statusCode,executedVersion,
//! functionError},responsePayload}`) through the target's API: SQS SendMessage, SNS Publish,
//! Lambda Invoke (`Event`) or EventBridge PutEvents. As on AWS, Lambda sends with the
//! function's execution role (its session, `invokedBy lambda.amazonaws.com`), so the role's
//! permissions decide; each send is recorded as its service records it.

use base64::Engine;
use cairn_functions::Credentials;
use cairn_store::lambda::{Function, QueuedInvocation};
use cairn_wire::AwsError;
use serde_json::{Value, json};

use crate::app::App;
use crate::pipeline::Durability;
use crate::pipeline::internal::Internal;

const LAMBDA: &str = "lambda.amazonaws.com";

/// How an invocation ended, for its record.
pub(super) struct Result<'a> {
    /// `Success`, `RetriesExhausted` or `EventAgeExceeded`.
    pub condition: &'static str,
    pub attempts: i64,
    /// The function's answer (its result, or its error document), when it ran.
    pub response: Option<&'a [u8]>,
    pub function_error: Option<&'a str>,
}

/// A JSON text as a value, or as a string when it is not JSON.
fn json_or_text(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// `2019-11-14T18:16:05.568Z`, as the record's `timestamp`.
fn timestamp(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// AWS's invocation record.
pub(super) fn record(f: &Function, inv: &QueuedInvocation, r: &Result<'_>, now_ms: i64) -> Value {
    let mut out = json!({
        "version": "1.0",
        "timestamp": timestamp(now_ms),
        "requestContext": {
            "requestId": inv.request_id,
            "functionArn": format!("{}:$LATEST", f.arn),
            "condition": r.condition,
            "approximateInvokeCount": r.attempts,
        },
        "requestPayload": json_or_text(&inv.payload),
    });
    if let Some(resp) = r.response {
        let mut ctx = json!({"statusCode": 200, "executedVersion": "$LATEST"});
        if let Some(e) = r.function_error {
            ctx["functionError"] = json!(e);
        }
        out["responseContext"] = ctx;
        out["responsePayload"] = json_or_text(resp);
    }
    out
}

/// Sends `record` to `destination` as the function's role session.
pub(super) fn send(
    app: &App,
    f: &Function,
    creds: &Credentials,
    destination: &str,
    record: &Value,
) -> std::result::Result<(), AwsError> {
    let region = destination
        .split(':')
        .nth(3)
        .unwrap_or(&f.region)
        .to_owned();
    let caller = Internal::session(
        app,
        &creds.access_key_id,
        LAMBDA,
        &region,
        Some(&f.arn),
        Durability::Wait,
    )?;
    let body = record.to_string();
    let service = destination.split(':').nth(2).unwrap_or_default();
    match service {
        "sqs" => {
            let mut p = destination.split(':').skip(4);
            let (Some(account), Some(name)) = (p.next(), p.next()) else {
                return Err(AwsError::internal(format!("not a queue: {destination}")));
            };
            let url = format!("https://sqs.{region}.amazonaws.com/{account}/{name}");
            caller
                .call_json(
                    app,
                    "sqs",
                    "SendMessage",
                    json!({"QueueUrl": url, "MessageBody": body}),
                )
                .map(|_| ())
        }
        "sns" => caller
            .call_json(
                app,
                "sns",
                "Publish",
                json!({"TopicArn": destination, "Message": body}),
            )
            .map(|_| ()),
        "lambda" => caller
            .call_json(
                app,
                "lambda",
                "Invoke",
                json!({
                    "FunctionName": destination,
                    "InvocationType": "Event",
                    "Payload": base64::engine::general_purpose::STANDARD.encode(&body),
                }),
            )
            .map(|_| ()),
        "events" => {
            let success = record
                .pointer("/requestContext/condition")
                .and_then(Value::as_str)
                == Some("Success");
            let detail_type = if success {
                "Lambda Function Invocation Result - Success"
            } else {
                "Lambda Function Invocation Result - Failure"
            };
            caller
                .call_json(
                    app,
                    "events",
                    "PutEvents",
                    json!({"Entries": [{
                        "Source": "lambda",
                        "DetailType": detail_type,
                        "Detail": body,
                        "Resources": [format!("{}:$LATEST", f.arn)],
                        "EventBusName": destination,
                    }]}),
                )
                .map(|_| ())
        }
        other => Err(AwsError::internal(format!(
            "Lambda cannot send to {other} destinations"
        ))),
    }
}
