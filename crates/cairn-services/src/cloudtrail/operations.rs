//! CloudTrail's operation table: every operation of the API (botocore model 2013-11-01), which
//! cairn serves and which are read-only. Identity policies decide every CloudTrail call.

use std::sync::OnceLock;

use crate::pipeline::Operation;

/// Every operation of the CloudTrail API (botocore model 2013-11-01).
pub const OPERATIONS: [&str; 60] = [
    "AddTags",
    "CancelQuery",
    "CreateChannel",
    "CreateDashboard",
    "CreateEventDataStore",
    "CreateTrail",
    "DeleteChannel",
    "DeleteDashboard",
    "DeleteEventDataStore",
    "DeleteResourcePolicy",
    "DeleteTrail",
    "DeregisterOrganizationDelegatedAdmin",
    "DescribeQuery",
    "DescribeTrails",
    "DisableFederation",
    "EnableFederation",
    "GenerateQuery",
    "GetChannel",
    "GetDashboard",
    "GetEventConfiguration",
    "GetEventDataStore",
    "GetEventSelectors",
    "GetImport",
    "GetInsightSelectors",
    "GetQueryResults",
    "GetResourcePolicy",
    "GetTrail",
    "GetTrailStatus",
    "ListChannels",
    "ListDashboards",
    "ListEventDataStores",
    "ListImportFailures",
    "ListImports",
    "ListInsightsData",
    "ListInsightsMetricData",
    "ListPublicKeys",
    "ListQueries",
    "ListTags",
    "ListTrails",
    "LookupEvents",
    "PutEventConfiguration",
    "PutEventSelectors",
    "PutInsightSelectors",
    "PutResourcePolicy",
    "RegisterOrganizationDelegatedAdmin",
    "RemoveTags",
    "RestoreEventDataStore",
    "SearchSampleQueries",
    "StartDashboardRefresh",
    "StartEventDataStoreIngestion",
    "StartImport",
    "StartLogging",
    "StartQuery",
    "StopEventDataStoreIngestion",
    "StopImport",
    "StopLogging",
    "UpdateChannel",
    "UpdateDashboard",
    "UpdateEventDataStore",
    "UpdateTrail",
];

/// The operations cairn serves; the others answer `UnsupportedOperationException`.
const SERVED: [&str; 46] = [
    "LookupEvents",
    "CreateTrail",
    "UpdateTrail",
    "DeleteTrail",
    "GetTrail",
    "DescribeTrails",
    "ListTrails",
    "GetTrailStatus",
    "StartLogging",
    "StopLogging",
    "PutEventSelectors",
    "GetEventSelectors",
    "PutInsightSelectors",
    "GetInsightSelectors",
    "AddTags",
    "RemoveTags",
    "ListTags",
    "ListPublicKeys",
    "CreateEventDataStore",
    "GetEventDataStore",
    "ListEventDataStores",
    "UpdateEventDataStore",
    "DeleteEventDataStore",
    "RestoreEventDataStore",
    "StartEventDataStoreIngestion",
    "StopEventDataStoreIngestion",
    "StartQuery",
    "DescribeQuery",
    "GetQueryResults",
    "ListQueries",
    "CancelQuery",
    "CreateChannel",
    "GetChannel",
    "ListChannels",
    "UpdateChannel",
    "DeleteChannel",
    "PutResourcePolicy",
    "GetResourcePolicy",
    "DeleteResourcePolicy",
    "StartImport",
    "GetImport",
    "ListImports",
    "StopImport",
    "ListImportFailures",
    "RegisterOrganizationDelegatedAdmin",
    "DeregisterOrganizationDelegatedAdmin",
];

/// Read-only operations are the ones that only look.
fn is_read_only(op: &str) -> bool {
    ["Get", "List", "Describe", "Lookup", "Search"]
        .iter()
        .any(|p| op.starts_with(p))
}

/// Reads of trails, answered from the trail store's memory or from a few rows by key
/// (`Operation::quick`). LookupEvents is not one: it may wait for the event-history index.
const QUICK: [&str; 6] = [
    "DescribeTrails",
    "GetTrail",
    "ListTrails",
    "GetTrailStatus",
    "GetEventSelectors",
    "GetInsightSelectors",
];

/// The table `Service::operations` answers.
pub(super) fn table() -> &'static [Operation] {
    static TABLE: OnceLock<Vec<Operation>> = OnceLock::new();
    TABLE.get_or_init(|| {
        OPERATIONS
            .iter()
            .map(|&n| {
                let op = Operation::named("cloudtrail", n, is_read_only(n), SERVED.contains(&n));
                if QUICK.contains(&n) { op.quick() } else { op }
            })
            .collect()
    })
}
