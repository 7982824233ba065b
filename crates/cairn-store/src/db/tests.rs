use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::Duration;

use super::*;

const SCHEMA: &str = "PRAGMA journal_mode = WAL; CREATE TABLE IF NOT EXISTS t (v TEXT NOT NULL);";

fn open() -> (tempfile::TempDir, Arc<Db>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(&dir.path().join("t.db"), SCHEMA).expect("open");
    (dir, Arc::new(db))
}

fn insert(db: &Db, v: &str) {
    db.write()
        .expect("write")
        .execute("INSERT INTO t (v) VALUES (?1)", [v])
        .expect("insert");
}

fn values(db: &Db) -> Vec<String> {
    let c = db.read();
    let mut st = c.prepare("SELECT v FROM t ORDER BY v").expect("prepare");
    st.query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn outside_a_call_writes_commit_at_once() {
    let (_d, db) = open();
    insert(&db, "a");
    assert_eq!(values(&db), ["a"]);
    let g = db.generation();
    db.changed();
    assert_eq!(db.generation(), g + 1);
}

#[test]
fn a_calls_writes_are_invisible_to_others_until_its_record_is_durable() {
    let (_d, db) = open();
    let entered = enter();
    insert(&db, "a");
    db.changed();
    assert!(db.uncommitted_here());
    // The call sees its own write; another thread does not.
    assert_eq!(values(&db), ["a"]);
    let db2 = Arc::clone(&db);
    assert!(
        thread::spawn(move || values(&db2))
            .join()
            .expect("join")
            .is_empty()
    );
    let g = db.generation();
    let scope = entered.leave();
    assert!(!scope.is_empty());
    assert!(!db.uncommitted_here());
    assert_eq!(db.generation(), g, "the generation moves on only at commit");
    scope.finish(true).expect("committed");
    assert_eq!(values(&db), ["a"]);
    assert_eq!(db.generation(), g + 1);
}

#[test]
fn a_call_whose_record_failed_leaves_no_trace() {
    let (_d, db) = open();
    insert(&db, "before");
    let rolled_back = Arc::new(AtomicBool::new(false));
    let committed = Arc::new(AtomicBool::new(false));
    let entered = enter();
    insert(&db, "refused");
    let (r, c) = (Arc::clone(&rolled_back), Arc::clone(&committed));
    db.after_rollback(move || r.store(true, Ordering::SeqCst));
    db.after_commit(move || c.store(true, Ordering::SeqCst));
    let err = entered.leave().finish(false).expect_err("rolled back");
    assert!(matches!(err, StoreError::RolledBack(_)), "{err}");
    assert!(rolled_back.load(Ordering::SeqCst));
    assert!(!committed.load(Ordering::SeqCst));
    assert_eq!(values(&db), ["before"]);
    // The database takes writes again afterwards.
    insert(&db, "after");
    assert_eq!(values(&db), ["after", "before"]);
}

#[test]
fn a_call_that_wrote_nothing_has_nothing_to_finish() {
    let (_d, db) = open();
    insert(&db, "a");
    let entered = enter();
    assert_eq!(values(&db), ["a"]);
    let scope = entered.leave();
    assert!(scope.is_empty());
    scope.finish(false).expect("nothing to roll back");
    assert_eq!(values(&db), ["a"]);
}

#[test]
fn calls_in_one_group_share_its_outcome() {
    let (_d, db) = open();
    let both_wrote = Arc::new(Barrier::new(2));
    let call = |v: &'static str, recorded: bool| {
        let (db, both_wrote) = (Arc::clone(&db), Arc::clone(&both_wrote));
        thread::spawn(move || {
            let entered = enter();
            insert(&db, v);
            let scope = entered.leave();
            both_wrote.wait();
            scope.finish(recorded)
        })
    };
    let ok = call("recorded", true);
    let refused = call("unrecorded", false);
    assert!(refused.join().expect("join").is_err());
    assert!(
        ok.join().expect("join").is_err(),
        "a member of a rolled-back group must be refused too"
    );
    assert!(values(&db).is_empty());

    let a = call("a", true);
    let b = call("b", true);
    a.join().expect("join").expect("a committed");
    b.join().expect("join").expect("b committed");
    assert_eq!(values(&db), ["a", "b"]);
}

#[test]
fn writes_outside_a_call_wait_for_an_open_group() {
    let (_d, db) = open();
    let entered = enter();
    insert(&db, "call");
    let (tx, rx) = mpsc::channel();
    let db2 = Arc::clone(&db);
    let outside = thread::spawn(move || {
        insert(&db2, "outside");
        tx.send(()).expect("send");
    });
    assert!(
        rx.recv_timeout(Duration::from_millis(100)).is_err(),
        "an outside write must not land in an open group"
    );
    entered.leave().finish(false).expect_err("rolled back");
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the outside write goes ahead once the group ends");
    outside.join().expect("join");
    assert_eq!(values(&db), ["outside"]);
}

#[test]
fn a_call_inside_a_call_shares_its_scope() {
    let (_d, db) = open();
    let outer = enter();
    let inner = enter();
    insert(&db, "inner");
    assert!(inner.leave().is_empty(), "the outer call finishes for both");
    assert!(db.uncommitted_here());
    outer.leave().finish(false).expect_err("rolled back");
    assert!(values(&db).is_empty());
}

#[test]
fn a_call_that_panics_is_rolled_back() {
    let (_d, db) = open();
    let db2 = Arc::clone(&db);
    let panicked = thread::spawn(move || {
        let _entered = enter();
        insert(&db2, "lost");
        panic!("the handler failed");
    })
    .join();
    assert!(panicked.is_err());
    assert!(values(&db).is_empty());
    insert(&db, "next");
    assert_eq!(values(&db), ["next"]);
}

#[test]
fn calls_writing_two_databases_in_opposite_orders_do_not_deadlock() {
    let (_d1, x) = open();
    let (_d2, y) = open();
    let mut threads = Vec::new();
    for i in 0..8 {
        let (x, y) = (Arc::clone(&x), Arc::clone(&y));
        threads.push(thread::spawn(move || {
            for n in 0..50 {
                let entered = enter();
                let (first, second) = if (i + n) % 2 == 0 { (&x, &y) } else { (&y, &x) };
                insert(first, "1");
                insert(second, "2");
                entered.leave().finish(true).expect("committed");
            }
        }));
    }
    for t in threads {
        t.join().expect("join");
    }
    assert_eq!(values(&x).len(), 400);
    assert_eq!(values(&y).len(), 400);
}

fn insert_synced(db: &Db, v: &str) {
    let mut w = db.write().expect("write");
    w.execute("INSERT INTO t (v) VALUES (?1)", [v])
        .expect("insert");
    w.sync_at_commit().expect("sync");
}

#[test]
fn writes_that_must_survive_a_power_loss_commit_and_roll_back_like_others() {
    let (d, db) = open();
    // Outside a call: committed at once, and the log synced.
    insert_synced(&db, "a");
    assert!(d.path().join("t.db-wal").exists());
    // Inside a call whose record is durable: committed with its group, then the log synced.
    let entered = enter();
    insert_synced(&db, "b");
    entered.leave().finish(true).expect("committed");
    // Inside a call whose record failed: rolled back, nothing synced in its name.
    let entered = enter();
    insert_synced(&db, "c");
    assert!(entered.leave().finish(false).is_err());
    assert_eq!(values(&db), ["a", "b"]);
    // The log being gone (checkpointed away) is not an error.
    drop(db);
    let _ = std::fs::remove_file(d.path().join("t.db-wal"));
    assert!(sync_file(&d.path().join("t.db-wal")).is_ok());
}
