//! The KMS front (JSON 1.1, `X-Amz-Target: TrentService.<Op>`): symmetric keys, aliases, key
//! policies, Encrypt/Decrypt and data keys. Every call is recorded as a `kms.amazonaws.com`
//! management event, with the key among its `resources`; plaintexts and ciphertexts never
//! reach a record. Operations cairn does not have answer `UnsupportedOperationException`.

mod crypto;
pub mod envelope;
mod ops;

pub use ops::{Scope, resolve};

use cairn_model::{EventCategory, RecordResource};
use cairn_wire::AwsError;
use serde_json::Value;

use crate::app::App;
use crate::params;
use crate::recorder::{CallContext, CallFacts};

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

pub fn operation(target: &str) -> Option<&'static str> {
    let name = target.strip_prefix(TARGET_PREFIX)?;
    OPERATIONS.iter().copied().find(|op| *op == name)
}

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

pub struct Front;

impl crate::edge::json::JsonFront for Front {
    fn operation(&self, target: &str) -> Option<&'static str> {
        operation(target)
    }

    /// Operations on a key are judged with its key policy inside; the others by identity
    /// policies alone.
    fn permission(
        &self,
        _app: &App,
        _ctx: &CallContext,
        op: &'static str,
        _input: &Value,
    ) -> Option<(String, String)> {
        ["CreateKey", "ListKeys", "ListAliases", "GenerateRandom"]
            .contains(&op)
            .then(|| (format!("kms:{op}"), "*".to_owned()))
    }

    fn call(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static str,
        input: Result<&Value, &AwsError>,
    ) -> (Result<Value, AwsError>, CallFacts) {
        let mut key_arn = None;
        let result = match input {
            Ok(v) if v.is_object() => ops::handle(app, ctx, op, v, &mut key_arn),
            Ok(_) => Err(AwsError::client(
                "SerializationException",
                "Start of structure or map found where not expected.",
            )),
            Err(e) => Err(e.clone()),
        };
        let input = input.unwrap_or(&Value::Null);
        let read_only = is_read_only(op);
        let mut request = scrub(params::request_parameters(input));
        // AWS records the algorithm Encrypt and Decrypt used, sent or not.
        if matches!(op, "Encrypt" | "Decrypt") {
            let m = request.get_or_insert_with(|| Value::Object(Default::default()));
            if let Value::Object(m) = m {
                m.entry("encryptionAlgorithm")
                    .or_insert_with(|| Value::String("SYMMETRIC_DEFAULT".into()));
            }
        }
        let facts = CallFacts {
            event_source: EVENT_SOURCE.to_owned(),
            event_name: op.to_owned(),
            read_only,
            category: EventCategory::Management,
            request_parameters: request,
            response_elements: if read_only {
                None
            } else {
                result
                    .as_ref()
                    .ok()
                    .and_then(|v| scrub(params::request_parameters(v)))
            },
            additional_event_data: None,
            resources: key_arn
                .map(|arn| {
                    vec![RecordResource {
                        account_id: Some(ctx.recipient_account.clone()),
                        resource_type: "AWS::KMS::Key".into(),
                        arn: Some(arn),
                        arn_prefix: None,
                    }]
                })
                .unwrap_or_default(),
            shared_with: None,
        };
        (result, facts)
    }
}
