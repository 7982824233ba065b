use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::*;
use crate::journal::{EntryKind, JournalConfig};
use serde_json::json;

const ACCT: &str = "111122223333";

fn record(i: usize, name: &str, region: &str, extra: serde_json::Value) -> Vec<u8> {
    let mut r = json!({
        "eventVersion":"1.11",
        "userIdentity":{"type":"IAMUser","userName": format!("user{}", i % 3),
                        "accessKeyId": format!("AKIA{}", i % 2)},
        "eventTime": cairn_model::timefmt::event_time(1_700_000_000_000 + (i as i64) * 1000),
        "eventSource":"cloudtrail.amazonaws.com","eventName":name,"awsRegion":region,
        "eventID": format!("id-{i}"), "readOnly": i.is_multiple_of(2), "eventCategory":"Management",
        "resources":[{"ARN": format!("arn:aws:cloudtrail:{region}:{ACCT}:trail/t{i}"),
                      "type":"AWS::CloudTrail::Trail"}]
    });
    if let (Some(o), Some(e)) = (r.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
    serde_json::to_vec(&r).unwrap()
}

fn entry(rec: Vec<u8>) -> Vec<u8> {
    Entry {
        kind: EntryKind::Recorded,
        account: ACCT.into(),
        record: rec,
    }
    .encode()
}

struct Fixture {
    _dir: tempfile::TempDir,
    journal: Journal,
    index: Arc<HistoryIndex>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let index = Arc::new(HistoryIndex::open(&dir.path().join("history.db")).unwrap());
    let hook = IndexHook::new(Arc::clone(&index), Arc::new(AtomicBool::new(false)));
    let journal = Journal::open(
        &dir.path().join("journal"),
        JournalConfig::default(),
        Box::new(hook),
    )
    .unwrap();
    Fixture {
        _dir: dir,
        journal,
        index,
    }
}

fn query(attr: Option<(LookupKey, &str)>, limit: usize) -> LookupQuery {
    LookupQuery {
        account: ACCT.into(),
        region: "us-east-1".into(),
        category: "Management",
        attribute: attr.map(|(k, v)| (k, v.to_owned())),
        start_ms: 0,
        end_ms: i64::MAX,
        limit,
        after: None,
    }
}

fn ids(p: &LookupPage) -> Vec<String> {
    p.events.iter().map(|e| e.event_id.clone()).collect()
}

#[test]
fn every_attribute_finds_its_events_newest_first() {
    let f = fixture();
    let mut batch = Vec::new();
    for i in 0..10 {
        batch.push(entry(record(
            i,
            if i < 5 { "A" } else { "B" },
            "us-east-1",
            json!({}),
        )));
    }
    batch.push(entry(record(10, "A", "eu-west-1", json!({}))));
    batch.push(entry(record(
        11,
        "GetObject",
        "us-east-1",
        json!({"eventCategory":"Data"}),
    )));
    f.journal.append(batch).wait_blocking().unwrap();

    let all = f.index.lookup(&query(None, 50)).unwrap();
    assert_eq!(
        ids(&all),
        (0..10).rev().map(|i| format!("id-{i}")).collect::<Vec<_>>()
    );
    let by = |k, v| ids(&f.index.lookup(&query(Some((k, v)), 50)).unwrap());
    assert_eq!(
        by(LookupKey::EventName, "A"),
        vec!["id-4", "id-3", "id-2", "id-1", "id-0"]
    );
    assert_eq!(by(LookupKey::EventId, "id-7"), vec!["id-7"]);
    assert_eq!(by(LookupKey::ReadOnly, "true").len(), 5);
    assert_eq!(
        by(LookupKey::Username, "user1"),
        vec!["id-7", "id-4", "id-1"]
    );
    assert_eq!(by(LookupKey::AccessKeyId, "AKIA1").len(), 5);
    assert_eq!(
        by(LookupKey::EventSource, "cloudtrail.amazonaws.com").len(),
        10
    );
    assert_eq!(
        by(LookupKey::ResourceType, "AWS::CloudTrail::Trail").len(),
        10
    );
    assert_eq!(by(LookupKey::ResourceName, "t3"), vec!["id-3"]);
    let arn = format!("arn:aws:cloudtrail:us-east-1:{ACCT}:trail/t3");
    assert_eq!(by(LookupKey::ResourceName, &arn), vec!["id-3"]);
    // Data events are never in history, but their ids are known for import idempotency.
    assert!(by(LookupKey::EventName, "GetObject").is_empty());
    assert!(f.index.has_event_id(ACCT, "id-11").unwrap());
    assert!(!f.index.has_event_id(ACCT, "id-99").unwrap());
    let e = &all.events[0];
    assert_eq!(e.resources.len(), 1);
    assert_eq!(e.resources[0].resource_name, "t9");
}

#[test]
fn keyset_pages_cover_everything_once() {
    let f = fixture();
    // Several events share each second, so ordering must fall back on journal order.
    let batch: Vec<Vec<u8>> = (0..95)
        .map(|i| {
            let mut r: serde_json::Value =
                serde_json::from_slice(&record(i, "X", "us-east-1", json!({}))).unwrap();
            r["eventTime"] = json!(cairn_model::timefmt::event_time(
                1_700_000_000_000 + (i as i64 / 4) * 1000
            ));
            entry(serde_json::to_vec(&r).unwrap())
        })
        .collect();
    f.journal.append(batch).wait_blocking().unwrap();
    let mut seen = Vec::new();
    let mut q = query(Some((LookupKey::EventName, "X")), 10);
    loop {
        let p = f.index.lookup(&q).unwrap();
        seen.extend(ids(&p));
        match p.next {
            Some(a) => q.after = Some(a),
            None => break,
        }
    }
    let want: Vec<String> = (0..95).rev().map(|i| format!("id-{i}")).collect();
    assert_eq!(seen, want);
}

#[test]
fn time_range_is_inclusive() {
    let f = fixture();
    let batch: Vec<Vec<u8>> = (0..5)
        .map(|i| entry(record(i, "X", "us-east-1", json!({}))))
        .collect();
    f.journal.append(batch).wait_blocking().unwrap();
    let mut q = query(None, 50);
    q.start_ms = 1_700_000_001_000;
    q.end_ms = 1_700_000_003_000;
    assert_eq!(
        ids(&f.index.lookup(&q).unwrap()),
        vec!["id-3", "id-2", "id-1"]
    );
}

#[test]
fn rebuilds_from_the_journal() {
    let f = fixture();
    let batch: Vec<Vec<u8>> = (0..20)
        .map(|i| entry(record(i, "X", "us-east-1", json!({}))))
        .collect();
    f.journal.append(batch).wait_blocking().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fresh = HistoryIndex::open(&dir.path().join("h.db")).unwrap();
    assert_eq!(fresh.count().unwrap(), 0);
    let n = fresh.catch_up(&f.journal, |_, _| {}).unwrap();
    assert_eq!(n, 20);
    assert_eq!(fresh.count().unwrap(), 20);
    assert_eq!(fresh.cursor().unwrap(), f.journal.head());
    // Catching up again, or replaying an applied batch, indexes nothing twice.
    assert_eq!(fresh.catch_up(&f.journal, |_, _| {}).unwrap(), 0);
    let (entries, _) = f.journal.read_from(0, 1 << 20).unwrap();
    fresh.apply(&entries).unwrap();
    assert_eq!(fresh.count().unwrap(), 20);
}

#[test]
fn unreadable_records_do_not_stop_indexing() {
    let f = fixture();
    f.journal
        .append(vec![
            entry(b"not json".to_vec()),
            b"\x09bad".to_vec(),
            entry(record(1, "X", "us-east-1", json!({}))),
        ])
        .wait_blocking()
        .unwrap();
    assert_eq!(f.index.count().unwrap(), 1);
    assert_eq!(f.index.cursor().unwrap(), f.journal.head());
}

#[test]
fn purge_drops_old_events() {
    let f = fixture();
    let batch: Vec<Vec<u8>> = (0..5)
        .map(|i| entry(record(i, "X", "us-east-1", json!({}))))
        .collect();
    f.journal.append(batch).wait_blocking().unwrap();
    assert_eq!(f.index.purge_before(1_700_000_002_000).unwrap(), 2);
    assert_eq!(
        ids(&f.index.lookup(&query(None, 50)).unwrap()),
        vec!["id-4", "id-3", "id-2"]
    );
}
