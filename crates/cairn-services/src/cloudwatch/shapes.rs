//! The little of CloudWatch's model (botocore 2010-08-01) its codecs need, for the operations
//! cairn serves. Outputs: where timestamps, doubles, integers and booleans are and the order
//! of each structure's members (CBOR needs the timestamps; query XML is written in this
//! order). Inputs: what query's all-string form holds (lists, maps, structures, timestamps,
//! numbers, booleans); their string members need no mention. An operation with no output in
//! the model is not in [`OUTPUTS`].

use crate::pipeline::codec::shape::Shape;

const S: Shape = Shape::Plain;
const TS: Shape = Shape::Timestamp;
const INT: Shape = Shape::Integer;
const DBL: Shape = Shape::Double;
const BOOL: Shape = Shape::Boolean;

static STRINGS: Shape = Shape::List(&S);
static DOUBLES: Shape = Shape::List(&DBL);

// Shared by inputs and outputs.
static DIMENSION: Shape = Shape::Structure(&[("Name", &S), ("Value", &S)]);
static DIMENSIONS: Shape = Shape::List(&DIMENSION);
static METRIC: Shape = Shape::Structure(&[
    ("Namespace", &S),
    ("MetricName", &S),
    ("Dimensions", &DIMENSIONS),
]);
static METRIC_STAT: Shape = Shape::Structure(&[
    ("Metric", &METRIC),
    ("Period", &INT),
    ("Stat", &S),
    ("Unit", &S),
]);
static QUERY: Shape = Shape::Structure(&[
    ("Id", &S),
    ("MetricStat", &METRIC_STAT),
    ("Expression", &S),
    ("Label", &S),
    ("ReturnData", &BOOL),
    ("Period", &INT),
    ("AccountId", &S),
]);
static QUERIES: Shape = Shape::List(&QUERY);
static EVALUATION_WINDOW: Shape = Shape::Structure(&[
    ("WallClockWindow", &Shape::Structure(&[("Timezone", &S)])),
    ("SlidingWindow", &Shape::Structure(&[])),
]);
static WARM_UP: Shape = Shape::Structure(&[
    ("WarmUpPeriodDurationInMinutes", &INT),
    ("OnlyStartEvaluatingAfterWarmUpPeriodEnds", &BOOL),
]);
static PROMQL: Shape = Shape::Structure(&[
    ("Query", &S),
    ("PendingPeriod", &INT),
    ("RecoveryPeriod", &INT),
]);
static EVALUATION_CRITERIA: Shape = Shape::Structure(&[("PromQLCriteria", &PROMQL)]);
static TAGS_PROPAGATION: Shape = Shape::Structure(&[
    ("Enabled", &BOOL),
    ("IncludedTagKeys", &STRINGS),
    ("ExcludedTagKeys", &STRINGS),
]);
static ACTION_CONFIGURATION: Shape =
    Shape::Structure(&[("AlarmTagsPropagation", &TAGS_PROPAGATION)]);
static TAG: Shape = Shape::Structure(&[("Key", &S), ("Value", &S)]);

// Outputs.
static METRIC_ALARM: Shape = Shape::Structure(&[
    ("AlarmName", &S),
    ("AlarmArn", &S),
    ("AlarmDescription", &S),
    ("AlarmConfigurationUpdatedTimestamp", &TS),
    ("ActionsEnabled", &BOOL),
    ("OKActions", &STRINGS),
    ("AlarmActions", &STRINGS),
    ("InsufficientDataActions", &STRINGS),
    ("StateValue", &S),
    ("StateReason", &S),
    ("StateReasonData", &S),
    ("StateUpdatedTimestamp", &TS),
    ("MetricName", &S),
    ("Namespace", &S),
    ("Statistic", &S),
    ("ExtendedStatistic", &S),
    ("Dimensions", &DIMENSIONS),
    ("Period", &INT),
    ("Unit", &S),
    ("EvaluationPeriods", &INT),
    ("DatapointsToAlarm", &INT),
    ("Threshold", &DBL),
    ("ComparisonOperator", &S),
    ("TreatMissingData", &S),
    ("EvaluateLowSampleCountPercentile", &S),
    ("Metrics", &QUERIES),
    ("ThresholdMetricId", &S),
    ("EvaluationState", &S),
    ("StateTransitionedTimestamp", &TS),
    ("EvaluationWindow", &EVALUATION_WINDOW),
    ("WarmUpConfiguration", &WARM_UP),
    ("EvaluationCriteria", &EVALUATION_CRITERIA),
    ("EvaluationInterval", &INT),
    ("ActionConfiguration", &ACTION_CONFIGURATION),
]);
static METRIC_ALARMS: Shape = Shape::List(&METRIC_ALARM);
// cairn has no composite or log alarms, so `DescribeAlarms` answers only these.
static DESCRIBE_ALARMS: Shape =
    Shape::Structure(&[("MetricAlarms", &METRIC_ALARMS), ("NextToken", &S)]);
static DESCRIBE_ALARMS_FOR_METRIC: Shape = Shape::Structure(&[("MetricAlarms", &METRIC_ALARMS)]);
static HISTORY_ITEM: Shape = Shape::Structure(&[
    ("AlarmName", &S),
    ("AlarmContributorId", &S),
    ("AlarmType", &S),
    ("Timestamp", &TS),
    ("HistoryItemType", &S),
    ("HistorySummary", &S),
    ("HistoryData", &S),
    ("AlarmContributorAttributes", &Shape::Map(&S)),
]);
static HISTORY: Shape = Shape::Structure(&[
    ("AlarmHistoryItems", &Shape::List(&HISTORY_ITEM)),
    ("NextToken", &S),
]);
static DATAPOINT: Shape = Shape::Structure(&[
    ("Timestamp", &TS),
    ("SampleCount", &DBL),
    ("Average", &DBL),
    ("Sum", &DBL),
    ("Minimum", &DBL),
    ("Maximum", &DBL),
    ("Unit", &S),
    ("ExtendedStatistics", &Shape::Map(&DBL)),
]);
static STATISTICS: Shape =
    Shape::Structure(&[("Label", &S), ("Datapoints", &Shape::List(&DATAPOINT))]);
static MESSAGE: Shape = Shape::Structure(&[("Code", &S), ("Value", &S)]);
static MESSAGES: Shape = Shape::List(&MESSAGE);
static RESULT: Shape = Shape::Structure(&[
    ("Id", &S),
    ("Label", &S),
    ("Timestamps", &Shape::List(&TS)),
    ("Values", &DOUBLES),
    ("StatusCode", &S),
    ("Messages", &MESSAGES),
]);
static METRIC_DATA: Shape = Shape::Structure(&[
    ("MetricDataResults", &Shape::List(&RESULT)),
    ("NextToken", &S),
    ("Messages", &MESSAGES),
]);
static LIST_METRICS: Shape = Shape::Structure(&[
    ("Metrics", &Shape::List(&METRIC)),
    ("NextToken", &S),
    ("OwningAccounts", &STRINGS),
]);

/// Each served operation's output (those with one in the model).
pub(super) static OUTPUTS: [(&str, &Shape); 6] = [
    ("DescribeAlarms", &DESCRIBE_ALARMS),
    ("DescribeAlarmsForMetric", &DESCRIBE_ALARMS_FOR_METRIC),
    ("DescribeAlarmHistory", &HISTORY),
    ("GetMetricStatistics", &STATISTICS),
    ("GetMetricData", &METRIC_DATA),
    ("ListMetrics", &LIST_METRICS),
];

// Inputs (string members need no mention).
static STATISTIC_SET: Shape = Shape::Structure(&[
    ("SampleCount", &DBL),
    ("Sum", &DBL),
    ("Minimum", &DBL),
    ("Maximum", &DBL),
]);
static DATUM: Shape = Shape::Structure(&[
    ("Dimensions", &DIMENSIONS),
    ("Timestamp", &TS),
    ("Value", &DBL),
    ("StatisticValues", &STATISTIC_SET),
    ("Values", &DOUBLES),
    ("Counts", &DOUBLES),
    ("StorageResolution", &INT),
]);
static DATA: Shape = Shape::List(&DATUM);
static ENTITY: Shape = Shape::Structure(&[
    ("KeyAttributes", &Shape::Map(&S)),
    ("Attributes", &Shape::Map(&S)),
]);
static ENTITY_DATA: Shape = Shape::Structure(&[("Entity", &ENTITY), ("MetricData", &DATA)]);
static PUT_METRIC_DATA: Shape = Shape::Structure(&[
    ("MetricData", &DATA),
    ("EntityMetricData", &Shape::List(&ENTITY_DATA)),
    ("StrictEntityValidation", &BOOL),
]);
static GET_METRIC_STATISTICS: Shape = Shape::Structure(&[
    ("Dimensions", &DIMENSIONS),
    ("StartTime", &TS),
    ("EndTime", &TS),
    ("Period", &INT),
    ("Statistics", &STRINGS),
    ("ExtendedStatistics", &STRINGS),
]);
static GET_METRIC_DATA: Shape = Shape::Structure(&[
    ("MetricDataQueries", &QUERIES),
    ("StartTime", &TS),
    ("EndTime", &TS),
    ("MaxDatapoints", &INT),
    ("LabelOptions", &Shape::Structure(&[("Timezone", &S)])),
]);
static LIST_METRICS_IN: Shape = Shape::Structure(&[
    ("Dimensions", &DIMENSIONS),
    ("IncludeLinkedAccounts", &BOOL),
]);
static PUT_METRIC_ALARM: Shape = Shape::Structure(&[
    ("ActionsEnabled", &BOOL),
    ("OKActions", &STRINGS),
    ("AlarmActions", &STRINGS),
    ("InsufficientDataActions", &STRINGS),
    ("Dimensions", &DIMENSIONS),
    ("Period", &INT),
    ("EvaluationPeriods", &INT),
    ("DatapointsToAlarm", &INT),
    ("Threshold", &DBL),
    ("Metrics", &QUERIES),
    ("Tags", &Shape::List(&TAG)),
    ("EvaluationWindow", &EVALUATION_WINDOW),
    ("WarmUpConfiguration", &WARM_UP),
    ("EvaluationCriteria", &EVALUATION_CRITERIA),
    ("EvaluationInterval", &INT),
    ("ActionConfiguration", &ACTION_CONFIGURATION),
]);
static DESCRIBE_ALARMS_IN: Shape = Shape::Structure(&[
    ("AlarmNames", &STRINGS),
    ("AlarmTypes", &STRINGS),
    ("MaxRecords", &INT),
]);
static DESCRIBE_ALARMS_FOR_METRIC_IN: Shape =
    Shape::Structure(&[("Dimensions", &DIMENSIONS), ("Period", &INT)]);
static DESCRIBE_ALARM_HISTORY_IN: Shape = Shape::Structure(&[
    ("AlarmTypes", &STRINGS),
    ("StartDate", &TS),
    ("EndDate", &TS),
    ("MaxRecords", &INT),
]);
static ALARM_NAMES: Shape = Shape::Structure(&[("AlarmNames", &STRINGS)]);

/// Each served operation's input, as query's form needs it (`SetAlarmState` is all strings).
pub(super) static INPUTS: [(&str, &Shape); 11] = [
    ("PutMetricData", &PUT_METRIC_DATA),
    ("GetMetricStatistics", &GET_METRIC_STATISTICS),
    ("GetMetricData", &GET_METRIC_DATA),
    ("ListMetrics", &LIST_METRICS_IN),
    ("PutMetricAlarm", &PUT_METRIC_ALARM),
    ("DescribeAlarms", &DESCRIBE_ALARMS_IN),
    ("DescribeAlarmsForMetric", &DESCRIBE_ALARMS_FOR_METRIC_IN),
    ("DescribeAlarmHistory", &DESCRIBE_ALARM_HISTORY_IN),
    ("DeleteAlarms", &ALARM_NAMES),
    ("EnableAlarmActions", &ALARM_NAMES),
    ("DisableAlarmActions", &ALARM_NAMES),
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::Value;

    use super::*;
    use crate::pipeline::codec::query::parse_form;
    use crate::pipeline::codec::query_document::document_of_form;
    use crate::pipeline::codec::shape::output_of;

    /// Requests botocore's own query serializer made on real CloudWatch operations, each with
    /// the document its JSON serializer sends for the same parameters (see `make_requests.py`).
    const REQUESTS: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../cairn-edge/tests/fixtures/codecs/requests.json"
    );

    #[test]
    fn botocore_query_forms_become_the_documents_json_sends() {
        let fixtures: Value =
            serde_json::from_str(&std::fs::read_to_string(REQUESTS).unwrap()).unwrap();
        let cases: Vec<&Value> = fixtures["cases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["service"] == "cloudwatch" && c["protocol"] == "query")
            .collect();
        assert!(cases.len() >= 5, "the fixture file lost its query cases");
        for c in cases {
            let op = c["operation"].as_str().unwrap();
            let body = hex::decode(c["body_hex"].as_str().unwrap()).unwrap();
            let form = parse_form(std::str::from_utf8(&body).unwrap());
            assert_eq!(form["Action"], op);
            let doc = document_of_form(&form, output_of(&INPUTS, op)).unwrap();
            assert_eq!(doc, c["document"], "{op}");
        }
    }

    #[test]
    fn every_served_operation_with_members_beyond_strings_has_an_input_shape() {
        // SetAlarmState's members are all strings; every other served operation has a list,
        // number, boolean or timestamp that the form cannot say by itself.
        for op in super::super::operations::SERVED {
            let listed = INPUTS.iter().any(|(n, _)| *n == op);
            assert_eq!(listed, op != "SetAlarmState", "{op}");
        }
    }
}
