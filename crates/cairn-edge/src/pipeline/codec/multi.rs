//! A service that speaks several protocols (CloudWatch: Smithy RPC v2 CBOR, JSON 1.0 and
//! query — botocore and the AWS CLI resolve CloudWatch to JSON 1.0, since their priority puts
//! `json` before CBOR, while the SDKs for Java 2.x, Go, .NET, C++, Swift and Kotlin send CBOR,
//! and older SDKs and tools the query protocol). Each request is answered, errors and
//! refusals too, in the protocol it came in, told apart by the request itself:
//! `smithy-protocol: rpc-v2-cbor` is CBOR, `X-Amz-Target` is JSON, a form body (or `Action=`
//! in the query string) is query. All three decode to the same JSON document model, so the
//! service's handlers do not know which was used; query's flat form and XML answers are
//! typed and ordered by the shapes the service declares ([`ShapedQueryCodec`]).

use bytes::Bytes;
use cairn_wire::protocol::speaks_rpc_v2_cbor;
use cairn_wire::{AwsError, Protocol};
use http::Response;
use http_body_util::Full;
use serde_json::Value;

use super::cbor::{CborCodec, add_query_error};
use super::form::Form;
use super::json::JsonCodec;
use super::shaped_query::{ShapedQueryCodec, speaks_query};
use super::{Answer, Codec, WireRequest};
use crate::pipeline::operation::Operation;
use crate::recorder::CallContext;

/// RPC v2 CBOR, JSON and (when the service declares its shapes) query for one service.
pub struct MultiCodec {
    pub cbor: CborCodec,
    pub json: JsonCodec,
    pub query: Option<ShapedQueryCodec>,
}

/// How a request was heard.
pub enum Heard {
    /// A document protocol (CBOR or JSON): the body is still to be decoded.
    Document(Protocol),
    /// A query request: its operation's name and its form.
    Form(&'static str, Form),
}

impl MultiCodec {
    fn speaks_json(&self, p: Protocol) -> bool {
        p == self.json.protocol
    }

    /// The query codec, if `p` is its protocol.
    fn query_for(&self, p: Protocol) -> Option<&ShapedQueryCodec> {
        self.query.as_ref().filter(|q| q.protocol() == p)
    }
}

impl Codec for MultiCodec {
    type Routed = Heard;
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
        } else if let Some(q) = self.query.as_ref().filter(|_| speaks_query(req)) {
            q.protocol()
        } else {
            self.protocol()
        }
    }

    fn route(
        &self,
        ops: &'static [Operation],
        req: &WireRequest,
        body: &Bytes,
    ) -> Result<(&'static Operation, Heard), AwsError> {
        let p = self.protocol_of(req);
        if let Some(q) = self.query_for(p) {
            q.route(ops, req, body)
                .map(|(op, (name, form))| (op, Heard::Form(name, form)))
        } else if self.speaks_json(p) {
            self.json
                .route(ops, req, body)
                .map(|(op, ())| (op, Heard::Document(p)))
        } else {
            self.cbor
                .route(ops, req, body)
                .map(|(op, ())| (op, Heard::Document(p)))
        }
    }

    fn parse(
        &self,
        routed: Heard,
        req: &WireRequest,
        body: Bytes,
        ctx: &CallContext,
    ) -> Result<Value, AwsError> {
        match (routed, &self.query) {
            (Heard::Form(name, form), Some(q)) => q.parse((name, form), req, body, ctx),
            (Heard::Document(p), _) if self.speaks_json(p) => self.json.parse((), req, body, ctx),
            _ => self.cbor.parse((), req, body, ctx),
        }
    }

    fn encode(&self, op: &'static Operation, out: Value, answer: &Answer) -> Response<Full<Bytes>> {
        if let Some(q) = self.query_for(answer.protocol) {
            q.encode(op, out, answer)
        } else if self.speaks_json(answer.protocol) {
            self.json.encode(op, out, answer)
        } else {
            self.cbor.encode(op, out, answer)
        }
    }

    fn error(&self, e: &AwsError, answer: &Answer) -> Response<Full<Bytes>> {
        if let Some(q) = self.query_for(answer.protocol) {
            q.error(e, answer)
        } else if self.speaks_json(answer.protocol) {
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

    const XMLNS: &str = "http://monitoring.amazonaws.com/doc/2010-08-01/";
    static OUT: Shape = Shape::Structure(&[
        ("MetricAlarms", &Shape::List(&Shape::Plain)),
        ("StateUpdatedTimestamp", &Shape::Timestamp),
    ]);
    static IN: Shape = Shape::Structure(&[
        ("AlarmNames", &Shape::List(&Shape::Plain)),
        ("MaxRecords", &Shape::Integer),
    ]);
    static OUTPUTS: [(&str, &Shape); 1] = [("DescribeAlarms", &OUT)];
    static CODEC: MultiCodec = MultiCodec {
        cbor: CborCodec {
            service: "GraniteServiceVersion20100801",
            outputs: &OUTPUTS,
            query_compatible: true,
        },
        json: JsonCodec {
            protocol: Protocol::Json10,
            target_prefixes: &["GraniteServiceVersion20100801."],
        },
        query: Some(ShapedQueryCodec {
            query: crate::pipeline::codec::query::QueryCodec {
                version: "2010-08-01",
                xmlns: XMLNS,
            },
            inputs: &[("DescribeAlarms", &IN)],
            outputs: &OUTPUTS,
        }),
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

    fn form() -> WireRequest {
        request(
            "POST",
            "/",
            &[(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )],
        )
    }

    /// Routes and parses a request: the protocol it was heard in and its input.
    fn hear_by(
        codec: &MultiCodec,
        req: &WireRequest,
        body: &[u8],
    ) -> Result<(Protocol, Value), AwsError> {
        let body = Bytes::copy_from_slice(body);
        let (op, routed) = codec.route(ops(), req, &body)?;
        assert_eq!(op.name, "DescribeAlarms");
        let input = codec.parse(routed, req, body, &context())?;
        Ok((codec.protocol_of(req), input))
    }

    fn hear(req: &WireRequest, body: &[u8]) -> Result<(Protocol, Value), AwsError> {
        hear_by(&CODEC, req, body)
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
    fn a_form_request_is_heard_as_query_and_answered_in_xml() {
        let want = json!({"AlarmNames": ["a"], "MaxRecords": 10});
        let query = Protocol::Query { xmlns: XMLNS };
        assert_eq!(
            hear(
                &form(),
                b"Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.1=a&MaxRecords=10"
            )
            .unwrap(),
            (query, want.clone())
        );
        // `Action=` in the query string speaks query too (a GET, or a presigned URL).
        let get = request(
            "GET",
            "/?Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.1=a&MaxRecords=10",
            &[],
        );
        assert_eq!(hear(&get, b"").unwrap(), (query, want));

        let op = &ops()[0];
        let out = json!({"MetricAlarms": ["x"], "StateUpdatedTimestamp": 1_700_000_000});
        let (parts, b) = body(CODEC.encode(op, out, &answer(query)));
        assert_eq!(parts.headers["content-type"], "text/xml");
        assert_eq!(
            std::str::from_utf8(&b).unwrap(),
            format!(
                "<DescribeAlarmsResponse xmlns=\"{XMLNS}\">
  <DescribeAlarmsResult>
    <MetricAlarms>
      <member>x</member>
    </MetricAlarms>
    <StateUpdatedTimestamp>2023-11-14T22:13:20.000Z</StateUpdatedTimestamp>
  </DescribeAlarmsResult>
  <ResponseMetadata>
    <RequestId>rid</RequestId>
  </ResponseMetadata>
</DescribeAlarmsResponse>
"
            )
        );
    }

    #[test]
    fn query_errors_are_query_errors() {
        let e = AwsError::new(404, "ResourceNotFound", "no such alarm");
        let (parts, b) = body(CODEC.error(&e, &answer(CODEC.protocol_of(&form()))));
        assert_eq!(parts.status, 404);
        assert_eq!(parts.headers["content-type"], "text/xml");
        let text = std::str::from_utf8(&b).unwrap();
        assert!(text.contains("<Type>Sender</Type>"), "{text}");
        assert!(text.contains("<Code>ResourceNotFound</Code>"), "{text}");
        assert!(text.contains("<Message>no such alarm</Message>"), "{text}");
        // A value the input shape cannot hold, an unknown action and another API version are
        // refused in query too.
        let e = hear(&form(), b"Action=DescribeAlarms&MaxRecords=ten").unwrap_err();
        assert_eq!((e.status, &*e.code), (400, "InvalidParameterValue"));
        assert!(e.message.contains("MaxRecords"), "{}", e.message);
        let e = hear(&form(), b"Action=Nope&Version=2010-08-01").unwrap_err();
        assert_eq!(&*e.code, "InvalidAction");
        let e = hear(&form(), b"Action=DescribeAlarms&Version=2011-01-01").unwrap_err();
        assert_eq!(&*e.code, "InvalidAction");
    }

    #[test]
    fn without_query_shapes_a_form_request_is_not_heard() {
        static NO_QUERY: MultiCodec = MultiCodec {
            cbor: CborCodec {
                service: "GraniteServiceVersion20100801",
                outputs: &[],
                query_compatible: true,
            },
            json: JsonCodec {
                protocol: Protocol::Json10,
                target_prefixes: &["GraniteServiceVersion20100801."],
            },
            query: None,
        };
        assert_eq!(NO_QUERY.protocol_of(&form()), Protocol::RpcV2Cbor);
        let e = hear_by(
            &NO_QUERY,
            &form(),
            b"Action=DescribeAlarms&Version=2010-08-01",
        )
        .unwrap_err();
        assert_eq!((e.status, &*e.code), (404, "UnknownOperationException"));
    }
}
