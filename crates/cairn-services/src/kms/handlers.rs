//! The KMS operations cairn has: key lifecycle, aliases, key policies, and cryptography with
//! symmetric keys. Each use of a key is judged by its key policy, as AWS does (the account's
//! root is not exempt: a key policy that does not grant the account locks it out).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use cairn_model::timefmt::epoch_seconds;
use cairn_store::kms::{Alias, Key};
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::crypto;
use super::resolve::KmsPlan;
use super::wire::metadata;
use crate::app::App;
use crate::recorder::CallContext;

const DAY_MS: i64 = 86_400_000;

pub(super) fn internal(e: impl std::fmt::Display) -> AwsError {
    AwsError::internal(e.to_string())
}

fn validation(msg: impl Into<String>) -> AwsError {
    AwsError::client("ValidationException", msg)
}

pub(super) fn not_found(msg: impl Into<String>) -> AwsError {
    AwsError::client("NotFoundException", msg)
}

pub(super) use crate::members::str_member;

pub(super) fn required<'a>(input: &'a Value, name: &str) -> Result<&'a str, AwsError> {
    str_member(input, name).ok_or_else(|| {
        validation(format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            lower_first(name)
        ))
    })
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

pub(super) fn blob(input: &Value, name: &str) -> Result<Vec<u8>, AwsError> {
    B64.decode(required(input, name)?)
        .map_err(|_| validation(format!("{name} is not valid base64.")))
}

pub(super) fn context(input: &Value) -> Result<BTreeMap<String, String>, AwsError> {
    match input.get("EncryptionContext") {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(validation("EncryptionContext values must be strings.")),
            })
            .collect(),
        Some(_) => Err(validation("EncryptionContext must be a map of strings.")),
    }
}

/// The key policy AWS gives a key created without one: the account decides, through IAM.
fn default_policy(account: &str) -> String {
    json!({"Version": "2012-10-17", "Id": "key-default-1", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
         "Action": "kms:*", "Resource": "*"}]})
    .to_string()
}

fn caller(ctx: &CallContext) -> (String, String) {
    (ctx.recipient_account.clone(), ctx.principal.arn())
}

/// A key policy must be a policy document, and must not lock the caller out of the key.
fn check_policy(app: &App, ctx: &CallContext, policy: &str, bypass: bool) -> Result<(), AwsError> {
    let malformed = |m: &str| AwsError::client("MalformedPolicyDocumentException", m);
    let doc: Value = serde_json::from_str(policy).map_err(|_| {
        malformed("Policy contains a statement with one or more invalid principals.")
    })?;
    if !matches!(
        doc.get("Statement"),
        Some(Value::Array(_)) | Some(Value::Object(_))
    ) {
        return Err(malformed("The policy document must contain a Statement."));
    }
    if policy.len() > 32_768 {
        return Err(validation("Policy must be at most 32768 characters."));
    }
    let (account, _) = caller(ctx);
    let locked_out = crate::authz::authorize(
        app,
        ctx,
        "kms:PutKeyPolicy",
        "*",
        Some(crate::authz::ResourcePolicy {
            document: Some(policy),
            account: &account,
            rule: crate::authz::ResourceRule::Exclusive,
        }),
        &[],
    )
    .is_err();
    if !bypass && locked_out {
        return Err(malformed(
            "The new key policy will not allow you to update the key policy in the future.",
        ));
    }
    Ok(())
}

/// Where keys are looked up: an account's keys in one region.
#[derive(Clone, Copy)]
pub(super) struct Scope<'a> {
    pub account: &'a str,
    pub region: &'a str,
}

impl<'a> Scope<'a> {
    pub(super) fn of(ctx: &'a CallContext) -> Scope<'a> {
        Scope {
            account: &ctx.recipient_account,
            region: &ctx.region,
        }
    }
}

fn key_arn_of(scope: Scope<'_>, key_id: &str) -> String {
    format!(
        "arn:aws:kms:{}:{}:key/{key_id}",
        scope.region, scope.account
    )
}

/// Finds the key a `KeyId` names: a key id, key ARN, alias name or alias ARN. A key whose
/// deletion date has passed is gone.
pub(super) fn resolve_key(app: &App, scope: Scope<'_>, id: &str) -> Result<Key, AwsError> {
    let (account, region) = (scope.account, scope.region);
    let alias_name = if let Some(rest) = id.strip_prefix("arn:aws:kms:") {
        let parts: Vec<&str> = rest.splitn(3, ':').collect();
        match parts.as_slice() {
            [r, a, res] if *r == region && *a == account => match res.split_once('/') {
                Some(("alias", _)) => Some((*res).to_owned()),
                Some(("key", kid)) => return find_key(app, scope, kid, id),
                _ => return Err(not_found(format!("Invalid arn {id}"))),
            },
            _ => return Err(not_found(format!("Invalid arn {id}"))),
        }
    } else if id.starts_with("alias/") {
        Some(id.to_owned())
    } else {
        None
    };
    match alias_name {
        Some(name) => {
            let alias = app
                .kms
                .alias(account, region, &name)
                .map_err(internal)?
                .ok_or_else(|| {
                    not_found(format!(
                        "Alias arn:aws:kms:{region}:{account}:{name} is not found."
                    ))
                })?;
            find_key(app, scope, &alias.key_id, id)
        }
        None => find_key(app, scope, id, id),
    }
}

pub(super) fn find_key(
    app: &App,
    scope: Scope<'_>,
    key_id: &str,
    asked: &str,
) -> Result<Key, AwsError> {
    let missing = || {
        if uuid_like(key_id) {
            not_found(format!(
                "Key '{}' does not exist",
                key_arn_of(scope, key_id)
            ))
        } else {
            not_found(format!("Invalid keyId '{asked}'"))
        }
    };
    let key = app.kms.get(key_id).map_err(internal)?.ok_or_else(missing)?;
    if key.account != scope.account || key.region != scope.region {
        return Err(missing());
    }
    if key.state == "PendingDeletion"
        && key.deletion_ms.is_some_and(|d| app.clock.now_millis() >= d)
    {
        app.kms.delete(key_id).map_err(internal)?;
        return Err(missing());
    }
    Ok(key)
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// A key that cryptographic operations may use.
pub fn usable(key: &Key) -> Result<(), AwsError> {
    match key.state.as_str() {
        "Enabled" => Ok(()),
        "Disabled" => Err(AwsError::client(
            "DisabledException",
            format!("{} is disabled.", key.arn()),
        )),
        _ => Err(AwsError::client(
            "KMSInvalidStateException",
            format!("{} is pending deletion.", key.arn()),
        )),
    }
}

fn unsupported(op: &str, why: &str) -> AwsError {
    AwsError::client(
        "UnsupportedOperationException",
        format!("cairn does not support {op}{why}."),
    )
}

/// Runs an authorized KMS call on what `resolve` found.
pub(super) fn run(
    app: &App,
    ctx: &CallContext,
    op: &str,
    input: &Value,
    plan: &mut KmsPlan,
) -> Result<Value, AwsError> {
    let now = app.clock.now_millis();
    let resolved = plan.key.clone();
    let key_of = || {
        resolved
            .clone()
            .ok_or_else(|| AwsError::internal("the key was not resolved"))
    };
    match op {
        "CreateKey" => create_key(app, ctx, input, &mut plan.key_arn),
        "DescribeKey" => Ok(json!({"KeyMetadata": metadata(&key_of()?)})),
        "ListKeys" => list_keys(app, ctx, input),
        "CreateAlias" => {
            let name = required(input, "AliasName")?;
            let key = key_of()?;
            if app
                .kms
                .alias(&ctx.recipient_account, &ctx.region, name)
                .map_err(internal)?
                .is_some()
            {
                return Err(AwsError::client(
                    "AlreadyExistsException",
                    format!(
                        "An alias with the name arn:aws:kms:{}:{}:{name} already exists",
                        ctx.region, ctx.recipient_account
                    ),
                ));
            }
            put_alias(app, ctx, name, &key, now)
        }
        "UpdateAlias" => {
            let name = required(input, "AliasName")?;
            let key = key_of()?;
            if app
                .kms
                .alias(&ctx.recipient_account, &ctx.region, name)
                .map_err(internal)?
                .is_none()
            {
                return Err(not_found(format!(
                    "Alias arn:aws:kms:{}:{}:{name} is not found.",
                    ctx.region, ctx.recipient_account
                )));
            }
            put_alias(app, ctx, name, &key, now)
        }
        "DeleteAlias" => {
            let name = required(input, "AliasName")?;
            app.kms
                .delete_alias(&ctx.recipient_account, &ctx.region, name)
                .map_err(internal)?;
            Ok(json!({}))
        }
        "ListAliases" => list_aliases(app, ctx, input),
        "EnableKey" | "DisableKey" => {
            let mut key = key_of()?;
            if key.state == "PendingDeletion" {
                return Err(AwsError::client(
                    "KMSInvalidStateException",
                    format!("{} is pending deletion.", key.arn()),
                ));
            }
            key.state = if op == "EnableKey" {
                "Enabled"
            } else {
                "Disabled"
            }
            .into();
            app.kms.update(&key).map_err(internal)?;
            Ok(json!({}))
        }
        "ScheduleKeyDeletion" => {
            let mut key = key_of()?;
            let days = input
                .get("PendingWindowInDays")
                .and_then(Value::as_i64)
                .unwrap_or(30);
            if !(7..=30).contains(&days) {
                return Err(validation(format!(
                    "1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value less than or equal to 30 and greater than or equal to 7"
                )));
            }
            if key.state == "PendingDeletion" {
                return Err(AwsError::client(
                    "KMSInvalidStateException",
                    format!("{} is pending deletion.", key.arn()),
                ));
            }
            key.state = "PendingDeletion".into();
            key.deletion_ms = Some(now + days * DAY_MS);
            key.pending_days = Some(days);
            app.kms.update(&key).map_err(internal)?;
            Ok(
                json!({"KeyId": key.arn(), "DeletionDate": epoch_seconds(now + days * DAY_MS),
                      "KeyState": "PendingDeletion", "PendingWindowInDays": days}),
            )
        }
        "CancelKeyDeletion" => {
            let mut key = key_of()?;
            if key.state != "PendingDeletion" {
                return Err(AwsError::client(
                    "KMSInvalidStateException",
                    format!("{} is not pending deletion.", key.arn()),
                ));
            }
            key.state = "Disabled".into();
            key.deletion_ms = None;
            key.pending_days = None;
            app.kms.update(&key).map_err(internal)?;
            Ok(json!({"KeyId": key.arn()}))
        }
        "GetKeyPolicy" => {
            let key = key_of()?;
            Ok(json!({"Policy": key.policy, "PolicyName": "default"}))
        }
        "PutKeyPolicy" => {
            let mut key = key_of()?;
            let policy = required(input, "Policy")?;
            let bypass = input
                .get("BypassPolicyLockoutSafetyCheck")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            check_policy(app, ctx, policy, bypass)?;
            key.policy = policy.to_owned();
            app.kms.update(&key).map_err(internal)?;
            Ok(json!({}))
        }
        "ListKeyPolicies" => {
            key_of()?;
            Ok(json!({"PolicyNames": ["default"], "Truncated": false}))
        }
        "UpdateKeyDescription" => {
            let mut key = key_of()?;
            key.description = required(input, "Description")?.to_owned();
            app.kms.update(&key).map_err(internal)?;
            Ok(json!({}))
        }
        "Encrypt" => {
            let key = key_of()?;
            usable(&key)?;
            check_algorithm(input)?;
            let plaintext = blob(input, "Plaintext")?;
            if plaintext.is_empty() || plaintext.len() > 4096 {
                return Err(validation(
                    "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096",
                ));
            }
            let ct = seal(app, &key, &plaintext, &context(input)?)?;
            Ok(
                json!({"CiphertextBlob": B64.encode(ct), "KeyId": key.arn(), "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
            )
        }
        "Decrypt" => {
            let ct = blob(input, "CiphertextBlob")?;
            let invalid = || AwsError::client("InvalidCiphertextException", "");
            let key = key_of()?;
            usable(&key)?;
            check_algorithm(input)?;
            let plain = open(app, &key, &ct, &context(input)?)?.ok_or_else(invalid)?;
            Ok(
                json!({"KeyId": key.arn(), "Plaintext": B64.encode(plain), "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
            )
        }
        "GenerateDataKey" | "GenerateDataKeyWithoutPlaintext" => {
            let key = key_of()?;
            usable(&key)?;
            let n = match (
                str_member(input, "KeySpec"),
                input.get("NumberOfBytes").and_then(Value::as_u64),
            ) {
                (Some("AES_256"), None) => 32,
                (Some("AES_128"), None) => 16,
                (None, Some(n)) if (1..=1024).contains(&n) => n as usize,
                (Some(_), Some(_)) | (None, None) => {
                    return Err(validation(
                        "Please specify either number of bytes or key spec.",
                    ));
                }
                _ => {
                    return Err(validation(
                        "KeySpec must be AES_256 or AES_128, NumberOfBytes 1 to 1024.",
                    ));
                }
            };
            let plain = random_bytes(n);
            let ct = seal(app, &key, &plain, &context(input)?)?;
            let mut out = json!({"CiphertextBlob": B64.encode(ct), "KeyId": key.arn()});
            if op == "GenerateDataKey" {
                out["Plaintext"] = json!(B64.encode(plain));
            }
            Ok(out)
        }
        "GenerateRandom" => {
            let n = input
                .get("NumberOfBytes")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            if !(1..=1024).contains(&n) {
                return Err(validation(
                    "1 validation error detected: Value at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and 1024",
                ));
            }
            let bytes = random_bytes(n as usize);
            Ok(json!({"Plaintext": B64.encode(bytes)}))
        }
        other => Err(unsupported(
            other,
            " yet (cairn has symmetric keys, aliases, key policies, Encrypt, Decrypt and data keys)",
        )),
    }
}

/// A ciphertext blob of `plaintext` under `key`, bound to `context`.
pub fn seal(
    app: &App,
    key: &Key,
    plaintext: &[u8],
    context: &BTreeMap<String, String>,
) -> Result<Vec<u8>, AwsError> {
    let material = app.kms.material(&key.key_id).map_err(internal)?;
    crypto::seal(&key.key_id, &material, plaintext, context).map_err(internal)
}

/// The plaintext of a blob made under `key`; `None` when blob, key or context do not match.
pub fn open(
    app: &App,
    key: &Key,
    blob: &[u8],
    context: &BTreeMap<String, String>,
) -> Result<Option<Vec<u8>>, AwsError> {
    let material = app.kms.material(&key.key_id).map_err(internal)?;
    Ok(crypto::open(blob, &material, context))
}

pub fn random_bytes(n: usize) -> Vec<u8> {
    (0..n).map(|_| rand::random::<u8>()).collect()
}

fn check_algorithm(input: &Value) -> Result<(), AwsError> {
    match str_member(input, "EncryptionAlgorithm") {
        None | Some("SYMMETRIC_DEFAULT") => Ok(()),
        Some(_) => Err(AwsError::client(
            "InvalidKeyUsageException",
            "The encryption algorithm is not valid for a symmetric encryption key.",
        )),
    }
}

pub(super) fn check_policy_name(input: &Value) -> Result<(), AwsError> {
    match str_member(input, "PolicyName") {
        None | Some("default") => Ok(()),
        Some(other) => Err(not_found(format!("No such policy exists: {other}"))),
    }
}

pub(super) fn check_alias_name(name: &str) -> Result<(), AwsError> {
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/_-".contains(&b));
    if !name.starts_with("alias/") || name.len() > 256 || name.len() <= 6 || !ok_chars {
        return Err(validation(format!(
            "1 validation error detected: Value '{name}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$"
        )));
    }
    if name.starts_with("alias/aws/") {
        return Err(AwsError::client(
            "NotAuthorizedException",
            "Cannot create or update an alias that begins with alias/aws/: those are reserved for AWS managed keys.",
        ));
    }
    Ok(())
}

fn put_alias(
    app: &App,
    ctx: &CallContext,
    name: &str,
    key: &Key,
    now: i64,
) -> Result<Value, AwsError> {
    app.kms
        .put_alias(
            &ctx.recipient_account,
            &ctx.region,
            &Alias {
                name: name.to_owned(),
                key_id: key.key_id.clone(),
                created_ms: now,
            },
        )
        .map_err(internal)?;
    Ok(json!({}))
}

fn create_key(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    key_arn: &mut Option<String>,
) -> Result<Value, AwsError> {
    let spec = str_member(input, "KeySpec")
        .or_else(|| str_member(input, "CustomerMasterKeySpec"))
        .unwrap_or("SYMMETRIC_DEFAULT");
    let usage = str_member(input, "KeyUsage").unwrap_or("ENCRYPT_DECRYPT");
    if spec != "SYMMETRIC_DEFAULT" || usage != "ENCRYPT_DECRYPT" {
        return Err(unsupported(
            "CreateKey",
            &format!(" with KeySpec {spec} and KeyUsage {usage} (symmetric encryption keys only)"),
        ));
    }
    if str_member(input, "Origin").is_some_and(|o| o != "AWS_KMS") {
        return Err(unsupported(
            "CreateKey",
            " with an Origin other than AWS_KMS",
        ));
    }
    if input.get("MultiRegion").and_then(Value::as_bool) == Some(true) {
        return Err(unsupported("CreateKey", " for multi-Region keys"));
    }
    if input
        .get("Tags")
        .and_then(Value::as_array)
        .is_some_and(|t| !t.is_empty())
    {
        return Err(unsupported(
            "CreateKey",
            " with Tags (key tags are not stored yet)",
        ));
    }
    let policy = match str_member(input, "Policy") {
        Some(p) => {
            let bypass = input
                .get("BypassPolicyLockoutSafetyCheck")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            check_policy(app, ctx, p, bypass)?;
            p.to_owned()
        }
        None => default_policy(&ctx.recipient_account),
    };
    let key = Key {
        key_id: cairn_model::ids::new_uuid(),
        account: ctx.recipient_account.clone(),
        region: ctx.region.clone(),
        description: str_member(input, "Description").unwrap_or("").to_owned(),
        key_usage: usage.to_owned(),
        key_spec: spec.to_owned(),
        state: "Enabled".into(),
        policy,
        created_ms: app.clock.now_millis(),
        deletion_ms: None,
        pending_days: None,
    };
    let material: [u8; 32] = rand::random();
    app.kms.create(&key, &material).map_err(internal)?;
    *key_arn = Some(key.arn());
    Ok(json!({"KeyMetadata": metadata(&key)}))
}

/// `Limit` (1–1000, default 100) and `Marker` paging over a list.
fn page<T>(
    items: Vec<T>,
    input: &Value,
    id: impl Fn(&T) -> String,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let limit = input.get("Limit").and_then(Value::as_u64).unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(validation(format!(
            "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 1000"
        )));
    }
    let start = match str_member(input, "Marker") {
        Some(m) => items
            .iter()
            .position(|i| id(i) == m)
            .map(|p| p + 1)
            .ok_or_else(|| AwsError::client("InvalidMarkerException", "Invalid marker"))?,
        None => 0,
    };
    let rest: Vec<T> = items.into_iter().skip(start).collect();
    let limit = limit as usize;
    if rest.len() > limit {
        let mut rest = rest;
        rest.truncate(limit);
        let next = rest.last().map(&id);
        Ok((rest, next))
    } else {
        Ok((rest, None))
    }
}

fn list_keys(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let now = app.clock.now_millis();
    let keys: Vec<Key> = app
        .kms
        .list(&ctx.recipient_account, &ctx.region)
        .map_err(internal)?
        .into_iter()
        .filter(|k| !(k.state == "PendingDeletion" && k.deletion_ms.is_some_and(|d| now >= d)))
        .collect();
    let (keys, next) = page(keys, input, |k| k.key_id.clone())?;
    let mut out = json!({
        "Keys": keys.iter().map(|k| json!({"KeyId": k.key_id, "KeyArn": k.arn()})).collect::<Vec<_>>(),
        "Truncated": next.is_some(),
    });
    if let Some(n) = next {
        out["NextMarker"] = json!(n);
    }
    Ok(out)
}

fn list_aliases(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let mut aliases = app
        .kms
        .aliases(&ctx.recipient_account, &ctx.region)
        .map_err(internal)?;
    if let Some(id) = str_member(input, "KeyId") {
        let key = resolve_key(app, Scope::of(ctx), id)?;
        aliases.retain(|a| a.key_id == key.key_id);
    }
    let (aliases, next) = page(aliases, input, |a| a.name.clone())?;
    let mut out = json!({
        "Aliases": aliases.iter().map(|a| json!({
            "AliasName": a.name,
            "AliasArn": format!("arn:aws:kms:{}:{}:{}", ctx.region, ctx.recipient_account, a.name),
            "TargetKeyId": a.key_id,
            "CreationDate": epoch_seconds(a.created_ms),
            "LastUpdatedDate": epoch_seconds(a.created_ms),
        })).collect::<Vec<_>>(),
        "Truncated": next.is_some(),
    });
    if let Some(n) = next {
        out["NextMarker"] = json!(n);
    }
    Ok(out)
}
