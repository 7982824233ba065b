//! Building HTTP responses with AWS's headers.

use bytes::Bytes;
use cairn_wire::{AwsError, Protocol};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;

fn with_common_headers(
    mut resp: Response<Full<Bytes>>,
    content_type: &'static str,
    request_id: &str,
) -> Response<Full<Bytes>> {
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    // Smithy RPC v2 CBOR answers say so, errors included.
    if content_type == Protocol::RpcV2Cbor.content_type() {
        h.insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v.clone());
        h.insert("x-amz-request-id", v);
    }
    resp
}

pub fn error_response(e: &AwsError, protocol: Protocol, request_id: &str) -> Response<Full<Bytes>> {
    let r = e.render(protocol, request_id);
    let mut resp = Response::new(Full::new(Bytes::from(r.body)));
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    with_common_headers(resp, r.content_type, request_id)
}

pub fn json_response(body: Vec<u8>, protocol: Protocol, request_id: &str) -> Response<Full<Bytes>> {
    let resp = Response::new(Full::new(Bytes::from(body)));
    with_common_headers(resp, protocol.content_type(), request_id)
}
