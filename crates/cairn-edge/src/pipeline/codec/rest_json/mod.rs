//! REST-JSON (Lambda, CloudTrail Data): the operation is found by HTTP method and URI template
//! ([`route`]), and its input is spread over path labels, the query string, headers and a JSON
//! body or a raw payload ([`bind`]); the handler sees one JSON document merging them all,
//! under the member names the model gives. Answers are JSON (or a raw payload) with the
//! model's status and header-bound members; errors are JSON naming their type in
//! `X-Amzn-ErrorType`, which botocore's REST-JSON parser reads first.
//!
//! Each service declares its routes (one static table, from its model); the codec knows no
//! service. Not bound yet, as no service needs them: timestamps in headers or query strings,
//! header maps (`location: headers`), and event streams.

pub mod bind;
pub mod route;

use bytes::Bytes;
use cairn_wire::{AwsError, Protocol};
use http::{HeaderName, HeaderValue, Response};
use http_body_util::Full;
use serde_json::Value;

use super::{Answer, Codec, WireRequest};
use crate::edge::respond::{error_response, json_response};
use crate::pipeline::operation::{Operation, find};
use crate::recorder::CallContext;
use route::{Matched, Route};

/// The REST-JSON protocol of one service: its routes.
pub struct RestJsonCodec {
    pub routes: &'static [Route],
}

/// What routing found, for parsing.
pub struct Routed {
    matched: Matched,
    query: Vec<(String, String)>,
}

impl Codec for RestJsonCodec {
    type Routed = Routed;
    type Input = Value;
    type Output = Value;

    fn protocol(&self) -> Protocol {
        Protocol::RestJson
    }

    fn route(
        &self,
        ops: &'static [Operation],
        req: &WireRequest,
        _body: &Bytes,
    ) -> Result<(&'static Operation, Routed), AwsError> {
        let query = route::query_pairs(req.raw_query.as_deref());
        let unknown = || AwsError::new(404, "UnknownOperationException", "");
        let matched =
            route::find(self.routes, req.method.as_str(), &req.path, &query).ok_or_else(unknown)?;
        let op = find(ops, matched.route.op).ok_or_else(unknown)?;
        Ok((op, Routed { matched, query }))
    }

    fn parse(
        &self,
        routed: Routed,
        req: &WireRequest,
        body: Bytes,
        _ctx: &CallContext,
    ) -> Result<Value, AwsError> {
        bind::input(&routed.matched, &routed.query, &req.headers, &body)
    }

    fn encode(&self, op: &'static Operation, out: Value, answer: &Answer) -> Response<Full<Bytes>> {
        let Some(route) = self.routes.iter().find(|r| r.op == op.name) else {
            let e = AwsError::internal(format!("{} has no route", op.name));
            return self.error(&e, answer);
        };
        let parts = bind::output(route, out);
        let mut resp = json_response(parts.body, Protocol::RestJson, &answer.request_id);
        *resp.status_mut() =
            http::StatusCode::from_u16(parts.status).unwrap_or(http::StatusCode::OK);
        let h = resp.headers_mut();
        if parts.raw {
            h.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
        }
        for (name, value) in parts.headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                h.insert(n, v);
            }
        }
        resp
    }

    fn error(&self, e: &AwsError, answer: &Answer) -> Response<Full<Bytes>> {
        let mut resp = error_response(e, Protocol::RestJson, &answer.request_id);
        if let Ok(v) = HeaderValue::from_str(&e.code) {
            resp.headers_mut().insert("x-amzn-errortype", v);
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

#[cfg(test)]
mod tests;
