//! The STS front (query protocol, version 2011-06-15). GetCallerIdentity answers who the
//! caller is; AssumeRole and GetSessionToken issue temporary credentials; the other operations
//! answer `NotImplemented`.
//! Every call is recorded as an `sts.amazonaws.com` management event.
//!
//! The rooms (the same in every service; see `docs/adding-a-service.md`):
//! - `mod.rs`: the [`Service`] impl only: signing name, event source, codec, wiring.
//! - `operations.rs`: the operation table.
//! - `resolve.rs`: what a call acts on (AssumeRole's role) and the checks it needs.
//! - `handlers.rs`: running each operation (caller identity, role sessions, session tokens).
//! - `record.rs`: how calls are recorded.
//! - `wire.rs`: the query codec and the XML/JSON shapes of credentials.
//!
//! State (users, roles, keys, sessions) lives in `cairn-store`, behind `app.identity`.

mod handlers;
mod operations;
mod record;
mod resolve;
mod wire;

pub use operations::OPERATIONS;
pub use resolve::AssumePlan;

use cairn_wire::AwsError;

use crate::app::App;
use crate::pipeline::codec::form::Form;
use crate::pipeline::codec::query::{QueryCodec, Reply};
use crate::pipeline::{Check, Details, Operation, Recording, Service};
use crate::recorder::CallContext;

pub const EVENT_SOURCE: &str = "sts.amazonaws.com";

/// The STS service.
pub struct Sts;

impl Service for Sts {
    type Codec = QueryCodec;
    type Plan = AssumePlan;

    fn signing_name(&self) -> &'static str {
        "sts"
    }

    fn event_source(&self) -> &'static str {
        EVENT_SOURCE
    }

    fn codec(&self) -> &QueryCodec {
        &wire::CODEC
    }

    fn operations(&self) -> &'static [Operation] {
        operations::table()
    }

    fn resolve(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        form: &Form,
        plan: &mut AssumePlan,
    ) -> Result<Vec<Check>, AwsError> {
        resolve::resolve(app, ctx, op, form, plan)
    }

    fn run(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        form: &Form,
        plan: &mut AssumePlan,
    ) -> Result<Reply, AwsError> {
        handlers::run(app, ctx, op, form, plan)
    }

    fn record(
        &self,
        _app: &App,
        _ctx: &CallContext,
        op: &'static Operation,
        call: Recording<'_, Self>,
    ) -> Details {
        record::record(op, call)
    }
}
