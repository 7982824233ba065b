//! Object Ownership (`Put/Get/DeleteBucketOwnershipControls`, and `x-amz-object-ownership` on
//! CreateBucket): whether a bucket uses ACLs. Buckets without a stored setting are
//! `BucketOwnerEnforced`, as every S3 bucket made since April 2023 is; deleting the controls
//! is kept as "none" (S3 then answers `OwnershipControlsNotFoundError`, and the bucket acts as
//! an `ObjectWriter` one, as S3 buckets without controls do).

use cairn_store::objects::{Bucket, BucketConfig, ObjectsError};
use cairn_wire::AwsError;

use super::acl::Acl;
use super::{S3Result, malformed_xml, objects_error};
use crate::app::App;
use crate::s3::wire::xml::{Doc, parse};
use crate::s3::{S3Request, S3Response};

/// What is stored once a bucket's ownership controls are deleted.
const NONE: &str = "none";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ownership {
    BucketOwnerEnforced,
    BucketOwnerPreferred,
    ObjectWriter,
}

impl Ownership {
    fn parse(v: &str) -> Option<Ownership> {
        match v {
            "BucketOwnerEnforced" => Some(Ownership::BucketOwnerEnforced),
            "BucketOwnerPreferred" => Some(Ownership::BucketOwnerPreferred),
            "ObjectWriter" => Some(Ownership::ObjectWriter),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Ownership::BucketOwnerEnforced => "BucketOwnerEnforced",
            Ownership::BucketOwnerPreferred => "BucketOwnerPreferred",
            Ownership::ObjectWriter => "ObjectWriter",
        }
    }
}

/// A bucket's Object Ownership as it acts.
pub fn ownership(bucket: &Bucket) -> Ownership {
    match bucket.config(BucketConfig::OwnershipControls) {
        None => Ownership::BucketOwnerEnforced,
        Some(NONE) => Ownership::ObjectWriter,
        Some(v) => Ownership::parse(v).unwrap_or(Ownership::BucketOwnerEnforced),
    }
}

/// The setting CreateBucket's `x-amz-object-ownership` asks for.
pub fn of_create(req: &S3Request) -> Result<Ownership, AwsError> {
    match req.header("x-amz-object-ownership") {
        None => Ok(Ownership::BucketOwnerEnforced),
        Some(v) => Ownership::parse(v).ok_or_else(|| {
            AwsError::client("InvalidArgument", "Invalid x-amz-object-ownership header")
                .with_extra("ArgumentName", "x-amz-object-ownership")
                .with_extra("ArgumentValue", v)
        }),
    }
}

/// Stores a new bucket's setting (kept only when it is not the default).
pub fn store(app: &App, bucket: &str, o: Ownership) -> Result<(), ObjectsError> {
    if o == Ownership::BucketOwnerEnforced {
        return Ok(());
    }
    app.objects
        .set_bucket_config(bucket, BucketConfig::OwnershipControls, Some(o.name()))
}

fn invalid_with_acls() -> AwsError {
    AwsError::client(
        "InvalidBucketAclWithObjectOwnership",
        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
    )
}

pub(super) fn run(app: &App, req: &S3Request) -> S3Result {
    let s = &app.objects;
    let oe = |e| objects_error(e, req);
    let bucket = s
        .bucket(req.bucket())
        .map_err(oe)?
        .ok_or_else(|| oe(ObjectsError::NoSuchBucket))?;
    match req.op {
        "PutBucketOwnershipControls" => {
            let n = parse(&req.payload)
                .filter(|n| n.name == "OwnershipControls")
                .ok_or_else(malformed_xml)?;
            let rules: Vec<_> = n.all("Rule").collect();
            let [rule] = rules.as_slice() else {
                return Err(malformed_xml());
            };
            let o = rule
                .text_of("ObjectOwnership")
                .and_then(Ownership::parse)
                .ok_or_else(malformed_xml)?;
            // ACLs cannot be disabled while the bucket's ACL grants anyone but its owner.
            if o == Ownership::BucketOwnerEnforced
                && let Some(acl) = Acl::stored(bucket.config(BucketConfig::Acl))
                && acl != Acl::private(&bucket.account)
            {
                return Err(invalid_with_acls());
            }
            s.set_bucket_config(
                req.bucket(),
                BucketConfig::OwnershipControls,
                Some(o.name()),
            )
            .map_err(oe)?;
            Ok(S3Response::empty(200))
        }
        "GetBucketOwnershipControls" => {
            if bucket.config(BucketConfig::OwnershipControls) == Some(NONE) {
                return Err(AwsError::new(
                    404,
                    "OwnershipControlsNotFoundError",
                    "The bucket ownership controls were not found",
                )
                .with_extra("BucketName", req.bucket()));
            }
            let mut d = Doc::new("OwnershipControls");
            d.open("Rule")
                .elem("ObjectOwnership", ownership(&bucket).name())
                .close("Rule");
            Ok(S3Response::ok(d.finish("OwnershipControls")))
        }
        "DeleteBucketOwnershipControls" => {
            s.set_bucket_config(req.bucket(), BucketConfig::OwnershipControls, Some(NONE))
                .map_err(oe)?;
            Ok(S3Response::empty(204))
        }
        other => Err(super::not_implemented(other)),
    }
}
