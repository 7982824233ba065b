//! CloudWatch Logs' codec: JSON 1.1 as every JSON service speaks it, except that a
//! PutLogEvents body is read straight into its events (timestamp, message) rather than into
//! a JSON document of up to 10,000 small objects, which was a third of the call's cost. A body
//! the typed reading does not take (a member missing or of the wrong type) is read as a
//! document, as before, so that the handler answers AWS's validation error for it.

use std::fmt;

use bytes::Bytes;
use cairn_store::logs::NewEvent;
use cairn_wire::{AwsError, Protocol};
use http::Response;
use http_body_util::Full;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::wire::TARGET_PREFIX;
use crate::pipeline::codec::json::JsonCodec;
use crate::pipeline::codec::{Answer, Codec, WireRequest};
use crate::pipeline::operation::Operation;
use crate::recorder::CallContext;

static JSON: JsonCodec = JsonCodec {
    protocol: Protocol::Json11,
    target_prefixes: &[TARGET_PREFIX],
};

/// A Logs call's input: the request document and, for a PutLogEvents read the fast way, its
/// events (then absent from the document).
pub struct LogsInput {
    pub doc: Value,
    pub events: Option<Vec<NewEvent>>,
}

impl LogsInput {
    fn document(doc: Value) -> LogsInput {
        LogsInput { doc, events: None }
    }
}

pub struct LogsCodec;

pub(super) static CODEC: LogsCodec = LogsCodec;

impl Codec for LogsCodec {
    type Routed = &'static Operation;
    type Input = LogsInput;
    type Output = Value;

    fn protocol(&self) -> Protocol {
        JSON.protocol
    }

    fn route(
        &self,
        ops: &'static [Operation],
        req: &WireRequest,
        body: &Bytes,
    ) -> Result<(&'static Operation, &'static Operation), AwsError> {
        JSON.route(ops, req, body).map(|(op, ())| (op, op))
    }

    fn parse(
        &self,
        op: &'static Operation,
        req: &WireRequest,
        body: Bytes,
        ctx: &CallContext,
    ) -> Result<LogsInput, AwsError> {
        if op.name == "PutLogEvents"
            && let Ok(PutLogEventsBody { doc, events }) = serde_json::from_slice(&body)
        {
            return Ok(LogsInput {
                doc: Value::Object(doc),
                events: Some(events),
            });
        }
        JSON.parse((), req, body, ctx).map(LogsInput::document)
    }

    fn encode(&self, op: &'static Operation, out: Value, answer: &Answer) -> Response<Full<Bytes>> {
        JSON.encode(op, out, answer)
    }

    fn error(&self, e: &AwsError, answer: &Answer) -> Response<Full<Bytes>> {
        JSON.error(e, answer)
    }

    fn input_of_json(
        &self,
        _op: &'static Operation,
        _ctx: &CallContext,
        input: Value,
    ) -> Option<LogsInput> {
        Some(LogsInput::document(input))
    }

    fn json_of_output(&self, output: Value) -> Option<Value> {
        Some(output)
    }
}

/// A PutLogEvents body: `logEvents` as events, every other member as JSON.
struct PutLogEventsBody {
    doc: Map<String, Value>,
    events: Vec<NewEvent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEvent {
    timestamp: i64,
    message: String,
}

impl<'de> Deserialize<'de> for PutLogEventsBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = PutLogEventsBody;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a PutLogEvents request")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<PutLogEventsBody, A::Error> {
                let mut doc = Map::new();
                let mut events = None;
                while let Some(key) = m.next_key::<String>()? {
                    if key == "logEvents" {
                        if events.is_some() {
                            return Err(de::Error::duplicate_field("logEvents"));
                        }
                        let list: Vec<WireEvent> = m.next_value()?;
                        events = Some(
                            list.into_iter()
                                .map(|e| NewEvent {
                                    timestamp: e.timestamp,
                                    message: e.message,
                                })
                                .collect(),
                        );
                    } else {
                        doc.insert(key, m.next_value()?);
                    }
                }
                let events = events.ok_or_else(|| de::Error::missing_field("logEvents"))?;
                Ok(PutLogEventsBody { doc, events })
            }
        }
        d.deserialize_map(Members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str) -> Option<PutLogEventsBody> {
        serde_json::from_str(body).ok()
    }

    #[test]
    fn events_are_read_typed_and_the_rest_as_a_document() {
        let b = read(
            r#"{"logGroupName":"g","logEvents":[{"timestamp":5,"message":"a\"b"},{"message":"c","timestamp":6}],"logStreamName":"s"}"#,
        )
        .unwrap();
        assert_eq!(
            b.doc,
            *serde_json::json!({"logGroupName": "g", "logStreamName": "s"})
                .as_object()
                .unwrap()
        );
        assert_eq!(
            b.events,
            [
                NewEvent {
                    timestamp: 5,
                    message: "a\"b".into()
                },
                NewEvent {
                    timestamp: 6,
                    message: "c".into()
                }
            ]
        );
    }

    #[test]
    fn what_the_typed_reading_refuses_goes_the_document_way() {
        // Each of these gets AWS's validation error from the handler, which reads the document.
        for body in [
            r#"{"logGroupName":"g","logStreamName":"s"}"#,
            r#"{"logEvents":[{"timestamp":5}]}"#,
            r#"{"logEvents":[{"timestamp":"5","message":"m"}]}"#,
            r#"{"logEvents":[{"timestamp":5,"message":7}]}"#,
            r#"{"logEvents":{"timestamp":5}}"#,
            r#"{"logEvents":[],"logEvents":[]}"#,
            r#"[1]"#,
        ] {
            assert!(read(body).is_none(), "{body}");
        }
    }
}
