//! The CloudTrail front (JSON 1.1,
//! `X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Op>`).
//!
//! Event history (LookupEvents) is served here. Trail management arrives with trails; until
//! then the trail read operations answer truthfully for an account that has no trails, and
//! every other operation answers `UnsupportedOperationException` naming itself.

//!
//! The rooms (the same in every service; see `docs/adding-a-service.md`):
//! - `mod.rs`: the [`Service`] impl only: signing name, event source, codec, wiring.
//! - `operations.rs`: the operation table.
//! - `resolve.rs`: what a call acts on (the trail it names) and the check it needs.
//! - `handlers/`: running each operation (`trails.rs`, `selectors.rs`, `tags.rs`,
//!   `lookup.rs`, `public_keys.rs`).
//! - `record.rs`: how calls are recorded.
//! - `wire.rs`: the JSON 1.1 codec and the `Trail` document.
//!
//! The service's own: `delivery.rs` (writing log files and digests through S3's API),
//! `destination.rs` (checking a trail's bucket and key), `s3_calls.rs` (CloudTrail's requests
//! to S3), `cwl_session.rs` (reaching a trail's CloudWatch Logs group as its role),
//! `cwl_settings.rs` (checking a trail's group and role), `cwl_writes.rs` (writing records
//! into the group through Logs' API), `sns_settings.rs` (checking a trail's SNS topic),
//! `sns_notices.rs` (publishing log file notifications through SNS's API), `names.rs` (trail names and ARNs), `token.rs` (signed pagination tokens),
//! `lake_ingest.rs` (event data stores taking the journal's records), `lake_queries.rs`
//! (running Lake's queries), `lake_results.rs` (saving their results to S3 with a sign file),
//! `lake_imports.rs` (running imports from S3).
//! State (trails, events) lives in `cairn-store`, behind `app.trails` and the event store.

mod cwl_session;
mod cwl_settings;
pub mod cwl_writes;
pub mod delivery;
mod destination;
mod handlers;
pub mod lake_imports;
pub mod lake_ingest;
mod lake_keys;
pub mod lake_queries;
mod lake_results;
mod names;
mod operations;
mod record;
mod resolve;
mod s3_calls;
pub mod sns_notices;
mod sns_settings;
mod token;
mod wire;

pub use handlers::handle;
pub use operations::OPERATIONS;
pub use wire::TARGET_PREFIX;

use cairn_wire::AwsError;
use serde_json::Value;

use crate::app::App;
use crate::pipeline::codec::json::JsonCodec;
use crate::pipeline::{Check, Details, Operation, Recording, Service};
use crate::recorder::CallContext;

pub const EVENT_SOURCE: &str = "cloudtrail.amazonaws.com";

/// The CloudTrail service.
pub struct CloudTrail;

impl Service for CloudTrail {
    type Codec = JsonCodec;
    type Plan = ();

    fn signing_name(&self) -> &'static str {
        "cloudtrail"
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

    /// Every operation is judged by identity policies, on the trail it names.
    fn resolve(
        &self,
        _app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        input: &Value,
        _plan: &mut (),
    ) -> Result<Vec<Check>, AwsError> {
        Ok(resolve::resolve(ctx, op, input))
    }

    fn run(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        input: &Value,
        _plan: &mut (),
    ) -> Result<Value, AwsError> {
        handlers::handle(app, ctx, op.name, input)
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
