//! The CloudTrail front (JSON 1.1, `X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Op>`).
//!
//! Event history (LookupEvents) is served here. Trail management arrives with trails; until
//! then the trail read operations answer truthfully for an account that has no trails, and
//! every other operation answers `UnsupportedOperationException` naming itself.

pub mod delivery;
mod destination;
mod lookup;
mod names;
mod public_keys;
mod s3_calls;
mod selectors;
mod tags;
mod token;
pub mod trails;

use std::sync::OnceLock;

use cairn_wire::{AwsError, Protocol};
use serde_json::Value;

use crate::app::App;
use crate::params;
use crate::pipeline::codec::json::JsonCodec;
use crate::pipeline::{Check, Details, Ended, Operation, Recording, Service};
use crate::recorder::CallContext;

pub const TARGET_PREFIX: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.";
pub const EVENT_SOURCE: &str = "cloudtrail.amazonaws.com";

/// Every operation of the CloudTrail API (botocore model 2013-11-01).
pub const OPERATIONS: [&str; 60] = [
    "AddTags",
    "CancelQuery",
    "CreateChannel",
    "CreateDashboard",
    "CreateEventDataStore",
    "CreateTrail",
    "DeleteChannel",
    "DeleteDashboard",
    "DeleteEventDataStore",
    "DeleteResourcePolicy",
    "DeleteTrail",
    "DeregisterOrganizationDelegatedAdmin",
    "DescribeQuery",
    "DescribeTrails",
    "DisableFederation",
    "EnableFederation",
    "GenerateQuery",
    "GetChannel",
    "GetDashboard",
    "GetEventConfiguration",
    "GetEventDataStore",
    "GetEventSelectors",
    "GetImport",
    "GetInsightSelectors",
    "GetQueryResults",
    "GetResourcePolicy",
    "GetTrail",
    "GetTrailStatus",
    "ListChannels",
    "ListDashboards",
    "ListEventDataStores",
    "ListImportFailures",
    "ListImports",
    "ListInsightsData",
    "ListInsightsMetricData",
    "ListPublicKeys",
    "ListQueries",
    "ListTags",
    "ListTrails",
    "LookupEvents",
    "PutEventConfiguration",
    "PutEventSelectors",
    "PutInsightSelectors",
    "PutResourcePolicy",
    "RegisterOrganizationDelegatedAdmin",
    "RemoveTags",
    "RestoreEventDataStore",
    "SearchSampleQueries",
    "StartDashboardRefresh",
    "StartEventDataStoreIngestion",
    "StartImport",
    "StartLogging",
    "StartQuery",
    "StopEventDataStoreIngestion",
    "StopImport",
    "StopLogging",
    "UpdateChannel",
    "UpdateDashboard",
    "UpdateEventDataStore",
    "UpdateTrail",
];

/// The operations cairn serves; the others answer `UnsupportedOperationException`.
const SERVED: [&str; 18] = [
    "LookupEvents",
    "CreateTrail",
    "UpdateTrail",
    "DeleteTrail",
    "GetTrail",
    "DescribeTrails",
    "ListTrails",
    "GetTrailStatus",
    "StartLogging",
    "StopLogging",
    "PutEventSelectors",
    "GetEventSelectors",
    "PutInsightSelectors",
    "GetInsightSelectors",
    "AddTags",
    "RemoveTags",
    "ListTags",
    "ListPublicKeys",
];

/// The CloudTrail service.
pub struct CloudTrail;

static CODEC: JsonCodec = JsonCodec {
    protocol: Protocol::Json11,
    target_prefixes: &[TARGET_PREFIX, "CloudTrail_20131101."],
};

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
        &CODEC
    }

    fn operations(&self) -> &'static [Operation] {
        static TABLE: OnceLock<Vec<Operation>> = OnceLock::new();
        TABLE.get_or_init(|| {
            OPERATIONS
                .iter()
                .map(|&n| Operation::named("cloudtrail", n, is_read_only(n), SERVED.contains(&n)))
                .collect()
        })
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
        Ok(vec![Check::new(
            format!("cloudtrail:{}", op.name),
            resource_of(ctx, input),
        )])
    }

    fn run(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        input: &Value,
        _plan: &mut (),
    ) -> Result<Value, AwsError> {
        handle(app, ctx, op.name, input)
    }

    fn record(
        &self,
        _app: &App,
        _ctx: &CallContext,
        op: &'static Operation,
        call: Recording<'_, Self>,
    ) -> Details {
        // A refused call is recorded without its parameters, as AWS records it.
        match (call.ended, call.input) {
            (Ended::Unresolved | Ended::Ran, Some(input)) => details(op, input, call.result.ok()),
            _ => Details::default(),
        }
    }
}

/// The trail a call names (by name or ARN), as an ARN; `*` for calls on no one trail.
fn resource_of(ctx: &CallContext, input: &Value) -> String {
    let named = ["Name", "TrailName"]
        .iter()
        .find_map(|m| input.get(*m).and_then(Value::as_str))
        .or_else(|| {
            input
                .get("ResourceIdList")
                .and_then(|l| l.get(0))
                .or_else(|| input.get("ResourceId"))
                .and_then(Value::as_str)
        });
    match named {
        Some(arn) if arn.starts_with("arn:") => arn.to_owned(),
        Some(name) => format!(
            "arn:aws:cloudtrail:{}:{}:trail/{name}",
            ctx.region, ctx.recipient_account
        ),
        None => "*".to_owned(),
    }
}

/// Read-only operations are the ones that only look.
pub fn is_read_only(op: &str) -> bool {
    ["Get", "List", "Describe", "Lookup", "Search"]
        .iter()
        .any(|p| op.starts_with(p))
}

/// How a CloudTrail call is recorded.
fn details(op: &Operation, input: &Value, output: Option<&Value>) -> Details {
    Details {
        request_parameters: params::request_parameters(input),
        // AWS writes responseElements for mutating calls only.
        response_elements: if op.read_only {
            None
        } else {
            output.and_then(params::request_parameters)
        },
        ..Details::default()
    }
}

/// Serves one CloudTrail operation.
pub fn handle(app: &App, ctx: &CallContext, op: &str, input: &Value) -> Result<Value, AwsError> {
    match op {
        "LookupEvents" => lookup::lookup_events(app, ctx, input),
        "CreateTrail" => trails::create_trail(app, ctx, input),
        "UpdateTrail" => trails::update_trail(app, ctx, input),
        "DeleteTrail" => trails::delete_trail(app, ctx, input),
        "GetTrail" => trails::get_trail(app, ctx, input),
        "DescribeTrails" => trails::describe_trails(app, ctx, input),
        "ListTrails" => trails::list_trails(app, ctx, input),
        "GetTrailStatus" => trails::get_trail_status(app, ctx, input),
        "StartLogging" => trails::set_logging(app, ctx, input, true),
        "StopLogging" => trails::set_logging(app, ctx, input, false),
        "PutEventSelectors" => trails::put_event_selectors(app, ctx, input),
        "GetEventSelectors" => trails::get_event_selectors(app, ctx, input),
        "PutInsightSelectors" => trails::put_insight_selectors(app, ctx, input),
        "GetInsightSelectors" => trails::get_insight_selectors(app, ctx, input),
        "AddTags" => tags::add_tags(app, ctx, input),
        "RemoveTags" => tags::remove_tags(app, ctx, input),
        "ListTags" => tags::list_tags(app, ctx, input),
        "ListPublicKeys" => public_keys::list_public_keys(app, ctx, input),
        other => Err(AwsError::client(
            "UnsupportedOperationException",
            format!("cairn does not support the CloudTrail operation {other} yet."),
        )),
    }
}
