//! Table-driven evaluation over statistics, extended statistics and comparison operators, plus
//! low-sample-count percentiles and which datapoints belong to an alarm's metric. Each row has
//! N=1 (range 3), Period 60, evaluation at 2026-12-04T10:05:20.500Z, so the datapoints all fall in
//! the newest period 10:04:00–10:05:00 and the alarm starts at INSUFFICIENT_DATA.

// Tests may unwrap (clippy.toml allows it only inside #[test] functions, not helpers).
#![allow(clippy::unwrap_used)]

use cairn_rules::alarm::{
    AlarmConfig, AlarmStatus, ComparisonOperator, DatumValue, Dimension, LowSampleCount,
    MetricDatum, StateValue, StatisticSet, StatisticSpec, evaluate,
};

const END: i64 = 1_796_378_700_000;
const NOW: i64 = END + 20_500;
const NEWEST: i64 = END - 60_000;

fn cfg(stat: &str, op: &str, threshold: f64) -> AlarmConfig {
    let spec = if stat.starts_with(|c: char| c.is_ascii_uppercase())
        && !stat.contains('(')
        && stat != "IQM"
    {
        StatisticSpec::from_parts(Some(stat), None)
    } else {
        StatisticSpec::from_parts(None, Some(stat))
    }
    .unwrap();
    let c = AlarmConfig::new(
        "s",
        "App",
        "Latency",
        spec,
        60,
        1,
        threshold,
        ComparisonOperator::parse(op).unwrap(),
    );
    c.validate().unwrap();
    c
}

fn values(vals: &[f64]) -> Vec<MetricDatum> {
    vals.iter()
        .enumerate()
        .map(|(i, v)| MetricDatum::value(NEWEST + (500 * i as i64) % 60_000, *v))
        .collect()
}

fn one_to(n: u32) -> Vec<f64> {
    (1..=n).map(f64::from).collect()
}

fn run(c: &AlarmConfig, data: &[MetricDatum]) -> Option<(StateValue, String)> {
    evaluate(c, &AlarmStatus::initial(), data, NOW)
        .transition
        .map(|t| (t.new.value, t.new.reason))
}

const D: &str = "04/12/26 10:04:00";

/// (statistic, operator, threshold, values in the newest period, expected state, reason).
type Row = (
    &'static str,
    &'static str,
    f64,
    Vec<f64>,
    StateValue,
    String,
);

#[rustfmt::skip]
#[test]
fn statistics_and_operators() {
    use StateValue::{Alarm, Ok};
    let small = [1.0, 2.0, 3.0, 6.0];
    let rows: Vec<Row> = vec![
        // The five statistics over 1, 2, 3, 6.
        ("SampleCount", "GreaterThanThreshold", 3.0, small.to_vec(), Alarm,
         format!("Threshold Crossed: 1 datapoint [4.0 ({D})] was greater than the threshold (3.0).")),
        ("Sum", "GreaterThanThreshold", 12.0, small.to_vec(), Ok,
         format!("Threshold Crossed: 1 datapoint [12.0 ({D})] was not greater than the threshold (12.0).")),
        ("Average", "GreaterThanOrEqualToThreshold", 3.0, small.to_vec(), Alarm,
         format!("Threshold Crossed: 1 datapoint [3.0 ({D})] was greater than or equal to the threshold (3.0).")),
        ("Minimum", "LessThanThreshold", 1.0, small.to_vec(), Ok,
         format!("Threshold Crossed: 1 datapoint [1.0 ({D})] was not less than the threshold (1.0).")),
        ("Maximum", "LessThanOrEqualToThreshold", 6.0, small.to_vec(), Alarm,
         format!("Threshold Crossed: 1 datapoint [6.0 ({D})] was less than or equal to the threshold (6.0).")),
        // Every static operator at the boundary value (5 vs 5) and off it.
        ("Maximum", "GreaterThanOrEqualToThreshold", 5.0, vec![5.0], Alarm,
         format!("Threshold Crossed: 1 datapoint [5.0 ({D})] was greater than or equal to the threshold (5.0).")),
        ("Maximum", "GreaterThanThreshold", 5.0, vec![5.0], Ok,
         format!("Threshold Crossed: 1 datapoint [5.0 ({D})] was not greater than the threshold (5.0).")),
        ("Maximum", "LessThanThreshold", 5.0, vec![5.0], Ok,
         format!("Threshold Crossed: 1 datapoint [5.0 ({D})] was not less than the threshold (5.0).")),
        ("Maximum", "LessThanOrEqualToThreshold", 5.0, vec![5.0], Alarm,
         format!("Threshold Crossed: 1 datapoint [5.0 ({D})] was less than or equal to the threshold (5.0).")),
        ("Maximum", "LessThanThreshold", 5.0, vec![4.5], Alarm,
         format!("Threshold Crossed: 1 datapoint [4.5 ({D})] was less than the threshold (5.0).")),
        ("Maximum", "LessThanOrEqualToThreshold", 5.0, vec![5.25], Ok,
         format!("Threshold Crossed: 1 datapoint [5.25 ({D})] was not less than or equal to the threshold (5.0).")),
        ("Maximum", "GreaterThanThreshold", -0.5, vec![0.0], Alarm,
         format!("Threshold Crossed: 1 datapoint [0.0 ({D})] was greater than the threshold (-0.5).")),
        // Java double formatting of large and fractional numbers.
        ("Sum", "GreaterThanThreshold", 1e7, vec![2e7], Alarm,
         format!("Threshold Crossed: 1 datapoint [2.0E7 ({D})] was greater than the threshold (1.0E7).")),
        ("Average", "GreaterThanThreshold", 0.1, vec![0.1, 0.2], Alarm,
         format!("Threshold Crossed: 1 datapoint [0.15000000000000002 ({D})] was greater than the threshold (0.1).")),
        // Extended statistics over 1..=100 (nearest-rank percentiles).
        ("p90", "GreaterThanThreshold", 89.5, one_to(100), Alarm,
         format!("Threshold Crossed: 1 datapoint [90.0 ({D})] was greater than the threshold (89.5).")),
        ("p99.9", "GreaterThanOrEqualToThreshold", 100.0, one_to(100), Alarm,
         format!("Threshold Crossed: 1 datapoint [100.0 ({D})] was greater than or equal to the threshold (100.0).")),
        ("p50", "LessThanThreshold", 50.0, one_to(100), Ok,
         format!("Threshold Crossed: 1 datapoint [50.0 ({D})] was not less than the threshold (50.0).")),
        ("tm(10%:90%)", "GreaterThanThreshold", 50.0, one_to(100), Alarm,
         format!("Threshold Crossed: 1 datapoint [50.5 ({D})] was greater than the threshold (50.0).")),
        ("tm90", "LessThanThreshold", 50.0, one_to(100), Alarm,
         format!("Threshold Crossed: 1 datapoint [45.5 ({D})] was less than the threshold (50.0).")),
        ("IQM", "GreaterThanThreshold", 60.0, one_to(100), Ok,
         format!("Threshold Crossed: 1 datapoint [50.5 ({D})] was not greater than the threshold (60.0).")),
        ("TM(:10)", "LessThanOrEqualToThreshold", 5.5, one_to(100), Alarm,
         format!("Threshold Crossed: 1 datapoint [5.5 ({D})] was less than or equal to the threshold (5.5).")),
        ("tc90", "GreaterThanOrEqualToThreshold", 90.0, one_to(100), Alarm,
         format!("Threshold Crossed: 1 datapoint [90.0 ({D})] was greater than or equal to the threshold (90.0).")),
        ("ts(0%:10%)", "GreaterThanThreshold", 55.0, one_to(100), Ok,
         format!("Threshold Crossed: 1 datapoint [55.0 ({D})] was not greater than the threshold (55.0).")),
        ("wm(10%:90%)", "GreaterThanThreshold", 50.0, one_to(100), Alarm,
         format!("Threshold Crossed: 1 datapoint [50.5 ({D})] was greater than the threshold (50.0).")),
        ("PR(:25)", "GreaterThanThreshold", 20.0, one_to(100), Alarm,
         format!("Threshold Crossed: 1 datapoint [25.0 ({D})] was greater than the threshold (20.0).")),
    ];
    let count = rows.len();
    for (stat, op, threshold, vals, state, reason) in rows {
        let c = cfg(stat, op, threshold);
        assert_eq!(run(&c, &values(&vals)), Some((state, reason)), "{stat} {op} {threshold}");
    }
    assert!(count >= 25);
}

#[test]
fn low_sample_count_percentiles() {
    // p99 needs 10/(1-0.99) = 1000 samples; 100 is too few. AWS's "Percentile-based alarms and
    // low data samples": with `ignore` the state does not change; with `evaluate` (or unset) it
    // is evaluated anyway.
    let mut c = cfg("p99", "GreaterThanThreshold", 10.0);
    let low = values(&one_to(100));
    c.evaluate_low_sample_count_percentile = Some(LowSampleCount::Ignore);
    assert_eq!(run(&c, &low), None);
    c.evaluate_low_sample_count_percentile = Some(LowSampleCount::Evaluate);
    let want = Some((
        StateValue::Alarm,
        format!(
            "Threshold Crossed: 1 datapoint [99.0 ({D})] was greater than the threshold (10.0)."
        ),
    ));
    assert_eq!(run(&c, &low), want);
    c.evaluate_low_sample_count_percentile = None;
    assert_eq!(run(&c, &low), want);
    // 1000 samples in one datum (Values + Counts) are enough: `ignore` evaluates.
    c.evaluate_low_sample_count_percentile = Some(LowSampleCount::Ignore);
    let enough = vec![MetricDatum {
        timestamp_ms: NEWEST,
        value: DatumValue::Values {
            values: vec![1.0, 50.0],
            counts: vec![980.0, 20.0],
        },
        unit: None,
        dimensions: Vec::new(),
    }];
    assert_eq!(
        run(&c, &enough),
        Some((
            StateValue::Alarm,
            format!(
                "Threshold Crossed: 1 datapoint [50.0 ({D})] was greater than the threshold (10.0)."
            )
        ))
    );
    // Below the median the rule is 10/p: p10 needs 100 samples.
    let mut p10 = cfg("p10", "LessThanThreshold", 50.0);
    p10.evaluate_low_sample_count_percentile = Some(LowSampleCount::Ignore);
    assert_eq!(run(&p10, &values(&one_to(99))), None);
    assert_eq!(
        run(&p10, &values(&one_to(100))).map(|r| r.0),
        Some(StateValue::Alarm)
    );
}

#[test]
fn statistic_sets_have_no_percentiles() {
    let set = vec![MetricDatum {
        timestamp_ms: NEWEST,
        value: DatumValue::StatisticSet(StatisticSet {
            sample_count: 4.0,
            sum: 20.0,
            minimum: 1.0,
            maximum: 9.0,
        }),
        unit: None,
        dimensions: Vec::new(),
    }];
    let avg = cfg("Average", "GreaterThanThreshold", 4.0);
    assert_eq!(
        run(&avg, &set),
        Some((
            StateValue::Alarm,
            format!(
                "Threshold Crossed: 1 datapoint [5.0 ({D})] was greater than the threshold (4.0)."
            )
        ))
    );
    // The percentile of a statistic set is unavailable: the period is missing.
    let p90 = cfg("p90", "GreaterThanThreshold", 4.0);
    assert_eq!(run(&p90, &set), None);
}

#[test]
fn only_the_alarm_metric_dimensions_and_unit_count() {
    let dim = |n: &str, v: &str| Dimension {
        name: n.into(),
        value: v.into(),
    };
    let mut c = cfg("Sum", "GreaterThanOrEqualToThreshold", 3.0);
    c.dimensions = vec![dim("Env", "prod"), dim("Svc", "api")];
    c.unit = Some("Count".into());
    let datum = |v: f64, dims: Vec<Dimension>, unit: Option<&str>| MetricDatum {
        timestamp_ms: NEWEST + 5_000,
        value: DatumValue::Value(v),
        unit: unit.map(str::to_owned),
        dimensions: dims,
    };
    let data = vec![
        // Same dimension set in another order: counts.
        datum(
            2.0,
            vec![dim("Svc", "api"), dim("Env", "prod")],
            Some("Count"),
        ),
        // A subset or superset of dimensions is another metric.
        datum(100.0, vec![dim("Env", "prod")], Some("Count")),
        datum(
            100.0,
            vec![dim("Env", "prod"), dim("Svc", "api"), dim("X", "y")],
            Some("Count"),
        ),
        // Another unit aggregates separately.
        datum(
            100.0,
            vec![dim("Env", "prod"), dim("Svc", "api")],
            Some("Seconds"),
        ),
        datum(100.0, vec![dim("Env", "prod"), dim("Svc", "api")], None),
        // Outside the range (before it, and in the current, unfinished minute).
        datum(
            100.0,
            vec![dim("Env", "prod"), dim("Svc", "api")],
            Some("Count"),
        ),
    ];
    let mut data = data;
    data[5].timestamp_ms = END - 3 * 60_000 - 1;
    data.push(MetricDatum {
        timestamp_ms: END,
        ..data[0].clone()
    });
    assert_eq!(
        run(&c, &data),
        Some((
            StateValue::Ok,
            format!(
                "Threshold Crossed: 1 datapoint [2.0 ({D})] was not greater than or equal to the threshold (3.0)."
            )
        ))
    );
    // An alarm on a unit never published stays INSUFFICIENT_DATA (ALERTING.md §4.2).
    c.unit = Some("Bytes".into());
    assert_eq!(run(&c, &data), None);
}

#[test]
fn high_resolution_periods_evaluate_every_ten_seconds() {
    let mut c = cfg("Maximum", "GreaterThanThreshold", 1.0);
    c.period = 10;
    c.validate().unwrap();
    // At 10:05:20.500 the newest 10 s period is 10:05:10–10:05:20.
    let data = vec![MetricDatum::value(END + 12_000, 2.0)];
    let ev = evaluate(&c, &AlarmStatus::initial(), &data, NOW);
    assert_eq!(ev.next_evaluation_ms, END + 30_000);
    let t = ev.transition.unwrap();
    assert_eq!(
        t.new.reason,
        "Threshold Crossed: 1 datapoint [2.0 (04/12/26 10:05:10)] was greater than the threshold (1.0)."
    );
    let data = t.new.reason_data.unwrap();
    assert_eq!(data["startDate"], "2026-12-04T10:05:10.000+0000");
    assert_eq!(data["period"], 10);
}

#[test]
fn period_alignment_follows_the_evaluation_minute() {
    // ALERTING.md §4.4: Period 300, N 1: at the end of minute 5 minutes 1–5 count, at the end of
    // minute 6 minutes 2–6. A datum in minute 1 is seen at the first and not the second.
    let mut c = cfg("Sum", "GreaterThanOrEqualToThreshold", 1.0);
    c.period = 300;
    c.treat_missing_data = Some(cairn_rules::alarm::TreatMissingData::NotBreaching);
    let start = END - 5 * 60_000; // 10:00:00
    let data = vec![MetricDatum::value(start + 30_000, 1.0)];
    let first = evaluate(&c, &AlarmStatus::initial(), &data, END + 100);
    let t = first.transition.unwrap();
    assert_eq!(
        t.new.reason,
        "Threshold Crossed: 1 datapoint [1.0 (04/12/26 10:00:00)] was greater than or equal to the threshold (1.0)."
    );
    // Range is 3 periods, so the datum is still the newest real one a minute later (rule 2), but
    // now timestamped by the period that holds it, which starts at 09:56:00.
    let second = evaluate(&c, &t.new, &data, END + 60_000 + 100);
    assert!(second.transition.is_none());
    assert_eq!(second.state, StateValue::Alarm);
}
