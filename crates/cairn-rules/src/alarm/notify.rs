//! The SNS message an alarm action publishes and its subject (ALERTING.md §4.6): key order and
//! formatting as in AWS's 2025 recording.

use serde_json::{Map, Value, json};

use super::config::{AlarmConfig, StatisticSpec};
use super::evaluate::{StateValue, Transition};
use super::format::reason_data_date;

/// What the message needs beyond the evaluation configuration: the alarm's identity and actions
/// as stored by the service.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmIdentity {
    pub account_id: String,
    pub region: String,
    pub description: Option<String>,
    pub configuration_updated_ms: i64,
    pub ok_actions: Vec<String>,
    pub alarm_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
}

impl AlarmIdentity {
    /// `arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>`.
    pub fn alarm_arn(&self, alarm_name: &str) -> String {
        let partition = if self.region.starts_with("cn-") {
            "aws-cn"
        } else if self.region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        };
        format!(
            "arn:{partition}:cloudwatch:{}:{}:alarm:{alarm_name}",
            self.region, self.account_id
        )
    }
}

/// The console's long region names that CloudWatch writes into `Subject` and `Region`; the
/// region code when cairn does not know the name. Current labels are [I] (ALERTING.md §4.6).
pub fn region_long_name(region: &str) -> &str {
    match region {
        "us-east-1" => "US East (N. Virginia)",
        "us-east-2" => "US East (Ohio)",
        "us-west-1" => "US West (N. California)",
        "us-west-2" => "US West (Oregon)",
        "af-south-1" => "Africa (Cape Town)",
        "ap-east-1" => "Asia Pacific (Hong Kong)",
        "ap-south-1" => "Asia Pacific (Mumbai)",
        "ap-south-2" => "Asia Pacific (Hyderabad)",
        "ap-northeast-1" => "Asia Pacific (Tokyo)",
        "ap-northeast-2" => "Asia Pacific (Seoul)",
        "ap-northeast-3" => "Asia Pacific (Osaka)",
        "ap-southeast-1" => "Asia Pacific (Singapore)",
        "ap-southeast-2" => "Asia Pacific (Sydney)",
        "ap-southeast-3" => "Asia Pacific (Jakarta)",
        "ap-southeast-4" => "Asia Pacific (Melbourne)",
        "ca-central-1" => "Canada (Central)",
        "ca-west-1" => "Canada West (Calgary)",
        "eu-central-1" => "EU (Frankfurt)",
        "eu-central-2" => "EU (Zurich)",
        "eu-west-1" => "EU (Ireland)",
        "eu-west-2" => "EU (London)",
        "eu-west-3" => "EU (Paris)",
        "eu-north-1" => "EU (Stockholm)",
        "eu-south-1" => "EU (Milan)",
        "eu-south-2" => "EU (Spain)",
        "il-central-1" => "Israel (Tel Aviv)",
        "me-south-1" => "Middle East (Bahrain)",
        "me-central-1" => "Middle East (UAE)",
        "sa-east-1" => "South America (Sao Paulo)",
        "us-gov-west-1" => "AWS GovCloud (US-West)",
        "us-gov-east-1" => "AWS GovCloud (US-East)",
        "cn-north-1" => "China (Beijing)",
        "cn-northwest-1" => "China (Ningxia)",
        other => other,
    }
}

/// `ALARM: "<AlarmName>" in US East (N. Virginia)`.
pub fn notification_subject(alarm_name: &str, new_state: StateValue, region: &str) -> String {
    format!(
        "{}: \"{alarm_name}\" in {}",
        new_state.as_str(),
        region_long_name(region)
    )
}

fn trigger(config: &AlarmConfig) -> Value {
    let mut t = Map::new();
    t.insert("MetricName".into(), json!(config.metric_name));
    t.insert("Namespace".into(), json!(config.namespace));
    match &config.statistic {
        StatisticSpec::Simple(s) => {
            t.insert("StatisticType".into(), json!("Statistic"));
            t.insert("Statistic".into(), json!(s.upper()));
        }
        StatisticSpec::Extended(e) => {
            t.insert("StatisticType".into(), json!("ExtendedStatistic"));
            t.insert("ExtendedStatistic".into(), json!(e.as_str()));
        }
    }
    t.insert("Unit".into(), json!(config.unit));
    let dims: Vec<Value> = config
        .dimensions
        .iter()
        .map(|d| json!({"value": d.value, "name": d.name}))
        .collect();
    t.insert("Dimensions".into(), Value::Array(dims));
    t.insert("Period".into(), json!(config.period));
    t.insert("EvaluationPeriods".into(), json!(config.evaluation_periods));
    // Only alarms that set it carry it (open question 6 of ALERTING.md) [I].
    if let Some(m) = config.datapoints_to_alarm {
        t.insert("DatapointsToAlarm".into(), json!(m));
    }
    t.insert(
        "ComparisonOperator".into(),
        json!(config.comparison_operator.as_str()),
    );
    t.insert("Threshold".into(), json!(config.threshold));
    t.insert(
        "TreatMissingData".into(),
        json!(config.treat_missing().as_str()),
    );
    t.insert(
        "EvaluateLowSampleCountPercentile".into(),
        json!(
            config
                .evaluate_low_sample_count_percentile
                .map_or("", |l| l.as_str())
        ),
    );
    Value::Object(t)
}

/// The `Message` (a JSON object; SNS carries it as a string) for `transition` of this alarm.
pub fn notification_message(
    config: &AlarmConfig,
    identity: &AlarmIdentity,
    transition: &Transition,
) -> Value {
    let mut o = Map::new();
    o.insert("AlarmName".into(), json!(config.alarm_name));
    o.insert("AlarmDescription".into(), json!(identity.description));
    o.insert("AWSAccountId".into(), json!(identity.account_id));
    o.insert(
        "AlarmConfigurationUpdatedTimestamp".into(),
        json!(reason_data_date(identity.configuration_updated_ms)),
    );
    o.insert("NewStateValue".into(), json!(transition.new.value.as_str()));
    o.insert("NewStateReason".into(), json!(transition.new.reason));
    o.insert(
        "StateChangeTime".into(),
        json!(reason_data_date(transition.timestamp_ms)),
    );
    o.insert("Region".into(), json!(region_long_name(&identity.region)));
    o.insert(
        "AlarmArn".into(),
        json!(identity.alarm_arn(&config.alarm_name)),
    );
    o.insert("OldStateValue".into(), json!(transition.old.value.as_str()));
    o.insert("OKActions".into(), json!(identity.ok_actions));
    o.insert("AlarmActions".into(), json!(identity.alarm_actions));
    o.insert(
        "InsufficientDataActions".into(),
        json!(identity.insufficient_data_actions),
    );
    o.insert("Trigger".into(), trigger(config));
    Value::Object(o)
}
