//! Audit fails closed, store by store: a call's writes commit only once its record is durable
//! (`CallScope::finish(true)`), a refused call (`finish(false)`) leaves no trace in any store,
//! others never see a call's writes before they commit, and the identity generation that
//! caches follow moves at commit, not before.
//!
//! A call is entered with [`crate::db::enter`], as the pipeline does around a handler.

use std::sync::Arc;

use super::{Backend, cases};
use crate::db::enter;
use crate::error::StoreError;
use crate::kms::Key;
use crate::logs::{GroupKey, LogGroup};
use crate::objects::{NewObject, ObjectsError};
use crate::sqs::{NewMessage, Queue, QueueKey, Receive};
use crate::trails::Trail;

cases!(
    a_refused_call_leaves_no_trace_in_any_store,
    a_recorded_calls_writes_are_seen_by_others_only_once_committed,
    a_refused_overwrite_keeps_the_old_object,
    writes_outside_a_call_commit_at_once,
    a_refused_send_leaves_no_message,
);

const ACCT: &str = "111122223333";

fn kms_key(id: &str) -> Key {
    Key {
        key_id: id.into(),
        account: ACCT.into(),
        region: "us-east-1".into(),
        description: String::new(),
        key_usage: "ENCRYPT_DECRYPT".into(),
        key_spec: "SYMMETRIC_DEFAULT".into(),
        state: "Enabled".into(),
        policy: "{}".into(),
        created_ms: 1,
        deletion_ms: None,
        pending_days: None,
    }
}

fn trail(name: &str) -> Trail {
    Trail {
        arn: format!("arn:aws:cloudtrail:us-east-1:{ACCT}:trail/{name}"),
        account: ACCT.into(),
        home_region: "us-east-1".into(),
        name: name.into(),
        s3_bucket: "b".into(),
        ..Trail::default()
    }
}

/// Runs `f` on another thread: what a concurrent caller sees.
fn elsewhere<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f).join().unwrap()
}

pub fn a_refused_call_leaves_no_trace_in_any_store(b: &dyn Backend) {
    let (identity, kms, trails, objects) = (b.identity(), b.kms(), b.trails(), b.objects());
    let (acct, _) = identity.create_account(1).unwrap();
    objects.create_bucket("b", ACCT, "us-east-1", 1).unwrap();
    let g = identity.generation();

    let call = enter();
    identity
        .create_user(&acct.id, "refused", "/", &vec![], 2)
        .unwrap();
    kms.create(&kms_key("k1"), &[1; 32]).unwrap();
    let logs = b.logs();
    let group = GroupKey::new(ACCT, "us-east-1", "refused");
    logs.create_group(&LogGroup {
        key: group.clone(),
        created_ms: 2,
        retention_days: None,
        tags: Default::default(),
    })
    .unwrap();
    trails.put(&trail("t1")).unwrap();
    objects
        .put_object("b", "k", b"body", &NewObject::default(), 2)
        .unwrap();
    objects.create_bucket("b2", ACCT, "us-east-1", 2).unwrap();
    let scope = call.leave();
    assert_eq!(identity.generation(), g, "nothing moves before the outcome");
    let err = scope.finish(false).unwrap_err();
    assert!(matches!(err, StoreError::RolledBack(_)), "{err}");

    assert!(identity.user(&acct.id, "refused").is_err());
    // A rolled-back change may still move the generation on (a conservative invalidation).
    assert!(identity.generation() >= g);
    assert!(kms.get("k1").unwrap().is_none());
    assert!(logs.group(&group).unwrap().is_none());
    drop(logs);
    assert!(trails.get(&trail("t1").arn).unwrap().is_none());
    assert!(matches!(
        objects.head_object("b", "k", None),
        Err(ObjectsError::NoSuchKey)
    ));
    assert!(objects.bucket("b2").unwrap().is_none());
    // And not after a restart either.
    drop((identity, kms, trails, objects));
    b.restart();
    assert!(b.identity().user(&acct.id, "refused").is_err());
    assert!(b.kms().get("k1").unwrap().is_none());
    assert!(b.logs().group(&group).unwrap().is_none());
    assert!(b.objects().head_object("b", "k", None).is_err());
    // The stores take writes again.
    b.kms().create(&kms_key("k2"), &[2; 32]).unwrap();
    assert!(b.kms().get("k2").unwrap().is_some());
}

pub fn a_recorded_calls_writes_are_seen_by_others_only_once_committed(b: &dyn Backend) {
    let (identity, kms) = (b.identity(), b.kms());
    let (acct, _) = identity.create_account(1).unwrap();
    let g = identity.generation();

    let call = enter();
    identity
        .create_user(&acct.id, "alice", "/", &vec![], 2)
        .unwrap();
    kms.create(&kms_key("k1"), &[1; 32]).unwrap();
    // The call sees its own writes; nothing it reads may be cached for others.
    assert!(identity.user(&acct.id, "alice").is_ok());
    assert!(kms.get("k1").unwrap().is_some());
    assert_eq!(identity.cache_generation(), None);
    // Others do not see them yet.
    let (i2, a2) = (Arc::clone(&identity), acct.id.clone());
    assert!(elsewhere(move || i2.user(&a2, "alice").is_err()));
    let k2 = Arc::clone(&kms);
    assert!(elsewhere(move || k2.get("k1").unwrap().is_none()));

    let scope = call.leave();
    assert_eq!(
        identity.generation(),
        g,
        "the generation moves only at commit"
    );
    scope.finish(true).unwrap();
    assert!(identity.generation() > g);
    let (i2, a2) = (Arc::clone(&identity), acct.id.clone());
    assert!(elsewhere(move || i2.user(&a2, "alice").is_ok()));
    let k2 = Arc::clone(&kms);
    assert!(elsewhere(move || k2.get("k1").unwrap().is_some()));
    assert_eq!(identity.cache_generation(), Some(identity.generation()));
}

pub fn a_refused_overwrite_keeps_the_old_object(b: &dyn Backend) {
    let objects = b.objects();
    objects.create_bucket("b", ACCT, "us-east-1", 1).unwrap();
    objects
        .put_object("b", "k", b"first", &NewObject::default(), 1)
        .unwrap();
    let call = enter();
    objects
        .put_object("b", "k", b"second", &NewObject::default(), 2)
        .unwrap();
    objects.delete_object("b", "k", 3).unwrap();
    assert!(call.leave().finish(false).is_err());
    let v = objects.head_object("b", "k", None).unwrap();
    assert_eq!(objects.read_body(&v, None).unwrap(), b"first");
}

pub fn writes_outside_a_call_commit_at_once(b: &dyn Backend) {
    let (identity, trails) = (b.identity(), b.trails());
    let g = identity.generation();
    let (acct, _) = identity.create_account(1).unwrap();
    assert!(identity.generation() > g);
    trails.put(&trail("t1")).unwrap();
    let (i2, t2, id) = (Arc::clone(&identity), Arc::clone(&trails), acct.id.clone());
    assert!(elsewhere(move || {
        i2.account(&id).unwrap().is_some() && t2.get(&trail("t1").arn).unwrap().is_some()
    }));
}

pub fn a_refused_send_leaves_no_message(b: &dyn Backend) {
    let sqs = b.sqs();
    let key = QueueKey::new(ACCT, "us-east-1", "q");
    sqs.create_queue(&Queue {
        key: key.clone(),
        created_ms: 1,
        modified_ms: 1,
        attributes: Default::default(),
        tags: Default::default(),
        purged_ms: None,
    })
    .unwrap();
    let generation = sqs.generation();
    let call = enter();
    sqs.send(
        &key,
        &[NewMessage {
            id: "m".into(),
            body: "b".into(),
            attributes: "{}".into(),
            md5_body: String::new(),
            sender_id: ACCT.into(),
            sent_ms: 1,
            visible_ms: 1,
        }],
    )
    .unwrap();
    assert!(call.leave().finish(false).is_err());
    let receipt = |_: &crate::sqs::Message| String::from("r");
    let got = sqs
        .receive(
            &key,
            &Receive {
                now_ms: 10,
                oldest_ms: 0,
                max: 10,
                visible_until_ms: 40,
                receipt: &receipt,
                dead_letter: None,
            },
        )
        .unwrap();
    assert!(got.is_empty(), "the refused send left no message");
    assert!(sqs.generation() >= generation);
}
