//! The embedded wiring of event history: the segment journal's commit hook indexes a batch
//! before its callers are answered. The index's own contract is in the shared suite
//! (`crate::suite::history`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::*;
use crate::history::{HistoryIndex, IndexHook};
use crate::journal::{Entry, EntryKind, Journal, JournalConfig, SegmentJournal};

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
    }
    .encode()
}

#[test]
fn the_commit_hook_indexes_a_batch_before_it_is_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let index: Arc<dyn HistoryIndex> =
        Arc::new(SqliteHistory::open(&dir.path().join("history.db")).unwrap());
    let behind = Arc::new(AtomicBool::new(false));
    let journal = SegmentJournal::open(
        &dir.path().join("journal"),
        JournalConfig::default(),
        Box::new(IndexHook::new(Arc::clone(&index), Arc::clone(&behind))),
    )
    .unwrap();
    for i in 0..5 {
        journal.append(vec![entry(i)]).wait_blocking().unwrap();
        assert_eq!(index.count().unwrap(), i as u64 + 1);
        assert_eq!(index.cursor().unwrap(), journal.head());
    }
    assert!(!behind.load(Ordering::Acquire));
}
