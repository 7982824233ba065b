//! Event data stores encrypted with a KMS key.
//!
//! When a store is given a key (CreateEventDataStore or UpdateEventDataStore with `KmsKeyId`),
//! CloudTrail asks KMS for a data key bound to the store (`GenerateDataKey`, encryption context
//! `aws:cloudtrail:arn` = the store's ARN) and keeps only the wrapped copy in the store's
//! settings. The columnar engine encrypts the store's files with the data key, which it holds
//! in memory only: CloudTrail unwraps it (`Decrypt`, as `cloudtrail.amazonaws.com` for the
//! store) before ingesting or answering a query, and again once it has held it for
//! [`FRESH_MS`], so that a key disabled, scheduled for deletion or whose policy no longer lets
//! CloudTrail in stops ingestion and queries within minutes, as AWS documents ("disabling or
//! deleting the KMS key, or removing CloudTrail permissions on the key, prevents CloudTrail
//! from logging events to the event data store, and prevents users from querying the data").
//! A key that failed is asked again after [`RETRY_MS`]; events wait in the journal meanwhile.
//!
//! The people who query need the key too: StartQuery unwraps the data key on the caller's
//! behalf (their identity, `invokedBy` CloudTrail), and GetQueryResults checks that they
//! still may; a refusal is `InsufficientEncryptionPolicyException`.
//!
//! Every KMS call here goes through the pipeline and is recorded as AWS records CloudTrail's
//! own KMS calls.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cairn_store::lake::{EventDataStore, KeyState, LakeKey};
use cairn_wire::AwsError;
use serde_json::{Map, Value, json};

use super::s3_calls::cloudtrail_as;
use crate::app::App;
use crate::pipeline::Durability;
use crate::pipeline::internal::{Actor, Internal};
use crate::recorder::CallContext;

/// How long the engine holds a data key before CloudTrail asks KMS for it again (on the
/// instance's clock).
pub(super) const FRESH_MS: i64 = 5 * 60_000;
/// How long after KMS refused a store's key CloudTrail asks again.
pub(super) const RETRY_MS: i64 = 60_000;

const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";
/// The settings member holding the wrapped data key (never described).
const WRAPPED: &str = "KmsDataKey";
/// The settings member holding the key's ARN (described as `KmsKeyId`).
pub(super) const KEY_ARN: &str = "KmsKeyId";

/// The key ARN and wrapped data key of an encrypted store.
pub(super) fn sealing(store: &EventDataStore) -> Option<(String, String)> {
    let m: Value = serde_json::from_str(&store.settings).ok()?;
    let arn = m.get(KEY_ARN)?.as_str()?.to_owned();
    let wrapped = m.get(WRAPPED)?.as_str()?.to_owned();
    Some((arn, wrapped))
}

fn context(store_arn: &str) -> BTreeMap<&'static str, String> {
    [("aws:cloudtrail:arn", store_arn.to_owned())].into()
}

/// KMS's refusal as CloudTrail reports it for an event data store's key.
fn kms_refusal(e: AwsError, key: &str, region: &str) -> AwsError {
    match e.code.as_ref() {
        "NotFoundException" | "InvalidArnException" | "ValidationException" => AwsError::client(
            "KmsKeyNotFoundException",
            format!(
                "KMS key {key} does not exist in {region} or is not in the same region as the event data store."
            ),
        ),
        "AccessDeniedException" => AwsError::client(
            "InsufficientEncryptionPolicyException",
            format!("Insufficient permissions to access KMS key {key}."),
        ),
        "InvalidKeyUsageException" | "IncorrectKeyException" => AwsError::client(
            "InvalidKmsKeyIdException",
            format!("KMS key {key} is not a symmetric encryption key."),
        ),
        "DisabledException" | "KMSInvalidStateException" | "InvalidCiphertextException" => {
            AwsError::client("KmsException", e.message.clone())
        }
        _ => e,
    }
}

/// Gives a store the key `key_id` (any form KMS takes: id, ARN, alias): the caller must be
/// allowed to make data keys with it, and KMS makes one for CloudTrail, bound to the store.
/// Sets the store's `KmsKeyId` (the key's ARN) and wrapped data key in `settings`.
pub(super) fn seal(
    app: &App,
    ctx: &CallContext,
    store_arn: &str,
    key_id: &str,
    settings: &mut Map<String, Value>,
) -> Result<(), AwsError> {
    let input = json!({
        "KeyId": key_id,
        "KeySpec": "AES_256",
        "EncryptionContext": context(store_arn),
    });
    // The person creating the store must be allowed to use the key as well (judged only).
    on_behalf(ctx, Durability::Unrecorded)
        .authorize_json(app, "kms", "GenerateDataKey", input.clone())
        .map_err(|e| kms_refusal(e, key_id, &ctx.region))?;
    let made = cloudtrail_as(
        store_arn,
        &ctx.recipient_account,
        &ctx.region,
        Durability::CoveredByCaller,
    )
    .call_json(app, "kms", "GenerateDataKey", input)
    .map_err(|e| kms_refusal(e, key_id, &ctx.region))?;
    let member = |m: &str| made.get(m).and_then(Value::as_str).map(str::to_owned);
    let (Some(arn), Some(wrapped)) = (member("KeyId"), member("CiphertextBlob")) else {
        return Err(AwsError::internal("KMS answered no data key"));
    };
    settings.insert(KEY_ARN.into(), json!(arn));
    settings.insert(WRAPPED.into(), json!(wrapped));
    Ok(())
}

/// The caller at CloudTrail, acting through it.
fn on_behalf(ctx: &CallContext, durability: Durability) -> Internal {
    Internal {
        actor: Actor::OnBehalf {
            principal: ctx.principal.clone(),
            by: CLOUDTRAIL,
        },
        account: ctx.recipient_account.clone(),
        region: ctx.region.clone(),
        source_arn: None,
        cause: ctx.request_id.clone(),
        durability,
    }
}

fn decrypt_input(store: &EventDataStore, key_arn: &str, wrapped: &str) -> Value {
    json!({
        "CiphertextBlob": wrapped,
        "KeyId": key_arn,
        "EncryptionContext": context(&store.arn),
    })
}

/// The caller of StartQuery must be able to unwrap the data key of every encrypted store the
/// query reads: KMS does it on their behalf (and records it so).
pub(super) fn caller_may_read(
    app: &App,
    ctx: &CallContext,
    store: &EventDataStore,
) -> Result<(), AwsError> {
    let Some((key_arn, wrapped)) = sealing(store) else {
        return Ok(());
    };
    on_behalf(ctx, Durability::CoveredByCaller)
        .call_json(
            app,
            "kms",
            "Decrypt",
            decrypt_input(store, &key_arn, &wrapped),
        )
        .map(|_| ())
        .map_err(|e| kms_refusal(e, &key_arn, &store.region))
}

/// Whether the caller still may unwrap the store's data key (GetQueryResults): judged as KMS
/// would judge a Decrypt, never made.
pub(super) fn caller_still_may_read(
    app: &App,
    ctx: &CallContext,
    store: &EventDataStore,
) -> Result<(), AwsError> {
    let Some((key_arn, wrapped)) = sealing(store) else {
        return Ok(());
    };
    on_behalf(ctx, Durability::Unrecorded)
        .authorize_json(
            app,
            "kms",
            "Decrypt",
            decrypt_input(store, &key_arn, &wrapped),
        )
        .map_err(|e| kms_refusal(e, &key_arn, &store.region))
}

/// Makes sure the columnar engine holds an encrypted store's data key, asking KMS for it as
/// CloudTrail when it does not, or has held it for [`FRESH_MS`]. A store without a key needs
/// nothing. Called from the journal consumers (ingestion, queries, imports), which may wait.
pub(super) fn open(app: &App, store: &EventDataStore) -> Result<(), AwsError> {
    let Some((key_arn, wrapped)) = sealing(store) else {
        return Ok(());
    };
    let now = app.clock.now_millis();
    match app.columnar.key_state(&store.id) {
        KeyState::Unlocked { since_ms } if (0..FRESH_MS).contains(&(now - since_ms)) => {
            return Ok(());
        }
        KeyState::Locked { since_ms } if (0..RETRY_MS).contains(&(now - since_ms)) => {
            return Err(unusable(&key_arn));
        }
        _ => {}
    }
    let opened = cloudtrail_as(&store.arn, &store.account, &store.region, Durability::Wait)
        .call_json(
            app,
            "kms",
            "Decrypt",
            decrypt_input(store, &key_arn, &wrapped),
        );
    let key = opened.and_then(|v| {
        v.get("Plaintext")
            .and_then(Value::as_str)
            .and_then(|p| STANDARD.decode(p).ok())
            .and_then(|p| <[u8; 32]>::try_from(p.as_slice()).ok())
            .ok_or_else(|| AwsError::internal("KMS answered no 256-bit data key"))
    });
    match key {
        Ok(k) => app
            .columnar
            .unlock(&store.id, &LakeKey(k), now)
            .map_err(|e| AwsError::internal(e.to_string())),
        Err(e) => {
            tracing::warn!(store = %store.arn, key = %key_arn, code = %e.code, error = %e.message,
                "CloudTrail cannot use the event data store's KMS key");
            app.columnar.lock(&store.id, now);
            Err(kms_refusal(e, &key_arn, &store.region))
        }
    }
}

fn unusable(key_arn: &str) -> AwsError {
    AwsError::client(
        "KmsException",
        format!(
            "CloudTrail cannot use KMS key {key_arn} of the event data store: it is disabled, pending deletion, or its key policy does not let CloudTrail decrypt."
        ),
    )
}
