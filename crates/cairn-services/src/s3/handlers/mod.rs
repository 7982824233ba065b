//! The S3 operations, each from a decoded, authorized request to a response or an S3 error, by
//! the operation's module ([`buckets`], [`objects`], [`multipart`], [`part_copy`], [`listing`],
//! [`uploads_list`], [`attributes`], browser uploads: [`post`]; CORS: [`cors`]; ACLs: [`acl`],
//! with Object Ownership: [`ownership`]; Block Public Access: [`public_access`]; conditional
//! reads: [`conditions`]; a copy's source: [`copy_source`]; conditional writes:
//! [`write_conditions`]; tags: [`tagging`];
//! lifecycle configuration: [`lifecycle`]; server access logging configuration: [`logging`];
//! Object Lock: [`lock`], its rules [`lock_rules`], the checksum its writes need
//! [`lock_checksum`]; versioning and MFA delete: [`mfa`]).

pub(super) mod acl;
mod attributes;
mod buckets;
mod conditions;
pub(super) mod copy_source;
mod cors;
mod lifecycle;
mod listing;
mod lock;
mod lock_checksum;
mod lock_rules;
mod logging;
mod mfa;
mod multipart;
mod objects;
pub(super) mod ownership;
mod part_copy;
mod post;
mod post_policy;
pub(super) mod public_access;
mod tagging;
mod uploads_list;
mod write_conditions;

use cairn_store::objects::ObjectsError;
use cairn_wire::AwsError;

use super::{S3Request, S3Response};
use crate::app::App;
use crate::pipeline::Operation;
use crate::recorder::CallContext;

pub use acl::canonical_id;
pub use objects::verify_checksums;

/// Object Lock's guard on removing a version, for work that is no caller's (lifecycle):
/// locked versions stay, without any bypass.
pub(super) fn lock_guard(
    now_ms: i64,
) -> impl FnMut(&cairn_store::objects::ObjectVersion) -> Result<(), ObjectsError> + Send {
    lock::guard(now_ms, false)
}

/// A bucket's default encryption: its algorithm and KMS key, if configured.
fn default_encryption(bucket: &cairn_store::objects::Bucket) -> Option<(String, Option<String>)> {
    let xml = bucket.encryption.as_deref()?;
    let n = crate::s3::wire::xml::parse(xml.as_bytes())?;
    let d = n
        .child("Rule")
        .and_then(|r| r.child("ApplyServerSideEncryptionByDefault"))?;
    Some((
        d.text_of("SSEAlgorithm")?.to_owned(),
        d.text_of("KMSMasterKeyID").map(str::to_owned),
    ))
}

type S3Result = Result<S3Response, AwsError>;

pub(super) fn objects_error(e: ObjectsError, req: &S3Request) -> AwsError {
    let msg = e.to_string();
    match e {
        ObjectsError::NoSuchBucket => {
            AwsError::new(404, "NoSuchBucket", msg).with_extra("BucketName", req.bucket())
        }
        ObjectsError::BucketAlreadyExists => {
            AwsError::new(409, "BucketAlreadyExists", msg).with_extra("BucketName", req.bucket())
        }
        ObjectsError::BucketAlreadyOwnedByYou => AwsError::new(409, "BucketAlreadyOwnedByYou", msg)
            .with_extra("BucketName", req.bucket()),
        ObjectsError::BucketNotEmpty => {
            AwsError::new(409, "BucketNotEmpty", msg).with_extra("BucketName", req.bucket())
        }
        ObjectsError::NoSuchKey => {
            AwsError::new(404, "NoSuchKey", msg).with_extra("Key", req.key())
        }
        ObjectsError::NoSuchVersion => {
            AwsError::new(404, "NoSuchVersion", msg).with_extra("Key", req.key())
        }
        ObjectsError::NoSuchUpload => AwsError::new(404, "NoSuchUpload", msg),
        ObjectsError::InvalidPart => AwsError::client("InvalidPart", msg),
        ObjectsError::InvalidPartOrder => AwsError::client("InvalidPartOrder", msg),
        ObjectsError::EntityTooSmall => AwsError::client("EntityTooSmall", msg),
        ObjectsError::PreconditionFailed => write_conditions::failed(req),
        // A refusal S3's own rules made (Object Lock), answered as they worded it.
        ObjectsError::Refused(why) => match why.downcast::<lock::Refusal>() {
            Ok(r) => r.0,
            Err(other) => {
                tracing::error!(error = %other, "S3 store refusal of an unknown kind");
                AwsError::new(
                    500,
                    "InternalError",
                    "We encountered an internal error. Please try again.",
                )
            }
        },
        ObjectsError::Store(_) | ObjectsError::Io { .. } => {
            tracing::error!(error = %msg, "S3 store failure");
            AwsError::new(
                500,
                "InternalError",
                "We encountered an internal error. Please try again.",
            )
        }
    }
}

fn malformed_xml() -> AwsError {
    AwsError::client(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

fn iso(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn http_date(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(&f).unwrap_or_default()
}

fn not_implemented(op: &str) -> AwsError {
    AwsError::new(
        501,
        "NotImplemented",
        format!("cairn's S3 does not implement {op} yet."),
    )
}

/// Runs an authorized S3 call; a cross-origin request's answer carries the CORS headers its
/// bucket's rules give it.
pub fn run(app: &App, ctx: &CallContext, op: &Operation, req: &S3Request) -> S3Result {
    let mut out = run_operation(app, ctx, op, req)?;
    if req.header("origin").is_some()
        && let Ok(Some(bucket)) = req.stored_bucket(&*app.objects)
    {
        out.headers.extend(cors::headers_for(bucket, req));
    }
    Ok(out)
}

fn run_operation(app: &App, ctx: &CallContext, op: &Operation, req: &S3Request) -> S3Result {
    let now = app.clock.now_millis();
    match req.op {
        "ListBuckets"
        | "CreateBucket"
        | "DeleteBucket"
        | "HeadBucket"
        | "GetBucketLocation"
        | "GetBucketAcl"
        | "PutBucketAcl"
        | "PutBucketPolicy"
        | "GetBucketPolicy"
        | "DeleteBucketPolicy"
        | "PutBucketEncryption"
        | "GetBucketEncryption"
        | "DeleteBucketEncryption" => buckets::run(app, req, now),
        "PutPublicAccessBlock"
        | "GetPublicAccessBlock"
        | "DeletePublicAccessBlock"
        | "GetBucketPolicyStatus" => public_access::run_bucket(app, req),
        "PutAccountPublicAccessBlock"
        | "GetAccountPublicAccessBlock"
        | "DeleteAccountPublicAccessBlock" => {
            let caller = ctx.principal.account().map(|a| a.to_string());
            public_access::run_account(app, req, caller.as_deref().unwrap_or_default())
        }
        "PutBucketOwnershipControls"
        | "GetBucketOwnershipControls"
        | "DeleteBucketOwnershipControls" => ownership::run(app, req),
        "PutBucketCors" | "GetBucketCors" | "DeleteBucketCors" => cors::run(app, req),
        "PutBucketTagging"
        | "GetBucketTagging"
        | "DeleteBucketTagging"
        | "PutObjectTagging"
        | "GetObjectTagging"
        | "DeleteObjectTagging" => tagging::run(app, req),
        "PutBucketLifecycle" | "GetBucketLifecycle" | "DeleteBucketLifecycle" => {
            lifecycle::run(app, req)
        }
        "PutBucketLogging" | "GetBucketLogging" => logging::run(app, req),
        "PutBucketVersioning" | "GetBucketVersioning" => mfa::run(app, ctx, req),
        "PutObjectLockConfiguration"
        | "GetObjectLockConfiguration"
        | "PutObjectRetention"
        | "GetObjectRetention"
        | "PutObjectLegalHold"
        | "GetObjectLegalHold" => lock::run(app, ctx, op, req, now),
        "ListObjects" => listing::list_objects(app, req),
        "ListObjectVersions" => listing::list_versions(app, req),
        "ListMultipartUploads" => uploads_list::run(app, req),
        "GetObjectAttributes" => attributes::run(app, req),
        "PostObject" => post::run(app, ctx, req, now),
        "CreateMultipartUpload"
        | "UploadPart"
        | "ListParts"
        | "AbortMultipartUpload"
        | "CompleteMultipartUpload" => multipart::run(app, ctx, req, now),
        "UploadPartCopy" => part_copy::run(app, ctx, req, now),
        _ => objects::run(app, ctx, op, req, now),
    }
}
