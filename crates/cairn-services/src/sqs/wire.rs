//! SQS' wire: the codec — JSON 1.0 (`X-Amz-Target: AmazonSQS.<Op>`, what today's SDKs send)
//! and query (a form, `Action=SendMessage&…`, what older SDKs and tools send, answered in
//! XML; its shapes are in `shapes.rs`), each request answered in the protocol it came in —,
//! queue URLs, and errors as an `awsQueryCompatible` service answers them.
//!
//! Handlers raise errors under SQS' legacy query codes (`AWS.SimpleQueueService.NonExistentQueue`),
//! which are what CloudTrail records as `errorCode`. On the wire the JSON body names the
//! model's shape (`{"__type": "com.amazonaws.sqs#QueueDoesNotExist"}`) and the
//! `x-amzn-query-error: <legacy code>;Sender` header carries the legacy code: botocore raises
//! the shape's exception class and reports the legacy code as `Error.Code`, as with AWS.
//! In query the legacy code is the `<Code>` itself.
//!
//! Queue URLs are AWS's form, `https://sqs.<region>.amazonaws.com/<account>/<name>`: JSON
//! clients send the URL in the body to whatever endpoint they are configured with, and the
//! records then read as AWS's do. Any URL whose path is `/<account>/<name>` is accepted.

use bytes::Bytes;
use cairn_wire::{AwsError, Protocol};
use http::Response;
use http_body_util::Full;
use serde_json::Value;

use super::shapes::{INPUTS, OUTPUTS};
use crate::edge::respond::error_response;
use crate::pipeline::codec::cbor::add_query_error;
use crate::pipeline::codec::json::JsonCodec;
use crate::pipeline::codec::multi::Heard;
use crate::pipeline::codec::query::QueryCodec;
use crate::pipeline::codec::shaped_query::{ShapedQueryCodec, speaks_query};
use crate::pipeline::codec::{Answer, Codec, WireRequest};
use crate::pipeline::operation::Operation;
use crate::recorder::CallContext;
use cairn_store::sqs::QueueKey;

pub const TARGET_PREFIX: &str = "AmazonSQS.";
/// The query protocol's XML namespace (the query model's `xmlNamespace`).
pub const XMLNS: &str = "http://queue.amazonaws.com/doc/2012-11-05/";

/// JSON 1.0 with SQS' query-compatible errors, and query.
pub struct SqsCodec {
    json: JsonCodec,
    query: ShapedQueryCodec,
}

pub(super) static CODEC: SqsCodec = SqsCodec {
    json: JsonCodec {
        protocol: Protocol::Json10,
        target_prefixes: &[TARGET_PREFIX],
    },
    query: ShapedQueryCodec {
        query: QueryCodec {
            version: "2012-11-05",
            xmlns: XMLNS,
        },
        inputs: &INPUTS,
        outputs: &OUTPUTS,
    },
};

/// The operations whose input names no queue by URL (every other one takes `QueueUrl`).
const NO_QUEUE_URL: [&str; 3] = ["CreateQueue", "GetQueueUrl", "ListQueues"];

/// Legacy query codes and the model's error shapes they answer as.
const SHAPES: [(&str, &str); 19] = [
    (
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
    ),
    ("QueueAlreadyExists", "QueueNameExists"),
    (
        "AWS.SimpleQueueService.QueueDeletedRecently",
        "QueueDeletedRecently",
    ),
    (
        "AWS.SimpleQueueService.PurgeQueueInProgress",
        "PurgeQueueInProgress",
    ),
    ("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid"),
    (
        "AWS.SimpleQueueService.MessageNotInflight",
        "MessageNotInflight",
    ),
    ("InvalidAttributeName", "InvalidAttributeName"),
    ("InvalidAttributeValue", "InvalidAttributeValue"),
    (
        "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        "BatchEntryIdsNotDistinct",
    ),
    (
        "AWS.SimpleQueueService.EmptyBatchRequest",
        "EmptyBatchRequest",
    ),
    (
        "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        "TooManyEntriesInBatchRequest",
    ),
    (
        "AWS.SimpleQueueService.BatchRequestTooLong",
        "BatchRequestTooLong",
    ),
    (
        "AWS.SimpleQueueService.InvalidBatchEntryId",
        "InvalidBatchEntryId",
    ),
    (
        "AWS.SimpleQueueService.UnsupportedOperation",
        "UnsupportedOperation",
    ),
    ("InvalidMessageContents", "InvalidMessageContents"),
    ("OverLimit", "OverLimit"),
    ("InvalidAddress", "InvalidAddress"),
    ("InvalidParameterValue", "InvalidParameterValueException"),
    ("MissingParameter", "MissingRequiredParameterException"),
];

/// The JSON `__type` and the query code of an error, for an error cairn raised.
pub(super) fn wire_names(code: &str) -> Option<(String, &str)> {
    if let Some((legacy, shape)) = SHAPES.iter().find(|(l, _)| *l == code) {
        return Some((format!("com.amazonaws.sqs#{shape}"), legacy));
    }
    match code {
        // The pipeline's refusal, as SQS words it.
        "AccessDeniedException" | "AccessDenied" => Some((
            "com.amazon.coral.service#AccessDeniedException".into(),
            "AccessDenied",
        )),
        _ => None,
    }
}

impl SqsCodec {
    fn speaks_query(&self, p: Protocol) -> bool {
        p == self.query.protocol()
    }

    /// A query error: the legacy code is the `<Code>` already, except the pipeline's refusal,
    /// which SQS words `AccessDenied` with a 403.
    fn query_error(&self, e: &AwsError, answer: &Answer) -> Response<Full<Bytes>> {
        match wire_names(&e.code) {
            Some((_, "AccessDenied")) => {
                let mut denied = e.clone();
                denied.code = "AccessDenied".into();
                denied.status = 403;
                self.query.error(&denied, answer)
            }
            _ => self.query.error(e, answer),
        }
    }

    /// JSON's error: the model's shape in the body, the legacy code in `x-amzn-query-error`.
    fn json_error(&self, e: &AwsError, answer: &Answer) -> Response<Full<Bytes>> {
        let Some((ty, legacy)) = wire_names(&e.code) else {
            return self.json.error(e, answer);
        };
        let mut shaped = e.clone();
        shaped.code = ty.into();
        if legacy == "AccessDenied" {
            // SQS refuses with 403, where the pipeline's JSON refusal is a 400.
            shaped.status = 403;
        }
        let mut resp = error_response(&shaped, self.protocol(), &answer.request_id);
        let mut header = e.clone();
        header.code = legacy.to_owned().into();
        add_query_error(&mut resp, &header);
        resp
    }
}

/// The queue URL a query request's path names (`POST /<account>/<name>`, as older SDKs send
/// a queue's calls to its URL and leave `QueueUrl` out of the form), in AWS's form like every
/// URL cairn gives, so that the call's record reads as if the form had named it.
fn queue_url_of_path(region: &str, path: &str) -> Option<String> {
    queue_of_url(region, path).map(|key| queue_url(&key))
}

impl Codec for SqsCodec {
    type Routed = Heard;
    type Input = Value;
    type Output = Value;

    /// JSON 1.0 (internal calls, and requests that speak neither).
    fn protocol(&self) -> Protocol {
        self.json.protocol()
    }

    fn protocol_of(&self, req: &WireRequest) -> Protocol {
        if !req.headers.contains_key("x-amz-target") && speaks_query(req) {
            self.query.protocol()
        } else {
            self.json.protocol()
        }
    }

    fn route(
        &self,
        ops: &'static [Operation],
        req: &WireRequest,
        body: &Bytes,
    ) -> Result<(&'static Operation, Heard), AwsError> {
        let p = self.protocol_of(req);
        if self.speaks_query(p) {
            let (op, (name, form)) = self.query.route(ops, req, body)?;
            Ok((op, Heard::Form(name, form)))
        } else {
            let (op, ()) = self.json.route(ops, req, body)?;
            Ok((op, Heard::Document(p)))
        }
    }

    fn parse(
        &self,
        routed: Heard,
        req: &WireRequest,
        body: Bytes,
        ctx: &CallContext,
    ) -> Result<Value, AwsError> {
        match routed {
            Heard::Form(name, form) => {
                let mut input = self.query.parse((name, form), req, body, ctx)?;
                if !NO_QUEUE_URL.contains(&name)
                    && input.get("QueueUrl").is_none()
                    && let (Some(url), Some(members)) = (
                        queue_url_of_path(&ctx.region, &req.path),
                        input.as_object_mut(),
                    )
                {
                    members.insert("QueueUrl".into(), Value::String(url));
                }
                Ok(input)
            }
            Heard::Document(_) => self.json.parse((), req, body, ctx),
        }
    }

    fn encode(&self, op: &'static Operation, out: Value, answer: &Answer) -> Response<Full<Bytes>> {
        if self.speaks_query(answer.protocol) {
            self.query.encode(op, out, answer)
        } else {
            self.json.encode(op, out, answer)
        }
    }

    fn error(&self, e: &AwsError, answer: &Answer) -> Response<Full<Bytes>> {
        if self.speaks_query(answer.protocol) {
            self.query_error(e, answer)
        } else {
            self.json_error(e, answer)
        }
    }

    fn input_of_json(
        &self,
        op: &'static Operation,
        ctx: &CallContext,
        input: Value,
    ) -> Option<Value> {
        self.json.input_of_json(op, ctx, input)
    }

    fn json_of_output(&self, output: Value) -> Option<Value> {
        self.json.json_of_output(output)
    }
}

/// A queue's URL.
pub(super) fn queue_url(key: &QueueKey) -> String {
    format!(
        "https://sqs.{}.amazonaws.com/{}/{}",
        key.region, key.account, key.name
    )
}

/// The queue a URL names, in the caller's region: any scheme and host, path
/// `/<12-digit account>/<name>`.
pub(super) fn queue_of_url(region: &str, url: &str) -> Option<QueueKey> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let path = rest.split_once('/').map(|(_, p)| p)?;
    let (account, name) = path.trim_end_matches('/').split_once('/')?;
    if account.len() != 12
        || !account.bytes().all(|b| b.is_ascii_digit())
        || name.is_empty()
        || name.contains('/')
    {
        return None;
    }
    Some(QueueKey::new(account, region, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_queue() {
        let k = QueueKey::new("111122223333", "us-east-1", "alerts");
        assert_eq!(
            queue_url(&k),
            "https://sqs.us-east-1.amazonaws.com/111122223333/alerts"
        );
        assert_eq!(queue_of_url("us-east-1", &queue_url(&k)), Some(k.clone()));
        assert_eq!(
            queue_of_url("us-east-1", "http://127.0.0.1:4566/111122223333/alerts"),
            Some(k)
        );
        assert_eq!(queue_of_url("us-east-1", "https://h/alerts"), None);
        assert_eq!(queue_of_url("us-east-1", "https://h/1234/alerts"), None);
        assert_eq!(queue_of_url("us-east-1", "alerts"), None);
    }

    #[test]
    fn a_query_path_names_its_queue() {
        assert_eq!(
            queue_url_of_path("eu-west-1", "/111122223333/alerts").as_deref(),
            Some("https://sqs.eu-west-1.amazonaws.com/111122223333/alerts")
        );
        assert_eq!(queue_url_of_path("eu-west-1", "/"), None);
        assert_eq!(queue_url_of_path("eu-west-1", "/alerts"), None);
    }

    #[test]
    fn errors_carry_the_shape_and_the_legacy_code() {
        let (ty, legacy) = wire_names("AWS.SimpleQueueService.NonExistentQueue").unwrap();
        assert_eq!(ty, "com.amazonaws.sqs#QueueDoesNotExist");
        assert_eq!(legacy, "AWS.SimpleQueueService.NonExistentQueue");
        assert_eq!(
            wire_names("AccessDeniedException").unwrap().1,
            "AccessDenied"
        );
        assert!(wire_names("ServiceUnavailable").is_none());
    }
}
