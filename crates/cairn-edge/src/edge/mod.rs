//! The edge: one HTTP port for every AWS service cairn speaks.
//!
//! For each request: authenticate what its headers claim before reading its body, read the
//! body within limits, finish checking a signature that covers the body, then hand the call
//! to the service registered under the credential scope's service name, and the pipeline
//! (`crate::pipeline`) routes, authorizes, runs and records it. Requests that fail
//! authentication are answered in the error shape of the protocol the client speaks and are
//! not recorded (there is no one to attribute them to). A request with no signature at all,
//! in S3's protocol, is S3's anonymous caller's (`anonymous`).

mod anonymous;
pub mod auth;
pub mod body;
pub mod conn;
pub mod limits;
pub mod respond;
pub mod stream;
pub mod web;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use cairn_wire::sigv4::RequestParts;
use cairn_wire::{AwsError, Protocol};
use http::{HeaderValue, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::app::App;
pub use crate::pipeline::Call;
use crate::pipeline::WireRequest;
use crate::recorder::Arrival;
pub use limits::Limits;
pub use respond::error_response;

/// The endpoint: the application behind it (with the services it serves), and the limits it
/// keeps callers within.
pub struct Edge {
    pub app: Arc<App>,
    pub limits: Limits,
    /// `cairn serve --test-clock` and `--test-faults` (loopback listeners only).
    pub tests: crate::admin::TestControls,
    /// Bytes of bodies read before their signature could be checked, across connections.
    unverified: Arc<limits::ByteBudget>,
    /// Pages for browsers (the console), offered every unsigned request first.
    web: Option<Arc<dyn web::WebFront>>,
}

impl Edge {
    pub fn new(app: Arc<App>, limits: Limits) -> Arc<Edge> {
        Edge::with_tests(app, limits, crate::admin::TestControls::default())
    }

    pub fn with_tests(
        app: Arc<App>,
        limits: Limits,
        tests: crate::admin::TestControls,
    ) -> Arc<Edge> {
        let unverified = limits::ByteBudget::new(limits.unverified_body_budget);
        Arc::new(Edge {
            app,
            limits,
            tests,
            unverified,
            web: None,
        })
    }

    /// The same edge, serving `front`'s pages to browsers beside the APIs.
    pub fn with_web(self: Arc<Self>, front: Arc<dyn web::WebFront>) -> Arc<Edge> {
        let edge = Arc::try_unwrap(self).unwrap_or_else(|shared| Edge {
            app: Arc::clone(&shared.app),
            limits: shared.limits.clone(),
            tests: shared.tests.clone(),
            unverified: Arc::clone(&shared.unverified),
            web: shared.web.clone(),
        });
        Arc::new(Edge {
            web: Some(front),
            ..edge
        })
    }
}

/// Accepts connections until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    edge: Arc<Edge>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let max = edge.limits.max_connections;
    conn::accept_loop(listener, max, shutdown, move |stream, peer, permit| {
        let edge = Arc::clone(&edge);
        async move {
            let io = conn::WriteDeadline::new(stream, edge.limits.write_timeout);
            serve_connection(edge, io, peer, None).await;
            drop(permit);
        }
    })
    .await;
}

/// Accepts connections until `shutdown` resolves, speaking HTTPS with `tls`. A client gets as
/// long to finish its TLS handshake as to send its request headers.
pub async fn serve_tls(
    listener: TcpListener,
    edge: Arc<Edge>,
    tls: Arc<tokio_rustls::rustls::ServerConfig>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let max = edge.limits.max_connections;
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    conn::accept_loop(listener, max, shutdown, move |stream, peer, permit| {
        let edge = Arc::clone(&edge);
        let acceptor = acceptor.clone();
        async move {
            let io = conn::WriteDeadline::new(stream, edge.limits.write_timeout);
            let handshake = tokio::time::timeout(edge.limits.header_timeout, acceptor.accept(io));
            match handshake.await {
                Ok(Ok(tls_stream)) => {
                    let tls = conn::negotiated(tls_stream.get_ref().1);
                    serve_connection(edge, tls_stream, peer, tls).await
                }
                Ok(Err(e)) => tracing::debug!(error = %e, %peer, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
            drop(permit);
        }
    })
    .await;
}

/// Serves HTTP/1.1 on one accepted (and, for HTTPS, decrypted) stream.
pub async fn serve_connection<S>(
    edge: Arc<Edge>,
    io: S,
    peer: SocketAddr,
    tls: Option<conn::Negotiated>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let header_timeout = edge.limits.header_timeout;
    let tls = tls.map(Arc::new);
    let svc = service_fn(move |req| {
        let edge = Arc::clone(&edge);
        let tls = tls.clone();
        async move { Ok::<_, Infallible>(handle(&edge, req, peer, tls.as_deref()).await) }
    });
    // The header timeout also ends idle keep-alive connections: hyper starts it whenever
    // it waits for the next request.
    if let Err(e) = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(io), svc)
        .await
    {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// An answer after which the connection is closed, so that an unread body is never read.
fn closing(mut resp: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    resp.headers_mut()
        .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// Serves one request: authenticate what the headers claim, read the body (bounded, and
/// budgeted while its signature is unchecked), finish authentication, route, run, record.
pub async fn handle(
    edge: &Edge,
    req: Request<Incoming>,
    peer: SocketAddr,
    tls: Option<&conn::Negotiated>,
) -> Response<Full<Bytes>> {
    let app = Arc::clone(&edge.app);
    let arrived = std::time::Instant::now();
    let request_id = cairn_model::ids::new_uuid();
    let (parts, body) = req.into_parts();
    let raw_query = parts.uri.query().map(str::to_owned);
    let rp = RequestParts {
        method: parts.method.as_str(),
        raw_path: parts.uri.path(),
        raw_query: raw_query.as_deref(),
        headers: &parts.headers,
    };
    if let Some(front) = &edge.web
        && !web::is_signed(&parts.headers, raw_query.as_deref())
        && front.claims(parts.uri.path())
    {
        let body = match body::read(
            body,
            &parts.headers,
            edge.limits.max_api_body_bytes,
            edge.limits.body_silence_timeout,
            None,
        )
        .await
        {
            Ok(b) => b,
            Err(_) => {
                let mut resp = Response::new(Full::new(Bytes::from_static(b"Bad request body")));
                *resp.status_mut() = http::StatusCode::BAD_REQUEST;
                return closing(resp);
            }
        };
        let peer = web::WebPeer {
            addr: peer,
            https: tls.is_some(),
        };
        return front.serve(Request::from_parts(parts, body), peer).await;
    }
    if let Some(resp) = public_answer(&app, &rp).await {
        return resp;
    }
    let pending = match auth::authenticate_headers(&app, &rp) {
        Ok(p) => p,
        Err((e, protocol)) => return closing(error_response(&e, protocol, &request_id)),
    };
    if pending.is_anonymous() {
        return anonymous::serve(edge, parts, body, peer, tls, arrived).await;
    }
    if let Some(service) = edge.app.registry.get(&pending.service)
        && let Some(length) = body::declared_length(&parts.headers)
        && service.streams_body(&rp)
    {
        let service = Arc::clone(service);
        let at = Peer {
            addr: peer,
            tls,
            arrived,
        };
        return serve_streamed(edge, service, pending, &parts, body, length, at).await;
    }
    let limit = match pending.service.as_str() {
        "s3" => edge.limits.max_s3_body_bytes,
        "logs" => edge.limits.max_logs_body_bytes,
        "lambda" => edge.limits.max_lambda_body_bytes,
        _ => edge.limits.max_api_body_bytes,
    };
    let mut hold = (!pending.is_verified()).then(|| edge.unverified.hold());
    let body = match body::read(
        body,
        &parts.headers,
        limit,
        edge.limits.body_silence_timeout,
        hold.as_mut(),
    )
    .await
    {
        Ok(b) => b,
        Err(e) => {
            let resp = error_response(&e.to_aws_error(), pending.protocol, &request_id);
            return closing(resp);
        }
    };
    let authed = match auth::finish(&app, pending, &rp, &body) {
        Ok(a) => a,
        Err((e, protocol)) => return error_response(&e, protocol, &request_id),
    };
    drop(hold);
    if let Some(akid) = authed.principal.access_key_id() {
        app.identity.note_key_used(
            akid,
            app.clock.now_millis(),
            &authed.service,
            &authed.region,
        );
    }
    // The body is read: what follows is the call's own time.
    let arrival = Arrival {
        at: arrived,
        body_read: Some(std::time::Instant::now()),
    };
    if authed.service == crate::admin::SIGNING_NAME {
        let call = call_of(&authed, &parts, peer, tls, request_id, arrival);
        let tests = edge.tests.clone();
        return crate::admin::serve(app, call, &parts.headers, body, tests).await;
    }
    let Some(service) = edge.app.registry.get(&authed.service) else {
        let other = &authed.service;
        let e = AwsError::new(
            501,
            "NotImplemented",
            format!(
                "cairn does not implement the AWS service '{other}' (credential scope service '{other}')."
            ),
        );
        return error_response(&e, Protocol::of_request(other, &parts.headers), &request_id);
    };
    let service = Arc::clone(service);
    let call = call_of(
        &authed,
        &parts,
        peer,
        tls,
        service.new_request_id(),
        arrival,
    );
    let req = WireRequest {
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        raw_query,
        headers: parts.headers,
        auth: authed,
        streamed: None,
    };
    service.serve(app, call, req, body).await
}

/// Where a request came from.
struct Peer<'a> {
    addr: SocketAddr,
    tls: Option<&'a conn::Negotiated>,
    arrived: std::time::Instant,
}

/// Serves a call whose body flows through it (`Service::streams_body`): the call runs as the
/// principal the key claims while the body is read and hashed beside it; the signature is
/// checked at the body's end, before its last piece is handed on (see [`stream`]).
async fn serve_streamed(
    edge: &Edge,
    service: Arc<dyn crate::pipeline::registry::Endpoint>,
    pending: auth::Pending,
    parts: &http::request::Parts,
    body: Incoming,
    length: u64,
    peer: Peer<'_>,
) -> Response<Full<Bytes>> {
    let app = Arc::clone(&edge.app);
    let raw_query = parts.uri.query().map(str::to_owned);
    let (claimed, check) = match auth::claim(&app, pending) {
        Ok(c) => c,
        Err((e, protocol)) => {
            let id = cairn_model::ids::new_uuid();
            return closing(error_response(&e, protocol, &id));
        }
    };
    let (streamed, tx) = stream::StreamedBody::new(length);
    // The body is read while the call runs: when it ended is not known here.
    let arrival = Arrival {
        at: peer.arrived,
        body_read: None,
    };
    let call = call_of(
        &claimed,
        parts,
        peer.addr,
        peer.tls,
        service.new_request_id(),
        arrival,
    );
    let akid = claimed.principal.access_key_id().map(str::to_owned);
    let (service_name, region) = (claimed.service.clone(), claimed.region.clone());
    let req = WireRequest {
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        raw_query: raw_query.clone(),
        headers: parts.headers.clone(),
        auth: claimed,
        streamed: Some(streamed),
    };
    let rp = RequestParts {
        method: parts.method.as_str(),
        raw_path: parts.uri.path(),
        raw_query: raw_query.as_deref(),
        headers: &parts.headers,
    };
    let verify = |hash: &str| {
        if let Some(check) = &check {
            check.verify(&rp, hash)?;
        }
        if let Some(akid) = &akid {
            let now = app.clock.now_millis();
            app.identity
                .note_key_used(akid, now, &service_name, &region);
        }
        Ok(())
    };
    let limit = edge.limits.max_streamed_body_bytes;
    let pumped = stream::pump(
        body,
        tx,
        length,
        limit,
        edge.limits.body_silence_timeout,
        verify,
    );
    let (resp, whole) = tokio::join!(
        service.serve(Arc::clone(&app), call, req, Bytes::new()),
        pumped
    );
    if whole { resp } else { closing(resp) }
}

/// The answer of a public route (`PublicRoute`) to a GET that carries no signature at all;
/// signed requests always go through authentication.
async fn public_answer(app: &Arc<App>, rp: &RequestParts<'_>) -> Option<Response<Full<Bytes>>> {
    let query = rp.raw_query.unwrap_or("");
    let method = match rp.method {
        "GET" => http::Method::GET,
        "OPTIONS" => http::Method::OPTIONS,
        _ => return None,
    };
    // A CORS preflight is never signed, even when it is for a presigned URL: it carries the
    // URL's query (signature included) but is the browser's question, not the call.
    let signed = rp.headers.contains_key(http::header::AUTHORIZATION)
        || (method != http::Method::OPTIONS
            && (query.contains("X-Amz-Signature") || query.contains("Signature=")));
    if signed || app.registry.public().is_empty() {
        return None;
    }
    let (app, path, query, headers) = (
        Arc::clone(app),
        rp.raw_path.to_owned(),
        rp.raw_query.map(str::to_owned),
        rp.headers.clone(),
    );
    tokio::task::spawn_blocking(move || {
        let request = crate::pipeline::registry::PublicRequest {
            method: &method,
            path: &path,
            query: query.as_deref(),
            headers: &headers,
        };
        app.registry
            .public()
            .iter()
            .find_map(|r| r.answer(&app, &request))
    })
    .await
    .ok()
    .flatten()
}

/// What the pipeline needs to know about who called, from where.
fn call_of(
    authed: &auth::Authenticated,
    parts: &http::request::Parts,
    peer: SocketAddr,
    tls: Option<&conn::Negotiated>,
    request_id: String,
    arrival: Arrival,
) -> Call {
    Call {
        arrival,
        principal: authed.principal.clone(),
        account: None,
        refused: None,
        region: authed.region.clone(),
        source_ip: peer.ip().to_string(),
        user_agent: parts
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        request_id,
        tls: tls.map(|t| cairn_model::TlsDetails {
            tls_version: t.version.to_owned(),
            cipher_suite: t.cipher_suite.to_owned(),
            client_provided_host_header: parts
                .headers
                .get(http::header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
        }),
    }
}
