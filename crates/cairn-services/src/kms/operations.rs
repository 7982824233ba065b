//! KMS's operation table: every operation of the API (botocore model 2014-11-01), which cairn
//! serves, which are read-only and who decides them (key policies or identity policies).

use std::sync::OnceLock;

use crate::pipeline::{Access, Operation};

/// Every operation of the KMS API (botocore model 2014-11-01).
pub const OPERATIONS: [&str; 56] = [
    "CancelKeyDeletion",
    "ConnectCustomKeyStore",
    "CreateAlias",
    "CreateCustomKeyStore",
    "CreateGrant",
    "CreateKey",
    "Decapsulate",
    "Decrypt",
    "DeleteAlias",
    "DeleteCustomKeyStore",
    "DeleteImportedKeyMaterial",
    "DeriveSharedSecret",
    "DescribeCustomKeyStores",
    "DescribeKey",
    "DisableKey",
    "DisableKeyRotation",
    "DisconnectCustomKeyStore",
    "EnableKey",
    "EnableKeyRotation",
    "Encapsulate",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "GenerateRandom",
    "GetKeyLastUsage",
    "GetKeyPolicy",
    "GetKeyRotationStatus",
    "GetParametersForImport",
    "GetPublicKey",
    "ImportKeyMaterial",
    "ListAliases",
    "ListGrants",
    "ListKeyPolicies",
    "ListKeyRotations",
    "ListKeys",
    "ListResourceTags",
    "ListRetirableGrants",
    "PutKeyPolicy",
    "ReEncrypt",
    "ReplicateKey",
    "RetireGrant",
    "RevokeGrant",
    "RotateKeyOnDemand",
    "ScheduleKeyDeletion",
    "Sign",
    "TagResource",
    "UntagResource",
    "UpdateAlias",
    "UpdateCustomKeyStore",
    "UpdateKeyDescription",
    "UpdatePrimaryRegion",
    "Verify",
    "VerifyMac",
];

/// Operations that only read or use a key (Encrypt and Decrypt count: they change nothing).
fn is_read_only(op: &str) -> bool {
    [
        "Get",
        "List",
        "Describe",
        "Encrypt",
        "Decrypt",
        "GenerateData",
        "GenerateRandom",
        "ReEncrypt",
        "Verify",
        "Sign",
    ]
    .iter()
    .any(|p| op.starts_with(p))
}

/// The operations cairn serves; the others answer `UnsupportedOperationException`.
const SERVED: [&str; 20] = [
    "CreateKey",
    "DescribeKey",
    "ListKeys",
    "CreateAlias",
    "UpdateAlias",
    "DeleteAlias",
    "ListAliases",
    "EnableKey",
    "DisableKey",
    "ScheduleKeyDeletion",
    "CancelKeyDeletion",
    "GetKeyPolicy",
    "PutKeyPolicy",
    "ListKeyPolicies",
    "UpdateKeyDescription",
    "Encrypt",
    "Decrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateRandom",
];

/// Operations on one key are decided by its key policy; the others by identity policies.
fn access(op: &str) -> Access {
    if ["CreateKey", "ListKeys", "ListAliases", "GenerateRandom"].contains(&op) {
        Access::Identity
    } else {
        Access::KeyPolicy
    }
}

/// The table `Service::operations` answers.
pub(super) fn table() -> &'static [Operation] {
    static TABLE: OnceLock<Vec<Operation>> = OnceLock::new();
    TABLE.get_or_init(|| {
        OPERATIONS
            .iter()
            .map(|&n| {
                Operation::named("kms", n, is_read_only(n), SERVED.contains(&n)).access(access(n))
            })
            .collect()
    })
}
