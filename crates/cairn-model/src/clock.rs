//! The injected clock. Delivery cadence, digest periods, key validity and retention all ask a
//! `Clock`, so tests can move time forward instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch, UTC.
    fn now_millis(&self) -> i64;

    fn now(&self) -> OffsetDateTime {
        let ms = self.now_millis();
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// The machine's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
    }
}

/// A clock that only moves when told to.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(start_millis: i64) -> Self {
        Self(Arc::new(AtomicI64::new(start_millis)))
    }

    pub fn advance_millis(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn set_millis(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The wall clock plus an offset that only grows: time flows as usual, and tests can jump it
/// ahead (`cairn serve --test-clock`) to reach the next delivery, digest period or expiry
/// without waiting.
#[derive(Clone, Default)]
pub struct TestClock {
    offset: Arc<AtomicI64>,
    /// Where the nodes of a cluster keep one offset between them.
    shared: Option<Arc<dyn SharedOffset>>,
}

impl std::fmt::Debug for TestClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestClock")
            .field("offset", &self.offset)
            .field("shared", &self.shared.is_some())
            .finish()
    }
}

/// A test clock's offset kept where several processes read and move it (a cluster's
/// database), so that time jumps ahead for every node at once.
pub trait SharedOffset: Send + Sync {
    /// The offset now, or None when it cannot be read (the last one read is used).
    fn read(&self) -> Option<i64>;
    /// Moves it on by `ms`; the new offset, or None when it could not be moved.
    fn add(&self, ms: i64) -> Option<i64>;
}

impl TestClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// A clock whose offset is `shared` (every node of a cluster reads the same time).
    pub fn shared(shared: Arc<dyn SharedOffset>) -> Self {
        TestClock {
            offset: Arc::default(),
            shared: Some(shared),
        }
    }

    /// Moves time forward by `ms` (never back: records and digests are ordered by it).
    pub fn advance_millis(&self, ms: i64) {
        let ms = ms.max(0);
        match &self.shared {
            Some(s) => {
                if let Some(now) = s.add(ms) {
                    self.offset.fetch_max(now, Ordering::SeqCst);
                }
            }
            None => {
                self.offset.fetch_add(ms, Ordering::SeqCst);
            }
        }
    }

    /// How far ahead of the wall clock this clock is.
    pub fn offset_millis(&self) -> i64 {
        if let Some(now) = self.shared.as_ref().and_then(|s| s.read()) {
            self.offset.fetch_max(now, Ordering::SeqCst);
        }
        self.offset.load(Ordering::SeqCst)
    }
}

impl Clock for TestClock {
    fn now_millis(&self) -> i64 {
        SystemClock
            .now_millis()
            .saturating_add(self.offset_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(1_000);
        assert_eq!(c.now_millis(), 1_000);
        c.advance_millis(500);
        assert_eq!(c.now_millis(), 1_500);
        assert_eq!(c.now().unix_timestamp(), 1);
    }

    #[test]
    fn test_clock_runs_with_the_wall_and_jumps_ahead_only() {
        let c = TestClock::new();
        let before = SystemClock.now_millis();
        c.advance_millis(3_600_000);
        c.advance_millis(-5_000);
        assert_eq!(c.offset_millis(), 3_600_000);
        let now = c.now_millis();
        assert!(now >= before + 3_600_000 && now < SystemClock.now_millis() + 3_600_001);
    }
}
