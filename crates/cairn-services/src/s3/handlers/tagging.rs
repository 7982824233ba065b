//! Tagging operations: a bucket's tag set (Put/Get/DeleteBucketTagging, kept as the bucket's
//! tagging configuration) and an object version's (Put/Get/DeleteObjectTagging, kept in the
//! version's `:tagging` metadata, changed in place as S3 does: no new version).

use cairn_store::objects::{BucketConfig, ObjectsError};
use cairn_wire::AwsError;

use super::{S3Result, not_implemented, objects_error};
use crate::app::App;
use crate::s3::tags::{self, OBJECT_TAGS, TagsOf};
use crate::s3::{S3Request, S3Response};

pub(super) fn run(app: &App, req: &S3Request) -> S3Result {
    let s = &app.objects;
    let oe = |e| objects_error(e, req);
    let version = req.query.get("versionId").map(String::as_str);
    match req.op {
        "PutBucketTagging" => {
            let set = tags::from_document(&req.payload, TagsOf::Bucket)?;
            s.set_bucket_config(
                req.bucket(),
                BucketConfig::Tagging,
                Some(&tags::to_stored(&set)),
            )
            .map_err(oe)?;
            Ok(S3Response::empty(204))
        }
        "GetBucketTagging" => {
            let b = s
                .bucket(req.bucket())
                .map_err(oe)?
                .ok_or_else(|| oe(ObjectsError::NoSuchBucket))?;
            match b.config(BucketConfig::Tagging) {
                Some(stored) => Ok(S3Response::ok(tags::document(&tags::from_stored(stored)))),
                None => Err(
                    AwsError::new(404, "NoSuchTagSet", "The TagSet does not exist")
                        .with_extra("BucketName", req.bucket()),
                ),
            }
        }
        "DeleteBucketTagging" => {
            s.set_bucket_config(req.bucket(), BucketConfig::Tagging, None)
                .map_err(oe)?;
            Ok(S3Response::empty(204))
        }
        "PutObjectTagging" => {
            let set = tags::from_document(&req.payload, TagsOf::Object)?;
            let stored = tags::to_stored(&set);
            let v = s
                .update_version(req.bucket(), req.key(), version, &mut |v| {
                    v.metadata.insert(OBJECT_TAGS.to_owned(), stored.clone());
                    Ok(())
                })
                .map_err(oe)?;
            Ok(with_version(S3Response::empty(200), &v.version_id))
        }
        "GetObjectTagging" => {
            let v = s
                .head_object(req.bucket(), req.key(), version)
                .map_err(oe)?;
            let set = v
                .metadata
                .get(OBJECT_TAGS)
                .map(|t| tags::from_stored(t))
                .unwrap_or_default();
            Ok(with_version(
                S3Response::ok(tags::document(&set)),
                &v.version_id,
            ))
        }
        "DeleteObjectTagging" => {
            let v = s
                .update_version(req.bucket(), req.key(), version, &mut |v| {
                    v.metadata.remove(OBJECT_TAGS);
                    Ok(())
                })
                .map_err(oe)?;
            Ok(with_version(S3Response::empty(204), &v.version_id))
        }
        other => Err(not_implemented(other)),
    }
}

/// S3 names the version it tagged, unless it is the null version.
fn with_version(r: S3Response, version_id: &str) -> S3Response {
    if version_id == "null" {
        r
    } else {
        r.header("x-amz-version-id", version_id)
    }
}
