//! AWS JSON 1.0 and 1.1: the operation is named by `X-Amz-Target: {prefix}{Operation}`, the
//! input is a JSON object, answers are JSON.

use bytes::Bytes;
use cairn_wire::{AwsError, Protocol};
use http::{HeaderMap, Response};
use http_body_util::Full;
use serde_json::Value;

use super::{Answer, Codec, WireRequest};
use crate::edge::respond::{error_response, json_response};
use crate::pipeline::operation::{Operation, find};
use crate::recorder::CallContext;

/// A JSON protocol and the `X-Amz-Target` prefixes its operations are named with.
pub struct JsonCodec {
    pub protocol: Protocol,
    pub target_prefixes: &'static [&'static str],
}

/// The operation a JSON request names in `X-Amz-Target` (empty when it names none).
pub fn target_of(headers: &HeaderMap) -> &str {
    headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

impl Codec for JsonCodec {
    type Routed = ();
    type Input = Value;
    type Output = Value;

    fn protocol(&self) -> Protocol {
        self.protocol
    }

    fn route(
        &self,
        ops: &'static [Operation],
        req: &WireRequest,
        _body: &Bytes,
    ) -> Result<(&'static Operation, ()), AwsError> {
        let target = target_of(&req.headers);
        self.target_prefixes
            .iter()
            .find_map(|p| target.strip_prefix(p))
            .and_then(|name| find(ops, name))
            .map(|op| (op, ()))
            .ok_or_else(|| AwsError::client("UnknownOperationException", ""))
    }

    fn parse(
        &self,
        _routed: (),
        _req: &WireRequest,
        body: Bytes,
        _ctx: &CallContext,
    ) -> Result<Value, AwsError> {
        if body.is_empty() {
            return Ok(Value::Object(Default::default()));
        }
        let v: Value = serde_json::from_slice(&body).map_err(|e| {
            AwsError::client(
                "SerializationException",
                format!("The request body is not valid JSON: {e}"),
            )
        })?;
        if !v.is_object() {
            return Err(AwsError::client(
                "SerializationException",
                "Start of structure or map found where not expected.",
            ));
        }
        Ok(v)
    }

    fn encode(
        &self,
        _op: &'static Operation,
        out: Value,
        answer: &Answer,
    ) -> Response<Full<Bytes>> {
        let bytes = serde_json::to_vec(&out).unwrap_or_else(|_| b"{}".to_vec());
        json_response(bytes, self.protocol, &answer.request_id)
    }

    fn error(&self, e: &AwsError, answer: &Answer) -> Response<Full<Bytes>> {
        error_response(e, self.protocol, &answer.request_id)
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
