//! Console sessions and failed sign-ins in this process's memory: a single node's, where a
//! restart signing everyone out is acceptable (and documented), and nothing needs to be seen
//! by another process.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use super::{ConsoleSession, ConsoleStore, id_digest};
use crate::error::StoreError;

/// Beyond this many identities and addresses with failures, adding one first drops those whose
/// failures no longer count (checking on every failure would walk the whole table each time).
const PRUNE_ABOVE: usize = 100_000;

#[derive(Default)]
pub struct MemoryConsole {
    sessions: Mutex<HashMap<[u8; 32], ConsoleSession>>,
    failures: Mutex<HashMap<String, Vec<i64>>>,
}

impl MemoryConsole {
    pub fn new() -> MemoryConsole {
        MemoryConsole::default()
    }

    // A panic elsewhere while holding a lock leaves the maps whole (every change to them is
    // one call), so a poisoned lock is used as it is.
    fn sessions(&self) -> MutexGuard<'_, HashMap<[u8; 32], ConsoleSession>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn failures(&self) -> MutexGuard<'_, HashMap<String, Vec<i64>>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ConsoleStore for MemoryConsole {
    fn start_session(&self, id: &str, session: &ConsoleSession) -> Result<(), StoreError> {
        self.sessions().insert(id_digest(id), session.clone());
        Ok(())
    }

    fn session(&self, id: &str, now_ms: i64) -> Result<Option<ConsoleSession>, StoreError> {
        let key = id_digest(id);
        let mut m = self.sessions();
        match m.get(&key) {
            Some(s) if s.expires_ms > now_ms => Ok(Some(s.clone())),
            Some(_) => {
                m.remove(&key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    fn password_changed(&self, id: &str) -> Result<(), StoreError> {
        if let Some(s) = self.sessions().get_mut(&id_digest(id)) {
            s.must_change_password = false;
        }
        Ok(())
    }

    fn end_session(&self, id: &str) -> Result<Option<ConsoleSession>, StoreError> {
        Ok(self.sessions().remove(&id_digest(id)))
    }

    fn sweep_sessions(&self, now_ms: i64) -> Result<u64, StoreError> {
        let mut m = self.sessions();
        let before = m.len();
        m.retain(|_, s| s.expires_ms > now_ms);
        Ok((before - m.len()) as u64)
    }

    fn add_failure(
        &self,
        keys: &[String],
        at_ms: i64,
        forget_before_ms: i64,
    ) -> Result<(), StoreError> {
        let mut m = self.failures();
        for k in keys {
            m.entry(k.clone()).or_default().push(at_ms);
        }
        if m.len() > PRUNE_ABOVE {
            m.retain(|_, times| times.iter().any(|t| *t >= forget_before_ms));
        }
        Ok(())
    }

    fn failures_since(&self, key: &str, since_ms: i64) -> Result<Vec<i64>, StoreError> {
        let mut m = self.failures();
        let Some(times) = m.get_mut(key) else {
            return Ok(Vec::new());
        };
        // What no longer counts is dropped on the way (the window only moves forward).
        times.retain(|t| *t >= since_ms);
        let mut out = times.clone();
        if times.is_empty() {
            m.remove(key);
        }
        out.sort_unstable();
        Ok(out)
    }

    fn clear_failures(&self, key: &str) -> Result<(), StoreError> {
        self.failures().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn session(expires_ms: i64) -> ConsoleSession {
        ConsoleSession {
            access_key_id: "ASIAEXAMPLE".into(),
            account: "111122223333".into(),
            display_name: "alice".into(),
            csrf: "csrf-token".into(),
            expires_ms,
            must_change_password: true,
        }
    }

    #[test]
    fn sessions_expire_and_end() {
        let s = MemoryConsole::new();
        s.start_session("id-1", &session(1_000)).unwrap();
        assert!(s.session("id-1", 999).unwrap().is_some());
        assert!(s.session("id-1", 1_000).unwrap().is_none());
        s.start_session("id-2", &session(5_000)).unwrap();
        assert!(s.end_session("id-2").unwrap().is_some());
        assert!(s.end_session("id-2").unwrap().is_none());
        assert!(s.session("id-2", 0).unwrap().is_none());
        assert!(s.session("made-up", 0).unwrap().is_none());
        s.start_session("id-3", &session(5_000)).unwrap();
        assert!(s.session("id-3", 0).unwrap().unwrap().must_change_password);
        s.password_changed("id-3").unwrap();
        assert!(!s.session("id-3", 0).unwrap().unwrap().must_change_password);
    }

    #[test]
    fn sweeping_forgets_only_expired_sessions() {
        let s = MemoryConsole::new();
        s.start_session("old", &session(1_000)).unwrap();
        s.start_session("new", &session(9_000)).unwrap();
        assert_eq!(s.sweep_sessions(1_000).unwrap(), 1);
        assert_eq!(s.sessions().len(), 1);
        assert!(s.session("new", 1_000).unwrap().is_some());
    }

    #[test]
    fn sessions_are_kept_under_the_digest_of_their_id() {
        let s = MemoryConsole::new();
        s.start_session("the-cookie-value", &session(1_000))
            .unwrap();
        let keys: Vec<[u8; 32]> = s.sessions().keys().copied().collect();
        assert_eq!(keys, [id_digest("the-cookie-value")]);
    }

    #[test]
    fn failures_are_counted_per_key_within_the_window_and_cleared() {
        let s = MemoryConsole::new();
        let keys = vec!["user:a".to_owned(), "ip:10.0.0.1".to_owned()];
        s.add_failure(&keys, 10, 0).unwrap();
        s.add_failure(&keys, 20, 0).unwrap();
        s.add_failure(&keys[1..], 30, 0).unwrap();
        assert_eq!(s.failures_since("user:a", 0).unwrap(), [10, 20]);
        assert_eq!(s.failures_since("ip:10.0.0.1", 15).unwrap(), [20, 30]);
        // What fell out of the window is gone for good.
        assert_eq!(s.failures_since("ip:10.0.0.1", 0).unwrap(), [20, 30]);
        s.clear_failures("user:a").unwrap();
        assert!(s.failures_since("user:a", 0).unwrap().is_empty());
        assert_eq!(s.failures_since("ip:10.0.0.1", 0).unwrap(), [20, 30]);
    }

    #[test]
    fn a_large_table_drops_keys_whose_failures_no_longer_count() {
        let s = MemoryConsole::new();
        for i in 0..PRUNE_ABOVE {
            s.add_failure(&[format!("user:{i}")], 1, 0).unwrap();
        }
        s.add_failure(&["ip:10.0.0.1".to_owned()], 100, 50).unwrap();
        assert_eq!(s.failures().len(), 1);
        assert_eq!(s.failures_since("ip:10.0.0.1", 0).unwrap(), [100]);
    }
}
