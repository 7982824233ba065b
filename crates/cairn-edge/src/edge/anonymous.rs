//! Unsigned S3 requests: S3's anonymous caller.
//!
//! A request with no trace of a signature, in S3's protocol (see `auth::authenticate_headers`),
//! is offered to S3 on its head alone (on a quick worker: a bucket read by name, and when a
//! body follows, the call's authorization): S3 admits it when it addresses a bucket (whose
//! owner's account gets its record), and, when a body follows, only if the call would be
//! allowed, so that no unauthenticated body is read for a call that will be refused. An
//! admitted call's body is read under the budget for unverified bytes, then served like any
//! other call, as `Principal::Anonymous`; a refused one is served without its body, recorded as
//! refused, and its connection closed.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use cairn_wire::Protocol;
use cairn_wire::sigv4::SigV4Error;
use http::Response;
use http_body_util::Full;
use hyper::body::Incoming;

use super::auth::Authenticated;
use super::{Edge, body, call_of, closing, conn, error_response};
use crate::pipeline::{Admission, WireRequest};
use crate::recorder::Arrival;

/// Serves an unsigned request as S3's anonymous caller, or refuses it as unsigned.
pub(super) async fn serve(
    edge: &Edge,
    parts: http::request::Parts,
    incoming: Incoming,
    peer: SocketAddr,
    tls: Option<&conn::Negotiated>,
    arrived: std::time::Instant,
) -> Response<Full<Bytes>> {
    let app = Arc::clone(&edge.app);
    let authed = Authenticated::anonymous();
    let Some(service) = app.registry.get(&authed.service).cloned() else {
        let e = SigV4Error::Missing.to_aws_error(Protocol::RestXml, None);
        let id = cairn_model::ids::new_uuid();
        return closing(error_response(&e, Protocol::RestXml, &id));
    };
    // A refusal on the head has no body read; an admitted call's body is read below.
    let arrival = Arrival {
        at: arrived,
        body_read: None,
    };
    let mut call = call_of(
        &authed,
        &parts,
        peer,
        tls,
        service.new_request_id(),
        arrival,
    );
    let request = |authed: &Authenticated| WireRequest {
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        raw_query: parts.uri.query().map(str::to_owned),
        headers: parts.headers.clone(),
        auth: authed.clone(),
        streamed: None,
    };
    let body_follows = body::declared_length(&parts.headers).is_some_and(|n| n > 0)
        || parts.headers.contains_key(http::header::TRANSFER_ENCODING);
    let judged = {
        let (worker_app, service, call, head) = (
            Arc::clone(&app),
            Arc::clone(&service),
            call.clone(),
            request(&authed),
        );
        // S3 reads its stores to find the bucket: never on the reactor.
        app.quick
            .run(move || service.admit_anonymous(&worker_app, &call, &head, body_follows))
            .await
    };
    match judged {
        Some(Admission::Admitted { account, region }) => {
            call.account = Some(account);
            call.region = region;
        }
        Some(Admission::Refused {
            account,
            region,
            refusal,
        }) => {
            call.account = Some(account);
            call.region = region;
            call.refused = Some(refusal);
            let req = request(&Authenticated {
                region: call.region.clone(),
                ..authed
            });
            // Its body is never read: the connection goes with the answer.
            return closing(service.serve(app, call, req, Bytes::new()).await);
        }
        // A body that was not read must not be taken for the next request.
        Some(Admission::Answered(resp)) if body_follows => return closing(resp),
        Some(Admission::Answered(resp)) => return resp,
        None => {
            let e = cairn_wire::AwsError::internal("the operation failed unexpectedly");
            return closing(error_response(&e, Protocol::RestXml, &call.request_id));
        }
    }
    // Nobody vouches for these bytes: they are held within the budget for unverified ones.
    let mut hold = edge.unverified.hold();
    let read = body::read(
        incoming,
        &parts.headers,
        edge.limits.max_s3_body_bytes,
        edge.limits.body_silence_timeout,
        Some(&mut hold),
    )
    .await;
    let payload = match read {
        Ok(b) => b,
        Err(e) => {
            let resp = error_response(&e.to_aws_error(), Protocol::RestXml, &call.request_id);
            return closing(resp);
        }
    };
    drop(hold);
    call.arrival.body_read = Some(std::time::Instant::now());
    let req = request(&Authenticated {
        region: call.region.clone(),
        ..authed
    });
    service.serve(app, call, req, payload).await
}
