//! Statistics over one period's samples: the five simple statistics and the extended ones
//! (percentiles `p99.9`, trimmed mean `tm..`/`TM(..)`, winsorized mean `wm..`, trimmed count
//! `tc..`, trimmed sum `ts..`, `IQM`, percentile rank `PR(..)`), with the grammar of AWS's
//! "CloudWatch statistics definitions" page.
//!
//! Extended statistics need the raw values; a period fed only by statistic sets has none of them,
//! so its extended statistic is unavailable and the period counts as missing, as in CloudWatch.

use super::config::AlarmError;
use super::period::PeriodAggregate;

/// The five statistics of `Statistic`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    SampleCount,
    Average,
    Sum,
    Minimum,
    Maximum,
}

impl Statistic {
    /// Parses the API value; anything else is the model's enum violation.
    pub fn parse(s: &str) -> Result<Self, AlarmError> {
        Ok(match s {
            "SampleCount" => Self::SampleCount,
            "Average" => Self::Average,
            "Sum" => Self::Sum,
            "Minimum" => Self::Minimum,
            "Maximum" => Self::Maximum,
            _ => {
                return Err(AlarmError::enum_violation(
                    s,
                    "statistic",
                    "[SampleCount, Average, Sum, Minimum, Maximum]",
                ));
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SampleCount => "SampleCount",
            Self::Average => "Average",
            Self::Sum => "Sum",
            Self::Minimum => "Minimum",
            Self::Maximum => "Maximum",
        }
    }

    /// The Java enum name the SNS message's `Trigger.Statistic` carries (`SUM`, `AVERAGE`).
    pub fn upper(self) -> &'static str {
        match self {
            Self::SampleCount => "SAMPLE_COUNT",
            Self::Average => "AVERAGE",
            Self::Sum => "SUM",
            Self::Minimum => "MINIMUM",
            Self::Maximum => "MAXIMUM",
        }
    }

    /// The statistic over one period; `None` for a period without samples.
    pub fn compute(self, agg: &PeriodAggregate) -> Option<f64> {
        if agg.sample_count <= 0.0 {
            return None;
        }
        Some(match self {
            Self::SampleCount => agg.sample_count,
            Self::Average => agg.sum / agg.sample_count,
            Self::Sum => agg.sum,
            Self::Minimum => agg.minimum,
            Self::Maximum => agg.maximum,
        })
    }
}

/// Bounds of a trimmed statistic: ranks as percentages (`tm(10%:90%)`) or values (`TM(150:1000)`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Bounds {
    /// Fractions of the sample weight, 0..=1.
    Percent { lo: f64, hi: f64 },
    /// Values; the lower bound is exclusive and the upper inclusive, as AWS defines `PR(100:2000)`.
    Absolute { lo: Option<f64>, hi: Option<f64> },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Trim {
    Mean,
    Winsorized,
    Count,
    Sum,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Percentile(f64),
    Trimmed(Trim, Bounds),
    PercentileRank { lo: Option<f64>, hi: Option<f64> },
}

/// An `ExtendedStatistic`, keeping the text the user gave (reason data and messages echo it).
#[derive(Debug, Clone, PartialEq)]
pub struct ExtendedStatistic {
    text: String,
    kind: Kind,
}

impl ExtendedStatistic {
    /// Parses AWS's extended statistic grammar. The message of the error is cairn's own wording
    /// [I]: AWS's exact text for a malformed extended statistic is not recorded in ALERTING.md.
    pub fn parse(text: &str) -> Result<Self, AlarmError> {
        let kind = parse_kind(text).ok_or_else(|| {
            AlarmError::validation(format!(
                "The value {text} for parameter ExtendedStatistic is not supported."
            ))
        })?;
        Ok(Self {
            text: text.to_owned(),
            kind,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The percentile as a fraction when this is `pNN`; the low-sample-count rule applies only to
    /// percentiles.
    pub fn percentile(&self) -> Option<f64> {
        match self.kind {
            Kind::Percentile(p) => Some(p),
            _ => None,
        }
    }

    /// AWS's "percentile-based alarms and low data samples": for 0.5 <= p < 1 too few samples is
    /// fewer than 10/(1-p); for 0 < p < 0.5 fewer than 10/p.
    pub fn is_low_sample(&self, sample_count: f64) -> bool {
        match self.percentile() {
            Some(p) if (0.5..1.0).contains(&p) => sample_count < 10.0 / (1.0 - p),
            Some(p) if p > 0.0 && p < 0.5 => sample_count < 10.0 / p,
            _ => false,
        }
    }

    /// The statistic over one period; `None` when it cannot be computed (no samples, or only
    /// statistic sets, which carry no raw values).
    pub fn compute(&self, agg: &PeriodAggregate) -> Option<f64> {
        if agg.has_statistic_set || agg.samples.is_empty() {
            return None;
        }
        let mut samples: Vec<(f64, f64)> = agg
            .samples
            .iter()
            .copied()
            .filter(|&(_, w)| w > 0.0)
            .collect();
        samples.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total: f64 = samples.iter().map(|s| s.1).sum();
        if total <= 0.0 {
            return None;
        }
        match self.kind {
            Kind::Percentile(p) => Some(percentile(&samples, total, p)),
            Kind::PercentileRank { lo, hi } => {
                let inside: f64 = samples
                    .iter()
                    .filter(|(v, _)| in_value_bounds(*v, lo, hi))
                    .map(|s| s.1)
                    .sum();
                Some(100.0 * inside / total)
            }
            Kind::Trimmed(trim, bounds) => trimmed(&samples, total, trim, bounds),
        }
    }
}

fn in_value_bounds(v: f64, lo: Option<f64>, hi: Option<f64>) -> bool {
    lo.is_none_or(|lo| v > lo) && hi.is_none_or(|hi| v <= hi)
}

/// Nearest-rank percentile over weighted, sorted samples: the smallest value whose cumulative
/// weight reaches p of the total.
fn percentile(samples: &[(f64, f64)], total: f64, p: f64) -> f64 {
    let target = p * total;
    let mut cum = 0.0;
    for &(v, w) in samples {
        cum += w;
        if cum >= target && cum > 0.0 {
            return v;
        }
    }
    samples.last().map_or(0.0, |s| s.0)
}

fn trimmed(samples: &[(f64, f64)], total: f64, trim: Trim, bounds: Bounds) -> Option<f64> {
    // (value, weight kept) after trimming; winsorizing clamps instead of dropping.
    let kept: Vec<(f64, f64)> = match bounds {
        Bounds::Percent { lo, hi } => {
            let (lo_w, hi_w) = (lo * total, hi * total);
            if trim == Trim::Winsorized {
                // The kept rank window is (lo, hi] as for tm: its smallest value is the first one
                // past lo of the weight, its largest the hi-th percentile.
                let lo_v = samples
                    .iter()
                    .scan(0.0, |cum, &(v, w)| {
                        *cum += w;
                        Some((v, *cum))
                    })
                    .find(|&(_, cum)| cum > lo * total)
                    .map_or(f64::NEG_INFINITY, |(v, _)| v);
                let hi_v = percentile(samples, total, hi);
                samples
                    .iter()
                    .map(|&(v, w)| (v.clamp(lo_v, hi_v.max(lo_v)), w))
                    .collect()
            } else {
                // Each sample covers the weight interval (cum - w, cum]; keep the part of it that
                // lies inside the rank window, so weights and ties trim proportionally.
                let mut cum = 0.0;
                samples
                    .iter()
                    .map(|&(v, w)| {
                        let start = cum;
                        cum += w;
                        (v, (cum.min(hi_w) - start.max(lo_w)).max(0.0))
                    })
                    .collect()
            }
        }
        Bounds::Absolute { lo, hi } => {
            if trim == Trim::Winsorized {
                samples
                    .iter()
                    .map(|&(v, w)| {
                        let v = lo.map_or(v, |lo| v.max(lo));
                        (hi.map_or(v, |hi| v.min(hi)), w)
                    })
                    .collect()
            } else {
                samples
                    .iter()
                    .map(|&(v, w)| (v, if in_value_bounds(v, lo, hi) { w } else { 0.0 }))
                    .collect()
            }
        }
    };
    let weight: f64 = kept.iter().map(|s| s.1).sum();
    let sum: f64 = kept.iter().map(|s| s.0 * s.1).sum();
    match trim {
        Trim::Count => Some(weight),
        Trim::Sum => Some(sum),
        Trim::Mean | Trim::Winsorized => (weight > 0.0).then(|| sum / weight),
    }
}

fn number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
    {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A percentage 0..=100 written without `%` (`p99.9`, `tm99`) as a fraction.
fn percentage(s: &str) -> Option<f64> {
    number(s)
        .filter(|v| (0.0..=100.0).contains(v))
        .map(|v| v / 100.0)
}

fn parse_kind(text: &str) -> Option<Kind> {
    if text == "IQM" {
        return Some(Kind::Trimmed(
            Trim::Mean,
            Bounds::Percent { lo: 0.25, hi: 0.75 },
        ));
    }
    if let Some(rest) = text.strip_prefix('p') {
        return percentage(rest).map(Kind::Percentile);
    }
    if let Some(inner) = text.strip_prefix("PR(").and_then(|r| r.strip_suffix(')')) {
        let (lo, hi) = inner.split_once(':')?;
        let lo = optional(lo, number)?;
        let hi = optional(hi, number)?;
        if lo.is_none() && hi.is_none() {
            return None;
        }
        return Some(Kind::PercentileRank { lo, hi });
    }
    let (prefix, rest) = (text.get(..2)?, text.get(2..)?);
    let trim = match prefix.to_ascii_lowercase().as_str() {
        "tm" => Trim::Mean,
        "wm" => Trim::Winsorized,
        "tc" => Trim::Count,
        "ts" => Trim::Sum,
        _ => return None,
    };
    let lower = prefix.chars().all(|c| c.is_ascii_lowercase());
    let upper = prefix.chars().all(|c| c.is_ascii_uppercase());
    if let Some(inner) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        let (lo, hi) = inner.split_once(':')?;
        if lower {
            // tm(10%:90%), tm(:95%), tm(5%:)
            let pct = |s: &str| s.strip_suffix('%').and_then(percentage);
            let lo = optional(lo, pct)?.unwrap_or(0.0);
            let hi = optional(hi, pct)?.unwrap_or(1.0);
            (lo < hi).then_some(Kind::Trimmed(trim, Bounds::Percent { lo, hi }))
        } else if upper {
            let lo = optional(lo, number)?;
            let hi = optional(hi, number)?;
            if lo.is_none() && hi.is_none() || lo.zip(hi).is_some_and(|(l, h)| l >= h) {
                return None;
            }
            Some(Kind::Trimmed(trim, Bounds::Absolute { lo, hi }))
        } else {
            None
        }
    } else if lower {
        // Shorthand tm99 = tm(0%:99%).
        let hi = percentage(rest)?;
        (hi > 0.0).then_some(Kind::Trimmed(trim, Bounds::Percent { lo: 0.0, hi }))
    } else {
        None
    }
}

/// `""` is an open bound; anything else must parse. `None` = malformed, `Some(None)` = open.
fn optional(s: &str, f: impl Fn(&str) -> Option<f64>) -> Option<Option<f64>> {
    if s.is_empty() {
        Some(None)
    } else {
        f(s).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agg(values: &[f64]) -> PeriodAggregate {
        let mut a = PeriodAggregate::empty(0);
        for &v in values {
            a.add_value(v, 1.0);
        }
        a
    }

    fn ext(s: &str, values: &[f64]) -> Option<f64> {
        ExtendedStatistic::parse(s).unwrap().compute(&agg(values))
    }

    #[test]
    fn grammar() {
        for ok in [
            "p99",
            "p99.9",
            "p0",
            "p100",
            "p50",
            "tm99",
            "tm(10%:90%)",
            "tm(:95%)",
            "tm(5%:)",
            "TM(150:1000)",
            "TM(:0.5)",
            "wm98",
            "wm(5%:95%)",
            "tc90",
            "TC(1:2)",
            "ts(10%:90%)",
            "IQM",
            "PR(:300)",
            "PR(100:2000)",
        ] {
            assert!(ExtendedStatistic::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "p101",
            "p",
            "px",
            "P99",
            "tm",
            "tm(90%:10%)",
            "Tm99",
            "TM(5:1)",
            "PR(:)",
            "iqm",
            "xx99",
            "tm(10:90)",
            "p-1",
        ] {
            let err = ExtendedStatistic::parse(bad).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("The value {bad} for parameter ExtendedStatistic is not supported.")
            );
        }
    }

    #[test]
    fn values() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(ext("p90", &v), Some(90.0));
        assert_eq!(ext("p99.9", &v), Some(100.0));
        assert_eq!(ext("p50", &v), Some(50.0));
        assert_eq!(ext("tm(10%:90%)", &v), Some(50.5));
        assert_eq!(ext("tm90", &v), Some(45.5));
        assert_eq!(ext("IQM", &v), Some(50.5));
        assert_eq!(ext("tc90", &v), Some(90.0));
        assert_eq!(ext("ts(0%:10%)", &v), Some(55.0));
        assert_eq!(ext("TM(:10)", &v), Some(5.5));
        assert_eq!(ext("PR(:25)", &v), Some(25.0));
        assert_eq!(ext("PR(90:)", &v), Some(10.0));
        assert_eq!(ext("WM(10:20)", &[5.0, 15.0, 25.0]), Some(15.0));
    }

    #[test]
    fn low_sample_thresholds() {
        let p99 = ExtendedStatistic::parse("p99").unwrap();
        assert!(p99.is_low_sample(999.0));
        assert!(!p99.is_low_sample(1000.0));
        let p10 = ExtendedStatistic::parse("p10").unwrap();
        assert!(p10.is_low_sample(99.0));
        assert!(!p10.is_low_sample(100.0));
        assert!(!ExtendedStatistic::parse("p100").unwrap().is_low_sample(1.0));
        assert!(!ExtendedStatistic::parse("tm99").unwrap().is_low_sample(1.0));
    }
}
