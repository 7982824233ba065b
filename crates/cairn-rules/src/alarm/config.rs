//! A metric alarm's evaluation configuration (the `PutMetricAlarm` fields that decide its state)
//! and its validation with AWS's `ValidationError` messages.

use super::stats::{ExtendedStatistic, Statistic};

/// A typed error carrying the AWS error code the API layer answers with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AlarmError {
    /// A 400 with `code` (`ValidationError`, `InvalidParameterCombination`) and AWS's message.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// Something AWS evaluates that cairn does not (anomaly detection bands).
    #[error("{0}")]
    Unsupported(String),
}

impl AlarmError {
    pub(crate) fn validation(message: String) -> Self {
        Self::Invalid {
            code: "ValidationError",
            message,
        }
    }

    /// The Coral template every AWS JSON service uses for a model constraint.
    pub(crate) fn enum_violation(value: &str, member: &str, set: &str) -> Self {
        Self::validation(format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy \
             constraint: Member must satisfy enum value set: {set}"
        ))
    }

    fn min_value(value: i64, member: &str, min: i64) -> Self {
        Self::validation(format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy \
             constraint: Member must have value greater than or equal to {min}"
        ))
    }

    /// The AWS error code (`ValidationError`, …) for the API layer.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid { code, .. } => code,
            Self::Unsupported(_) => "ValidationError",
        }
    }
}

/// `Statistic` or `ExtendedStatistic`: exactly one of them is set on a metric alarm.
#[derive(Debug, Clone, PartialEq)]
pub enum StatisticSpec {
    Simple(Statistic),
    Extended(ExtendedStatistic),
}

impl StatisticSpec {
    /// From the two optional API fields. The message for "both"/"neither" is cairn's [I].
    pub fn from_parts(statistic: Option<&str>, extended: Option<&str>) -> Result<Self, AlarmError> {
        match (statistic, extended) {
            (Some(s), None) => Ok(Self::Simple(Statistic::parse(s)?)),
            (None, Some(e)) => Ok(Self::Extended(ExtendedStatistic::parse(e)?)),
            (Some(_), Some(_)) => Err(AlarmError::Invalid {
                code: "InvalidParameterCombination",
                message: "The parameters Statistic and ExtendedStatistic are mutually exclusive \
                          and you have specified both."
                    .to_owned(),
            }),
            (None, None) => Err(AlarmError::Invalid {
                code: "InvalidParameterCombination",
                message: "One of the parameters Statistic or ExtendedStatistic must be specified."
                    .to_owned(),
            }),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Self::Simple(s) => s.as_str(),
            Self::Extended(e) => e.as_str(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComparisonOperator {
    GreaterThanOrEqualToThreshold,
    GreaterThanThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
    LessThanLowerOrGreaterThanUpperThreshold,
    LessThanLowerThreshold,
    GreaterThanUpperThreshold,
}

impl ComparisonOperator {
    pub fn parse(s: &str) -> Result<Self, AlarmError> {
        Ok(match s {
            "GreaterThanOrEqualToThreshold" => Self::GreaterThanOrEqualToThreshold,
            "GreaterThanThreshold" => Self::GreaterThanThreshold,
            "LessThanThreshold" => Self::LessThanThreshold,
            "LessThanOrEqualToThreshold" => Self::LessThanOrEqualToThreshold,
            "LessThanLowerOrGreaterThanUpperThreshold" => {
                Self::LessThanLowerOrGreaterThanUpperThreshold
            }
            "LessThanLowerThreshold" => Self::LessThanLowerThreshold,
            "GreaterThanUpperThreshold" => Self::GreaterThanUpperThreshold,
            _ => {
                return Err(AlarmError::enum_violation(
                    s,
                    "comparisonOperator",
                    "[GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, \
                     LessThanOrEqualToThreshold, LessThanLowerOrGreaterThanUpperThreshold, \
                     LessThanLowerThreshold, GreaterThanUpperThreshold]",
                ));
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
            Self::GreaterThanThreshold => "GreaterThanThreshold",
            Self::LessThanThreshold => "LessThanThreshold",
            Self::LessThanOrEqualToThreshold => "LessThanOrEqualToThreshold",
            Self::LessThanLowerOrGreaterThanUpperThreshold => {
                "LessThanLowerOrGreaterThanUpperThreshold"
            }
            Self::LessThanLowerThreshold => "LessThanLowerThreshold",
            Self::GreaterThanUpperThreshold => "GreaterThanUpperThreshold",
        }
    }

    /// The words of a reason: "was greater than or equal to the threshold".
    pub(crate) fn words(self) -> &'static str {
        match self {
            Self::GreaterThanOrEqualToThreshold => "greater than or equal to",
            Self::GreaterThanThreshold | Self::GreaterThanUpperThreshold => "greater than",
            Self::LessThanThreshold | Self::LessThanLowerThreshold => "less than",
            Self::LessThanOrEqualToThreshold => "less than or equal to",
            Self::LessThanLowerOrGreaterThanUpperThreshold => "outside the band",
        }
    }

    fn is_anomaly_band(self) -> bool {
        matches!(
            self,
            Self::LessThanLowerOrGreaterThanUpperThreshold
                | Self::LessThanLowerThreshold
                | Self::GreaterThanUpperThreshold
        )
    }

    /// Does `value` breach a static threshold? Anomaly bands never reach here (validation).
    pub(crate) fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::GreaterThanOrEqualToThreshold => value >= threshold,
            Self::GreaterThanThreshold | Self::GreaterThanUpperThreshold => value > threshold,
            Self::LessThanThreshold | Self::LessThanLowerThreshold => value < threshold,
            Self::LessThanOrEqualToThreshold => value <= threshold,
            Self::LessThanLowerOrGreaterThanUpperThreshold => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TreatMissingData {
    #[default]
    Missing,
    NotBreaching,
    Breaching,
    Ignore,
}

impl TreatMissingData {
    /// AWS stores any string up to 255 characters here and treats unknown ones as `missing`
    /// [I: the model has no enum for it]; cairn rejects them so a typo is seen.
    pub fn parse(s: &str) -> Result<Self, AlarmError> {
        Ok(match s {
            "missing" => Self::Missing,
            "notBreaching" => Self::NotBreaching,
            "breaching" => Self::Breaching,
            "ignore" => Self::Ignore,
            _ => {
                return Err(AlarmError::validation(format!(
                    "Invalid value for TreatMissingData: {s}. Valid values are: breaching, \
                     notBreaching, ignore, missing"
                )));
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::NotBreaching => "notBreaching",
            Self::Breaching => "breaching",
            Self::Ignore => "ignore",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LowSampleCount {
    Evaluate,
    Ignore,
}

impl LowSampleCount {
    pub fn parse(s: &str) -> Result<Self, AlarmError> {
        match s {
            "evaluate" => Ok(Self::Evaluate),
            "ignore" => Ok(Self::Ignore),
            _ => Err(AlarmError::validation(format!(
                "Option {s} is not supported. Supported options for parameter \
                 EvaluateLowSampleCountPercentile are evaluate and ignore."
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Evaluate => "evaluate",
            Self::Ignore => "ignore",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dimension {
    pub name: String,
    pub value: String,
}

/// What decides a metric alarm's state. Optional fields stay optional because the SNS message
/// and `DescribeAlarms` show whether they were set.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmConfig {
    pub alarm_name: String,
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: Vec<Dimension>,
    pub statistic: StatisticSpec,
    pub period: u32,
    pub unit: Option<String>,
    pub evaluation_periods: u32,
    pub datapoints_to_alarm: Option<u32>,
    pub threshold: f64,
    pub comparison_operator: ComparisonOperator,
    pub treat_missing_data: Option<TreatMissingData>,
    pub evaluate_low_sample_count_percentile: Option<LowSampleCount>,
}

impl AlarmConfig {
    /// A configuration with AWS's defaults for everything but the essentials (tests, callers).
    #[expect(
        clippy::too_many_arguments,
        reason = "mirrors the required PutMetricAlarm fields one to one"
    )]
    pub fn new(
        alarm_name: &str,
        namespace: &str,
        metric_name: &str,
        statistic: StatisticSpec,
        period: u32,
        evaluation_periods: u32,
        threshold: f64,
        comparison_operator: ComparisonOperator,
    ) -> Self {
        Self {
            alarm_name: alarm_name.to_owned(),
            namespace: namespace.to_owned(),
            metric_name: metric_name.to_owned(),
            dimensions: Vec::new(),
            statistic,
            period,
            unit: None,
            evaluation_periods,
            datapoints_to_alarm: None,
            threshold,
            comparison_operator,
            treat_missing_data: None,
            evaluate_low_sample_count_percentile: None,
        }
    }

    /// M: `DatapointsToAlarm`, which defaults to N.
    pub fn m(&self) -> u32 {
        self.datapoints_to_alarm.unwrap_or(self.evaluation_periods)
    }

    pub fn treat_missing(&self) -> TreatMissingData {
        self.treat_missing_data.unwrap_or_default()
    }

    /// `PutMetricAlarm`'s checks on the evaluation fields, in the order AWS reports them.
    /// Sources: model minimums use the Coral template [M]; `DatapointsToAlarm must be less than or
    /// equal to EvaluationPeriods` [C real AWS error, hashicorp/terraform#24070]; the week limit
    /// [C real AWS errors quoted from `terraform apply`]; the day limit's wording mirrors the week
    /// one [I]; the Period wording is [I] (the rule is ALERTING.md §4.3).
    pub fn validate(&self) -> Result<(), AlarmError> {
        let name_len = self.alarm_name.chars().count();
        if name_len == 0 {
            return Err(AlarmError::validation(
                "1 validation error detected: Value '' at 'alarmName' failed to satisfy \
                 constraint: Member must have length greater than or equal to 1"
                    .to_owned(),
            ));
        }
        if name_len > 255 {
            return Err(AlarmError::validation(format!(
                "1 validation error detected: Value '{}' at 'alarmName' failed to satisfy \
                 constraint: Member must have length less than or equal to 255",
                self.alarm_name
            )));
        }
        if self.period < 1 {
            return Err(AlarmError::min_value(self.period.into(), "period", 1));
        }
        if self.evaluation_periods < 1 {
            return Err(AlarmError::min_value(
                self.evaluation_periods.into(),
                "evaluationPeriods",
                1,
            ));
        }
        if let Some(m) = self.datapoints_to_alarm {
            if m < 1 {
                return Err(AlarmError::min_value(m.into(), "datapointsToAlarm", 1));
            }
            if m > self.evaluation_periods {
                return Err(AlarmError::validation(
                    "DatapointsToAlarm must be less than or equal to EvaluationPeriods".to_owned(),
                ));
            }
        }
        if !matches!(self.period, 10 | 20 | 30) && !self.period.is_multiple_of(60) {
            return Err(AlarmError::validation(
                "Period must be 10, 20, 30 or a multiple of 60".to_owned(),
            ));
        }
        let window = u64::from(self.period) * u64::from(self.evaluation_periods);
        if self.period < 3600 && window > 86_400 {
            return Err(AlarmError::validation(
                "Metrics cannot be checked across more than a day (EvaluationPeriods * Period \
                 must be <= 86400) for alarms using period < 3600"
                    .to_owned(),
            ));
        }
        if window > 604_800 {
            return Err(AlarmError::validation(
                "Metrics cannot be checked across more than a week (EvaluationPeriods * Period \
                 must be <= 604800) for alarms using period >= 3600"
                    .to_owned(),
            ));
        }
        if !self.threshold.is_finite() {
            return Err(AlarmError::validation(
                "The parameter Threshold must be a finite number.".to_owned(),
            ));
        }
        if self.comparison_operator.is_anomaly_band() {
            // AWS needs a ThresholdMetricId naming an ANOMALY_DETECTION_BAND expression for these;
            // cairn has no anomaly detection models.
            return Err(AlarmError::Unsupported(format!(
                "ComparisonOperator {} compares against an anomaly detection band; cairn has no \
                 anomaly detection models, so only static thresholds are evaluated.",
                self.comparison_operator.as_str()
            )));
        }
        Ok(())
    }
}
