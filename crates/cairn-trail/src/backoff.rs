//! Retry pacing for trails whose bucket cannot take their files (gone, policy changed, endpoint
//! down). Nothing is dropped: planned files stay pending. A failing trail is tried again after
//! a delay that doubles with each consecutive failure, from [`FIRST_RETRY_MS`] up to
//! [`MAX_RETRY_MS`], so a dead endpoint is not hammered every round, and one failure stops the
//! trail's other files for the round instead of each failing (or timing out) in turn.

use std::collections::HashMap;
use std::sync::Mutex;

/// The delay after a trail's first failure.
pub const FIRST_RETRY_MS: i64 = 2_000;
/// The longest delay between attempts, however long the bucket stays unusable.
pub const MAX_RETRY_MS: i64 = 5 * 60 * 1000;

#[derive(Default)]
pub struct Backoff {
    /// Per trail ARN: consecutive failures and when the next attempt may be made.
    failing: Mutex<HashMap<String, (u32, i64)>>,
}

impl Backoff {
    /// Whether the trail may be tried at `now_ms`.
    pub fn due(&self, trail: &str, now_ms: i64) -> bool {
        self.failing.lock().map_or(true, |f| {
            f.get(trail).is_none_or(|(_, next)| now_ms >= *next)
        })
    }

    /// Notes a failure at `now_ms`; returns when the trail may be tried again.
    pub fn failed(&self, trail: &str, now_ms: i64) -> i64 {
        let Ok(mut f) = self.failing.lock() else {
            return now_ms;
        };
        let entry = f.entry(trail.to_owned()).or_insert((0, now_ms));
        let delay = FIRST_RETRY_MS
            .saturating_mul(1_i64 << entry.0.min(20))
            .min(MAX_RETRY_MS);
        entry.0 = entry.0.saturating_add(1);
        entry.1 = now_ms + delay;
        entry.1
    }

    /// Notes a success: the next failure starts again from the first delay.
    pub fn succeeded(&self, trail: &str) {
        if let Ok(mut f) = self.failing.lock() {
            f.remove(trail);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_reset_on_success() {
        let b = Backoff::default();
        assert!(b.due("t", 0));
        let mut now = 0;
        let mut delays = Vec::new();
        for _ in 0..10 {
            let next = b.failed("t", now);
            assert!(!b.due("t", next - 1) && b.due("t", next));
            assert!(b.due("other", now), "trails back off on their own");
            delays.push(next - now);
            now = next;
        }
        assert_eq!(
            delays,
            [
                2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000
            ]
        );
        b.succeeded("t");
        assert!(b.due("t", now));
        assert_eq!(b.failed("t", now) - now, FIRST_RETRY_MS);
    }
}
