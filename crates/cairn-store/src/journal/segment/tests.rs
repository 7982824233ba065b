//! The segment log's own behaviour: frame offsets, segment files rolling, torn tails cut,
//! damage reported, the commit hook, and whatever bytes a crash leaves. The journal's
//! contract is in the shared suite (`crate::suite::journal`).

use super::*;
use proptest::prelude::*;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;

fn open(dir: &Path, segment_bytes: u64) -> SegmentJournal {
    SegmentJournal::open(
        dir,
        JournalConfig {
            segment_bytes,
            fsync: true,
        },
        Box::new(NoHook),
    )
    .unwrap()
}

fn read_all(j: &SegmentJournal) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut cur = 0;
    loop {
        let (batch, next) = j.read_from(cur, 1 << 20).unwrap();
        if batch.is_empty() && next == cur {
            return out;
        }
        out.extend(batch);
        cur = next;
    }
}

#[test]
fn append_read_and_reopen() {
    let d = tempfile::tempdir().unwrap();
    let j = open(d.path(), 1 << 20);
    let offs = j
        .append(vec![b"one".to_vec(), b"two".to_vec()])
        .wait_blocking()
        .unwrap();
    assert_eq!(offs, vec![0, 11]);
    assert_eq!(j.read_at(11).unwrap(), b"two");
    drop(j);
    let j = open(d.path(), 1 << 20);
    assert_eq!(j.head(), 22);
    let offs = j.append(vec![b"three".to_vec()]).wait_blocking().unwrap();
    assert_eq!(offs, vec![22]);
    let all: Vec<Vec<u8>> = read_all(&j).into_iter().map(|(_, p)| p).collect();
    assert_eq!(
        all,
        vec![b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
    );
}

#[test]
fn segments_roll_and_reads_cross_them() {
    let d = tempfile::tempdir().unwrap();
    let j = open(d.path(), 64);
    for i in 0..50u32 {
        j.append(vec![format!("entry-{i:04}").into_bytes()])
            .wait_blocking()
            .unwrap();
    }
    assert!(segments::list(d.path()).unwrap().len() > 5);
    let all = read_all(&j);
    assert_eq!(all.len(), 50);
    for (i, (off, p)) in all.iter().enumerate() {
        assert_eq!(p, format!("entry-{i:04}").as_bytes());
        assert_eq!(&j.read_at(*off).unwrap(), p);
    }
    drop(j);
    let j = open(d.path(), 64);
    assert_eq!(read_all(&j).len(), 50);
}

#[test]
fn torn_tail_is_cut_and_writing_continues() {
    let d = tempfile::tempdir().unwrap();
    let j = open(d.path(), 1 << 20);
    j.append(vec![b"kept".to_vec()]).wait_blocking().unwrap();
    let head = j.head();
    drop(j);
    // A crash in the middle of the next frame: a header and half a payload.
    let path = segments::segment_path(d.path(), 0);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(&[20, 0, 0, 0, 1, 2, 3, 4, b'x', b'y']).unwrap();
    drop(f);
    let j = open(d.path(), 1 << 20);
    assert_eq!(j.head(), head);
    j.append(vec![b"after".to_vec()]).wait_blocking().unwrap();
    let all: Vec<Vec<u8>> = read_all(&j).into_iter().map(|(_, p)| p).collect();
    assert_eq!(all, vec![b"kept".to_vec(), b"after".to_vec()]);
}

#[test]
fn damage_before_valid_entries_is_reported_not_dropped() {
    let d = tempfile::tempdir().unwrap();
    let j = open(d.path(), 1 << 20);
    j.append(vec![b"first".to_vec(), b"second".to_vec()])
        .wait_blocking()
        .unwrap();
    drop(j);
    let path = segments::segment_path(d.path(), 0);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[9] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    let err = SegmentJournal::open(d.path(), JournalConfig::default(), Box::new(NoHook))
        .err()
        .expect("corruption must be reported");
    assert!(
        matches!(err, StoreError::Corrupt { offset: 0, .. }),
        "{err}"
    );
}

struct CountingHook(Arc<AtomicUsize>);
impl CommitHook for CountingHook {
    fn committed(&mut self, entries: Vec<(u64, Vec<u8>)>, _end: u64) {
        self.0.fetch_add(entries.len(), Ordering::SeqCst);
    }
}

#[test]
fn the_hook_sees_every_acknowledged_entry_once() {
    let d = tempfile::tempdir().unwrap();
    let n = Arc::new(AtomicUsize::new(0));
    let j = SegmentJournal::open(
        d.path(),
        JournalConfig::default(),
        Box::new(CountingHook(Arc::clone(&n))),
    )
    .unwrap();
    for _ in 0..10 {
        j.append(vec![vec![1; 10], vec![2; 10]])
            .wait_blocking()
            .unwrap();
    }
    drop(j);
    assert_eq!(n.load(Ordering::SeqCst), 20);
}

/// A hook slower than the writer: it sees every entry once, in journal order, with the head
/// after them, and batches that became durable while it worked arrive together.
struct SlowHook {
    seen: Arc<Mutex<Vec<(u64, u64)>>>,
}
impl CommitHook for SlowHook {
    fn committed(&mut self, entries: Vec<(u64, Vec<u8>)>, end: u64) {
        std::thread::sleep(std::time::Duration::from_millis(5));
        let mut seen = self.seen.lock().unwrap();
        for (off, _) in &entries {
            seen.push((*off, end));
        }
    }
}

#[test]
fn a_slow_hook_sees_every_entry_once_and_in_order() {
    let d = tempfile::tempdir().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let j = SegmentJournal::open(
        d.path(),
        JournalConfig::default(),
        Box::new(SlowHook {
            seen: Arc::clone(&seen),
        }),
    )
    .unwrap();
    let answered: Vec<u64> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..16)
            .map(|i| {
                let j = &j;
                s.spawn(move || {
                    let mut mine = Vec::new();
                    for k in 0..20u8 {
                        let off = j.append(vec![vec![i, k]]).wait_blocking().unwrap()[0];
                        mine.push(off);
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let head = j.head();
    // Closing the journal waits for the hook to see what was handed to it.
    drop(j);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 16 * 20);
    let offsets: Vec<u64> = seen.iter().map(|(o, _)| *o).collect();
    let mut sorted = offsets.clone();
    sorted.sort_unstable();
    assert_eq!(offsets, sorted, "the hook saw entries out of journal order");
    let mut answered = answered;
    answered.sort_unstable();
    assert_eq!(answered, sorted);
    // Each batch's end is past all of its entries and never moves back.
    assert!(seen.iter().all(|(o, end)| end > o));
    assert!(seen.windows(2).all(|w| w[0].1 <= w[1].1));
    // Fewer hook calls than commits would show gathering, but it depends on timing: what
    // matters (and is checked) is that nothing was lost, repeated or reordered.
    assert_eq!(head, seen.last().unwrap().1);
}

#[test]
fn closing_a_journal_with_a_hook_finishes_and_returns() {
    let d = tempfile::tempdir().unwrap();
    let n = Arc::new(AtomicUsize::new(0));
    let j = SegmentJournal::open(
        d.path(),
        JournalConfig::default(),
        Box::new(CountingHook(Arc::clone(&n))),
    )
    .unwrap();
    let pending: Vec<_> = (0..50).map(|i| j.append(vec![vec![i]])).collect();
    drop(j);
    // Everything handed over before the close was written, shown to the hook and answered.
    for p in pending {
        p.wait_blocking().unwrap();
    }
    assert_eq!(n.load(Ordering::SeqCst), 50);
}

#[test]
fn purge_keeps_what_consumers_need() {
    let d = tempfile::tempdir().unwrap();
    let j = open(d.path(), 32);
    for _ in 0..20 {
        j.append(vec![vec![7; 20]]).wait_blocking().unwrap();
    }
    let before = segments::list(d.path()).unwrap().len();
    let future = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
    assert_eq!(j.purge(0, future).unwrap(), 0);
    let cursor = j.head();
    let removed = j.purge(cursor, future).unwrap();
    assert_eq!(removed, before - 1, "all but the active segment go");
    assert!(read_all(&j).is_empty() || j.read_from(0, 1 << 20).is_ok());
    j.append(vec![b"new".to_vec()]).wait_blocking().unwrap();
    assert_eq!(j.read_at(cursor).unwrap(), b"new");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Whatever bytes a crash or a disk leaves after valid entries, opening never panics and
    /// either recovers every entry written before them or reports corruption.
    #[test]
    fn recovery_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..200)) {
        let d = tempfile::tempdir().unwrap();
        let j = open(d.path(), 1 << 20);
        j.append(vec![b"a".to_vec(), b"bb".to_vec()]).wait_blocking().unwrap();
        drop(j);
        let path = segments::segment_path(d.path(), 0);
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&tail).unwrap();
        drop(f);
        if let Ok(j) = SegmentJournal::open(d.path(), JournalConfig::default(), Box::new(NoHook)) {
            let all = read_all(&j);
            prop_assert!(all.len() >= 2);
            prop_assert_eq!(&all[0].1, b"a");
            prop_assert_eq!(&all[1].1, b"bb");
        }
    }

    #[test]
    fn reads_at_arbitrary_offsets_never_panic(off in 0u64..200) {
        let d = tempfile::tempdir().unwrap();
        let j = open(d.path(), 1 << 20);
        j.append(vec![b"abc".to_vec(); 5]).wait_blocking().unwrap();
        let _ = j.read_at(off);
        let _ = j.read_from(off, 64);
    }
}
