//! CloudTrail Lake's query editor: pick an event data store, write SQL or start from one of the
//! documented sample queries, run it and read the results with the query's statistics. Each
//! step is the CloudTrail API call it is (`ListEventDataStores`, `StartQuery`, `DescribeQuery`,
//! `GetQueryResults`); the page waits on the server, a bounded while, for the query to end.

use std::sync::Arc;
use std::time::Duration;

use axum::Form;
use axum::extract::{Query, State};
use axum::response::Response;
use cairn_edge::edge::web::WebPeer;
use http::HeaderMap;
use serde_json::{Value, json};

use super::trails::encode;
use super::{Me, error_of, with};
use crate::Shared;
use crate::render::{page, see_other};

/// A handful of the sample queries in docs/lake-sample-queries.md, `$EDS_ID` standing for the
/// chosen store's id.
const SAMPLES: &[(&str, &str)] = &[
    (
        "Events by region",
        "SELECT awsregion, count(*) AS events\nFROM $EDS_ID\nGROUP BY awsregion\nORDER BY events DESC, awsregion",
    ),
    (
        "The busiest callers",
        "SELECT useridentity.arn, count(*) AS calls\nFROM $EDS_ID\nWHERE useridentity.arn IS NOT NULL\nGROUP BY useridentity.arn\nORDER BY calls DESC, useridentity.arn\nLIMIT 10",
    ),
    (
        "Calls that failed",
        "SELECT useridentity.arn, eventtime, eventsource, eventname, awsregion, sourceipaddress, errorcode, errormessage\nFROM $EDS_ID\nWHERE errorcode IS NOT NULL\n  AND eventtime > '2014-01-01 00:00:00'",
    ),
    (
        "Console sign-ins without MFA",
        "SELECT eventtime, useridentity.arn, sourceipaddress\nFROM $EDS_ID\nWHERE eventsource = 'signin.amazonaws.com'\n  AND eventname = 'ConsoleLogin'\n  AND element_at(additionaleventdata, 'MFAUsed') = 'No'",
    ),
    (
        "Changes to CloudTrail trails",
        "SELECT eventname, element_at(requestparameters, 'name'), useridentity.principalid, eventtime\nFROM $EDS_ID\nWHERE eventtime > '2014-01-01 00:00:00'\n  AND eventtime < '2030-01-01 00:00:00'\n  AND (eventname = 'CreateTrail' OR eventname = 'UpdateTrail' OR eventname = 'DeleteTrail'\n       OR eventname = 'StartLogging' OR eventname = 'StopLogging')",
    ),
    (
        "Resources created by hand",
        "SELECT useridentity.arn AS \"user\", eventtime, eventsource, eventname, awsregion, requestid, eventid\nFROM $EDS_ID\nWHERE (eventname LIKE '%Create%' OR eventname LIKE '%Update%' OR eventname LIKE '%Put%' OR eventname LIKE '%Delete%')\n  AND resources IS NOT NULL\n  AND sourceipaddress != 'cloudformation.amazonaws.com'\nORDER BY eventtime DESC, eventid",
    ),
];

/// How long a page waits for a query before showing it as still running.
const WAIT: Duration = Duration::from_secs(10);
/// The most rows a page shows.
const ROWS: u64 = 1000;

#[derive(serde::Deserialize, Default)]
pub struct EditorQuery {
    /// The event data store's id (the end of its ARN).
    #[serde(default)]
    store: String,
    /// A sample query to start from (its index).
    #[serde(default)]
    sample: Option<usize>,
    /// A query started from this page, whose results to show.
    #[serde(default)]
    query: String,
}

#[derive(serde::Deserialize)]
pub struct RunForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    store: String,
    #[serde(default)]
    sql: String,
}

fn store_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The stores to pick from, and the picked one (the first unless one is asked for).
async fn stores(
    shared: &Arc<Shared>,
    me: &Me,
    wanted: &str,
) -> Result<(Vec<Value>, String), cairn_wire::AwsError> {
    let answer = me
        .caller
        .call(shared, "cloudtrail", "ListEventDataStores", json!({}))
        .await?;
    let stores: Vec<Value> = answer
        .get("EventDataStores")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|s| {
            let arn = s
                .get("EventDataStoreArn")
                .and_then(Value::as_str)
                .unwrap_or_default();
            json!({"id": store_id(arn), "arn": arn, "name": s.get("Name"), "status": s.get("Status")})
        })
        .collect();
    let chosen = if stores.iter().any(|s| s["id"] == wanted) {
        wanted.to_owned()
    } else {
        stores
            .first()
            .and_then(|s| s["id"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    Ok((stores, chosen))
}

fn samples(store: &str) -> Vec<Value> {
    let id = if store.is_empty() { "$EDS_ID" } else { store };
    SAMPLES
        .iter()
        .enumerate()
        .map(|(i, (title, sql))| json!({"index": i, "title": title, "sql": sql.replace("$EDS_ID", id)}))
        .collect()
}

/// GetQueryResults' rows (lists of one-entry maps) as a table: (columns, rows).
fn table(rows: &[Value]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut columns = Vec::new();
    let mut out = Vec::new();
    for row in rows {
        let cells: Vec<(String, String)> = row
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .filter_map(|m| m.iter().next())
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect();
        if columns.is_empty() {
            columns = cells.iter().map(|(k, _)| k.clone()).collect();
        }
        out.push(cells.into_iter().map(|(_, v)| v).collect());
    }
    (columns, out)
}

/// A query's outcome as the page shows it, waiting a bounded while for it to end.
async fn outcome(shared: &Arc<Shared>, me: &Me, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut pause = Duration::from_millis(50);
    loop {
        let answer = me
            .caller
            .call(
                shared,
                "cloudtrail",
                "GetQueryResults",
                json!({"QueryId": id, "MaxQueryResults": ROWS}),
            )
            .await;
        let a = match answer {
            Ok(a) => a,
            Err(e) => return json!({"error": error_of(&e)}),
        };
        let status = a
            .get("QueryStatus")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let running = status == "QUEUED" || status == "RUNNING";
        if running && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(500));
            continue;
        }
        let described = me
            .caller
            .call(
                shared,
                "cloudtrail",
                "DescribeQuery",
                json!({"QueryId": id}),
            )
            .await
            .unwrap_or(Value::Null);
        let rows = a
            .get("QueryResultRows")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let (columns, rows) = table(&rows);
        let stats = described.get("QueryStatistics");
        let stat = |k: &str| stats.and_then(|s| s.get(k)).cloned().unwrap_or(Value::Null);
        return json!({
            "id": id,
            "status": status,
            "running": running,
            "sql": described.get("QueryString"),
            "failure": a.get("ErrorMessage").or_else(|| described.get("ErrorMessage")),
            "columns": columns,
            "rows": rows,
            "more": a.get("NextToken").is_some(),
            "stats": {
                "results": a.pointer("/QueryStatistics/ResultsCount"),
                "total": a.pointer("/QueryStatistics/TotalResultsCount"),
                "bytes": a.pointer("/QueryStatistics/BytesScanned"),
                "matched": stat("EventsMatched"),
                "scanned": stat("EventsScanned"),
                "millis": stat("ExecutionTimeInMillis"),
            },
        });
    }
}

/// GET /console/cloudtrail/lake?store=&sample=&query=
pub async fn editor(
    me: Me,
    State(shared): State<Arc<Shared>>,
    Query(q): Query<EditorQuery>,
) -> Response {
    let frame = me.frame(&shared, "Lake query editor", "lake");
    let (stores, store) = match stores(&shared, &me, &q.store).await {
        Ok(s) => s,
        Err(e) => {
            let ctx = json!({"stores": [], "samples": samples(""), "error": error_of(&e)});
            return page(&shared.templates, "lake.html", with(frame, ctx));
        }
    };
    let mut ctx = json!({"stores": stores, "store": store, "samples": samples(&store)});
    let mut sql = q
        .sample
        .and_then(|i| SAMPLES.get(i))
        .map(|(_, s)| s.replace("$EDS_ID", &store))
        .unwrap_or_default();
    if !q.query.is_empty() {
        let o = outcome(&shared, &me, &q.query).await;
        if let Some(s) = o.get("sql").and_then(Value::as_str) {
            sql = s.to_owned();
        }
        ctx["outcome"] = o;
    }
    ctx["sql"] = json!(sql);
    page(&shared.templates, "lake.html", with(frame, ctx))
}

/// POST /console/cloudtrail/lake: StartQuery, then the editor with its results.
pub async fn run(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Form(f): Form<RunForm>,
) -> Response {
    let me = match Me::posting(&shared, &headers, &peer, &f.csrf) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    let started = me
        .caller
        .call(
            &shared,
            "cloudtrail",
            "StartQuery",
            json!({"QueryStatement": f.sql}),
        )
        .await;
    match started {
        Ok(a) => {
            let id = a.get("QueryId").and_then(Value::as_str).unwrap_or_default();
            see_other(&format!(
                "/console/cloudtrail/lake?store={}&query={}",
                encode(&f.store),
                encode(id)
            ))
        }
        Err(e) => {
            let frame = me.frame(&shared, "Lake query editor", "lake");
            let (stores, store) = stores(&shared, &me, &f.store)
                .await
                .unwrap_or_else(|_| (Vec::new(), f.store.clone()));
            let ctx = json!({"stores": stores, "store": store, "samples": samples(&store),
                "sql": f.sql, "run_error": error_of(&e)});
            page(&shared.templates, "lake.html", with(frame, ctx))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_a_table() {
        let rows = vec![
            json!([{"awsregion": "us-east-1"}, {"events": "3"}]),
            json!([{"awsregion": "eu-west-1"}, {"events": null}]),
        ];
        let (c, r) = table(&rows);
        assert_eq!(c, ["awsregion", "events"]);
        assert_eq!(r, [["us-east-1", "3"], ["eu-west-1", ""]]);
    }

    #[test]
    fn samples_name_the_store_and_match_the_documented_ones() {
        let doc = include_str!("../../../../docs/lake-sample-queries.md");
        for (title, sql) in SAMPLES {
            assert!(doc.contains(&format!("## {title}")), "{title}");
            assert!(
                doc.contains(sql),
                "{title}'s SQL differs from the documented one"
            );
        }
        let s = samples("eds-1");
        assert!(
            s[0]["sql"]
                .as_str()
                .unwrap_or_default()
                .contains("FROM eds-1")
        );
    }
}
