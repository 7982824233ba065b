//! Datapoints as the evaluator sees them, their aggregation into the alarm's periods, and the
//! clock arithmetic: when an evaluation happens and which periods it looks at.
//!
//! AWS evaluates alarms with Period >= 60 s every minute over the trailing window, high-resolution
//! ones (10/20/30 s) every 10 s (ALERTING.md §4.4: Period 300, N 1 → at the end of minute 5 data of
//! minutes 1–5, at the end of minute 6 minutes 2–6). So periods are aligned to the evaluation
//! instant, not to multiples of the period; the AWS sample with queryDate 17:04:40.985, period 300
//! and startDate 16:59:00 shows exactly that. An alarm whose Period × EvaluationPeriods exceeds a
//! day is evaluated once per hour (user guide, "Alarm evaluation"). This is AWS's default sliding
//! window; the 2025 `EvaluationWindow: WallClockWindow` option is not modelled.

use super::config::{AlarmConfig, Dimension};

/// `StatisticValues` of `PutMetricData`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatisticSet {
    pub sample_count: f64,
    pub sum: f64,
    pub minimum: f64,
    pub maximum: f64,
}

/// The value forms `PutMetricData` accepts (and a metric filter emits a `Value`).
#[derive(Debug, Clone, PartialEq)]
pub enum DatumValue {
    Value(f64),
    /// `Values` with `Counts` (a missing count is 1).
    Values {
        values: Vec<f64>,
        counts: Vec<f64>,
    },
    StatisticSet(StatisticSet),
}

/// One stored datapoint of a metric.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDatum {
    pub timestamp_ms: i64,
    pub value: DatumValue,
    /// `None` is AWS's unit `None`.
    pub unit: Option<String>,
    pub dimensions: Vec<Dimension>,
}

impl MetricDatum {
    /// A plain value without unit or dimensions.
    pub fn value(timestamp_ms: i64, value: f64) -> Self {
        Self {
            timestamp_ms,
            value: DatumValue::Value(value),
            unit: None,
            dimensions: Vec::new(),
        }
    }
}

/// Everything one period's datapoints give: the simple statistics, and the raw weighted values
/// extended statistics need.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodAggregate {
    /// Start of the period; AWS timestamps a datapoint with it.
    pub start_ms: i64,
    pub sample_count: f64,
    pub sum: f64,
    pub minimum: f64,
    pub maximum: f64,
    /// (value, count) of raw values.
    pub samples: Vec<(f64, f64)>,
    /// A statistic set contributed: raw values are incomplete, extended statistics unavailable.
    pub has_statistic_set: bool,
}

impl PeriodAggregate {
    /// The aggregate of `values`, all taken to fall in the period starting at `start_ms`
    /// (`GetMetricStatistics` groups datapoints itself).
    pub fn of<'a>(start_ms: i64, values: impl IntoIterator<Item = &'a DatumValue>) -> Self {
        let mut agg = Self::empty(start_ms);
        for v in values {
            agg.add(v);
        }
        agg
    }

    pub(crate) fn empty(start_ms: i64) -> Self {
        Self {
            start_ms,
            sample_count: 0.0,
            sum: 0.0,
            minimum: f64::INFINITY,
            maximum: f64::NEG_INFINITY,
            samples: Vec::new(),
            has_statistic_set: false,
        }
    }

    pub(crate) fn add_value(&mut self, v: f64, count: f64) {
        self.sample_count += count;
        self.sum += v * count;
        self.minimum = self.minimum.min(v);
        self.maximum = self.maximum.max(v);
        self.samples.push((v, count));
    }

    fn add(&mut self, value: &DatumValue) {
        match value {
            DatumValue::Value(v) => self.add_value(*v, 1.0),
            DatumValue::Values { values, counts } => {
                for (i, v) in values.iter().enumerate() {
                    self.add_value(*v, counts.get(i).copied().unwrap_or(1.0));
                }
            }
            DatumValue::StatisticSet(s) => {
                self.has_statistic_set = true;
                self.sample_count += s.sample_count;
                self.sum += s.sum;
                self.minimum = self.minimum.min(s.minimum);
                self.maximum = self.maximum.max(s.maximum);
            }
        }
    }
}

/// How often an alarm is evaluated: every hour when Period × EvaluationPeriods exceeds a day,
/// every 10 s for high-resolution periods, else every minute.
fn cadence_ms(period: u32, evaluation_periods: u32) -> i64 {
    if u64::from(period) * u64::from(evaluation_periods) > 86_400 {
        3_600_000
    } else if period < 60 {
        10_000
    } else {
        60_000
    }
}

/// The instant an evaluation at `now_ms` looks back from: `now` floored to the cadence. The
/// newest period is `[t - Period, t)`.
pub fn evaluation_time_ms(period: u32, evaluation_periods: u32, now_ms: i64) -> i64 {
    let cadence = cadence_ms(period, evaluation_periods);
    now_ms.div_euclid(cadence) * cadence
}

/// When the next evaluation after `now_ms` is due: the next minute (10 s, hour) boundary.
pub fn next_evaluation_ms(period: u32, evaluation_periods: u32, now_ms: i64) -> i64 {
    evaluation_time_ms(period, evaluation_periods, now_ms) + cadence_ms(period, evaluation_periods)
}

/// How many periods an evaluation fetches: more than N (AWS's example: N 3 → 5); the formula
/// N + max(⌊N/3⌋, 2) is LocalStack's reading of the docs [C LocalStack alarm_scheduler].
pub fn evaluation_range(evaluation_periods: u32) -> u32 {
    evaluation_periods + (evaluation_periods / 3).max(2)
}

fn same_dimensions(a: &[Dimension], b: &[Dimension]) -> bool {
    a.len() == b.len() && a.iter().all(|d| b.contains(d))
}

/// The `count` periods ending at `end_ms`, newest first, each `None` when no datapoint of the
/// alarm's metric (exact dimension set; the alarm's unit when it names one) fell in it.
pub(crate) fn aggregate(
    config: &AlarmConfig,
    data: &[MetricDatum],
    end_ms: i64,
    count: u32,
) -> Vec<Option<PeriodAggregate>> {
    let period_ms = i64::from(config.period) * 1000;
    let mut periods: Vec<Option<PeriodAggregate>> = vec![None; count as usize];
    let oldest = end_ms - i64::from(count) * period_ms;
    for d in data {
        if d.timestamp_ms < oldest || d.timestamp_ms >= end_ms {
            continue;
        }
        if !same_dimensions(&d.dimensions, &config.dimensions) {
            continue;
        }
        if let Some(unit) = &config.unit {
            // Units aggregate separately; a datum without unit has AWS's unit "None".
            if d.unit.as_deref().unwrap_or("None") != unit {
                continue;
            }
        }
        let index = usize::try_from((end_ms - 1 - d.timestamp_ms) / period_ms).unwrap_or(0);
        if let Some(slot) = periods.get_mut(index) {
            let start = end_ms - (index as i64 + 1) * period_ms;
            slot.get_or_insert_with(|| PeriodAggregate::empty(start))
                .add(&d.value);
        }
    }
    periods
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cadence_and_alignment() {
        // 17:04:40.985 → looks back from 17:04:00; next evaluation at 17:05:00.
        let now = 1_570_035_880_985;
        assert_eq!(evaluation_time_ms(300, 1, now), 1_570_035_840_000);
        assert_eq!(next_evaluation_ms(300, 1, now), 1_570_035_900_000);
        assert_eq!(evaluation_time_ms(10, 3, now), 1_570_035_880_000);
        assert_eq!(next_evaluation_ms(10, 3, now), 1_570_035_890_000);
        // 288 × 300 s is exactly a day: still every minute; 2 × 86400 s: every hour (17:00).
        assert_eq!(next_evaluation_ms(300, 288, now), 1_570_035_900_000);
        assert_eq!(evaluation_time_ms(86_400, 2, now), 1_570_035_600_000);
        assert_eq!(next_evaluation_ms(86_400, 2, now), 1_570_039_200_000);
        assert_eq!(evaluation_range(1), 3);
        assert_eq!(evaluation_range(3), 5);
        assert_eq!(evaluation_range(9), 12);
    }
}
