//! Brute-force protection for sign-in: after too many failures for one identity or from one
//! address within a window, further attempts are turned away without checking the password
//! until the window has passed. Times come from cairn's clock, so tests move them.
//!
//! This is the policy; the failures are kept by the application's console store, so that the
//! nodes of a cluster count them together (an attacker spreading guesses over the nodes behind
//! a load balancer gets no more of them).

use std::sync::Arc;

use cairn_store::StoreError;
use cairn_store::console::ConsoleStore;

/// Failures allowed within [`WINDOW_MS`] before attempts are refused.
pub const MAX_FAILURES: usize = 5;
pub const WINDOW_MS: i64 = 15 * 60 * 1000;

pub struct Throttle {
    store: Arc<dyn ConsoleStore>,
}

/// The earliest failure that still counts at `now_ms`.
fn window_start(now_ms: i64) -> i64 {
    now_ms.saturating_sub(WINDOW_MS) + 1
}

impl Throttle {
    pub fn new(store: Arc<dyn ConsoleStore>) -> Throttle {
        Throttle { store }
    }

    /// How long (ms) an attempt for any of `keys` must still wait at `now_ms`; 0 when it may go.
    pub fn wait_ms(&self, keys: &[String], now_ms: i64) -> Result<i64, StoreError> {
        let mut wait = 0;
        for k in keys {
            let times = self.store.failures_since(k, window_start(now_ms))?;
            if times.len() >= MAX_FAILURES {
                let oldest = times[times.len() - MAX_FAILURES];
                wait = wait.max(oldest + WINDOW_MS - now_ms);
            }
        }
        Ok(wait)
    }

    /// Counts a failure against every one of `keys`.
    pub fn failed(&self, keys: &[String], now_ms: i64) -> Result<(), StoreError> {
        self.store.add_failure(keys, now_ms, window_start(now_ms))
    }

    /// Forgets the failures of an identity that just signed in.
    pub fn succeeded(&self, key: &str) -> Result<(), StoreError> {
        self.store.clear_failures(key)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use cairn_store::console::MemoryConsole;

    use super::*;

    #[test]
    fn five_failures_lock_out_until_the_window_passes() {
        let t = Throttle::new(Arc::new(MemoryConsole::new()));
        let keys = vec![
            "user:111122223333/alice".to_owned(),
            "ip:10.0.0.1".to_owned(),
        ];
        for i in 0..MAX_FAILURES as i64 {
            assert_eq!(t.wait_ms(&keys, i).unwrap(), 0);
            t.failed(&keys, i).unwrap();
        }
        assert!(t.wait_ms(&keys, 10).unwrap() > 0);
        // The same address trying another name is held back too.
        assert!(t.wait_ms(&["ip:10.0.0.1".to_owned()], 10).unwrap() > 0);
        assert_eq!(t.wait_ms(&keys, WINDOW_MS + 10).unwrap(), 0);
        t.failed(&keys, WINDOW_MS + 11).unwrap();
        t.succeeded("user:111122223333/alice").unwrap();
        assert_eq!(
            t.wait_ms(&["user:111122223333/alice".to_owned()], WINDOW_MS + 12)
                .unwrap(),
            0
        );
    }

    /// The wait ends exactly when the oldest of the last five failures leaves the window.
    #[test]
    fn the_wait_is_until_the_oldest_counted_failure_leaves_the_window() {
        let t = Throttle::new(Arc::new(MemoryConsole::new()));
        let keys = vec!["ip:10.0.0.1".to_owned()];
        for i in 0..MAX_FAILURES as i64 {
            t.failed(&keys, 1_000 + i).unwrap();
        }
        assert_eq!(t.wait_ms(&keys, 2_000).unwrap(), 1_000 + WINDOW_MS - 2_000);
        assert_eq!(t.wait_ms(&keys, 1_000 + WINDOW_MS - 1).unwrap(), 1);
        assert_eq!(t.wait_ms(&keys, 1_000 + WINDOW_MS).unwrap(), 0);
    }
}
