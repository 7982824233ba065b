//! S3's CORS preflight: the unsigned `OPTIONS` a browser sends before a cross-origin request,
//! answered from the bucket's CORS rules (`cors.rs`) with S3's headers, or refused with S3's
//! 403 `AccessForbidden`. Preflights are not API calls: nothing is recorded.

use bytes::Bytes;
use cairn_store::objects::BucketConfig;
use cairn_wire::AwsError;
use http::Response;
use http_body_util::Full;

use super::S3Response;
use super::address;
use super::cors;
use super::wire::codec::{build_response, s3_error};
use crate::app::App;
use crate::pipeline::{PublicRequest, PublicRoute};

/// The preflight route the edge offers unsigned `OPTIONS` requests to.
pub struct Preflight;

fn forbidden(resource_type: &str, message: &str) -> AwsError {
    AwsError::new(403, "AccessForbidden", message.to_owned())
        .with_extra("Method", "OPTIONS")
        .with_extra("ResourceType", resource_type)
}

impl PublicRoute for Preflight {
    fn answer(&self, app: &App, request: &PublicRequest<'_>) -> Option<Response<Full<Bytes>>> {
        if request.method != http::Method::OPTIONS {
            return None;
        }
        let header = |n: &str| request.headers.get(n).and_then(|v| v.to_str().ok());
        let host = header("host").unwrap_or_default();
        let addr = address::resolve(host, request.path);
        let bucket = addr.bucket.as_deref()?;
        let request_id = super::wire::new_request_id();
        let answer = preflight(app, bucket, addr.key.is_some(), &header);
        Some(match answer {
            Ok(headers) => build_response(
                S3Response {
                    status: 200,
                    headers,
                    body: Vec::new(),
                },
                &request_id,
                false,
            ),
            Err(e) => s3_error(&e, &request_id, false),
        })
    }
}

fn preflight<'h>(
    app: &App,
    bucket: &str,
    on_object: bool,
    header: &dyn Fn(&str) -> Option<&'h str>,
) -> Result<Vec<(String, String)>, AwsError> {
    let resource_type = if on_object { "OBJECT" } else { "BUCKET" };
    let origin = header("origin").filter(|o| !o.is_empty()).ok_or_else(|| {
        AwsError::client(
            "BadRequest",
            "Insufficient information. Origin request header needed.",
        )
    })?;
    let method = header("access-control-request-method").ok_or_else(|| {
        AwsError::client("BadRequest", "Invalid Access-Control-Request-Method: null")
    })?;
    let b = app
        .objects
        .bucket(bucket)
        .map_err(|e| {
            tracing::error!(error = %e, "S3 store failure in a CORS preflight");
            AwsError::new(
                500,
                "InternalError",
                "We encountered an internal error. Please try again.",
            )
        })?
        .ok_or_else(|| {
            AwsError::new(404, "NoSuchBucket", "The specified bucket does not exist")
                .with_extra("BucketName", bucket)
        })?;
    let rules = match b.config(BucketConfig::Cors) {
        Some(doc) => cors::parse_rules(doc.as_bytes()).unwrap_or_default(),
        None => {
            return Err(forbidden(
                resource_type,
                "CORSResponse: CORS is not enabled for this bucket.",
            ));
        }
    };
    let headers = cors::requested_headers(header("access-control-request-headers"));
    let rule = cors::matching(&rules, origin, method, &headers).ok_or_else(|| {
        forbidden(
            resource_type,
            "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
        )
    })?;
    Ok(cors::response_headers(
        rule,
        origin,
        Some((method, &headers)),
    ))
}
