//! The IAM front (query protocol, version 2010-05-08): users, access keys, groups, roles,
//! inline and managed policies, login profiles, virtual MFA devices and the account alias.
//! IAM is global: every call is recorded as an `iam.amazonaws.com` management event in
//! us-east-1, whatever region the client signed for.
//!
//! The rooms (the same in every service; see `docs/adding-a-service.md`):
//! - `mod.rs`: the [`Service`] impl only: signing name, event source, codec, wiring.
//! - `operations.rs`: the operation table.
//! - `resolve.rs`: what a call acts on (the entity it names) and the check it needs.
//! - `handlers/`: running each operation (`entities.rs`, `policies.rs`, `secrets.rs`).
//! - `record.rs`: how calls are recorded.
//! - `wire.rs`: the query codec, the XML shapes and their `responseElements`.
//!
//! The service's own: `validate.rs` (names, paths, policy documents), `qr.rs` (the QR code of
//! a virtual MFA device). State (users, groups, roles, policies, keys) lives in `cairn-store`,
//! behind `app.identity`.

mod handlers;
mod operations;
mod qr;
mod record;
mod resolve;
mod validate;
mod wire;

pub use operations::OPERATIONS;

use cairn_wire::AwsError;

use crate::app::App;
use crate::pipeline::codec::form::Form;
use crate::pipeline::codec::query::{QueryCodec, Reply};
use crate::pipeline::{Check, Details, Operation, Recording, Service};
use crate::recorder::CallContext;

pub const EVENT_SOURCE: &str = "iam.amazonaws.com";
/// Where IAM's global events are recorded.
pub const HOME_REGION: &str = "us-east-1";

/// The IAM service.
pub struct Iam;

impl Service for Iam {
    type Codec = QueryCodec;
    type Plan = ();

    fn signing_name(&self) -> &'static str {
        "iam"
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

    fn home_region(&self) -> Option<&'static str> {
        Some(HOME_REGION)
    }

    fn resolve(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        form: &Form,
        _plan: &mut (),
    ) -> Result<Vec<Check>, AwsError> {
        resolve::resolve(app, ctx, op, form)
    }

    fn run(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        form: &Form,
        _plan: &mut (),
    ) -> Result<Reply, AwsError> {
        handlers::run(app, ctx, op.name, form).map(|d| Reply::xml(d.xml, d.response))
    }

    fn record(
        &self,
        _app: &App,
        _ctx: &CallContext,
        op: &'static Operation,
        call: Recording<'_, Self>,
    ) -> Details {
        record::record(op.name, call)
    }
}
