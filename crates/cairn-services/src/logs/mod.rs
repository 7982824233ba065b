//! The CloudWatch Logs front (JSON 1.1, `X-Amz-Target: Logs_20140328.<Op>`): log groups
//! (retention, tags), log streams, log events (PutLogEvents with AWS's batch rules,
//! GetLogEvents with forward and backward tokens, FilterLogEvents with filter patterns from
//! `cairn-rules`), and metric filters with TestMetricFilter. Calls are recorded as
//! `logs.amazonaws.com` events: management events, except the log event reads and writes,
//! which are data events. Account-level resource policies decide what AWS services (EventBridge
//! writing to a log group target) may do. Operations cairn does not have answer
//! `UnsupportedOperationException`.
//!
//! The rooms (the same in every service; see `docs/adding-a-service.md`):
//! - `mod.rs`: the [`Service`] impl only: signing name, event source, codec, wiring.
//! - `operations.rs`: the operation table.
//! - `resolve.rs`: the log group (and stream) a call names, and the IAM check it needs.
//! - `handlers/`: `groups`, `streams`, `events` (put, get, filter), `metric_filters`,
//!   `subscription_filters`, `resource_policies`, `tags`, and in `mod.rs` the validation and
//!   errors they share.
//! - `record.rs`: how calls are recorded.
//! - `wire.rs`: the `LogGroup`, `LogStream`, `MetricFilter` documents; `codec.rs`: JSON 1.1,
//!   with PutLogEvents' events read typed.
//!
//! The service's own: `account_policy.rs` (the account's resource policies as the one
//! resource policy a service principal's call is judged with), `token.rs` (GetLogEvents' `f/…`/`b/…` tokens and the opaque paging
//! tokens of the Describe and Filter operations), `metric_data.rs` (the datapoints metric
//! filters publish to CloudWatch), `subscriptions.rs` (subscription filters' delivery to Lambda
//! functions, a consumer of the store).
//! State lives in `cairn-store`, behind `app.logs`.

mod account_policy;
mod codec;
mod handlers;
mod metric_data;
mod operations;
mod record;
mod resolve;
pub mod subscriptions;
mod token;
mod wire;

pub use operations::OPERATIONS;
pub use resolve::LogsPlan;
pub use wire::TARGET_PREFIX;

use cairn_wire::AwsError;
use serde_json::Value;

use crate::app::App;
use crate::pipeline::{Check, Details, Operation, Recording, Service};
use crate::recorder::CallContext;

pub const EVENT_SOURCE: &str = "logs.amazonaws.com";

/// The CloudWatch Logs service.
pub struct Logs;

impl Service for Logs {
    type Codec = codec::LogsCodec;
    type Plan = LogsPlan;

    fn signing_name(&self) -> &'static str {
        "logs"
    }

    fn event_source(&self) -> &'static str {
        EVENT_SOURCE
    }

    fn codec(&self) -> &codec::LogsCodec {
        &codec::CODEC
    }

    fn operations(&self) -> &'static [Operation] {
        operations::table()
    }

    fn resolve(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        input: &codec::LogsInput,
        plan: &mut LogsPlan,
    ) -> Result<Vec<Check>, AwsError> {
        resolve::resolve(app, ctx, op.name, &input.doc, plan)
    }

    fn run(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        input: &codec::LogsInput,
        plan: &mut LogsPlan,
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
