//! Calls between services. When cairn acts for someone — S3 asking KMS for an object's data key
//! on the caller's behalf, CloudTrail sealing a log file — it calls the other service through
//! the registry and the same pipeline as any client: authorized by the same policies and
//! recorded as AWS records it (`invokedBy` the acting service, which is also the call's source
//! and user agent). Services never call each other's code directly.

use cairn_model::Principal;
use cairn_wire::AwsError;
use serde_json::Value;

use super::Durability;
use super::registry::Registry;
use crate::app::App;
use crate::recorder::CallContext;

/// Who an internal call acts as.
#[derive(Clone, Debug)]
pub enum Actor {
    /// A caller, through a service acting on their behalf: the caller's identity, `invokedBy`
    /// the service.
    OnBehalf {
        principal: Principal,
        by: &'static str,
    },
    /// An AWS service acting on its own (`AWSService`).
    Service(&'static str),
    /// A caller in this process, as if it had signed the call itself from the loopback address
    /// (the in-process test application).
    Caller(Principal),
}

/// An internal call's circumstances.
#[derive(Clone, Debug)]
pub struct Internal {
    pub actor: Actor,
    /// The account the call is made in (and recorded for).
    pub account: String,
    pub region: String,
    /// The resource the acting service works for, as `aws:SourceArn` (a trail).
    pub source_arn: Option<String>,
    /// The request id of the call that caused this one, for the logs.
    pub cause: String,
    /// Whether to wait for the record, or let the enclosing call's record cover it.
    pub durability: Durability,
}

impl Internal {
    fn context(&self) -> CallContext {
        let (principal, by) = match &self.actor {
            Actor::OnBehalf { principal, by } => (principal.clone(), Some(*by)),
            Actor::Service(name) => (
                Principal::AwsService {
                    service: (*name).to_owned(),
                },
                Some(*name),
            ),
            Actor::Caller(principal) => (principal.clone(), None),
        };
        CallContext {
            principal,
            recipient_account: self.account.clone(),
            region: self.region.clone(),
            source_ip: by.unwrap_or("127.0.0.1").to_owned(),
            user_agent: Some(by.unwrap_or("cairn-in-process").to_owned()),
            request_id: cairn_model::ids::new_uuid(),
            tls: None,
            invoked_by: by.map(str::to_owned),
            source_arn: self.source_arn.clone(),
        }
    }

    /// Calls an operation of the service signed for as `service`, its input and answer JSON as
    /// that service's codec takes them (blocking: from inside a handler). Its answer, or its
    /// error as the service gave it.
    pub fn call_json(
        &self,
        app: &App,
        service: &str,
        op: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        let endpoint = Registry::global()
            .get(service)
            .ok_or_else(|| AwsError::internal(format!("no service {service}")))?;
        let ctx = self.context();
        tracing::debug!(cause = %self.cause, request_id = %ctx.request_id, service, op, "internal call");
        endpoint.call_json(app, &ctx, op, input, self.durability)
    }
}
