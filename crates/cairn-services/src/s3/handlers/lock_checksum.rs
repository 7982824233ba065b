//! The integrity check S3 requires of Object Lock's writes: a body that is locked on arrival —
//! a PutObject taking a retention or legal hold (its own headers or the bucket's default), an
//! UploadPart into an upload whose object will take one — and the bodies of
//! PutObjectLockConfiguration, PutObjectRetention and PutObjectLegalHold (`httpChecksumRequired`
//! in S3's model) must come with `Content-MD5`, an `x-amz-checksum-*` value (header or
//! aws-chunked trailer) or `x-amz-sdk-checksum-algorithm`. A SigV4 payload hash is not one.
//! The refusals are S3's (400 `InvalidRequest`), word for word.

use cairn_wire::AwsError;

use super::{lock, objects_error};
use crate::app::App;
use crate::s3::S3Request;

/// Whether a request carries an integrity check of its body that S3 accepts here.
fn carries_checksum(req: &S3Request) -> bool {
    req.header("content-md5").is_some()
        || !req.checksums.is_empty()
        || req.header("x-amz-sdk-checksum-algorithm").is_some()
}

/// A PutObject whose new version takes a lock.
pub(super) fn for_locked_object(req: &S3Request) -> Result<(), AwsError> {
    if carries_checksum(req) {
        return Ok(());
    }
    Err(AwsError::client(
        "InvalidRequest",
        "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters",
    ))
}

/// An UploadPart: refused without a checksum when its upload's object takes a lock (what its
/// CreateMultipartUpload asked for, or the bucket's default retention then).
pub(super) fn for_part(app: &App, req: &S3Request, upload_id: &str) -> Result<(), AwsError> {
    if carries_checksum(req) {
        return Ok(());
    }
    let upload = app
        .objects
        .upload_object(req.bucket(), req.key(), upload_id)
        .map_err(|e| objects_error(e, req))?;
    if lock::lock_entries(&upload.metadata).is_empty() {
        return Ok(());
    }
    Err(AwsError::client(
        "InvalidRequest",
        "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Part requests with Object Lock parameters",
    ))
}

/// PutObjectLockConfiguration, PutObjectRetention, PutObjectLegalHold: always.
pub(super) fn for_lock_call(req: &S3Request) -> Result<(), AwsError> {
    if carries_checksum(req) {
        return Ok(());
    }
    Err(AwsError::client(
        "InvalidRequest",
        "Missing required header for this request: Content-MD5 OR x-amz-checksum-*",
    ))
}
