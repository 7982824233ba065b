//! Log streams: create, delete, describe (prefix, order by name or last event time,
//! descending, pages).

use cairn_store::logs::{GroupKey, LogStream};
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::{
    DESCRIBE_LIMIT, bad_token, bool_member, check_name, constraint, internal, invalid, limit,
    no_such_stream, required, str_member,
};
use crate::app::App;
use crate::logs::{token, wire};

pub(super) fn create(app: &App, key: &GroupKey, input: &Value) -> Result<Value, AwsError> {
    let name = required(input, "logStreamName")?;
    check_name(name, "logStreamName")?;
    let stream = LogStream {
        name: name.to_owned(),
        created_ms: app.clock.now_millis(),
        first_event_ms: None,
        last_event_ms: None,
        last_ingestion_ms: None,
        uploads: 0,
    };
    if !app.logs.create_stream(key, &stream).map_err(internal)? {
        return Err(AwsError::client(
            "ResourceAlreadyExistsException",
            "The specified log stream already exists",
        ));
    }
    Ok(json!({}))
}

pub(super) fn delete(app: &App, key: &GroupKey, input: &Value) -> Result<Value, AwsError> {
    let name = required(input, "logStreamName")?;
    if !app.logs.delete_stream(key, name).map_err(internal)? {
        return Err(no_such_stream());
    }
    Ok(json!({}))
}

pub(super) fn describe(app: &App, key: &GroupKey, input: &Value) -> Result<Value, AwsError> {
    let prefix = str_member(input, "logStreamNamePrefix");
    let by_time = match str_member(input, "orderBy") {
        None | Some("LogStreamName") => false,
        Some("LastEventTime") => true,
        Some(other) => {
            return Err(constraint(
                other,
                "orderBy",
                "satisfy enum value set: [LogStreamName, LastEventTime]",
            ));
        }
    };
    if by_time && prefix.is_some() {
        return Err(invalid(
            "Cannot order by LastEventTime with a logStreamNamePrefix.",
        ));
    }
    let descending = bool_member(input, "descending");
    let limit = limit(input, DESCRIBE_LIMIT, DESCRIBE_LIMIT)?;
    // The token is the count of streams already given: stable enough for a listing that
    // does not change between pages, as with AWS.
    let skip = match str_member(input, "nextToken") {
        Some(t) => token::parse_after_name(&app.token_key, t)
            .and_then(|s| s.parse::<usize>().ok())
            .ok_or_else(bad_token)?,
        None => 0,
    };
    let mut streams: Vec<LogStream> = app
        .logs
        .streams(key)
        .map_err(internal)?
        .into_iter()
        .filter(|s| prefix.is_none_or(|p| s.name.starts_with(p)))
        .collect();
    if by_time {
        // Streams without events sort first, as their last event time is unset.
        streams.sort_by(|a, b| {
            (a.last_event_ms.unwrap_or(0), &a.name).cmp(&(b.last_event_ms.unwrap_or(0), &b.name))
        });
    }
    if descending {
        streams.reverse();
    }
    let page: Vec<Value> = streams
        .iter()
        .skip(skip)
        .take(limit)
        .map(|s| wire::log_stream(key, s))
        .collect();
    let mut out = json!({ "logStreams": page });
    if skip + limit < streams.len() {
        out["nextToken"] = json!(token::after_name(
            &app.token_key,
            &(skip + limit).to_string()
        ));
    }
    Ok(out)
}
