//! A metric alarm's configuration between the API and `cairn-rules`: the members of
//! `PutMetricAlarm` that cairn keeps (the document stored with the alarm and echoed by
//! `DescribeAlarms`), checked as AWS checks them, and the evaluation configuration
//! ([`AlarmConfig`]) and identity ([`AlarmIdentity`]) built from that document.

use cairn_rules::alarm::{
    AlarmConfig, AlarmError, AlarmIdentity, ComparisonOperator, Dimension, LowSampleCount,
    StatisticSpec, TreatMissingData,
};
use cairn_store::metrics::StoredAlarm;
use cairn_wire::AwsError;
use serde_json::{Map, Value};

use super::handlers::{invalid_combination, missing, validation};

/// Members cairn keeps, as `PutMetricAlarm` names them.
const KEPT: [&str; 18] = [
    "AlarmDescription",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "ActionsEnabled",
];

/// Members of `PutMetricAlarm` that configure what cairn does not evaluate.
const NOT_EVALUATED: [&str; 6] = [
    "Metrics",
    "ThresholdMetricId",
    "EvaluationCriteria",
    "EvaluationInterval",
    "EvaluationWindow",
    "WarmUpConfiguration",
];

fn rules_error(e: AlarmError) -> AwsError {
    match e {
        AlarmError::Invalid { code, message } => AwsError::client(code, message),
        AlarmError::Unsupported(message) => validation(message),
    }
}

/// Checks a `PutMetricAlarm` input and answers the document to store (the kept members as
/// sent) with the evaluation configuration it gives.
pub(super) fn accept(input: &Value) -> Result<(Value, AlarmConfig), AwsError> {
    for m in NOT_EVALUATED {
        if input.get(m).is_some() {
            return Err(validation(format!(
                "cairn evaluates alarms on one metric with a static threshold; {m} is not supported."
            )));
        }
    }
    let mut doc = Map::new();
    for m in KEPT {
        if let Some(v) = input.get(m) {
            doc.insert(m.to_owned(), v.clone());
        }
    }
    for list in ["OKActions", "AlarmActions", "InsufficientDataActions"] {
        if doc
            .get(list)
            .and_then(Value::as_array)
            .is_some_and(|a| a.len() > 5)
        {
            return Err(validation(format!(
                "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have length less than or equal to 5",
                lower_first(list)
            )));
        }
    }
    let doc = Value::Object(doc);
    let name = input
        .get("AlarmName")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("AlarmName"))?;
    let config = config_of(name, &doc)?;
    config.validate().map_err(rules_error)?;
    Ok((doc, config))
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

fn str_of<'a>(doc: &'a Value, m: &str) -> Option<&'a str> {
    doc.get(m).and_then(Value::as_str)
}

fn u32_of(doc: &Value, m: &str) -> Result<Option<u32>, AwsError> {
    match doc.get(m) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .and_then(|n| u32::try_from(n.max(0)).ok())
            .map(Some)
            .ok_or_else(|| validation(format!("The parameter {m} must be an integer."))),
    }
}

/// The evaluation configuration of the alarm `name` whose document is `doc`.
pub(super) fn config_of(name: &str, doc: &Value) -> Result<AlarmConfig, AwsError> {
    let metric_name = str_of(doc, "MetricName").ok_or_else(|| {
        invalid_combination("One of the parameters MetricName or Metrics must be specified.")
    })?;
    let namespace = str_of(doc, "Namespace").ok_or_else(|| missing("Namespace"))?;
    let statistic =
        StatisticSpec::from_parts(str_of(doc, "Statistic"), str_of(doc, "ExtendedStatistic"))
            .map_err(rules_error)?;
    let period = u32_of(doc, "Period")?.ok_or_else(|| missing("Period"))?;
    let evaluation_periods =
        u32_of(doc, "EvaluationPeriods")?.ok_or_else(|| missing("EvaluationPeriods"))?;
    let threshold = doc
        .get("Threshold")
        .and_then(Value::as_f64)
        .ok_or_else(|| missing("Threshold"))?;
    let comparison = ComparisonOperator::parse(
        str_of(doc, "ComparisonOperator").ok_or_else(|| missing("ComparisonOperator"))?,
    )
    .map_err(rules_error)?;
    let mut c = AlarmConfig::new(
        name,
        namespace,
        metric_name,
        statistic,
        period,
        evaluation_periods,
        threshold,
        comparison,
    );
    c.dimensions = dimensions_of(doc.get("Dimensions"));
    c.unit = str_of(doc, "Unit").map(str::to_owned);
    c.datapoints_to_alarm = u32_of(doc, "DatapointsToAlarm")?;
    c.treat_missing_data = str_of(doc, "TreatMissingData")
        .map(TreatMissingData::parse)
        .transpose()
        .map_err(rules_error)?;
    c.evaluate_low_sample_count_percentile = str_of(doc, "EvaluateLowSampleCountPercentile")
        .map(LowSampleCount::parse)
        .transpose()
        .map_err(rules_error)?;
    Ok(c)
}

/// `[{"Name":…,"Value":…}]` as dimensions.
pub(super) fn dimensions_of(v: Option<&Value>) -> Vec<Dimension> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|d| {
                    Some(Dimension {
                        name: d.get("Name")?.as_str()?.to_owned(),
                        value: d.get("Value")?.as_str()?.to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn actions(doc: &Value, m: &str) -> Vec<String> {
    doc.get(m)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// What the SNS message of a stored alarm names besides its evaluation configuration.
pub(super) fn identity_of(a: &StoredAlarm, doc: &Value) -> AlarmIdentity {
    AlarmIdentity {
        account_id: a.account.clone(),
        region: a.region.clone(),
        description: str_of(doc, "AlarmDescription").map(str::to_owned),
        configuration_updated_ms: a.config_updated_ms,
        ok_actions: actions(doc, "OKActions"),
        alarm_actions: actions(doc, "AlarmActions"),
        insufficient_data_actions: actions(doc, "InsufficientDataActions"),
    }
}
