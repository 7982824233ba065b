//! SQS' operation table: every operation of the API (botocore model 2012-11-05), which cairn
//! serves, which are read-only, which CloudTrail counts as data events, and the IAM action
//! each needs (a batch needs its single operation's action, as in IAM's reference).

use std::sync::OnceLock;

use crate::pipeline::Operation;

/// Every operation of the SQS API (botocore model 2012-11-05).
pub const OPERATIONS: [&str; 23] = [
    "AddPermission",
    "CancelMessageMoveTask",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "CreateQueue",
    "DeleteMessage",
    "DeleteMessageBatch",
    "DeleteQueue",
    "GetQueueAttributes",
    "GetQueueUrl",
    "ListDeadLetterSourceQueues",
    "ListMessageMoveTasks",
    "ListQueueTags",
    "ListQueues",
    "PurgeQueue",
    "ReceiveMessage",
    "RemovePermission",
    "SendMessage",
    "SendMessageBatch",
    "SetQueueAttributes",
    "StartMessageMoveTask",
    "TagQueue",
    "UntagQueue",
];

/// Operations that change nothing a caller set. ReceiveMessage hides what it hands out, but
/// CloudTrail counts it a read.
const READ_ONLY: [&str; 7] = [
    "GetQueueAttributes",
    "GetQueueUrl",
    "ListDeadLetterSourceQueues",
    "ListMessageMoveTasks",
    "ListQueueTags",
    "ListQueues",
    "ReceiveMessage",
];

/// The message operations, which CloudTrail records as data events ("Amazon SQS data events
/// in CloudTrail"): trails log them only when their selectors ask, event history never.
pub(super) const DATA: [&str; 7] = [
    "SendMessage",
    "SendMessageBatch",
    "ReceiveMessage",
    "DeleteMessage",
    "DeleteMessageBatch",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
];

/// The operations cairn serves; the others answer `AWS.SimpleQueueService.UnsupportedOperation`.
pub(super) const SERVED: [&str; 18] = [
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "CreateQueue",
    "DeleteMessage",
    "DeleteMessageBatch",
    "DeleteQueue",
    "GetQueueAttributes",
    "GetQueueUrl",
    "ListDeadLetterSourceQueues",
    "ListQueueTags",
    "ListQueues",
    "PurgeQueue",
    "ReceiveMessage",
    "SendMessage",
    "SendMessageBatch",
    "SetQueueAttributes",
    "TagQueue",
    "UntagQueue",
];

/// The IAM action an operation needs.
pub(super) fn action(op: &str) -> String {
    format!("sqs:{}", op.strip_suffix("Batch").unwrap_or(op))
}

/// The table `Service::operations` answers.
pub(super) fn table() -> &'static [Operation] {
    static TABLE: OnceLock<Vec<Operation>> = OnceLock::new();
    TABLE.get_or_init(|| {
        OPERATIONS
            .iter()
            .map(|&n| {
                let a = action(n);
                let op = Operation::named("sqs", n, READ_ONLY.contains(&n), SERVED.contains(&n))
                    .actions(&[a.as_str()]);
                if DATA.contains(&n) { op.data() } else { op }
            })
            .collect()
    })
}
