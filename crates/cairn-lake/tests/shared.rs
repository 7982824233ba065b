//! One event data store's files written by two engines at once, as a cluster's nodes write
//! the files they share: with the store locked across them, every record lands exactly once
//! and an append one of them cut short is neither read nor kept.

#![allow(clippy::unwrap_used)]

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use cairn_lake::{Lake, Limits, prepare};
use cairn_store::lake::{Columnar, Shared};

const ID: &str = "5e3a1c1a-9f0b-4a57-9a43-2f2b7c8a0d11";

fn record(n: u64) -> String {
    let day = 1 + n % 3;
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"2026-11-0{day}T10:00:00Z","eventID":"e-{n}","eventName":"Put"}}"#
    )
}

fn count(lake: &Lake) -> (u64, u64) {
    let sql = format!("SELECT count(*), count(DISTINCT eventid) FROM {ID}");
    let prepared = prepare(&sql).unwrap();
    let tables = lake.tables(&prepared.stores).unwrap();
    let out = lake
        .engine()
        .run(
            &prepared,
            &tables,
            &AtomicBool::new(false),
            Limits::default(),
        )
        .unwrap();
    let cell = |i: usize| out.rows[0][i].clone().unwrap().parse().unwrap();
    (cell(0), cell(1))
}

#[test]
fn two_engines_sharing_a_store_number_and_keep_every_record_once() {
    let tmp = tempfile::tempdir().unwrap();
    let locks = Arc::new(Shared::default());
    let a = Lake::open(tmp.path()).unwrap().with_locks(locks.clone());
    let b = Lake::open(tmp.path()).unwrap().with_locks(locks);
    const CALLS: u64 = 40;
    std::thread::scope(|s| {
        for (t, lake) in [&a, &b, &a, &b].into_iter().enumerate() {
            s.spawn(move || {
                for i in 0..CALLS {
                    let n = (t as u64) * 1000 + i;
                    let rows = [record(n * 2), record(n * 2 + 1)];
                    lake.append_next(
                        ID,
                        "channel-c1",
                        2,
                        &mut rows.iter().map(|r| Cow::Borrowed(r.as_str())),
                    )
                    .unwrap();
                }
            });
        }
    });
    let total = 4 * CALLS * 2;
    assert_eq!(a.committed(ID, "channel-c1").unwrap(), Some(total));
    // Compaction ran on both engines as they appended: still every record once, from either.
    assert_eq!(count(&a), (total, total));
    assert_eq!(count(&b), (total, total));
}

#[test]
fn an_append_cut_short_in_another_engine_is_not_read_and_is_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let locks = Arc::new(Shared::default());
    let a = Lake::open(tmp.path()).unwrap().with_locks(locks.clone());
    let rows: Vec<String> = (1..=3).map(record).collect();
    a.append(
        ID,
        "journal",
        1,
        3,
        &mut rows.iter().map(|r| Cow::Borrowed(r.as_str())),
    )
    .unwrap();
    // Another engine, already holding the store open, sees it; then the first writes files
    // for 4-6 and dies before committing them (files made visible, position not moved).
    let b = Lake::open(tmp.path()).unwrap().with_locks(locks);
    assert_eq!(count(&b), (3, 3));
    let day = tmp.path().join(ID).join("eventdate=2026-11-02");
    let some = std::fs::read_dir(&day)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::copy(&some, day.join("journal.4-6.parquet")).unwrap();
    assert_eq!(
        count(&b),
        (3, 3),
        "files past the committed position are not read"
    );
    // The source hands 4-5 again (the range as its next round sees it): the leftover goes.
    let again: Vec<String> = (4..=5).map(record).collect();
    b.append(
        ID,
        "journal",
        4,
        5,
        &mut again.iter().map(|r| Cow::Borrowed(r.as_str())),
    )
    .unwrap();
    assert!(!day.join("journal.4-6.parquet").exists());
    assert_eq!(count(&a), (5, 5));
}
