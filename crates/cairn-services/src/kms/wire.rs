//! KMS's wire shapes: the JSON 1.1 codec (`X-Amz-Target: TrentService.<Op>`) and the
//! documents its answers carry (`KeyMetadata`).

use cairn_model::timefmt::epoch_seconds;
use cairn_store::kms::Key;
use cairn_wire::Protocol;
use serde_json::{Value, json};

use crate::pipeline::codec::json::JsonCodec;

pub const TARGET_PREFIX: &str = "TrentService.";

pub(super) static CODEC: JsonCodec = JsonCodec {
    protocol: Protocol::Json11,
    target_prefixes: &[TARGET_PREFIX],
};

/// A key's `KeyMetadata`, as DescribeKey, CreateKey and the others answer it.
pub(super) fn metadata(key: &Key) -> Value {
    let mut m = json!({
        "AWSAccountId": key.account,
        "KeyId": key.key_id,
        "Arn": key.arn(),
        "CreationDate": epoch_seconds(key.created_ms),
        "Enabled": key.state == "Enabled",
        "Description": key.description,
        "KeyUsage": key.key_usage,
        "KeyState": key.state,
        "Origin": "AWS_KMS",
        "KeyManager": "CUSTOMER",
        "CustomerMasterKeySpec": key.key_spec,
        "KeySpec": key.key_spec,
        "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
        "MultiRegion": false,
    });
    if let (Some(d), Some(days)) = (key.deletion_ms, key.pending_days) {
        m["DeletionDate"] = epoch_seconds(d);
        m["PendingDeletionWindowInDays"] = json!(days);
    }
    m
}
