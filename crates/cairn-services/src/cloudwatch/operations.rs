//! CloudWatch's operation table: every operation of the API (botocore model 2010-08-01), which
//! cairn serves, which are read-only, and which CloudTrail counts as data events.

use std::sync::OnceLock;

use crate::pipeline::Operation;

/// Every operation of the CloudWatch API (botocore model 2010-08-01).
pub const OPERATIONS: [&str; 59] = [
    "AssociateDatasetKmsKey",
    "CreateResourceMetricsConfiguration",
    "DeleteAlarmMuteRule",
    "DeleteAlarms",
    "DeleteAnomalyDetector",
    "DeleteDashboards",
    "DeleteInsightRules",
    "DeleteMetricDataQueryDefinition",
    "DeleteMetricStream",
    "DeleteResourceMetricsConfiguration",
    "DescribeAlarmContributors",
    "DescribeAlarmHistory",
    "DescribeAlarms",
    "DescribeAlarmsForMetric",
    "DescribeAnomalyDetectors",
    "DescribeInsightRules",
    "DisableAlarmActions",
    "DisableInsightRules",
    "DisassociateDatasetKmsKey",
    "EnableAlarmActions",
    "EnableInsightRules",
    "GetAlarmMuteRule",
    "GetDashboard",
    "GetDataset",
    "GetInsightRuleReport",
    "GetMetricData",
    "GetMetricDataQueryDefinition",
    "GetMetricStatistics",
    "GetMetricStream",
    "GetMetricWidgetImage",
    "GetOTelEnrichment",
    "GetResourceMetricsConfiguration",
    "ListAlarmMuteRules",
    "ListDashboards",
    "ListManagedInsightRules",
    "ListMetricDataQueryDefinitions",
    "ListMetricStreams",
    "ListMetrics",
    "ListTagsForResource",
    "PutAlarmMuteRule",
    "PutAnomalyDetector",
    "PutCompositeAlarm",
    "PutDashboard",
    "PutInsightRule",
    "PutLogAlarm",
    "PutManagedInsightRules",
    "PutMetricAlarm",
    "PutMetricData",
    "PutMetricDataQueryDefinition",
    "PutMetricStream",
    "SetAlarmState",
    "StartMetricStreams",
    "StartOTelEnrichment",
    "StopMetricStreams",
    "StopOTelEnrichment",
    "TagResource",
    "UntagResource",
    "UpdateOTelEnrichment",
    "UpdateResourceMetricsConfiguration",
];

/// Operations that change nothing.
fn is_read_only(op: &str) -> bool {
    ["Describe", "Get", "List"]
        .iter()
        .any(|p| op.starts_with(p))
}

/// The metric data operations: CloudTrail logs them as data events (resource type
/// `AWS::CloudWatch::Metric`), so trails record them only when their selectors ask `[I]`.
pub(super) const DATA: [&str; 4] = [
    "PutMetricData",
    "GetMetricStatistics",
    "GetMetricData",
    "ListMetrics",
];

/// The operations cairn serves; the others answer `UnsupportedOperationException`.
pub(super) const SERVED: [&str; 12] = [
    "PutMetricData",
    "GetMetricStatistics",
    "GetMetricData",
    "ListMetrics",
    "PutMetricAlarm",
    "DescribeAlarms",
    "DescribeAlarmsForMetric",
    "DescribeAlarmHistory",
    "SetAlarmState",
    "DeleteAlarms",
    "EnableAlarmActions",
    "DisableAlarmActions",
];

/// The table `Service::operations` answers.
pub(super) fn table() -> &'static [Operation] {
    static TABLE: OnceLock<Vec<Operation>> = OnceLock::new();
    TABLE.get_or_init(|| {
        OPERATIONS
            .iter()
            .map(|&n| {
                let op = Operation::named("cloudwatch", n, is_read_only(n), SERVED.contains(&n));
                if DATA.contains(&n) { op.data() } else { op }
            })
            .collect()
    })
}
