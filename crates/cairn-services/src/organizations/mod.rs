//! The AWS Organizations front (JSON 1.1, `X-Amz-Target: AWSOrganizationsV20161128.<Op>`):
//! organizations, accounts (CreateAccount makes a cairn account), organizational units and
//! service control policies, which cairn's authorization enforces for every call of a member
//! account (`crate::authz`). A global service: calls are recorded in us-east-1 as
//! `organizations.amazonaws.com` management events. Operations cairn does not have answer
//! `UnsupportedAPIEndpointException`.
//!
//! The rooms (the same in every service; see `docs/adding-a-service.md`):
//! - `mod.rs`: the [`Service`] impl only.
//! - `operations.rs`: the operation table.
//! - `resolve.rs`: the check each call needs (`organizations:<Op>` on `*`).
//! - `handlers.rs`: running each operation on the organization's document.
//! - `record.rs`: how calls are recorded.
//! - `wire.rs`: the codec and the documents answers carry.
//!
//! State (each organization, whole) lives in `cairn-store`, behind `app.organizations`.

mod handlers;
mod operations;
mod record;
mod resolve;
mod wire;

pub use operations::OPERATIONS;

use cairn_wire::AwsError;
use serde_json::Value;

use crate::app::App;
use crate::pipeline::codec::json::JsonCodec;
use crate::pipeline::{Check, Details, Operation, Recording, Service};
use crate::recorder::CallContext;

pub const EVENT_SOURCE: &str = "organizations.amazonaws.com";

/// The Organizations service.
pub struct Organizations;

impl Service for Organizations {
    type Codec = JsonCodec;
    type Plan = ();

    fn signing_name(&self) -> &'static str {
        "organizations"
    }

    fn event_source(&self) -> &'static str {
        EVENT_SOURCE
    }

    fn codec(&self) -> &JsonCodec {
        &wire::CODEC
    }

    fn operations(&self) -> &'static [Operation] {
        operations::table()
    }

    fn home_region(&self) -> Option<&'static str> {
        Some("us-east-1")
    }

    fn resolve(
        &self,
        _app: &App,
        _ctx: &CallContext,
        op: &'static Operation,
        _input: &Value,
        _plan: &mut (),
    ) -> Result<Vec<Check>, AwsError> {
        Ok(resolve::checks(op))
    }

    fn run(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        input: &Value,
        _plan: &mut (),
    ) -> Result<Value, AwsError> {
        handlers::run(app, ctx, op.name, input)
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
