//! Invoke: `RequestResponse` runs the function and answers its result (200; a failed
//! function still answers 200, with `X-Amz-Function-Error: Unhandled` and the error document
//! as payload; `LogType: Tail` adds the last 4 KB of the invocation's log, base64, as
//! `X-Amz-Log-Result`), `Event` queues it durably and answers 202 once the queue row is
//! committed with the call, `DryRun` only checks that the caller may invoke (204). Payloads
//! must be JSON, at most 6 MB (synchronous) or 1 MB (asynchronous).
//!
//! Other services invoke functions through this same operation, as internal calls made as
//! their service principal (`events.amazonaws.com` for a rule, `sns.amazonaws.com`,
//! `logs.amazonaws.com`) with `InvocationType: Event` and the source as `aws:SourceArn`:
//! the function's resource policy decides, as on AWS.

use base64::Engine;
use bytes::Bytes;
use cairn_store::lambda::NewInvocation;
use cairn_wire::AwsError;
use serde_json::{Map, Value, json};

use super::{AwsErrorExt, function_of, internal, str_member, validation};
use crate::app::App;
use crate::lambda::resolve::LambdaPlan;
use crate::lambda::{config, execute};
use crate::recorder::CallContext;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// AWS's payload limits.
const MAX_SYNC: usize = 6 * 1024 * 1024;
const MAX_ASYNC: usize = 1024 * 1024;
/// How much of the log `LogType: Tail` answers.
const TAIL: usize = 4096;

/// The last 4 KB of an invocation's log, base64.
pub(crate) fn log_tail(lines: &[(i64, String)]) -> String {
    let mut text = String::new();
    for (_, l) in lines {
        text.push_str(l);
        if !l.ends_with('\n') {
            text.push('\n');
        }
    }
    let mut start = text.len().saturating_sub(TAIL);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    B64.encode(&text.as_bytes()[start..])
}

/// The payload as sent, checked: JSON, within the limit.
fn payload_of(input: &Value, limit: usize) -> Result<Vec<u8>, AwsError> {
    let payload = match str_member(input, "Payload") {
        Some(p) => B64
            .decode(p)
            .map_err(|_| internal("the payload was not carried as base64"))?,
        None => Vec::new(),
    };
    if payload.len() > limit {
        return Err(AwsError::new(
            413,
            "RequestTooLargeException",
            format!("Request must be smaller than {limit} bytes for the InvokeFunction operation"),
        )
        .user());
    }
    if !payload.iter().all(u8::is_ascii_whitespace)
        && let Err(e) = serde_json::from_slice::<Value>(&payload)
    {
        return Err(AwsError::client(
            "InvalidRequestContentException",
            format!(
                "Could not parse request body into json: Could not parse payload into json: {e}"
            ),
        )
        .user());
    }
    Ok(payload)
}

/// The payload a function receives: `{}` for an empty one, as AWS passes it.
fn event_bytes(payload: Vec<u8>) -> Bytes {
    if payload.iter().all(u8::is_ascii_whitespace) {
        Bytes::from_static(b"{}")
    } else {
        Bytes::from(payload)
    }
}

pub(super) fn invoke(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    plan: &LambdaPlan,
) -> Result<Value, AwsError> {
    let f = function_of(plan)?;
    let kind = str_member(input, "InvocationType").unwrap_or("RequestResponse");
    if !matches!(kind, "RequestResponse" | "Event" | "DryRun") {
        return Err(validation(format!(
            "1 validation error detected: Value '{kind}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
        )));
    }
    let log_type = str_member(input, "LogType").unwrap_or("None");
    if !matches!(log_type, "None" | "Tail") {
        return Err(validation(format!(
            "1 validation error detected: Value '{log_type}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]"
        )));
    }
    let limit = if kind == "Event" { MAX_ASYNC } else { MAX_SYNC };
    let payload = payload_of(input, limit)?;
    if kind == "DryRun" {
        return Ok(json!({"StatusCode": 204}));
    }
    let runtime = execute::spec(f).runtime;
    if !config::runnable(&runtime) {
        return Err(config::unrunnable(&runtime));
    }
    if kind == "Event" {
        let mut who = Map::new();
        who.insert("caller".into(), json!(ctx.principal.arn()));
        if let Some(s) = &ctx.source_arn {
            who.insert("sourceArn".into(), json!(s));
        }
        let now = app.clock.now_millis();
        app.lambda
            .enqueue(
                &NewInvocation {
                    function_arn: f.arn.clone(),
                    request_id: ctx.request_id.clone(),
                    payload: event_bytes(payload).to_vec(),
                    context: Value::Object(who).to_string(),
                    due_ms: now,
                },
                now,
            )
            .map_err(internal)?;
        return Ok(json!({"StatusCode": 202}));
    }
    let outcome = execute::run(
        app,
        f,
        &ctx.request_id,
        event_bytes(payload),
        str_member(input, "ClientContext").map(str::to_owned),
    )?;
    let mut out = Map::new();
    out.insert("StatusCode".into(), json!(200));
    out.insert("ExecutedVersion".into(), json!("$LATEST"));
    if let Some(e) = &outcome.function_error {
        out.insert("FunctionError".into(), json!(e));
    }
    if log_type == "Tail" {
        out.insert("LogResult".into(), json!(log_tail(&outcome.log)));
    }
    out.insert("Payload".into(), json!(B64.encode(&outcome.payload)));
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_the_last_4_kb_of_whole_characters() {
        let lines = vec![
            (1, "START".to_owned()),
            (2, "é".repeat(3000)),
            (3, "END".into()),
        ];
        let tail = B64.decode(log_tail(&lines)).unwrap();
        assert!(tail.len() <= TAIL);
        let text = String::from_utf8(tail).unwrap();
        assert!(text.ends_with("END\n"));
        assert!(!text.contains("START"));
    }

    #[test]
    fn payloads_must_be_json_within_the_limit() {
        let p = |s: &[u8]| json!({"Payload": B64.encode(s)});
        assert_eq!(payload_of(&p(b"{\"a\":1}"), 100).unwrap(), b"{\"a\":1}");
        assert!(payload_of(&json!({}), 100).unwrap().is_empty());
        let e = payload_of(&p(b"not json"), 100).unwrap_err();
        assert_eq!(e.code, "InvalidRequestContentException");
        assert!(
            e.message
                .starts_with("Could not parse request body into json")
        );
        let e = payload_of(&p(b"[1,2,3]"), 3).unwrap_err();
        assert_eq!(
            (e.status, e.code.as_ref()),
            (413, "RequestTooLargeException")
        );
        assert_eq!(event_bytes(Vec::new()), Bytes::from_static(b"{}"));
    }
}
