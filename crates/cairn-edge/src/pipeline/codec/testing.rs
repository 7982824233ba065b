//! What codec tests share: requests as the edge would hand them over, and a call's context.

#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use cairn_model::{AccountId, Principal};
use http::Response;
use http_body_util::{BodyExt, Full};

use super::{Answer, WireRequest};
use crate::edge::auth::{AuthMethod, Authenticated};
use crate::recorder::CallContext;
use cairn_wire::Protocol;

fn root() -> Principal {
    Principal::Root {
        account: AccountId::parse("123456789012").unwrap(),
        access_key_id: "AKIDEXAMPLE".into(),
        alias: None,
        session: None,
    }
}

/// A signed request: method, path with its query string, and headers.
pub fn request(method: &str, path_and_query: &str, headers: &[(&str, &str)]) -> WireRequest {
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q.to_owned())),
        None => (path_and_query, None),
    };
    let mut map = http::HeaderMap::new();
    for (k, v) in headers {
        map.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            http::HeaderValue::from_str(v).unwrap(),
        );
    }
    WireRequest {
        method: method.parse().unwrap(),
        path: path.to_owned(),
        raw_query: query,
        headers: map,
        auth: Authenticated {
            principal: root(),
            service: "test".into(),
            region: "us-east-1".into(),
            method: AuthMethod::AuthHeader,
            signature_version: "SigV4",
            streaming: None,
        },
        streamed: None,
    }
}

pub fn context() -> CallContext {
    CallContext {
        principal: root(),
        recipient_account: "123456789012".into(),
        region: "us-east-1".into(),
        source_ip: "127.0.0.1".into(),
        user_agent: None,
        request_id: "rid".into(),
        tls: None,
        invoked_by: None,
        from_console: false,
        source_arn: None,
        arrival: None,
    }
}

pub fn answer(protocol: Protocol) -> Answer {
    Answer {
        request_id: "rid".into(),
        head: false,
        protocol,
    }
}

/// A response's body.
pub fn body(resp: Response<Full<Bytes>>) -> (http::response::Parts, Bytes) {
    let (parts, body) = resp.into_parts();
    let bytes = ready(body.collect()).unwrap().to_bytes();
    (parts, bytes)
}

/// `Full` is ready at once: one poll collects it.
fn ready<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}
