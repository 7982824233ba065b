//! Sigma correlation rules: findings made from the firings of other rules (referenced by
//! `name` or `id`) per group of records (`group-by` fields) within a `timespan`:
//! `event_count` (how many firings), `value_count` (how many distinct values of a field),
//! `temporal` (every referenced rule fired) and `temporal_ordered` (they fired in the listed
//! order): the sequence rules of an attack ("instance stopped, its user data changed, started
//! again, by one principal within 10 minutes").

use std::collections::{HashMap, VecDeque};

use serde_json::Value;

use super::SigmaError;
use super::condition::Compare;
use super::record::string_list;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
}

/// A correlation rule's definition.
#[derive(Debug, Clone)]
pub struct Correlation {
    pub kind: Kind,
    /// The rules it correlates, by `name` or `id`.
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    pub timespan_ms: i64,
    /// For the counts: how many make a finding (`gte: 20`), and `value_count`'s field.
    pub threshold: Option<(Compare, f64)>,
    pub field: Option<String>,
    /// Whether the referenced rules also make findings of their own (Sigma's default: no).
    pub generate: bool,
}

impl Correlation {
    pub fn parse(
        c: &Value,
        duration: &dyn Fn(&str) -> Option<i64>,
    ) -> Result<Correlation, SigmaError> {
        let bad = |why: &str| SigmaError::Invalid(format!("its correlation {why}"));
        let kind = match c.get("type").and_then(Value::as_str) {
            Some("event_count") => Kind::EventCount,
            Some("value_count") => Kind::ValueCount,
            Some("temporal") => Kind::Temporal,
            Some("temporal_ordered") => Kind::TemporalOrdered,
            Some(other) => {
                return Err(SigmaError::Unsupported(format!(
                    "the correlation type '{other}'"
                )));
            }
            None => return Err(bad("has no type")),
        };
        let list = |k: &str| string_list(c, k);
        let rules = list("rules");
        if rules.is_empty() {
            return Err(bad("names no rules"));
        }
        let span = c
            .get("timespan")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let timespan_ms =
            duration(span).ok_or_else(|| bad("has no timespan like 30s, 5m, 1h, 1d"))?;
        let (mut threshold, mut field) = (None, None);
        if let Some(Value::Object(cond)) = c.get("condition") {
            for (k, v) in cond {
                let op = match k.as_str() {
                    "gt" => Compare::Gt,
                    "gte" => Compare::Gte,
                    "eq" => Compare::Eq,
                    "field" => {
                        field = v.as_str().map(str::to_owned);
                        continue;
                    }
                    "lt" | "lte" => {
                        return Err(SigmaError::Unsupported(
                            "a correlation on fewer than N (judged as records arrive, it would fire on the first)".into(),
                        ));
                    }
                    other => return Err(bad(&format!("condition has '{other}'"))),
                };
                let n = v
                    .as_f64()
                    .ok_or_else(|| bad("condition's threshold is not a number"))?;
                threshold = Some((op, n));
            }
        }
        match kind {
            Kind::EventCount if threshold.is_none() => {
                return Err(bad("event_count needs a condition (gte: N)"));
            }
            Kind::ValueCount if threshold.is_none() || field.is_none() => {
                return Err(bad("value_count needs a condition with a field"));
            }
            _ => {}
        }
        Ok(Correlation {
            kind,
            rules,
            group_by: list("group-by"),
            timespan_ms,
            threshold,
            field,
            generate: c.get("generate").and_then(Value::as_bool).unwrap_or(false),
        })
    }
}

/// One group's state for one correlation.
#[derive(Debug, Clone, Default)]
pub struct Window {
    /// Counts: each firing's time (and counted value).
    seen: VecDeque<(i64, Option<String>)>,
    /// Temporal: the last time each referenced rule fired. Ordered: when the chain that
    /// reached position `i` started.
    marks: Vec<Option<i64>>,
}

impl Window {
    /// A firing of the correlation's `position`-th rule at `time_ms` (with the counted field's
    /// value); the count that makes a finding, if this one does.
    pub fn fire(
        &mut self,
        c: &Correlation,
        position: usize,
        time_ms: i64,
        value: Option<String>,
    ) -> Option<u64> {
        let span = c.timespan_ms;
        match c.kind {
            Kind::EventCount | Kind::ValueCount => {
                if c.kind == Kind::ValueCount && value.is_none() {
                    return None;
                }
                self.seen.push_back((time_ms, value));
                while self.seen.front().is_some_and(|(t, _)| *t <= time_ms - span) {
                    self.seen.pop_front();
                }
                let n = if c.kind == Kind::ValueCount {
                    let mut vs: Vec<&String> =
                        self.seen.iter().filter_map(|(_, v)| v.as_ref()).collect();
                    vs.sort_unstable();
                    vs.dedup();
                    vs.len()
                } else {
                    self.seen.len()
                };
                let (op, threshold) = c.threshold?;
                op.holds(n as f64, threshold).then(|| {
                    self.seen.clear();
                    n as u64
                })
            }
            Kind::Temporal => {
                self.marks.resize(c.rules.len(), None);
                self.marks[position] = Some(time_ms);
                let all = self
                    .marks
                    .iter()
                    .all(|m| m.is_some_and(|t| t > time_ms - span));
                all.then(|| {
                    self.marks.iter_mut().for_each(|m| *m = None);
                    c.rules.len() as u64
                })
            }
            Kind::TemporalOrdered => {
                self.marks.resize(c.rules.len(), None);
                let start = if position == 0 {
                    Some(time_ms)
                } else {
                    self.marks[position - 1].filter(|s| time_ms - s < span)
                };
                let start = start?;
                self.marks[position] = Some(start);
                (position + 1 == c.rules.len()).then(|| {
                    self.marks.iter_mut().for_each(|m| *m = None);
                    c.rules.len() as u64
                })
            }
        }
    }
}

/// Per correlation, per group.
pub type Windows = HashMap<String, Window>;
