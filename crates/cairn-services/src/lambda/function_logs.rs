//! A function's output in CloudWatch Logs: each invocation's START, output, END and REPORT
//! lines go to the function's log group (`/aws/lambda/<name>` unless its LoggingConfig names
//! another), in the stream the executor names, both created on first use. Written through
//! Logs' API as `lambda.amazonaws.com`, unrecorded: AWS shows no PutLogEvents event for
//! function logs, and Logs lets Lambda write them without a policy of the account. Streams
//! known to exist are remembered, so a warm function's invocation is one PutLogEvents; one
//! deleted meanwhile is made again.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use cairn_wire::AwsError;
use serde_json::{Value, json};

use crate::app::App;
use crate::pipeline::Durability;
use crate::pipeline::internal::Internal;

const LAMBDA: &str = "lambda.amazonaws.com";

/// Most events in one PutLogEvents (Logs' limit).
const BATCH: usize = 10_000;

/// A stream: (account, region, group, stream).
type StreamKey = (String, String, String, String);

/// Streams written to before.
fn known() -> &'static Mutex<HashSet<StreamKey>> {
    static KNOWN: OnceLock<Mutex<HashSet<StreamKey>>> = OnceLock::new();
    KNOWN.get_or_init(Default::default)
}

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
    let key = (
        account.to_owned(),
        region.to_owned(),
        group.to_owned(),
        stream.to_owned(),
    );
    let seen = known()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(&key);
    let mut written = if seen {
        put(app, &logs, group, stream, lines)
    } else {
        Err(AwsError::client(
            "ResourceNotFoundException",
            "not made yet",
        ))
    };
    if matches!(&written, Err(e) if e.code == "ResourceNotFoundException") {
        written =
            create(app, &logs, group, stream).and_then(|()| put(app, &logs, group, stream, lines));
    }
    match written {
        Ok(()) => {
            known()
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key);
        }
        Err(e) => {
            tracing::warn!(group, stream, error = %e.message, "could not write a function's log lines");
        }
    }
}

/// Makes the group and the stream, either of which may exist.
fn create(app: &App, logs: &Internal, group: &str, stream: &str) -> Result<(), AwsError> {
    let exists = |r: Result<Value, AwsError>| match r {
        Err(e) if e.code != "ResourceAlreadyExistsException" => Err(e),
        _ => Ok(()),
    };
    exists(logs.call_json(
        app,
        "logs",
        "CreateLogGroup",
        json!({"logGroupName": group}),
    ))?;
    exists(logs.call_json(
        app,
        "logs",
        "CreateLogStream",
        json!({"logGroupName": group, "logStreamName": stream}),
    ))
}

/// Puts the lines, in time order as Logs wants a batch.
fn put(
    app: &App,
    logs: &Internal,
    group: &str,
    stream: &str,
    lines: &[(i64, String)],
) -> Result<(), AwsError> {
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
}
