//! Codecs: how a protocol names an operation, carries its input and shapes its answers. They
//! sit beside the pipeline; a service picks one (JSON 1.0/1.1, query, REST-JSON, Smithy RPC v2
//! CBOR, or [`multi`] for several at once) or brings its own (S3's REST-XML routes by method,
//! path and sub-resource).
//!
//! JSON, REST-JSON and CBOR share one document model, `serde_json::Value` as botocore's JSON
//! serializer would send it (blobs base64, timestamps epoch seconds), so one service's
//! handlers can be reached over any of them.

pub mod cbor;
#[cfg(test)]
mod fixtures;
pub mod form;
pub mod json;
pub mod multi;
pub mod query;
pub mod query_document;
pub mod rest_json;
pub mod shape;
pub mod shaped_query;
#[cfg(test)]
pub(crate) mod testing;

use bytes::Bytes;
use cairn_wire::{AwsError, Protocol};
use http::Response;
use http_body_util::Full;

use super::operation::Operation;
use crate::edge::auth::Authenticated;
use crate::recorder::CallContext;

/// An authenticated request, as codecs see it.
pub struct WireRequest {
    pub method: http::Method,
    /// The path as sent (percent-encoded).
    pub path: String,
    pub raw_query: Option<String>,
    pub headers: http::HeaderMap,
    /// Who signed it, and how.
    pub auth: Authenticated,
    /// Its body, when it flows through the call instead of being read first (then the body
    /// the codec is given is empty; see [`crate::Service::streams_body`]).
    pub streamed: Option<std::sync::Arc<crate::edge::stream::StreamedBody>>,
}

impl WireRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What an answer needs besides its content.
pub struct Answer {
    pub request_id: String,
    /// A HEAD request: the answer has headers only.
    pub head: bool,
    /// The protocol the request came in, so that its answer (an error too) goes out in it.
    pub protocol: Protocol,
}

/// A protocol.
pub trait Codec: Send + Sync + 'static {
    /// What routing learned that parsing needs.
    type Routed: Send + 'static;
    type Input: Send + Sync + 'static;
    type Output: Send + 'static;

    /// The protocol errors and refusals are shaped in.
    fn protocol(&self) -> Protocol;

    /// The protocol this request speaks (a codec of several protocols tells them apart by the
    /// request; the others always speak theirs).
    fn protocol_of(&self, _req: &WireRequest) -> Protocol {
        self.protocol()
    }

    /// The operation a request names. Requests naming none are answered and not recorded.
    fn route(
        &self,
        ops: &'static [Operation],
        req: &WireRequest,
        body: &Bytes,
    ) -> Result<(&'static Operation, Self::Routed), AwsError>;

    /// The operation's input (off the reactor: it may hash or decode a large body). A failure
    /// here is the call's answer, and it is recorded.
    fn parse(
        &self,
        routed: Self::Routed,
        req: &WireRequest,
        body: Bytes,
        ctx: &CallContext,
    ) -> Result<Self::Input, AwsError>;

    fn encode(
        &self,
        op: &'static Operation,
        out: Self::Output,
        answer: &Answer,
    ) -> Response<Full<Bytes>>;

    fn error(&self, e: &AwsError, answer: &Answer) -> Response<Full<Bytes>>;

    /// An internal call's input, given as JSON: the document itself for the JSON-model codecs
    /// (JSON, REST-JSON, CBOR), the flat parameters for query, a request description for S3.
    /// `None`: this codec takes no internal calls.
    fn input_of_json(
        &self,
        _op: &'static Operation,
        _ctx: &CallContext,
        _input: serde_json::Value,
    ) -> Option<Self::Input> {
        None
    }

    /// An internal call's output, as JSON (see each codec for its shape).
    fn json_of_output(&self, _output: Self::Output) -> Option<serde_json::Value> {
        None
    }
}
