//! A function's output in CloudWatch Logs: each invocation's START, output, END and REPORT
//! lines go to the function's log group (`/aws/lambda/<name>` unless its LoggingConfig names
//! another), in the stream the executor names, both created on first use. Written through
//! Logs' API as `lambda.amazonaws.com`, unrecorded: AWS shows no PutLogEvents event for
//! function logs, and Logs lets Lambda write them without a policy of the account.

use serde_json::{Value, json};

use crate::app::App;
use crate::pipeline::Durability;
use crate::pipeline::internal::Internal;

const LAMBDA: &str = "lambda.amazonaws.com";

/// Most events in one PutLogEvents (Logs' limit).
const BATCH: usize = 10_000;

/// Writes one invocation's lines; a failure is logged, never the invocation's.
pub(super) fn write(
    app: &App,
    account: &str,
    region: &str,
    group: &str,
    stream: &str,
    lines: &[(i64, String)],
) {
    if lines.is_empty() {
        return;
    }
    let logs = Internal::service(LAMBDA, account, region, None, Durability::Unrecorded);
    let exists = |r: Result<Value, cairn_wire::AwsError>| match r {
        Err(e) if e.code != "ResourceAlreadyExistsException" => Err(e),
        _ => Ok(()),
    };
    let written = exists(logs.call_json(
        app,
        "logs",
        "CreateLogGroup",
        json!({"logGroupName": group}),
    ))
    .and_then(|()| {
        exists(logs.call_json(
            app,
            "logs",
            "CreateLogStream",
            json!({"logGroupName": group, "logStreamName": stream}),
        ))
    })
    .and_then(|()| {
        // Logs wants a batch in time order.
        let mut sorted: Vec<&(i64, String)> = lines.iter().collect();
        sorted.sort_by_key(|(t, _)| *t);
        for chunk in sorted.chunks(BATCH) {
            let events: Vec<Value> = chunk
                .iter()
                .map(|(t, m)| json!({"timestamp": t, "message": m}))
                .collect();
            logs.call_json(
                app,
                "logs",
                "PutLogEvents",
                json!({"logGroupName": group, "logStreamName": stream, "logEvents": events}),
            )?;
        }
        Ok(())
    });
    if let Err(e) = written {
        tracing::warn!(group, stream, error = %e.message, "could not write a function's log lines");
    }
}
