//! Lifecycle configuration operations (CloudTrail's PutBucketLifecycle, GetBucketLifecycle,
//! DeleteBucketLifecycle): a configuration is checked as S3 checks it (`s3/lifecycle.rs`) and
//! kept as put; the lifecycle worker (`s3/lifecycle_work.rs`) applies it on the clock.

use cairn_store::objects::{BucketConfig, ObjectsError};
use cairn_wire::AwsError;

use super::{S3Result, not_implemented, objects_error};
use crate::app::App;
use crate::s3::lifecycle;
use crate::s3::{S3Request, S3Response};

pub(super) fn run(app: &App, req: &S3Request) -> S3Result {
    let s = &app.objects;
    let oe = |e| objects_error(e, req);
    match req.op {
        "PutBucketLifecycle" => {
            lifecycle::parse_configuration(&req.payload)?;
            let text = String::from_utf8_lossy(&req.payload).into_owned();
            s.set_bucket_config(req.bucket(), BucketConfig::Lifecycle, Some(&text))
                .map_err(oe)?;
            Ok(S3Response::empty(200))
        }
        "GetBucketLifecycle" => {
            let b = s
                .bucket(req.bucket())
                .map_err(oe)?
                .ok_or_else(|| oe(ObjectsError::NoSuchBucket))?;
            match b.config(BucketConfig::Lifecycle) {
                Some(doc) => Ok(S3Response::ok(doc.as_bytes().to_vec())),
                None => Err(AwsError::new(
                    404,
                    "NoSuchLifecycleConfiguration",
                    "The lifecycle configuration does not exist",
                )
                .with_extra("BucketName", req.bucket())),
            }
        }
        "DeleteBucketLifecycle" => {
            s.set_bucket_config(req.bucket(), BucketConfig::Lifecycle, None)
                .map_err(oe)?;
            Ok(S3Response::empty(204))
        }
        other => Err(not_implemented(other)),
    }
}
