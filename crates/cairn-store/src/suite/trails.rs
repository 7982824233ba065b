//! The trail store's contract: trails by ARN and account, tags, status, delivery plans that
//! move with the delivery cursor, signing keys by validity, and digest state whose every step
//! is atomic.

use super::{Backend, cases};
use crate::trails::digests::{DecidedDigest, DigestChain, DigestFile, DigestPlan, PreviousDigest};
use crate::trails::{CwlState, DeliveryPlan, Notice, NotifyStatus, StoredKey, Trail, TrailStatus};

cases!(
    trails_tags_and_status,
    plans_and_cursor_move_together,
    a_digest_decision_is_atomic,
    signing_keys_are_found_by_validity,
    trails_survive_a_restart,
    cwl_state_is_kept_per_trail,
    notices_are_queued_with_the_written_mark,
);

fn trail(name: &str, region: &str) -> Trail {
    Trail {
        arn: format!("arn:aws:cloudtrail:{region}:111122223333:trail/{name}"),
        account: "111122223333".into(),
        home_region: region.into(),
        name: name.into(),
        s3_bucket: "b".into(),
        include_global_events: true,
        created_ms: 1,
        ..Trail::default()
    }
}

pub fn trails_tags_and_status(b: &dyn Backend) {
    let s = b.trails();
    let t = trail("t1", "us-east-1");
    s.put(&t).unwrap();
    s.put(&trail("t0", "eu-west-1")).unwrap();
    assert_eq!(s.get(&t.arn).unwrap().unwrap(), t);
    assert_eq!(
        s.list("111122223333")
            .unwrap()
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        vec!["t0", "t1"]
    );
    let mut u = t.clone();
    u.logging = true;
    u.start_logging_ms = Some(5);
    s.put(&u).unwrap();
    assert!(s.get(&t.arn).unwrap().unwrap().logging);
    s.add_tags(
        &t.arn,
        &[("a".into(), "1".into()), ("b".into(), "2".into())],
    )
    .unwrap();
    s.remove_tags(&t.arn, &["a".into()]).unwrap();
    assert_eq!(
        s.tags(&t.arn).unwrap(),
        vec![("b".to_owned(), "2".to_owned())]
    );
    let st = TrailStatus {
        latest_delivery_ms: Some(9),
        ..TrailStatus::default()
    };
    s.set_status(&t.arn, &st).unwrap();
    assert_eq!(s.status(&t.arn).unwrap(), st);
    assert!(s.delete(&t.arn).unwrap());
    assert!(!s.delete(&t.arn).unwrap());
    assert!(s.tags(&t.arn).unwrap().is_empty());
}

pub fn plans_and_cursor_move_together(b: &dyn Backend) {
    let s = b.trails();
    let mut t = trail("t1", "us-east-1");
    t.logging_ranges = vec![(0, Some(10)), (20, None)];
    s.put(&t).unwrap();
    assert_eq!(
        s.get(&t.arn).unwrap().unwrap().logging_ranges,
        t.logging_ranges
    );
    assert_eq!(s.delivery_cursor().unwrap(), 0);
    let p = DeliveryPlan {
        id: 0,
        trail_arn: t.arn.clone(),
        region: "us-east-1".into(),
        key: "k".into(),
        offsets: vec![1, 2, 300],
        created_ms: 5,
    };
    s.plan(std::slice::from_ref(&p), 400).unwrap();
    assert_eq!(s.delivery_cursor().unwrap(), 400);
    let pending = s.pending_plans().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].offsets, vec![1, 2, 300]);
    s.plan_done(pending[0].id).unwrap();
    assert!(s.pending_plans().unwrap().is_empty());
}

pub fn a_digest_decision_is_atomic(b: &dyn Backend) {
    let s = b.trails();
    let arn = "arn:aws:cloudtrail:us-east-1:111122223333:trail/t";
    let file = DigestFile {
        id: 0,
        trail_arn: arn.into(),
        region: "us-east-1".into(),
        range_from: 0,
        bucket: "b".into(),
        key: "k1".into(),
        sha256: "00".into(),
        oldest_event: Some("2024-01-01T00:00:00Z".into()),
        newest_event: None,
        planned_ms: 7,
    };
    s.plan(
        &[DeliveryPlan {
            id: 0,
            trail_arn: arn.into(),
            region: "us-east-1".into(),
            key: "k1".into(),
            offsets: vec![0],
            created_ms: 7,
        }],
        1,
    )
    .unwrap();
    let plan_id = s.pending_plans().unwrap()[0].id;
    s.plan_written(plan_id, Some(&file), None).unwrap();
    assert!(s.pending_plans().unwrap().is_empty());
    let files = s.digest_files(arn).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].key, "k1");
    assert_eq!(files[0].oldest_event, file.oldest_event);

    let chain = DigestChain {
        trail_arn: arn.into(),
        region: "us-east-1".into(),
        range_from: 0,
        period_start_ms: 1000,
        prev: None,
    };
    s.start_digest_chain(&chain).unwrap();
    assert_eq!(s.digest_chains(arn).unwrap(), vec![chain.clone()]);
    let next = DigestChain {
        period_start_ms: 2000,
        prev: Some(PreviousDigest {
            bucket: "b".into(),
            key: "d1".into(),
            hash: "h".into(),
            signature: "s".into(),
        }),
        ..chain.clone()
    };
    let plan = DigestPlan {
        id: 0,
        trail_arn: arn.into(),
        bucket: "b".into(),
        key: "d1".into(),
        body: b"{}".to_vec(),
        signature: "s".into(),
        backfill_generated: None,
    };
    s.decide_digest(&DecidedDigest {
        chain: &chain,
        next: Some(&next),
        covered: &[files[0].id],
        plan: &plan,
        end_ms: 2000,
    })
    .unwrap();
    assert_eq!(s.digest_chains(arn).unwrap(), vec![next]);
    assert!(s.digest_files(arn).unwrap().is_empty());
    assert_eq!(
        s.digest_last_end(arn, "us-east-1", false).unwrap(),
        Some(2000)
    );
    assert_eq!(s.digest_last_end(arn, "us-east-1", true).unwrap(), None);
    let pending = s.pending_digests().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].key, "d1");
    assert_eq!(
        s.digests_delivered(arn, "us-east-1").unwrap(),
        vec![(false, "b".to_owned(), "d1".to_owned(), 2000)]
    );
    s.digest_written(pending[0].id).unwrap();
    assert!(s.pending_digests().unwrap().is_empty());
    s.drop_digest_state(arn).unwrap();
    assert!(s.digest_chains(arn).unwrap().is_empty());
}

pub fn signing_keys_are_found_by_validity(b: &dyn Backend) {
    let s = b.trails();
    let k = |fp: &str, from, to| StoredKey {
        region: "us-east-1".into(),
        fingerprint: fp.into(),
        public_der: vec![1, 2, 3],
        private_sealed: vec![4, 5, 6],
        valid_from_ms: from,
        valid_to_ms: to,
    };
    s.add_signing_key(&k("b", 100, 200)).unwrap();
    s.add_signing_key(&k("a", 0, 100)).unwrap();
    let fps = |from, to| -> Vec<String> {
        s.signing_keys("us-east-1", from, to)
            .unwrap()
            .into_iter()
            .map(|k| k.fingerprint)
            .collect()
    };
    assert_eq!(fps(0, 300), ["a", "b"], "oldest first");
    assert_eq!(fps(150, 160), ["b"]);
    assert_eq!(fps(100, 100), ["a", "b"], "bounds are inclusive");
    assert!(fps(201, 300).is_empty());
    assert!(s.signing_keys("eu-west-1", 0, 300).unwrap().is_empty());
    assert_eq!(
        s.signing_keys("us-east-1", 0, 50).unwrap(),
        [k("a", 0, 100)]
    );
}

pub fn trails_survive_a_restart(b: &dyn Backend) {
    let s = b.trails();
    let t = trail("t1", "us-east-1");
    s.put(&t).unwrap();
    s.plan(&[], 42).unwrap();
    drop(s);
    b.restart();
    let s = b.trails();
    assert_eq!(s.get(&t.arn).unwrap(), Some(t));
    assert_eq!(s.all().unwrap().len(), 1);
    assert_eq!(s.delivery_cursor().unwrap(), 42);
}

pub fn cwl_state_is_kept_per_trail(b: &dyn Backend) {
    let s = b.trails();
    let t = trail("cw", "us-east-1");
    s.put(&t).unwrap();
    assert_eq!(s.cwl_state(&t.arn).unwrap(), None);
    let st = CwlState {
        cursor: 42,
        in_flight: true,
        latest_ms: Some(7),
        latest_error: Some("AccessDenied".into()),
        error_ms: Some(8),
    };
    s.set_cwl_state(&t.arn, &st).unwrap();
    assert_eq!(s.cwl_state(&t.arn).unwrap(), Some(st.clone()));
    let moved = CwlState {
        cursor: 99,
        in_flight: false,
        ..st
    };
    s.set_cwl_state(&t.arn, &moved).unwrap();
    assert_eq!(s.cwl_state(&t.arn).unwrap(), Some(moved));
    s.drop_cwl_state(&t.arn).unwrap();
    assert_eq!(s.cwl_state(&t.arn).unwrap(), None);
    // A deleted trail's state goes with it.
    s.set_cwl_state(&t.arn, &CwlState::default()).unwrap();
    s.delete(&t.arn).unwrap();
    assert_eq!(s.cwl_state(&t.arn).unwrap(), None);
}

pub fn notices_are_queued_with_the_written_mark(b: &dyn Backend) {
    let s = b.trails();
    let t = trail("sns", "us-east-1");
    s.put(&t).unwrap();
    let plan = |key: &str| DeliveryPlan {
        id: 0,
        trail_arn: t.arn.clone(),
        region: "us-east-1".into(),
        key: key.into(),
        offsets: vec![0],
        created_ms: 7,
    };
    s.plan(&[plan("k1"), plan("k2")], 1).unwrap();
    let ids: Vec<i64> = s.pending_plans().unwrap().iter().map(|p| p.id).collect();
    let notice = |key: &str| Notice {
        id: 0,
        trail_arn: t.arn.clone(),
        bucket: "b".into(),
        key: key.into(),
        created_ms: 8,
    };
    s.plan_written(ids[0], None, Some(&notice("k1"))).unwrap();
    s.plan_written(ids[1], None, Some(&notice("k2"))).unwrap();
    assert!(s.pending_plans().unwrap().is_empty());
    // Queued in order, and kept across a restart until sent.
    b.restart();
    let s = b.trails();
    let pending = s.pending_notices().unwrap();
    assert_eq!(
        pending.iter().map(|n| n.key.as_str()).collect::<Vec<_>>(),
        vec!["k1", "k2"]
    );
    assert_eq!(pending[0].bucket, "b");
    s.notices_done(&[pending[0].id]).unwrap();
    assert_eq!(s.pending_notices().unwrap().len(), 1);

    assert_eq!(s.notify_status(&t.arn).unwrap(), NotifyStatus::default());
    let st = NotifyStatus {
        latest_ms: Some(5),
        attempt_ms: Some(9),
        latest_error: Some("NotFound".into()),
    };
    s.set_notify_status(&t.arn, &st).unwrap();
    assert_eq!(s.notify_status(&t.arn).unwrap(), st);
    // A deleted trail's notices and status go with it.
    s.delete(&t.arn).unwrap();
    assert!(s.pending_notices().unwrap().is_empty());
    assert_eq!(s.notify_status(&t.arn).unwrap(), NotifyStatus::default());
}
