//! The S3 browser, for reading what trails deliver: buckets, folders by prefix, a log file's
//! records shown decompressed, a digest file with its validation status, downloads. Every
//! listing and read is the person's own S3 call.

use std::io::Read;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Me, error_of, with};
use crate::render::{attachment, page};
use crate::{Shared, digest_check, s3_calls};

/// How much of a decompressed log file the page reads (AWS's files stay far below this).
const MAX_LOG_BYTES: u64 = 64 << 20;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Where {
    prefix: String,
    token: String,
    key: String,
}

/// GET /console/s3
pub async fn buckets(me: Me, State(shared): State<Arc<Shared>>) -> Response {
    let frame = me.frame(&shared, "S3 buckets", "s3");
    let ctx = match me
        .caller
        .call_wire(&shared, "s3", s3_calls::list_buckets(&shared.region))
        .await
    {
        Ok(a) => {
            let xml = String::from_utf8_lossy(&a.body);
            let buckets: Vec<Value> = xml
                .split("<Bucket>")
                .skip(1)
                .map(|b| {
                    json!({
                        "name": s3_calls::xml_values(b, "Name").into_iter().next(),
                        "created": s3_calls::xml_values(b, "CreationDate").into_iter().next(),
                    })
                })
                .collect();
            json!({"buckets": buckets})
        }
        Err(e) => json!({"buckets": [], "error": error_of(&e)}),
    };
    page(&shared.templates, "s3_buckets.html", with(frame, ctx))
}

/// The folders above `prefix`, for the breadcrumb.
fn crumbs(prefix: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut at = String::new();
    for part in prefix.split('/').filter(|p| !p.is_empty()) {
        at.push_str(part);
        at.push('/');
        out.push(json!({"name": part, "prefix": at}));
    }
    out
}

/// GET /console/s3/buckets/{bucket}?prefix=
pub async fn list(
    me: Me,
    State(shared): State<Arc<Shared>>,
    Path(bucket): Path<String>,
    Query(w): Query<Where>,
) -> Response {
    let frame = me.frame(&shared, &bucket, "s3");
    let token = Some(w.token.as_str()).filter(|t| !t.is_empty());
    let call = s3_calls::list_level(&bucket, &shared.region, &w.prefix, token);
    let base = json!({"bucket": bucket, "prefix": w.prefix, "crumbs": crumbs(&w.prefix)});
    let ctx = match me.caller.call_wire(&shared, "s3", call).await {
        Ok(a) => {
            let xml = String::from_utf8_lossy(&a.body);
            let folders: Vec<Value> = xml
                .split("<CommonPrefixes>")
                .skip(1)
                .filter_map(|c| s3_calls::xml_values(c, "Prefix").into_iter().next())
                .map(|p| {
                    let name = p.strip_prefix(&w.prefix).unwrap_or(&p).to_owned();
                    json!({"prefix": p, "name": name})
                })
                .collect();
            let objects: Vec<Value> = xml
                .split("<Contents>")
                .skip(1)
                .filter_map(|c| {
                    let key = s3_calls::xml_values(c, "Key").into_iter().next()?;
                    let first = |t: &str| s3_calls::xml_values(c, t).into_iter().next();
                    Some(json!({
                        "name": key.strip_prefix(&w.prefix).unwrap_or(&key),
                        "key": key,
                        "size": first("Size"),
                        "modified": first("LastModified"),
                    }))
                })
                .collect();
            let next = s3_calls::xml_values(&xml, "NextContinuationToken")
                .into_iter()
                .next();
            json!({"folders": folders, "objects": objects, "next": next})
        }
        Err(e) => json!({"folders": [], "objects": [], "error": error_of(&e)}),
    };
    page(
        &shared.templates,
        "s3_list.html",
        with(with(frame, base), ctx),
    )
}

/// A delivery file's records, decompressed (gzip) and parsed.
fn records_of(body: &[u8]) -> Result<Vec<Value>, String> {
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(body)
        .take(MAX_LOG_BYTES)
        .read_to_end(&mut text)
        .map_err(|e| format!("The file is not gzip: {e}"))?;
    let v: Value =
        serde_json::from_slice(&text).map_err(|e| format!("The file is not JSON: {e}"))?;
    match v.get("Records") {
        Some(Value::Array(r)) => Ok(r.clone()),
        _ => Err("The file has no Records list.".into()),
    }
}

fn gunzip_json(body: &[u8]) -> Result<Value, String> {
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(body)
        .take(MAX_LOG_BYTES)
        .read_to_end(&mut text)
        .map_err(|e| format!("The file is not gzip: {e}"))?;
    serde_json::from_slice(&text).map_err(|e| format!("The file is not JSON: {e}"))
}

/// GET /console/s3/object/{bucket}?key=
pub async fn object(
    me: Me,
    State(shared): State<Arc<Shared>>,
    Path(bucket): Path<String>,
    Query(w): Query<Where>,
) -> Response {
    let key = w.key;
    let name = key.rsplit('/').next().unwrap_or(&key).to_owned();
    let frame = me.frame(&shared, &name, "s3");
    let folder = key.rfind('/').map(|i| &key[..=i]).unwrap_or("");
    let base = json!({"bucket": bucket, "key": key, "name": name, "folder": folder, "crumbs": crumbs(folder)});
    let fetched = me
        .caller
        .call_wire(
            &shared,
            "s3",
            s3_calls::get_object(&bucket, &shared.region, &key),
        )
        .await;
    let answer = match fetched {
        Ok(a) => a,
        Err(e) => {
            return page(
                &shared.templates,
                "s3_object.html",
                with(with(frame, base), json!({"error": error_of(&e)})),
            );
        }
    };
    let size = answer.body.len();
    let is_digest = key.contains("/CloudTrail-Digest/");
    let ctx = if is_digest {
        match gunzip_json(&answer.body) {
            Ok(digest) => {
                let status = {
                    let (shared2, internal) = (Arc::clone(&shared), me.caller.internal(&shared));
                    let (bucket, key, digest) = (bucket.clone(), key.clone(), digest.clone());
                    tokio::task::spawn_blocking(move || {
                        digest_check::check(&shared2, internal, &bucket, &key, &digest)
                    })
                    .await
                    .unwrap_or_else(|e| Err(e.to_string()))
                };
                let (status, status_error) = match status {
                    Ok(s) => (Some(s), None),
                    Err(e) => (None, Some(e)),
                };
                json!({
                    "kind": "digest",
                    "text": serde_json::to_string_pretty(&digest).unwrap_or_default(),
                    "status": status,
                    "status_error": status_error,
                })
            }
            Err(e) => json!({"kind": "other", "problem": e}),
        }
    } else if key.ends_with(".json.gz") {
        match records_of(&answer.body) {
            Ok(records) => {
                let rows: Vec<Value> = records
                    .iter()
                    .map(|r| {
                        json!({
                            "time": r.get("eventTime"),
                            "name": r.get("eventName"),
                            "source": r.get("eventSource"),
                            "id": r.get("eventID"),
                            "user": r.pointer("/userIdentity/userName")
                                .or_else(|| r.pointer("/userIdentity/arn"))
                                .or_else(|| r.pointer("/userIdentity/invokedBy")),
                            "json": serde_json::to_string_pretty(r).unwrap_or_default(),
                        })
                    })
                    .collect();
                json!({"kind": "log", "records": rows})
            }
            Err(e) => json!({"kind": "other", "problem": e}),
        }
    } else {
        json!({"kind": "other"})
    };
    page(
        &shared.templates,
        "s3_object.html",
        with(
            with(frame, base),
            with(
                ctx,
                json!({"size": size, "content_type": answer.header("content-type")}),
            ),
        ),
    )
}

/// GET /console/s3/download/{bucket}?key=
pub async fn download(
    me: Me,
    State(shared): State<Arc<Shared>>,
    Path(bucket): Path<String>,
    Query(w): Query<Where>,
) -> Response {
    match me
        .caller
        .call_wire(
            &shared,
            "s3",
            s3_calls::get_object(&bucket, &shared.region, &w.key),
        )
        .await
    {
        Ok(a) => {
            let name: String = w
                .key
                .rsplit('/')
                .next()
                .unwrap_or("object")
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
                .collect();
            attachment("application/octet-stream", &name, a.body.to_vec())
        }
        Err(e) => {
            let frame = me.frame(&shared, "Download", "s3");
            page(
                &shared.templates,
                "s3_object.html",
                with(
                    frame,
                    json!({"error": error_of(&e), "bucket": bucket, "key": w.key}),
                ),
            )
        }
    }
}
