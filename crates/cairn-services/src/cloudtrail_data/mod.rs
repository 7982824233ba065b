//! The CloudTrail Data front (REST-JSON, `POST /PutAuditEvents?channelArn=…&externalId=…`,
//! signing name `cloudtrail-data`): events from outside AWS delivered through a CloudTrail Lake
//! channel into its destination event data stores.
//!
//! The rooms (the same in every service; see `docs/adding-a-service.md`):
//! - `mod.rs`: the [`Service`] impl only: signing name, event source, codec, wiring.
//! - `operations.rs`: the operation table (PutAuditEvents, a data event).
//! - `resolve.rs`: the channel a call names and the check it needs, with the channel's
//!   resource policy and `cloudtrail:ExternalId`.
//! - `handlers.rs`: PutAuditEvents.
//! - `record.rs`: how calls are recorded.
//! - `wire.rs`: the REST-JSON route.
//!
//! The service's own: `validate.rs` (each audit event's `eventData` checked as AWS documents
//! it, and the record CloudTrail makes of it).
//! Channels are Lake documents in `cairn-store` (written by CloudTrail's channel operations),
//! events go into the columnar engine behind `app.columnar`.

mod handlers;
mod operations;
mod record;
mod resolve;
mod validate;
mod wire;

pub use operations::OPERATIONS;
pub use resolve::DataPlan;

use cairn_wire::AwsError;
use serde_json::Value;

use crate::app::App;
use crate::pipeline::codec::rest_json::RestJsonCodec;
use crate::pipeline::{Check, Details, Operation, Recording, Service};
use crate::recorder::CallContext;

pub const EVENT_SOURCE: &str = "cloudtrail-data.amazonaws.com";

/// The CloudTrail Data service.
pub struct CloudTrailData;

impl Service for CloudTrailData {
    type Codec = RestJsonCodec;
    type Plan = DataPlan;

    fn signing_name(&self) -> &'static str {
        "cloudtrail-data"
    }

    fn event_source(&self) -> &'static str {
        EVENT_SOURCE
    }

    fn codec(&self) -> &RestJsonCodec {
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
        input: &Value,
        plan: &mut DataPlan,
    ) -> Result<Vec<Check>, AwsError> {
        resolve::resolve(app, ctx, op, input, plan)
    }

    fn run(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        input: &Value,
        plan: &mut DataPlan,
    ) -> Result<Value, AwsError> {
        handlers::run(app, ctx, op.name, input, plan)
    }

    fn record(
        &self,
        _app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        call: Recording<'_, Self>,
    ) -> Details {
        record::record(ctx, op, call)
    }
}
