//! Judging a stream of records against many rules: a plain rule fires on each record it
//! matches; an aggregating rule counts its matching records (or the distinct values of a
//! field) per group within its timeframe and fires when the count passes its threshold,
//! then starts counting afresh for that group. Time is the caller's (each record's).

use std::collections::{HashMap, VecDeque};

use serde_json::Value;

use super::Rule;
use super::record::{leaves, lookup};

/// A rule firing.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The rule's index in the detector.
    pub rule: usize,
    /// The aggregation's group (`by` field's value), if it has one.
    pub group: Option<String>,
    /// How many records (or distinct values) made it fire; 1 for a plain rule.
    pub count: u64,
}

/// An aggregating rule's matching records within its timeframe, for one group: each one's
/// time and, for `count(field)`, the field's value.
type Window = VecDeque<(i64, Option<String>)>;

/// Many rules, and the windows of the aggregating ones.
#[derive(Debug, Clone)]
pub struct Detector {
    rules: Vec<Rule>,
    /// Per rule, per group: the matching records' times (and counted values) in the window.
    windows: Vec<HashMap<String, Window>>,
    seen: u64,
}

/// Old groups are dropped every this many records.
const SWEEP_EVERY: u64 = 65_536;

impl Detector {
    pub fn new(rules: Vec<Rule>) -> Detector {
        let windows = rules.iter().map(|_| HashMap::new()).collect();
        Detector {
            rules,
            windows,
            seen: 0,
        }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Judges one record made at `time_ms`.
    pub fn observe(&mut self, record: &Value, time_ms: i64) -> Vec<Hit> {
        self.seen += 1;
        if self.seen.is_multiple_of(SWEEP_EVERY) {
            self.sweep(time_ms);
        }
        let mut hits = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            if !rule.matches(record) {
                continue;
            }
            let (Some(agg), Some(frame)) = (&rule.aggregation, rule.timeframe_ms) else {
                hits.push(Hit {
                    rule: i,
                    group: None,
                    count: 1,
                });
                continue;
            };
            let text_of = |field: &str| {
                let found = lookup(record, field);
                (!found.is_empty()).then(|| {
                    let mut out = Vec::new();
                    found.iter().for_each(|v| leaves(v, &mut out));
                    out.join(",")
                })
            };
            let group = agg
                .group_by
                .as_deref()
                .map(|f| text_of(f).unwrap_or_default());
            let counted = match &agg.distinct {
                Some(f) => match text_of(f) {
                    Some(v) => Some(v),
                    // A record without the counted field does not count.
                    None => continue,
                },
                None => None,
            };
            let window = self.windows[i]
                .entry(group.clone().unwrap_or_default())
                .or_default();
            window.push_back((time_ms, counted));
            while window.front().is_some_and(|(t, _)| *t <= time_ms - frame) {
                window.pop_front();
            }
            let n = if agg.distinct.is_some() {
                let mut values: Vec<&String> =
                    window.iter().filter_map(|(_, v)| v.as_ref()).collect();
                values.sort_unstable();
                values.dedup();
                values.len()
            } else {
                window.len()
            };
            if agg.op.holds(n as f64, agg.threshold) {
                window.clear();
                hits.push(Hit {
                    rule: i,
                    group,
                    count: n as u64,
                });
            }
        }
        hits
    }

    /// Drops groups whose newest record is out of their rule's window.
    fn sweep(&mut self, now_ms: i64) {
        for (rule, groups) in self.rules.iter().zip(self.windows.iter_mut()) {
            let frame = rule.timeframe_ms.unwrap_or(0);
            groups.retain(|_, w| w.back().is_some_and(|(t, _)| *t > now_ms - frame));
        }
    }
}
