//! Conditional writes (PutObject, CompleteMultipartUpload): `If-None-Match: *` writes only a
//! key with no object, `If-Match: <etag>` only over that ETag. The condition is read here and
//! judged by the store inside the write itself (`cairn_store::objects::WriteCondition`), so
//! two writers racing for one key cannot both pass it.

use cairn_store::objects::WriteCondition;
use cairn_wire::AwsError;

use crate::s3::S3Request;

/// The condition a write carries, if any. S3 takes only `*` in `If-None-Match` on a write.
pub(super) fn of(req: &S3Request) -> Result<Option<WriteCondition>, AwsError> {
    if let Some(v) = req.header("if-none-match") {
        if v.trim() != "*" {
            return Err(AwsError::new(
                501,
                "NotImplemented",
                "A header you provided implies functionality that is not implemented",
            )
            .with_extra("Header", "If-None-Match"));
        }
        return Ok(Some(WriteCondition::IfNoneMatch));
    }
    Ok(req
        .header("if-match")
        .map(|etag| WriteCondition::IfMatch(etag.trim().to_owned())))
}

/// S3's 412, naming the condition that failed.
pub(super) fn failed(req: &S3Request) -> AwsError {
    let condition = if req.header("if-none-match").is_some() {
        "If-None-Match"
    } else {
        "If-Match"
    };
    AwsError::new(
        412,
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
    )
    .with_extra("Condition", condition)
}
