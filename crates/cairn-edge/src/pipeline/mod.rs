//! The pipeline: one path every call takes, whatever its service and protocol.
//!
//! authenticate (the edge) → route to the operation (the codec, by the service's table) →
//! parse its input → resolve what it acts on (the service) → authorize (here, for every
//! service: identity policies, and the bucket, key or trust policy the service found) → run
//! (the service) → record (the service shapes the details, the table gives name, category and
//! read-only flag) → make the record durable → commit the call's changes → answer. Audit fails
//! closed: without a durable record the answer is 503 and the call's changes are rolled back
//! (see [`cairn_store::db`]).
//!
//! A service is a [`Service`]: a folder with its operation table, its handlers, its record
//! shaping and its codec, plus one line in the standard registry (the `registry()` of
//! `cairn-services`; the [`Registry`] type is here).

pub mod codec;
pub mod internal;
pub mod operation;
pub mod quick;
pub mod registry;
pub mod service;

use std::sync::Arc;

use bytes::Bytes;
use cairn_model::Principal;
use cairn_store::db;
use cairn_wire::{AwsError, Protocol};
use http::Response;
use http_body_util::Full;

pub use codec::{Answer, Codec, WireRequest};
pub use operation::{Access, Operation};
pub use registry::{PublicRequest, PublicRoute, Registry};
pub use service::{Admission, Check, Details, Ended, PolicyOf, Recording, Service};

use crate::app::App;
use crate::authz::{self, ResourcePolicy};
use crate::recorder::{self, Arrival, CallContext, CallFacts};

/// An authenticated call on its way to a service.
#[derive(Clone, Debug)]
pub struct Call {
    pub principal: Principal,
    /// The account the call is recorded for when its principal has none: an anonymous
    /// caller's call goes to the owner of what it addresses (S3: the bucket's owner).
    pub account: Option<String>,
    /// The refusal already decided on the call's head, before its body was read (an
    /// anonymous write its bucket does not allow): the call is recorded as refused, never run.
    pub refused: Option<AwsError>,
    pub region: String,
    pub source_ip: String,
    pub user_agent: Option<String>,
    pub request_id: String,
    pub tls: Option<cairn_model::TlsDetails>,
    /// When the request arrived, and its body was read.
    pub arrival: Arrival,
}

/// Serves one call of service `svc`.
pub async fn serve<S: Service>(
    svc: Arc<S>,
    app: Arc<App>,
    call: Call,
    req: WireRequest,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let protocol = svc.codec().protocol_of(&req);
    let answer = Answer {
        request_id: call.request_id.clone(),
        head: req.method == http::Method::HEAD,
        protocol,
    };
    let (op, routed) = match svc.codec().route(svc.operations(), &req, &body) {
        Ok(r) => r,
        Err(e) => return svc.codec().error(&e, &answer),
    };
    let refused = call.refused.clone();
    let Some(ctx) = context_of(call, svc.home_region()) else {
        let e = AwsError::internal("caller has no account");
        return svc.codec().error(&e, &answer);
    };
    let svc2 = Arc::clone(&svc);
    let parse = move |ctx: &CallContext| svc2.codec().parse(routed, &req, body, ctx);
    match execute(Arc::clone(&svc), app, ctx, op, protocol, parse, refused).await {
        Ok(out) => svc.codec().encode(op, out, &answer),
        Err(e) => svc.codec().error(&e, &answer),
    }
}

/// What the recorder and the service know of a call from the edge: recorded for its
/// principal's account (or, for a principal of none, the account the edge found for it), in
/// the service's home region if it has one. `None`: there is no account to record it for.
pub fn context_of(call: Call, home_region: Option<&str>) -> Option<CallContext> {
    let account = match call.principal.account() {
        Some(a) => a.to_string(),
        None => call.account?,
    };
    Some(CallContext {
        principal: call.principal,
        recipient_account: account,
        region: home_region.map(str::to_owned).unwrap_or(call.region),
        source_ip: call.source_ip,
        user_agent: call.user_agent,
        request_id: call.request_id,
        tls: call.tls,
        invoked_by: None,
        from_console: false,
        source_arn: None,
        arrival: Some(call.arrival),
    })
}

/// Runs a call whose operation is known, from parsing its input to making its record durable
/// (audit fails closed: without a durable record the answer is 503). Refusals are shaped for
/// `protocol`, the one the request came in. A call `refused` already is recorded as refused
/// with that error, and never resolved or run.
pub async fn execute<S, P>(
    svc: Arc<S>,
    app: Arc<App>,
    ctx: CallContext,
    op: &'static Operation,
    protocol: Protocol,
    parse: P,
    refused: Option<AwsError>,
) -> Result<service::Output<S>, AwsError>
where
    S: Service,
    P: FnOnce(&CallContext) -> Result<service::Input<S>, AwsError> + Send + 'static,
{
    if app.journal.failure().is_some() {
        return Err(AwsError::audit_unavailable());
    }
    let (app2, ctx2) = (Arc::clone(&app), ctx.clone());
    let work = move || {
        let entered = db::enter();
        let input = parse(&ctx2);
        let (result, facts) = stages(&*svc, &app2, &ctx2, op, protocol, input, refused);
        (result, facts, entered.leave())
    };
    // The stages touch the stores: never on the reactor itself.
    let worked = if op.quick {
        app.quick.run(work).await
    } else {
        tokio::task::spawn_blocking(work).await.ok()
    };
    let Some((result, facts, writes)) = worked else {
        return Err(AwsError::internal("the operation failed unexpectedly"));
    };
    let Some(facts) = facts else {
        // Not the claimed principal's call after all: nothing of it stays, nothing records it.
        if !writes.is_empty() {
            let _ = tokio::task::spawn_blocking(move || writes.finish(false)).await;
        }
        return result;
    };
    if writes.is_empty() {
        recorder::commit(&app, &ctx, facts, result.as_ref().err()).await?;
        return result;
    }
    // The call changed state: those changes commit only once its record is durable. This
    // runs as a task of its own so that a client hanging up cannot cut it short (its group
    // may hold other calls' changes too).
    let finishing = tokio::spawn(async move {
        let recorded = recorder::commit(&app, &ctx, facts, result.as_ref().err()).await;
        let ok = recorded.is_ok();
        let finished = tokio::task::spawn_blocking(move || writes.finish(ok)).await;
        recorded?;
        match finished {
            Ok(Ok(())) => result,
            Ok(Err(e)) => Err(rolled_back(&ctx.request_id, &e)),
            Err(_) => Err(AwsError::internal("the operation failed unexpectedly")),
        }
    });
    finishing
        .await
        .unwrap_or_else(|_| Err(AwsError::internal("the operation failed unexpectedly")))
}

/// A call whose changes were rolled back (its record, or another in its group, did not become
/// durable, or the store could not commit) is refused like one that could not be recorded.
fn rolled_back(request_id: &str, e: &cairn_store::StoreError) -> AwsError {
    tracing::error!(error = %e, %request_id, "a call's changes were rolled back; refusing it");
    AwsError::audit_unavailable()
}

/// How an internal call's record is made durable, if it has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Wait until it is durable before returning (a call made on its own).
    Wait,
    /// Append it and return at once: the call that made this one waits for its own record,
    /// appended later to the same ordered journal, and no answer goes out before that record —
    /// and so this one — is durable. If the journal fails in between, that answer is 503.
    CoveredByCaller,
    /// Make no record: the call is one AWS shows no event for (CloudTrail judging a trail's
    /// bucket and key when the trail is created or changed). It is authorized and run all the
    /// same; only its record is left out, on purpose. Its changes, if any, commit at once or
    /// with the call that made it.
    Unrecorded,
}

/// Runs a call on this (blocking) thread and records it: an internal call from inside another
/// service's handler, or from the in-process test application.
pub fn execute_here<S: Service + ?Sized>(
    svc: &S,
    app: &App,
    ctx: &CallContext,
    op: &'static Operation,
    input: service::Input<S>,
    durability: Durability,
) -> Result<service::Output<S>, AwsError> {
    if app.journal.failure().is_some() {
        return Err(AwsError::audit_unavailable());
    }
    let entered = db::enter();
    let (result, facts) = stages(svc, app, ctx, op, svc.codec().protocol(), Ok(input), None);
    // Empty when this call runs inside another: their changes commit together.
    let writes = entered.leave();
    let recorded = match (durability, facts) {
        (_, None) => Err(result
            .as_ref()
            .err()
            .cloned()
            .unwrap_or_else(|| AwsError::internal("an unauthenticated call succeeded"))),
        (Durability::Unrecorded, _) => Ok(()),
        (Durability::CoveredByCaller, Some(facts)) if writes.is_empty() => {
            recorder::enqueue(app, ctx, facts, result.as_ref().err())
        }
        (Durability::CoveredByCaller | Durability::Wait, Some(facts)) => {
            let runtime = tokio::runtime::Handle::try_current()
                .map_err(|_| AwsError::internal("an internal call needs the server's runtime"))?;
            runtime.block_on(recorder::commit(app, ctx, facts, result.as_ref().err()))
        }
    };
    if !writes.is_empty() {
        writes
            .finish(recorded.is_ok())
            .map_err(|e| rolled_back(&ctx.request_id, &e))?;
    }
    recorded?;
    result
}

/// Whether a call would be allowed, on this (blocking) thread: its service resolves what it
/// acts on and the policies that decide it, and the pipeline judges them, exactly as for the
/// call itself; nothing runs and nothing is recorded. For a permission a service only
/// evaluates (CloudTrail checking that a bucket policy would let it write log files).
pub fn authorize_here<S: Service + ?Sized>(
    svc: &S,
    app: &App,
    ctx: &CallContext,
    op: &'static Operation,
    input: &service::Input<S>,
) -> Result<(), AwsError> {
    let mut plan = S::Plan::default();
    let checks = svc.resolve(app, ctx, op, input, &mut plan)?;
    authorize(app, ctx, op, svc.codec().protocol(), &checks)
}

/// Resolve, authorize, run and describe one call (blocking: it touches the stores). No facts:
/// the call is not to be recorded (it was not its claimed principal's). A call `refused`
/// already ends there, denied.
fn stages<S: Service + ?Sized>(
    svc: &S,
    app: &App,
    ctx: &CallContext,
    op: &'static Operation,
    protocol: Protocol,
    input: Result<service::Input<S>, AwsError>,
    refused: Option<AwsError>,
) -> (Result<service::Output<S>, AwsError>, Option<CallFacts>) {
    let mut plan = S::Plan::default();
    let (result, ended) = match (&input, refused) {
        (Err(e), _) => (Err(e.clone()), Ended::Unparsed),
        (Ok(_), Some(e)) => (Err(e), Ended::Denied),
        (Ok(input), None) => match svc.resolve(app, ctx, op, input, &mut plan) {
            Err(e) => (Err(e), Ended::Unresolved),
            Ok(checks) => match authorize(app, ctx, op, protocol, &checks) {
                Err(e) => (Err(e), Ended::Denied),
                Ok(()) => (svc.run(app, ctx, op, input, &mut plan), Ended::Ran),
            },
        },
    };
    let details = svc.record(
        app,
        ctx,
        op,
        Recording {
            input: input.as_ref().ok(),
            plan: &plan,
            result: result.as_ref(),
            ended,
        },
    );
    if let Some(e) = details.unauthenticated {
        return (Err(e), None);
    }
    let facts = CallFacts {
        event_source: svc.event_source().to_owned(),
        event_name: op.event_name.to_owned(),
        read_only: op.read_only,
        category: op.category,
        request_parameters: details.request_parameters,
        response_elements: details.response_elements,
        additional_event_data: details.additional_event_data,
        resources: details.resources,
        shared_with: details.shared_with,
        recorded_error: details.recorded_error,
        answer: details.answer,
    };
    (result, Some(facts))
}

/// Judges every permission a call needs; the first refusal is the answer.
pub fn authorize(
    app: &App,
    ctx: &CallContext,
    op: &Operation,
    protocol: Protocol,
    checks: &[Check],
) -> Result<(), AwsError> {
    for c in checks {
        debug_assert!(
            op.actions.contains(&c.action),
            "{} checks {} but its table entry lists {:?}",
            op.name,
            c.action,
            op.actions
        );
        let policy = c.policy.as_ref().map(|p| ResourcePolicy {
            document: p.document.as_deref(),
            account: &p.account,
            rule: p.rule,
        });
        let keys: Vec<(&str, String)> = c
            .condition_keys
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        if let Err(d) = authz::authorize(app, ctx, &c.action, &c.resource, policy, &keys) {
            return Err(c.denied_as.clone().unwrap_or_else(|| d.to_error(protocol)));
        }
        if let Some(e) = &c.allowed_but {
            return Err(e.clone());
        }
    }
    Ok(())
}
