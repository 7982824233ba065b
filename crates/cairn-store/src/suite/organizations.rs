//! The Organizations store's contract: documents kept whole, the index of which accounts
//! belong to which organization (replaced on each write), deletion, reading for a change
//! inside a call (its own uncommitted writes seen, nothing seen by others before the call's
//! outcome), and the generation caches follow.

use std::sync::Arc;

use super::{Backend, cases};
use crate::db::enter;

cases!(
    documents_round_trip_with_their_members,
    a_write_replaces_the_member_index,
    deleting_an_organization_frees_its_accounts,
    a_change_is_seen_by_others_only_once_committed,
    a_refused_change_leaves_no_trace,
);

pub fn documents_round_trip_with_their_members(b: &dyn Backend) {
    let s = b.organizations();
    assert!(s.get("o-1").unwrap().is_none());
    assert!(s.org_of("111111111111").unwrap().is_none());
    s.put(
        "o-1",
        r#"{"v":1}"#,
        &["111111111111".into(), "222222222222".into()],
    )
    .unwrap();
    assert_eq!(s.get("o-1").unwrap().as_deref(), Some(r#"{"v":1}"#));
    assert_eq!(
        s.get_for_update("o-1").unwrap().as_deref(),
        Some(r#"{"v":1}"#)
    );
    assert_eq!(s.org_of("222222222222").unwrap().as_deref(), Some("o-1"));
    s.put("o-2", r#"{"v":2}"#, &["333333333333".into()])
        .unwrap();
    assert_eq!(s.org_of("333333333333").unwrap().as_deref(), Some("o-2"));
    assert_eq!(s.org_of("111111111111").unwrap().as_deref(), Some("o-1"));
    assert_eq!(s.ids().unwrap(), ["o-1", "o-2"]);
    // And after a restart.
    drop(s);
    b.restart();
    let s = b.organizations();
    assert_eq!(s.get("o-2").unwrap().as_deref(), Some(r#"{"v":2}"#));
    assert_eq!(s.org_of("111111111111").unwrap().as_deref(), Some("o-1"));
    assert_eq!(s.ids().unwrap(), ["o-1", "o-2"]);
}

pub fn a_write_replaces_the_member_index(b: &dyn Backend) {
    let s = b.organizations();
    s.put("o-1", "{}", &["111111111111".into(), "222222222222".into()])
        .unwrap();
    s.put(
        "o-1",
        r#"{"v":2}"#,
        &["111111111111".into(), "444444444444".into()],
    )
    .unwrap();
    assert!(s.org_of("222222222222").unwrap().is_none(), "it left");
    assert_eq!(s.org_of("444444444444").unwrap().as_deref(), Some("o-1"));
    assert_eq!(s.get("o-1").unwrap().as_deref(), Some(r#"{"v":2}"#));
}

pub fn deleting_an_organization_frees_its_accounts(b: &dyn Backend) {
    let s = b.organizations();
    s.put("o-1", "{}", &["111111111111".into()]).unwrap();
    s.put("o-2", "{}", &["222222222222".into()]).unwrap();
    s.delete("o-1").unwrap();
    assert!(s.get("o-1").unwrap().is_none());
    assert_eq!(s.ids().unwrap(), ["o-2"]);
    assert!(s.org_of("111111111111").unwrap().is_none());
    assert_eq!(s.org_of("222222222222").unwrap().as_deref(), Some("o-2"));
    // The account may join another organization.
    s.put("o-2", "{}", &["222222222222".into(), "111111111111".into()])
        .unwrap();
    assert_eq!(s.org_of("111111111111").unwrap().as_deref(), Some("o-2"));
}

pub fn a_change_is_seen_by_others_only_once_committed(b: &dyn Backend) {
    let s = b.organizations();
    s.put("o-1", r#"{"v":1}"#, &["111111111111".into()])
        .unwrap();
    let before = s.generation();
    let call = enter();
    let doc = s.get_for_update("o-1").unwrap();
    assert_eq!(doc.as_deref(), Some(r#"{"v":1}"#));
    s.put(
        "o-1",
        r#"{"v":2}"#,
        &["111111111111".into(), "222222222222".into()],
    )
    .unwrap();
    // The call reads its own write, and may not cache it.
    assert_eq!(
        s.get_for_update("o-1").unwrap().as_deref(),
        Some(r#"{"v":2}"#)
    );
    assert_eq!(s.generation(), None);
    // Others see the committed state meanwhile.
    let other = Arc::clone(&s);
    let seen = std::thread::spawn(move || {
        (
            other.get("o-1").unwrap(),
            other.org_of("222222222222").unwrap(),
        )
    })
    .join()
    .unwrap();
    assert_eq!(seen, (Some(r#"{"v":1}"#.to_owned()), None));
    call.leave().finish(true).unwrap();
    assert_eq!(s.get("o-1").unwrap().as_deref(), Some(r#"{"v":2}"#));
    assert_eq!(s.org_of("222222222222").unwrap().as_deref(), Some("o-1"));
    // A backend that caches moves its generation on; one that cannot never offers one.
    match (before, s.generation()) {
        (Some(a), Some(b)) => assert!(b > a),
        (None, None) => {}
        other => panic!("generation offered inconsistently: {other:?}"),
    }
}

pub fn a_refused_change_leaves_no_trace(b: &dyn Backend) {
    let s = b.organizations();
    let call = enter();
    s.put("o-9", "{}", &["999999999999".into()]).unwrap();
    assert!(call.leave().finish(false).is_err());
    assert!(s.get("o-9").unwrap().is_none());
    assert!(s.org_of("999999999999").unwrap().is_none());
}
