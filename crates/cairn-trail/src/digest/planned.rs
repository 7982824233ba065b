//! How far in time delivery has planned: a period's digest may be decided only once every log
//! file planned in that period is visible to the digester, or a file planned just before the
//! period's end but committed just after the digest was decided would miss its digest and land
//! in the backfill chain.
//!
//! Delivery reads the journal's head before its clock, so a file it plans at time `t` holds
//! only entries appended before `t`. The digester samples `(its clock, the journal's head)`
//! each round: once delivery's cursor has reached a sample's head, every entry appended before
//! that sample's time is planned, and every plan stamped before it is committed. The latest
//! such sample's time is the *planned-up-to* time: digests of periods ending after it wait.
//!
//! Delivery in the same process says more, sooner: each round it completes publishes the clock
//! it read (every plan stamped before that is committed, rounds being serialized), which the
//! digester takes when it is later than its samples tell. The samples still serve a digester
//! whose delivery runs elsewhere (another node of a cluster); a round's own writes append
//! records after it planned, which keep samples behind until the next round.
//!
//! Samples live in memory: a digester that starts afresh (a restart, a lease that moved) waits
//! for one delivery round before deciding periodic digests, which only delays them.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

/// Samples kept while delivery lags; beyond it every other one is dropped, which only makes
/// the answer coarser (a later sample still answers once delivery passes it).
const MOST_SAMPLES: usize = 4096;

pub struct PlannedUpTo {
    /// `(clock ms, journal head)` in sampling order; both only grow.
    samples: Mutex<VecDeque<(i64, u64)>>,
    /// The clock the latest delivery round of this process read, once it committed its plans.
    delivered: AtomicI64,
}

impl Default for PlannedUpTo {
    fn default() -> PlannedUpTo {
        PlannedUpTo {
            samples: Mutex::default(),
            delivered: AtomicI64::new(i64::MIN),
        }
    }
}

impl PlannedUpTo {
    /// A delivery round that read the clock at `now` (after the journal's head) has committed
    /// its plans.
    pub fn round_planned(&self, now: i64) {
        self.delivered.fetch_max(now, Ordering::SeqCst);
    }

    /// The latest time by which everything is planned, from both sources.
    pub fn up_to(&self, now: i64, head: u64, cursor: u64) -> Option<i64> {
        let delivered = self.delivered.load(Ordering::SeqCst);
        let sampled = self.observe(now, head, cursor);
        match (sampled, delivered) {
            (s, i64::MIN) => s,
            (Some(s), d) => Some(s.max(d)),
            (None, d) => Some(d),
        }
    }

    /// Records that at `now` (read before `head`) the journal ended at `head`, and answers the
    /// latest sampled time by which delivery (at `cursor`) has planned everything, if any.
    pub fn observe(&self, now: i64, head: u64, cursor: u64) -> Option<i64> {
        let mut samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        samples.push_back((now, head));
        if samples.len() > MOST_SAMPLES {
            let last = samples.len() - 1;
            let thinned: VecDeque<(i64, u64)> = samples
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 2 == 0 || *i == last)
                .map(|(_, s)| *s)
                .collect();
            *samples = thinned;
        }
        let reached = samples.iter().rposition(|(_, h)| *h <= cursor)?;
        // Older samples can never answer again: this one is later and already reached.
        samples.drain(..reached);
        samples.front().map(|(t, _)| *t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_the_latest_time_whose_head_delivery_reached() {
        let p = PlannedUpTo::default();
        // Delivery is behind the head: nothing is known to be planned yet.
        assert_eq!(p.observe(1_000, 10, 5), None);
        assert_eq!(p.observe(2_000, 12, 9), None);
        // It reaches the first sample's head, not the second's.
        assert_eq!(p.observe(3_000, 15, 10), Some(1_000));
        // It reaches the second and third: the latest of them answers.
        assert_eq!(p.observe(4_000, 20, 15), Some(3_000));
        // Caught up with the head read now: now answers.
        assert_eq!(p.observe(5_000, 20, 20), Some(5_000));
    }

    #[test]
    fn a_round_of_this_process_answers_at_once() {
        let p = PlannedUpTo::default();
        // The round's own writes appended records after it planned: samples lag...
        assert_eq!(p.up_to(1_000, 12, 10), None);
        // ...but the round said when it planned.
        p.round_planned(900);
        assert_eq!(p.up_to(1_100, 14, 10), Some(900));
        p.round_planned(1_200);
        assert_eq!(p.up_to(1_300, 16, 16), Some(1_300));
    }

    #[test]
    fn a_lagging_delivery_keeps_memory_bounded_and_answers_later() {
        let p = PlannedUpTo::default();
        assert_eq!(p.observe(0, 1, 1), Some(0));
        for i in 1..20_000 {
            assert_eq!(p.observe(i, i as u64 + 1, 1), Some(0));
        }
        assert!(p.samples.lock().unwrap().len() <= MOST_SAMPLES + 1);
        // Delivery passes a recent head: a recent time answers.
        let t = p.observe(20_000, 20_001, 19_990).unwrap();
        assert!(t > 19_000 && t < 19_990, "{t}");
    }
}
