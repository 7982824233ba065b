//! Calls between services. When cairn acts for someone — S3 asking KMS for an object's data key
//! on the caller's behalf, CloudTrail checking a trail's bucket or writing its log files — it
//! calls the other service through the registry and the same pipeline as any client:
//! authorized by the same policies and recorded as AWS records it (`invokedBy` the acting
//! service, which is also the call's source and user agent). Services never call each other's
//! code directly.
//!
//! A call is made in the target's own protocol: JSON services take their JSON input
//! ([`Internal::call_json`]); REST services (S3) take a request as a client would send it,
//! minus the signature ([`Internal::call_wire`]), which their codec routes and parses as any
//! other. What AWS does not record is left out explicitly: [`Durability::Unrecorded`] runs a
//! call without a record, and [`Internal::authorize_wire`] only judges one.

use std::borrow::Cow;
use std::future::Future;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use cairn_model::Principal;
use cairn_wire::AwsError;
use http::Response;
use http_body_util::{BodyExt, Full};
use serde_json::Value;

use super::Durability;
use super::codec::WireRequest;
use super::registry::Endpoint;
use crate::app::App;
use crate::edge::auth::{AuthMethod, Authenticated};
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
    /// An AWS service acting on its own (`AWSService`, `invokedBy` itself).
    /// (A service working with a role session it assumed — CloudTrail writing to CloudWatch
    /// Logs — is [`Actor::OnBehalf`] of the session: AWS records the assumed role as the
    /// caller and the service as `invokedBy`; see [`Internal::session`].)
    Service(Cow<'static, str>),
    /// A caller in this process, as if it had signed the call itself from the loopback address
    /// (the in-process test application).
    Caller(Principal),
    /// A person at the web console: the signed-in session's identity, from the browser's
    /// address, with the console's user agent; recorded with `sessionCredentialFromConsole`.
    Console {
        principal: Principal,
        source_ip: String,
        user_agent: String,
        /// The AWS service that makes the call for the person (sign-in's forced password
        /// change: `signin.amazonaws.com`, its `userAgent` and `invokedBy`, and then not
        /// recorded as a console call).
        via: Option<&'static str>,
    },
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
    /// Whether to wait for the record, let the enclosing call's record cover it, or make
    /// none (a call AWS shows no event for).
    pub durability: Durability,
}

/// A request to a REST service, as a client would send it (the internal caller is trusted:
/// nothing is signed).
#[derive(Clone, Debug)]
pub struct WireCall {
    pub method: http::Method,
    /// The path, percent-encoded.
    pub path: String,
    pub query: Option<String>,
    /// Headers, `host` included (S3 finds a virtual-host bucket there).
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// A REST service's answer to an internal call that succeeded.
#[derive(Clone, Debug)]
pub struct WireAnswer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl WireAnswer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The answer a codec encoded. Its body is in memory already: collecting it completes at
    /// the first poll.
    pub(super) fn of(r: Response<Full<Bytes>>) -> WireAnswer {
        let (parts, body) = r.into_parts();
        let mut collecting = std::pin::pin!(body.collect());
        let body = match collecting
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(Ok(c)) => c.to_bytes(),
            Poll::Ready(Err(never)) => match never {},
            Poll::Pending => Bytes::new(),
        };
        WireAnswer {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    }
}

impl Internal {
    /// CloudTrail (or another AWS service) acting on its own for `source_arn`, in `account`
    /// and `region`.
    pub fn service(
        name: &'static str,
        account: &str,
        region: &str,
        source_arn: Option<&str>,
        durability: Durability,
    ) -> Internal {
        Internal {
            actor: Actor::Service(Cow::Borrowed(name)),
            account: account.to_owned(),
            region: region.to_owned(),
            source_arn: source_arn.map(str::to_owned),
            cause: String::new(),
            durability,
        }
    }

    /// A service (`by`) calling with the credentials of a role session it assumed, as AWS
    /// records such calls: the session's identity, `invokedBy` the service. The session is
    /// resolved from its access key, which must still be active and unexpired. It lives here,
    /// beside the other actors, because turning a key into a principal is the edge's job.
    pub fn session(
        app: &App,
        access_key_id: &str,
        by: &'static str,
        region: &str,
        source_arn: Option<&str>,
        durability: Durability,
    ) -> Result<Internal, AwsError> {
        let now = app.clock.now_millis();
        let principal =
            crate::edge::auth::principal_of_key(app, access_key_id, now).ok_or_else(|| {
                AwsError::client(
                    "ExpiredTokenException",
                    "The security token included in the request is expired",
                )
            })?;
        let account = principal
            .account()
            .map(|a| a.to_string())
            .unwrap_or_default();
        Ok(Internal {
            actor: Actor::OnBehalf { principal, by },
            account,
            region: region.to_owned(),
            source_arn: source_arn.map(str::to_owned),
            cause: String::new(),
            durability,
        })
    }

    /// A console action of the session `principal` (its key from the sign-in), made from the
    /// browser at `source_ip`, waiting for its record as a client's call does.
    pub fn console(
        principal: Principal,
        source_ip: &str,
        user_agent: &str,
        region: &str,
    ) -> Internal {
        let account = principal
            .account()
            .map(|a| a.to_string())
            .unwrap_or_default();
        Internal {
            actor: Actor::Console {
                principal,
                source_ip: source_ip.to_owned(),
                user_agent: user_agent.to_owned(),
                via: None,
            },
            account,
            region: region.to_owned(),
            source_arn: None,
            cause: String::new(),
            durability: Durability::Wait,
        }
    }

    /// The same call made by the AWS service `via` for the person (the sign-in service
    /// changing a password it required changed), as AWS records those.
    pub fn via(mut self, via: &'static str) -> Internal {
        if let Actor::Console { via: v, .. } = &mut self.actor {
            *v = Some(via);
        }
        self
    }

    fn context(&self, request_id: String) -> CallContext {
        if let Actor::Console {
            principal,
            source_ip,
            user_agent,
            via,
        } = &self.actor
        {
            return CallContext {
                principal: principal.clone(),
                recipient_account: self.account.clone(),
                region: self.region.clone(),
                source_ip: source_ip.clone(),
                user_agent: Some(via.map_or_else(|| user_agent.clone(), str::to_owned)),
                request_id,
                tls: None,
                invoked_by: via.map(str::to_owned),
                source_arn: None,
                from_console: via.is_none(),
                arrival: Some(crate::recorder::Arrival::now()),
            };
        }
        let (principal, by) = match &self.actor {
            Actor::OnBehalf { principal, by } => (principal.clone(), Some((*by).to_owned())),
            Actor::Service(name) => (
                Principal::AwsService {
                    service: name.to_string(),
                },
                Some(name.to_string()),
            ),
            Actor::Caller(principal) => (principal.clone(), None),
            Actor::Console { principal, .. } => (principal.clone(), None),
        };
        CallContext {
            principal,
            recipient_account: self.account.clone(),
            region: self.region.clone(),
            source_ip: by.clone().unwrap_or_else(|| "127.0.0.1".to_owned()),
            user_agent: Some(by.clone().unwrap_or_else(|| "cairn-in-process".to_owned())),
            request_id,
            // Services reach each other inside AWS: their records carry no client TLS details.
            tls: None,
            invoked_by: by,
            source_arn: self.source_arn.clone(),
            from_console: false,
            arrival: Some(crate::recorder::Arrival::now()),
        }
    }

    fn endpoint<'a>(
        app: &'a App,
        service: &str,
    ) -> Result<&'a std::sync::Arc<dyn Endpoint>, AwsError> {
        app.registry
            .get(service)
            .ok_or_else(|| AwsError::internal(format!("no service {service}")))
    }

    /// Calls an operation of the service signed for as `service`, its input and answer JSON as
    /// that service's codec takes them (blocking: from inside a handler or a journal consumer).
    /// Its answer, or its error as the service gave it.
    pub fn call_json(
        &self,
        app: &App,
        service: &str,
        op: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        let endpoint = Self::endpoint(app, service)?;
        let ctx = self.context(endpoint.new_request_id());
        tracing::debug!(cause = %self.cause, request_id = %ctx.request_id, service, op, "internal call");
        endpoint.call_json(app, &ctx, op, input, self.durability)
    }

    /// Whether a JSON call would be allowed: resolved and authorized exactly as
    /// [`Internal::call_json`] would, but never run and never recorded.
    pub fn authorize_json(
        &self,
        app: &App,
        service: &str,
        op: &str,
        input: Value,
    ) -> Result<(), AwsError> {
        let endpoint = Self::endpoint(app, service)?;
        let ctx = self.context(endpoint.new_request_id());
        endpoint.authorize_json(app, &ctx, op, input)
    }

    /// Sends a request to a REST service (S3), which routes, parses, authorizes, runs and
    /// records it as any client's (blocking). Its answer, or its error as the service gave it.
    pub fn call_wire(
        &self,
        app: &App,
        service: &str,
        call: WireCall,
    ) -> Result<WireAnswer, AwsError> {
        let endpoint = Self::endpoint(app, service)?;
        let ctx = self.context(endpoint.new_request_id());
        tracing::debug!(cause = %self.cause, request_id = %ctx.request_id, service, path = %call.path, "internal call");
        let (req, body) = self.wire_request(service, &ctx, call)?;
        endpoint.call_wire(app, &ctx, req, body, self.durability)
    }

    /// Whether a request to a REST service would be allowed: routed, resolved and authorized
    /// exactly as [`Internal::call_wire`] would, but never run and never recorded.
    pub fn authorize_wire(&self, app: &App, service: &str, call: WireCall) -> Result<(), AwsError> {
        let endpoint = Self::endpoint(app, service)?;
        let ctx = self.context(endpoint.new_request_id());
        let (req, body) = self.wire_request(service, &ctx, call)?;
        endpoint.authorize_wire(app, &ctx, req, body)
    }

    /// The request as the service's codec sees a client's, signed by an AWS service as AWS
    /// services sign: SigV4 in the Authorization header.
    fn wire_request(
        &self,
        service: &str,
        ctx: &CallContext,
        call: WireCall,
    ) -> Result<(WireRequest, Bytes), AwsError> {
        let mut headers = http::HeaderMap::new();
        for (name, value) in call.headers {
            let unsendable = || AwsError::internal(format!("an unsendable {name} header"));
            let n = http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| unsendable())?;
            let v = http::HeaderValue::from_str(&value).map_err(|_| unsendable())?;
            headers.append(n, v);
        }
        let req = WireRequest {
            method: call.method,
            path: call.path,
            raw_query: call.query,
            headers,
            auth: Authenticated {
                principal: ctx.principal.clone(),
                service: service.to_owned(),
                region: ctx.region.clone(),
                method: AuthMethod::AuthHeader,
                signature_version: "SigV4",
                streaming: None,
            },
            streamed: None,
        };
        Ok((req, call.body))
    }
}
