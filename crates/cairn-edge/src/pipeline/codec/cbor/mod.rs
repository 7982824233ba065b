//! Smithy RPC v2 CBOR (`smithy-protocol: rpc-v2-cbor`; CloudWatch): `POST
//! /service/{ServiceName}/operation/{Operation}` with a CBOR map for a body, answered in CBOR
//! with the same header; errors are CBOR maps naming their `__type`, with the HTTP status
//! saying it is one. Input and output are the JSON document model the JSON codec uses
//! ([`decode`], [`encode`]), so the same handlers serve both.

pub mod decode;
pub mod encode;

use bytes::Bytes;
use cairn_wire::{AwsError, Protocol};
use http::{HeaderValue, Response};
use http_body_util::Full;
use serde_json::Value;

use super::shape::{Shape, output_of};
use super::{Answer, Codec, WireRequest};
use crate::edge::respond::{error_response, json_response};
use crate::pipeline::operation::{Operation, find};
use crate::recorder::CallContext;

/// The RPC v2 CBOR protocol of one service.
pub struct CborCodec {
    /// The service's name in request paths (botocore sends the model's `targetPrefix`,
    /// CloudWatch's `GraniteServiceVersion20100801`).
    pub service: &'static str,
    /// The output shapes holding timestamps or blobs, by operation.
    pub outputs: &'static [(&'static str, &'static Shape)],
    /// The service is `awsQueryCompatible`: its errors also name their query-protocol code in
    /// `x-amzn-query-error` (`{code};{Sender|Receiver}`), which botocore reports as the code.
    pub query_compatible: bool,
}

/// The operation an RPC v2 request path names, if it is one for `service`:
/// `…/service/{service}/operation/{Operation}` (a prefix is the endpoint's own path).
pub fn operation_in_path<'p>(path: &'p str, service: &str) -> Option<&'p str> {
    let mut tail = path.rsplitn(5, '/');
    let (op, operation, svc, word) = (tail.next()?, tail.next()?, tail.next()?, tail.next()?);
    (word == "service" && svc == service && operation == "operation" && !op.is_empty())
        .then_some(op)
}

/// An error for a body that does not decode, as Smithy protocols name it.
pub fn serialization_error(e: &decode::DecodeError) -> AwsError {
    AwsError::client("SerializationException", e.to_string())
}

impl Codec for CborCodec {
    type Routed = ();
    type Input = Value;
    type Output = Value;

    fn protocol(&self) -> Protocol {
        Protocol::RpcV2Cbor
    }

    fn route(
        &self,
        ops: &'static [Operation],
        req: &WireRequest,
        _body: &Bytes,
    ) -> Result<(&'static Operation, ()), AwsError> {
        // Smithy answers a request that names no operation of the service with 404.
        let unknown = || AwsError::new(404, "UnknownOperationException", "");
        if req.method != http::Method::POST {
            return Err(unknown());
        }
        let path = req.path.split('?').next().unwrap_or("");
        let op = operation_in_path(path, self.service).ok_or_else(unknown)?;
        find(ops, op).map(|op| (op, ())).ok_or_else(unknown)
    }

    fn parse(
        &self,
        _routed: (),
        _req: &WireRequest,
        body: Bytes,
        _ctx: &CallContext,
    ) -> Result<Value, AwsError> {
        decode::document(&body).map_err(|e| serialization_error(&e))
    }

    fn encode(&self, op: &'static Operation, out: Value, answer: &Answer) -> Response<Full<Bytes>> {
        let body = encode::document(&out, output_of(self.outputs, op.name));
        // The content type brings the `smithy-protocol` header (edge::respond).
        json_response(body, Protocol::RpcV2Cbor, &answer.request_id)
    }

    fn error(&self, e: &AwsError, answer: &Answer) -> Response<Full<Bytes>> {
        let mut resp = error_response(e, Protocol::RpcV2Cbor, &answer.request_id);
        if self.query_compatible {
            add_query_error(&mut resp, e);
        }
        resp
    }

    fn input_of_json(
        &self,
        _op: &'static Operation,
        _ctx: &CallContext,
        input: Value,
    ) -> Option<Value> {
        Some(input)
    }

    fn json_of_output(&self, output: Value) -> Option<Value> {
        Some(output)
    }
}

/// `x-amzn-query-error: {code};{Sender|Receiver}` for an `awsQueryCompatible` service.
pub fn add_query_error(resp: &mut Response<Full<Bytes>>, e: &AwsError) {
    let fault = if e.status < 500 { "Sender" } else { "Receiver" };
    if let Ok(v) = HeaderValue::from_str(&format!("{};{fault}", e.code)) {
        resp.headers_mut().insert("x-amzn-query-error", v);
    }
}

#[cfg(test)]
mod tests;
