//! GetObjectAttributes: the attributes `x-amz-object-attributes` asks for (ETag, Checksum,
//! ObjectParts, StorageClass, ObjectSize) of the latest version or a given one, without its
//! body.

use cairn_wire::AwsError;

use super::{S3Result, http_date, objects_error};
use crate::app::App;
use crate::s3::wire::xml::Doc;
use crate::s3::{S3Request, S3Response};

/// The attributes S3 answers, in the order its documents list them.
const ATTRIBUTES: [&str; 5] = [
    "ETag",
    "Checksum",
    "ObjectParts",
    "StorageClass",
    "ObjectSize",
];

/// The attributes asked for (comma-separated, in one or several headers).
fn asked(req: &S3Request) -> Result<Vec<&'static str>, AwsError> {
    let mut wanted = Vec::new();
    for v in req.headers.get_all("x-amz-object-attributes") {
        let v = v.to_str().unwrap_or("");
        for name in v.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let known = ATTRIBUTES
                .iter()
                .find(|a| a.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    AwsError::client("InvalidArgument", "Invalid attribute name specified.")
                })?;
            wanted.push(*known);
        }
    }
    if wanted.is_empty() {
        return Err(AwsError::client(
            "InvalidArgument",
            "Must specify at least one object attribute",
        ));
    }
    Ok(wanted)
}

/// The checksum elements of an object's stored checksums (`:x-amz-checksum-<algo>`).
fn checksums(v: &cairn_store::objects::ObjectVersion) -> Vec<(String, String)> {
    v.metadata
        .iter()
        .filter_map(|(k, val)| {
            let algo = k.strip_prefix(":x-amz-checksum-")?;
            (algo != "type").then(|| {
                (
                    format!("Checksum{}", algo.to_ascii_uppercase()),
                    val.clone(),
                )
            })
        })
        .collect()
}

pub(super) fn run(app: &App, req: &S3Request) -> S3Result {
    let wanted = asked(req)?;
    let v = app
        .objects
        .head_object(
            req.bucket(),
            req.key(),
            req.query.get("versionId").map(String::as_str),
        )
        .map_err(|e| objects_error(e, req))?;
    let mut d = Doc::new("GetObjectAttributesOutput");
    for a in ATTRIBUTES.iter().filter(|a| wanted.contains(a)) {
        match *a {
            // Unquoted here, unlike every other answer's ETag.
            "ETag" => {
                d.elem("ETag", v.etag.trim_matches('"'));
            }
            "Checksum" => {
                let sums = checksums(&v);
                if !sums.is_empty() {
                    d.open("Checksum");
                    for (name, val) in &sums {
                        d.elem(name, val);
                    }
                    d.elem("ChecksumType", "FULL_OBJECT").close("Checksum");
                }
            }
            // Only a multipart object has parts: their count is in its ETag (`"…-N"`).
            "ObjectParts" => {
                if let Some(n) = v
                    .etag
                    .trim_matches('"')
                    .rsplit_once('-')
                    .and_then(|(_, n)| n.parse::<u64>().ok())
                {
                    d.open("ObjectParts")
                        .elem("PartsCount", &n.to_string())
                        .close("ObjectParts");
                }
            }
            "StorageClass" => {
                d.elem("StorageClass", "STANDARD");
            }
            _ => {
                d.elem("ObjectSize", &v.size.to_string());
            }
        }
    }
    let mut r = S3Response::ok(d.finish("GetObjectAttributesOutput"))
        .header("last-modified", http_date(v.created_ms));
    if v.version_id != "null" {
        r = r.header("x-amz-version-id", v.version_id.clone());
    }
    Ok(r)
}
