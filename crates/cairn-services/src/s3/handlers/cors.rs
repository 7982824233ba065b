//! A bucket's CORS configuration (`Put/Get/DeleteBucketCors`), kept as put once S3's checks
//! pass (`crate::s3::cors`), and the `Access-Control-*` headers an actual cross-origin request
//! is answered with.

use cairn_store::objects::{Bucket, BucketConfig, ObjectsError};
use cairn_wire::AwsError;

use super::{S3Result, objects_error};
use crate::app::App;
use crate::s3::cors;
use crate::s3::{S3Request, S3Response};

pub(super) fn run(app: &App, req: &S3Request) -> S3Result {
    let s = &app.objects;
    let oe = |e| objects_error(e, req);
    match req.op {
        "PutBucketCors" => {
            cors::parse_rules(&req.payload)?;
            let text = String::from_utf8_lossy(&req.payload).into_owned();
            s.set_bucket_config(req.bucket(), BucketConfig::Cors, Some(&text))
                .map_err(oe)?;
            Ok(S3Response::empty(200))
        }
        "GetBucketCors" => {
            let b = s
                .bucket(req.bucket())
                .map_err(oe)?
                .ok_or_else(|| oe(ObjectsError::NoSuchBucket))?;
            match b.config(BucketConfig::Cors) {
                Some(doc) => Ok(S3Response::ok(doc.as_bytes().to_vec())),
                None => Err(AwsError::new(
                    404,
                    "NoSuchCORSConfiguration",
                    "The CORS configuration does not exist",
                )
                .with_extra("BucketName", req.bucket())),
            }
        }
        "DeleteBucketCors" => {
            s.set_bucket_config(req.bucket(), BucketConfig::Cors, None)
                .map_err(oe)?;
            Ok(S3Response::empty(204))
        }
        other => Err(super::not_implemented(other)),
    }
}

/// The CORS headers for a request that names an `Origin`, when a rule of its bucket allows
/// it (S3 adds none otherwise).
pub fn headers_for(bucket: &Bucket, req: &S3Request) -> Vec<(String, String)> {
    let (Some(origin), Some(doc)) = (req.header("origin"), bucket.config(BucketConfig::Cors))
    else {
        return Vec::new();
    };
    let Ok(rules) = cors::parse_rules(doc.as_bytes()) else {
        return Vec::new();
    };
    match cors::matching(&rules, origin, req.method.as_str(), &[]) {
        Some(rule) => cors::response_headers(rule, origin, None),
        None => Vec::new(),
    }
}
