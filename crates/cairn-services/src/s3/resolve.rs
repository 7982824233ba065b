//! Who may do what to a bucket: the IAM action and resource of each S3 operation, judged
//! with the caller's identity policies and the bucket's policy (cross-account callers need
//! both, as in AWS).

use cairn_store::objects::Bucket;
use cairn_wire::AwsError;

use super::S3Request;
use super::handlers::copy_source::CopySource;
use super::handlers::{acl, ownership, public_access};
use crate::app::App;
use crate::pipeline::{Check, Operation, PolicyOf};
use crate::recorder::CallContext;
use cairn_policy::ResourceRule;
use cairn_store::objects::BucketConfig;
use cairn_wire::Protocol;

/// The permissions an operation needs: (action, resource ARN).
pub fn permissions(req: &S3Request) -> Vec<(&'static str, String)> {
    let bucket = format!("arn:aws:s3:::{}", req.bucket());
    let object = format!("arn:aws:s3:::{}/{}", req.bucket(), req.key());
    let versioned = req.query.contains_key("versionId");
    let on_bucket = |a: &'static str| vec![(a, bucket.clone())];
    let on_object = |a: &'static str| vec![(a, object.clone())];
    match req.op {
        "ListBuckets" => vec![("s3:ListAllMyBuckets", "*".to_owned())],
        "CreateBucket" => on_bucket("s3:CreateBucket"),
        "DeleteBucket" => on_bucket("s3:DeleteBucket"),
        "HeadBucket" | "ListObjects" => on_bucket("s3:ListBucket"),
        "ListObjectVersions" => on_bucket("s3:ListBucketVersions"),
        "GetBucketLocation" => on_bucket("s3:GetBucketLocation"),
        "GetBucketAcl" => on_bucket("s3:GetBucketAcl"),
        "PutBucketAcl" => on_bucket("s3:PutBucketAcl"),
        "GetObjectAcl" if versioned => on_object("s3:GetObjectVersionAcl"),
        "GetObjectAcl" => on_object("s3:GetObjectAcl"),
        "PutObjectAcl" if versioned => on_object("s3:PutObjectVersionAcl"),
        "PutObjectAcl" => on_object("s3:PutObjectAcl"),
        "PutBucketPolicy" => on_bucket("s3:PutBucketPolicy"),
        "GetBucketPolicy" => on_bucket("s3:GetBucketPolicy"),
        "DeleteBucketPolicy" => on_bucket("s3:DeleteBucketPolicy"),
        "PutBucketVersioning" => on_bucket("s3:PutBucketVersioning"),
        "GetBucketVersioning" => on_bucket("s3:GetBucketVersioning"),
        "PutBucketEncryption" | "DeleteBucketEncryption" => {
            on_bucket("s3:PutEncryptionConfiguration")
        }
        "GetBucketEncryption" => on_bucket("s3:GetEncryptionConfiguration"),
        "PutBucketTagging" | "DeleteBucketTagging" => on_bucket("s3:PutBucketTagging"),
        "GetBucketTagging" => on_bucket("s3:GetBucketTagging"),
        "PutObjectTagging" if versioned => on_object("s3:PutObjectVersionTagging"),
        "PutObjectTagging" => on_object("s3:PutObjectTagging"),
        "GetObjectTagging" if versioned => on_object("s3:GetObjectVersionTagging"),
        "GetObjectTagging" => on_object("s3:GetObjectTagging"),
        "DeleteObjectTagging" if versioned => on_object("s3:DeleteObjectVersionTagging"),
        "DeleteObjectTagging" => on_object("s3:DeleteObjectTagging"),
        "PutBucketLifecycle" | "DeleteBucketLifecycle" => on_bucket("s3:PutLifecycleConfiguration"),
        "GetBucketLifecycle" => on_bucket("s3:GetLifecycleConfiguration"),
        "PutBucketLogging" => on_bucket("s3:PutBucketLogging"),
        "GetBucketLogging" => on_bucket("s3:GetBucketLogging"),
        "PutPublicAccessBlock" | "DeletePublicAccessBlock" => {
            on_bucket("s3:PutBucketPublicAccessBlock")
        }
        "GetPublicAccessBlock" => on_bucket("s3:GetBucketPublicAccessBlock"),
        "GetBucketPolicyStatus" => on_bucket("s3:GetBucketPolicyStatus"),
        "PutBucketCors" | "DeleteBucketCors" => on_bucket("s3:PutBucketCORS"),
        "GetBucketCors" => on_bucket("s3:GetBucketCORS"),
        "PutBucketOwnershipControls" | "DeleteBucketOwnershipControls" => {
            on_bucket("s3:PutBucketOwnershipControls")
        }
        "GetBucketOwnershipControls" => on_bucket("s3:GetBucketOwnershipControls"),
        "PutAccountPublicAccessBlock" | "DeleteAccountPublicAccessBlock" => {
            vec![("s3:PutAccountPublicAccessBlock", "*".to_owned())]
        }
        "GetAccountPublicAccessBlock" => vec![("s3:GetAccountPublicAccessBlock", "*".to_owned())],
        "GetObjectAttributes" if versioned => on_object("s3:GetObjectVersionAttributes"),
        "GetObjectAttributes" => on_object("s3:GetObjectAttributes"),
        "ListMultipartUploads" => on_bucket("s3:ListBucketMultipartUploads"),
        "PutObjectLockConfiguration" => on_bucket("s3:PutBucketObjectLockConfiguration"),
        "GetObjectLockConfiguration" => on_bucket("s3:GetBucketObjectLockConfiguration"),
        // Bypassing governance is judged by the handler, only when the caller asks to.
        "PutObjectRetention" => on_object("s3:PutObjectRetention"),
        "GetObjectRetention" => on_object("s3:GetObjectRetention"),
        "PutObjectLegalHold" => on_object("s3:PutObjectLegalHold"),
        "GetObjectLegalHold" => on_object("s3:GetObjectLegalHold"),
        "PutObject" | "CreateMultipartUpload" => {
            let mut v = on_object("s3:PutObject");
            if req.header("x-amz-tagging").is_some() {
                v.push(("s3:PutObjectTagging", object.clone()));
            }
            v.extend(lock_permissions(req, &object));
            v
        }
        "PostObject" | "UploadPart" | "CompleteMultipartUpload" => on_object("s3:PutObject"),
        "UploadPartCopy" => {
            let mut v = on_object("s3:PutObject");
            v.extend(source_permission(req));
            v
        }
        "GetObject" | "HeadObject" if versioned => on_object("s3:GetObjectVersion"),
        "GetObject" | "HeadObject" => on_object("s3:GetObject"),
        "DeleteObject" if versioned => on_object("s3:DeleteObjectVersion"),
        "DeleteObject" => on_object("s3:DeleteObject"),
        // Each key of a multi-object delete is judged as it is deleted; the bucket-level
        // check here is the one AWS makes before reading the request.
        "DeleteObjects" => Vec::new(),
        "AbortMultipartUpload" => on_object("s3:AbortMultipartUpload"),
        "ListParts" => on_object("s3:ListMultipartUploadParts"),
        "CopyObject" => {
            let mut v = on_object("s3:PutObject");
            v.extend(lock_permissions(req, &object));
            v.extend(source_permission(req));
            if req.header("x-amz-tagging-directive") == Some("REPLACE")
                && req.header("x-amz-tagging").is_some()
            {
                v.push(("s3:PutObjectTagging", object.clone()));
            }
            v
        }
        _ => on_bucket("s3:ListBucket"),
    }
}

/// What a write naming a lock needs besides s3:PutObject: s3:PutObjectRetention for a
/// retention, s3:PutObjectLegalHold for a legal hold.
fn lock_permissions(req: &S3Request, object: &str) -> Vec<(&'static str, String)> {
    let mut v = Vec::new();
    if req.header("x-amz-object-lock-mode").is_some()
        || req.header("x-amz-object-lock-retain-until-date").is_some()
    {
        v.push(("s3:PutObjectRetention", object.to_owned()));
    }
    if req.header("x-amz-object-lock-legal-hold").is_some() {
        v.push(("s3:PutObjectLegalHold", object.to_owned()));
    }
    v
}

/// What reading a copy's source needs: s3:GetObject, or s3:GetObjectVersion when the copy
/// names the source's version. A source that cannot be read is the handler's to refuse.
fn source_permission(req: &S3Request) -> Option<(&'static str, String)> {
    let source = CopySource::of(req).ok()?;
    let action = if source.version.is_some() {
        "s3:GetObjectVersion"
    } else {
        "s3:GetObject"
    };
    Some((action, source.arn()))
}

/// Service-specific condition keys of a request.
fn condition_keys(req: &S3Request) -> Vec<(&'static str, String)> {
    let mut keys = Vec::new();
    if matches!(
        req.op,
        "ListObjects" | "ListObjectVersions" | "ListMultipartUploads"
    ) {
        keys.push((
            "s3:prefix",
            req.query.get("prefix").cloned().unwrap_or_default(),
        ));
        if let Some(d) = req.query.get("delimiter") {
            keys.push(("s3:delimiter", d.clone()));
        }
        if let Some(m) = req.query.get("max-keys") {
            keys.push(("s3:max-keys", m.clone()));
        }
    }
    // A canned ACL is a condition bucket policies test (CloudTrail's documented policy lets it
    // write only with `bucket-owner-full-control`).
    if let Some(acl) = req.header("x-amz-acl") {
        keys.push(("s3:x-amz-acl", acl.to_owned()));
    }
    if let Some(sse) = req.header("x-amz-server-side-encryption") {
        keys.push(("s3:x-amz-server-side-encryption", sse.to_owned()));
    }
    if let Some(k) = req.header("x-amz-server-side-encryption-aws-kms-key-id") {
        keys.push((
            "s3:x-amz-server-side-encryption-aws-kms-key-id",
            k.to_owned(),
        ));
    }
    keys
}

/// The checks one permission needs against a bucket (its policy and owner), or against the
/// caller's own account when the bucket does not exist yet.
pub fn check_of(
    app: &App,
    ctx: &CallContext,
    req: &S3Request,
    action: &str,
    resource: &str,
    bucket: Option<&Bucket>,
) -> Option<Check> {
    let policy = |b: &Bucket| PolicyOf {
        document: resource_policy(app, ctx, req, resource, b),
        account: b.account.clone(),
        rule: ResourceRule::Standard,
    };
    let check = Check::new(action, resource).with_keys(condition_keys(req));
    let policy_op = matches!(
        req.op,
        "PutBucketPolicy" | "GetBucketPolicy" | "DeleteBucketPolicy"
    );
    if policy_op && let Some(b) = bucket {
        let caller_account = ctx.principal.account().map(|a| a.to_string());
        let owner_side = caller_account.as_deref() == Some(b.account.as_str());
        // The owner's root can always repair a bucket policy that locks the owner out.
        if owner_side && matches!(ctx.principal, cairn_model::Principal::Root { .. }) {
            return None;
        }
        if !owner_side {
            // Only the owner's account may touch a bucket's policy, whatever the policy
            // grants: with permission the answer is 405, without it 403, as in S3.
            return Some(check.with_policy(policy(b)).allowed_but(AwsError::new(
                405,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            )));
        }
    }
    Some(match bucket {
        Some(b) => check.with_policy(policy(b)),
        None => check,
    })
}

/// The resource policy a permission is judged with: the bucket's policy (left out for callers
/// from other accounts when it is public and the bucket restricts public buckets), with the
/// statements the bucket's and the object's ACL grants amount to while ACLs are enabled.
fn resource_policy(
    app: &App,
    ctx: &CallContext,
    req: &S3Request,
    resource: &str,
    b: &Bucket,
) -> Option<String> {
    // The settings in force are read only when they can matter (an outsider and a public
    // policy, or ACLs in use): most calls are the owner's, on buckets without ACLs.
    let blocks = || {
        public_access::effective(app, b).unwrap_or_else(|e| {
            // Failing closed: every setting on.
            tracing::error!(error = %e, "could not read a bucket's public access block");
            public_access::Blocks::ALL
        })
    };
    let outsider = !matches!(ctx.principal, cairn_model::Principal::AwsService { .. })
        && ctx.principal.account().map(|a| a.to_string()).as_deref() != Some(b.account.as_str());
    let mut policy = b.policy.clone();
    if outsider
        && policy
            .as_deref()
            .is_some_and(public_access::policy_is_public)
        && blocks().restrict_public_buckets
    {
        policy = None;
    }
    if ownership::ownership(b) == ownership::Ownership::BucketOwnerEnforced {
        return policy;
    }
    let blocks = blocks();
    let object_arn = resource
        .strip_prefix(&format!("arn:aws:s3:::{}/", b.name))
        .map(|_| resource);
    let mut statements = Vec::new();
    if let Some(acl) = acl::Acl::stored(b.config(BucketConfig::Acl)) {
        statements.extend(acl::statements(
            &acl,
            &b.name,
            None,
            blocks.ignore_public_acls,
        ));
    }
    if let Some(arn) = object_arn
        && let Some(key) = arn.strip_prefix(&format!("arn:aws:s3:::{}/", b.name))
    {
        let version = req.query.get("versionId").map(String::as_str);
        let version = if key == req.key() { version } else { None };
        if let Ok(v) = app.objects.head_object(&b.name, key, version)
            && let Some(acl) = acl::Acl::stored(v.metadata.get(acl::OBJECT_ACL).map(String::as_str))
        {
            statements.extend(acl::statements(
                &acl,
                &b.name,
                Some(arn),
                blocks.ignore_public_acls,
            ));
        }
    }
    if statements.is_empty() {
        return policy;
    }
    let mut all: Vec<serde_json::Value> = match policy
        .as_deref()
        .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
        .and_then(|mut v| v.get_mut("Statement").map(serde_json::Value::take))
    {
        Some(serde_json::Value::Array(a)) => a,
        Some(one) => vec![one],
        None => Vec::new(),
    };
    all.extend(statements);
    Some(serde_json::json!({"Version": "2012-10-17", "Statement": all}).to_string())
}

/// Every check a call needs. Each permission is judged against the bucket it names (a copy's
/// source included); a bucket that does not exist is for the operation itself to report.
pub fn checks(app: &App, ctx: &CallContext, req: &S3Request) -> Result<Vec<Check>, AwsError> {
    let mut out = Vec::new();
    for (action, resource) in permissions(req) {
        let bucket_name = resource
            .strip_prefix("arn:aws:s3:::")
            .map(|r| r.split('/').next().unwrap_or(r));
        let bucket = match bucket_name {
            Some(b) if b == req.bucket() => req
                .stored_bucket(&*app.objects)
                .map_err(|e| super::handlers::objects_error(e, req))?
                .cloned(),
            Some(b) => app
                .objects
                .bucket(b)
                .map_err(|e| super::handlers::objects_error(e, req))?,
            None => None,
        };
        if bucket.is_none() && bucket_name.is_some() && req.op != "CreateBucket" {
            continue;
        }
        out.extend(check_of(app, ctx, req, action, &resource, bucket.as_ref()));
    }
    Ok(out)
}

/// Judges one permission now (for the keys of a multi-object delete, each judged as it is
/// deleted rather than before the call runs).
pub fn check(
    app: &App,
    ctx: &CallContext,
    req: &S3Request,
    op: &Operation,
    action: &str,
    resource: &str,
    bucket: Option<&Bucket>,
) -> Result<(), AwsError> {
    match check_of(app, ctx, req, action, resource, bucket) {
        Some(c) => crate::pipeline::authorize(app, ctx, op, Protocol::RestXml, &[c]),
        None => Ok(()),
    }
}
