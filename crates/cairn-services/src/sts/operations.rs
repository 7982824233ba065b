//! STS's operation table: every operation of the API (botocore model 2011-06-15), which cairn
//! serves, which are read-only and who decides them.

use std::sync::OnceLock;

use crate::pipeline::{Access, Operation};

/// Every operation of the STS API (botocore model 2011-06-15).
pub const OPERATIONS: [&str; 15] = [
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "AssumeRoot",
    "DecodeAuthorizationMessage",
    "GetAccessKeyInfo",
    "GetCallerIdentity",
    "GetCertificate",
    "GetDelegatedAccessToken",
    "GetFederationToken",
    "GetScopedCredentials",
    "GetSessionToken",
    "GetTrustBundles",
    "GetWebIdentityToken",
    "IssueWorkloadIdentityContext",
];

/// The operations cairn serves; the others answer `NotImplemented`.
const SERVED: [&str; 3] = ["AssumeRole", "GetCallerIdentity", "GetSessionToken"];

/// AssumeRole counts as read-only, as AWS records it.
fn is_read_only(op: &str) -> bool {
    op.starts_with("Get") || op.starts_with("Decode") || op.starts_with("Assume")
}

/// GetCallerIdentity needs no permission; AssumeRole is decided by the role's trust policy;
/// GetSessionToken is open to users and the root user, not to sessions.
fn access(op: &str) -> Access {
    match op {
        "GetCallerIdentity" => Access::Open,
        "AssumeRole" => Access::TrustPolicy,
        "GetSessionToken" => Access::Caller,
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
                let op = Operation::named("sts", n, is_read_only(n), SERVED.contains(&n))
                    .access(access(n));
                // GetCallerIdentity needs no permission at all, and is answered from what
                // authentication found (Operation::quick).
                if n == "GetCallerIdentity" {
                    op.actions(&[]).quick()
                } else {
                    op
                }
            })
            .collect()
    })
}
