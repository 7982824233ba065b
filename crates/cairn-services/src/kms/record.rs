//! How KMS calls are recorded (`kms.amazonaws.com` management events): parameters and
//! results without plaintexts, ciphertexts or key material, and the key a call named among the
//! `resources` whatever happened next.

use cairn_model::RecordResource;
use serde_json::Value;

use super::Kms;
use crate::params;
use crate::pipeline::{Access, Details, Ended, Operation, Recording};
use crate::recorder::CallContext;

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

pub(super) fn record(
    ctx: &CallContext,
    op: &'static Operation,
    call: Recording<'_, Kms>,
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
