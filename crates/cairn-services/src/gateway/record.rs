//! How a forwarded call is recorded: its parameters as the model reads them, the answer's
//! elements for calls that change something, the upstream's error as `errorCode` and
//! `errorMessage` (EC2's as `Client.<Code>` / `Server.<Code>`), and the DynamoDB table a data
//! event touched.

use cairn_model::RecordResource;
use cairn_wire::AwsError;
use serde_json::Value;

use super::model::{Model, WireProtocol};
use super::params::{self, Side};
use super::resolve::resource_arn;
use super::wire::{Document, Forward, UpstreamAnswer};
use crate::pipeline::{Details, Operation};
use crate::recorder::{CallContext, RecordedError};

pub fn details(
    model: &Model,
    wire: &WireProtocol,
    ctx: &CallContext,
    op: &'static Operation,
    input: Option<&Forward>,
    result: Result<&UpstreamAnswer, &AwsError>,
) -> Details {
    let ec2 = *wire == WireProtocol::Ec2;
    let recorded_error = match result {
        Ok(a) if a.status >= 300 => Some(upstream_error(a)),
        Ok(_) => None,
        Err(e) => Some(RecordedError {
            code: e.code.to_string(),
            message: e.message.clone(),
        }),
    }
    .map(|mut e| {
        let status = match result {
            Ok(a) => a.status,
            Err(e) => e.status,
        };
        if ec2 {
            let side = if status >= 500 { "Server" } else { "Client" };
            e.code = format!("{side}.{}", e.code);
        } else if e.code == "AccessDeniedException" {
            e.code = "AccessDenied".to_owned();
        }
        e
    });
    let response_elements = match result {
        Ok(a) if a.status < 300 && !op.read_only => {
            response_elements(model, wire, op, a, &ctx.request_id)
        }
        _ => None,
    };
    let resources = match (input, model.signing_name()) {
        (Some(input), "dynamodb") => resource_arn("dynamodb", ctx, input)
            .map(|arn| {
                vec![RecordResource {
                    account_id: Some(ctx.recipient_account.clone()),
                    resource_type: "AWS::DynamoDB::Table".to_owned(),
                    arn: Some(arn),
                    arn_prefix: None,
                }]
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    Details {
        request_parameters: input.and_then(|i| i.params.clone()),
        response_elements,
        resources,
        recorded_error,
        ..Details::default()
    }
}

fn response_elements(
    model: &Model,
    wire: &WireProtocol,
    op: &Operation,
    a: &UpstreamAnswer,
    request_id: &str,
) -> Option<Value> {
    let output = model
        .operations
        .get(op.name)
        .and_then(|o| o.output.as_ref())
        .map(|o| o.shape.as_str());
    match (wire, &a.document) {
        (WireProtocol::Json { .. }, Document::Json(doc)) => {
            let v = params::from_json(model, output?, doc, Side::Response);
            v.as_object().is_some_and(|o| !o.is_empty()).then_some(v)
        }
        (WireProtocol::Ec2, Document::Xml(root)) => {
            let mut v = params::from_ec2_xml(model, output, root);
            // The client saw cairn's request id in the answer (see `wire`): so does the record.
            if let Some(id) = v.get_mut("requestId") {
                *id = Value::String(request_id.to_owned());
            }
            Some(v)
        }
        (WireProtocol::Query, Document::Xml(root)) => params::from_query_xml(model, output, root),
        (WireProtocol::Rest(_), Document::Json(doc)) => {
            let v = params::from_json(model, output?, doc, Side::Response);
            v.as_object().is_some_and(|o| !o.is_empty()).then_some(v)
        }
        (WireProtocol::Rest(_), Document::Xml(root)) => {
            let v = params::from_rest_xml(model, output?, root);
            v.as_object().is_some_and(|o| !o.is_empty()).then_some(v)
        }
        _ => None,
    }
}

/// The error an upstream answered, from its body in the service's protocol.
fn upstream_error(a: &UpstreamAnswer) -> RecordedError {
    let fallback = || RecordedError {
        code: format!("HTTP{}", a.status),
        message: String::new(),
    };
    match &a.document {
        Document::Json(_) | Document::None => {
            let header = a
                .headers
                .iter()
                .find(|(k, _)| k == "x-amzn-errortype")
                .map(|(_, v)| v.split(':').next().unwrap_or(v).to_owned());
            let doc = match &a.document {
                Document::Json(d) => d,
                _ => &Value::Null,
            };
            let code = doc
                .get("__type")
                .or_else(|| doc.get("code"))
                .and_then(Value::as_str)
                .map(|t| t.rsplit('#').next().unwrap_or(t).to_owned())
                .or(header);
            let message = doc
                .get("message")
                .or_else(|| doc.get("Message"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            match code {
                Some(code) => RecordedError { code, message },
                None => fallback(),
            }
        }
        Document::Xml(root) => RecordedError {
            code: root
                .find_text("Code")
                .map_or_else(|| format!("HTTP{}", a.status), str::to_owned),
            message: root.find_text("Message").unwrap_or_default().to_owned(),
        },
    }
}
