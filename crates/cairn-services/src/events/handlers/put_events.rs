//! PutEvents (entries validated one by one, as AWS, each failure in its own entry; the
//! events written in the call's transaction, so an answered call's events are routed even
//! after a crash) and TestEventPattern.

use cairn_model::ids::new_uuid;
use cairn_model::timefmt::{event_time, from_epoch_seconds};
use cairn_store::events::NewBusEvent;
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::rules::invalid_pattern;
use super::{bus_name_of, constraint, internal, missing, required, str_member, validation};
use crate::app::App;
use crate::events::resolve::is_router;
use crate::events::routing::envelope::event_json;
use crate::events::wire::{DEFAULT_BUS, bus_arn};
use crate::recorder::CallContext;

/// The largest event AWS takes (256 KB).
pub(crate) const MOST_EVENT_BYTES: usize = 256 * 1024;

/// The members an event must have for TestEventPattern.
const EVENT_FIELDS: [&str; 7] = [
    "id",
    "account",
    "source",
    "time",
    "region",
    "resources",
    "detail-type",
];

fn failure(code: &str, message: &str) -> Value {
    json!({"ErrorCode": code, "ErrorMessage": message})
}

/// An entry's event: its bus, id and JSON.
struct Made {
    bus: String,
    id: String,
    event: String,
}

/// One entry: the event to put on a bus, or its failure entry.
fn entry(app: &App, ctx: &CallContext, e: &Value, now: i64) -> Result<Made, Value> {
    let arg = |name: &str| {
        failure(
            "InvalidArgument",
            &format!("Parameter {name} is not valid. Reason: {name} is a required argument."),
        )
    };
    let source = str_member(e, "Source").ok_or_else(|| arg("Source"))?;
    let detail_type = str_member(e, "DetailType").ok_or_else(|| arg("DetailType"))?;
    let detail = str_member(e, "Detail").ok_or_else(|| arg("Detail"))?;
    if source.starts_with("aws.") && !is_router(ctx) {
        return Err(failure(
            "NotAuthorizedForSourceException",
            "Not authorized for the source.",
        ));
    }
    let detail: Value = match serde_json::from_str(detail) {
        Ok(v @ Value::Object(_)) => v,
        _ => return Err(failure("MalformedDetail", "Detail is malformed.")),
    };
    let bus = str_member(e, "EventBusName").map_or_else(|| DEFAULT_BUS.to_owned(), bus_name_of);
    if bus != DEFAULT_BUS {
        let arn = bus_arn(&ctx.region, &ctx.recipient_account, &bus);
        match app.events.bus(&arn) {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Err(failure(
                    "ResourceNotFoundException",
                    &format!("Event bus {bus} does not exist."),
                ));
            }
            Err(err) => {
                tracing::error!(error = %err, "EventBridge store unavailable");
                return Err(failure("InternalFailure", "Internal failure."));
            }
        }
    }
    let time = e.get("Time").and_then(from_epoch_seconds).unwrap_or(now);
    let resources = e
        .get("Resources")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let id = new_uuid();
    let event = event_json(
        &id,
        detail_type,
        source,
        &ctx.recipient_account,
        &event_time(time),
        &ctx.region,
        Value::Array(resources),
        detail,
    );
    if event.len() > MOST_EVENT_BYTES {
        return Err(failure(
            "InvalidArgument",
            "Total size of the entries in the request is over the limit.",
        ));
    }
    Ok(Made { bus, id, event })
}

pub(super) fn put(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let entries = input
        .get("Entries")
        .and_then(Value::as_array)
        .ok_or_else(|| missing("entries"))?;
    if entries.is_empty() || entries.len() > 10 {
        return Err(constraint(
            "[PutEventsRequestEntry]",
            "entries",
            if entries.is_empty() {
                "have length greater than or equal to 1"
            } else {
                "have length less than or equal to 10"
            },
        ));
    }
    let now = app.clock.now_millis();
    let mut answers = Vec::new();
    let mut events = Vec::new();
    let mut failed = 0;
    for e in entries {
        match entry(app, ctx, e, now) {
            Ok(made) => {
                answers.push(json!({"EventId": made.id}));
                events.push(NewBusEvent {
                    account: ctx.recipient_account.clone(),
                    region: ctx.region.clone(),
                    bus: made.bus,
                    event: made.event,
                });
            }
            Err(f) => {
                failed += 1;
                answers.push(f);
            }
        }
    }
    app.events.put_bus_events(&events, now).map_err(internal)?;
    Ok(json!({"FailedEntryCount": failed, "Entries": answers}))
}

pub(super) fn test_pattern(input: &Value) -> Result<Value, AwsError> {
    let pattern = required(input, "EventPattern", "eventPattern")?;
    let event = required(input, "Event", "event")?;
    // The model's limit for EventPattern, as PutRule's: it also bounds what compiling costs.
    if pattern.len() > 4096 {
        return Err(constraint(
            pattern,
            "eventPattern",
            "have length less than or equal to 4096",
        ));
    }
    let pattern = invalid_pattern(pattern)?;
    let event: Value =
        serde_json::from_str(event).map_err(|_| validation("Parameter Event is not valid."))?;
    if !event.is_object() || EVENT_FIELDS.iter().any(|f| event.get(*f).is_none()) {
        return Err(validation("Parameter Event is not valid."));
    }
    Ok(json!({"Result": pattern.matches(&event)}))
}
