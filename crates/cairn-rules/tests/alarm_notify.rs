//! The SNS message and subject of an alarm action against the shape of AWS's alarm notification
//! (ALERTING.md §4.6: keys in the order of a 2025 AWS recording, dates `…SSS+0000`, `Statistic`
//! upper-case, `Unit` null and `EvaluateLowSampleCountPercentile` "" when unset).

// Tests may unwrap (clippy.toml allows it only inside #[test] functions, not helpers).
#![allow(clippy::unwrap_used)]

use cairn_rules::alarm::{
    AlarmConfig, AlarmIdentity, AlarmStatus, ComparisonOperator, Dimension, HistoryItem,
    LowSampleCount, MetricDatum, StateValue, StatisticSpec, Transition, TreatMissingData, evaluate,
    notification_message, notification_subject,
};

const CONFIG_UPDATED: i64 = 1_758_316_202_117; // 2025-09-19T21:10:02.117Z
const CHANGED: i64 = 1_758_316_301_301; // 2025-09-19T21:11:41.301Z

fn cis_config() -> AlarmConfig {
    AlarmConfig::new(
        "cis-root-usage",
        "CISBenchmark",
        "RootUsage",
        StatisticSpec::from_parts(Some("Sum"), None).unwrap(),
        300,
        1,
        1.0,
        ComparisonOperator::GreaterThanOrEqualToThreshold,
    )
}

fn identity() -> AlarmIdentity {
    AlarmIdentity {
        account_id: "123456789012".into(),
        region: "us-east-1".into(),
        description: Some("CIS 4.3".into()),
        configuration_updated_ms: CONFIG_UPDATED,
        ok_actions: vec![],
        alarm_actions: vec!["arn:aws:sns:us-east-1:123456789012:cis-alarms".into()],
        insufficient_data_actions: vec![],
    }
}

/// ALERTING.md §4.6's example, byte for byte (compact JSON, as SNS carries it).
const AWS_EXAMPLE: &str = concat!(
    r#"{"AlarmName":"cis-root-usage","AlarmDescription":"CIS 4.3","AWSAccountId":"123456789012","#,
    r#""AlarmConfigurationUpdatedTimestamp":"2025-09-19T21:10:02.117+0000","NewStateValue":"ALARM","#,
    r#""NewStateReason":"Threshold Crossed: 1 datapoint [1.0 (19/09/25 21:05:00)] was greater than or equal to the threshold (1.0).","#,
    r#""StateChangeTime":"2025-09-19T21:11:41.301+0000","Region":"US East (N. Virginia)","#,
    r#""AlarmArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:cis-root-usage","OldStateValue":"INSUFFICIENT_DATA","#,
    r#""OKActions":[],"AlarmActions":["arn:aws:sns:us-east-1:123456789012:cis-alarms"],"InsufficientDataActions":[],"#,
    r#""Trigger":{"MetricName":"RootUsage","Namespace":"CISBenchmark","StatisticType":"Statistic","Statistic":"SUM","#,
    r#""Unit":null,"Dimensions":[],"Period":300,"EvaluationPeriods":1,"ComparisonOperator":"GreaterThanOrEqualToThreshold","#,
    r#""Threshold":1.0,"TreatMissingData":"missing","EvaluateLowSampleCountPercentile":""}}"#
);

#[test]
fn message_matches_the_aws_example_exactly() {
    let config = cis_config();
    let reason = "Threshold Crossed: 1 datapoint [1.0 (19/09/25 21:05:00)] was greater than or equal to the threshold (1.0).";
    let new = AlarmStatus {
        value: StateValue::Alarm,
        reason: reason.into(),
        reason_data: None,
    };
    let transition = Transition {
        old: AlarmStatus::initial(),
        new,
        timestamp_ms: CHANGED,
        history: HistoryItem {
            alarm_name: "cis-root-usage".into(),
            alarm_type: "MetricAlarm",
            timestamp_ms: CHANGED,
            history_item_type: "StateUpdate",
            history_summary: "Alarm updated from INSUFFICIENT_DATA to ALARM".into(),
            history_data: "{}".into(),
        },
    };
    let message = notification_message(&config, &identity(), &transition);
    assert_eq!(message.to_string(), AWS_EXAMPLE);
    assert_eq!(
        notification_subject("cis-root-usage", StateValue::Alarm, "us-east-1"),
        "ALARM: \"cis-root-usage\" in US East (N. Virginia)"
    );
}

#[test]
fn message_from_a_real_evaluation() {
    // The first root call lands at 21:07:13; the evaluation at 21:11:41.301 looks at the 300 s
    // period 21:06:00–21:11:00 and goes to ALARM.
    let config = cis_config();
    let data = [MetricDatum::value(1_758_316_033_000, 1.0)];
    let ev = evaluate(&config, &AlarmStatus::initial(), &data, CHANGED);
    let t = ev.transition.unwrap();
    let message = notification_message(&config, &identity(), &t);
    let want = AWS_EXAMPLE.replace("21:05:00)", "21:06:00)");
    assert_eq!(message.to_string(), want);
    assert_eq!(
        t.new.reason_data.unwrap().to_string(),
        r#"{"version":"1.0","queryDate":"2025-09-19T21:11:41.301+0000","startDate":"2025-09-19T21:06:00.000+0000","statistic":"Sum","period":300,"recentDatapoints":[1.0],"threshold":1.0,"evaluatedDatapoints":[{"timestamp":"2025-09-19T21:06:00.000+0000","sampleCount":1.0,"value":1.0}]}"#
    );
    assert_eq!(ev.next_evaluation_ms, 1_758_316_320_000);
}

#[test]
fn trigger_with_extended_statistic_dimensions_and_options() {
    let mut config = AlarmConfig::new(
        "p99-latency",
        "App",
        "Latency",
        StatisticSpec::from_parts(None, Some("p99")).unwrap(),
        60,
        5,
        250.0,
        ComparisonOperator::GreaterThanThreshold,
    );
    config.dimensions = vec![Dimension {
        name: "Service".into(),
        value: "api".into(),
    }];
    config.unit = Some("Milliseconds".into());
    config.datapoints_to_alarm = Some(3);
    config.treat_missing_data = Some(TreatMissingData::NotBreaching);
    config.evaluate_low_sample_count_percentile = Some(LowSampleCount::Ignore);
    let mut id = identity();
    id.region = "eu-west-1".into();
    id.description = None;
    id.ok_actions = vec!["arn:aws:sns:eu-west-1:123456789012:ok".into()];
    let transition = Transition {
        old: AlarmStatus {
            value: StateValue::Alarm,
            reason: "x".into(),
            reason_data: None,
        },
        new: AlarmStatus {
            value: StateValue::Ok,
            reason: "y".into(),
            reason_data: None,
        },
        timestamp_ms: CHANGED,
        history: HistoryItem {
            alarm_name: "p99-latency".into(),
            alarm_type: "MetricAlarm",
            timestamp_ms: CHANGED,
            history_item_type: "StateUpdate",
            history_summary: String::new(),
            history_data: String::new(),
        },
    };
    let m = notification_message(&config, &id, &transition);
    assert_eq!(m["AlarmDescription"], serde_json::Value::Null);
    assert_eq!(m["Region"], "EU (Ireland)");
    assert_eq!(
        m["AlarmArn"],
        "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:p99-latency"
    );
    assert_eq!(m["OldStateValue"], "ALARM");
    assert_eq!(m["NewStateValue"], "OK");
    assert_eq!(
        m["Trigger"].to_string(),
        concat!(
            r#"{"MetricName":"Latency","Namespace":"App","StatisticType":"ExtendedStatistic","ExtendedStatistic":"p99","#,
            r#""Unit":"Milliseconds","Dimensions":[{"value":"api","name":"Service"}],"Period":60,"EvaluationPeriods":5,"#,
            r#""DatapointsToAlarm":3,"ComparisonOperator":"GreaterThanThreshold","Threshold":250.0,"#,
            r#""TreatMissingData":"notBreaching","EvaluateLowSampleCountPercentile":"ignore"}"#
        )
    );
    assert_eq!(
        notification_subject("alarm-test", StateValue::Ok, "eu-west-1"),
        "OK: \"alarm-test\" in EU (Ireland)"
    );
    assert_eq!(
        notification_subject("x", StateValue::InsufficientData, "xx-new-9"),
        "INSUFFICIENT_DATA: \"x\" in xx-new-9"
    );
}
