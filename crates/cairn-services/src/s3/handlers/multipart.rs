//! Multipart uploads: create, upload parts, list them, abort, and complete into one object
//! (parts copied from other objects: `part_copy.rs`).

use cairn_wire::AwsError;

use super::objects::{new_object, written};
use super::{S3Result, iso, malformed_xml, not_implemented, objects_error};
use crate::app::App;
use crate::recorder::CallContext;
use crate::s3::wire::xml::{Doc, encode_key, parse};
use crate::s3::{S3Request, S3Response};

pub(super) fn run(app: &App, ctx: &CallContext, req: &S3Request, now: i64) -> S3Result {
    let s = &app.objects;
    let oe = |e| objects_error(e, req);
    match req.op {
        "CreateMultipartUpload" => {
            let new = new_object(app, ctx, req)?;
            if new.data_key.is_some() {
                return Err(AwsError::new(
                    501,
                    "NotImplemented",
                    "cairn does not support SSE-KMS for multipart uploads yet; upload in one PutObject or use SSE-S3 (AES256).",
                ));
            }
            let id = s
                .create_upload(req.bucket(), req.key(), &new, now)
                .map_err(oe)?;
            let mut d = Doc::new("InitiateMultipartUploadResult");
            d.elem("Bucket", req.bucket())
                .elem("Key", req.key())
                .elem("UploadId", &id);
            let mut r = S3Response::ok(d.finish("InitiateMultipartUploadResult"));
            if let Some(sse) = new.sse {
                r = r.header("x-amz-server-side-encryption", sse);
            }
            Ok(r)
        }
        "UploadPart" => {
            let (num, id) = part_args(req)?;
            super::lock_checksum::for_part(app, req, &id)?;
            let etag = s
                .put_part(req.bucket(), req.key(), &id, num, &req.payload, now)
                .map_err(oe)?;
            let mut r = S3Response::empty(200).header("etag", etag);
            for (k, v) in &req.checksums {
                r = r.header(k, v.clone());
            }
            Ok(r)
        }
        "ListParts" => {
            let id = req.query.get("uploadId").cloned().unwrap_or_default();
            let parts = s.list_parts(req.bucket(), req.key(), &id).map_err(oe)?;
            let mut d = Doc::new("ListPartsResult");
            d.elem("Bucket", req.bucket())
                .elem("Key", req.key())
                .elem("UploadId", &id)
                .elem("IsTruncated", "false");
            for (num, size, etag, created) in parts {
                d.open("Part")
                    .elem("PartNumber", &num.to_string())
                    .elem("LastModified", &iso(created))
                    .elem("ETag", &etag)
                    .elem("Size", &size.to_string())
                    .close("Part");
            }
            Ok(S3Response::ok(d.finish("ListPartsResult")))
        }
        "AbortMultipartUpload" => {
            let id = req.query.get("uploadId").cloned().unwrap_or_default();
            s.abort_upload(req.bucket(), req.key(), &id).map_err(oe)?;
            Ok(S3Response::empty(204))
        }
        "CompleteMultipartUpload" => {
            let id = req.query.get("uploadId").cloned().unwrap_or_default();
            let n = parse(&req.payload)
                .filter(|n| n.name == "CompleteMultipartUpload")
                .ok_or_else(malformed_xml)?;
            let mut wanted = Vec::new();
            for p in n.all("Part") {
                let num = p
                    .text_of("PartNumber")
                    .and_then(|x| x.parse::<i64>().ok())
                    .ok_or_else(malformed_xml)?;
                wanted.push((num, p.text_of("ETag").unwrap_or("").to_owned()));
            }
            let condition = super::write_conditions::of(req)?;
            let v = s
                .complete_upload(
                    req.bucket(),
                    req.key(),
                    &id,
                    &wanted,
                    condition.as_ref(),
                    now,
                )
                .map_err(oe)?;
            let mut d = Doc::new("CompleteMultipartUploadResult");
            d.elem(
                "Location",
                &format!(
                    "http://{}/{}/{}",
                    req.host,
                    req.bucket(),
                    encode_key(req.key())
                ),
            )
            .elem("Bucket", req.bucket())
            .elem("Key", req.key())
            .elem("ETag", &v.etag);
            Ok(written(
                S3Response::ok(d.finish("CompleteMultipartUploadResult")),
                &v,
                req,
            ))
        }
        other => Err(not_implemented(other)),
    }
}

pub(super) fn part_args(req: &S3Request) -> Result<(i64, String), AwsError> {
    let num = req
        .query
        .get("partNumber")
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| {
            AwsError::client(
                "InvalidArgument",
                "Part number must be an integer between 1 and 10000, inclusive",
            )
        })?;
    Ok((num, req.query.get("uploadId").cloned().unwrap_or_default()))
}
