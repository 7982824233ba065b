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
//! Samples live in memory: a digester that starts afresh (a restart, a lease that moved) waits
//! for one delivery round before deciding periodic digests, which only delays them.

use std::collections::VecDeque;
use std::sync::Mutex;

/// Samples kept while delivery lags; beyond it every other one is dropped, which only makes
/// the answer coarser (a later sample still answers once delivery passes it).
const MOST_SAMPLES: usize = 4096;

#[derive(Default)]
pub struct PlannedUpTo {
    /// `(clock ms, journal head)` in sampling order; both only grow.
    samples: Mutex<VecDeque<(i64, u64)>>,
}

impl PlannedUpTo {
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
