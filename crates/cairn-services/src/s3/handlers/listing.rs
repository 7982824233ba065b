//! ListObjects, ListObjectsV2 and ListObjectVersions: prefix, delimiter, markers and
//! continuation tokens, max-keys, `encoding-type=url`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cairn_store::objects::{ListQuery, VersionsQuery};
use cairn_wire::AwsError;

use super::acl;
use super::{S3Result, iso, objects_error};
use crate::app::App;
use crate::s3::wire::xml::{Doc, encode_key};
use crate::s3::{S3Request, S3Response};

/// `encoding-type` (only `url`) and `max-keys` (0–1000, default 1000), as every listing takes them.
fn encoding_and_max_keys(req: &S3Request) -> Result<(bool, usize), AwsError> {
    let q = &req.query;
    if let Some(e) = q.get("encoding-type").filter(|e| e.as_str() != "url") {
        return Err(AwsError::client(
            "InvalidArgument",
            format!("Invalid Encoding Method specified in Request ({e})"),
        ));
    }
    let max_keys = match q.get("max-keys") {
        None => 1000,
        Some(m) => m
            .parse::<i64>()
            .ok()
            .filter(|m| *m >= 0)
            .ok_or_else(|| {
                AwsError::client(
                    "InvalidArgument",
                    "Provided max-keys not an integer or within integer range",
                )
            })?
            .min(1000) as usize,
    };
    Ok((q.contains_key("encoding-type"), max_keys))
}

pub(super) fn list_objects(app: &App, req: &S3Request) -> S3Result {
    let q = &req.query;
    let v2 = q.get("list-type").map(String::as_str) == Some("2");
    let (url, max_keys) = encoding_and_max_keys(req)?;
    let prefix = q.get("prefix").cloned().unwrap_or_default();
    let delimiter = q.get("delimiter").cloned().filter(|d| !d.is_empty());
    let token = q.get("continuation-token").cloned();
    let after = if v2 {
        match &token {
            Some(t) => Some(
                STANDARD
                    .decode(t)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| {
                        AwsError::client(
                            "InvalidArgument",
                            "The continuation token provided is incorrect",
                        )
                    })?,
            ),
            None => q.get("start-after").cloned(),
        }
    } else {
        q.get("marker").cloned()
    };
    let page = app
        .objects
        .list(&ListQuery {
            bucket: req.bucket().to_owned(),
            prefix: prefix.clone(),
            delimiter: delimiter.clone(),
            after: after.clone(),
            max_keys,
        })
        .map_err(|e| objects_error(e, req))?;
    let enc = |s: &str| if url { encode_key(s) } else { s.to_owned() };
    let mut d = Doc::new("ListBucketResult");
    d.elem("Name", req.bucket()).elem("Prefix", &enc(&prefix));
    if v2 {
        d.elem(
            "KeyCount",
            &(page.contents.len() + page.common_prefixes.len()).to_string(),
        );
        if let Some(t) = &token {
            d.elem("ContinuationToken", t);
        }
        if let Some(sa) = q.get("start-after") {
            d.elem("StartAfter", &enc(sa));
        }
    } else {
        d.elem("Marker", &enc(after.as_deref().unwrap_or("")));
    }
    d.elem("MaxKeys", &max_keys.to_string());
    if let Some(dl) = &delimiter {
        d.elem("Delimiter", &enc(dl));
    }
    if url {
        d.elem("EncodingType", "url");
    }
    d.elem("IsTruncated", if page.truncated { "true" } else { "false" });
    if page.truncated
        && let Some(next) = &page.next_after
    {
        if v2 {
            d.elem("NextContinuationToken", &STANDARD.encode(next.as_bytes()));
        } else if delimiter.is_some() {
            d.elem("NextMarker", &enc(next));
        }
    }
    let owner = acl::canonical_id(&req.account);
    for o in &page.contents {
        d.open("Contents")
            .elem("Key", &enc(&o.key))
            .elem("LastModified", &iso(o.created_ms))
            .elem("ETag", &o.etag)
            .elem("Size", &o.size.to_string());
        if !v2 || q.get("fetch-owner").map(String::as_str) == Some("true") {
            d.open("Owner").elem("ID", &owner).close("Owner");
        }
        d.elem("StorageClass", "STANDARD").close("Contents");
    }
    for p in &page.common_prefixes {
        d.open("CommonPrefixes")
            .elem("Prefix", &enc(p))
            .close("CommonPrefixes");
    }
    Ok(S3Response::ok(d.finish("ListBucketResult")))
}

/// ListObjectVersions: every version and delete marker, key order, newest first within a key.
pub(super) fn list_versions(app: &App, req: &S3Request) -> S3Result {
    let q = &req.query;
    let (url, max_keys) = encoding_and_max_keys(req)?;
    let prefix = q.get("prefix").cloned().unwrap_or_default();
    let delimiter = q.get("delimiter").cloned().filter(|d| !d.is_empty());
    let key_marker = q.get("key-marker").cloned().filter(|k| !k.is_empty());
    let version_marker = q
        .get("version-id-marker")
        .cloned()
        .filter(|v| !v.is_empty());
    if version_marker.is_some() && key_marker.is_none() {
        return Err(AwsError::client(
            "InvalidArgument",
            "A version-id marker cannot be specified without a key marker.",
        ));
    }
    // cairn's version ids: `null`, or 32 hexadecimal digits.
    if version_marker.as_deref().is_some_and(|v| {
        v != "null" && !(v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
    }) {
        return Err(AwsError::client(
            "InvalidArgument",
            "Invalid version id specified",
        ));
    }
    let page = app
        .objects
        .list_versions(&VersionsQuery {
            bucket: req.bucket().to_owned(),
            prefix: prefix.clone(),
            delimiter: delimiter.clone(),
            key_marker: key_marker.clone(),
            version_marker: version_marker.clone(),
            max_keys,
        })
        .map_err(|e| objects_error(e, req))?;
    let enc = |s: &str| if url { encode_key(s) } else { s.to_owned() };
    let mut d = Doc::new("ListVersionsResult");
    d.elem("Name", req.bucket())
        .elem("Prefix", &enc(&prefix))
        .elem("KeyMarker", &enc(key_marker.as_deref().unwrap_or("")))
        .elem("VersionIdMarker", version_marker.as_deref().unwrap_or(""));
    if page.truncated {
        if let Some(k) = &page.next_key_marker {
            d.elem("NextKeyMarker", &enc(k));
        }
        if let Some(v) = &page.next_version_marker {
            d.elem("NextVersionIdMarker", v);
        }
    }
    d.elem("MaxKeys", &max_keys.to_string());
    if let Some(dl) = &delimiter {
        d.elem("Delimiter", &enc(dl));
    }
    if url {
        d.elem("EncodingType", "url");
    }
    d.elem("IsTruncated", if page.truncated { "true" } else { "false" });
    let owner = acl::canonical_id(&req.account);
    for v in &page.versions {
        let tag = if v.delete_marker {
            "DeleteMarker"
        } else {
            "Version"
        };
        d.open(tag)
            .elem("Key", &enc(&v.key))
            .elem("VersionId", &v.version_id)
            .elem("IsLatest", if v.is_latest { "true" } else { "false" })
            .elem("LastModified", &iso(v.created_ms));
        if !v.delete_marker {
            d.elem("ETag", &v.etag)
                .elem("Size", &v.size.to_string())
                .elem("StorageClass", "STANDARD");
        }
        d.open("Owner").elem("ID", &owner).close("Owner").close(tag);
    }
    for p in &page.common_prefixes {
        d.open("CommonPrefixes")
            .elem("Prefix", &enc(p))
            .close("CommonPrefixes");
    }
    Ok(S3Response::ok(d.finish("ListVersionsResult")))
}
