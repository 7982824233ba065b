//! Serving JSON 1.1 services (CloudTrail, KMS): pick the operation from `X-Amz-Target`, run
//! it, record it. Each service front implements [`JsonFront`].

use std::sync::Arc;

use bytes::Bytes;
use cairn_model::Principal;
use cairn_wire::{AwsError, Protocol};
use http::{HeaderMap, Response};
use http_body_util::Full;
use serde_json::Value;

use super::respond::{error_response, json_response};
use crate::app::App;
use crate::recorder::{self, CallContext, CallFacts};

/// A JSON 1.1 service front.
pub trait JsonFront: Send + Sync + 'static {
    /// The operation an `X-Amz-Target` names, if the service has it.
    fn operation(&self, target: &str) -> Option<&'static str>;
    /// Runs an operation on its parsed input (or the input's parse error) and says how the call
    /// is recorded, whatever its outcome.
    fn call(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static str,
        input: Result<&Value, &AwsError>,
    ) -> (Result<Value, AwsError>, CallFacts);
    /// What the call needs permission for, as (action, resource ARN), judged against the
    /// caller's identity policies before the call runs; `None` when the operation judges its
    /// own (for example against a key policy).
    fn permission(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static str,
        input: &Value,
    ) -> Option<(String, String)>;
}

/// The operation a JSON request names in `X-Amz-Target` (empty when it names none).
pub fn target_of(headers: &HeaderMap) -> &str {
    headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// An authenticated call on its way to a service front.
pub struct Call {
    pub principal: Principal,
    pub region: String,
    pub source_ip: String,
    pub user_agent: Option<String>,
    pub request_id: String,
    pub tls: Option<cairn_model::TlsDetails>,
}

pub async fn serve_json(
    app: Arc<App>,
    call: Call,
    headers: &HeaderMap,
    body: Bytes,
    front: &'static dyn JsonFront,
) -> Response<Full<Bytes>> {
    let protocol = Protocol::Json11;
    let rid = call.request_id.clone();
    let target = target_of(headers);
    let Some(op) = front.operation(target) else {
        return error_response(
            &AwsError::client("UnknownOperationException", ""),
            protocol,
            &rid,
        );
    };
    let input: Result<Value, AwsError> = if body.is_empty() {
        Ok(Value::Object(Default::default()))
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            AwsError::client(
                "SerializationException",
                format!("The request body is not valid JSON: {e}"),
            )
        })
    };
    perform(app, call, protocol, move |app, ctx| {
        let denied = input.as_ref().ok().and_then(|v| {
            let (action, resource) = front.permission(app, ctx, op, v)?;
            crate::authz::authorize(app, ctx, &action, &resource, None, &[])
                .err()
                .map(|d| d.to_error(protocol))
        });
        // A refused call is recorded without its parameters, as AWS records it.
        let (result, facts) = match &denied {
            Some(e) => front.call(app, ctx, op, Err(e)),
            None => front.call(app, ctx, op, input.as_ref()),
        };
        let bytes = result.map(|v| serde_json::to_vec(&v).unwrap_or_else(|_| b"{}".to_vec()));
        (bytes, facts)
    })
    .await
}

/// The shared tail of every service front: run the call off the reactor, make its record
/// durable, then answer (audit fails closed: no durable record, no answer but 503).
pub async fn perform<F>(
    app: Arc<App>,
    call: Call,
    protocol: Protocol,
    work: F,
) -> Response<Full<Bytes>>
where
    F: FnOnce(&App, &CallContext) -> (Result<Vec<u8>, AwsError>, CallFacts) + Send + 'static,
{
    let rid = call.request_id.clone();
    let Some(account) = call.principal.account().map(|a| a.to_string()) else {
        return error_response(&AwsError::internal("caller has no account"), protocol, &rid);
    };
    if app.journal.failure().is_some() {
        return error_response(&AwsError::audit_unavailable(), protocol, &rid);
    }
    let ctx = CallContext {
        principal: call.principal,
        recipient_account: account.clone(),
        region: call.region,
        source_ip: call.source_ip,
        user_agent: call.user_agent,
        request_id: rid.clone(),
        tls: call.tls,
    };
    let app2 = Arc::clone(&app);
    let ctx2 = ctx.clone();
    let worked = tokio::task::spawn_blocking(move || work(&app2, &ctx2)).await;
    let Ok((result, facts)) = worked else {
        return error_response(
            &AwsError::internal("the operation failed unexpectedly"),
            protocol,
            &rid,
        );
    };
    let shared_with = facts.shared_with.clone();
    let record = recorder::build_record(&ctx, facts, result.as_ref().err(), app.clock.now_millis());
    if let Err(e) = recorder::commit(&app, &account, &record).await {
        return error_response(&e, protocol, &rid);
    }
    if let Some(other) = shared_with {
        let copy = recorder::shared_copy(&record, &other);
        if let Err(e) = recorder::commit(&app, &other, &copy).await {
            return error_response(&e, protocol, &rid);
        }
    }
    match result {
        Ok(bytes) => json_response(bytes, protocol, &rid),
        Err(e) => error_response(&e, protocol, &rid),
    }
}
