//! The embedded wiring of event history: the segment journal's commit hook indexes each batch
//! behind its callers' answers, and reads wait for it. The index's own contract is in the shared suite
//! (`crate::suite::history`).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::*;
use crate::history::{FollowingIndex, HistoryIndex, LookupKey, LookupQuery};
use crate::journal::{Entry, EntryKind, Journal, JournalConfig, NoHook, SegmentJournal};

fn entry(i: usize) -> Vec<u8> {
    let record = serde_json::json!({
        "eventVersion":"1.11", "eventTime":"2023-11-14T22:13:20Z",
        "eventSource":"cloudtrail.amazonaws.com", "eventName":"X", "awsRegion":"us-east-1",
        "eventID": format!("id-{i}"), "eventCategory":"Management"
    });
    Entry {
        kind: EntryKind::Recorded,
        account: "111122223333".into(),
        record: serde_json::to_vec(&record).unwrap(),
        served: None,
    }
    .encode()
}

fn following(dir: &std::path::Path, behind: bool) -> (Arc<FollowingIndex>, Arc<dyn Journal>) {
    let inner: Arc<dyn HistoryIndex> =
        Arc::new(SqliteHistory::open(&dir.join("history.db")).unwrap());
    let index = FollowingIndex::new(inner, Arc::new(AtomicBool::new(behind))).unwrap();
    let journal: Arc<dyn Journal> = Arc::new(
        SegmentJournal::open(
            &dir.join("journal"),
            JournalConfig::default(),
            index.hook().unwrap(),
        )
        .unwrap(),
    );
    index.follow(&journal);
    (index, journal)
}

/// Indexing runs behind the acknowledgement, yet a read that starts after a write was
/// acknowledged finds it: concurrent writers, each read right after their answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_finds_every_write_acknowledged_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let (index, journal) = following(dir.path(), false);
    for round in 0..40usize {
        let writes: Vec<_> = (0..4)
            .map(|k| journal.append(vec![entry(round * 4 + k)]))
            .collect();
        for w in writes {
            w.wait().await.unwrap();
        }
        assert_eq!(index.count().unwrap(), (round as u64 + 1) * 4);
        assert!(
            index
                .has_event_id("111122223333", &format!("id-{}", round * 4 + 3))
                .unwrap()
        );
        assert_eq!(index.cursor().unwrap(), journal.head());
    }
}

/// A batch the index failed to take (marked behind) is caught up by the next read, not lost.
#[test]
fn a_read_catches_up_an_index_that_fell_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (index, journal) = following(dir.path(), true);
    journal.append(vec![entry(1)]).wait_blocking().unwrap();
    assert!(index.has_event_id("111122223333", "id-1").unwrap());
    assert_eq!(index.count().unwrap(), 1);
}

/// `history.db` as the first layout wrote it: `events_by_id`, no `seq` in `event_ids`, no
/// version mark.
const FIRST_LAYOUT: &str = "
    PRAGMA journal_mode = WAL;
    CREATE TABLE scopes (id INTEGER PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL,
        category TEXT NOT NULL, UNIQUE (account, region, category));
    CREATE TABLE events (seq INTEGER PRIMARY KEY, scope INTEGER NOT NULL, t INTEGER NOT NULL,
        event_id TEXT NOT NULL, event_name TEXT, event_source TEXT, username TEXT,
        access_key_id TEXT, read_only TEXT);
    CREATE INDEX events_by_id ON events (scope, event_id, t, seq);
    CREATE TABLE resources (seq INTEGER NOT NULL, scope INTEGER NOT NULL, t INTEGER NOT NULL,
        rtype TEXT, rname TEXT NOT NULL, shown INTEGER NOT NULL);
    CREATE TABLE event_ids (account TEXT NOT NULL, event_id TEXT NOT NULL,
        PRIMARY KEY (account, event_id)) WITHOUT ROWID;
    INSERT INTO event_ids VALUES ('111122223333', 'stale-id');
    CREATE TABLE cursor (id INTEGER PRIMARY KEY CHECK (id = 1), offset INTEGER NOT NULL);
    INSERT INTO cursor VALUES (1, 123456);
";

#[test]
fn an_index_of_an_older_layout_is_dropped_and_rebuilt_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let journal = SegmentJournal::open(
        &dir.path().join("journal"),
        JournalConfig::default(),
        Box::new(NoHook),
    )
    .unwrap();
    for i in 0..7 {
        journal.append(vec![entry(i)]).wait_blocking().unwrap();
    }
    let db = dir.path().join("history.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(FIRST_LAYOUT)
        .unwrap();

    let index = SqliteHistory::open(&db).unwrap();
    assert_eq!(index.cursor().unwrap(), 0, "the old index is gone");
    assert!(!index.has_event_id("111122223333", "stale-id").unwrap());
    assert_eq!(index.count().unwrap(), 0);
    assert_eq!(index.catch_up(&journal, &mut |_, _| {}).unwrap(), 7);
    assert_eq!(index.count().unwrap(), 7);
    assert_eq!(index.cursor().unwrap(), journal.head());
    assert!(index.has_event_id("111122223333", "id-3").unwrap());
    let page = index
        .lookup(&LookupQuery {
            account: "111122223333".into(),
            region: "us-east-1".into(),
            category: "Management",
            attribute: Some((LookupKey::EventId, "id-3".into())),
            start_ms: 0,
            end_ms: i64::MAX,
            limit: 50,
            after: None,
        })
        .unwrap();
    assert_eq!(page.events.len(), 1);
    assert_eq!(page.events[0].event_id, "id-3");
    drop(index);

    // Opened again at this layout, it is kept as it is.
    let again = SqliteHistory::open(&db).unwrap();
    assert_eq!(again.count().unwrap(), 7);
    assert_eq!(again.cursor().unwrap(), journal.head());
    let version: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, schema::VERSION);
}
