//! The SQS front (JSON 1.0, `X-Amz-Target: AmazonSQS.<Op>`, errors query-compatible; and
//! query, `Action=<Op>` forms answered in XML, as older SDKs and tools send):
//! standard queues (attributes with AWS's ranges, queue policies, tags), messages (send and
//! batch send with AWS's digests, receive with visibility timeouts and long polling, delete
//! and visibility changes by receipt handle, purge), and dead-letter queues (redrive
//! policies). Queue policies take part in authorization as resource policies, so that SNS
//! and EventBridge (internal calls as `sns.amazonaws.com`, `events.amazonaws.com`) may send
//! where a policy lets them. Calls are recorded as `sqs.amazonaws.com` events: management
//! events, except the message operations, which are data events. FIFO queues and operations
//! cairn does not have answer `AWS.SimpleQueueService.UnsupportedOperation`.
//!
//! The rooms (the same in every service; see `docs/adding-a-service.md`):
//! - `mod.rs`: the [`Service`] impl only: signing name, event source, codec, wiring.
//! - `operations.rs`: the operation table.
//! - `resolve.rs`: the queue a call names and the check it needs, with the queue's policy.
//! - `handlers/`: `queues`, `tags`, `send`, `receive`, `receipts`, `batch`, and in `mod.rs`
//!   the errors and member readers they share.
//! - `record.rs`: how calls are recorded.
//! - `wire.rs`: the codec (JSON 1.0 with query-compatible errors, and query) and queue URLs.
//! - `shapes.rs`: the model's input and output shapes query needs (flattened, renamed).
//!
//! The service's own: `attributes.rs` (queue attributes, defaults, ranges, redrive
//! policies) and `md5.rs` (the digests of bodies and message attributes).
//! State lives in `cairn-store`, behind `app.sqs`.

mod attributes;
mod handlers;
mod md5;
mod operations;
mod record;
mod resolve;
mod shapes;
mod wire;

pub use operations::OPERATIONS;
pub use resolve::SqsPlan;
pub use wire::{SqsCodec, TARGET_PREFIX};

use cairn_wire::AwsError;
use serde_json::Value;

use crate::app::App;
use crate::pipeline::{Check, Details, Operation, Recording, Service};
use crate::recorder::CallContext;

pub const EVENT_SOURCE: &str = "sqs.amazonaws.com";

/// The SQS service.
pub struct Sqs;

impl Service for Sqs {
    type Codec = SqsCodec;
    type Plan = SqsPlan;

    fn signing_name(&self) -> &'static str {
        "sqs"
    }

    fn event_source(&self) -> &'static str {
        EVENT_SOURCE
    }

    fn codec(&self) -> &SqsCodec {
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
        plan: &mut SqsPlan,
    ) -> Result<Vec<Check>, AwsError> {
        resolve::resolve(app, ctx, op.name, input, plan)
    }

    fn run(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        input: &Value,
        plan: &mut SqsPlan,
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
        record::record(op, call, ctx)
    }
}
