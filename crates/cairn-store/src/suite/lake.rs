//! The Lake store's contract: event data stores replaced by ARN, found by ARN and by id,
//! listed per account oldest first with their ingestion ranges, tags and settings intact;
//! queries kept with their results in order and paged, queued queries handed out oldest
//! first, old queries forgotten with their rows; documents kept per kind and key; and all of
//! it surviving a restart.

use std::collections::BTreeMap;

use super::{Backend, cases};
use crate::lake::{EventDataStore, Query};

cases!(
    stores_are_replaced_found_and_listed,
    queries_keep_their_results_in_order,
    documents_are_kept_by_kind_and_key,
    everything_survives_a_restart,
);

const ACCT: &str = "111122223333";

fn eds(id: &str, created_ms: i64) -> EventDataStore {
    EventDataStore {
        arn: format!("arn:aws:cloudtrail:us-east-1:{ACCT}:eventdatastore/{id}"),
        id: id.into(),
        account: ACCT.into(),
        region: "us-east-1".into(),
        name: format!("store-{id}"),
        status: "ENABLED".into(),
        settings: r#"{"RetentionPeriod":366}"#.into(),
        created_ms,
        updated_ms: created_ms,
        tags: BTreeMap::from([("team".to_string(), "audit".to_string())]),
        ingest_ranges: vec![(5, Some(9)), (12, None)],
        deleted_ms: None,
    }
}

fn query(id: &str, created_ms: i64, status: &str) -> Query {
    Query {
        id: id.into(),
        account: ACCT.into(),
        region: "us-east-1".into(),
        stores: vec![eds("a", 1).arn],
        statement: "SELECT 1".into(),
        status: status.into(),
        created_ms,
        ended_ms: None,
        error: None,
        stats: "{}".into(),
        delivery: None,
        delivery_status: None,
        columns: None,
    }
}

fn stores_are_replaced_found_and_listed(b: &dyn Backend) {
    let lake = b.lake();
    lake.put_store(&eds("b", 20)).unwrap();
    lake.put_store(&eds("a", 10)).unwrap();
    let mut changed = eds("a", 10);
    changed.status = "STOPPED_INGESTION".into();
    changed.ingest_ranges = vec![(5, Some(9)), (12, Some(30))];
    lake.put_store(&changed).unwrap();
    assert_eq!(lake.store(&changed.arn).unwrap(), Some(changed.clone()));
    assert_eq!(lake.store_by_id("a").unwrap(), Some(changed.clone()));
    let ids: Vec<String> = lake
        .stores(ACCT)
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(lake.all_stores().unwrap().len(), 2);
    assert!(lake.stores("999999999999").unwrap().is_empty());
    assert!(lake.remove_store(&changed.arn).unwrap());
    assert!(!lake.remove_store(&changed.arn).unwrap());
    assert_eq!(lake.store_by_id("a").unwrap(), None);
}

fn queries_keep_their_results_in_order(b: &dyn Backend) {
    let lake = b.lake();
    lake.put_query(&query("q1", 100, "QUEUED")).unwrap();
    lake.put_query(&query("q2", 200, "QUEUED")).unwrap();
    lake.put_query(&query("q0", 50, "FINISHED")).unwrap();
    let queued: Vec<String> = lake
        .queries_in("QUEUED")
        .unwrap()
        .into_iter()
        .map(|q| q.id)
        .collect();
    assert_eq!(queued, ["q1", "q2"]);
    let mut done = query("q1", 100, "FINISHED");
    done.columns = Some(vec!["eventName".into(), "_col1".into()]);
    done.ended_ms = Some(150);
    let rows: Vec<String> = (0..25).map(|i| format!(r#"["e{i}",null]"#)).collect();
    lake.finish_query(&done, &rows).unwrap();
    assert_eq!(lake.query("q1").unwrap(), Some(done.clone()));
    assert_eq!(lake.results("q1", 0, 10).unwrap(), rows[..10].to_vec());
    assert_eq!(lake.results("q1", 20, 10).unwrap(), rows[20..].to_vec());
    assert!(lake.results("q1", 25, 10).unwrap().is_empty());
    let recent: Vec<String> = lake
        .queries(ACCT, 60)
        .unwrap()
        .into_iter()
        .map(|q| q.id)
        .collect();
    assert_eq!(recent, ["q2", "q1"]);
    assert_eq!(lake.forget_queries(150).unwrap(), 2);
    assert_eq!(lake.query("q1").unwrap(), None);
    assert!(lake.results("q1", 0, 10).unwrap().is_empty());
    assert!(lake.query("q2").unwrap().is_some());
}

fn documents_are_kept_by_kind_and_key(b: &dyn Backend) {
    let lake = b.lake();
    lake.put_document("channel", "c2", ACCT, r#"{"n":2}"#)
        .unwrap();
    lake.put_document("channel", "c1", ACCT, r#"{"n":1}"#)
        .unwrap();
    lake.put_document("import", "c1", ACCT, r#"{"i":1}"#)
        .unwrap();
    lake.put_document("channel", "c1", ACCT, r#"{"n":3}"#)
        .unwrap();
    assert_eq!(
        lake.document("channel", "c1").unwrap().as_deref(),
        Some(r#"{"n":3}"#)
    );
    let keys: Vec<String> = lake
        .documents("channel", ACCT)
        .unwrap()
        .into_iter()
        .map(|d| d.0)
        .collect();
    assert_eq!(keys, ["c1", "c2"]);
    assert!(lake.remove_document("channel", "c1").unwrap());
    assert!(!lake.remove_document("channel", "c1").unwrap());
    assert_eq!(
        lake.document("import", "c1").unwrap().as_deref(),
        Some(r#"{"i":1}"#)
    );
}

fn everything_survives_a_restart(b: &dyn Backend) {
    {
        let lake = b.lake();
        lake.put_store(&eds("a", 10)).unwrap();
        lake.finish_query(&query("q", 5, "FINISHED"), &[r#"["x"]"#.to_string()])
            .unwrap();
        lake.put_document("import", "i", ACCT, "{}").unwrap();
    }
    b.restart();
    let lake = b.lake();
    assert_eq!(lake.store_by_id("a").unwrap(), Some(eds("a", 10)));
    assert_eq!(lake.results("q", 0, 5).unwrap(), [r#"["x"]"#]);
    assert!(lake.document("import", "i").unwrap().is_some());
}
