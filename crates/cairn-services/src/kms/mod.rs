//! The KMS front (JSON 1.1, `X-Amz-Target: TrentService.<Op>`): symmetric keys, aliases, key
//! policies, Encrypt/Decrypt and data keys. Every call is recorded as a `kms.amazonaws.com`
//! management event, with the key among its `resources`; plaintexts and ciphertexts never
//! reach a record. Operations cairn does not have answer `UnsupportedOperationException`.

//!
//! The rooms (the same in every service; see `docs/adding-a-service.md`):
//! - `mod.rs`: the [`Service`] impl only: signing name, event source, codec, wiring.
//! - `operations.rs`: the operation table.
//! - `resolve.rs`: what a call acts on (the key it names) and the key-policy check it needs.
//! - `handlers.rs`: running each operation.
//! - `record.rs`: how calls are recorded (secrets scrubbed, the key among the resources).
//! - `wire.rs`: the JSON 1.1 codec and the `KeyMetadata` document.
//!
//! The service's own: `crypto.rs` (sealing and opening ciphertext blobs).
//! State (keys, aliases, key material) lives in `cairn-store`, behind `app.kms`.

mod crypto;
mod handlers;
mod operations;
mod record;
mod resolve;
mod wire;

pub use operations::OPERATIONS;
pub use resolve::KmsPlan;
pub use wire::TARGET_PREFIX;

use cairn_wire::AwsError;
use serde_json::Value;

use crate::app::App;
use crate::pipeline::codec::json::JsonCodec;
use crate::pipeline::{Check, Details, Operation, Recording, Service};
use crate::recorder::CallContext;

pub const EVENT_SOURCE: &str = "kms.amazonaws.com";

/// The KMS service.
pub struct Kms;

impl Service for Kms {
    type Codec = JsonCodec;
    type Plan = KmsPlan;

    fn signing_name(&self) -> &'static str {
        "kms"
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
        plan: &mut KmsPlan,
    ) -> Result<Vec<Check>, AwsError> {
        resolve::resolve(app, ctx, op.name, input, plan)
    }

    fn run(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        input: &Value,
        plan: &mut KmsPlan,
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
