//! PutAuditEvents: each event checked (`validate`), the accepted ones made into CloudTrail
//! records and appended to every destination event data store of the channel, then the
//! channel's ingestion status updated.
//!
//! Each destination store takes a channel's events as the columnar stream
//! `channel-<channel id>`, numbered from 1 in the order they were accepted; the next numbers
//! come from the engine's committed position of that stream, and calls on one server append
//! one at a time, so a number is never taken twice. The append is durable when it returns,
//! before the call answers.

use std::borrow::Cow;
use std::collections::HashSet;

use cairn_model::{ids, timefmt};
use cairn_store::lake::KeyState;
use cairn_wire::AwsError;
use serde_json::{Map, Value, json};

use super::resolve::{DataPlan, INGESTION};
use super::validate;
use crate::app::App;
use crate::recorder::CallContext;

/// Events per request, and bytes.
const MAX_EVENTS: usize = 100;
const MAX_BYTES: usize = 1 << 20;

fn validation(msg: impl Into<String>) -> AwsError {
    AwsError::client("ValidationException", msg)
}

fn store_failure(e: impl std::fmt::Display) -> AwsError {
    tracing::error!(error = %e, "lake failure while delivering audit events");
    AwsError::internal("The event data store could not take the events.")
}

pub(super) fn run(
    app: &App,
    _ctx: &CallContext,
    op: &str,
    input: &Value,
    plan: &mut DataPlan,
) -> Result<Value, AwsError> {
    match op {
        "PutAuditEvents" => put_audit_events(app, input, plan),
        other => Err(AwsError::client(
            "UnsupportedOperationException",
            format!("cairn does not support the CloudTrail Data operation {other} yet."),
        )),
    }
}

fn put_audit_events(app: &App, input: &Value, plan: &DataPlan) -> Result<Value, AwsError> {
    let (Some(arn), Some(channel)) = (&plan.channel_arn, &plan.channel) else {
        return Err(AwsError::internal("the channel was not resolved"));
    };
    let events = input
        .get("auditEvents")
        .and_then(Value::as_array)
        .filter(|a| (1..=MAX_EVENTS).contains(&a.len()))
        .ok_or_else(|| validation(format!("auditEvents must hold 1 to {MAX_EVENTS} events.")))?;
    let size: usize = events.iter().map(|e| e.to_string().len()).sum();
    if size > MAX_BYTES {
        return Err(validation(
            "A PutAuditEvents request can carry at most 1 MB of events.",
        ));
    }
    let mut seen = HashSet::new();
    for e in events {
        let id = e.get("id").and_then(Value::as_str).unwrap_or("");
        if !validate::id_ok(id) {
            return Err(validation(format!(
                "Event id '{id}' must be 1 to 128 characters of letters, digits, - and _."
            )));
        }
        if e.get("eventData").and_then(Value::as_str).is_none() {
            return Err(validation(format!("Event {id} has no eventData string.")));
        }
        if !seen.insert(id) {
            return Err(AwsError::client(
                "DuplicatedAuditEventId",
                format!("The event id {id} appears more than once in the request."),
            ));
        }
    }
    let owner = channel.get("Account").and_then(Value::as_str).unwrap_or("");
    let region = channel.get("Region").and_then(Value::as_str).unwrap_or("");
    let now = app.clock.now_millis();
    let ingestion_time = timefmt::event_time(now);
    let mut successful = Vec::new();
    let mut failed = Vec::new();
    let mut records = Vec::new();
    for e in events {
        let id = e.get("id").and_then(Value::as_str).unwrap_or("");
        let data = e.get("eventData").and_then(Value::as_str).unwrap_or("");
        let checksum = e.get("eventDataChecksum").and_then(Value::as_str);
        match validate::check(data, checksum, owner) {
            Ok(data) => {
                let event_id = ids::new_uuid();
                records.push(
                    validate::record(data, &event_id, region, owner, arn, &ingestion_time)
                        .to_string(),
                );
                successful.push(json!({"id": id, "eventID": event_id}));
            }
            Err(f) => {
                failed.push(json!({"id": id, "errorCode": f.code, "errorMessage": f.message}))
            }
        }
    }
    if !records.is_empty() {
        deliver(app, arn, channel, &records)?;
    }
    note_ingestion(app, arn, owner, now, &successful, &failed)?;
    Ok(json!({"successful": successful, "failed": failed}))
}

/// Appends the records to every live destination store of the channel.
fn deliver(app: &App, arn: &str, channel: &Value, records: &[String]) -> Result<(), AwsError> {
    let id = arn.rsplit('/').next().unwrap_or(arn);
    let stream = format!("channel-{id}");
    let destinations: Vec<&str> = channel
        .get("Destinations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| d.get("Location").and_then(Value::as_str))
        .collect();
    let mut stores = Vec::new();
    for location in destinations {
        let Some(store) = app.lake.store(location).map_err(store_failure)? else {
            continue;
        };
        // A store takes events while it ingests.
        if store.status != "ENABLED" {
            continue;
        }
        // A store encrypted with a KMS key takes events only while CloudTrail holds its data
        // key (it asks KMS for it as it ingests): checked for every destination before any
        // takes the events, so a refused call leaves none behind.
        let encrypted = serde_json::from_str::<Value>(&store.settings)
            .ok()
            .is_some_and(|m| m.get("KmsKeyId").is_some());
        if encrypted && !matches!(app.columnar.key_state(&store.id), KeyState::Unlocked { .. }) {
            return Err(AwsError::new(
                503,
                "ServiceUnavailableException",
                format!(
                    "The KMS key of event data store {} cannot be used now; the events were not accepted.",
                    store.arn
                ),
            ));
        }
        stores.push(store);
    }
    for store in stores {
        let mut rows = records.iter().map(|r| Cow::Borrowed(r.as_str()));
        app.columnar
            .append_next(&store.id, &stream, records.len() as u64, &mut rows)
            .map_err(store_failure)?;
    }
    Ok(())
}

/// Keeps the channel's ingestion status (GetChannel's `IngestionStatus`; times in ms).
fn note_ingestion(
    app: &App,
    arn: &str,
    owner: &str,
    now: i64,
    successful: &[Value],
    failed: &[Value],
) -> Result<(), AwsError> {
    let mut status: Map<String, Value> = app
        .lake
        .document(INGESTION, arn)
        .map_err(store_failure)?
        .and_then(|d| serde_json::from_str(&d).ok())
        .unwrap_or_default();
    status.insert("LatestIngestionAttemptTime".into(), json!(now));
    if let Some(last) = successful.last() {
        status.insert(
            "LatestIngestionAttemptEventID".into(),
            last["eventID"].clone(),
        );
        status.insert("LatestIngestionSuccessTime".into(), json!(now));
        status.insert(
            "LatestIngestionSuccessEventID".into(),
            last["eventID"].clone(),
        );
    }
    if let Some(f) = failed.first() {
        status.insert("LatestIngestionErrorCode".into(), f["errorCode"].clone());
    }
    app.lake
        .put_document(INGESTION, arn, owner, &Value::Object(status).to_string())
        .map_err(store_failure)
}
