//! Event history: AWS's columns (time, user name, event name, resource type, resource name,
//! event source), one lookup attribute and a time range as in AWS, and beyond AWS several
//! attributes at once (the first one is the lookup's, the others are applied to what it
//! finds), a live tail, each event's record, and downloads as CSV or JSON. Every page is made
//! from LookupEvents calls in the person's name.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use cairn_edge::edge::web::WebPeer;
use http::HeaderMap;
use serde_json::{Value, json};

use super::time::{parse_local, shown};
use super::{Me, error_of, with};
use crate::Shared;
use crate::render::{attachment, page};

/// The lookup attributes LookupEvents takes, in the order AWS's console lists them.
pub const ATTRIBUTES: &[(&str, &str)] = &[
    ("ReadOnly", "Read-only"),
    ("EventName", "Event name"),
    ("Username", "User name"),
    ("ResourceType", "Resource type"),
    ("ResourceName", "Resource name"),
    ("EventSource", "Event source"),
    ("EventId", "Event ID"),
    ("AccessKeyId", "AWS access key"),
];

/// Rows on a page, as AWS's console shows them.
const PAGE_ROWS: usize = 50;
/// Lookups one page may make while extra filters leave rows out.
const MAX_LOOKUPS_PER_PAGE: usize = 10;
/// Events in one download.
const MAX_DOWNLOAD: usize = 10_000;

/// What the page was asked for.
#[derive(Clone, Debug, Default)]
pub struct Query {
    pub filters: Vec<(String, String)>,
    pub start: String,
    pub end: String,
    pub next: Option<String>,
    pub format: String,
    /// Epoch ms: the tail's newest event seen.
    pub after: Option<i64>,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(raw.unwrap_or("")).unwrap_or_default();
        let mut q = Query::default();
        let mut attr: Option<String> = None;
        for (k, v) in pairs {
            match k.as_str() {
                "attr" => attr = Some(v),
                "value" => {
                    if let Some(a) = attr.take()
                        && ATTRIBUTES.iter().any(|(n, _)| *n == a)
                        && !v.trim().is_empty()
                    {
                        q.filters.push((a, v.trim().to_owned()));
                    }
                }
                "start" => q.start = v,
                "end" => q.end = v,
                "next" if !v.is_empty() => q.next = Some(v),
                "format" => q.format = v,
                "after" => q.after = v.parse().ok(),
                _ => {}
            }
        }
        q
    }

    /// The query string of the same filters, for links (next page, downloads).
    fn filters_query(&self) -> String {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for (a, v) in &self.filters {
            pairs.push(("attr", a));
            pairs.push(("value", v));
        }
        if !self.start.is_empty() {
            pairs.push(("start", &self.start));
        }
        if !self.end.is_empty() {
            pairs.push(("end", &self.end));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }

    /// LookupEvents' input for these filters (the first attribute is the lookup's).
    fn lookup_input(&self, next: Option<&str>, max: usize) -> Value {
        let mut input = json!({"MaxResults": max});
        if let Some((a, v)) = self.filters.first() {
            input["LookupAttributes"] = json!([{"AttributeKey": a, "AttributeValue": v}]);
        }
        let start = self
            .after
            .map(|ms| ms + 1)
            .or_else(|| parse_local(&self.start));
        if let Some(ms) = start {
            input["StartTime"] = cairn_model::timefmt::epoch_seconds(ms);
        }
        if let Some(ms) = parse_local(&self.end) {
            input["EndTime"] = cairn_model::timefmt::epoch_seconds(ms);
        }
        if let Some(t) = next {
            input["NextToken"] = json!(t);
        }
        input
    }
}

/// Whether an event (as LookupEvents returns it) has `attr` equal to `value`.
fn matches(event: &Value, attr: &str, value: &str) -> bool {
    let s = |k: &str| event.get(k).and_then(Value::as_str);
    let resources = || {
        event
            .get("Resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    };
    match attr {
        "ReadOnly" => s("ReadOnly") == Some(value),
        "ResourceType" => {
            resources().any(|r| r.get("ResourceType").and_then(Value::as_str) == Some(value))
        }
        "ResourceName" => {
            resources().any(|r| r.get("ResourceName").and_then(Value::as_str) == Some(value))
        }
        other => s(other) == Some(value),
    }
}

/// A table row of an event.
fn row(event: &Value) -> Value {
    let resources: Vec<&Value> = event
        .get("Resources")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let join = |k: &str| {
        resources
            .iter()
            .filter_map(|r| r.get(k).and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let error_code = event
        .get("CloudTrailEvent")
        .and_then(Value::as_str)
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .and_then(|r| {
            r.get("errorCode")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    json!({
        "id": event.get("EventId"),
        "time": shown(event.get("EventTime").unwrap_or(&Value::Null)),
        "time_ms": cairn_model::timefmt::from_epoch_seconds(event.get("EventTime").unwrap_or(&Value::Null)),
        "user": event.get("Username"),
        "name": event.get("EventName"),
        "source": event.get("EventSource"),
        "resource_type": join("ResourceType"),
        "resource_name": join("ResourceName"),
        "access_key": event.get("AccessKeyId"),
        "read_only": event.get("ReadOnly"),
        "error_code": error_code,
    })
}

/// Looks events up until `want` of them pass the extra filters, or the lookups run out.
/// The events, and where the next page starts.
async fn gather(
    shared: &Arc<Shared>,
    me: &Me,
    q: &Query,
    want: usize,
    max_lookups: usize,
) -> Result<(Vec<Value>, Option<String>), cairn_wire::AwsError> {
    let mut out = Vec::new();
    let mut next = q.next.clone();
    for _ in 0..max_lookups {
        let max = (want - out.len()).clamp(1, 50);
        let input = q.lookup_input(next.as_deref(), max);
        let answer = me
            .caller
            .call(shared, "cloudtrail", "LookupEvents", input)
            .await?;
        let events = answer
            .get("Events")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        out.extend(
            events
                .into_iter()
                .filter(|e| q.filters.iter().skip(1).all(|(a, v)| matches(e, a, v))),
        );
        next = answer
            .get("NextToken")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if next.is_none() || out.len() >= want {
            break;
        }
    }
    Ok((out, next))
}

/// GET /console/cloudtrail/events
pub async fn list(me: Me, State(shared): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Response {
    let q = Query::parse(raw.as_deref());
    let frame = me.frame(&shared, "Event history", "events");
    let mut filters: Vec<Value> = q
        .filters
        .iter()
        .map(|(a, v)| json!({"attr": a, "value": v}))
        .collect();
    if filters.is_empty() {
        filters.push(json!({"attr": "ReadOnly", "value": ""}));
    }
    let attributes: Vec<Value> = ATTRIBUTES
        .iter()
        .map(|(n, l)| json!({"name": n, "label": l}))
        .collect();
    let base = json!({
        "filters": filters,
        "attributes": attributes,
        "start": q.start,
        "end": q.end,
        "query": q.filters_query(),
    });
    match gather(&shared, &me, &q, PAGE_ROWS, MAX_LOOKUPS_PER_PAGE).await {
        Ok((events, next)) => {
            let rows: Vec<Value> = events.iter().map(row).collect();
            let next_link = next.map(|t| {
                let more = serde_urlencoded::to_string([("next", t.as_str())]).unwrap_or_default();
                let fq = q.filters_query();
                if fq.is_empty() {
                    more
                } else {
                    format!("{fq}&{more}")
                }
            });
            page(
                &shared.templates,
                "history.html",
                with(
                    with(frame, base),
                    json!({"rows": rows, "next_link": next_link, "paged": q.next.is_some()}),
                ),
            )
        }
        Err(e) => page(
            &shared.templates,
            "history.html",
            with(
                with(frame, base),
                json!({"rows": [], "error": error_of(&e)}),
            ),
        ),
    }
}

/// GET /console/cloudtrail/events/tail?after=MS: the events newer than the newest the page
/// shows, as JSON rows (the page's script adds them to the table as text).
pub async fn tail(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let me = match Me::of(&shared, &headers, &peer) {
        Ok(m) => m,
        Err(_) => {
            return (
                http::StatusCode::UNAUTHORIZED,
                axum::Json(json!({"error": "signed out"})),
            )
                .into_response();
        }
    };
    let mut q = Query::parse(raw.as_deref());
    q.next = None;
    q.after.get_or_insert(0);
    match gather(&shared, &me, &q, PAGE_ROWS, 1).await {
        Ok((events, _)) => {
            let rows: Vec<Value> = events.iter().map(row).collect();
            axum::Json(json!({"rows": rows})).into_response()
        }
        Err(e) => (
            http::StatusCode::FORBIDDEN,
            axum::Json(json!({"error": error_of(&e)})),
        )
            .into_response(),
    }
}

/// GET /console/cloudtrail/events/{id}: one event's record, formatted.
pub async fn event(me: Me, State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let frame = me.frame(&shared, "Event", "events");
    let input = json!({"LookupAttributes": [{"AttributeKey": "EventId", "AttributeValue": id}]});
    let ctx = match me
        .caller
        .call(&shared, "cloudtrail", "LookupEvents", input)
        .await
    {
        Ok(answer) => match answer.get("Events").and_then(|e| e.get(0)) {
            Some(ev) => {
                let record = ev
                    .get("CloudTrailEvent")
                    .and_then(Value::as_str)
                    .and_then(|t| serde_json::from_str::<Value>(t).ok())
                    .unwrap_or(Value::Null);
                json!({
                    "event": row(ev),
                    "record": serde_json::to_string_pretty(&record).unwrap_or_default(),
                })
            }
            None => json!({"missing": id}),
        },
        Err(e) => json!({"error": error_of(&e)}),
    };
    page(&shared.templates, "event.html", with(frame, ctx))
}

/// A CSV field: quoted, and defused when a spreadsheet would run it as a formula.
fn csv_field(s: &str) -> String {
    let defused = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    format!("\"{}\"", defused.replace('"', "\"\""))
}

/// GET /console/cloudtrail/events/download?format=csv|json (with the page's filters).
pub async fn download(
    me: Me,
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Query::parse(raw.as_deref());
    let events = match gather(&shared, &me, &q, MAX_DOWNLOAD, MAX_DOWNLOAD / 50 + 1).await {
        Ok((events, _)) => events,
        Err(e) => {
            let frame = me.frame(&shared, "Event history", "events");
            return page(
                &shared.templates,
                "history.html",
                with(
                    frame,
                    json!({"rows": [], "error": error_of(&e), "filters": [], "attributes": []}),
                ),
            );
        }
    };
    if q.format == "json" {
        let records: Vec<Value> = events
            .iter()
            .filter_map(|e| e.get("CloudTrailEvent").and_then(Value::as_str))
            .filter_map(|t| serde_json::from_str(t).ok())
            .collect();
        let body = serde_json::to_vec_pretty(&json!({"Records": records})).unwrap_or_default();
        return attachment("application/json", "event_history.json", body);
    }
    let mut out = String::from(
        "Event ID,Event time,User name,Event name,Event source,Resource type,Resource name,AWS access key,Read-only,Error code\r\n",
    );
    for e in &events {
        let r = row(e);
        let f = |k: &str| csv_field(r.get(k).and_then(Value::as_str).unwrap_or(""));
        out.push_str(
            &[
                f("id"),
                f("time"),
                f("user"),
                f("name"),
                f("source"),
                f("resource_type"),
                f("resource_name"),
                f("access_key"),
                f("read_only"),
                f("error_code"),
            ]
            .join(","),
        );
        out.push_str("\r\n");
    }
    attachment(
        "text/csv; charset=utf-8",
        "event_history.csv",
        out.into_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_pair_up_in_order_and_unknown_attributes_are_dropped() {
        let q = Query::parse(Some(
            "attr=EventName&value=CreateTrail&attr=Bogus&value=x&attr=Username&value=alice&start=2026-12-05T10:00",
        ));
        assert_eq!(
            q.filters,
            vec![
                ("EventName".to_owned(), "CreateTrail".to_owned()),
                ("Username".to_owned(), "alice".to_owned())
            ]
        );
        let input = q.lookup_input(None, 50);
        assert_eq!(
            input["LookupAttributes"][0]["AttributeValue"],
            "CreateTrail"
        );
        assert!(input.get("StartTime").is_some());
    }

    #[test]
    fn extra_filters_match_resources() {
        let e = json!({"EventName": "PutObject", "Resources": [{"ResourceType": "AWS::S3::Bucket", "ResourceName": "b"}]});
        assert!(matches(&e, "ResourceType", "AWS::S3::Bucket"));
        assert!(matches(&e, "ResourceName", "b"));
        assert!(!matches(&e, "EventName", "GetObject"));
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_field("=cmd()"), "\"'=cmd()\"");
    }
}
