//! The CloudWatch front (`monitoring`): metrics (`PutMetricData`, `GetMetricStatistics`,
//! `GetMetricData`, `ListMetrics`) and metric alarms (`PutMetricAlarm`, `DescribeAlarms`,
//! `DescribeAlarmsForMetric`, `DescribeAlarmHistory`, `SetAlarmState`, `DeleteAlarms`,
//! `Enable/DisableAlarmActions`), evaluated on cairn's clock exactly as `cairn-rules` has
//! AWS's rules, with SNS actions. Spoken in Smithy RPC v2 CBOR, JSON 1.0 and query (botocore
//! and the AWS CLI send JSON 1.0; other SDKs CBOR; older SDKs and tools query), each answered
//! in its own protocol. Calls are
//! recorded as `monitoring.amazonaws.com` events: management events, except the metric data
//! operations, which are data events. Operations cairn does not have answer
//! `UnsupportedOperationException`.
//!
//! The rooms (the same in every service; see `docs/adding-a-service.md`):
//! - `mod.rs`: the [`Service`] impl only.
//! - `operations.rs`: the operation table.
//! - `resolve.rs`: the alarm (or metric) a call acts on and the IAM checks it needs.
//! - `handlers/`: `metrics`, `alarms`, and in `mod.rs` the errors and members they share.
//! - `record.rs`: how calls are recorded.
//! - `wire.rs`: the codec and the `MetricAlarm` document.
//! - `shapes.rs`: the model's input and output shapes the codecs need.
//!
//! The service's own: `alarm_config` (the stored configuration ⇄ `cairn-rules`),
//! `evaluator` (alarm evaluation as a clock-driven consumer), `actions` (the SNS
//! notifications a state change sends). State lives in `cairn-store`, behind `app.metrics`.

mod actions;
mod alarm_config;
mod evaluator;
mod handlers;
mod operations;
mod record;
mod resolve;
mod shapes;
mod wire;

pub use actions::CLOUDWATCH;
pub use evaluator::{AlarmWork, evaluate_due};
pub use operations::OPERATIONS;
pub use wire::TARGET;

use cairn_wire::AwsError;
use serde_json::Value;

use crate::app::App;
use crate::pipeline::codec::multi::MultiCodec;
use crate::pipeline::{Check, Details, Operation, Recording, Service};
use crate::recorder::CallContext;

pub const EVENT_SOURCE: &str = "monitoring.amazonaws.com";

/// The CloudWatch service.
pub struct CloudWatch;

impl Service for CloudWatch {
    type Codec = MultiCodec;
    type Plan = ();

    fn signing_name(&self) -> &'static str {
        "monitoring"
    }

    fn event_source(&self) -> &'static str {
        EVENT_SOURCE
    }

    fn codec(&self) -> &MultiCodec {
        &wire::CODEC
    }

    fn operations(&self) -> &'static [Operation] {
        operations::table()
    }

    fn resolve(
        &self,
        _app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        input: &Value,
        _plan: &mut (),
    ) -> Result<Vec<Check>, AwsError> {
        Ok(resolve::checks(ctx, op.name, input))
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
        ctx: &CallContext,
        op: &'static Operation,
        call: Recording<'_, Self>,
    ) -> Details {
        record::record(ctx, op, call)
    }
}
