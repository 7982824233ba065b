//! Envelope encryption of trail log files under a KMS key: a fresh data key per log file, kept
//! only in wrapped form (a KMS ciphertext) beside the object, judged by the key policy as
//! CloudTrail is judged in AWS. (S3's SSE-KMS objects get their data keys from KMS through
//! internal calls; trail delivery moves to them next.)

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use cairn_wire::AwsError;

use super::ops::{Scope, random_bytes, resolve_key, seal, usable};
use crate::app::App;
use crate::policy::{Requester, allows};

use crate::s3::sse::{KEY_CONTEXT, KMS_KEY_HEADER, WRAPPED_KEY};

/// A new data key: its plaintext (to encrypt with, never stored), its wrapped form, and the
/// key's ARN.
pub struct DataKey {
    pub plaintext: Vec<u8>,
    pub wrapped: String,
    pub key_arn: String,
}

fn denied(who_arn: &str, action: &str, key_arn: &str) -> AwsError {
    AwsError::new(
        403,
        "AccessDenied",
        format!(
            "User: {who_arn} is not authorized to perform: {action} on resource: {key_arn} because no resource-based policy allows the {action} action"
        ),
    )
}

/// Whether `who` may use `key` for `action` on data bound to `context`, by the key policy
/// (conditions see `kms:EncryptionContext:<key>` and, for trail logs, `aws:SourceArn`), and
/// whether the key is usable at all.
fn authorize_use(
    key: &cairn_store::kms::Key,
    who: Requester<'_>,
    who_arn: &str,
    action: &str,
    context: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let mut keys: Vec<(String, String)> = context
        .iter()
        .map(|(k, v)| (format!("kms:EncryptionContext:{k}"), v.clone()))
        .collect();
    if let Some(trail) = context.get("aws:cloudtrail:arn") {
        keys.push(("aws:SourceArn".to_owned(), trail.clone()));
    }
    let conditions: Vec<(&str, &str)> =
        keys.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if !allows(&key.policy, who, action, &key.arn(), &conditions) {
        return Err(denied(who_arn, action, &key.arn()));
    }
    usable(key)
}

/// Makes a data key under `key_ref` (key id, key ARN, alias name or alias ARN), bound to the
/// encryption context (`aws:s3:arn` of the object, and `aws:cloudtrail:arn` for trail logs).
pub fn new_data_key(
    app: &App,
    scope: Scope<'_>,
    key_ref: &str,
    who: Requester<'_>,
    who_arn: &str,
    context: &BTreeMap<String, String>,
) -> Result<DataKey, AwsError> {
    let key = resolve_key(app, scope, key_ref)?;
    authorize_use(&key, who, who_arn, "kms:GenerateDataKey", context)?;
    let plaintext = random_bytes(32);
    let wrapped = seal(app, &key, &plaintext, context)?;
    Ok(DataKey {
        plaintext,
        wrapped: B64.encode(wrapped),
        key_arn: key.arn(),
    })
}

/// Trail log files under their trail's KMS key, made by CloudTrail (the service principal the
/// key policy must allow).
pub struct TrailLogKeys(pub std::sync::Arc<App>);

impl cairn_trail::sink::LogEncryption for TrailLogKeys {
    fn data_key(
        &self,
        trail: &cairn_store::trails::Trail,
        key_arn: &str,
        object_arn: &str,
    ) -> Result<cairn_trail::sink::ObjectKey, String> {
        let scope = Scope {
            account: &trail.account,
            region: &trail.home_region,
        };
        let context: BTreeMap<String, String> = [
            ("aws:cloudtrail:arn".to_owned(), trail.arn.clone()),
            ("aws:s3:arn".to_owned(), object_arn.to_owned()),
        ]
        .into();
        let dk = new_data_key(
            &self.0,
            scope,
            key_arn,
            Requester::Service("cloudtrail.amazonaws.com"),
            "cloudtrail.amazonaws.com",
            &context,
        )
        .map_err(|e| format!("KMS: {}", e.code))?;
        Ok(object_key(dk, &context))
    }

    fn bucket_default_key(
        &self,
        bucket: &cairn_store::objects::Bucket,
        object_arn: &str,
    ) -> Option<Result<cairn_trail::sink::ObjectKey, String>> {
        let (algorithm, key_ref) = crate::s3::default_encryption(bucket)?;
        if algorithm != "aws:kms" {
            return None;
        }
        let Some(key_ref) = key_ref else {
            return Some(Err(
                "KMS: the bucket's default encryption names no KMS key".to_owned()
            ));
        };
        // S3 binds a data key to the object's ARN, in the bucket's account and region.
        let context: BTreeMap<String, String> =
            [("aws:s3:arn".to_owned(), object_arn.to_owned())].into();
        let made = new_data_key(
            &self.0,
            Scope {
                account: &bucket.account,
                region: &bucket.region,
            },
            &key_ref,
            Requester::Service("cloudtrail.amazonaws.com"),
            "cloudtrail.amazonaws.com",
            &context,
        );
        Some(
            made.map(|dk| object_key(dk, &context))
                .map_err(|e| format!("KMS: {}", e.code)),
        )
    }
}

/// The data key of an object and the metadata entries stored with it.
fn object_key(dk: DataKey, context: &BTreeMap<String, String>) -> cairn_trail::sink::ObjectKey {
    cairn_trail::sink::ObjectKey {
        key_arn: dk.key_arn.clone(),
        plaintext: dk.plaintext,
        metadata: vec![
            (KMS_KEY_HEADER.to_owned(), dk.key_arn),
            (WRAPPED_KEY.to_owned(), dk.wrapped),
            (
                KEY_CONTEXT.to_owned(),
                serde_json::to_string(context).unwrap_or_default(),
            ),
        ],
    }
}
