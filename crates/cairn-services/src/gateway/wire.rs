//! The gateway's codec: it names a call's operation the way the service's protocol does
//! (`X-Amz-Target` for JSON, `Action` for EC2 and query, method and URI template for REST),
//! keeps the request as sent for the upstream, reads its parameters for the record, and
//! answers with the upstream's answer unchanged but for the request id, which becomes cairn's
//! (the one in the record).

use std::sync::Arc;

use bytes::Bytes;
use cairn_wire::{AwsError, Protocol};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde_json::Value;

use super::model::{Model, WireProtocol};
use super::params::{self, Form, Side};
use super::rest::{self, RestRequest};
use crate::edge::respond::error_response;
use crate::edge::stream::StreamedBody;
use crate::pipeline::codec::json::target_of;
use crate::pipeline::codec::query::parse_form;
use crate::pipeline::codec::rest_json::route::{Route, find as find_route, query_pairs};
use crate::pipeline::operation::find;
use crate::pipeline::{Answer, Codec, Operation, WireRequest};
use crate::recorder::CallContext;

/// Request headers the upstream needs to read a JSON, EC2 or query call (everything else is
/// cairn's: the signature is made anew with the upstream's credentials).
const FORWARDED_HEADERS: &[&str] = &["content-type", "x-amz-target", "content-encoding"];

/// Request headers a REST call does not take to the upstream (REST services bind members to
/// any other header): the signature's, the connection's, the client's.
const REST_UNFORWARDED: &[&str] = &[
    "authorization",
    "host",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "expect",
    "user-agent",
    "x-amz-user-agent",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
];

/// How a request was routed: its operation, and what routing read on the way.
pub struct Routed {
    op: &'static str,
    /// An EC2 or query request's form.
    form: Option<Form>,
    /// A REST request's URI labels.
    labels: Vec<(&'static str, String)>,
}

/// Answer headers that describe the upstream's connection, not the answer.
const HOP_HEADERS: &[&str] = &[
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "date",
    "server",
    "x-amzn-requestid",
    "x-amz-request-id",
    "x-amz-id-2",
];

/// A call on its way to the upstream.
#[derive(Debug)]
pub struct Forward {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// The body, when it flows through the call instead (then `body` is empty).
    pub stream: Option<Arc<StreamedBody>>,
    /// The credential scope's region: the upstream is asked in the same region.
    pub region: String,
    /// The request's parameters as recorded (`None`: its body could not be read).
    pub params: Option<Value>,
}

/// The upstream's answer.
#[derive(Debug)]
pub struct UpstreamAnswer {
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body, read once as the protocol's document (checking the answer reads it; the
    /// record uses it).
    pub document: Document,
}

/// An answer's body as its protocol's document.
#[derive(Debug)]
pub enum Document {
    /// No body (JSON services may answer nothing), or a REST body left unread.
    None,
    Json(Value),
    Xml(params::Element),
}

pub struct GatewayCodec {
    pub model: Arc<Model>,
    pub wire: WireProtocol,
    /// How cairn's own answers (refusals, an unreachable upstream) are shaped.
    pub protocol: Protocol,
    /// A REST service's routes (none for the others).
    routes: &'static [Route],
}

impl GatewayCodec {
    pub fn new(model: Arc<Model>, xmlns: &'static str) -> GatewayCodec {
        let wire = model.protocol();
        let protocol = match &wire {
            WireProtocol::Json { version, .. } if version == "1.0" => Protocol::Json10,
            WireProtocol::Json { .. } => Protocol::Json11,
            WireProtocol::Ec2 => Protocol::Ec2,
            WireProtocol::Query => Protocol::Query { xmlns },
            WireProtocol::Rest(p) if p == "rest-xml" => Protocol::RestXml,
            WireProtocol::Rest(_) => Protocol::RestJson,
        };
        let routes = match &wire {
            WireProtocol::Rest(_) => rest::routes(&model),
            _ => &[],
        };
        GatewayCodec {
            model,
            wire,
            protocol,
            routes,
        }
    }

    /// Whether a request's body flows to the upstream as it arrives: a REST call whose body
    /// is one blob member (see [`rest::body_is_blob`]).
    pub fn streams(&self, method: &str, path: &str, raw_query: Option<&str>) -> bool {
        if !matches!(self.wire, WireProtocol::Rest(_)) {
            return false;
        }
        let query = query_pairs(raw_query);
        find_route(self.routes, method, path, &query)
            .is_some_and(|m| rest::body_is_blob(&self.model, m.route.op))
    }

    /// The form of an EC2 or query request: its query string, then its body.
    fn form(req: &WireRequest, body: &Bytes) -> Form {
        let mut form = parse_form(req.raw_query.as_deref().unwrap_or(""));
        let is_form = req
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
        if is_form {
            form.extend(parse_form(&String::from_utf8_lossy(body)));
        }
        form
    }
}

impl Codec for GatewayCodec {
    type Routed = Routed;
    type Input = Forward;
    type Output = UpstreamAnswer;

    fn protocol(&self) -> Protocol {
        self.protocol
    }

    fn route(
        &self,
        ops: &'static [Operation],
        req: &WireRequest,
        body: &Bytes,
    ) -> Result<(&'static Operation, Routed), AwsError> {
        let routed = |op: &'static Operation, form, labels| {
            let r = Routed {
                op: op.name,
                form,
                labels,
            };
            (op, r)
        };
        match &self.wire {
            WireProtocol::Json { target_prefix, .. } => target_of(&req.headers)
                .strip_prefix(target_prefix.as_str())
                .and_then(|t| t.strip_prefix('.'))
                .and_then(|name| find(ops, name))
                .map(|op| routed(op, None, Vec::new()))
                .ok_or_else(|| AwsError::client("UnknownOperationException", "")),
            WireProtocol::Ec2 | WireProtocol::Query => {
                let form = Self::form(req, body);
                let action = form.get("Action").cloned().unwrap_or_default();
                match find(ops, &action) {
                    Some(op) => Ok(routed(op, Some(form), Vec::new())),
                    None => Err(AwsError::client(
                        "InvalidAction",
                        format!("The action {action} is not valid for this web service."),
                    )),
                }
            }
            WireProtocol::Rest(_) => {
                let query = query_pairs(req.raw_query.as_deref());
                find_route(self.routes, req.method.as_str(), &req.path, &query)
                    .and_then(|m| find(ops, m.route.op).map(|op| routed(op, None, m.labels)))
                    .ok_or_else(|| {
                        AwsError::client(
                            "UnknownOperationException",
                            format!(
                                "No operation of {} answers {} {}.",
                                self.model.signing_name(),
                                req.method,
                                req.path
                            ),
                        )
                    })
            }
        }
    }

    fn parse(
        &self,
        routed: Routed,
        req: &WireRequest,
        body: Bytes,
        _ctx: &CallContext,
    ) -> Result<Forward, AwsError> {
        let input = self
            .model
            .operations
            .get(routed.op)
            .and_then(|o| o.input.as_ref())
            .map(|i| i.shape.as_str());
        let params = match (&self.wire, routed.form, input) {
            (_, _, None) => None,
            (WireProtocol::Ec2, Some(form), Some(shape)) => {
                Some(params::from_ec2_form(&self.model, shape, &form))
            }
            (WireProtocol::Query, Some(form), Some(shape)) => {
                Some(params::from_query_form(&self.model, shape, &form))
            }
            (WireProtocol::Rest(p), _, Some(shape)) => {
                let query = query_pairs(req.raw_query.as_deref());
                let header = |name: &str| req.header(&name.to_ascii_lowercase()).map(str::to_owned);
                rest::request_params(
                    &self.model,
                    shape,
                    &RestRequest {
                        labels: &routed.labels,
                        query: &query,
                        header: &header,
                        body: &body,
                        xml: p == "rest-xml",
                    },
                )
            }
            (_, _, Some(shape)) => {
                let doc: Option<Value> = if body.is_empty() {
                    Some(Value::Object(Default::default()))
                } else {
                    serde_json::from_slice(&body).ok()
                };
                doc.map(|d| params::from_json(&self.model, shape, &d, Side::Request))
            }
        };
        let headers = match &self.wire {
            WireProtocol::Rest(_) => req
                .headers
                .iter()
                .filter(|(k, _)| !REST_UNFORWARDED.contains(&k.as_str()))
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect(),
            _ => FORWARDED_HEADERS
                .iter()
                .filter_map(|h| req.header(h).map(|v| ((*h).to_owned(), v.to_owned())))
                .collect(),
        };
        Ok(Forward {
            method: req.method.as_str().to_owned(),
            path: req.path.clone(),
            query: req.raw_query.clone(),
            headers,
            body,
            stream: req.streamed.clone(),
            region: req.auth.region.clone(),
            params: params.filter(|p| p.as_object().is_some_and(|o| !o.is_empty())),
        })
    }

    fn encode(
        &self,
        _op: &'static Operation,
        out: UpstreamAnswer,
        answer: &Answer,
    ) -> Response<Full<Bytes>> {
        let body = if matches!(self.wire, WireProtocol::Ec2 | WireProtocol::Query) {
            with_request_id(out.body, &answer.request_id)
        } else {
            out.body
        };
        let mut resp = Response::new(Full::new(Bytes::from(body)));
        *resp.status_mut() = StatusCode::from_u16(out.status).unwrap_or(StatusCode::BAD_GATEWAY);
        let h = resp.headers_mut();
        for (k, v) in &out.headers {
            if HOP_HEADERS.contains(&k.as_str()) {
                continue;
            }
            if let (Ok(k), Ok(v)) = (
                http::HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                h.append(k, v);
            }
        }
        if let Ok(v) = HeaderValue::from_str(&answer.request_id) {
            h.insert("x-amzn-requestid", v);
        }
        resp
    }

    fn error(&self, e: &AwsError, answer: &Answer) -> Response<Full<Bytes>> {
        error_response(e, self.protocol, &answer.request_id)
    }
}

/// An XML answer with cairn's request id in place of the upstream's (`<requestId>` in EC2's
/// answers, `<RequestID>` in its errors, `<RequestId>` in the query protocol's).
fn with_request_id(body: Vec<u8>, request_id: &str) -> Vec<u8> {
    let text = match String::from_utf8(body) {
        Ok(t) => t,
        Err(e) => return e.into_bytes(),
    };
    for tag in ["requestId", "RequestID", "RequestId"] {
        let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
        if let Some(start) = text.find(&open)
            && let Some(len) = text[start + open.len()..].find(&close)
        {
            let mut out = String::with_capacity(text.len());
            out.push_str(&text[..start + open.len()]);
            out.push_str(request_id);
            out.push_str(&text[start + open.len() + len..]);
            return out.into_bytes();
        }
    }
    text.into_bytes()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_upstream_request_id_becomes_cairns() {
        let body = b"<R><requestId>theirs</requestId><x>1</x></R>".to_vec();
        assert_eq!(
            with_request_id(body, "ours"),
            b"<R><requestId>ours</requestId><x>1</x></R>"
        );
        let err = b"<Response><Errors/><RequestID>theirs</RequestID></Response>".to_vec();
        assert_eq!(
            with_request_id(err, "ours"),
            b"<Response><Errors/><RequestID>ours</RequestID></Response>"
        );
    }
}
