//! Event history's contract: every management and Insights event indexed once under the
//! eight LookupEvents attributes, newest first, keyset pages that cover everything once, an
//! inclusive time range, a cursor that moves with the rows, rebuilding from the journal, and
//! purging by time.

use std::sync::Arc;

use serde_json::json;

use super::{Backend, cases};
use crate::history::{HistoryIndex, LookupKey, LookupPage, LookupQuery};
use crate::journal::{Entry, EntryKind, Journal};

cases!(
    every_attribute_finds_its_events_newest_first,
    keyset_pages_cover_everything_once,
    time_range_is_inclusive,
    rebuilds_from_the_journal,
    unreadable_records_do_not_stop_indexing,
    purge_drops_old_events,
);

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
        served: None,
    }
    .encode()
}

struct Fixture {
    journal: Arc<dyn Journal>,
    index: Arc<dyn HistoryIndex>,
}

fn fixture(b: &dyn Backend) -> Fixture {
    Fixture {
        journal: b.journal(),
        index: b.history(),
    }
}

impl Fixture {
    /// Appends durably, then brings the index up to date, as the journal's consumer does.
    fn append(&self, batch: Vec<Vec<u8>>) {
        self.journal.append(batch).wait_blocking().unwrap();
        self.index.catch_up(&*self.journal, &mut |_, _| {}).unwrap();
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

pub fn every_attribute_finds_its_events_newest_first(b: &dyn Backend) {
    let f = fixture(b);
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
    f.append(batch);

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

pub fn keyset_pages_cover_everything_once(b: &dyn Backend) {
    let f = fixture(b);
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
    f.append(batch);
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

pub fn time_range_is_inclusive(b: &dyn Backend) {
    let f = fixture(b);
    let batch: Vec<Vec<u8>> = (0..5)
        .map(|i| entry(record(i, "X", "us-east-1", json!({}))))
        .collect();
    f.append(batch);
    let mut q = query(None, 50);
    q.start_ms = 1_700_000_001_000;
    q.end_ms = 1_700_000_003_000;
    assert_eq!(
        ids(&f.index.lookup(&q).unwrap()),
        vec!["id-3", "id-2", "id-1"]
    );
}

pub fn rebuilds_from_the_journal(b: &dyn Backend) {
    let f = fixture(b);
    let batch: Vec<Vec<u8>> = (0..20)
        .map(|i| entry(record(i, "X", "us-east-1", json!({}))))
        .collect();
    // Appended but not yet indexed, as after a crash or an import.
    f.journal.append(batch).wait_blocking().unwrap();
    assert_eq!(f.index.count().unwrap(), 0);
    let mut last = (0, 0);
    let n = f
        .index
        .catch_up(&*f.journal, &mut |pos, head| last = (pos, head))
        .unwrap();
    assert_eq!(n, 20);
    assert_eq!(last, (f.journal.head(), f.journal.head()));
    assert_eq!(f.index.count().unwrap(), 20);
    assert_eq!(f.index.cursor().unwrap(), f.journal.head());
    // Catching up again, or replaying an applied batch, indexes nothing twice.
    assert_eq!(f.index.catch_up(&*f.journal, &mut |_, _| {}).unwrap(), 0);
    let (entries, next) = f.journal.read_from(0, 1 << 20).unwrap();
    f.index.apply(&entries, next).unwrap();
    assert_eq!(f.index.count().unwrap(), 20);
    // The index and its cursor survive a restart together.
    drop(f);
    b.restart();
    let f = fixture(b);
    assert_eq!(f.index.count().unwrap(), 20);
    assert_eq!(f.index.cursor().unwrap(), f.journal.head());
}

pub fn unreadable_records_do_not_stop_indexing(b: &dyn Backend) {
    let f = fixture(b);
    f.append(vec![
        entry(b"not json".to_vec()),
        b"\x09bad".to_vec(),
        entry(record(1, "X", "us-east-1", json!({}))),
    ]);
    assert_eq!(f.index.count().unwrap(), 1);
    assert_eq!(f.index.cursor().unwrap(), f.journal.head());
}

pub fn purge_drops_old_events(b: &dyn Backend) {
    let f = fixture(b);
    let batch: Vec<Vec<u8>> = (0..5)
        .map(|i| entry(record(i, "X", "us-east-1", json!({}))))
        .collect();
    f.append(batch);
    assert_eq!(f.index.purge_before(1_700_000_002_000).unwrap(), 2);
    assert_eq!(
        ids(&f.index.lookup(&query(None, 50)).unwrap()),
        vec!["id-4", "id-3", "id-2"]
    );
}
