//! What a KMS call acts on: the key it names (by id, ARN or alias; for Decrypt, the key in the
//! ciphertext), and the check its key policy decides. Operations on no one key are judged by
//! identity policies alone.

use cairn_policy::ResourceRule;
use cairn_store::kms::Key;
use cairn_wire::AwsError;
use serde_json::Value;

use super::crypto;
use super::handlers::{
    Scope, blob, check_alias_name, check_policy_name, context, find_key, internal, not_found,
    required, resolve_key, str_member,
};
use crate::app::App;
use crate::pipeline::{Check, PolicyOf};
use crate::recorder::CallContext;

/// What a KMS call acts on, found before it is authorized: the key, and the ARN its record
/// lists whatever happens next.
#[derive(Default)]
pub struct KmsPlan {
    pub key: Option<Key>,
    pub key_arn: Option<String>,
}

/// The permission an operation on `key` needs: its key policy decides, with the caller's
/// identity policies where the key policy delegates to the account. Policies may test the
/// encryption context (`kms:EncryptionContext:<key>`) and the service a call came through
/// (`kms:ViaService`).
fn key_check(ctx: &CallContext, key: &Key, op: &str, input: &Value) -> Check {
    let mut keys: Vec<(String, String)> =
        vec![("kms:CallerAccount".into(), ctx.recipient_account.clone())];
    if let Ok(context) = context(input) {
        for (k, v) in context {
            keys.push((format!("kms:EncryptionContext:{k}"), v));
        }
    }
    if let Some(by) = &ctx.invoked_by {
        let service = by.strip_suffix(".amazonaws.com").unwrap_or(by);
        keys.push((
            "kms:ViaService".into(),
            format!("{service}.{}.amazonaws.com", ctx.region),
        ));
    }
    Check::new(format!("kms:{op}"), key.arn())
        .with_policy(PolicyOf {
            document: Some(key.policy.clone()),
            account: ctx.recipient_account.clone(),
            rule: ResourceRule::Exclusive,
        })
        .with_keys(keys)
}

/// Finds the key a call names (validating what must be checked before it) and the permission
/// the call needs. Operations on no one key are judged by identity policies alone.
pub(super) fn resolve(
    app: &App,
    ctx: &CallContext,
    op: &str,
    input: &Value,
    plan: &mut KmsPlan,
) -> Result<Vec<Check>, AwsError> {
    let key_for = |member: &str, plan: &mut KmsPlan| -> Result<Key, AwsError> {
        let key = resolve_key(app, Scope::of(ctx), required(input, member)?)?;
        plan.key_arn = Some(key.arn());
        Ok(key)
    };
    let key = match op {
        "CreateKey" | "ListKeys" | "ListAliases" | "GenerateRandom" => {
            return Ok(vec![Check::new(format!("kms:{op}"), "*")]);
        }
        "DescribeKey"
        | "EnableKey"
        | "DisableKey"
        | "ScheduleKeyDeletion"
        | "CancelKeyDeletion"
        | "ListKeyPolicies"
        | "UpdateKeyDescription"
        | "Encrypt"
        | "GenerateDataKey"
        | "GenerateDataKeyWithoutPlaintext" => key_for("KeyId", plan)?,
        "GetKeyPolicy" | "PutKeyPolicy" => {
            let key = key_for("KeyId", plan)?;
            check_policy_name(input)?;
            key
        }
        "CreateAlias" | "UpdateAlias" => {
            check_alias_name(required(input, "AliasName")?)?;
            key_for("TargetKeyId", plan)?
        }
        "DeleteAlias" => {
            let name = required(input, "AliasName")?;
            let alias = app
                .kms
                .alias(&ctx.recipient_account, &ctx.region, name)
                .map_err(internal)?
                .ok_or_else(|| {
                    not_found(format!(
                        "Alias arn:aws:kms:{}:{}:{name} is not found.",
                        ctx.region, ctx.recipient_account
                    ))
                })?;
            let key = find_key(app, Scope::of(ctx), &alias.key_id, name)?;
            plan.key_arn = Some(key.arn());
            key
        }
        "Decrypt" => {
            let ct = blob(input, "CiphertextBlob")?;
            let invalid = || AwsError::client("InvalidCiphertextException", "");
            let blob_key = crypto::key_of(&ct).ok_or_else(invalid)?.to_owned();
            let key = find_key(app, Scope::of(ctx), &blob_key, &blob_key).map_err(|_| invalid())?;
            plan.key_arn = Some(key.arn());
            if let Some(asked) = str_member(input, "KeyId") {
                let named = resolve_key(app, Scope::of(ctx), asked)?;
                if named.key_id != key.key_id {
                    return Err(AwsError::client(
                        "IncorrectKeyException",
                        "The key ID in the request does not identify a CMK that can perform this operation.",
                    ));
                }
            }
            key
        }
        // Operations cairn does not have need no permission to be told so.
        _ => return Ok(Vec::new()),
    };
    let check = key_check(ctx, &key, op, input);
    plan.key = Some(key);
    Ok(vec![check])
}
