//! CloudWatch's wire: the codec (Smithy RPC v2 CBOR and JSON 1.0, both `awsQueryCompatible`,
//! and query, each request answered in the protocol it came in; the shapes they need are in
//! `shapes.rs`), and the `MetricAlarm` document `DescribeAlarms` answers. Times in documents
//! are epoch seconds, as the JSON document model keeps them.

use cairn_store::metrics::StoredAlarm;
use cairn_wire::Protocol;
use serde_json::{Map, Value, json};

use crate::pipeline::codec::cbor::CborCodec;
use crate::pipeline::codec::json::JsonCodec;
use crate::pipeline::codec::multi::MultiCodec;
use crate::pipeline::codec::query::QueryCodec;
use crate::pipeline::codec::shaped_query::ShapedQueryCodec;

use super::shapes::{INPUTS, OUTPUTS};

pub const TARGET: &str = "GraniteServiceVersion20100801";
/// The query protocol's XML namespace (the model's `xmlNamespace`).
pub const XMLNS: &str = "http://monitoring.amazonaws.com/doc/2010-08-01/";

pub(super) static CODEC: MultiCodec = MultiCodec {
    cbor: CborCodec {
        service: TARGET,
        outputs: &OUTPUTS,
        query_compatible: true,
    },
    json: JsonCodec {
        protocol: Protocol::Json10,
        target_prefixes: &["GraniteServiceVersion20100801."],
    },
    query: Some(ShapedQueryCodec {
        query: QueryCodec {
            version: "2010-08-01",
            xmlns: XMLNS,
        },
        inputs: &INPUTS,
        outputs: &OUTPUTS,
    }),
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
