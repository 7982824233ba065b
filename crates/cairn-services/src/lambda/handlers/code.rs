//! A function's deployment package, from the request: `ZipFile` (base64 in the JSON body), or
//! `S3Bucket`/`S3Key`/`S3ObjectVersion`, fetched through S3's API on the caller's behalf
//! (`invokedBy lambda.amazonaws.com`, so the caller's S3 permissions decide, as on AWS), and
//! its `CodeSha256` (base64 SHA-256) and `CodeSize`.

use base64::Engine;
use cairn_functions::ExecError;
use cairn_wire::AwsError;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{invalid, str_member};
use crate::app::App;
use crate::pipeline::Durability;
use crate::pipeline::internal::{Actor, Internal};
use crate::recorder::CallContext;

/// The service principal Lambda acts as.
pub(crate) const LAMBDA: &str = "lambda.amazonaws.com";

/// A deployment package and its digest.
pub(super) struct Package {
    pub zip: Vec<u8>,
    pub sha256: String,
    pub size: i64,
}

impl Package {
    fn of(zip: Vec<u8>) -> Result<Package, AwsError> {
        // A zip starts with a local file header, or is empty (its end record alone).
        if !(zip.starts_with(b"PK\x03\x04") || zip.starts_with(b"PK\x05\x06")) {
            return Err(invalid(
                "Could not unzip uploaded file. Please check your file, then try to upload again.",
            ));
        }
        let sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&zip));
        let size = i64::try_from(zip.len()).unwrap_or(i64::MAX);
        Ok(Package { zip, sha256, size })
    }
}

/// The package a request carries (`Code` for CreateFunction, the members themselves for
/// UpdateFunctionCode); `None` when it names none.
pub(super) fn package(
    app: &App,
    ctx: &CallContext,
    code: &Value,
) -> Result<Option<Package>, AwsError> {
    if let Some(z) = str_member(code, "ZipFile") {
        let zip = base64::engine::general_purpose::STANDARD
            .decode(z)
            .map_err(|_| invalid("Could not unzip uploaded file. Please check your file, then try to upload again."))?;
        return Package::of(zip).map(Some);
    }
    if str_member(code, "ImageUri").is_some() {
        return Err(invalid(
            "cairn does not support container image functions yet.",
        ));
    }
    let (Some(bucket), Some(key)) = (str_member(code, "S3Bucket"), str_member(code, "S3Key"))
    else {
        return Ok(None);
    };
    let mut query = serde_json::Map::new();
    if let Some(v) = str_member(code, "S3ObjectVersion") {
        query.insert("versionId".into(), json!(v));
    }
    let caller = Internal {
        actor: Actor::OnBehalf {
            principal: ctx.principal.clone(),
            by: LAMBDA,
        },
        account: ctx.recipient_account.clone(),
        region: ctx.region.clone(),
        source_arn: None,
        cause: ctx.request_id.clone(),
        durability: Durability::CoveredByCaller,
    };
    let s3_error = |e: AwsError| {
        invalid(format!(
            "Error occurred while GetObject. S3 Error Code: {}. S3 Error Message: {}",
            e.code, e.message
        ))
    };
    // The object's size first: a package can be no larger than its unzipped limit, and an
    // object of gigabytes must not be read into memory to find that out.
    let head = caller
        .call_json(
            app,
            "s3",
            "HeadObject",
            json!({"Bucket": bucket, "Key": key, "Query": query.clone()}),
        )
        .map_err(s3_error)?;
    let size = head
        .get("Headers")
        .and_then(|h| h.get("content-length"))
        .and_then(Value::as_str)
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    if size > cairn_functions::MAX_UNZIPPED_BYTES {
        return Err(invalid(format!(
            "Unzipped size must be smaller than {} bytes",
            cairn_functions::MAX_UNZIPPED_BYTES
        )));
    }
    let got = caller
        .call_json(
            app,
            "s3",
            "GetObject",
            json!({"Bucket": bucket, "Key": key, "Query": query}),
        )
        .map_err(s3_error)?;
    let body = got.get("Body").and_then(Value::as_str).unwrap_or_default();
    let zip = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| {
            invalid(
                "Could not unzip uploaded file. Please check your file, then try to upload again.",
            )
        })?;
    Package::of(zip).map(Some)
}

/// Hands a package to the executor at once, so that a zip it cannot unpack (not a zip, too
/// large unzipped) is refused now with AWS's message, as AWS refuses it at creation, and the
/// first invocation finds its code ready. Any other failure leaves it to the first invocation,
/// which installs the code again.
pub(super) fn install(app: &App, pkg: &Package) -> Result<(), AwsError> {
    match app.functions.install_code(&pkg.sha256, &pkg.zip) {
        Ok(()) => Ok(()),
        Err(ExecError::InvalidCode(message)) => Err(invalid(message)),
        Err(e) => {
            tracing::warn!(error = %e, "code not installed now; the first invocation will try again");
            Ok(())
        }
    }
}
