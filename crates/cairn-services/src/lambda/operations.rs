//! Lambda's operation table: every operation of the API (botocore model 2015-03-31), which
//! cairn serves, which are read-only, which CloudTrail counts as data events (the
//! invocations), the IAM action each needs, and the `eventName` CloudTrail records it under.
//!
//! Lambda's management events carry the API version of the operation's path, and some a
//! `v2` (AWS's CloudTrail guide and real records: `CreateFunction20150331`,
//! `GetFunction20150331v2`, `UpdateFunctionCode20150331v2`, `AddPermission20150331v2`,
//! `TagResource20170331v2`, …). Where no record was seen, cairn takes the date of the
//! operation's path (`PutFunctionConcurrency20171031`) `[I]`. Invocations are recorded as
//! `Invoke`, without a suffix.

use std::sync::OnceLock;

use crate::pipeline::Operation;

/// Every operation of the Lambda API (botocore model 2015-03-31).
pub const OPERATIONS: [&str; 91] = [
    "AddLayerVersionPermission",
    "AddPermission",
    "CheckpointDurableExecution",
    "CreateAlias",
    "CreateCapacityProvider",
    "CreateCodeSigningConfig",
    "CreateEventSourceMapping",
    "CreateFunction",
    "CreateFunctionUrlConfig",
    "DeleteAlias",
    "DeleteCapacityProvider",
    "DeleteCodeSigningConfig",
    "DeleteDurableExecution",
    "DeleteEventSourceMapping",
    "DeleteFunction",
    "DeleteFunctionCodeSigningConfig",
    "DeleteFunctionConcurrency",
    "DeleteFunctionEventInvokeConfig",
    "DeleteFunctionUrlConfig",
    "DeleteLayerVersion",
    "DeleteProvisionedConcurrencyConfig",
    "DeleteResourcePolicy",
    "GetAccountSettings",
    "GetAlias",
    "GetCapacityProvider",
    "GetCodeSigningConfig",
    "GetDurableExecution",
    "GetDurableExecutionHistory",
    "GetDurableExecutionState",
    "GetEventSourceMapping",
    "GetFunction",
    "GetFunctionCodeSigningConfig",
    "GetFunctionConcurrency",
    "GetFunctionConfiguration",
    "GetFunctionEventInvokeConfig",
    "GetFunctionRecursionConfig",
    "GetFunctionScalingConfig",
    "GetFunctionUrlConfig",
    "GetLayerVersion",
    "GetLayerVersionByArn",
    "GetLayerVersionPolicy",
    "GetPolicy",
    "GetProvisionedConcurrencyConfig",
    "GetResourcePolicy",
    "GetRuntimeManagementConfig",
    "Invoke",
    "InvokeAsync",
    "InvokeWithResponseStream",
    "ListAliases",
    "ListCapacityProviders",
    "ListCodeSigningConfigs",
    "ListDurableExecutionsByFunction",
    "ListEventSourceMappings",
    "ListFunctionEventInvokeConfigs",
    "ListFunctionUrlConfigs",
    "ListFunctionVersionsByCapacityProvider",
    "ListFunctions",
    "ListFunctionsByCodeSigningConfig",
    "ListLayerVersions",
    "ListLayers",
    "ListProvisionedConcurrencyConfigs",
    "ListTags",
    "ListVersionsByFunction",
    "PauseDurableExecution",
    "PublishLayerVersion",
    "PublishVersion",
    "PutFunctionCodeSigningConfig",
    "PutFunctionConcurrency",
    "PutFunctionEventInvokeConfig",
    "PutFunctionRecursionConfig",
    "PutFunctionScalingConfig",
    "PutProvisionedConcurrencyConfig",
    "PutResourcePolicy",
    "PutRuntimeManagementConfig",
    "RemoveLayerVersionPermission",
    "RemovePermission",
    "ResumeDurableExecution",
    "SendDurableExecutionCallbackFailure",
    "SendDurableExecutionCallbackHeartbeat",
    "SendDurableExecutionCallbackSuccess",
    "StopDurableExecution",
    "TagResource",
    "UntagResource",
    "UpdateAlias",
    "UpdateCapacityProvider",
    "UpdateCodeSigningConfig",
    "UpdateEventSourceMapping",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "UpdateFunctionEventInvokeConfig",
    "UpdateFunctionUrlConfig",
];

/// The operations cairn serves; the others answer that cairn does not support them.
pub(super) const SERVED: [&str; 23] = [
    "AddPermission",
    "CreateFunction",
    "DeleteFunction",
    "DeleteFunctionConcurrency",
    "DeleteFunctionEventInvokeConfig",
    "GetAccountSettings",
    "GetFunction",
    "GetFunctionConcurrency",
    "GetFunctionConfiguration",
    "GetFunctionEventInvokeConfig",
    "GetPolicy",
    "Invoke",
    "ListFunctionEventInvokeConfigs",
    "ListFunctions",
    "ListTags",
    "PutFunctionConcurrency",
    "PutFunctionEventInvokeConfig",
    "RemovePermission",
    "TagResource",
    "UntagResource",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "UpdateFunctionEventInvokeConfig",
];

/// The invocations: data events (`AWS::Lambda::Function`), which trails log only when their
/// selectors ask and event history never shows.
pub(super) const DATA: [&str; 3] = ["Invoke", "InvokeAsync", "InvokeWithResponseStream"];

/// Management events recorded with a `v2` after the API version (AWS's guide and records).
const V2: [&str; 9] = [
    "AddPermission",
    "RemovePermission",
    "GetFunction",
    "GetFunctionConfiguration",
    "GetPolicy",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "TagResource",
    "UntagResource",
];

fn is_read_only(op: &str) -> bool {
    op.starts_with("Get") || op.starts_with("List")
}

/// The IAM action an operation needs (IAM's service authorization reference for Lambda).
fn action(op: &str) -> String {
    let name = match op {
        "Invoke" | "InvokeWithResponseStream" => "InvokeFunction",
        "GetLayerVersionByArn" => "GetLayerVersion",
        other => other,
    };
    format!("lambda:{name}")
}

/// `CreateFunction20150331`: the operation's name, the date of its path, and `v2` for some.
fn event_name(op: &'static str) -> &'static str {
    if DATA.contains(&op) {
        return op;
    }
    let Some(route) = super::wire::route_of(op) else {
        return op;
    };
    let date: String = route
        .uri
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let v2 = if V2.contains(&op) { "v2" } else { "" };
    // The table lives for the process: each name is made once.
    Box::leak(format!("{op}{date}{v2}").into_boxed_str())
}

/// The operations that set a function's execution role, and so need `iam:PassRole` on it.
const PASSES_ROLE: [&str; 2] = ["CreateFunction", "UpdateFunctionConfiguration"];

pub(super) fn table() -> &'static [Operation] {
    static TABLE: OnceLock<Vec<Operation>> = OnceLock::new();
    TABLE.get_or_init(|| {
        OPERATIONS
            .iter()
            .map(|&n| {
                let own = action(n);
                // Giving a function a role passes it to Lambda: AWS's dependent action.
                let actions: &[&str] = if PASSES_ROLE.contains(&n) {
                    &[&own, "iam:PassRole"]
                } else {
                    &[&own]
                };
                let op = Operation::named("lambda", n, is_read_only(n), SERVED.contains(&n))
                    .actions(actions)
                    .recorded_as(event_name(n));
                if DATA.contains(&n) { op.data() } else { op }
            })
            .collect()
    })
}
