//! LookupEvents: event history with AWS's exact validation, paging and response shape.

use cairn_model::timefmt;
use cairn_store::history::{LookupKey, LookupQuery};
use cairn_store::journal::Entry;
use cairn_wire::AwsError;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::app::App;
use crate::cloudtrail::token;
use crate::recorder::CallContext;

const DEFAULT_MAX_RESULTS: i64 = 50;
const MAX_ATTRIBUTE_VALUE: usize = 2000;

fn invalid_attrs(msg: impl Into<String>) -> AwsError {
    AwsError::client("InvalidLookupAttributesException", msg)
}

fn time_member(input: &Value, name: &str) -> Result<Option<i64>, AwsError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Number(_)) => timefmt::from_epoch_seconds(v).map(Some).ok_or_else(|| {
            AwsError::client("SerializationException", format!("{name} is out of range"))
        }),
        Some(v @ Value::String(_)) => timefmt::parse_event_time(v).map(Some).ok_or_else(|| {
            AwsError::client(
                "SerializationException",
                format!("{name} is not a timestamp"),
            )
        }),
        Some(_) => Err(AwsError::client(
            "SerializationException",
            format!("{name} must be a timestamp"),
        )),
    }
}

struct Parsed {
    attribute: Option<(LookupKey, String)>,
    start: Option<i64>,
    end: Option<i64>,
    category: &'static str,
    max_results: usize,
    next_token: Option<String>,
}

fn parse(input: &Value) -> Result<Parsed, AwsError> {
    let attrs = match input.get("LookupAttributes") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => {
            return Err(AwsError::client(
                "SerializationException",
                "LookupAttributes must be a list",
            ));
        }
    };
    if attrs.len() > 1 {
        return Err(invalid_attrs(
            "You can only specify one lookup attribute per request.",
        ));
    }
    let attribute = match attrs.first() {
        None => None,
        Some(a) => {
            let key = a.get("AttributeKey").and_then(Value::as_str).unwrap_or("");
            let value = a.get("AttributeValue").and_then(Value::as_str);
            let key = LookupKey::parse(key).ok_or_else(|| {
                invalid_attrs(format!(
                    "Invalid AttributeKey '{key}'. Valid keys: EventId, EventName, ReadOnly, Username, ResourceType, ResourceName, EventSource, AccessKeyId."
                ))
            })?;
            let value = match value {
                Some(v) if !v.is_empty() && v.chars().count() <= MAX_ATTRIBUTE_VALUE => v,
                _ => {
                    return Err(invalid_attrs(format!(
                        "AttributeValue must be 1 to {MAX_ATTRIBUTE_VALUE} characters."
                    )));
                }
            };
            Some((key, value.to_owned()))
        }
    };
    let start = time_member(input, "StartTime")?;
    let end = time_member(input, "EndTime")?;
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        return Err(AwsError::client(
            "InvalidTimeRangeException",
            "Start time must not be after end time.",
        ));
    }
    let category = match input.get("EventCategory") {
        None | Some(Value::Null) => "Management",
        Some(Value::String(s)) if s == "insight" => "Insight",
        Some(other) => {
            return Err(AwsError::client(
                "InvalidEventCategoryException",
                format!("Event category {other} is not valid. The only valid value is insight."),
            ));
        }
    };
    if category == "Insight"
        && let Some((k, _)) = &attribute
        && !matches!(
            k,
            LookupKey::EventId | LookupKey::EventName | LookupKey::EventSource
        )
    {
        return Err(invalid_attrs(format!(
            "Lookup attribute {} is not supported for Insights events.",
            k.as_str()
        )));
    }
    let max_results = match input.get("MaxResults") {
        None | Some(Value::Null) => DEFAULT_MAX_RESULTS,
        Some(v) => v.as_i64().ok_or_else(|| {
            AwsError::client("SerializationException", "MaxResults must be an integer")
        })?,
    };
    if !(1..=DEFAULT_MAX_RESULTS).contains(&max_results) {
        return Err(AwsError::client(
            "InvalidMaxResultsException",
            format!(
                "Value {max_results} for MaxResults is invalid. MaxResults must be between 1 and 50."
            ),
        ));
    }
    let next_token = match input.get("NextToken") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(AwsError::client(
                "InvalidNextTokenException",
                "The NextToken is not valid.",
            ));
        }
    };
    Ok(Parsed {
        attribute,
        start,
        end,
        category,
        max_results: max_results as usize,
        next_token,
    })
}

/// What a NextToken is bound to: everything in the request but the token and the page size.
fn binding(ctx: &CallContext, p: &Parsed) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(ctx.recipient_account.as_bytes());
    h.update([0]);
    h.update(ctx.region.as_bytes());
    h.update([0]);
    h.update(p.category.as_bytes());
    h.update([0]);
    if let Some((k, v)) = &p.attribute {
        h.update(k.as_str().as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
    }
    h.update([0]);
    h.update(format!("{:?}/{:?}", p.start, p.end).as_bytes());
    h.finalize().to_vec()
}

pub fn lookup_events(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let p = parse(input)?;
    let now = app.clock.now_millis();
    let floor = app.history_retention_ms.map_or(i64::MIN, |r| now - r);
    let bind = binding(ctx, &p);
    let after = match &p.next_token {
        None => None,
        Some(t) => Some(token::open(&app.token_key, &bind, t).ok_or_else(|| {
            AwsError::client("InvalidNextTokenException", "The NextToken is not valid.")
        })?),
    };
    let q = LookupQuery {
        account: ctx.recipient_account.clone(),
        region: ctx.region.clone(),
        category: p.category,
        attribute: p.attribute.clone(),
        start_ms: p.start.unwrap_or(floor).max(floor),
        end_ms: p.end.unwrap_or(i64::MAX),
        limit: p.max_results,
        after,
    };
    let page = app.history.lookup(&q).map_err(|e| {
        tracing::error!(error = %e, "event history lookup failed");
        AwsError::internal("Event history is unavailable.")
    })?;
    let mut events = Vec::with_capacity(page.events.len());
    for e in &page.events {
        let payload = app.journal.read_at(e.seq as u64).map_err(|err| {
            tracing::error!(error = %err, seq = e.seq, "event history points at an unreadable journal entry");
            AwsError::internal("Event history is unavailable.")
        })?;
        let entry = Entry::decode(e.seq as u64, &payload)
            .map_err(|_| AwsError::internal("Event history is unavailable."))?;
        let mut m = Map::new();
        m.insert("EventId".into(), e.event_id.clone().into());
        if let Some(v) = &e.event_name {
            m.insert("EventName".into(), v.clone().into());
        }
        if let Some(v) = &e.read_only {
            m.insert("ReadOnly".into(), v.clone().into());
        }
        if let Some(v) = &e.access_key_id {
            m.insert("AccessKeyId".into(), v.clone().into());
        }
        m.insert("EventTime".into(), timefmt::epoch_seconds(e.t));
        if let Some(v) = &e.event_source {
            m.insert("EventSource".into(), v.clone().into());
        }
        if let Some(v) = &e.username {
            m.insert("Username".into(), v.clone().into());
        }
        let resources: Vec<Value> = e
            .resources
            .iter()
            .map(|r| {
                let mut o = Map::new();
                if let Some(t) = &r.resource_type {
                    o.insert("ResourceType".into(), t.clone().into());
                }
                o.insert("ResourceName".into(), r.resource_name.clone().into());
                Value::Object(o)
            })
            .collect();
        m.insert("Resources".into(), Value::Array(resources));
        m.insert(
            "CloudTrailEvent".into(),
            String::from_utf8_lossy(&entry.record).into_owned().into(),
        );
        events.push(Value::Object(m));
    }
    let mut out = json!({ "Events": events });
    if let Some(next) = page.next {
        out["NextToken"] = token::issue(&app.token_key, &bind, next).into();
    }
    Ok(out)
}
