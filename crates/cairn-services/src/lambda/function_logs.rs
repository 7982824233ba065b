//! A function's output in CloudWatch Logs: each invocation's START, output, END and REPORT
//! lines go to the function's log group (`/aws/lambda/<name>` unless its LoggingConfig names
//! another), in the stream the executor names, both created on first use. Written through
//! Logs' API as `lambda.amazonaws.com`, unrecorded: AWS shows no PutLogEvents event for
//! function logs, and Logs lets Lambda write them without a policy of the account. Streams
//! known to exist are remembered, and invocations ending together share their PutLogEvents
//! (one per stream); a group or stream deleted meanwhile is made again.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

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

/// One invocation's lines, waiting for their stream's PutLogEvents.
struct Pending {
    key: StreamKey,
    lines: Vec<(i64, String)>,
}

/// Invocations finishing together share their writes (group commit): each joins the pending
/// lines, and one of them writes everything pending, a PutLogEvents per stream, while the
/// others wait for it. A warm function's output costs a Logs transaction per batch of
/// invocations rather than per invocation, and every invocation's lines are stored before it
/// answers, as before.
#[derive(Default)]
struct Shipper {
    state: Mutex<ShipState>,
    done: Condvar,
}

#[derive(Default)]
struct ShipState {
    pending: Vec<Pending>,
    /// How many invocations joined, and how many of them are written.
    joined: u64,
    written: u64,
    writing: bool,
}

/// The shipper of an application: `App` has no room for a service's own state, so shippers
/// are kept by the application's address (tests run several applications in one process).
fn shipper(app: &App) -> Arc<Shipper> {
    static ALL: OnceLock<Mutex<HashMap<usize, Arc<Shipper>>>> = OnceLock::new();
    let id = std::ptr::from_ref(app) as usize;
    let mut all = ALL
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    Arc::clone(all.entry(id).or_default())
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
    // The runner stamps lines with the machine's clock; the log group keeps the instance's
    // time (which a test clock moves ahead), as every other record it holds.
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let ahead = app.clock.now_millis() - wall;
    let lines: Vec<(i64, String)> = lines.iter().map(|(t, m)| (t + ahead, m.clone())).collect();
    let shipper = shipper(app);
    let mut st = lock(&shipper.state);
    st.joined += 1;
    let mine = st.joined;
    st.pending.push(Pending {
        key: (
            account.to_owned(),
            region.to_owned(),
            group.to_owned(),
            stream.to_owned(),
        ),
        lines,
    });
    while st.written < mine {
        if st.writing {
            st = shipper.done.wait(st).unwrap_or_else(|p| p.into_inner());
            continue;
        }
        st.writing = true;
        let batch = std::mem::take(&mut st.pending);
        let upto = st.joined;
        drop(st);
        write_batch(app, batch);
        st = lock(&shipper.state);
        st.writing = false;
        st.written = upto;
        shipper.done.notify_all();
    }
}

fn lock(m: &Mutex<ShipState>) -> std::sync::MutexGuard<'_, ShipState> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Writes pending lines, a PutLogEvents per stream (in the order streams first appear).
fn write_batch(app: &App, batch: Vec<Pending>) {
    let mut streams: Vec<(StreamKey, Vec<(i64, String)>)> = Vec::new();
    for p in batch {
        match streams.iter_mut().find(|(k, _)| *k == p.key) {
            Some((_, lines)) => lines.extend(p.lines),
            None => streams.push((p.key, p.lines)),
        }
    }
    for (key, lines) in streams {
        write_stream(app, key, &lines);
    }
}

/// Writes one stream's lines, making its group and stream first when they are not known.
fn write_stream(app: &App, key: StreamKey, lines: &[(i64, String)]) {
    let (account, region, group, stream) = (&key.0, &key.1, &key.2, &key.3);
    let logs = Internal::service(LAMBDA, account, region, None, Durability::Unrecorded);
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
