//! CloudTrail Data's operation table (botocore model 2021-08-11): PutAuditEvents, recorded as
//! a data event (resource type `AWS::CloudTrail::Channel`), decided by the caller's identity
//! policies and the channel's resource policy.

use std::sync::OnceLock;

use crate::pipeline::{Access, Operation};

/// Every operation of the CloudTrail Data API.
pub const OPERATIONS: [&str; 1] = ["PutAuditEvents"];

/// The table `Service::operations` answers.
pub(super) fn table() -> &'static [Operation] {
    static TABLE: OnceLock<Vec<Operation>> = OnceLock::new();
    TABLE.get_or_init(|| {
        OPERATIONS
            .iter()
            .map(|&n| {
                Operation::named("cloudtrail-data", n, false, true)
                    .access(Access::ResourcePolicy)
                    .data()
            })
            .collect()
    })
}
