//! The AWS query protocol (IAM, STS; SNS next): `Action=…&Version=…` and the operation's
//! parameters come form-encoded in the body or the query string; answers are XML in the
//! service's namespace: `<{Op}Response><{Op}Result>…</{Op}Result><ResponseMetadata>…`.

use bytes::Bytes;
use cairn_model::RecordResource;
use cairn_wire::xml::escape;
use cairn_wire::{AwsError, Protocol};
use http::Response;
use http_body_util::Full;
use percent_encoding::percent_decode_str;
use serde_json::Value;

use super::{Answer, Codec, WireRequest};
use crate::edge::respond::{error_response, json_response};
use crate::pipeline::operation::{Operation, find};
use crate::recorder::CallContext;

pub use super::form::Form;

/// The query protocol of one service: its API version and XML namespace.
pub struct QueryCodec {
    pub version: &'static str,
    pub xmlns: &'static str,
}

/// What an operation produced: the inner XML of its `<{Op}Result>`, and for its record the
/// `responseElements`, `resources` and another account that gets the record too.
#[derive(Default)]
pub struct Reply {
    pub xml: String,
    pub response: Option<Value>,
    pub resources: Vec<RecordResource>,
    pub shared_with: Option<String>,
}

impl Reply {
    pub fn xml(xml: String, response: Option<Value>) -> Reply {
        Reply {
            xml,
            response,
            ..Reply::default()
        }
    }
}

/// `a=1&b=x+y%21` → {a: 1, b: "x y!"}
pub fn parse_form(text: &str) -> Form {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

/// A query answer: `<{Op}Response>` in the namespace, the result's inner XML in
/// `<{Op}Result>` (none for an operation without output), and the request id.
pub fn envelope(xmlns: &str, name: &str, result: Option<&str>, request_id: &str) -> String {
    let result = result
        .map(|xml| format!("  <{name}Result>\n{xml}  </{name}Result>\n"))
        .unwrap_or_default();
    format!(
        "<{name}Response xmlns=\"{xmlns}\">\n{result}  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</{name}Response>\n",
        escape(request_id)
    )
}

impl Codec for QueryCodec {
    type Routed = Form;
    type Input = Form;
    type Output = Reply;

    fn protocol(&self) -> Protocol {
        Protocol::Query { xmlns: self.xmlns }
    }

    fn route(
        &self,
        ops: &'static [Operation],
        req: &WireRequest,
        body: &Bytes,
    ) -> Result<(&'static Operation, Form), AwsError> {
        // What the query string says is never overridden by the body: a presigned URL signs
        // its query string, and its holder must not be able to change the action it names.
        let mut params = parse_form(&String::from_utf8_lossy(body));
        params.extend(parse_form(req.raw_query.as_deref().unwrap_or("")));
        let action = params.get("Action").cloned().unwrap_or_default();
        // An API version the service does not have names no operation of it.
        if let Some(v) = params.get("Version").filter(|v| v.as_str() != self.version) {
            return Err(AwsError::client(
                "InvalidAction",
                format!("Could not find operation {action} for version {v}"),
            ));
        }
        match find(ops, &action) {
            Some(op) => Ok((op, params)),
            None if action.is_empty() => Err(AwsError::client("MissingAction", "Missing Action")),
            None => Err(AwsError::client(
                "InvalidAction",
                format!(
                    "Could not find operation {action} for version {}",
                    self.version
                ),
            )),
        }
    }

    fn parse(
        &self,
        routed: Form,
        _req: &WireRequest,
        _body: Bytes,
        _ctx: &CallContext,
    ) -> Result<Form, AwsError> {
        Ok(routed)
    }

    fn encode(&self, op: &'static Operation, out: Reply, answer: &Answer) -> Response<Full<Bytes>> {
        let body = envelope(self.xmlns, op.name, Some(&out.xml), &answer.request_id);
        json_response(body.into_bytes(), self.protocol(), &answer.request_id)
    }

    fn error(&self, e: &AwsError, answer: &Answer) -> Response<Full<Bytes>> {
        error_response(e, self.protocol(), &answer.request_id)
    }

    /// An internal call's input: the query's parameters as a flat JSON object, as they would
    /// be on the wire (`{"UserName": "alice", "Tags.member.1.Key": "team"}`).
    fn input_of_json(
        &self,
        _op: &'static Operation,
        _ctx: &CallContext,
        input: Value,
    ) -> Option<Form> {
        input
            .as_object()?
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return None,
                };
                Some((k.clone(), v))
            })
            .collect()
    }

    /// An internal call's output: the result element's XML, and the response as it is
    /// recorded (`responseElements`).
    fn json_of_output(&self, out: Reply) -> Option<Value> {
        Some(serde_json::json!({"Xml": out.xml, "ResponseElements": out.response}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let p = parse_form("Action=GetCallerIdentity&Version=2011-06-15&X=a+b%21&Empty=");
        assert_eq!(p["Action"], "GetCallerIdentity");
        assert_eq!(p["X"], "a b!");
        assert_eq!(p["Empty"], "");
    }

    proptest::proptest! {
        #[test]
        fn any_form_parses(text in "\\PC{0,300}") {
            let _ = parse_form(&text);
        }

        #[test]
        fn encoded_pairs_come_back(pairs in proptest::collection::btree_map("\\PC{1,12}", "\\PC{0,12}", 0..8)) {
            let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
            let text = pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
            proptest::prop_assert_eq!(parse_form(&text), pairs);
        }
    }
}
