//! Server access logging configuration (PutBucketLogging, GetBucketLogging): the target
//! bucket must exist, be the same owner's and in the same region, as S3 requires; the
//! configuration is kept as the bucket's logging configuration, which the access log
//! consumer (`s3/access_logs.rs`) reads.

use cairn_store::objects::{BucketConfig, ObjectsError};
use cairn_wire::AwsError;

use super::{S3Result, not_implemented, objects_error};
use crate::app::App;
use crate::s3::access_log::{self, LoggingConfig};
use crate::s3::{S3Request, S3Response};

pub(super) fn run(app: &App, req: &S3Request) -> S3Result {
    let s = &app.objects;
    let oe = |e| objects_error(e, req);
    let source = s
        .bucket(req.bucket())
        .map_err(oe)?
        .ok_or_else(|| oe(ObjectsError::NoSuchBucket))?;
    match req.op {
        "PutBucketLogging" => {
            let Some(cfg) = access_log::parse_status(&req.payload)? else {
                s.set_bucket_config(req.bucket(), BucketConfig::Logging, None)
                    .map_err(oe)?;
                return Ok(S3Response::empty(200));
            };
            let target = s.bucket(&cfg.target_bucket).map_err(oe)?.ok_or_else(|| {
                AwsError::client(
                    "InvalidTargetBucketForLogging",
                    "The target bucket for logging does not exist",
                )
                .with_extra("TargetBucket", cfg.target_bucket.clone())
            })?;
            if target.account != source.account {
                return Err(AwsError::client(
                    "InvalidTargetBucketForLogging",
                    "The owner for the bucket to be logged and the target bucket must be the same.",
                )
                .with_extra("TargetBucket", cfg.target_bucket.clone()));
            }
            if target.region != source.region {
                return Err(AwsError::new(
                    403,
                    "CrossLocationLoggingProhibitted",
                    "Cross S3 location logging not allowed. ",
                )
                .with_extra("SourceBucketLocation", source.region.clone())
                .with_extra("TargetBucketLocation", target.region.clone()));
            }
            let stored = serde_json::to_string(&cfg)
                .map_err(|e| AwsError::internal(format!("logging configuration: {e}")))?;
            s.set_bucket_config(req.bucket(), BucketConfig::Logging, Some(&stored))
                .map_err(oe)?;
            Ok(S3Response::empty(200))
        }
        "GetBucketLogging" => {
            let cfg: Option<LoggingConfig> = source
                .config(BucketConfig::Logging)
                .and_then(|j| serde_json::from_str(j).ok());
            Ok(S3Response::ok(access_log::status_document(cfg.as_ref())))
        }
        other => Err(not_implemented(other)),
    }
}
