//! What several nodes on one trail database need beyond the shared suite: lists kept on each
//! node yet current with every node's changes, and digest chains that two nodes' decisions
//! cannot fork.

#![allow(clippy::unwrap_used)]

use super::PgTrails;
use crate::suite::pg::TestPostgres;
use crate::trails::Trail;
use crate::trails::digests::{BACKFILL, DecidedDigest, DigestChain, DigestPlan, PreviousDigest};

const ARN: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/t";

fn trail(name: &str) -> Trail {
    Trail {
        arn: format!("arn:aws:cloudtrail:us-east-1:111122223333:trail/{name}"),
        account: "111122223333".into(),
        home_region: "us-east-1".into(),
        name: name.into(),
        s3_bucket: "b".into(),
        created_ms: 1,
        ..Trail::default()
    }
}

fn chain(range_from: i64, start: i64, prev: Option<&str>) -> DigestChain {
    DigestChain {
        trail_arn: ARN.into(),
        region: "us-east-1".into(),
        range_from,
        period_start_ms: start,
        prev: prev.map(|k| PreviousDigest {
            bucket: "b".into(),
            key: k.into(),
            hash: format!("hash of {k}"),
            signature: format!("signature of {k}"),
        }),
    }
}

fn plan(key: &str) -> DigestPlan {
    DigestPlan {
        id: 0,
        trail_arn: ARN.into(),
        bucket: "b".into(),
        key: key.into(),
        body: b"{}".to_vec(),
        signature: format!("signature of {key}"),
        backfill_generated: None,
    }
}

fn decide(
    s: &PgTrails,
    from: &DigestChain,
    key: &str,
    end_ms: i64,
) -> Result<(), crate::error::StoreError> {
    let next = DigestChain {
        period_start_ms: end_ms,
        ..chain(from.range_from, end_ms, Some(key))
    };
    s.decide_digest(&DecidedDigest {
        chain: from,
        next: Some(&next),
        covered: &[],
        plan: &plan(key),
        end_ms,
    })
}

fn two_nodes(schema: &str) -> (TestPostgres, PgTrails, PgTrails) {
    let server = TestPostgres::start();
    let a = PgTrails::open(&server.url(), schema).unwrap();
    let b = PgTrails::open(&server.url(), schema).unwrap();
    (server, a, b)
}

#[test]
fn a_trail_put_on_one_node_is_listed_by_the_other() {
    let (_server, a, b) = two_nodes("trails_lists");
    assert!(b.list("111122223333").unwrap().is_empty());
    a.put(&trail("t1")).unwrap();
    assert_eq!(b.list("111122223333").unwrap().len(), 1);
    a.delete(&trail("t1").arn).unwrap();
    assert!(b.list("111122223333").unwrap().is_empty());
}

#[test]
fn a_list_kept_on_one_node_follows_every_change_made_on_another_at_once() {
    let (_server, a, b) = two_nodes("trails_kept");
    a.put(&trail("t1")).unwrap();
    // b reads the list (and keeps it), then a changes the trail, adds one, deletes one.
    assert_eq!(b.list("111122223333").unwrap(), vec![trail("t1")]);
    assert_eq!(b.list("111122223333").unwrap(), vec![trail("t1")]);
    let logging = Trail {
        logging: true,
        start_logging_ms: Some(5),
        ..trail("t1")
    };
    a.put(&logging).unwrap();
    assert_eq!(b.list("111122223333").unwrap(), vec![logging.clone()]);
    a.put(&trail("t2")).unwrap();
    assert_eq!(
        b.list("111122223333").unwrap(),
        vec![logging.clone(), trail("t2")]
    );
    a.delete(&logging.arn).unwrap();
    assert_eq!(b.list("111122223333").unwrap(), vec![trail("t2")]);

    // Inside a call, b sees its own uncommitted trail and keeps nothing of it; a does not
    // see it; rolled back, it is gone for b too.
    let call = crate::db::enter();
    b.put(&trail("t3")).unwrap();
    assert_eq!(b.list("111122223333").unwrap().len(), 2);
    let mid = std::thread::scope(|s| s.spawn(|| a.list("111122223333").unwrap()).join().unwrap());
    assert_eq!(mid, vec![trail("t2")]);
    call.leave().finish(false).unwrap_err();
    assert_eq!(b.list("111122223333").unwrap(), vec![trail("t2")]);
    assert_eq!(a.list("111122223333").unwrap(), vec![trail("t2")]);
}

#[test]
fn a_decision_from_a_chain_that_moved_on_is_refused() {
    let (_server, a, b) = two_nodes("trails_chains");
    let start = chain(0, 1000, None);
    a.start_digest_chain(&start).unwrap();
    // Both nodes read the chain; one decides first.
    decide(&a, &start, "d1", 2000).unwrap();
    assert!(decide(&b, &start, "d1-again", 2000).is_err());
    assert_eq!(
        a.digest_chains(ARN).unwrap(),
        vec![chain(0, 2000, Some("d1"))]
    );
    assert_eq!(
        a.pending_digests()
            .unwrap()
            .iter()
            .map(|p| p.key.as_str())
            .collect::<Vec<_>>(),
        ["d1"],
        "the refused decision left nothing behind"
    );
    // The chain as it now stands goes on, from either node.
    decide(&b, &chain(0, 2000, Some("d1")), "d2", 3000).unwrap();
    assert_eq!(
        a.digest_chains(ARN).unwrap(),
        vec![chain(0, 3000, Some("d2"))]
    );
}

#[test]
fn a_new_backfill_chain_is_started_once() {
    let (_server, a, b) = two_nodes("trails_backfill");
    // Never stored: a backfill chain's first digest is decided from nothing.
    let fresh = chain(BACKFILL, 500, None);
    decide(&a, &fresh, "b1", 1000).unwrap();
    assert!(decide(&b, &fresh, "b1-again", 1000).is_err());
    assert_eq!(
        a.digest_chains(ARN).unwrap(),
        vec![chain(BACKFILL, 1000, Some("b1"))]
    );
    assert_eq!(
        a.digest_last_end(ARN, "us-east-1", true).unwrap(),
        Some(1000)
    );
}

#[test]
fn a_decision_after_the_chain_was_dropped_is_refused() {
    let (_server, a, b) = two_nodes("trails_dropped");
    let start = chain(0, 1000, None);
    a.start_digest_chain(&start).unwrap();
    decide(&a, &start, "d1", 2000).unwrap();
    b.drop_digest_state(ARN).unwrap();
    assert!(decide(&a, &chain(0, 2000, Some("d1")), "d2", 3000).is_err());
    assert!(a.digest_chains(ARN).unwrap().is_empty());
}

/// A kept list is answered without reading the rows while the generation stays (which is why
/// every change to a trail moves it), and read again once it moves.
#[test]
fn a_kept_list_is_answered_until_the_generation_moves() {
    let (server, a, _b) = two_nodes("trails_kept_gen");
    a.put(&trail("t1")).unwrap();
    assert_eq!(a.list("111122223333").unwrap(), vec![trail("t1")]);
    let mut c = postgres::Client::connect(&server.url(), postgres::NoTls).unwrap();
    c.batch_execute("SET search_path TO trails_kept_gen; DELETE FROM trails")
        .unwrap();
    assert_eq!(a.list("111122223333").unwrap(), vec![trail("t1")]);
    c.batch_execute("UPDATE trails_generation SET value = value + 1 WHERE id = 1")
        .unwrap();
    assert!(a.list("111122223333").unwrap().is_empty());
}
