//! A service that speaks several protocols (CloudWatch: Smithy RPC v2 CBOR and JSON 1.0 —
//! botocore and the AWS CLI resolve CloudWatch to JSON 1.0, since their priority puts `json`
//! before CBOR, while the SDKs for Java 2.x, Go, .NET, C++, Swift and Kotlin send CBOR). Each
//! request is answered, errors and refusals too,
//! in the protocol it came in, told apart by the request itself: `smithy-protocol:
//! rpc-v2-cbor` is CBOR, `X-Amz-Target` is JSON. Both decode to the same JSON document
//! model, so the service's handlers do not know which was used.
//!
//! The query protocol (CloudWatch's third) is not spoken here yet: it carries a flat form
//! (`MetricData.member.1.MetricName=…`) whose structure only the model knows, and turning it
//! into the document model needs the operation's input shapes. That comes with the CloudWatch
//! service; until then a form request is refused as naming no operation, in the service's
//! first protocol.

use bytes::Bytes;
use cairn_wire::protocol::speaks_rpc_v2_cbor;
use cairn_wire::{AwsError, Protocol};
use http::Response;
use http_body_util::Full;
use serde_json::Value;

use super::cbor::{CborCodec, add_query_error};
use super::json::JsonCodec;
use super::{Answer, Codec, WireRequest};
use crate::pipeline::operation::Operation;
use crate::recorder::CallContext;

/// RPC v2 CBOR and JSON for one service.
pub struct MultiCodec {
    pub cbor: CborCodec,
    pub json: JsonCodec,
}

impl MultiCodec {
    fn speaks_json(&self, p: Protocol) -> bool {
        p == self.json.protocol
    }
}

impl Codec for MultiCodec {
    /// The protocol the request was routed by.
    type Routed = Protocol;
    type Input = Value;
    type Output = Value;

    /// The first protocol the service lists (internal calls, and requests that speak none).
    fn protocol(&self) -> Protocol {
        Protocol::RpcV2Cbor
    }

    fn protocol_of(&self, req: &WireRequest) -> Protocol {
        if speaks_rpc_v2_cbor(&req.headers) {
            Protocol::RpcV2Cbor
        } else if req.headers.contains_key("x-amz-target") {
            self.json.protocol
        } else {
            self.protocol()
        }
    }

    fn route(
        &self,
        ops: &'static [Operation],
        req: &WireRequest,
        body: &Bytes,
    ) -> Result<(&'static Operation, Protocol), AwsError> {
        let p = self.protocol_of(req);
        if self.speaks_json(p) {
            self.json.route(ops, req, body).map(|(op, ())| (op, p))
        } else {
            self.cbor.route(ops, req, body).map(|(op, ())| (op, p))
        }
    }

    fn parse(
        &self,
        routed: Protocol,
        req: &WireRequest,
        body: Bytes,
        ctx: &CallContext,
    ) -> Result<Value, AwsError> {
        if self.speaks_json(routed) {
            self.json.parse((), req, body, ctx)
        } else {
            self.cbor.parse((), req, body, ctx)
        }
    }

    fn encode(&self, op: &'static Operation, out: Value, answer: &Answer) -> Response<Full<Bytes>> {
        if self.speaks_json(answer.protocol) {
            self.json.encode(op, out, answer)
        } else {
            self.cbor.encode(op, out, answer)
        }
    }

    fn error(&self, e: &AwsError, answer: &Answer) -> Response<Full<Bytes>> {
        if self.speaks_json(answer.protocol) {
            let mut resp = self.json.error(e, answer);
            if self.cbor.query_compatible {
                add_query_error(&mut resp, e);
            }
            resp
        } else {
            self.cbor.error(e, answer)
        }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;
    use crate::pipeline::codec::cbor::decode;
    use crate::pipeline::codec::shape::Shape;
    use crate::pipeline::codec::testing::{answer, body, context, request};

    static OUT: Shape = Shape::Structure(&[("StateUpdatedTimestamp", &Shape::Timestamp)]);
    static CODEC: MultiCodec = MultiCodec {
        cbor: CborCodec {
            service: "GraniteServiceVersion20100801",
            outputs: &[("DescribeAlarms", &OUT)],
            query_compatible: true,
        },
        json: JsonCodec {
            protocol: Protocol::Json10,
            target_prefixes: &["GraniteServiceVersion20100801."],
        },
    };

    fn ops() -> &'static [Operation] {
        static OPS: std::sync::OnceLock<Vec<Operation>> = std::sync::OnceLock::new();
        OPS.get_or_init(|| vec![Operation::named("cloudwatch", "DescribeAlarms", true, true)])
    }

    fn cbor() -> WireRequest {
        request(
            "POST",
            "/service/GraniteServiceVersion20100801/operation/DescribeAlarms",
            &[("smithy-protocol", "rpc-v2-cbor")],
        )
    }

    fn json() -> WireRequest {
        request(
            "POST",
            "/",
            &[
                (
                    "x-amz-target",
                    "GraniteServiceVersion20100801.DescribeAlarms",
                ),
                ("content-type", "application/x-amz-json-1.0"),
            ],
        )
    }

    /// Routes and parses a request: the protocol it was heard in and its input.
    fn hear(req: &WireRequest, body: &[u8]) -> Result<(Protocol, Value), AwsError> {
        let body = Bytes::copy_from_slice(body);
        let (op, routed) = CODEC.route(ops(), req, &body)?;
        assert_eq!(op.name, "DescribeAlarms");
        Ok((routed, CODEC.parse(routed, req, body, &context())?))
    }

    #[test]
    fn each_protocol_reaches_the_same_input() {
        // {"AlarmNames": ["a"], "MaxRecords": 10} in CBOR and in JSON.
        let mut cbor_body = vec![0xa2, 0x6a];
        cbor_body.extend(b"AlarmNames");
        cbor_body.extend([0x81, 0x61, b'a', 0x6a]);
        cbor_body.extend(b"MaxRecords");
        cbor_body.push(0x0a);
        let want = json!({"AlarmNames": ["a"], "MaxRecords": 10});
        assert_eq!(
            hear(&cbor(), &cbor_body).unwrap(),
            (Protocol::RpcV2Cbor, want.clone())
        );
        let json_body = want.to_string();
        assert_eq!(
            hear(&json(), json_body.as_bytes()).unwrap(),
            (Protocol::Json10, want)
        );
    }

    #[test]
    fn answers_go_out_in_the_protocol_the_request_came_in() {
        let op = &ops()[0];
        let out = json!({"MetricAlarms": [], "StateUpdatedTimestamp": 1_700_000_000});
        let (parts, b) = body(CODEC.encode(op, out.clone(), &answer(CODEC.protocol_of(&cbor()))));
        assert_eq!(parts.headers["content-type"], "application/cbor");
        assert_eq!(parts.headers["smithy-protocol"], "rpc-v2-cbor");
        assert_eq!(decode::value(&b).unwrap(), out);
        let (parts, b) = body(CODEC.encode(op, out.clone(), &answer(CODEC.protocol_of(&json()))));
        assert_eq!(parts.headers["content-type"], "application/x-amz-json-1.0");
        assert!(parts.headers.get("smithy-protocol").is_none());
        assert_eq!(serde_json::from_slice::<Value>(&b).unwrap(), out);
    }

    #[test]
    fn errors_go_out_in_the_protocol_the_request_came_in() {
        let e = AwsError::client("InvalidNextToken", "bad token");
        let (parts, b) = body(CODEC.error(&e, &answer(CODEC.protocol_of(&cbor()))));
        assert_eq!(parts.headers["content-type"], "application/cbor");
        assert_eq!(decode::value(&b).unwrap()["__type"], "InvalidNextToken");
        let (parts, b) = body(CODEC.error(&e, &answer(CODEC.protocol_of(&json()))));
        assert_eq!(parts.status, 400);
        assert_eq!(parts.headers["content-type"], "application/x-amz-json-1.0");
        assert_eq!(
            parts.headers["x-amzn-query-error"],
            "InvalidNextToken;Sender"
        );
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(
            v,
            json!({"__type": "InvalidNextToken", "message": "bad token"})
        );
        // Malformed bodies are refused in the request's own protocol.
        assert_eq!(
            hear(&cbor(), b"{}").unwrap_err().code,
            "SerializationException"
        );
        assert_eq!(
            hear(&json(), &[0xa0]).unwrap_err().code,
            "SerializationException"
        );
    }

    #[test]
    fn a_form_request_is_not_heard_yet() {
        let form = request(
            "POST",
            "/",
            &[("content-type", "application/x-www-form-urlencoded")],
        );
        assert_eq!(CODEC.protocol_of(&form), Protocol::RpcV2Cbor);
        let e = hear(&form, b"Action=DescribeAlarms&Version=2010-08-01").unwrap_err();
        assert_eq!((e.status, &*e.code), (404, "UnknownOperationException"));
    }
}
