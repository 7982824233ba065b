//! What the PostgreSQL index must do beyond the shared suite: nodes indexing one journal at
//! once, and records PostgreSQL cannot keep as they are.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use super::*;
use crate::history::{LookupKey, LookupQuery};
use crate::journal::{Entry, EntryKind, NoHook, PgJournal};
use crate::suite::pg::TestPostgres;

const ACCT: &str = "111122223333";

fn entry(i: usize, name: &str) -> Vec<u8> {
    let record = serde_json::json!({
        "eventVersion":"1.11", "eventTime":"2023-11-14T22:13:20Z",
        "eventSource":"cloudtrail.amazonaws.com", "eventName": name, "awsRegion":"us-east-1",
        "eventID": format!("id-{i}"), "eventCategory":"Management",
        "resources":[{"ARN": format!("arn:aws:cloudtrail:us-east-1:{ACCT}:trail/t{i}"),
                      "type":"AWS::CloudTrail::Trail"}]
    });
    Entry {
        kind: EntryKind::Recorded,
        account: ACCT.into(),
        record: serde_json::to_vec(&record).unwrap(),
        served: None,
    }
    .encode()
}

fn query(attribute: Option<(LookupKey, &str)>) -> LookupQuery {
    LookupQuery {
        account: ACCT.into(),
        region: "us-east-1".into(),
        category: "Management",
        attribute: attribute.map(|(k, v)| (k, v.to_owned())),
        start_ms: 0,
        end_ms: i64::MAX,
        limit: 1000,
        after: None,
    }
}

/// Two nodes catch the shared index up from one journal at once, while entries keep coming:
/// every entry is indexed once, with its resources once.
#[test]
fn nodes_indexing_at_once_index_every_entry_once() {
    let server = TestPostgres::start();
    let url = server.url();
    let journal: Arc<dyn Journal> =
        Arc::new(PgJournal::open(&url, "shared_history", 64, Box::new(NoHook)).unwrap());
    let nodes: Vec<Arc<PgHistory>> = (0..2)
        .map(|_| Arc::new(PgHistory::open(&url, "shared_history").unwrap()))
        .collect();
    let writer = {
        let journal = Arc::clone(&journal);
        std::thread::spawn(move || {
            for i in 0..300 {
                journal.append(vec![entry(i, "X")]).wait_blocking().unwrap();
            }
        })
    };
    let indexers: Vec<_> = nodes
        .iter()
        .map(|h| {
            let (h, journal) = (Arc::clone(h), Arc::clone(&journal));
            std::thread::spawn(move || {
                for _ in 0..50 {
                    h.catch_up(&*journal, &mut |_, _| {}).unwrap();
                }
            })
        })
        .collect();
    writer.join().unwrap();
    for t in indexers {
        t.join().unwrap();
    }
    nodes[0].catch_up(&*journal, &mut |_, _| {}).unwrap();
    assert_eq!(nodes[1].count().unwrap(), 300);
    assert_eq!(nodes[1].cursor().unwrap(), journal.head());
    let page = nodes[1]
        .lookup(&query(Some((
            LookupKey::ResourceType,
            "AWS::CloudTrail::Trail",
        ))))
        .unwrap();
    assert_eq!(page.events.len(), 300);
    assert!(page.events.iter().all(|e| e.resources.len() == 1));
}

/// PostgreSQL's text cannot hold NUL: such a record is indexed (not refused, which would stop
/// the index), and found by the same value.
#[test]
fn a_record_with_nul_characters_is_indexed_and_found() {
    let server = TestPostgres::start();
    let h = PgHistory::open(&server.url(), "nul_history").unwrap();
    h.apply(&[(0, entry(0, "Put\0Thing"))], 1).unwrap();
    assert_eq!(h.cursor().unwrap(), 1);
    let page = h
        .lookup(&query(Some((LookupKey::EventName, "Put\0Thing"))))
        .unwrap();
    assert_eq!(page.events.len(), 1);
    assert!(h.has_event_id(ACCT, "id-0").unwrap());
}

/// The database stops and starts again: meanwhile indexing and reading fail (nothing of the
/// failed batch is kept); afterwards the index connects again by itself and goes on from its
/// cursor.
#[test]
fn the_index_fails_while_its_database_is_down_and_goes_on_after() {
    let server = TestPostgres::start();
    let h = PgHistory::open(&server.url(), "restart_history").unwrap();
    h.apply(&[(0, entry(0, "Before"))], 1).unwrap();
    assert_eq!(h.count().unwrap(), 1);
    server.stop();
    assert!(h.apply(&[(1, entry(1, "During"))], 2).is_err());
    assert!(h.cursor().is_err());
    server.start_again();
    assert_eq!(h.cursor().unwrap(), 1, "the failed batch moved nothing");
    h.apply(&[(1, entry(1, "After"))], 2).unwrap();
    assert_eq!(h.cursor().unwrap(), 2);
    assert_eq!(h.count().unwrap(), 2);
    let during = h
        .lookup(&query(Some((LookupKey::EventName, "During"))))
        .unwrap();
    assert!(during.events.is_empty());
}

/// A node reading event history finds what another node's calls wrote as soon as that node
/// indexed it: reads wait for the shared cursor, not for this node's own indexing.
#[test]
fn a_node_reads_what_another_node_indexed_without_waiting_it_out() {
    use std::sync::atomic::AtomicBool;
    use std::time::{Duration, Instant};

    use crate::history::FollowingIndex;

    let server = TestPostgres::start();
    let url = server.url();
    let node = || {
        let inner: Arc<dyn HistoryIndex> = Arc::new(PgHistory::open(&url, "two_nodes").unwrap());
        let index = FollowingIndex::shared(inner, Arc::new(AtomicBool::new(false))).unwrap();
        let journal: Arc<dyn Journal> =
            Arc::new(PgJournal::open(&url, "two_nodes", 64, index.hook().unwrap()).unwrap());
        index.follow(&journal);
        (index, journal)
    };
    let (a, a_journal) = node();
    let (b, _b_journal) = node();
    for i in 0..5 {
        a_journal
            .append(vec![entry(i, "X")])
            .wait_blocking()
            .unwrap();
        let started = Instant::now();
        assert_eq!(a.count().unwrap(), i as u64 + 1);
        assert!(b.has_event_id(ACCT, &format!("id-{i}")).unwrap());
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the reads took {:?}",
            started.elapsed()
        );
    }
}

/// A call answered by one node is found by a read on another at once, even before the first
/// node indexed it: the reading node indexes the shared journal itself.
#[test]
fn a_node_finds_another_nodes_calls_before_that_node_indexed_them() {
    use std::sync::atomic::AtomicBool;
    use std::time::{Duration, Instant};

    use crate::history::FollowingIndex;

    let server = TestPostgres::start();
    let url = server.url();
    let node = || {
        let inner: Arc<dyn HistoryIndex> = Arc::new(PgHistory::open(&url, "turns").unwrap());
        let index = FollowingIndex::shared(inner, Arc::new(AtomicBool::new(false))).unwrap();
        let journal: Arc<dyn Journal> =
            Arc::new(PgJournal::open(&url, "turns", 64, index.hook().unwrap()).unwrap());
        index.follow(&journal);
        (index, journal)
    };
    let (a, a_journal) = node();
    let (b, b_journal) = node();
    for i in 0..6 {
        // The nodes take turns answering calls; the other one reads.
        let (writer, reader) = if i % 2 == 0 {
            (&a_journal, &b)
        } else {
            (&b_journal, &a)
        };
        writer.append(vec![entry(i, "X")]).wait_blocking().unwrap();
        let started = Instant::now();
        assert!(
            reader.has_event_id(ACCT, &format!("id-{i}")).unwrap(),
            "call {i}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "the read took {:?}",
            started.elapsed()
        );
    }
    assert_eq!(a.count().unwrap(), 6);
    assert_eq!(b.count().unwrap(), 6);
}
