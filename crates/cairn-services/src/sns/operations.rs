//! SNS's operation table: every operation of the API (botocore model 2010-03-31), which cairn
//! serves, which are read-only, and which CloudTrail counts as data events (Publish and
//! PublishBatch, as in AWS).

use std::sync::OnceLock;

use crate::pipeline::{Access, Operation};

/// Every operation of the SNS API (botocore model 2010-03-31).
pub const OPERATIONS: [&str; 42] = [
    "AddPermission",
    "CheckIfPhoneNumberIsOptedOut",
    "ConfirmSubscription",
    "CreatePlatformApplication",
    "CreatePlatformEndpoint",
    "CreateSMSSandboxPhoneNumber",
    "CreateTopic",
    "DeleteEndpoint",
    "DeletePlatformApplication",
    "DeleteSMSSandboxPhoneNumber",
    "DeleteTopic",
    "GetDataProtectionPolicy",
    "GetEndpointAttributes",
    "GetPlatformApplicationAttributes",
    "GetSMSAttributes",
    "GetSMSSandboxAccountStatus",
    "GetSubscriptionAttributes",
    "GetTopicAttributes",
    "ListEndpointsByPlatformApplication",
    "ListOriginationNumbers",
    "ListPhoneNumbersOptedOut",
    "ListPlatformApplications",
    "ListSMSSandboxPhoneNumbers",
    "ListSubscriptions",
    "ListSubscriptionsByTopic",
    "ListTagsForResource",
    "ListTopics",
    "OptInPhoneNumber",
    "Publish",
    "PublishBatch",
    "PutDataProtectionPolicy",
    "RemovePermission",
    "SetEndpointAttributes",
    "SetPlatformApplicationAttributes",
    "SetSMSAttributes",
    "SetSubscriptionAttributes",
    "SetTopicAttributes",
    "Subscribe",
    "TagResource",
    "Unsubscribe",
    "UntagResource",
    "VerifySMSSandboxPhoneNumber",
];

/// The operations cairn serves; the others answer `InvalidAction` saying so.
pub(super) const SERVED: [&str; 19] = [
    "CreateTopic",
    "DeleteTopic",
    "ListTopics",
    "GetTopicAttributes",
    "SetTopicAttributes",
    "Subscribe",
    "ConfirmSubscription",
    "Unsubscribe",
    "ListSubscriptions",
    "ListSubscriptionsByTopic",
    "GetSubscriptionAttributes",
    "SetSubscriptionAttributes",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "Publish",
    "PublishBatch",
    "AddPermission",
    "RemovePermission",
];

/// Publishing is a data event in CloudTrail.
const DATA: [&str; 2] = ["Publish", "PublishBatch"];

fn is_read_only(op: &str) -> bool {
    op.starts_with("Get") || op.starts_with("List") || op.starts_with("Check")
}

/// Topic operations are judged with the topic's policy; ConfirmSubscription is decided by
/// the token (AWS lets anyone holding it confirm, unsigned).
fn access(op: &str) -> Access {
    match op {
        "ConfirmSubscription" => Access::Open,
        "CreateTopic" | "ListTopics" | "ListSubscriptions" => Access::Identity,
        _ if SERVED.contains(&op) => Access::ResourcePolicy,
        _ => Access::Identity,
    }
}

/// The table `Service::operations` answers.
pub(super) fn table() -> &'static [Operation] {
    static TABLE: OnceLock<Vec<Operation>> = OnceLock::new();
    TABLE.get_or_init(|| {
        OPERATIONS
            .iter()
            .map(|&n| {
                let op = Operation::named("sns", n, is_read_only(n), SERVED.contains(&n))
                    .access(access(n));
                let op = if n == "ConfirmSubscription" {
                    op.actions(&[])
                } else {
                    op
                };
                if DATA.contains(&n) { op.data() } else { op }
            })
            .collect()
    })
}
