//! `PutMetricAlarm` validation of the evaluation fields with AWS's messages and error codes.

// Tests may unwrap (clippy.toml allows it only inside #[test] functions, not helpers).
#![allow(clippy::unwrap_used)]

use cairn_rules::alarm::{
    AlarmConfig, AlarmError, ComparisonOperator, LowSampleCount, StatisticSpec, TreatMissingData,
};

fn base() -> AlarmConfig {
    AlarmConfig::new(
        "a",
        "N",
        "M",
        StatisticSpec::from_parts(Some("Sum"), None).unwrap(),
        60,
        1,
        1.0,
        ComparisonOperator::GreaterThanOrEqualToThreshold,
    )
}

fn err(c: &AlarmConfig) -> (String, &'static str) {
    let e = c.validate().unwrap_err();
    (e.to_string(), e.code())
}

#[test]
fn valid_periods() {
    for (period, n) in [
        (10, 1),
        (20, 3),
        (30, 2880),
        (60, 1440),
        (300, 288),
        (3600, 168),
        (86_400, 7),
    ] {
        let mut c = base();
        c.period = period;
        c.evaluation_periods = n;
        assert_eq!(c.validate(), Ok(()), "{period} x {n}");
    }
}

#[test]
fn messages() {
    let v = "ValidationError";
    let mut c = base();
    c.datapoints_to_alarm = Some(2);
    // The real AWS message (hashicorp/terraform#24070).
    assert_eq!(
        err(&c),
        (
            "DatapointsToAlarm must be less than or equal to EvaluationPeriods".into(),
            v
        )
    );

    let mut c = base();
    c.period = 45;
    assert_eq!(
        err(&c),
        ("Period must be 10, 20, 30 or a multiple of 60".into(), v)
    );

    let mut c = base();
    c.period = 0;
    assert_eq!(
        err(&c),
        ("1 validation error detected: Value '0' at 'period' failed to satisfy constraint: Member must have value greater than or equal to 1".into(), v)
    );
    let mut c = base();
    c.evaluation_periods = 0;
    assert_eq!(
        err(&c),
        ("1 validation error detected: Value '0' at 'evaluationPeriods' failed to satisfy constraint: Member must have value greater than or equal to 1".into(), v)
    );
    let mut c = base();
    c.datapoints_to_alarm = Some(0);
    assert_eq!(
        err(&c),
        ("1 validation error detected: Value '0' at 'datapointsToAlarm' failed to satisfy constraint: Member must have value greater than or equal to 1".into(), v)
    );

    let mut c = base();
    c.evaluation_periods = 1441;
    assert_eq!(
        err(&c),
        ("Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400) for alarms using period < 3600".into(), v)
    );
    // The real AWS message quoted from `terraform apply` failures.
    let mut c = base();
    c.period = 86_400;
    c.evaluation_periods = 8;
    assert_eq!(
        err(&c),
        ("Metrics cannot be checked across more than a week (EvaluationPeriods * Period must be <= 604800) for alarms using period >= 3600".into(), v)
    );

    let mut c = base();
    c.alarm_name = String::new();
    assert_eq!(
        err(&c),
        ("1 validation error detected: Value '' at 'alarmName' failed to satisfy constraint: Member must have length greater than or equal to 1".into(), v)
    );
}

#[test]
fn anomaly_bands_are_unsupported() {
    for op in [
        "LessThanLowerOrGreaterThanUpperThreshold",
        "LessThanLowerThreshold",
        "GreaterThanUpperThreshold",
    ] {
        let mut c = base();
        c.comparison_operator = ComparisonOperator::parse(op).unwrap();
        let e = c.validate().unwrap_err();
        assert!(matches!(e, AlarmError::Unsupported(_)), "{op}");
        assert!(e.to_string().contains(op) && e.to_string().contains("anomaly detection"));
    }
}

#[test]
fn enums_and_statistics() {
    assert_eq!(
        ComparisonOperator::parse("Bigger").unwrap_err().to_string(),
        "1 validation error detected: Value 'Bigger' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold, LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold, GreaterThanUpperThreshold]"
    );
    assert_eq!(
        StatisticSpec::from_parts(Some("Median"), None)
            .unwrap_err()
            .to_string(),
        "1 validation error detected: Value 'Median' at 'statistic' failed to satisfy constraint: Member must satisfy enum value set: [SampleCount, Average, Sum, Minimum, Maximum]"
    );
    let both = StatisticSpec::from_parts(Some("Sum"), Some("p99")).unwrap_err();
    assert_eq!(both.code(), "InvalidParameterCombination");
    assert_eq!(
        StatisticSpec::from_parts(None, Some("p101"))
            .unwrap_err()
            .to_string(),
        "The value p101 for parameter ExtendedStatistic is not supported."
    );
    assert_eq!(
        TreatMissingData::parse("notBreaching"),
        Ok(TreatMissingData::NotBreaching)
    );
    assert!(TreatMissingData::parse("zero").is_err());
    assert_eq!(LowSampleCount::parse("ignore"), Ok(LowSampleCount::Ignore));
    assert!(LowSampleCount::parse("skip").is_err());
    let mut c = base();
    assert_eq!(c.m(), 1);
    c.evaluation_periods = 5;
    assert_eq!(c.m(), 5);
    assert_eq!(c.treat_missing(), TreatMissingData::Missing);
}
