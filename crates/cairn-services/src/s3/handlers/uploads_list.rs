//! ListMultipartUploads: the uploads in progress in a bucket, with prefix, delimiter, key and
//! upload-id markers, `max-uploads` and `encoding-type=url`.

use cairn_store::objects::UploadsQuery;
use cairn_wire::AwsError;

use super::acl;
use super::{S3Result, iso, objects_error};
use crate::app::App;
use crate::s3::wire::xml::{Doc, encode_key};
use crate::s3::{S3Request, S3Response};

/// `max-uploads`: 0 to 2147483647, at most 1000 listed (the default).
fn max_uploads(req: &S3Request) -> Result<usize, AwsError> {
    match req.query.get("max-uploads") {
        None => Ok(1000),
        Some(m) => m
            .parse::<i32>()
            .ok()
            .filter(|m| *m >= 0)
            .map(|m| (m as usize).min(1000))
            .ok_or_else(|| {
                AwsError::client(
                    "InvalidArgument",
                    "Argument max-uploads must be an integer between 0 and 2147483647",
                )
                .with_extra("ArgumentName", "max-uploads")
                .with_extra("ArgumentValue", m.clone())
            }),
    }
}

pub(super) fn run(app: &App, req: &S3Request) -> S3Result {
    let q = &req.query;
    if let Some(e) = q.get("encoding-type").filter(|e| e.as_str() != "url") {
        return Err(AwsError::client(
            "InvalidArgument",
            format!("Invalid Encoding Method specified in Request ({e})"),
        ));
    }
    let url = q.contains_key("encoding-type");
    let max = max_uploads(req)?;
    let prefix = q.get("prefix").cloned().unwrap_or_default();
    let delimiter = q.get("delimiter").cloned().filter(|d| !d.is_empty());
    let key_marker = q.get("key-marker").cloned().unwrap_or_default();
    let id_marker = q.get("upload-id-marker").cloned().unwrap_or_default();
    let page = app
        .objects
        .list_uploads(&UploadsQuery {
            bucket: req.bucket().to_owned(),
            prefix: prefix.clone(),
            delimiter: delimiter.clone(),
            key_marker: Some(key_marker.clone()).filter(|k| !k.is_empty()),
            upload_id_marker: Some(id_marker.clone()).filter(|i| !i.is_empty()),
            max_uploads: max,
        })
        .map_err(|e| objects_error(e, req))?;
    let enc = |s: &str| if url { encode_key(s) } else { s.to_owned() };
    let mut d = Doc::new("ListMultipartUploadsResult");
    d.elem("Bucket", req.bucket())
        .elem("KeyMarker", &enc(&key_marker))
        .elem("UploadIdMarker", &id_marker)
        .elem(
            "NextKeyMarker",
            &enc(page.next_key_marker.as_deref().unwrap_or("")),
        )
        .elem(
            "NextUploadIdMarker",
            page.next_upload_id_marker.as_deref().unwrap_or(""),
        );
    if let Some(dl) = &delimiter {
        d.elem("Delimiter", &enc(dl));
    }
    d.elem("Prefix", &enc(&prefix))
        .elem("MaxUploads", &max.to_string())
        .elem("IsTruncated", if page.truncated { "true" } else { "false" });
    // The bucket's owner started every upload cairn keeps (S3 no longer answers DisplayName).
    let owner = acl::canonical_id(&req.account);
    for u in &page.uploads {
        d.open("Upload")
            .elem("Key", &enc(&u.key))
            .elem("UploadId", &u.upload_id)
            .open("Initiator")
            .elem("ID", &owner)
            .close("Initiator")
            .open("Owner")
            .elem("ID", &owner)
            .close("Owner")
            .elem("StorageClass", "STANDARD")
            .elem("Initiated", &iso(u.initiated_ms))
            .close("Upload");
    }
    for p in &page.common_prefixes {
        d.open("CommonPrefixes")
            .elem("Prefix", &enc(p))
            .close("CommonPrefixes");
    }
    if url {
        d.elem("EncodingType", "url");
    }
    Ok(S3Response::ok(d.finish("ListMultipartUploadsResult")))
}
