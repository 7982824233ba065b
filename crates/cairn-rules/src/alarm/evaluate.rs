//! One evaluation of a metric alarm: the newest periods' datapoints, AWS's evaluation-range rules
//! for missing data (ALERTING.md §4.4), M of N, and the transition (reason, reason data, history
//! item) when the state changes.

use serde_json::Value;

use super::config::{AlarmConfig, LowSampleCount, StatisticSpec, TreatMissingData};
use super::history::HistoryItem;
use super::period::{
    MetricDatum, aggregate, evaluation_range, evaluation_time_ms, next_evaluation_ms,
};
use super::reason;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateValue {
    Ok,
    Alarm,
    InsufficientData,
}

impl StateValue {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Alarm => "ALARM",
            Self::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "OK" => Some(Self::Ok),
            "ALARM" => Some(Self::Alarm),
            "INSUFFICIENT_DATA" => Some(Self::InsufficientData),
            _ => None,
        }
    }
}

/// An alarm's current state as stored: value, reason and reason data (a JSON object).
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmStatus {
    pub value: StateValue,
    pub reason: String,
    pub reason_data: Option<Value>,
}

impl AlarmStatus {
    /// The state of a newly created alarm [M][C-AWS].
    pub fn initial() -> Self {
        Self {
            value: StateValue::InsufficientData,
            reason: "Unchecked: Initial alarm creation".to_owned(),
            reason_data: None,
        }
    }
}

/// A state change: what `DescribeAlarms` shows afterwards, the history item, and what the
/// caller's actions for `new` receive.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub old: AlarmStatus,
    pub new: AlarmStatus,
    /// `StateUpdatedTimestamp` / `StateTransitionedTimestamp` / the message's `StateChangeTime`.
    pub timestamp_ms: i64,
    pub history: HistoryItem,
}

/// The result of one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The state after this evaluation (the current one when kept).
    pub state: StateValue,
    /// Present only when the state changed: AWS records and acts only on changes.
    pub transition: Option<Transition>,
    /// When the caller should evaluate next.
    pub next_evaluation_ms: i64,
}

/// One period of the evaluation range, newest first.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Slot {
    pub start_ms: i64,
    pub value: Option<f64>,
    pub sample_count: f64,
    pub breaching: bool,
    pub low_sample: bool,
}

/// How a missing period was filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fill {
    Missing,
    Breaching,
    NonBreaching,
}

/// Why the computed state is what it is: the real datapoints that were evaluated and the
/// missing ones that were filled (indices into the slots, newest first).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Basis {
    pub considered: Vec<usize>,
    pub fills: Vec<usize>,
    pub fill: Fill,
}

enum Decision {
    State(StateValue, Basis),
    Keep,
}

fn slots(config: &AlarmConfig, data: &[MetricDatum], end_ms: i64, range: u32) -> Vec<Slot> {
    let period_ms = i64::from(config.period) * 1000;
    aggregate(config, data, end_ms, range)
        .into_iter()
        .enumerate()
        .map(|(i, agg)| {
            let start_ms = end_ms - (i as i64 + 1) * period_ms;
            let Some(agg) = agg else {
                return Slot {
                    start_ms,
                    value: None,
                    sample_count: 0.0,
                    breaching: false,
                    low_sample: false,
                };
            };
            let (value, low_sample) = match &config.statistic {
                StatisticSpec::Simple(s) => (s.compute(&agg), false),
                StatisticSpec::Extended(e) => (e.compute(&agg), e.is_low_sample(agg.sample_count)),
            };
            Slot {
                start_ms,
                value,
                sample_count: agg.sample_count,
                breaching: value
                    .is_some_and(|v| config.comparison_operator.breaches(v, config.threshold)),
                low_sample,
            }
        })
        .collect()
}

fn alarm_if(breaches: usize, m: usize) -> StateValue {
    if breaches >= m {
        StateValue::Alarm
    } else {
        StateValue::Ok
    }
}

/// AWS's decision over the evaluation range (ALERTING.md §4.4 and its truth tables).
fn decide(config: &AlarmConfig, slots: &[Slot]) -> Decision {
    let n = config.evaluation_periods as usize;
    let m = config.m() as usize;
    let real: Vec<usize> = (0..slots.len())
        .filter(|&i| slots[i].value.is_some())
        .collect();
    let breaches = |idx: &[usize]| idx.iter().filter(|&&i| slots[i].breaching).count();
    let basis = |considered: Vec<usize>, fills: Vec<usize>, fill| Basis {
        considered,
        fills,
        fill,
    };

    // EvaluateLowSampleCountPercentile=ignore: "the alarm state does not change during periods
    // with too few data points to be statistically significant".
    if config.evaluate_low_sample_count_percentile == Some(LowSampleCount::Ignore)
        && slots
            .iter()
            .take(n)
            .any(|s| s.value.is_some() && s.low_sample)
    {
        return Decision::Keep;
    }

    // 1. The newest N all present, and 2. at least N real datapoints in the range: the N most
    //    recent real ones decide; TreatMissingData is not consulted.
    if real.len() >= n {
        let considered: Vec<usize> = real.into_iter().take(n).collect();
        let state = alarm_if(breaches(&considered), m);
        return Decision::State(state, basis(considered, Vec::new(), Fill::Missing));
    }

    // 3. Fewer than N real datapoints: fill the gaps, as few as possible, newest first.
    let missing: Vec<usize> = (0..slots.len())
        .filter(|&i| slots[i].value.is_none())
        .collect();
    let fills: Vec<usize> = missing.into_iter().take(n - real.len()).collect();
    let b = breaches(&real);
    match config.treat_missing() {
        TreatMissingData::Breaching => {
            let state = alarm_if(b + fills.len(), m);
            Decision::State(state, basis(real, fills, Fill::Breaching))
        }
        TreatMissingData::NotBreaching => {
            Decision::State(alarm_if(b, m), basis(real, fills, Fill::NonBreaching))
        }
        TreatMissingData::Missing if real.is_empty() => Decision::State(
            StateValue::InsufficientData,
            basis(real, fills, Fill::Missing),
        ),
        TreatMissingData::Ignore if real.is_empty() => Decision::Keep,
        tmd => {
            if b >= m {
                return Decision::State(StateValue::Alarm, basis(real, Vec::new(), Fill::Missing));
            }
            if b < real.len() {
                // A real non-breaching datapoint: ALARM needs M breaching real ones (doc rows
                // `0 - - - -` and, for M=2, `0 - X - -` are OK under every treatment).
                return Decision::State(StateValue::Ok, basis(real, Vec::new(), Fill::Missing));
            }
            // Every real datapoint breaches but fewer than M. `missing` applies the
            // premature-alarm rule: ALARM when the oldest breaching datapoint within the last N
            // is at least M periods old (doc rows `- - X - -` M=3 and `- - - X -` M=2); a newer
            // one alone does not move the alarm. `ignore` keeps the state (same rows).
            let oldest_in_last_n = real.iter().copied().filter(|&i| i < n).max();
            match (tmd, oldest_in_last_n) {
                (TreatMissingData::Missing, Some(i)) if i + 1 >= m => {
                    Decision::State(StateValue::Alarm, basis(real, Vec::new(), Fill::Missing))
                }
                _ => Decision::Keep,
            }
        }
    }
}

/// Evaluates `config` at `now_ms` over the metric's datapoints (any superset of the evaluation
/// range; others are ignored) from `current`. Pure: the caller stores the result and runs the
/// actions of `transition`.
pub fn evaluate(
    config: &AlarmConfig,
    current: &AlarmStatus,
    data: &[MetricDatum],
    now_ms: i64,
) -> Evaluation {
    let end_ms = evaluation_time_ms(config.period, config.evaluation_periods, now_ms);
    let range = evaluation_range(config.evaluation_periods);
    let slots = slots(config, data, end_ms, range);
    let next_evaluation_ms = next_evaluation_ms(config.period, config.evaluation_periods, now_ms);
    let unchanged = Evaluation {
        state: current.value,
        transition: None,
        next_evaluation_ms,
    };
    let Decision::State(state, basis) = decide(config, &slots) else {
        return unchanged;
    };
    if state == current.value {
        return unchanged;
    }
    let new = AlarmStatus {
        value: state,
        reason: reason::state_reason(config, current.value, state, &slots, &basis),
        reason_data: Some(reason::state_reason_data(
            config, now_ms, end_ms, &slots, &basis,
        )),
    };
    let history = HistoryItem::state_update(&config.alarm_name, now_ms, current, &new);
    Evaluation {
        state,
        transition: Some(Transition {
            old: current.clone(),
            new,
            timestamp_ms: now_ms,
            history,
        }),
        next_evaluation_ms,
    }
}

/// `SetAlarmState`: a temporary state set by hand. On a change the caller runs the actions of the
/// new state like after an evaluation; the next evaluation restores the computed state (it sees
/// the set state as current and transitions if they differ) [M][D]. `None` when the state is
/// already `value`.
pub fn set_alarm_state(
    alarm_name: &str,
    current: &AlarmStatus,
    value: StateValue,
    reason: &str,
    reason_data: Option<Value>,
    now_ms: i64,
) -> Option<Transition> {
    if value == current.value {
        return None;
    }
    let new = AlarmStatus {
        value,
        reason: reason.to_owned(),
        reason_data,
    };
    let history = HistoryItem::state_update(alarm_name, now_ms, current, &new);
    Some(Transition {
        old: current.clone(),
        new,
        timestamp_ms: now_ms,
        history,
    })
}
