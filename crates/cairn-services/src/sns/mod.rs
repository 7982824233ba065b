//! The SNS front (query protocol, version 2010-03-31): topics (attributes, policy, tags,
//! permissions), subscriptions over http, https, email, email-json and sqs with the
//! confirmation handshake, Publish and PublishBatch with message attributes, filter
//! policies and raw delivery, and durable, signed, retried delivery. Calls are recorded as
//! `sns.amazonaws.com` events: management events, except Publish and PublishBatch, which are
//! data events. Operations cairn does not have answer `InvalidAction` saying so.
//!
//! The rooms (the same in every service; see `docs/adding-a-service.md`):
//! - `mod.rs`: the [`Service`] impl only: signing name, event source, codec, wiring.
//! - `operations.rs`: the operation table.
//! - `resolve.rs`: the topic (or subscription) a call names and the check it needs, with
//!   the topic's policy.
//! - `handlers/`: `topics`, `subscriptions`, `publish`, `tags`, and in `mod.rs` the errors
//!   and the default topic policy they share.
//! - `record.rs`: how calls are recorded (no message bodies, no tokens).
//! - `wire.rs`: the query codec, the form's maps and lists, XML writers.
//!
//! The service's own: `message.rs` (queued messages, AWS's envelope and the string to sign),
//! `signing.rs` (the key and certificate, SHA1withRSA and SHA256withRSA), `filter.rs`
//! (filter policies), `delivery/` (the outbox worker: HTTP(S), email files, SQS, retries),
//! `public.rs` (the unsigned certificate and confirmation links).
//! State lives in `cairn-store`, behind `app.sns`.

pub mod delivery;
mod filter;
mod handlers;
mod message;
mod operations;
pub mod public;
mod record;
mod resolve;
pub mod signing;
mod wire;

pub use operations::OPERATIONS;
pub use resolve::SnsPlan;

use cairn_wire::AwsError;

use crate::app::App;
use crate::pipeline::codec::form::Form;
use crate::pipeline::codec::query::{QueryCodec, Reply};
use crate::pipeline::{Check, Details, Operation, Recording, Service};
use crate::recorder::CallContext;

pub const EVENT_SOURCE: &str = "sns.amazonaws.com";

/// The SNS service.
pub struct Sns;

impl Service for Sns {
    type Codec = QueryCodec;
    type Plan = SnsPlan;

    fn signing_name(&self) -> &'static str {
        "sns"
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
        plan: &mut SnsPlan,
    ) -> Result<Vec<Check>, AwsError> {
        resolve::resolve(app, ctx, op.name, form, plan)
    }

    fn run(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        form: &Form,
        plan: &mut SnsPlan,
    ) -> Result<Reply, AwsError> {
        handlers::run(app, ctx, op.name, form, plan)
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
