//! MFA delete and the versioning it guards: Put/GetBucketVersioning with `MfaDelete`, and the
//! `x-amz-mfa: <serial> <code>` check that permanent deletes and versioning changes need once
//! it is on. Codes come from the bucket owner's root user's virtual MFA devices (assigned to root
//! in the console, as in AWS; each code good once): an IAM user's device is refused as a wrong
//! code is. Only the owner's root user may turn MFA delete on or off, as in S3; a bucket with
//! Object Lock keeps its versioning enabled.

use cairn_model::Principal;
use cairn_store::identity::MfaHolder;
use cairn_store::objects::{Bucket, BucketConfig, ObjectsError};
use cairn_wire::AwsError;

use super::{S3Result, lock, malformed_xml, objects_error};
use crate::app::App;
use crate::recorder::CallContext;
use crate::s3::wire::xml::{Doc, parse};
use crate::s3::{S3Request, S3Response};

/// Whether MFA delete is on for a bucket.
pub fn enabled(bucket: &Bucket) -> bool {
    bucket.config(BucketConfig::MfaDelete) == Some("Enabled")
}

/// A request's `x-amz-mfa`: (serial, code), or S3's error for a malformed one.
fn header(req: &S3Request) -> Result<Option<(String, String)>, AwsError> {
    let Some(v) = req.header("x-amz-mfa") else {
        return Ok(None);
    };
    match v.trim().rsplit_once(' ') {
        Some((serial, code)) if !serial.trim().is_empty() && !code.is_empty() => {
            Ok(Some((serial.trim().to_owned(), code.to_owned())))
        }
        _ => Err(AwsError::client(
            "InvalidArgument",
            "Mfa header is invalid -- the header should be formatted as {serialNumber}(space){tokenCode}",
        )
        .with_extra("ArgumentName", "x-amz-mfa")
        .with_extra("ArgumentValue", v)),
    }
}

/// Checks the request's `x-amz-mfa` against the bucket owner's root user's virtual MFA devices.
/// A code is spent once it is accepted, so a request is checked once, whatever it deletes.
pub fn check(app: &App, req: &S3Request, owner: &str) -> Result<(), AwsError> {
    let Some((serial, code)) = header(req)? else {
        return Err(AwsError::new(
            403,
            "AccessDenied",
            "Mfa Authentication must be used for this request",
        ));
    };
    let owned = app
        .identity
        .mfa_device(&serial)
        .is_ok_and(|d| d.account.as_str() == owner && d.holder == Some(MfaHolder::Root));
    let good = owned
        && app
            .identity
            .check_mfa_code(&serial, &code, app.clock.now_millis())
            .unwrap_or(false);
    if good {
        Ok(())
    } else {
        Err(AwsError::new(403, "AccessDenied", "Access Denied"))
    }
}

/// The MFA check a permanent delete needs on a bucket with MFA delete on.
pub fn require(app: &App, req: &S3Request, bucket: &Bucket) -> Result<(), AwsError> {
    if enabled(bucket) {
        check(app, req, &bucket.account)
    } else {
        Ok(())
    }
}

/// PutBucketVersioning and GetBucketVersioning.
pub(super) fn run(app: &App, ctx: &CallContext, req: &S3Request) -> S3Result {
    let s = &app.objects;
    let oe = |e| objects_error(e, req);
    let bucket = s
        .bucket(req.bucket())
        .map_err(oe)?
        .ok_or_else(|| oe(ObjectsError::NoSuchBucket))?;
    if req.op == "GetBucketVersioning" {
        let mut d = Doc::new("VersioningConfiguration");
        if let Some(v) = &bucket.versioning {
            d.elem("Status", v);
        }
        if let Some(m) = bucket.config(BucketConfig::MfaDelete) {
            d.elem("MfaDelete", m);
        }
        return Ok(S3Response::ok(d.finish("VersioningConfiguration")));
    }
    let n = parse(&req.payload)
        .filter(|n| n.name == "VersioningConfiguration")
        .ok_or_else(malformed_xml)?;
    let status = n.text_of("Status");
    if !matches!(status, None | Some("Enabled" | "Suspended")) {
        return Err(malformed_xml());
    }
    let mfa_delete = n.text_of("MfaDelete");
    if !matches!(mfa_delete, None | Some("Enabled" | "Disabled")) {
        return Err(malformed_xml());
    }
    if status.is_none() && mfa_delete.is_none() {
        return Err(malformed_xml());
    }
    if mfa_delete.is_some() && !matches!(ctx.principal, Principal::Root { .. }) {
        // S3's answer to anyone but the owner's root naming MfaDelete.
        return Err(AwsError::client(
            "InvalidRequest",
            "DevPay and Mfa are mutually exclusive authorization methods.",
        ));
    }
    if status == Some("Suspended") && lock::config_of(&bucket).is_some() {
        return Err(AwsError::new(
            409,
            "InvalidBucketState",
            "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.",
        )
        .with_extra("BucketName", req.bucket()));
    }
    // Changing MFA delete, or versioning while MFA delete is on, takes a code.
    if mfa_delete.is_some() || enabled(&bucket) {
        check(app, req, &bucket.account)?;
    }
    if let Some(status) = status {
        s.set_bucket_config(req.bucket(), BucketConfig::Versioning, Some(status))
            .map_err(oe)?;
    }
    if let Some(m) = mfa_delete {
        s.set_bucket_config(req.bucket(), BucketConfig::MfaDelete, Some(m))
            .map_err(oe)?;
    }
    Ok(S3Response::empty(200))
}
