//! The journal's contract: durable appends in order, reads from any cursor, restarts that keep
//! everything acknowledged, purging that spares what consumers need, and failing closed.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use super::{Backend, cases};
use crate::journal::Journal;

cases!(
    appends_are_read_back_in_order_and_survive_a_restart,
    many_appends_read_back_across_the_whole_journal,
    concurrent_appends_all_land_once,
    reading_at_the_head_is_empty,
    purge_spares_what_consumers_still_need,
    a_failed_write_is_refused_and_leaves_nothing,
);

/// Every entry from `from` on, reading in small steps.
fn read_all(j: &dyn Journal, from: u64) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut cur = from;
    loop {
        let (batch, next) = j.read_from(cur, 256).unwrap();
        if batch.is_empty() && next == cur {
            return out;
        }
        out.extend(batch);
        cur = next;
    }
}

fn payloads(entries: &[(u64, Vec<u8>)]) -> Vec<Vec<u8>> {
    entries.iter().map(|(_, p)| p.clone()).collect()
}

pub fn appends_are_read_back_in_order_and_survive_a_restart(b: &dyn Backend) {
    let j = b.journal();
    let start = j.head();
    let offs = j
        .append(vec![b"one".to_vec(), b"two".to_vec()])
        .wait_blocking()
        .unwrap();
    assert_eq!(offs.len(), 2);
    assert!(offs[0] >= start && offs[1] > offs[0], "{offs:?}");
    assert!(j.head() > offs[1]);
    assert_eq!(j.read_at(offs[1]).unwrap(), b"two");
    let head = j.head();
    drop(j);
    b.restart();
    let j = b.journal();
    assert_eq!(j.head(), head, "a restart keeps every acknowledged entry");
    let three = j.append(vec![b"three".to_vec()]).wait_blocking().unwrap();
    assert!(three[0] >= head);
    let all = read_all(&*j, 0);
    assert_eq!(
        payloads(&all),
        [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
    );
    assert_eq!(
        all.iter().map(|(o, _)| *o).collect::<Vec<_>>(),
        [offs[0], offs[1], three[0]]
    );
}

pub fn many_appends_read_back_across_the_whole_journal(b: &dyn Backend) {
    let j = b.journal();
    for i in 0..300u32 {
        j.append(vec![format!("entry-{i:04}").into_bytes()])
            .wait_blocking()
            .unwrap();
    }
    let all = read_all(&*j, 0);
    assert_eq!(all.len(), 300);
    for (i, (off, p)) in all.iter().enumerate() {
        assert_eq!(p, format!("entry-{i:04}").as_bytes());
        assert_eq!(&j.read_at(*off).unwrap(), p);
    }
    // A cursor in the middle continues from there.
    let (mid, _) = all[150];
    assert_eq!(read_all(&*j, mid).len(), 150);
}

pub fn concurrent_appends_all_land_once(b: &dyn Backend) {
    let j = b.journal();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let j = std::sync::Arc::clone(&j);
            std::thread::spawn(move || {
                (0..100)
                    .map(|i| {
                        j.append(vec![format!("{t}-{i}").into_bytes()])
                            .wait_blocking()
                            .unwrap()[0]
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut offsets = BTreeSet::new();
    for t in threads {
        offsets.extend(t.join().unwrap());
    }
    assert_eq!(offsets.len(), 400, "every append has an offset of its own");
    let all = read_all(&*j, 0);
    let mut seen: Vec<String> = all
        .iter()
        .map(|(_, p)| String::from_utf8(p.clone()).unwrap())
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 400);
    assert_eq!(
        all.iter().map(|(o, _)| *o).collect::<BTreeSet<_>>(),
        offsets
    );
}

pub fn reading_at_the_head_is_empty(b: &dyn Backend) {
    let j = b.journal();
    let (batch, next) = j.read_from(j.head(), 1 << 20).unwrap();
    assert!(batch.is_empty());
    assert_eq!(next, j.head());
    j.append(vec![b"x".to_vec()]).wait_blocking().unwrap();
    let (batch, next) = j.read_from(j.head(), 1 << 20).unwrap();
    assert!(batch.is_empty());
    assert_eq!(next, j.head());
}

pub fn purge_spares_what_consumers_still_need(b: &dyn Backend) {
    let j = b.journal();
    let mut offs = Vec::new();
    for i in 0..200u32 {
        offs.extend(
            j.append(vec![format!("old-{i:04}-{}", "x".repeat(40)).into_bytes()])
                .wait_blocking()
                .unwrap(),
        );
    }
    // Nothing written after `older_than` goes, whatever the cursors.
    assert_eq!(j.purge(j.head(), SystemTime::UNIX_EPOCH).unwrap(), 0);
    assert_eq!(read_all(&*j, 0).len(), 200);
    let future = SystemTime::now() + Duration::from_secs(3600);
    // Nothing a consumer still needs goes.
    assert_eq!(j.purge(0, future).unwrap(), 0);
    let cursor = offs[120];
    j.purge(cursor, future).unwrap();
    let kept = read_all(&*j, 0);
    assert!(
        kept.iter().any(|(o, _)| *o == cursor),
        "the entry at the slowest cursor is kept"
    );
    assert!(kept.iter().all(|(o, _)| offs.contains(o)));
    assert_eq!(
        kept.iter().filter(|(o, _)| *o >= cursor).count(),
        80,
        "everything from the slowest cursor on is kept"
    );
    // The journal goes on.
    let next = j.append(vec![b"new".to_vec()]).wait_blocking().unwrap()[0];
    assert_eq!(j.read_at(next).unwrap(), b"new");
}

pub fn a_failed_write_is_refused_and_leaves_nothing(b: &dyn Backend) {
    let j = b.journal();
    j.append(vec![b"kept".to_vec()]).wait_blocking().unwrap();
    assert!(j.failure().is_none());
    j.fail_next_write();
    assert!(j.append(vec![b"lost".to_vec()]).wait_blocking().is_err());
    assert!(j.failure().is_some(), "the journal says why it refuses");
    assert!(
        j.append(vec![b"after".to_vec()]).wait_blocking().is_err(),
        "a failed journal refuses writes from then on"
    );
    drop(j);
    b.restart();
    let j = b.journal();
    assert_eq!(
        payloads(&read_all(&*j, 0)),
        [b"kept".to_vec()],
        "nothing of a refused write is kept"
    );
}
