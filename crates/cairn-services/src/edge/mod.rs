//! The edge: one HTTP port for every AWS service cairn speaks.
//!
//! For each request: read it, authenticate its SigV4 signature, route it by the credential
//! scope's service (and `X-Amz-Target`), run the service front, make the call's record durable,
//! and only then answer. Requests that fail authentication are answered in the error shape of
//! the protocol the client speaks and are not recorded (there is no one to attribute them to).

pub mod auth;
pub mod json;
pub mod query;
pub mod respond;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use cairn_wire::sigv4::RequestParts;
use cairn_wire::{AwsError, Protocol};
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::app::App;
pub use json::Call;
pub use respond::error_response;

/// Accepts connections until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => return,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let app = Arc::clone(&app);
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let app = Arc::clone(&app);
                async move { Ok::<_, Infallible>(handle(app, req, peer).await) }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc)
                .await
            {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}

/// Serves one request.
pub async fn handle(
    app: Arc<App>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let request_id = cairn_model::ids::new_uuid();
    let (parts, body) = req.into_parts();
    let raw_query = parts.uri.query().map(str::to_owned);
    let proto_guess = Protocol::sniff(&parts.headers, raw_query.as_deref());
    let body = match Limited::new(body, app.max_body_bytes).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let e = AwsError::new(
                413,
                "RequestEntityTooLarge",
                "The request body is too large.",
            );
            return error_response(&e, proto_guess, &request_id);
        }
    };
    let rp = RequestParts {
        method: parts.method.as_str(),
        raw_path: parts.uri.path(),
        raw_query: raw_query.as_deref(),
        headers: &parts.headers,
    };
    let authed = match auth::authenticate_request(&app, &rp, &body) {
        Ok(a) => a,
        Err((e, protocol)) => return error_response(&e, protocol, &request_id),
    };
    if let Some(akid) = authed.principal.access_key_id() {
        app.identity.note_key_used(
            akid,
            app.clock.now_millis(),
            &authed.service,
            &authed.region,
        );
    }
    let protocol = Protocol::of_service(&authed.service);
    // S3 request ids have their own shape (16 upper-case characters).
    let request_id = if authed.service == "s3" {
        crate::s3::new_request_id()
    } else {
        request_id
    };
    let call = Call {
        principal: authed.principal.clone(),
        region: authed.region.clone(),
        source_ip: peer.ip().to_string(),
        user_agent: parts
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        request_id: request_id.clone(),
    };
    match authed.service.as_str() {
        "cloudtrail" => {
            json::serve_json(app, call, &parts.headers, body, &crate::cloudtrail::Front).await
        }
        "kms" => json::serve_json(app, call, &parts.headers, body, &crate::kms::Front).await,
        "iam" => {
            query::serve_query(app, call, raw_query.as_deref(), body, &crate::iam::Front).await
        }
        "sts" => {
            query::serve_query(app, call, raw_query.as_deref(), body, &crate::sts::Front).await
        }
        "s3" => crate::s3::serve(app, call, &authed, &parts, body).await,
        other => {
            let e = AwsError::new(
                501,
                "NotImplemented",
                format!(
                    "cairn does not implement the AWS service '{other}' (credential scope service '{other}')."
                ),
            );
            error_response(&e, protocol, &request_id)
        }
    }
}
