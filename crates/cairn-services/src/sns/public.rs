//! What SNS answers without a signature, as AWS does: the signing certificate at the
//! `SigningCertURL` (`/SimpleNotificationService-<hex>.pem`), and the links in its messages —
//! the `SubscribeURL` (`/?Action=ConfirmSubscription&TopicArn=…&Token=…`) and the
//! `UnsubscribeURL` (`/?Action=Unsubscribe&SubscriptionArn=…`). AWS does not record such
//! unauthenticated ConfirmSubscription and Unsubscribe calls in CloudTrail, so neither does
//! cairn: they act on the store directly, outside any recorded call.

use bytes::Bytes;
use cairn_wire::{AwsError, Protocol};
use http::{HeaderValue, Response};
use http_body_util::Full;

use super::handlers::{confirm, internal, invalid, not_found};
use super::signing::Signer;
use super::wire::CODEC;
use crate::app::App;
use crate::edge::respond::{error_response, json_response};
use crate::pipeline::codec::query::parse_form;
use crate::pipeline::{PublicRequest, PublicRoute};

/// SNS's unsigned routes.
pub struct Links;

fn protocol() -> Protocol {
    Protocol::Query { xmlns: CODEC.xmlns }
}

fn xml_answer(op: &str, result: &str, rid: &str) -> Response<Full<Bytes>> {
    let body = format!(
        "<{op}Response xmlns=\"{}\">\n  <{op}Result>\n{result}  </{op}Result>\n  <ResponseMetadata>\n    <RequestId>{rid}</RequestId>\n  </ResponseMetadata>\n</{op}Response>\n",
        CODEC.xmlns
    );
    json_response(body.into_bytes(), protocol(), rid)
}

fn certificate(app: &App, path: &str) -> Option<Response<Full<Bytes>>> {
    let name = path.strip_prefix('/')?;
    if !name.starts_with("SimpleNotificationService-") || !name.ends_with(".pem") {
        return None;
    }
    let signer = match Signer::load(&*app.sns) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "SNS signing certificate unavailable");
            return Some(error_response(
                &AwsError::internal("signing certificate unavailable"),
                protocol(),
                "",
            ));
        }
    };
    if signer.cert_name != name {
        return Some(error_response(
            &not_found("No such certificate"),
            protocol(),
            "",
        ));
    }
    let mut resp = Response::new(Full::new(Bytes::from(signer.cert_pem.clone())));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-x509-ca-cert"),
    );
    Some(resp)
}

fn link(app: &App, query: &str) -> Option<Response<Full<Bytes>>> {
    let form = parse_form(query);
    let rid = cairn_model::ids::new_uuid();
    let done = match form.get("Action").map(String::as_str) {
        Some("ConfirmSubscription") => {
            let topic = form.get("TopicArn").cloned().unwrap_or_default();
            let token = form.get("Token").cloned().unwrap_or_default();
            confirm(app, &topic, &token).and_then(|arn| {
                let arn = arn.ok_or_else(|| invalid("Token"))?;
                Ok(xml_answer(
                    "ConfirmSubscription",
                    &format!(
                        "    <SubscriptionArn>{}</SubscriptionArn>\n",
                        cairn_wire::xml::escape(&arn)
                    ),
                    &rid,
                ))
            })
        }
        Some("Unsubscribe") => {
            let arn = form.get("SubscriptionArn").cloned().unwrap_or_default();
            app.sns
                .delete_subscription(&arn)
                .map_err(internal)
                .and_then(|gone| {
                    if gone {
                        Ok(xml_answer("Unsubscribe", "", &rid))
                    } else {
                        Err(not_found("Subscription does not exist"))
                    }
                })
        }
        _ => return None,
    };
    Some(done.unwrap_or_else(|e| error_response(&e, protocol(), &rid)))
}

impl PublicRoute for Links {
    fn answer(&self, app: &App, request: &PublicRequest<'_>) -> Option<Response<Full<Bytes>>> {
        if request.method != http::Method::GET {
            return None;
        }
        match request.query {
            Some(q) if request.path == "/" => link(app, q),
            _ => certificate(app, request.path),
        }
    }
}
