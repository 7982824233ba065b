//! AWS-shaped errors: one value, rendered in the body shape of whichever protocol the client
//! speaks.

use std::borrow::Cow;

use crate::protocol::Protocol;
use crate::xml::escape;

/// An error as AWS reports it: an exception name, a message and an HTTP status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsError {
    pub status: u16,
    pub code: Cow<'static, str>,
    pub message: String,
    /// Extra elements S3 adds to its `<Error>` (e.g. `AWSAccessKeyId`, `ServerTime`), or
    /// members a REST-JSON service adds to its error body (Lambda's `Type`, `Reason`).
    pub extra: Vec<(&'static str, String)>,
}

/// A rendered error response.
pub struct RenderedError {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl AwsError {
    pub fn new(
        status: u16,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            extra: Vec::new(),
        }
    }

    /// A client error (HTTP 400).
    pub fn client(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn with_extra(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.extra.push((name, value.into()));
        self
    }

    /// The audit journal could not make the call's record durable: refuse the call.
    pub fn audit_unavailable() -> Self {
        Self::new(
            503,
            "ServiceUnavailable",
            "The request could not be recorded in the audit journal, so it was not performed. Please retry.",
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalFailure", message)
    }

    fn is_sender_fault(&self) -> bool {
        self.status < 500
    }

    pub fn render(&self, protocol: Protocol, request_id: &str) -> RenderedError {
        let body = match protocol {
            // REST-JSON clients read the type from `X-Amzn-ErrorType` (the codec sets it) and
            // fall back to `__type`; both read `message`.
            Protocol::Json11 | Protocol::Json10 => {
                let v = serde_json::json!({"__type": self.code, "message": self.message});
                v.to_string().into_bytes()
            }
            Protocol::RestJson => {
                let mut v = serde_json::Map::new();
                for (k, x) in &self.extra {
                    v.insert((*k).to_owned(), serde_json::Value::String(x.clone()));
                }
                v.insert("__type".into(), self.code.clone().into());
                v.insert("message".into(), self.message.clone().into());
                serde_json::Value::Object(v).to_string().into_bytes()
            }
            Protocol::RpcV2Cbor => cbor_error(&self.code, &self.message),
            Protocol::Query { xmlns } => format!(
                "<ErrorResponse xmlns=\"{}\">\n  <Error>\n    <Type>{}</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
                escape(xmlns),
                if self.is_sender_fault() { "Sender" } else { "Receiver" },
                escape(&self.code),
                escape(&self.message),
                escape(request_id),
            )
            .into_bytes(),
            Protocol::Ec2 => format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{}</RequestID></Response>",
                escape(&self.code),
                escape(&self.message),
                escape(request_id),
            )
            .into_bytes(),
            Protocol::RestXml => {
                let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>");
                s.push_str(&escape(&self.code));
                s.push_str("</Code><Message>");
                s.push_str(&escape(&self.message));
                s.push_str("</Message>");
                for (k, v) in &self.extra {
                    s.push_str(&format!("<{k}>{}</{k}>", escape(v)));
                }
                s.push_str("<RequestId>");
                s.push_str(&escape(request_id));
                s.push_str("</RequestId><HostId>");
                s.push_str(&escape(request_id));
                s.push_str("</HostId></Error>");
                s.into_bytes()
            }
        };
        RenderedError {
            status: self.status,
            content_type: protocol.content_type(),
            body,
        }
    }
}

/// `{"__type": code, "message": message}` as a CBOR map (Smithy RPC v2 CBOR's error body).
fn cbor_error(code: &str, message: &str) -> Vec<u8> {
    let mut e = minicbor::Encoder::new(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = e
        .map(2)
        .and_then(|e| e.str("__type"))
        .and_then(|e| e.str(code))
        .and_then(|e| e.str("message"))
        .and_then(|e| e.str(message));
    e.into_writer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape() {
        let e = AwsError::client("TrailNotFoundException", "Unknown trail");
        let r = e.render(Protocol::Json11, "rid");
        assert_eq!(r.status, 400);
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["__type"], "TrailNotFoundException");
        assert_eq!(v["message"], "Unknown trail");
    }

    #[test]
    fn cbor_shape() {
        let e = AwsError::client("ValidationError", "bad");
        let r = e.render(Protocol::RpcV2Cbor, "rid");
        assert_eq!(r.content_type, "application/cbor");
        // a2 (map of 2) 66 "__type" 6f "ValidationError" 67 "message" 63 "bad"
        let mut want = vec![0xa2, 0x66];
        want.extend(b"__type");
        want.push(0x6f);
        want.extend(b"ValidationError");
        want.push(0x67);
        want.extend(b"message");
        want.push(0x63);
        want.extend(b"bad");
        assert_eq!(r.body, want);
    }

    #[test]
    fn query_and_rest_xml_shapes() {
        let e = AwsError::new(403, "InvalidClientTokenId", "bad <token>");
        let q = String::from_utf8(
            e.render(
                Protocol::Query {
                    xmlns: crate::protocol::STS_XMLNS,
                },
                "rid",
            )
            .body,
        )
        .unwrap();
        assert!(q.contains("<Type>Sender</Type>"));
        assert!(q.contains("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"));
        assert!(q.contains("<Message>bad &lt;token&gt;</Message>"));
        assert!(q.contains("<RequestId>rid</RequestId>"));
        let s = e.clone().with_extra("AWSAccessKeyId", "AKIA");
        let x = String::from_utf8(s.render(Protocol::RestXml, "rid").body).unwrap();
        assert!(x.contains("<Code>InvalidClientTokenId</Code>"));
        assert!(x.contains("<AWSAccessKeyId>AKIA</AWSAccessKeyId>"));
    }
}
