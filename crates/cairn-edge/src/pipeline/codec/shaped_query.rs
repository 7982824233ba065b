//! The query protocol for a service whose handlers speak the JSON document model
//! (CloudWatch): routing and the XML envelope are [`QueryCodec`]'s, and the service's declared
//! [`Shape`]s turn the form into the handler's document and its answer into XML
//! ([`super::query_document`]). Errors are query errors (`<ErrorResponse>`, `Sender` or
//! `Receiver`) with the code and status the handler gave.

use bytes::Bytes;
use cairn_wire::{AwsError, Protocol};
use http::Response;
use http_body_util::Full;
use serde_json::Value;

use super::form::Form;
use super::query::{QueryCodec, envelope};
use super::query_document::{FormError, document_of_form, xml_of_document};
use super::shape::{Shape, output_of};
use super::{Answer, Codec, WireRequest};
use crate::edge::respond::json_response;
use crate::pipeline::operation::Operation;
use crate::recorder::CallContext;

/// A service's query protocol over the document model.
pub struct ShapedQueryCodec {
    pub query: QueryCodec,
    /// Each operation's input shape (one not listed is read by the protocol's conventions).
    pub inputs: &'static [(&'static str, &'static Shape)],
    /// Each operation's output shape. An operation not listed has no output in the model, so
    /// its answer has no `<{Op}Result>` unless its handler gives members anyway.
    pub outputs: &'static [(&'static str, &'static Shape)],
}

impl From<FormError> for AwsError {
    fn from(e: FormError) -> AwsError {
        AwsError::client("InvalidParameterValue", e.to_string())
    }
}

impl Codec for ShapedQueryCodec {
    /// The operation's name (its input shape's key) and its form.
    type Routed = (&'static str, Form);
    type Input = Value;
    type Output = Value;

    fn protocol(&self) -> Protocol {
        self.query.protocol()
    }

    fn route(
        &self,
        ops: &'static [Operation],
        req: &WireRequest,
        body: &Bytes,
    ) -> Result<(&'static Operation, (&'static str, Form)), AwsError> {
        let (op, form) = self.query.route(ops, req, body)?;
        Ok((op, (op.name, form)))
    }

    fn parse(
        &self,
        (op, form): (&'static str, Form),
        _req: &WireRequest,
        _body: Bytes,
        _ctx: &CallContext,
    ) -> Result<Value, AwsError> {
        Ok(document_of_form(&form, output_of(self.inputs, op))?)
    }

    fn encode(&self, op: &'static Operation, out: Value, answer: &Answer) -> Response<Full<Bytes>> {
        let listed = self.outputs.iter().any(|(n, _)| *n == op.name);
        let empty = out.as_object().is_none_or(|m| m.is_empty());
        let result =
            (listed || !empty).then(|| xml_of_document(&out, output_of(self.outputs, op.name)));
        let body = envelope(
            self.query.xmlns,
            op.name,
            result.as_deref(),
            &answer.request_id,
        );
        json_response(body.into_bytes(), self.protocol(), &answer.request_id)
    }

    fn error(&self, e: &AwsError, answer: &Answer) -> Response<Full<Bytes>> {
        self.query.error(e, answer)
    }
}

/// Whether a request speaks the query protocol: a form body, or `Action=` in its query string.
pub fn speaks_query(req: &WireRequest) -> bool {
    req.header("content-type")
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
        || req
            .raw_query
            .as_deref()
            .is_some_and(|q| q.split('&').any(|p| p.starts_with("Action=")))
}
