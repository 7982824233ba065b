//! Judging a stream of records against many rules: a plain rule fires on each record it
//! matches; an aggregating rule counts its matching records (or the distinct values of a
//! field) per group within its timeframe and fires when the count passes its threshold,
//! then starts counting afresh for that group. Time is the caller's (each record's).

use std::collections::{HashMap, VecDeque};

use serde_json::Value;

use super::Rule;
use super::correlation::Windows;
use super::record::{Fields, joined_text};

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
    /// The rules a record may match, by its `eventName` (lower case), for the rules that
    /// name theirs; `always`: the others, judged on every record.
    by_event_name: HashMap<String, Vec<usize>>,
    always: Vec<usize>,
    /// How many distinct fields the rules test (see [`Fields`]).
    slots: usize,
    /// Per rule: the correlation rules that count its firings, with its place in their list.
    correlated_by: Vec<Vec<(usize, usize)>>,
    /// Rules whose firings only correlations see (referenced with `generate: false`).
    silent: Vec<bool>,
    /// Per correlation rule, per group.
    correlations: Vec<Windows>,
    /// Per rule, per group: the matching records' times (and counted values) in the window.
    windows: Vec<HashMap<String, Window>>,
    seen: u64,
}

/// Old groups are dropped every this many records.
const SWEEP_EVERY: u64 = 65_536;

impl Detector {
    pub fn new(mut rules: Vec<Rule>) -> Detector {
        let mut fields = Vec::new();
        rules.iter_mut().for_each(|r| r.assign_slots(&mut fields));
        let windows = rules.iter().map(|_| HashMap::new()).collect();
        let mut by_event_name: HashMap<String, Vec<usize>> = HashMap::new();
        let mut always = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            match r.required_event_names() {
                Some(names) => {
                    for n in names {
                        by_event_name.entry(n).or_default().push(i);
                    }
                }
                None => always.push(i),
            }
        }
        let mut correlated_by = vec![Vec::new(); rules.len()];
        let mut silent = vec![false; rules.len()];
        for (ci, r) in rules.iter().enumerate() {
            let Some(c) = &r.correlation else { continue };
            for (position, reference) in c.rules.iter().enumerate() {
                for (bi, b) in rules.iter().enumerate() {
                    if b.correlation.is_none() && b.answers_to(reference) {
                        correlated_by[bi].push((ci, position));
                        silent[bi] |= !c.generate;
                    }
                }
            }
        }
        let correlations = rules.iter().map(|_| Windows::new()).collect();
        Detector {
            rules,
            by_event_name,
            always,
            slots: fields.len(),
            correlated_by,
            silent,
            correlations,
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
        let named = record
            .get("eventName")
            .and_then(Value::as_str)
            .and_then(|n| {
                // Event names are short: lowered on the stack when they fit.
                let mut buf = [0u8; 64];
                match buf.get_mut(..n.len()) {
                    Some(b) => {
                        b.copy_from_slice(n.as_bytes());
                        b.make_ascii_lowercase();
                        std::str::from_utf8(b)
                            .ok()
                            .and_then(|k| self.by_event_name.get(k))
                    }
                    None => self.by_event_name.get(&n.to_ascii_lowercase()),
                }
            });
        // Rules in their order: the ones for every record and the event name's, merged.
        let (always, named) = (&self.always, named.map_or(&[][..], Vec::as_slice));
        let (mut a, mut b) = (0, 0);
        let mut candidates = Vec::with_capacity(always.len() + named.len());
        while a < always.len() || b < named.len() {
            let next = match (always.get(a), named.get(b)) {
                (Some(x), Some(y)) if x < y => {
                    a += 1;
                    *x
                }
                (Some(x), Some(y)) if x == y => {
                    a += 1;
                    b += 1;
                    *x
                }
                (_, Some(y)) => {
                    b += 1;
                    *y
                }
                (Some(x), None) => {
                    a += 1;
                    *x
                }
                (None, None) => break,
            };
            candidates.push(next);
        }
        let mut fields = Fields::new(record, self.slots);
        for i in candidates {
            let rule = &self.rules[i];
            if !rule.matches_fields(&mut fields) {
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
            let text_of = |field: &str| joined_text(record, field);
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
        if self.correlations.is_empty()
            || hits.iter().all(|h| self.correlated_by[h.rule].is_empty())
        {
            return hits;
        }
        let mut out = Vec::with_capacity(hits.len());
        for h in hits {
            for &(ci, position) in &self.correlated_by[h.rule] {
                let Some(c) = self.rules[ci].correlation.as_ref() else {
                    continue;
                };
                let text_of = |field: &str| joined_text(record, field);
                let group: Vec<String> = c
                    .group_by
                    .iter()
                    .map(|f| text_of(f).unwrap_or_default())
                    .collect();
                let key = group.join("\u{1f}");
                let value = c.field.as_deref().and_then(text_of);
                if let Some(n) = self.correlations[ci]
                    .entry(key)
                    .or_default()
                    .fire(c, position, time_ms, value)
                {
                    out.push(Hit {
                        rule: ci,
                        group: (!group.is_empty()).then(|| group.join(",")),
                        count: n,
                    });
                }
            }
            if !self.silent[h.rule] {
                out.push(h);
            }
        }
        out
    }

    /// Drops groups whose newest record is out of their rule's window.
    fn sweep(&mut self, now_ms: i64) {
        for (rule, groups) in self.rules.iter().zip(self.windows.iter_mut()) {
            let frame = rule.timeframe_ms.unwrap_or(0);
            groups.retain(|_, w| w.back().is_some_and(|(t, _)| *t > now_ms - frame));
        }
    }
}
