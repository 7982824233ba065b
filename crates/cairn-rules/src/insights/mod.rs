//! CloudTrail Insights' method: per-minute counts of one API's calls (or of its calls failing
//! with one error code), a rolling baseline of those counts, and when a minute stands far
//! enough above it an insight starts; it ends once the rate has been back under the threshold
//! for a few minutes. Pure: the caller feeds calls by minute and says which minutes are over.
//!
//! The method, with [`Params::aws_like`]:
//! - **Counts**: calls per whole UTC minute of `eventTime`, each with its caller ARN, user
//!   agent and error code (`"null"` when none), for the attributions.
//! - **Baseline** of minute `m`: every minute of `[max(enabled, m - 7 days), m)`, minutes
//!   without calls counting as zero (a quiet API has a zero baseline). Its `average` is calls
//!   per minute; its spread the standard deviation of the per-minute counts; its duration
//!   (`baselineDuration`) the number of minutes.
//! - **Warm-up**: no insight before the baseline spans 36 hours (AWS: the first Insights
//!   events can take up to 36 hours).
//! - **Start**: minute `m` starts an insight when its count reaches the threshold
//!   `max(10, 3 × average, average + 5 × spread)`: ten calls at least, so that a single call
//!   on a quiet API is no anomaly; three times the usual rate; and far outside its usual
//!   variation. The Start record's `insight.average` is that first minute's count.
//! - **End**: after 5 consecutive minutes under the threshold (the baseline is the one the
//!   insight started with). `insightDuration` runs from the first to the last minute at or
//!   over the threshold; `insight.average` is calls per minute over it; the End record is
//!   dated the minute after the last one over.
//! - **Attributions**: for `userIdentityArn`, `userAgent` and `errorCode`, the five values
//!   with the highest average per minute, during the insight and over the baseline.
//! - **State** stays bounded: minutes older than the baseline window are dropped (but not
//!   those of an insight still open).

use std::collections::BTreeMap;

#[cfg(test)]
mod tests;

/// The attributes an insight is attributed to, in the order records list them.
pub const ATTRIBUTES: [&str; 3] = ["userIdentityArn", "userAgent", "errorCode"];
/// Values listed per attribution at most.
const TOP: usize = 5;

/// The method's knobs.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// The rolling baseline window, in minutes.
    pub baseline_minutes: i64,
    /// The baseline an insight needs at least, in minutes.
    pub warmup_minutes: i64,
    /// Calls in a minute below which no insight starts, whatever the baseline.
    pub min_calls: u64,
    /// The threshold is at least this many times the baseline average...
    pub factor: f64,
    /// ... and at least this many standard deviations above it.
    pub spread: f64,
    /// Minutes under the threshold that end an insight.
    pub quiet_minutes: i64,
}

impl Params {
    /// cairn's parameters (see the module's documentation).
    pub fn aws_like() -> Params {
        Params {
            baseline_minutes: 7 * 24 * 60,
            warmup_minutes: 36 * 60,
            min_calls: 10,
            factor: 3.0,
            spread: 5.0,
            quiet_minutes: 5,
        }
    }
}

/// One counted call's attribution values.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    pub user_identity_arn: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub error_code: Option<&'a str>,
}

#[derive(Clone, Debug, Default)]
struct Minute {
    count: u64,
    /// Calls by value, per attribute of [`ATTRIBUTES`].
    by: [BTreeMap<String, u64>; 3],
}

/// A value's average calls per minute.
#[derive(Clone, Debug, PartialEq)]
pub struct Share {
    pub value: String,
    pub average: f64,
}

/// One attribute's top values, during the insight and over the baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribution {
    pub attribute: &'static str,
    pub insight: Vec<Share>,
    pub baseline: Vec<Share>,
}

/// The baseline an insight is judged against.
#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    pub average: f64,
    /// The standard deviation of the per-minute counts.
    pub spread: f64,
    /// Minutes in the window.
    pub duration: i64,
    /// Per attribute, the top values' averages over the window.
    shares: [Vec<Share>; 3],
}

impl Baseline {
    pub fn threshold(&self, p: &Params) -> f64 {
        (p.min_calls as f64)
            .max(p.factor * self.average)
            .max(self.average + p.spread * self.spread)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Start,
    End,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Start => "Start",
            State::End => "End",
        }
    }
}

/// A Start or End as its record states it.
#[derive(Clone, Debug, PartialEq)]
pub struct Insight {
    pub state: State,
    /// The insight's first minute (minutes since the epoch): the same on Start and End.
    pub start_minute: i64,
    /// The record's `eventTime`, in minutes since the epoch.
    pub event_minute: i64,
    pub baseline_average: f64,
    pub insight_average: f64,
    pub baseline_duration: i64,
    /// End records only.
    pub insight_duration: Option<i64>,
    pub attributions: Vec<Attribution>,
}

#[derive(Clone, Debug)]
struct Open {
    start: i64,
    baseline: Baseline,
    threshold: f64,
    last_over: i64,
}

/// One API's (or one API and error code's) counts and insight state.
#[derive(Clone, Debug)]
pub struct Series {
    minutes: BTreeMap<i64, Minute>,
    /// Every minute up to this one has been judged.
    judged_through: i64,
    open: Option<Open>,
}

impl Series {
    /// A series whose minutes up to `judged_through` are already judged.
    pub fn new(judged_through: i64) -> Series {
        Series {
            minutes: BTreeMap::new(),
            judged_through,
            open: None,
        }
    }

    pub fn judged_through(&self) -> i64 {
        self.judged_through
    }

    /// Takes up judging after `minute` (a rebuilt series resumes where the last run stopped).
    pub fn set_judged_through(&mut self, minute: i64) {
        self.judged_through = minute;
    }

    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Counts a call in its minute.
    pub fn observe(&mut self, minute: i64, call: Call<'_>) {
        let m = self.minutes.entry(minute).or_default();
        m.count += 1;
        let values = [call.user_identity_arn, call.user_agent, call.error_code];
        for (i, v) in values.iter().enumerate() {
            *m.by[i].entry(v.unwrap_or("null").to_owned()).or_default() += 1;
        }
    }

    /// Calls per minute in `[from, to]`, minutes with calls only.
    pub fn counts(&self, from: i64, to: i64) -> impl Iterator<Item = (i64, u64)> + '_ {
        self.minutes
            .range(from..=to.max(from))
            .map(|(m, v)| (*m, v.count))
    }

    fn count(&self, minute: i64) -> u64 {
        self.minutes.get(&minute).map_or(0, |m| m.count)
    }

    /// The baseline of `minute`: the window before it, from `enabled` on.
    pub fn baseline(&self, minute: i64, enabled: i64, p: &Params) -> Baseline {
        let from = enabled.max(minute - p.baseline_minutes);
        let duration = (minute - from).max(0);
        let (mut sum, mut squares) = (0f64, 0f64);
        let mut totals: [BTreeMap<&str, u64>; 3] = Default::default();
        for (_, m) in self.minutes.range(from..minute.max(from)) {
            let c = m.count as f64;
            sum += c;
            squares += c * c;
            for (i, by) in m.by.iter().enumerate() {
                for (v, n) in by {
                    *totals[i].entry(v.as_str()).or_default() += n;
                }
            }
        }
        if duration == 0 {
            return Baseline {
                average: 0.0,
                spread: 0.0,
                duration,
                shares: Default::default(),
            };
        }
        let n = duration as f64;
        let average = sum / n;
        let spread = (squares / n - average * average).max(0.0).sqrt();
        Baseline {
            average,
            spread,
            duration,
            shares: totals.map(|t| top(t.into_iter().map(|(v, c)| (v, c as f64 / n)))),
        }
    }

    /// Judges every minute after the last judged one up to `through` (the last whole minute
    /// that is over), for a series whose baseline starts no earlier than `enabled`; answers
    /// the Starts and Ends that follow, in order.
    pub fn judge(&mut self, through: i64, enabled: i64, p: &Params) -> Vec<Insight> {
        let mut out = Vec::new();
        while self.judged_through < through {
            if let Some(open) = &self.open {
                let m = self.judged_through + 1;
                let (threshold, last_over) = (open.threshold, open.last_over);
                self.judged_through = m;
                if self.count(m) as f64 >= threshold {
                    if let Some(o) = self.open.as_mut() {
                        o.last_over = m;
                    }
                } else if m - last_over >= p.quiet_minutes
                    && let Some(o) = self.open.take()
                {
                    out.push(self.end(&o));
                }
                continue;
            }
            let candidate = self
                .minutes
                .range(self.judged_through + 1..=through)
                .find(|(_, v)| v.count >= p.min_calls)
                .map(|(m, _)| *m);
            let Some(m) = candidate else {
                self.judged_through = through;
                break;
            };
            self.judged_through = m;
            let baseline = self.baseline(m, enabled, p);
            let threshold = baseline.threshold(p);
            if baseline.duration >= p.warmup_minutes && self.count(m) as f64 >= threshold {
                let open = Open {
                    start: m,
                    baseline,
                    threshold,
                    last_over: m,
                };
                out.push(self.start(&open));
                self.open = Some(open);
            }
        }
        self.forget(through - p.baseline_minutes);
        out
    }

    /// Reopens an insight whose Start was recorded (by an earlier run) and whose End was not:
    /// judging goes on from its first minute, so its End comes out once it is due.
    pub fn resume(&mut self, start: i64, enabled: i64, p: &Params) {
        let baseline = self.baseline(start, enabled, p);
        let threshold = baseline.threshold(p);
        self.open = Some(Open {
            start,
            baseline,
            threshold,
            last_over: start,
        });
        self.judged_through = start;
    }

    /// Drops minutes before `minute`, except those of an open insight.
    fn forget(&mut self, minute: i64) {
        let keep_from = self.open.as_ref().map_or(minute, |o| o.start.min(minute));
        self.minutes = self.minutes.split_off(&keep_from);
    }

    fn insight_shares(&self, from: i64, to: i64) -> ([Vec<Share>; 3], u64) {
        let mut totals: [BTreeMap<&str, u64>; 3] = Default::default();
        let mut calls = 0;
        for (_, m) in self.minutes.range(from..=to) {
            calls += m.count;
            for (i, by) in m.by.iter().enumerate() {
                for (v, n) in by {
                    *totals[i].entry(v.as_str()).or_default() += n;
                }
            }
        }
        let minutes = (to - from + 1).max(1) as f64;
        (
            totals.map(|t| top(t.into_iter().map(|(v, c)| (v, c as f64 / minutes)))),
            calls,
        )
    }

    fn start(&self, o: &Open) -> Insight {
        let (shares, calls) = self.insight_shares(o.start, o.start);
        Insight {
            state: State::Start,
            start_minute: o.start,
            event_minute: o.start,
            baseline_average: o.baseline.average,
            insight_average: calls as f64,
            baseline_duration: o.baseline.duration,
            insight_duration: None,
            attributions: attributions(shares, &o.baseline),
        }
    }

    fn end(&self, o: &Open) -> Insight {
        let (shares, calls) = self.insight_shares(o.start, o.last_over);
        let duration = o.last_over - o.start + 1;
        Insight {
            state: State::End,
            start_minute: o.start,
            event_minute: o.last_over + 1,
            baseline_average: o.baseline.average,
            insight_average: calls as f64 / duration as f64,
            baseline_duration: o.baseline.duration,
            insight_duration: Some(duration),
            attributions: attributions(shares, &o.baseline),
        }
    }
}

fn attributions(insight: [Vec<Share>; 3], baseline: &Baseline) -> Vec<Attribution> {
    insight
        .into_iter()
        .zip(baseline.shares.iter())
        .zip(ATTRIBUTES)
        .map(|((insight, baseline), attribute)| Attribution {
            attribute,
            insight,
            baseline: baseline.clone(),
        })
        .collect()
}

/// The [`TOP`] values with the highest averages (ties by value).
fn top<'a>(values: impl Iterator<Item = (&'a str, f64)>) -> Vec<Share> {
    let mut all: Vec<(&str, f64)> = values.collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    all.into_iter()
        .take(TOP)
        .map(|(v, average)| Share {
            value: v.to_owned(),
            average,
        })
        .collect()
}
