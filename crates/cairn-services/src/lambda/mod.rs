//! The Lambda front (REST-JSON, `/2015-03-31/functions…`): functions with their code
//! (a zip uploaded or taken from S3; `python3.x` and `provided*` runtimes run, others are
//! kept and refused at invocation), configuration, resource policies (AddPermission's
//! statements decide who may invoke: accounts, and services calling through internal calls
//! with `AWS:SourceArn`/`AWS:SourceAccount` conditions), reserved concurrency, tags, the
//! asynchronous invocation configuration with its destinations, and Invoke
//! (`RequestResponse`, `Event`, `DryRun`). Functions run through `cairn-functions` (the
//! executor, `app.functions`) with their execution role's credentials, their output going to
//! CloudWatch Logs. Management calls are recorded as AWS records them, with the API version
//! in their `eventName` (`CreateFunction20150331`); Invoke as a data event.
//!
//! The rooms (the same in every service; see `docs/adding-a-service.md`):
//! - `mod.rs`: the [`Service`] impl only: signing name, event source, codec, wiring.
//! - `operations.rs`: the operation table, with each operation's `eventName`.
//! - `resolve.rs`: the function a call names and the check it needs, with its policy.
//! - `handlers/`: `functions`, `code`, `permissions`, `settings`, `tags`, `invoke`, and in
//!   `mod.rs` the errors and member readers they share.
//! - `record.rs`: how calls are recorded.
//! - `wire/`: the codec over the model's routes (`routes.rs`) and `FunctionConfiguration`.
//!
//! The service's own: `config.rs` (a function's configuration: validation, defaults, which
//! runtimes run), `execute.rs` (one invocation through the executor), `credentials.rs` (the
//! execution role's sessions), `function_logs.rs` (output into CloudWatch Logs), `worker.rs`
//! (the asynchronous invocation queue's consumer, with AWS's retries) and `destinations.rs`
//! (invocation records sent to on-success and on-failure destinations).
//! State lives in `cairn-store`, behind `app.lambda`.

mod config;
pub(crate) mod credentials;
mod destinations;
mod execute;
mod function_logs;
mod handlers;
mod operations;
mod record;
mod resolve;
mod wire;
pub mod worker;

pub use operations::OPERATIONS;
pub use resolve::LambdaPlan;
pub use wire::route_of;
pub use worker::Invoker;

use cairn_wire::AwsError;
use serde_json::Value;

use crate::app::App;
use crate::pipeline::codec::rest_json::RestJsonCodec;
use crate::pipeline::{Check, Details, Operation, Recording, Service};
use crate::recorder::CallContext;

pub const EVENT_SOURCE: &str = "lambda.amazonaws.com";

/// The Lambda service.
pub struct Lambda;

impl Service for Lambda {
    type Codec = RestJsonCodec;
    type Plan = LambdaPlan;

    fn signing_name(&self) -> &'static str {
        "lambda"
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
        plan: &mut LambdaPlan,
    ) -> Result<Vec<Check>, AwsError> {
        resolve::resolve(app, ctx, op, input, plan)
    }

    fn run(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        input: &Value,
        plan: &mut LambdaPlan,
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
