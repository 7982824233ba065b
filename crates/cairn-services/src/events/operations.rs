//! EventBridge's operation table: every operation of the API (botocore model 2015-10-07),
//! which cairn serves, which are read-only, and which CloudTrail counts as data events
//! (PutEvents).

use std::sync::OnceLock;

use crate::pipeline::Operation;

/// Every operation of the EventBridge API (botocore model 2015-10-07).
pub const OPERATIONS: [&str; 57] = [
    "ActivateEventSource",
    "CancelReplay",
    "CreateApiDestination",
    "CreateArchive",
    "CreateConnection",
    "CreateEndpoint",
    "CreateEventBus",
    "CreatePartnerEventSource",
    "DeactivateEventSource",
    "DeauthorizeConnection",
    "DeleteApiDestination",
    "DeleteArchive",
    "DeleteConnection",
    "DeleteEndpoint",
    "DeleteEventBus",
    "DeletePartnerEventSource",
    "DeleteRule",
    "DescribeApiDestination",
    "DescribeArchive",
    "DescribeConnection",
    "DescribeEndpoint",
    "DescribeEventBus",
    "DescribeEventSource",
    "DescribePartnerEventSource",
    "DescribeReplay",
    "DescribeRule",
    "DisableRule",
    "EnableRule",
    "ListApiDestinations",
    "ListArchives",
    "ListConnections",
    "ListEndpoints",
    "ListEventBuses",
    "ListEventSources",
    "ListPartnerEventSourceAccounts",
    "ListPartnerEventSources",
    "ListReplays",
    "ListRuleNamesByTarget",
    "ListRules",
    "ListTagsForResource",
    "ListTargetsByRule",
    "PutEvents",
    "PutPartnerEvents",
    "PutPermission",
    "PutRule",
    "PutTargets",
    "RemovePermission",
    "RemoveTargets",
    "StartReplay",
    "TagResource",
    "TestEventPattern",
    "UntagResource",
    "UpdateApiDestination",
    "UpdateArchive",
    "UpdateConnection",
    "UpdateEndpoint",
    "UpdateEventBus",
];

/// The operations cairn serves; the others answer `UnsupportedOperationException`.
pub(super) const SERVED: [&str; 20] = [
    "CreateEventBus",
    "DeleteEventBus",
    "DescribeEventBus",
    "ListEventBuses",
    "PutRule",
    "DescribeRule",
    "ListRules",
    "EnableRule",
    "DisableRule",
    "DeleteRule",
    "PutTargets",
    "RemoveTargets",
    "ListTargetsByRule",
    "ListRuleNamesByTarget",
    "PutEvents",
    "TestEventPattern",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "UpdateEventBus",
];

/// Operations that change nothing (TestEventPattern only evaluates).
fn is_read_only(op: &str) -> bool {
    ["Describe", "List", "Test"]
        .iter()
        .any(|p| op.starts_with(p))
}

/// The table `Service::operations` answers.
pub(super) fn table() -> &'static [Operation] {
    static TABLE: OnceLock<Vec<Operation>> = OnceLock::new();
    TABLE.get_or_init(|| {
        OPERATIONS
            .iter()
            .map(|&n| {
                let op = Operation::named("events", n, is_read_only(n), SERVED.contains(&n));
                if n == "PutEvents" { op.data() } else { op }
            })
            .collect()
    })
}
