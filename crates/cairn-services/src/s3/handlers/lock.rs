//! Object Lock's operations and its part in others: a bucket's lock configuration
//! (Put/GetObjectLockConfiguration, recorded as `…BucketObjectLockConfiguration`, and
//! CreateBucket's `x-amz-bucket-object-lock-enabled`), a version's retention and legal hold
//! (Put/GetObjectRetention, Put/GetObjectLegalHold), the lock a new version takes (its write's
//! headers, else the bucket's default retention), the headers reads answer with, and the guard
//! that keeps a locked version from being removed. The rules themselves are in `lock_rules.rs`;
//! the checksum S3 requires of locked writes, in `lock_checksum.rs`.

use std::collections::BTreeMap;

use cairn_store::objects::{Bucket, BucketConfig, ObjectVersion, ObjectsError};
use cairn_wire::AwsError;

use super::lock_rules::{self, LockConfig, VersionLock};
use super::{S3Result, iso, objects_error};
use crate::app::App;
use crate::pipeline::Operation;
use crate::recorder::CallContext;
use crate::s3::resolve;
use crate::s3::wire::xml::Doc;
use crate::s3::{S3Request, S3Response};

/// An S3 error carried through the store as the reason a guard or change refused.
#[derive(Debug)]
pub struct Refusal(pub AwsError);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0.code, self.0.message)
    }
}

impl std::error::Error for Refusal {}

fn refuse(e: AwsError) -> ObjectsError {
    ObjectsError::Refused(Box::new(Refusal(e)))
}

/// A bucket's lock configuration, if Object Lock is enabled on it.
pub fn config_of(bucket: &Bucket) -> Option<LockConfig> {
    let stored = bucket.config(BucketConfig::ObjectLock)?;
    // What is stored was validated when it was put; an unreadable one still means enabled.
    Some(LockConfig::parse(stored.as_bytes()).unwrap_or_default())
}

fn bucket_of(app: &App, req: &S3Request) -> Result<Bucket, AwsError> {
    app.objects
        .bucket(req.bucket())
        .map_err(|e| objects_error(e, req))?
        .ok_or_else(|| objects_error(ObjectsError::NoSuchBucket, req))
}

/// CreateBucket with `x-amz-bucket-object-lock-enabled: true`: Object Lock on, and with it
/// versioning, as S3 does.
pub fn on_create(app: &App, req: &S3Request) -> Result<(), AwsError> {
    let wanted = req
        .header("x-amz-bucket-object-lock-enabled")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !wanted {
        return Ok(());
    }
    let doc = String::from_utf8_lossy(&LockConfig::default().to_xml()).into_owned();
    let oe = |e| objects_error(e, req);
    app.objects
        .set_bucket_config(req.bucket(), BucketConfig::Versioning, Some("Enabled"))
        .map_err(oe)?;
    app.objects
        .set_bucket_config(req.bucket(), BucketConfig::ObjectLock, Some(&doc))
        .map_err(oe)
}

/// Whether the caller asks to bypass governance retention and may (`s3:BypassGovernanceRetention`
/// on the object, judged only when asked).
pub fn bypass(
    app: &App,
    ctx: &CallContext,
    req: &S3Request,
    op: &Operation,
    key: &str,
    bucket: &Bucket,
) -> bool {
    let asked = req
        .header("x-amz-bypass-governance-retention")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    asked && {
        let arn = format!("arn:aws:s3:::{}/{key}", bucket.name);
        resolve::check(
            app,
            ctx,
            req,
            op,
            "s3:BypassGovernanceRetention",
            &arn,
            Some(bucket),
        )
        .is_ok()
    }
}

/// The guard a version's removal passes, on the version as stored: delete markers and
/// unlocked versions go; locked ones stay (governance ones go for a caller that bypasses).
pub fn guard(
    now_ms: i64,
    bypass: bool,
) -> impl FnMut(&ObjectVersion) -> Result<(), ObjectsError> + Send {
    move |v: &ObjectVersion| {
        if v.delete_marker {
            return Ok(());
        }
        VersionLock::of(&v.metadata)
            .may_remove(now_ms, bypass)
            .map_err(refuse)
    }
}

/// Adds the lock a new version takes to its metadata: what its write's headers ask for, else
/// the bucket's default retention. A PutObject taking any lock must carry Content-MD5 or a
/// checksum, as S3 requires (`lock_checksum.rs`).
pub fn apply_to_new(
    app: &App,
    req: &S3Request,
    metadata: &mut BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let now = app.clock.now_millis();
    let asked = lock_rules::requested(|h| req.header(h).map(str::to_owned), now)?;
    let bucket = req
        .stored_bucket(&*app.objects)
        .map_err(|e| objects_error(e, req))?;
    let config = bucket.and_then(config_of);
    let Some(config) = config else {
        return match asked {
            Some(_) => Err(lock_rules::bucket_not_locked()),
            None => Ok(()),
        };
    };
    let mut lock = asked.unwrap_or_default();
    if lock.retention.is_none() {
        lock.retention = config.default_retention(now);
    }
    if lock == VersionLock::default() {
        return Ok(());
    }
    if req.op == "PutObject" {
        super::lock_checksum::for_locked_object(req)?;
    }
    lock.store(metadata);
    Ok(())
}

/// The lock headers GetObject and HeadObject answer with: the retention for a caller with
/// `s3:GetObjectRetention`, the legal hold for one with `s3:GetObjectLegalHold`, as S3 shows
/// them.
pub fn read_headers(
    app: &App,
    ctx: &CallContext,
    req: &S3Request,
    op: &Operation,
    v: &ObjectVersion,
) -> Vec<(&'static str, String)> {
    let lock = VersionLock::of(&v.metadata);
    if lock == VersionLock::default() {
        return Vec::new();
    }
    let Ok(Some(bucket)) = app.objects.bucket(req.bucket()) else {
        return Vec::new();
    };
    let arn = format!("arn:aws:s3:::{}/{}", req.bucket(), req.key());
    let may = |action: &str| resolve::check(app, ctx, req, op, action, &arn, Some(&bucket)).is_ok();
    lock.headers(
        lock.retention.is_some() && may("s3:GetObjectRetention"),
        lock.legal_hold.is_some() && may("s3:GetObjectLegalHold"),
    )
}

/// Whether a metadata entry (its name without the leading `:`) is a lock's, answered only
/// through [`read_headers`].
pub fn is_lock_entry(system_name: &str) -> bool {
    [
        lock_rules::MODE,
        lock_rules::RETAIN_UNTIL,
        lock_rules::LEGAL_HOLD,
    ]
    .iter()
    .any(|k| k.strip_prefix(':') == Some(system_name))
}

/// The lock entries of a metadata map (a copy takes its own, never its source's).
pub fn lock_entries(metadata: &BTreeMap<String, String>) -> Vec<(String, String)> {
    [
        lock_rules::MODE,
        lock_rules::RETAIN_UNTIL,
        lock_rules::LEGAL_HOLD,
    ]
    .iter()
    .filter_map(|k| metadata.get(*k).map(|v| ((*k).to_owned(), v.clone())))
    .collect()
}

/// Removes a metadata map's lock entries.
pub fn strip(metadata: &mut BTreeMap<String, String>) {
    for k in [
        lock_rules::MODE,
        lock_rules::RETAIN_UNTIL,
        lock_rules::LEGAL_HOLD,
    ] {
        metadata.remove(k);
    }
}

fn no_object_lock() -> AwsError {
    AwsError::new(
        404,
        "NoSuchObjectLockConfiguration",
        "The specified object does not have a ObjectLock configuration",
    )
}

/// The six Object Lock operations.
pub(super) fn run(
    app: &App,
    ctx: &CallContext,
    op: &Operation,
    req: &S3Request,
    now: i64,
) -> S3Result {
    let s = &app.objects;
    let oe = |e| objects_error(e, req);
    let version = req.query.get("versionId").map(String::as_str);
    if matches!(
        req.op,
        "PutObjectLockConfiguration" | "PutObjectRetention" | "PutObjectLegalHold"
    ) {
        super::lock_checksum::for_lock_call(req)?;
    }
    match req.op {
        "PutObjectLockConfiguration" => {
            let b = bucket_of(app, req)?;
            let config = LockConfig::parse(&req.payload)?;
            if config_of(&b).is_none() && b.versioning.as_deref() != Some("Enabled") {
                return Err(AwsError::new(
                    409,
                    "InvalidBucketState",
                    "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
                )
                .with_extra("BucketName", req.bucket()));
            }
            let doc = String::from_utf8_lossy(&config.to_xml()).into_owned();
            s.set_bucket_config(req.bucket(), BucketConfig::ObjectLock, Some(&doc))
                .map_err(oe)?;
            Ok(S3Response::empty(200))
        }
        "GetObjectLockConfiguration" => {
            let b = bucket_of(app, req)?;
            let config = config_of(&b).ok_or_else(|| {
                AwsError::new(
                    404,
                    "ObjectLockConfigurationNotFoundError",
                    "Object Lock configuration does not exist for this bucket",
                )
                .with_extra("BucketName", req.bucket())
            })?;
            Ok(S3Response::ok(config.to_xml()))
        }
        "PutObjectRetention" => {
            let b = bucket_of(app, req)?;
            config_of(&b).ok_or_else(lock_rules::bucket_not_locked)?;
            let wanted = lock_rules::parse_retention(&req.payload)?;
            let bypass = bypass(app, ctx, req, op, req.key(), &b);
            // Decided on the version as stored, in the transaction that changes it.
            s.update_version(req.bucket(), req.key(), version, &mut |v| {
                let mut lock = VersionLock::of(&v.metadata);
                lock.may_retain(wanted, now, bypass).map_err(refuse)?;
                lock.retention = wanted;
                lock.store(&mut v.metadata);
                Ok(())
            })
            .map_err(oe)?;
            Ok(S3Response::empty(200))
        }
        "PutObjectLegalHold" => {
            let b = bucket_of(app, req)?;
            config_of(&b).ok_or_else(lock_rules::bucket_not_locked)?;
            let on = lock_rules::parse_legal_hold(&req.payload)?;
            s.update_version(req.bucket(), req.key(), version, &mut |v| {
                let mut lock = VersionLock::of(&v.metadata);
                lock.legal_hold = Some(on);
                lock.store(&mut v.metadata);
                Ok(())
            })
            .map_err(oe)?;
            Ok(S3Response::empty(200))
        }
        "GetObjectRetention" | "GetObjectLegalHold" => {
            let b = bucket_of(app, req)?;
            config_of(&b).ok_or_else(lock_rules::bucket_not_locked)?;
            let v = s
                .head_object(req.bucket(), req.key(), version)
                .map_err(oe)?;
            let lock = VersionLock::of(&v.metadata);
            if req.op == "GetObjectRetention" {
                let r = lock.retention.ok_or_else(no_object_lock)?;
                let mut d = Doc::new("Retention");
                d.elem("Mode", r.mode.as_str())
                    .elem("RetainUntilDate", &iso(r.until_ms));
                return Ok(S3Response::ok(d.finish("Retention")));
            }
            let on = lock.legal_hold.ok_or_else(no_object_lock)?;
            let mut d = Doc::new("LegalHold");
            d.elem("Status", if on { "ON" } else { "OFF" });
            Ok(S3Response::ok(d.finish("LegalHold")))
        }
        other => Err(super::not_implemented(other)),
    }
}
