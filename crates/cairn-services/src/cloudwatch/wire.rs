//! CloudWatch's wire shapes: the codec (Smithy RPC v2 CBOR and JSON 1.0, both
//! `awsQueryCompatible`, answered in the protocol a request came in), where outputs hold
//! timestamps (for CBOR), and the `MetricAlarm` document `DescribeAlarms` answers. Times in
//! documents are epoch seconds, as the JSON document model keeps them.

use cairn_store::metrics::StoredAlarm;
use cairn_wire::Protocol;
use serde_json::{Map, Value, json};

use crate::pipeline::codec::cbor::CborCodec;
use crate::pipeline::codec::json::JsonCodec;
use crate::pipeline::codec::multi::MultiCodec;
use crate::pipeline::codec::shape::Shape;

pub const TARGET: &str = "GraniteServiceVersion20100801";

static ALARM: Shape = Shape::Structure(&[
    ("AlarmConfigurationUpdatedTimestamp", &Shape::Timestamp),
    ("StateUpdatedTimestamp", &Shape::Timestamp),
    ("StateTransitionedTimestamp", &Shape::Timestamp),
]);
static ALARMS: Shape = Shape::List(&ALARM);
static DESCRIBE_ALARMS: Shape = Shape::Structure(&[("MetricAlarms", &ALARMS)]);
static STAMPED: Shape = Shape::Structure(&[("Timestamp", &Shape::Timestamp)]);
static STAMPED_LIST: Shape = Shape::List(&STAMPED);
static HISTORY: Shape = Shape::Structure(&[("AlarmHistoryItems", &STAMPED_LIST)]);
static STATISTICS: Shape = Shape::Structure(&[("Datapoints", &STAMPED_LIST)]);
static TIMESTAMPS: Shape = Shape::List(&Shape::Timestamp);
static RESULT: Shape = Shape::Structure(&[("Timestamps", &TIMESTAMPS)]);
static RESULTS: Shape = Shape::List(&RESULT);
static METRIC_DATA: Shape = Shape::Structure(&[("MetricDataResults", &RESULTS)]);

pub(super) static CODEC: MultiCodec = MultiCodec {
    cbor: CborCodec {
        service: TARGET,
        outputs: &[
            ("DescribeAlarms", &DESCRIBE_ALARMS),
            ("DescribeAlarmsForMetric", &DESCRIBE_ALARMS),
            ("DescribeAlarmHistory", &HISTORY),
            ("GetMetricStatistics", &STATISTICS),
            ("GetMetricData", &METRIC_DATA),
        ],
        query_compatible: true,
    },
    json: JsonCodec {
        protocol: Protocol::Json10,
        target_prefixes: &["GraniteServiceVersion20100801."],
    },
};

/// Epoch milliseconds as the document model's epoch seconds.
pub(super) fn seconds(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

/// `arn:aws:cloudwatch:<region>:<account>:alarm:<name>`.
pub(super) fn alarm_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:cloudwatch:{region}:{account}:alarm:{name}")
}

/// The configuration members `DescribeAlarms` echoes, in the model's order.
const CONFIG_MEMBERS: [&str; 16] = [
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
];

/// A `MetricAlarm` as `DescribeAlarms` answers it.
pub(super) fn metric_alarm(a: &StoredAlarm) -> Value {
    let config: Value = serde_json::from_str(&a.config).unwrap_or(Value::Null);
    let mut o = Map::new();
    o.insert("AlarmName".into(), json!(a.name));
    o.insert(
        "AlarmArn".into(),
        json!(alarm_arn(&a.region, &a.account, &a.name)),
    );
    o.insert(
        "AlarmConfigurationUpdatedTimestamp".into(),
        seconds(a.config_updated_ms),
    );
    o.insert("ActionsEnabled".into(), json!(a.actions_enabled));
    for m in CONFIG_MEMBERS {
        match (m, config.get(m)) {
            (_, Some(v)) => {
                o.insert(m.into(), v.clone());
            }
            ("OKActions" | "AlarmActions" | "InsufficientDataActions" | "Dimensions", None) => {
                o.insert(m.into(), json!([]));
            }
            _ => {}
        }
    }
    if let Some(v) = config.get("EvaluateLowSampleCountPercentile") {
        o.insert("EvaluateLowSampleCountPercentile".into(), v.clone());
    }
    o.insert("StateValue".into(), json!(a.state.value));
    o.insert("StateReason".into(), json!(a.state.reason));
    if let Some(d) = &a.state.reason_data {
        o.insert("StateReasonData".into(), json!(d));
    }
    o.insert("StateUpdatedTimestamp".into(), seconds(a.state.updated_ms));
    o.insert(
        "StateTransitionedTimestamp".into(),
        seconds(a.state.transitioned_ms),
    );
    Value::Object(o)
}
