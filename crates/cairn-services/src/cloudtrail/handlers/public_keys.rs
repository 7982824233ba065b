//! ListPublicKeys: the public halves of a region's digest signing keys, every key whose
//! validity overlaps the requested range, in one page (the CLI reads only the first).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cairn_model::timefmt;
use cairn_wire::AwsError;
use serde_json::{Value, json};

use crate::app::App;
use crate::recorder::CallContext;

fn time_member(input: &Value, name: &str) -> Result<Option<i64>, AwsError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => timefmt::from_epoch_seconds(v)
            .or_else(|| timefmt::parse_event_time(v))
            .map(Some)
            .ok_or_else(|| {
                AwsError::client(
                    "SerializationException",
                    format!("{name} must be a timestamp"),
                )
            }),
    }
}

pub fn list_public_keys(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let now = app.clock.now_millis();
    let start = time_member(input, "StartTime")?.unwrap_or(now);
    let end = time_member(input, "EndTime")?.unwrap_or(now);
    if start > end {
        return Err(AwsError::client(
            "InvalidTimeRangeException",
            "Start time must not be after end time.",
        ));
    }
    let keys = app.keys.public_keys(&ctx.region, start, end).map_err(|e| {
        tracing::error!(error = %e, "signing keys unavailable");
        AwsError::internal("Signing keys are unavailable.")
    })?;
    let list: Vec<Value> = keys
        .iter()
        .map(|k| {
            json!({
                "Value": STANDARD.encode(&k.public_der),
                "ValidityStartTime": timefmt::epoch_seconds(k.valid_from_ms),
                "ValidityEndTime": timefmt::epoch_seconds(k.valid_to_ms),
                "Fingerprint": k.fingerprint,
            })
        })
        .collect();
    Ok(json!({"PublicKeyList": list}))
}
