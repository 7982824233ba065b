//! S3 reached without HTTP (internal calls, the in-process test application): a request
//! described as JSON — `{"Bucket": "b", "Key": "k", "Query": {"versionId": "…"}, "Headers":
//! {"content-type": "…"}, "Body": "<base64>"}` — becomes the request S3's handlers take, and
//! an answer becomes `{"Status": 200, "Headers": {…}, "Body": "<base64>"}`. The HTTP method
//! is the one S3's own routing maps to the operation named, so an operation and a request
//! that disagree are refused rather than guessed at.

use std::collections::BTreeMap;

use base64::Engine;
use bytes::Bytes;
use serde_json::{Map, Value};

use super::codec::operation;
use super::{S3Request, S3Response};
use crate::pipeline::operation::Operation;
use crate::recorder::CallContext;
use crate::s3::address::Address;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn strings(v: Option<&Value>) -> Option<Vec<(String, String)>> {
    match v {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Object(m)) => m.iter().map(|(k, v)| Some((k.clone(), text(v)?))).collect(),
        Some(_) => None,
    }
}

/// The request an internal call describes (`None`: it is not one of `op`).
pub fn request_of_json(
    op: &'static Operation,
    ctx: &CallContext,
    input: Value,
) -> Option<S3Request> {
    let input = input.as_object()?;
    let name = |k: &str| input.get(k).and_then(Value::as_str).map(str::to_owned);
    let addr = Address {
        bucket: name("Bucket"),
        key: name("Key"),
        virtual_host: false,
    };
    let query: BTreeMap<String, String> = strings(input.get("Query"))?.into_iter().collect();
    let mut headers = http::HeaderMap::new();
    for (k, v) in strings(input.get("Headers"))? {
        headers.append(
            http::HeaderName::from_bytes(k.as_bytes()).ok()?,
            http::HeaderValue::from_str(&v).ok()?,
        );
    }
    let payload = match input.get("Body") {
        Some(Value::String(b)) => Bytes::from(B64.decode(b).ok()?),
        _ => Bytes::new(),
    };
    // The method S3's routing takes to this operation for this address and sub-resource.
    let method = ["GET", "PUT", "POST", "DELETE", "HEAD"]
        .into_iter()
        .filter_map(|m| m.parse::<http::Method>().ok())
        .find(|m| operation(m, &addr, &query, &headers).is_ok_and(|o| o == op.name))?;
    Some(S3Request {
        op: op.name,
        method,
        addr,
        host: String::new(),
        query,
        headers,
        bytes_in: payload.len(),
        payload,
        checksums: BTreeMap::new(),
        bad_payload: None,
        signature_version: "SigV4",
        auth_method: "AuthHeader",
        account: ctx.recipient_account.clone(),
        region: ctx.region.clone(),
        caller_arn: ctx.principal.arn(),
        stored: Default::default(),
        form: None,
    })
}

/// An answer as JSON.
pub fn json_of_response(r: S3Response) -> Value {
    let headers: Map<String, Value> = r
        .headers
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    serde_json::json!({
        "Status": r.status,
        "Headers": headers,
        "Body": B64.encode(&r.body),
    })
}
