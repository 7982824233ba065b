//! The KMS front (JSON 1.1, `X-Amz-Target: TrentService.<Op>`): symmetric keys, aliases, key
//! policies, Encrypt/Decrypt and data keys. Every call is recorded as a `kms.amazonaws.com`
//! management event, with the key among its `resources`; plaintexts and ciphertexts never
//! reach a record. Operations cairn does not have answer `UnsupportedOperationException`.

mod crypto;
mod ops;

pub use ops::KmsPlan;

use std::sync::OnceLock;

use cairn_model::RecordResource;
use cairn_wire::{AwsError, Protocol};
use serde_json::Value;

use crate::app::App;
use crate::params;
use crate::pipeline::codec::json::JsonCodec;
use crate::pipeline::{Access, Check, Details, Ended, Operation, Recording, Service};
use crate::recorder::CallContext;

pub const EVENT_SOURCE: &str = "kms.amazonaws.com";
pub const TARGET_PREFIX: &str = "TrentService.";

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

/// Request and response members that carry secrets or key material: never recorded.
const SECRET_MEMBERS: [&str; 3] = ["plaintext", "ciphertextBlob", "ciphertextForRecipient"];

fn scrub(v: Option<Value>) -> Option<Value> {
    let mut v = v?;
    if let Value::Object(m) = &mut v {
        for k in SECRET_MEMBERS {
            m.remove(k);
        }
        if m.is_empty() {
            return None;
        }
    }
    Some(v)
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

/// The KMS service.
pub struct Kms;

static CODEC: JsonCodec = JsonCodec {
    protocol: Protocol::Json11,
    target_prefixes: &[TARGET_PREFIX],
};

/// Operations on one key are decided by its key policy; the others by identity policies.
fn access(op: &str) -> Access {
    if ["CreateKey", "ListKeys", "ListAliases", "GenerateRandom"].contains(&op) {
        Access::Identity
    } else {
        Access::KeyPolicy
    }
}

impl Service for Kms {
    type Codec = JsonCodec;
    type Plan = KmsPlan;

    fn signing_name(&self) -> &'static str {
        "kms"
    }

    fn event_source(&self) -> &'static str {
        EVENT_SOURCE
    }

    fn codec(&self) -> &JsonCodec {
        &CODEC
    }

    fn operations(&self) -> &'static [Operation] {
        static TABLE: OnceLock<Vec<Operation>> = OnceLock::new();
        TABLE.get_or_init(|| {
            OPERATIONS
                .iter()
                .map(|&n| {
                    Operation::named("kms", n, is_read_only(n), SERVED.contains(&n))
                        .access(access(n))
                })
                .collect()
        })
    }

    fn resolve(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        input: &Value,
        plan: &mut KmsPlan,
    ) -> Result<Vec<Check>, AwsError> {
        ops::resolve(app, ctx, op.name, input, plan)
    }

    fn run(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        input: &Value,
        plan: &mut KmsPlan,
    ) -> Result<Value, AwsError> {
        ops::handle(app, ctx, op.name, input, plan)
    }

    fn record(
        &self,
        _app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        call: Recording<'_, Self>,
    ) -> Details {
        // A call refused by identity policies is recorded without its parameters; one refused
        // by a key policy names its parameters and the key.
        if call.ended == Ended::Denied && op.access == Access::Identity {
            return Details::default();
        }
        let input = call.input.unwrap_or(&Value::Null);
        let mut request = scrub(params::request_parameters(input));
        // AWS records the algorithm Encrypt and Decrypt used, sent or not.
        if matches!(op.name, "Encrypt" | "Decrypt") {
            let m = request.get_or_insert_with(|| Value::Object(Default::default()));
            if let Value::Object(m) = m {
                m.entry("encryptionAlgorithm")
                    .or_insert_with(|| Value::String("SYMMETRIC_DEFAULT".into()));
            }
        }
        Details {
            request_parameters: request,
            response_elements: if op.read_only {
                None
            } else {
                call.result
                    .ok()
                    .and_then(|v| scrub(params::request_parameters(v)))
            },
            // The key a call named is listed whatever happened next.
            resources: call
                .plan
                .key_arn
                .clone()
                .map(|arn| {
                    vec![RecordResource {
                        account_id: Some(ctx.recipient_account.clone()),
                        resource_type: "AWS::KMS::Key".into(),
                        arn: Some(arn),
                        arn_prefix: None,
                    }]
                })
                .unwrap_or_default(),
            ..Details::default()
        }
    }
}
