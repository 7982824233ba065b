//! ListObjects and ListObjectsV2: prefix, delimiter, markers and continuation tokens, max-keys,
//! `encoding-type=url`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cairn_store::objects::ListQuery;
use cairn_wire::AwsError;

use super::acl;
use super::{S3Result, iso, objects_error};
use crate::app::App;
use crate::s3::wire::xml::{Doc, encode_key};
use crate::s3::{S3Request, S3Response};

pub(super) fn list_objects(app: &App, req: &S3Request) -> S3Result {
    let q = &req.query;
    let v2 = q.get("list-type").map(String::as_str) == Some("2");
    let url = q.get("encoding-type").map(String::as_str) == Some("url");
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
