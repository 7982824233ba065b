//! Log events: PutLogEvents with AWS's batch rules, GetLogEvents with forward and backward
//! tokens, FilterLogEvents with a filter pattern over streams, time windows and pages.
//! Retention is enforced on the injected clock: reads never show events older than the
//! group's retention, and writes to the group remove them.

use std::borrow::Cow;

use cairn_rules::filter::FilterPattern;
use cairn_store::logs::{EventQuery, LogEvent, LogGroup, NewEvent, Position, Streams};
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::{
    Found, bad_token, bool_member, constraint, int_member, internal, invalid, limit,
    no_such_stream, required, str_member,
};
use crate::app::App;
use crate::logs::codec::LogsInput;
use crate::logs::{token, wire};

pub(super) const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
/// A batch's size counts each message's UTF-8 bytes plus 26 bytes per event.
const EVENT_OVERHEAD: usize = 26;
const MAX_BATCH_BYTES: usize = 1_048_576;
const MAX_EVENT_BYTES: usize = 262_144;
const MAX_BATCH_EVENTS: usize = 10_000;
/// The most events GetLogEvents and FilterLogEvents answer in one page.
const MAX_PAGE: i64 = 10_000;
/// How many stored events FilterLogEvents looks at before it answers a partial page with a
/// `nextToken` (AWS's pages may be partial or empty too).
const SCAN_BUDGET: usize = 100_000;

/// The oldest timestamp a read may show: the group's retention, on the injected clock.
fn retention_floor(app: &App, group: &LogGroup) -> Option<i64> {
    group
        .retention_days
        .map(|d| app.clock.now_millis() - d * DAY_MS)
}

fn window(app: &App, group: &LogGroup, input: &Value) -> (Option<i64>, Option<i64>) {
    let start = match (int_member(input, "startTime"), retention_floor(app, group)) {
        (Some(s), Some(f)) => Some(s.max(f)),
        (s, f) => s.or(f),
    };
    (start, int_member(input, "endTime"))
}

/// The events of a PutLogEvents request, as sent: read by the codec already, or from the
/// document.
fn batch_of(call: &LogsInput) -> Result<Cow<'_, [NewEvent]>, AwsError> {
    if let Some(events) = &call.events {
        return checked_batch(events).map(Cow::Borrowed);
    }
    let input = &call.doc;
    let list = match input.get("logEvents") {
        Some(Value::Array(a)) => a,
        Some(_) => return Err(invalid("logEvents must be a list.")),
        None => return Err(super::missing("logEvents")),
    };
    if list.is_empty() {
        return Err(constraint(
            "[]",
            "logEvents",
            "have length greater than or equal to 1",
        ));
    }
    if list.len() > MAX_BATCH_EVENTS {
        return Err(invalid(format!(
            "1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to {MAX_BATCH_EVENTS}"
        )));
    }
    list.iter()
        .enumerate()
        .map(|(i, e)| {
            let member = |m: &str| format!("logEvents.{}.member.{m}", i + 1);
            let timestamp = e
                .get("timestamp")
                .and_then(Value::as_i64)
                .ok_or_else(|| super::missing(&member("timestamp")))?;
            let message = e
                .get("message")
                .and_then(Value::as_str)
                .ok_or_else(|| super::missing(&member("message")))?;
            if message.is_empty() {
                return Err(constraint(
                    "",
                    &member("message"),
                    "have length greater than or equal to 1",
                ));
            }
            Ok(NewEvent {
                timestamp,
                message: message.to_owned(),
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Cow::Owned)
}

/// The count and emptiness rules, for events the codec read.
fn checked_batch(events: &[NewEvent]) -> Result<&[NewEvent], AwsError> {
    if events.is_empty() {
        return Err(constraint(
            "[]",
            "logEvents",
            "have length greater than or equal to 1",
        ));
    }
    if events.len() > MAX_BATCH_EVENTS {
        return Err(invalid(format!(
            "1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to {MAX_BATCH_EVENTS}"
        )));
    }
    if let Some(i) = events.iter().position(|e| e.message.is_empty()) {
        return Err(constraint(
            "",
            &format!("logEvents.{}.member.message", i + 1),
            "have length greater than or equal to 1",
        ));
    }
    Ok(events)
}

pub(super) fn put(app: &App, found: &Found<'_>, call: &LogsInput) -> Result<Value, AwsError> {
    let group = found.group()?;
    let input = &call.doc;
    let stream = required(input, "logStreamName")?;
    let events = batch_of(call)?;
    let mut total = 0usize;
    for e in events.iter() {
        let size = e.message.len() + EVENT_OVERHEAD;
        if size > MAX_EVENT_BYTES {
            return Err(invalid(format!(
                "Log event too large: {size} bytes exceeds limit of {MAX_EVENT_BYTES}"
            )));
        }
        total += size;
    }
    if total > MAX_BATCH_BYTES {
        return Err(invalid(format!(
            "Upload too large: {total} bytes exceeds limit of {MAX_BATCH_BYTES}"
        )));
    }
    if events.windows(2).any(|w| w[1].timestamp < w[0].timestamp) {
        return Err(invalid(
            "Log events in a single PutLogEvents request must be in chronological order.",
        ));
    }
    if app
        .logs
        .stream(found.key, stream)
        .map_err(internal)?
        .is_none()
    {
        return Err(no_such_stream());
    }
    let now = app.clock.now_millis();
    let too_old = now - 14 * DAY_MS;
    let expired = retention_floor(app, group);
    let mut rejected = serde_json::Map::new();
    // Accepted events are the run between the rejected head and tail.
    let (mut lo, mut hi) = (0, 0);
    // Events are in order, so the rejected ones are a head (too old, expired) and a tail
    // (too new); each is reported by the index where it ends or starts.
    for (i, e) in events.iter().enumerate() {
        if e.timestamp > now + 2 * HOUR_MS {
            rejected
                .entry("tooNewLogEventStartIndex")
                .or_insert_with(|| json!(i));
        } else if e.timestamp < too_old {
            rejected.insert("tooOldLogEventEndIndex".into(), json!(i));
        } else if expired.is_some_and(|f| e.timestamp < f) {
            rejected.insert("expiredLogEventEndIndex".into(), json!(i));
        } else {
            if hi == 0 {
                lo = i;
            }
            hi = i + 1;
        }
    }
    let accepted = events.get(lo..hi).unwrap_or_default();
    if let (Some(first), Some(last)) = (accepted.first(), accepted.last())
        && last.timestamp - first.timestamp > DAY_MS
    {
        return Err(invalid(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
        ));
    }
    let after = app
        .logs
        .put_events(found.key, stream, accepted, now)
        .map_err(internal)?;
    if let Some(f) = expired {
        app.logs.expire_events(found.key, f).map_err(internal)?;
    }
    crate::logs::metric_data::publish(app, found.key, accepted, now)?;
    let mut out = json!({ "nextSequenceToken": wire::sequence_token(after.uploads) });
    if !rejected.is_empty() {
        out["rejectedLogEventsInfo"] = Value::Object(rejected);
    }
    Ok(out)
}

/// A GetLogEvents token: its direction (forward?) and position.
fn parse_direction(app: &App, t: &str) -> Result<(bool, Position), AwsError> {
    let (forward, digits) = match t.split_once('/') {
        Some(("f", d)) => (true, d),
        Some(("b", d)) => (false, d),
        _ => return Err(bad_token()),
    };
    let p = token::parse_position(&app.token_key, digits).ok_or_else(bad_token)?;
    Ok((forward, p))
}

fn direction_token(app: &App, forward: bool, p: Position) -> String {
    format!(
        "{}/{}",
        if forward { "f" } else { "b" },
        token::position(&app.token_key, p)
    )
}

pub(super) fn get(app: &App, found: &Found<'_>, input: &Value) -> Result<Value, AwsError> {
    let group = found.group()?;
    let stream = required(input, "logStreamName")?;
    let limit = limit(input, MAX_PAGE, MAX_PAGE)?;
    let from = match str_member(input, "nextToken") {
        Some(t) => Some(parse_direction(app, t)?),
        None => None,
    };
    if app
        .logs
        .stream(found.key, stream)
        .map_err(internal)?
        .is_none()
    {
        return Err(no_such_stream());
    }
    let (start, end) = window(app, group, input);
    // Without a token, startFromHead picks the oldest events; by default the latest.
    let forward = from.map_or(bool_member(input, "startFromHead"), |(f, _)| f);
    let q = EventQuery {
        streams: Streams::Named(vec![stream.to_owned()]),
        start,
        end,
        from: from.map(|(_, p)| p),
        descending: !forward,
        limit,
    };
    let mut events = app.logs.events(found.key, &q).map_err(internal)?;
    if !forward {
        events.reverse();
    }
    let (fwd, back) = match (events.first(), events.last(), from) {
        (Some(first), Some(last), _) => (last.position(), first.position()),
        // At either end the token that led there comes back, so clients stop when it repeats.
        (_, _, Some((true, p))) => (p, Position { id: p.id + 1, ..p }),
        (_, _, Some((false, p))) => (Position { id: p.id - 1, ..p }, p),
        (_, _, None) => (
            Position {
                timestamp: i64::MIN / 4,
                id: 0,
            },
            Position {
                timestamp: i64::MAX / 4,
                id: 0,
            },
        ),
    };
    let docs: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "timestamp": e.timestamp,
                "message": e.message,
                "ingestionTime": e.ingestion_ms,
            })
        })
        .collect();
    Ok(json!({
        "events": docs,
        "nextForwardToken": direction_token(app, true, fwd),
        "nextBackwardToken": direction_token(app, false, back),
    }))
}

fn streams_of(input: &Value) -> Result<Streams, AwsError> {
    let names = match input.get("logStreamNames") {
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| invalid("logStreamNames must be strings."))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        _ => None,
    };
    match (names, str_member(input, "logStreamNamePrefix")) {
        (Some(_), Some(_)) => Err(invalid(
            "You cannot specify both logStreamNames and logStreamNamePrefix.",
        )),
        (Some(n), None) if n.is_empty() => Err(constraint(
            "[]",
            "logStreamNames",
            "have length greater than or equal to 1",
        )),
        (Some(n), None) if n.len() > 100 => Err(invalid(
            "1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: Member must have length less than or equal to 100",
        )),
        (Some(n), None) => Ok(Streams::Named(n)),
        (None, Some(p)) => Ok(Streams::Prefix(p.to_owned())),
        (None, None) => Ok(Streams::All),
    }
}

fn filtered(app: &App, e: &LogEvent) -> Value {
    json!({
        "logStreamName": e.stream,
        "timestamp": e.timestamp,
        "message": e.message,
        "ingestionTime": e.ingestion_ms,
        "eventId": token::position(&app.token_key, e.position()),
    })
}

pub(super) fn filter(app: &App, found: &Found<'_>, input: &Value) -> Result<Value, AwsError> {
    let group = found.group()?;
    let streams = streams_of(input)?;
    let limit = limit(input, MAX_PAGE, MAX_PAGE)?;
    let pattern = FilterPattern::parse(str_member(input, "filterPattern").unwrap_or(""))
        .map_err(|e| invalid(e.to_string()))?;
    let mut from = match str_member(input, "nextToken") {
        Some(t) => Some(token::parse_position(&app.token_key, t).ok_or_else(bad_token)?),
        None => None,
    };
    let (start, end) = window(app, group, input);
    let chunk = limit.max(1_000);
    let mut matched = Vec::new();
    let mut scanned = 0usize;
    let mut more = false;
    'scan: loop {
        let q = EventQuery {
            streams: streams.clone(),
            start,
            end,
            from,
            descending: false,
            limit: chunk,
        };
        let batch = app.logs.events(found.key, &q).map_err(internal)?;
        let full = batch.len() == chunk;
        for e in batch {
            from = Some(e.position());
            scanned += 1;
            if pattern.is_match(&e.message) {
                matched.push(filtered(app, &e));
                if matched.len() == limit {
                    more = true;
                    break 'scan;
                }
            }
        }
        if !full {
            break;
        }
        if scanned >= SCAN_BUDGET {
            more = true;
            break;
        }
    }
    let mut out = json!({ "events": matched, "searchedLogStreams": [] });
    if more && let Some(p) = from {
        out["nextToken"] = json!(token::position(&app.token_key, p));
    }
    Ok(out)
}
