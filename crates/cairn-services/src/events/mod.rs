//! The EventBridge front (JSON 1.1, `X-Amz-Target: AWSEvents.<Op>`): event buses (the default
//! bus of each account and region, and custom ones), rules with event patterns (matched by
//! `cairn-rules`) and schedules, targets with input shaping, retry policies and dead-letter
//! queues, PutEvents, TestEventPattern and tags. Calls are recorded as `events.amazonaws.com`
//! events: management events, except PutEvents, a data event. Operations cairn does not have
//! answer `UnsupportedOperationException` saying so.
//!
//! The rooms (the same in every service; see `docs/adding-a-service.md`):
//! - `mod.rs`: the [`Service`] impl only: signing name, event source, codec, wiring.
//! - `operations.rs`: the operation table.
//! - `resolve.rs`: the bus and rule a call names, and the IAM check it needs.
//! - `handlers/`: `buses`, `rules`, `targets`, `put_events` (PutEvents, TestEventPattern),
//!   `tags`, and in `mod.rs` the errors, validation texts and paging they share.
//! - `record.rs`: how calls are recorded.
//! - `wire.rs`: the JSON 1.1 codec, ARNs, and the `Rule` and `EventBus` documents.
//!
//! The service's own: `schedule.rs` (`rate(…)`/`cron(…)`: validation and next firing),
//! `routing/` (the consumer that puts CloudTrail records and PutEvents entries through the
//! rules and delivers to targets).
//! State lives in `cairn-store`, behind `app.events`.

mod handlers;
mod operations;
mod record;
mod resolve;
pub mod routing;
mod schedule;
mod wire;

pub use operations::OPERATIONS;
pub use resolve::EventsPlan;

use cairn_wire::AwsError;
use serde_json::Value;

use crate::app::App;
use crate::pipeline::codec::json::JsonCodec;
use crate::pipeline::{Check, Details, Operation, Recording, Service};
use crate::recorder::CallContext;

pub const EVENT_SOURCE: &str = "events.amazonaws.com";

/// The EventBridge service.
pub struct Events;

impl Service for Events {
    type Codec = JsonCodec;
    type Plan = EventsPlan;

    fn signing_name(&self) -> &'static str {
        "events"
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

    fn resolve(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        input: &Value,
        plan: &mut EventsPlan,
    ) -> Result<Vec<Check>, AwsError> {
        resolve::resolve(app, ctx, op.name, input, plan)
    }

    fn run(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        input: &Value,
        plan: &mut EventsPlan,
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
