//! Object operations: writing (with SSE-S3 or SSE-KMS, checksums, metadata, Object Lock),
//! reading (ranges, decryption), copying and deleting objects (locked versions kept, MFA
//! delete asked for), and their ACLs.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cairn_model::Principal;
use cairn_store::objects::{NewObject, ObjectVersion};
use cairn_wire::AwsError;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::copy_source::CopySource;
use super::{S3Result, http_date, iso, malformed_xml, not_implemented, objects_error};
use super::{acl, lock, mfa};
use crate::app::App;
use crate::pipeline::Durability;
use crate::pipeline::Operation;
use crate::pipeline::internal::{Actor, Internal};
use crate::recorder::CallContext;
use crate::s3::resolve;
use crate::s3::tags::{self, OBJECT_TAGS};
use crate::s3::wire::xml::{Doc, parse};
use crate::s3::{S3Request, S3Response};

pub(super) fn run(
    app: &App,
    ctx: &CallContext,
    op: &Operation,
    req: &S3Request,
    now: i64,
) -> S3Result {
    let s = &app.objects;
    let oe = |e| objects_error(e, req);
    match req.op {
        "GetObjectAcl" | "PutObjectAcl" => object_acl(app, req),
        "PutObject" => {
            let mut new = new_object(app, ctx, req)?;
            new.condition = super::write_conditions::of(req)?;
            let v = s
                .put_object(req.bucket(), req.key(), &req.payload, &new, now)
                .map_err(oe)?;
            Ok(written(S3Response::empty(200), &v, req))
        }
        "CopyObject" => copy_object(app, ctx, req, now),
        "GetObject" | "HeadObject" => get_object(app, ctx, op, req),
        "DeleteObject" => {
            let mut r = S3Response::empty(204);
            if let Some(version) = req.query.get("versionId") {
                // One version (or delete marker) removed for good: with MFA when the bucket
                // asks for it, and only if no lock keeps it (judged on the version as stored).
                let bucket = s
                    .bucket(req.bucket())
                    .map_err(oe)?
                    .ok_or_else(|| oe(cairn_store::objects::ObjectsError::NoSuchBucket))?;
                mfa::require(app, req, &bucket)?;
                let bypass = lock::bypass(app, ctx, req, op, req.key(), &bucket);
                let gone = s
                    .delete_version_guarded(
                        req.bucket(),
                        req.key(),
                        version,
                        &mut lock::guard(now, bypass),
                    )
                    .map_err(oe)?;
                if gone.is_some_and(|v| v.delete_marker) {
                    r = r.header("x-amz-delete-marker", "true");
                }
                return Ok(r.header("x-amz-version-id", version.clone()));
            }
            let marker = s.delete_object(req.bucket(), req.key(), now).map_err(oe)?;
            if let Some(m) = marker {
                r = r
                    .header("x-amz-delete-marker", "true")
                    .header("x-amz-version-id", m.version_id);
            }
            Ok(r)
        }
        "DeleteObjects" => delete_objects(app, ctx, op, req, now),
        other => Err(not_implemented(other)),
    }
}

/// Where an SSE-KMS object keeps its key's ARN (answered as a header) and its wrapped data key
/// (internal: never answered), among its stored metadata.
pub const KMS_KEY_HEADER: &str = ":x-amz-server-side-encryption-aws-kms-key-id";
pub const WRAPPED_KEY: &str = "::kms-data-key";
/// The encryption context the data key is bound to (JSON), internal too.
pub const KEY_CONTEXT: &str = "::kms-context";

/// S3 calling KMS on the caller's behalf, as S3 does for SSE-KMS objects: authorized by the
/// key policy and the caller's identity policies, recorded as the caller's call invoked by
/// s3.amazonaws.com. When the caller is itself an AWS service (CloudTrail writing a log file),
/// the call is recorded as that service's own, for the resource it works for: AWS's record of
/// a trail's data key (opensearch-catalog `samples-large.json`, GenerateDataKey of
/// 2021-12-02T22:11:24Z, eventID 139bde74-…) shows `{"type": "AWSService", "invokedBy":
/// "cloudtrail.amazonaws.com"}` from `cloudtrail.amazonaws.com`, not s3.
fn kms_for(ctx: &CallContext, req: &S3Request, region: &str) -> Internal {
    let actor = match &ctx.principal {
        Principal::AwsService { service } => Actor::Service(service.clone().into()),
        principal => Actor::OnBehalf {
            principal: principal.clone(),
            by: "s3.amazonaws.com",
        },
    };
    Internal {
        actor,
        account: req.account.clone(),
        region: region.to_owned(),
        source_arn: ctx.source_arn.clone(),
        cause: ctx.request_id.clone(),
        // The S3 call's own record follows this one and is waited for before S3 answers.
        durability: Durability::CoveredByCaller,
    }
}

/// The encryption context a request adds to an SSE-KMS object's
/// (`x-amz-server-side-encryption-context`: base64 of a JSON object of strings).
fn requested_context(req: &S3Request) -> Result<BTreeMap<String, String>, AwsError> {
    let Some(h) = req.header("x-amz-server-side-encryption-context") else {
        return Ok(BTreeMap::new());
    };
    STANDARD
        .decode(h.trim())
        .ok()
        .and_then(|j| serde_json::from_slice(&j).ok())
        .ok_or_else(|| {
            AwsError::client(
                "InvalidArgument",
                "The header 'x-amz-server-side-encryption-context' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map",
            )
        })
}

/// A KMS refusal, as S3 words it.
fn kms_error(e: AwsError) -> AwsError {
    match e.code.as_ref() {
        "AccessDeniedException" => AwsError::new(403, "AccessDenied", e.message),
        _ => e,
    }
}

/// Checks `Content-MD5` and `x-amz-checksum-*` against the payload.
pub fn verify_checksums(
    headers: &http::HeaderMap,
    checksums: &BTreeMap<String, String>,
    payload: &[u8],
) -> Result<(), AwsError> {
    if let Some(md5) = headers.get("content-md5") {
        use md5::Digest as _;
        let declared = md5
            .to_str()
            .ok()
            .and_then(|v| STANDARD.decode(v.trim()).ok())
            .filter(|d| d.len() == 16)
            .ok_or_else(|| {
                AwsError::client(
                    "InvalidDigest",
                    "The Content-MD5 you specified was not valid.",
                )
            })?;
        if md5::Md5::digest(payload).as_slice() != declared.as_slice() {
            return Err(AwsError::client(
                "BadDigest",
                "The Content-MD5 you specified did not match what we received.",
            ));
        }
    }
    for (name, want) in checksums {
        let got = match name.as_str() {
            "x-amz-checksum-crc32" => STANDARD.encode(crc32fast::hash(payload).to_be_bytes()),
            "x-amz-checksum-crc32c" => STANDARD.encode(crc32c::crc32c(payload).to_be_bytes()),
            "x-amz-checksum-sha1" => {
                use sha1::Digest as _;
                STANDARD.encode(sha1::Sha1::digest(payload))
            }
            "x-amz-checksum-sha256" => STANDARD.encode(Sha256::digest(payload)),
            // CRC64NVME and future algorithms: stored and echoed, not verified.
            _ => continue,
        };
        if &got != want {
            let algo = name
                .trim_start_matches("x-amz-checksum-")
                .to_ascii_uppercase();
            return Err(AwsError::client(
                "BadDigest",
                format!("The {algo} you specified did not match the calculated checksum."),
            ));
        }
    }
    Ok(())
}

/// Headers every write answers with.
pub(super) fn written(mut r: S3Response, v: &ObjectVersion, req: &S3Request) -> S3Response {
    if !v.etag.is_empty() && !r.headers.iter().any(|(k, _)| k == "etag") {
        r = r.header("etag", v.etag.clone());
    }
    if let Some(sse) = &v.sse {
        r = r.header("x-amz-server-side-encryption", sse.clone());
    }
    if let Some(key) = v.metadata.get(KMS_KEY_HEADER) {
        r = r.header("x-amz-server-side-encryption-aws-kms-key-id", key.clone());
    }
    if v.version_id != "null" {
        r = r.header("x-amz-version-id", v.version_id.clone());
    }
    for (k, val) in &req.checksums {
        r = r.header(k, val.clone());
    }
    r
}
/// GetObjectAcl and PutObjectAcl: the version's ACL as stored while ACLs are enabled, else
/// its owner's full control.
fn object_acl(app: &App, req: &S3Request) -> S3Result {
    let s = &app.objects;
    let oe = |e| objects_error(e, req);
    let version = req.query.get("versionId").map(String::as_str);
    let bucket = s
        .bucket(req.bucket())
        .map_err(oe)?
        .ok_or_else(|| oe(cairn_store::objects::ObjectsError::NoSuchBucket))?;
    let v = s
        .head_object(req.bucket(), req.key(), version)
        .map_err(oe)?;
    let current = acl::Acl::stored(v.metadata.get(acl::OBJECT_ACL).map(String::as_str))
        .unwrap_or_else(|| acl::Acl::private(&bucket.account));
    if req.op == "GetObjectAcl" {
        return Ok(S3Response::ok(current.xml()));
    }
    if let Some(set) = acl::of_put(app, req, &bucket, &current.owner, false)? {
        let text = set.text();
        s.update_version(
            req.bucket(),
            req.key(),
            Some(&v.version_id),
            &mut |stored| {
                stored
                    .metadata
                    .insert(acl::OBJECT_ACL.to_owned(), text.clone());
                Ok(())
            },
        )
        .map_err(oe)?;
    }
    Ok(S3Response::empty(200))
}

/// What a new object stores: content type, user metadata, system headers, checksums, and its
/// SSE (the request's header, else the bucket default, SSE-S3).
pub(super) fn new_object(
    app: &App,
    ctx: &CallContext,
    req: &S3Request,
) -> Result<NewObject, AwsError> {
    let mut metadata = BTreeMap::new();
    if let Some(bucket) = req
        .stored_bucket(&*app.objects)
        .map_err(|e| objects_error(e, req))?
    {
        let writer = ctx
            .principal
            .account()
            .map(|a| a.to_string())
            .unwrap_or_else(|| bucket.account.clone());
        if let Some(acl) = acl::of_new_object(app, req, bucket, &writer)? {
            metadata.insert(acl::OBJECT_ACL.to_owned(), acl);
        }
    }
    for (k, v) in &req.headers {
        if let Some(name) = k.as_str().strip_prefix("x-amz-meta-") {
            // Stored decoded: answered as S3 answers it (`crate::s3::wire::rfc2047`).
            metadata.insert(
                name.to_owned(),
                crate::s3::wire::rfc2047::decode(v.as_bytes()),
            );
        }
    }
    for h in [
        "cache-control",
        "content-disposition",
        "content-encoding",
        "content-language",
        "expires",
    ] {
        let Some(v) = req.header(h) else { continue };
        if h == "content-encoding" {
            // aws-chunked is transport framing, not the object's encoding.
            let v: Vec<&str> = v
                .split(',')
                .map(str::trim)
                .filter(|e| *e != "aws-chunked")
                .collect();
            if !v.is_empty() {
                metadata.insert(format!(":{h}"), v.join(","));
            }
        } else {
            // Answered back exactly as sent (`public, max-age=14400` keeps its space).
            metadata.insert(format!(":{h}"), v.to_owned());
        }
    }
    for (k, v) in &req.checksums {
        metadata.insert(format!(":{k}"), v.clone());
    }
    // A copy's tags follow its tagging directive (`copy_object`); other writes take the header.
    if req.op != "CopyObject"
        && let Some(h) = req.header("x-amz-tagging")
    {
        let set = tags::from_header(h)?;
        if !set.is_empty() {
            metadata.insert(OBJECT_TAGS.to_owned(), tags::to_stored(&set));
        }
    }
    lock::apply_to_new(app, req, &mut metadata)?;
    let (sse, kms_key) = match req.header("x-amz-server-side-encryption") {
        Some("AES256") => ("AES256".to_owned(), None),
        Some("aws:kms") => (
            "aws:kms".to_owned(),
            req.header("x-amz-server-side-encryption-aws-kms-key-id")
                .map(str::to_owned)
                .or_else(|| bucket_default_encryption(app, req).and_then(|(_, k)| k)),
        ),
        Some(other) => {
            return Err(AwsError::client(
                "InvalidArgument",
                format!("The encryption method specified is not supported: {other}"),
            ));
        }
        None => match bucket_default_encryption(app, req) {
            Some((algo, key)) if algo == "aws:kms" => (algo, key),
            _ => ("AES256".to_owned(), None),
        },
    };
    let mut data_key = None;
    if sse == "aws:kms" {
        let key_ref = kms_key.ok_or_else(|| {
            AwsError::client(
                "InvalidArgument",
                "cairn has no AWS managed key (aws/s3): name a KMS key with x-amz-server-side-encryption-aws-kms-key-id or in the bucket's default encryption.",
            )
        })?;
        // As S3 binds a data key: to the object's ARN, beside any context the request adds
        // (CloudTrail adds its trail's, `aws:cloudtrail:arn`).
        let mut context = requested_context(req)?;
        context.insert(
            "aws:s3:arn".to_owned(),
            format!("arn:aws:s3:::{}/{}", req.bucket(), req.key()),
        );
        // KMS is asked in the key's region when the write names the key by ARN (a trail's
        // key, in the trail's home region), as reads of the object ask it.
        let key_region = key_ref
            .strip_prefix("arn:")
            .and_then(|_| key_ref.split(':').nth(3))
            .filter(|r| !r.is_empty())
            .unwrap_or(&req.region)
            .to_owned();
        let made = kms_for(ctx, req, &key_region)
            .call_json(
                app,
                "kms",
                "GenerateDataKey",
                json!({"KeyId": key_ref, "KeySpec": "AES_256", "EncryptionContext": context}),
            )
            .map_err(kms_error)?;
        let member = |m: &str| made.get(m).and_then(Value::as_str).map(str::to_owned);
        let (Some(plaintext), Some(wrapped), Some(key_arn)) = (
            member("Plaintext"),
            member("CiphertextBlob"),
            member("KeyId"),
        ) else {
            return Err(AwsError::internal("KMS answered no data key"));
        };
        let plaintext = STANDARD
            .decode(plaintext)
            .map_err(|_| AwsError::internal("KMS answered an unreadable data key"))?;
        metadata.insert(KMS_KEY_HEADER.to_owned(), key_arn);
        metadata.insert(WRAPPED_KEY.to_owned(), wrapped);
        metadata.insert(
            KEY_CONTEXT.to_owned(),
            serde_json::to_string(&context).unwrap_or_default(),
        );
        data_key = Some(plaintext);
    }
    Ok(NewObject {
        content_type: req.header("content-type").map(str::to_owned),
        metadata,
        sse: Some(sse),
        data_key,
        // An AWS service's write is followed by its own bookkeeping (CloudTrail marks the log
        // file delivered): its body is flushed before the call returns.
        durable: matches!(ctx.principal, Principal::AwsService { .. }),
        condition: None,
    })
}

/// The request's bucket's default encryption: its algorithm and KMS key, if configured.
fn bucket_default_encryption(app: &App, req: &S3Request) -> Option<(String, Option<String>)> {
    super::default_encryption(req.stored_bucket(&*app.objects).ok()??)
}

/// An object's body, decrypted with its own data key when it is SSE-KMS (which takes
/// kms:Decrypt on its key, for the caller).
pub(super) fn read_object(
    app: &App,
    ctx: &CallContext,
    req: &S3Request,
    v: &ObjectVersion,
    range: Option<(u64, u64)>,
) -> Result<Vec<u8>, AwsError> {
    let Some(wrapped) = v.metadata.get(WRAPPED_KEY) else {
        return app
            .objects
            .read_body(v, range)
            .map_err(|e| objects_error(e, req));
    };
    let key_region = v
        .metadata
        .get(KMS_KEY_HEADER)
        .and_then(|arn| arn.split(':').nth(3))
        .unwrap_or(&req.region)
        .to_owned();
    let context: BTreeMap<String, String> = v
        .metadata
        .get(KEY_CONTEXT)
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default();
    let opened = kms_for(ctx, req, &key_region)
        .call_json(
            app,
            "kms",
            "Decrypt",
            json!({"CiphertextBlob": wrapped, "EncryptionContext": context}),
        )
        .map_err(|e| match e.code.as_ref() {
            // The object's key is gone (or in another account).
            "InvalidCiphertextException" | "NotFoundException" => AwsError::new(
                403,
                "AccessDenied",
                "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
            ),
            _ => kms_error(e),
        })?;
    let data_key = opened
        .get("Plaintext")
        .and_then(Value::as_str)
        .and_then(|p| STANDARD.decode(p).ok())
        .ok_or_else(|| AwsError::internal("KMS answered no plaintext"))?;
    app.objects
        .read_body_keyed(v, range, &data_key)
        .map_err(|e| objects_error(e, req))
}

fn copy_object(app: &App, ctx: &CallContext, req: &S3Request, now: i64) -> S3Result {
    let named = CopySource::of(req)?;
    let (sb, sk) = (named.bucket.as_str(), named.key.as_str());
    let s = &app.objects;
    let source = named.read_version(app, req)?;
    if let Some(b) = s.bucket(sb).map_err(|e| objects_error(e, req))?
        && b.account != req.account
    {
        return Err(AwsError::new(403, "AccessDenied", "Access Denied"));
    }
    let body = read_object(app, ctx, req, &source, None)?;
    let mut new = new_object(app, ctx, req)?;
    if req.header("x-amz-metadata-directive") != Some("REPLACE") {
        // The copy's encryption, ACL and lock are its own: keep the new object's entries,
        // not the source's.
        const OWN: [&str; 4] = [KMS_KEY_HEADER, WRAPPED_KEY, KEY_CONTEXT, acl::OBJECT_ACL];
        let mut own: Vec<(String, String)> = OWN
            .iter()
            .filter_map(|k| new.metadata.get(*k).map(|v| ((*k).to_owned(), v.clone())))
            .collect();
        own.extend(lock::lock_entries(&new.metadata));
        new.metadata = source.metadata.clone();
        for k in OWN {
            new.metadata.remove(k);
        }
        lock::strip(&mut new.metadata);
        new.metadata.extend(own);
        new.content_type = source.content_type.clone();
    }
    // Tags: the source's (COPY, the default) or the request's `x-amz-tagging` (REPLACE).
    match req.header("x-amz-tagging-directive") {
        None | Some("COPY") => match source.metadata.get(OBJECT_TAGS) {
            Some(t) => {
                new.metadata.insert(OBJECT_TAGS.to_owned(), t.clone());
            }
            None => {
                new.metadata.remove(OBJECT_TAGS);
            }
        },
        Some("REPLACE") => {
            new.metadata.remove(OBJECT_TAGS);
            let set = tags::from_header(req.header("x-amz-tagging").unwrap_or(""))?;
            if !set.is_empty() {
                new.metadata
                    .insert(OBJECT_TAGS.to_owned(), tags::to_stored(&set));
            }
        }
        Some(_) => {
            return Err(
                AwsError::client("InvalidArgument", "Unknown tagging directive.")
                    .with_extra("ArgumentName", "x-amz-tagging-directive"),
            );
        }
    }
    if sb == req.bucket()
        && sk == req.key()
        && req.header("x-amz-metadata-directive") != Some("REPLACE")
    {
        return Err(AwsError::client(
            "InvalidRequest",
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    let v = s
        .put_object(req.bucket(), req.key(), &body, &new, now)
        .map_err(|e| objects_error(e, req))?;
    let mut d = Doc::new("CopyObjectResult");
    d.elem("LastModified", &iso(v.created_ms))
        .elem("ETag", &v.etag);
    let mut r = written(S3Response::ok(d.finish("CopyObjectResult")), &v, req);
    r.headers.retain(|(k, _)| k != "etag");
    Ok(r)
}

/// Parses `bytes=a-b`, `bytes=a-`, `bytes=-n` against a size; `Err` if unsatisfiable.
fn parse_range(h: &str, size: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = h.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None; // multiple ranges: S3 ignores the header
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if !(a.is_empty() || digits(a)) || !(b.is_empty() || digits(b)) {
        return None;
    }
    // Positions past what a u64 holds are past any object's end.
    let num = |s: &str| s.parse::<u64>().unwrap_or(u64::MAX);
    let r = if a.is_empty() {
        let n = num(b);
        if n == 0 || size == 0 {
            return Some(Err(()));
        }
        (size.saturating_sub(n), size - 1)
    } else {
        let first = num(a);
        let last = if b.is_empty() {
            size.saturating_sub(1)
        } else {
            num(b).min(size.saturating_sub(1))
        };
        if first >= size || first > last {
            return Some(Err(()));
        }
        (first, last)
    };
    Some(Ok(r))
}

fn get_object(app: &App, ctx: &CallContext, op: &Operation, req: &S3Request) -> S3Result {
    let s = &app.objects;
    let v = s
        .head_object(
            req.bucket(),
            req.key(),
            req.query.get("versionId").map(String::as_str),
        )
        .map_err(|e| objects_error(e, req))?;
    if let Some(not_modified) = super::conditions::judge(req, &v)? {
        return Ok(not_modified);
    }
    let range = match req.header("range").and_then(|h| parse_range(h, v.size)) {
        Some(Ok(r)) => Some(r),
        Some(Err(())) => {
            return Err(AwsError::new(
                416,
                "InvalidRange",
                "The requested range is not satisfiable",
            )
            .with_extra("RangeRequested", req.header("range").unwrap_or(""))
            .with_extra("ActualObjectSize", v.size.to_string()));
        }
        None => None,
    };
    let head = req.op == "HeadObject";
    let body = if head {
        Vec::new()
    } else {
        read_object(app, ctx, req, &v, range)?
    };
    let mut r = S3Response {
        status: if range.is_some() { 206 } else { 200 },
        headers: Vec::new(),
        body,
    };
    let len = match range {
        Some((a, b)) => b - a + 1,
        None => v.size,
    };
    r = r
        .header(
            "content-type",
            v.content_type
                .clone()
                .unwrap_or_else(|| "binary/octet-stream".into()),
        )
        .header("etag", v.etag.clone())
        .header("last-modified", http_date(v.created_ms))
        .header("accept-ranges", "bytes")
        .header("content-length", len.to_string());
    if let Some((a, b)) = range {
        r = r.header("content-range", format!("bytes {a}-{b}/{}", v.size));
    }
    if let Some(t) = v.metadata.get(OBJECT_TAGS) {
        r = r.header(
            "x-amz-tagging-count",
            tags::from_stored(t).len().to_string(),
        );
    }
    for (k, val) in &v.metadata {
        if k == OBJECT_TAGS {
            continue;
        }
        match k.strip_prefix(':') {
            // Internal entries (a wrapped data key) are never answered; a lock's are answered
            // below, as S3 names them.
            Some(sys) if sys.starts_with(':') || lock::is_lock_entry(sys) => {}
            Some(sys) if sys.starts_with("x-amz-checksum-") => {
                if req.header("x-amz-checksum-mode") == Some("ENABLED") && range.is_none() {
                    r = r.header(sys, val.clone());
                }
            }
            Some(sys) => r = r.header(sys, val.clone()),
            None => {
                r = r.header(
                    &format!("x-amz-meta-{k}"),
                    crate::s3::wire::rfc2047::encode(val),
                )
            }
        }
    }
    if let Some(sse) = &v.sse {
        r = r.header("x-amz-server-side-encryption", sse.clone());
    }
    if v.version_id != "null" {
        r = r.header("x-amz-version-id", v.version_id.clone());
    }
    for (k, val) in lock::read_headers(app, ctx, req, op, &v) {
        r = r.header(k, val);
    }
    // `response-*` query parameters override the stored headers in this answer (a presigned
    // URL that downloads under another name or type).
    for (param, header) in RESPONSE_OVERRIDES {
        if let Some(value) = req.query.get(param) {
            r.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(header));
            r = r.header(header, value.clone());
        }
    }
    Ok(r)
}

/// The query parameters GetObject and HeadObject take to override a header of their answer.
const RESPONSE_OVERRIDES: [(&str, &str); 6] = [
    ("response-content-type", "content-type"),
    ("response-content-language", "content-language"),
    ("response-expires", "expires"),
    ("response-cache-control", "cache-control"),
    ("response-content-disposition", "content-disposition"),
    ("response-content-encoding", "content-encoding"),
];

fn delete_objects(
    app: &App,
    ctx: &CallContext,
    op: &Operation,
    req: &S3Request,
    now: i64,
) -> S3Result {
    let bucket = app
        .objects
        .bucket(req.bucket())
        .map_err(|e| objects_error(e, req))?
        .ok_or_else(|| objects_error(cairn_store::objects::ObjectsError::NoSuchBucket, req))?;
    let n = parse(&req.payload)
        .filter(|n| n.name == "Delete")
        .ok_or_else(malformed_xml)?;
    let quiet = n.text_of("Quiet") == Some("true");
    let objects: Vec<(String, Option<String>)> = n
        .all("Object")
        .filter_map(|o| {
            o.text_of("Key")
                .map(|k| (k.to_owned(), o.text_of("VersionId").map(str::to_owned)))
        })
        .collect();
    if objects.len() > 1000 {
        return Err(malformed_xml());
    }
    // With MFA delete on, a request deleting any version (or naming a code at all) is checked
    // once, whole: it fails entirely without a good code, as in S3.
    if mfa::enabled(&bucket)
        && (req.header("x-amz-mfa").is_some() || objects.iter().any(|(_, v)| v.is_some()))
    {
        mfa::check(app, req, &bucket.account)?;
    }
    let mut d = Doc::new("DeleteResult");
    for (k, version) in objects {
        let arn = format!("arn:aws:s3:::{}/{k}", req.bucket());
        let action = if version.is_some() {
            "s3:DeleteObjectVersion"
        } else {
            "s3:DeleteObject"
        };
        let allowed = resolve::check(app, ctx, req, op, action, &arn, Some(&bucket));
        // (whether a delete marker was made or removed, its version id)
        let outcome = match (allowed, &version) {
            (Err(e), _) => Err(e),
            (Ok(()), Some(v)) => app
                .objects
                .delete_version_guarded(
                    req.bucket(),
                    &k,
                    v,
                    &mut lock::guard(now, lock::bypass(app, ctx, req, op, &k, &bucket)),
                )
                .map(|gone| gone.filter(|g| g.delete_marker).map(|_| v.clone()))
                .map_err(|e| objects_error(e, req)),
            (Ok(()), None) => app
                .objects
                .delete_object(req.bucket(), &k, now)
                .map(|marker| marker.map(|m| m.version_id))
                .map_err(|e| objects_error(e, req)),
        };
        match outcome {
            Ok(marker) => {
                if !quiet {
                    d.open("Deleted").elem("Key", &k);
                    if let Some(v) = &version {
                        d.elem("VersionId", v);
                    }
                    if let Some(m) = marker {
                        d.elem("DeleteMarker", "true")
                            .elem("DeleteMarkerVersionId", &m);
                    }
                    d.close("Deleted");
                }
            }
            Err(ae) => {
                d.open("Error").elem("Key", &k);
                if let Some(v) = &version {
                    d.elem("VersionId", v);
                }
                d.elem("Code", &ae.code)
                    .elem("Message", &ae.message)
                    .close("Error");
            }
        }
    }
    Ok(S3Response::ok(d.finish("DeleteResult")))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges_as_s3_reads_them() {
        assert_eq!(parse_range("bytes=0-9", 10), Some(Ok((0, 9))));
        assert_eq!(parse_range("bytes=2-", 10), Some(Ok((2, 9))));
        assert_eq!(parse_range("bytes=-3", 10), Some(Ok((7, 9))));
        // An end past the object (even past what a u64 holds) means "to the end".
        assert_eq!(parse_range("bytes=0-99", 10), Some(Ok((0, 9))));
        assert_eq!(
            parse_range("bytes=0-99999999999999999999999", 10),
            Some(Ok((0, 9)))
        );
        assert_eq!(
            parse_range("bytes=99999999999999999999999-", 10),
            Some(Err(()))
        );
        assert_eq!(parse_range("bytes=10-", 10), Some(Err(())));
        assert_eq!(parse_range("bytes=5-2", 10), Some(Err(())));
        assert_eq!(parse_range("bytes=a-b", 10), None);
        assert_eq!(parse_range("bytes=0-1,3-4", 10), None);
        assert_eq!(parse_range("items=0-1", 10), None);
    }

    proptest::proptest! {
        #[test]
        fn every_satisfiable_range_lies_inside_the_object(h in "\\PC{0,30}", n in "bytes=[0-9]{0,22}-[0-9]{0,22}", size in 0u64..1000) {
            for header in [h.as_str(), n.as_str()] {
                if let Some(Ok((a, b))) = parse_range(header, size) {
                    proptest::prop_assert!(a <= b && b < size);
                }
            }
        }
    }
}
