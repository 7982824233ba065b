//! CloudTrail Lake's queries: StartQuery, DescribeQuery, GetQueryResults, ListQueries,
//! CancelQuery.
//!
//! StartQuery checks the statement (one SELECT over the caller's event data stores, names the
//! engine knows) and queues it; `lake_queries` runs it and keeps its rows for seven days.
//! Results come back as Lake writes them: each row a list of one-entry maps, every value a
//! string.

use cairn_model::{ids, timefmt};
use cairn_store::lake::{Query, SqlError};
use cairn_wire::AwsError;
use serde_json::{Map, Value, json};

use super::event_data_stores::{self, PENDING_DELETION};
use super::trails::{internal, str_member};
use crate::app::App;
use crate::cloudtrail::{lake_keys, lake_results};
use crate::recorder::CallContext;

/// Queries an account may have queued or running at once.
const MAX_CONCURRENT: usize = 10;
/// How long queries and their results are kept.
pub(in crate::cloudtrail) const KEPT_MS: i64 = 7 * 86_400_000;
const STATUSES: &[&str] = &[
    "QUEUED",
    "RUNNING",
    "FINISHED",
    "FAILED",
    "TIMED_OUT",
    "CANCELLED",
];

fn invalid_statement(msg: impl Into<String>) -> AwsError {
    AwsError::client("InvalidQueryStatementException", msg)
}

/// The query a request names, in the caller's account.
fn find(app: &App, ctx: &CallContext, input: &Value) -> Result<Query, AwsError> {
    let id = str_member(input, "QueryId").unwrap_or("");
    if let Some(eds) = str_member(input, "EventDataStore") {
        event_data_stores::find(app, ctx, eds)?;
    }
    match app.lake.query(id).map_err(internal)? {
        Some(q) if q.account == ctx.recipient_account => Ok(q),
        _ => Err(AwsError::client(
            "QueryIdNotFoundException",
            format!("The query ID {id} does not exist or does not map to a query."),
        )),
    }
}

fn stats(q: &Query) -> Map<String, Value> {
    match serde_json::from_str(&q.stats) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

pub fn start(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    if str_member(input, "QueryAlias").is_some() || input.get("QueryParameters").is_some() {
        return Err(AwsError::client(
            "InvalidParameterException",
            "cairn runs query statements; QueryAlias and QueryParameters (dashboard widgets) are not supported.",
        ));
    }
    // Another owner: a delegated administrator querying its organization's stores (which
    // `event_data_stores::find` checks store by store).
    if let Some(owner) = str_member(input, "EventDataStoreOwnerAccountId")
        && owner != ctx.recipient_account
        && app
            .organizations
            .organization_of(&ctx.recipient_account)
            .map_err(internal)?
            .is_none_or(|o| o.management_account != owner)
    {
        return Err(AwsError::client(
            "InvalidParameterException",
            "cairn queries the caller's own event data stores, and its organization's for a delegated administrator.",
        ));
    }
    let Some(sql) = str_member(input, "QueryStatement") else {
        return Err(AwsError::client(
            "InvalidParameterException",
            "QueryStatement is required.",
        ));
    };
    let delivery = str_member(input, "DeliveryS3Uri")
        .map(|uri| lake_results::destination(uri).map(|d| (uri, d)))
        .transpose()?;
    let ids = app
        .columnar
        .tables_of(sql)
        .map_err(|e| invalid_statement(e.to_string()))?;
    let mut stores = Vec::with_capacity(ids.len());
    for id in &ids {
        let s = event_data_stores::find(app, ctx, id)?;
        if s.status == PENDING_DELETION {
            return Err(AwsError::client(
                "InactiveEventDataStoreException",
                format!("The event data store {} is inactive.", s.arn),
            ));
        }
        stores.push(s);
    }
    let arns: Vec<String> = stores.iter().map(|s| s.arn.clone()).collect();
    match app.columnar.check(sql) {
        Ok(()) => {}
        Err(SqlError::Invalid(m)) => return Err(invalid_statement(m)),
        Err(e) => return Err(AwsError::internal(e.to_string())),
    }
    if let (Some((_, d)), Some(store)) = (&delivery, arns.first()) {
        lake_results::check(app, store, d)?;
    }
    let active = app
        .lake
        .queries(&ctx.recipient_account, 0)
        .map_err(internal)?
        .iter()
        .filter(|q| q.status == "QUEUED" || q.status == "RUNNING")
        .count();
    if active >= MAX_CONCURRENT {
        return Err(AwsError::client(
            "MaxConcurrentQueriesException",
            format!(
                "You are already running the maximum number of concurrent queries ({MAX_CONCURRENT}). Wait a minute for some queries to finish, and then run the query again."
            ),
        ));
    }
    // Reading an encrypted store takes its KMS key, for the person asking too.
    for s in &stores {
        lake_keys::caller_may_read(app, ctx, s)?;
    }
    let q = Query {
        id: ids::new_uuid(),
        account: ctx.recipient_account.clone(),
        region: ctx.region.clone(),
        stores: arns,
        statement: sql.to_string(),
        status: "QUEUED".into(),
        created_ms: app.clock.now_millis(),
        ended_ms: None,
        error: None,
        stats: "{}".into(),
        delivery: delivery.as_ref().map(|(uri, _)| (*uri).to_owned()),
        delivery_status: delivery.as_ref().map(|_| "PENDING".to_owned()),
        columns: None,
    };
    app.lake.put_query(&q).map_err(internal)?;
    Ok(json!({ "QueryId": q.id }))
}

pub fn describe(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let q = find(app, ctx, input)?;
    let s = stats(&q);
    let mut statistics = Map::new();
    for key in [
        "EventsMatched",
        "EventsScanned",
        "BytesScanned",
        "ExecutionTimeInMillis",
    ] {
        statistics.insert(key.into(), s.get(key).cloned().unwrap_or(json!(0)));
    }
    statistics.insert("CreationTime".into(), timefmt::epoch_seconds(q.created_ms));
    let mut out = json!({
        "QueryId": q.id,
        "QueryString": q.statement,
        "QueryStatus": q.status,
        "QueryStatistics": statistics,
    });
    if let Some(e) = &q.error {
        out["ErrorMessage"] = json!(e);
    }
    if let Some(uri) = &q.delivery {
        out["DeliveryS3Uri"] = json!(uri);
        out["DeliveryStatus"] = json!(q.delivery_status.as_deref().unwrap_or("UNKNOWN"));
    }
    Ok(out)
}

/// A results token: the row to continue from, signed to the query.
fn token(app: &App, q: &Query, from: u64) -> String {
    crate::cloudtrail::token::issue(
        &app.token_key,
        q.id.as_bytes(),
        cairn_store::history::PageAfter {
            t: i64::try_from(from).unwrap_or(i64::MAX),
            seq: 0,
        },
    )
}

pub fn results(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let q = find(app, ctx, input)?;
    let max = super::page_size(input, "MaxQueryResults")?;
    let from = match str_member(input, "NextToken") {
        None => 0,
        Some(t) => crate::cloudtrail::token::open(&app.token_key, q.id.as_bytes(), t)
            .and_then(|p| u64::try_from(p.t).ok())
            .ok_or_else(|| {
                AwsError::client("InvalidNextTokenException", "The NextToken is not valid.")
            })?,
    };
    let s = stats(&q);
    let total = s.get("EventsMatched").and_then(Value::as_u64).unwrap_or(0);
    let mut out = json!({
        "QueryStatus": q.status,
        "QueryResultRows": [],
        "QueryStatistics": {
            "ResultsCount": 0,
            "TotalResultsCount": total,
            "BytesScanned": s.get("BytesScanned").cloned().unwrap_or(json!(0)),
        },
    });
    if let Some(e) = &q.error {
        out["ErrorMessage"] = json!(e);
    }
    if q.status != "FINISHED" {
        return Ok(out);
    }
    for arn in &q.stores {
        if let Some(store) = app.lake.store(arn).map_err(internal)? {
            lake_keys::caller_still_may_read(app, ctx, &store)?;
        }
    }
    let columns = q.columns.clone().unwrap_or_default();
    let rows = app.lake.results(&q.id, from, max).map_err(internal)?;
    let rendered: Vec<Value> = rows
        .iter()
        .map(|text| {
            let values: Vec<Value> = serde_json::from_str(text).unwrap_or_default();
            Value::Array(
                columns
                    .iter()
                    .zip(values)
                    .map(|(c, v)| {
                        let mut cell = Map::new();
                        cell.insert(c.clone(), v);
                        Value::Object(cell)
                    })
                    .collect(),
            )
        })
        .collect();
    out["QueryStatistics"]["ResultsCount"] = json!(rendered.len());
    out["QueryResultRows"] = Value::Array(rendered);
    let next = from + rows.len() as u64;
    if next < total {
        out["NextToken"] = json!(token(app, &q, next));
    }
    Ok(out)
}

pub fn list(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let s = event_data_stores::find(app, ctx, str_member(input, "EventDataStore").unwrap_or(""))?;
    let max = super::page_size(input, "MaxResults")?;
    let start = input.get("StartTime").and_then(timefmt::from_epoch_seconds);
    let end = input.get("EndTime").and_then(timefmt::from_epoch_seconds);
    if let (Some(a), Some(b)) = (start, end)
        && a > b
    {
        return Err(AwsError::client(
            "InvalidDateRangeException",
            "The StartTime is after the EndTime.",
        ));
    }
    let status = str_member(input, "QueryStatus");
    if let Some(st) = status
        && !STATUSES.contains(&st)
    {
        return Err(AwsError::client(
            "InvalidQueryStatusException",
            format!("The query status {st} is not valid."),
        ));
    }
    let now = app.clock.now_millis();
    let all: Vec<Query> = app
        .lake
        .queries(&ctx.recipient_account, now - KEPT_MS)
        .map_err(internal)?
        .into_iter()
        .filter(|q| q.stores.contains(&s.arn))
        .filter(|q| start.is_none_or(|a| q.created_ms >= a))
        .filter(|q| end.is_none_or(|b| q.created_ms <= b))
        .filter(|q| status.is_none_or(|st| q.status == st))
        .collect();
    let from = match str_member(input, "NextToken") {
        None => 0,
        Some(t) => all.iter().position(|q| q.id == t).ok_or_else(|| {
            AwsError::client("InvalidNextTokenException", "The NextToken is not valid.")
        })?,
    };
    let page: Vec<Value> = all
        .iter()
        .skip(from)
        .take(max)
        .map(|q| {
            json!({
                "QueryId": q.id,
                "QueryStatus": q.status,
                "CreationTime": timefmt::epoch_seconds(q.created_ms),
            })
        })
        .collect();
    let mut out = json!({ "Queries": page });
    if let Some(next) = all.get(from + max) {
        out["NextToken"] = json!(next.id);
    }
    Ok(out)
}

pub fn cancel(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let mut q = find(app, ctx, input)?;
    if q.status != "QUEUED" && q.status != "RUNNING" {
        return Err(AwsError::client(
            "InactiveQueryException",
            format!(
                "The query {} is {} and cannot be cancelled.",
                q.id, q.status
            ),
        ));
    }
    q.status = "CANCELLED".into();
    q.ended_ms = Some(app.clock.now_millis());
    if q.delivery.is_some() {
        q.delivery_status = Some("CANCELLED".into());
    }
    app.lake.put_query(&q).map_err(internal)?;
    Ok(json!({ "QueryId": q.id, "QueryStatus": q.status }))
}
