//! Brute-force protection for sign-in: after too many failures for one identity or from one
//! address within a window, further attempts are turned away without checking the password
//! until the window has passed. Times come from cairn's clock, so tests move them.

use std::collections::HashMap;
use std::sync::Mutex;

/// Failures allowed within [`WINDOW_MS`] before attempts are refused.
pub const MAX_FAILURES: usize = 5;
pub const WINDOW_MS: i64 = 15 * 60 * 1000;

#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, Vec<i64>>>,
}

impl Throttle {
    /// How long (ms) an attempt for any of `keys` must still wait at `now_ms`; 0 when it may go.
    pub fn wait_ms(&self, keys: &[String], now_ms: i64) -> i64 {
        let Ok(mut m) = self.failures.lock() else {
            return 0;
        };
        let mut wait = 0;
        for k in keys {
            if let Some(times) = m.get_mut(k) {
                times.retain(|t| now_ms - t < WINDOW_MS);
                if times.len() >= MAX_FAILURES {
                    let oldest = times[times.len() - MAX_FAILURES];
                    wait = wait.max(oldest + WINDOW_MS - now_ms);
                }
            }
        }
        wait
    }

    /// Counts a failure against every one of `keys`.
    pub fn failed(&self, keys: &[String], now_ms: i64) {
        if let Ok(mut m) = self.failures.lock() {
            for k in keys {
                m.entry(k.clone()).or_default().push(now_ms);
            }
            // An attacker cycling through made-up names must not grow the table forever.
            if m.len() > 100_000 {
                m.retain(|_, times| times.last().is_some_and(|t| now_ms - t < WINDOW_MS));
            }
        }
    }

    /// Forgets the failures of an identity that just signed in.
    pub fn succeeded(&self, key: &str) {
        if let Ok(mut m) = self.failures.lock() {
            m.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_out_until_the_window_passes() {
        let t = Throttle::default();
        let keys = vec![
            "user:111122223333/alice".to_owned(),
            "ip:10.0.0.1".to_owned(),
        ];
        for i in 0..MAX_FAILURES as i64 {
            assert_eq!(t.wait_ms(&keys, i), 0);
            t.failed(&keys, i);
        }
        assert!(t.wait_ms(&keys, 10) > 0);
        // The same address trying another name is held back too.
        assert!(t.wait_ms(&["ip:10.0.0.1".to_owned()], 10) > 0);
        assert_eq!(t.wait_ms(&keys, WINDOW_MS + 10), 0);
        t.failed(&keys, WINDOW_MS + 11);
        t.succeeded("user:111122223333/alice");
        assert_eq!(
            t.wait_ms(&["user:111122223333/alice".to_owned()], WINDOW_MS + 12),
            0
        );
    }
}
