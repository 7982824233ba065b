//! SQL over the real-record corpus: every record lands once, and Lake-style queries (struct
//! members, map lookups, Trino functions, bare store ids) answer what a count over the source
//! records says they must.

#![allow(clippy::unwrap_used)]

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use cairn_lake::{Lake, Limits, prepare};
use serde_json::Value;

const ID: &str = "0e94c3a4-1d1d-4d73-b8a7-a3f4da4e4b11";

fn corpus() -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/cloudtrail-real/records.jsonl.gz");
    let file = std::fs::File::open(&path).expect("the real-record corpus");
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    reader
        .lines()
        .map(|l| l.unwrap())
        .filter(|l| !l.trim().is_empty())
        .collect()
}

fn run(lake: &Lake, sql: &str) -> cairn_lake::Output {
    let prepared = prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let tables = lake.tables(&prepared.stores).unwrap();
    lake.engine()
        .run(
            &prepared,
            &tables,
            &AtomicBool::new(false),
            Limits::default(),
        )
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn one(lake: &Lake, sql: &str) -> String {
    let out = run(lake, sql);
    out.rows[0][0].clone().unwrap_or_default()
}

#[test]
fn the_corpus_answers_lake_queries() {
    let records = corpus();
    let parsed: Vec<Value> = records
        .iter()
        .map(|r| serde_json::from_str(r).unwrap())
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let lake = Lake::open(tmp.path()).unwrap();
    let store = lake.store(ID).unwrap();
    let appended = store
        .lock()
        .unwrap()
        .append(
            "journal",
            1,
            records.len() as u64,
            &mut records.iter().map(|r| Cow::Borrowed(r.as_str())),
        )
        .unwrap();
    // Every record lands; 17 of the corpus have no readable time (documentation examples and
    // fixtures) and keep a null eventtime. Every other is a date in one of the forms AWS and
    // exporters write.
    assert_eq!(appended.rows as usize, records.len());
    assert!(appended.refused.is_empty());
    let dated = |r: &Value| {
        r.get("eventTime")
            .and_then(Value::as_str)
            .is_some_and(|t| t.starts_with(|c: char| c.is_ascii_digit()))
    };
    let timed = parsed.iter().filter(|r| dated(r)).count();
    assert_eq!(records.len() - timed, 17);
    assert_eq!(
        one(
            &lake,
            &format!("SELECT count(*) FROM {ID} WHERE eventtime IS NOT NULL")
        ),
        timed.to_string()
    );

    // Counts.
    assert_eq!(
        one(&lake, &format!("SELECT count(*) FROM {ID}")),
        records.len().to_string()
    );
    let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
    for r in &parsed {
        {
            *by_name
                .entry(r["eventName"].as_str().unwrap_or("").to_string())
                .or_default() += 1;
        }
    }
    let (top, top_n) = by_name
        .iter()
        .max_by_key(|(k, n)| (**n, std::cmp::Reverse((*k).clone())))
        .unwrap();
    let out = run(
        &lake,
        &format!(
            "SELECT eventName, count(*) AS n FROM {ID} GROUP BY eventName ORDER BY n DESC, eventName LIMIT 1"
        ),
    );
    assert_eq!(out.columns, ["eventName", "n"]);
    assert_eq!(out.rows[0], [Some(top.clone()), Some(top_n.to_string())]);

    // Struct members, map lookups.
    let root_calls = parsed
        .iter()
        .filter(|r| r["userIdentity"]["type"] == "Root")
        .count();
    assert_eq!(
        one(
            &lake,
            &format!("SELECT count(*) FROM {ID} WHERE userIdentity.type = 'Root'")
        ),
        root_calls.to_string()
    );
    let buckets = parsed
        .iter()
        .filter(|r| r["requestParameters"]["bucketName"] == "alucloud")
        .count();
    assert!(buckets > 0);
    assert_eq!(
        one(
            &lake,
            &format!(
                "SELECT count(*) FROM {ID} WHERE element_at(requestParameters, 'bucketName') = 'alucloud'"
            )
        ),
        buckets.to_string()
    );
    let out = run(
        &lake,
        &format!(
            "SELECT useridentity.arn, eventtime, readonly FROM {ID} WHERE useridentity.arn IS NOT NULL ORDER BY eventtime LIMIT 1"
        ),
    );
    assert_eq!(out.columns, ["arn", "eventtime", "readonly"]);
    let when = out.rows[0][1].clone().unwrap();
    assert_eq!(when.len(), "2014-01-01 00:00:00.000".len(), "{when}");

    // Trino functions and time arithmetic.
    let errors = parsed
        .iter()
        .filter(|r| r.get("errorCode").is_some_and(|c| !c.is_null()))
        .count();
    assert_eq!(
        one(
            &lake,
            &format!("SELECT count(*) FROM {ID} WHERE errorcode IS NOT NULL")
        ),
        errors.to_string()
    );
    let years = run(
        &lake,
        &format!(
            "SELECT year(eventtime) AS y, count(*) FROM {ID} WHERE eventtime IS NOT NULL GROUP BY 1 ORDER BY 1"
        ),
    );
    let total: u64 = years
        .rows
        .iter()
        .map(|r| r[1].as_ref().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total as usize, timed);
    assert_eq!(years.columns, ["y", "_col1"]);
    for sql in [
        format!("SELECT count(*) FROM {ID} WHERE eventtime > now() - interval '100' year"),
        format!(
            "SELECT count(*) FROM {ID} WHERE eventtime < from_iso8601_timestamp('2100-01-01T00:00:00Z')"
        ),
        format!("SELECT count(*) FROM {ID} WHERE date_diff('day', eventtime, now()) >= 0"),
        format!("SELECT count(*) FROM {ID} WHERE day_of_week(eventtime) BETWEEN 1 AND 7"),
        format!("SELECT count(*) FROM {ID} WHERE date(eventtime) <= current_date"),
    ] {
        assert_eq!(one(&lake, &sql), timed.to_string(), "{sql}");
    }
    let json = run(
        &lake,
        &format!("SELECT json_extract_scalar(eventjson, '$.eventID'), eventid FROM {ID} LIMIT 20"),
    );
    for row in &json.rows {
        assert_eq!(row[0], row[1]);
    }
    // Unknown columns are refused before running.
    let bad = prepare(&format!("SELECT nosuchcolumn FROM {ID}")).unwrap();
    let tables = lake.tables(&bad.stores).unwrap();
    assert!(lake.engine().check(&bad, &tables).is_err());
}

/// The queries of docs/lake-sample-queries.md (their Lake form), each over the corpus.
fn sample_queries() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/lake-sample-queries.md"),
    )
    .unwrap();
    let mut out = Vec::new();
    let mut title = String::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        if let Some(t) = line.strip_prefix("## ") {
            title = t.to_string();
        } else if line == "```sql" {
            let sql: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            out.push((title.clone(), sql.join("\n")));
        }
    }
    out
}

#[test]
fn every_sample_query_of_the_docs_runs_over_the_corpus() {
    let records = corpus();
    let tmp = tempfile::tempdir().unwrap();
    let lake = Lake::open(tmp.path()).unwrap();
    lake.store(ID)
        .unwrap()
        .lock()
        .unwrap()
        .append(
            "journal",
            1,
            records.len() as u64,
            &mut records.iter().map(|r| Cow::Borrowed(r.as_str())),
        )
        .unwrap();
    let queries = sample_queries();
    assert!(queries.len() >= 15, "{} sample queries", queries.len());
    let mut answered = 0;
    for (title, sql) in &queries {
        let out = run(&lake, &sql.replace("$EDS_ID", ID));
        assert!(!out.columns.is_empty(), "{title}");
        if !out.rows.is_empty() {
            answered += 1;
        }
    }
    // The corpus has something for nearly every question.
    assert!(
        answered + 2 >= queries.len(),
        "only {answered} of {} answered rows",
        queries.len()
    );
}

#[test]
fn a_query_past_its_memory_fails_as_lake_says() {
    let records: Vec<String> = corpus().into_iter().take(3000).collect();
    let tmp = tempfile::tempdir().unwrap();
    let lake = Lake::open(tmp.path()).unwrap();
    lake.store(ID)
        .unwrap()
        .lock()
        .unwrap()
        .append(
            "journal",
            1,
            records.len() as u64,
            &mut records.iter().map(|r| Cow::Borrowed(r.as_str())),
        )
        .unwrap();
    // An aggregate without groups cannot spill to disk (a join or a sort can, and then
    // finishes within the limit), so its state must fit in memory.
    let prepared = prepare(&format!(
        "SELECT cardinality(array_agg(eventjson)) FROM {ID}"
    ))
    .unwrap();
    let limits = Limits {
        max_memory: 1 << 20,
        ..Limits::default()
    };
    match lake.query(&prepared, &AtomicBool::new(false), limits) {
        Err(cairn_lake::QueryError::Failed(m)) => {
            assert_eq!(m, "Query exhausted resources at this scale factor")
        }
        other => panic!("{other:?}"),
    }
}
