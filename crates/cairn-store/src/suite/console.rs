//! The console store's contract: sessions kept under their id until they expire or end (once),
//! the password-change restriction lifted, expired sessions swept, and failed sign-ins counted
//! per key, handed back within a window, forgotten on success or once too old.
//!
//! Nothing here survives a restart on purpose: the embedded console keeps this in memory.

use super::{Backend, cases};
use crate::console::ConsoleSession;

cases!(
    a_session_is_found_by_its_id_until_it_expires,
    a_session_ends_once,
    a_password_change_lifts_the_restriction_of_that_session_only,
    the_sweep_forgets_expired_sessions_only,
    failures_are_counted_per_key_and_handed_back_oldest_first,
    failures_are_cleared_per_key,
    failures_too_old_are_forgotten,
);

fn session(name: &str, expires_ms: i64) -> ConsoleSession {
    ConsoleSession {
        access_key_id: format!("ASIA{}", name.to_ascii_uppercase()),
        account: "111122223333".into(),
        display_name: name.into(),
        csrf: format!("csrf-of-{name}"),
        expires_ms,
        must_change_password: true,
    }
}

pub fn a_session_is_found_by_its_id_until_it_expires(b: &dyn Backend) {
    let s = b.console();
    s.start_session("id-alice", &session("alice", 1_000))
        .unwrap();
    assert_eq!(
        s.session("id-alice", 999).unwrap(),
        Some(session("alice", 1_000))
    );
    assert!(s.session("id-alice", 1_000).unwrap().is_none(), "expired");
    assert!(s.session("id-other", 0).unwrap().is_none());
    assert!(s.session("", 0).unwrap().is_none());
}

pub fn a_session_ends_once(b: &dyn Backend) {
    let s = b.console();
    s.start_session("id-alice", &session("alice", 5_000))
        .unwrap();
    s.start_session("id-bob", &session("bob", 5_000)).unwrap();
    assert_eq!(
        s.end_session("id-alice").unwrap(),
        Some(session("alice", 5_000))
    );
    assert!(s.end_session("id-alice").unwrap().is_none());
    assert!(s.session("id-alice", 0).unwrap().is_none());
    assert!(s.session("id-bob", 0).unwrap().is_some(), "others stay");
    assert!(s.end_session("made-up").unwrap().is_none());
}

pub fn a_password_change_lifts_the_restriction_of_that_session_only(b: &dyn Backend) {
    let s = b.console();
    s.start_session("id-1", &session("alice", 5_000)).unwrap();
    s.start_session("id-2", &session("alice", 5_000)).unwrap();
    s.password_changed("id-1").unwrap();
    assert!(!s.session("id-1", 0).unwrap().unwrap().must_change_password);
    assert!(s.session("id-2", 0).unwrap().unwrap().must_change_password);
    s.password_changed("made-up").unwrap();
}

pub fn the_sweep_forgets_expired_sessions_only(b: &dyn Backend) {
    let s = b.console();
    s.start_session("old-1", &session("a", 1_000)).unwrap();
    s.start_session("old-2", &session("b", 2_000)).unwrap();
    s.start_session("new", &session("c", 9_000)).unwrap();
    assert_eq!(s.sweep_sessions(2_000).unwrap(), 2);
    assert_eq!(s.sweep_sessions(2_000).unwrap(), 0);
    assert!(s.end_session("old-1").unwrap().is_none(), "gone");
    assert!(s.session("new", 2_000).unwrap().is_some());
}

pub fn failures_are_counted_per_key_and_handed_back_oldest_first(b: &dyn Backend) {
    let s = b.console();
    let both = [
        "who:111122223333/alice".to_owned(),
        "ip:10.0.0.1".to_owned(),
    ];
    s.add_failure(&both, 10, 0).unwrap();
    s.add_failure(&both[1..], 20, 0).unwrap();
    // Two failures at the same moment are two.
    s.add_failure(&both, 30, 0).unwrap();
    s.add_failure(&both, 30, 0).unwrap();
    assert_eq!(s.failures_since(&both[0], 0).unwrap(), [10, 30, 30]);
    assert_eq!(s.failures_since(&both[1], 0).unwrap(), [10, 20, 30, 30]);
    assert_eq!(s.failures_since(&both[1], 20).unwrap(), [20, 30, 30]);
    assert!(s.failures_since("ip:10.0.0.2", 0).unwrap().is_empty());
    s.add_failure(&[], 40, 0).unwrap();
}

pub fn failures_are_cleared_per_key(b: &dyn Backend) {
    let s = b.console();
    let both = [
        "who:111122223333/alice".to_owned(),
        "ip:10.0.0.1".to_owned(),
    ];
    s.add_failure(&both, 10, 0).unwrap();
    s.clear_failures(&both[0]).unwrap();
    assert!(s.failures_since(&both[0], 0).unwrap().is_empty());
    assert_eq!(s.failures_since(&both[1], 0).unwrap(), [10]);
    s.clear_failures("made-up").unwrap();
}

pub fn failures_too_old_are_forgotten(b: &dyn Backend) {
    let s = b.console();
    let key = ["ip:10.0.0.1".to_owned()];
    s.add_failure(&key, 10, 0).unwrap();
    s.add_failure(&key, 1_000, 500).unwrap();
    // A store may drop what is older than the window at once or later; either way none of it
    // is handed back for a window that starts after it.
    assert_eq!(s.failures_since(&key[0], 500).unwrap(), [1_000]);
}
