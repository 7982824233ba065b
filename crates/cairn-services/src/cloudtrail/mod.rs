//! The CloudTrail front (JSON 1.1, `X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Op>`).
//!
//! Event history (LookupEvents) is served here. Trail management arrives with trails; until
//! then the trail read operations answer truthfully for an account that has no trails, and
//! every other operation answers `UnsupportedOperationException` naming itself.

mod destination;
mod lookup;
mod names;
mod public_keys;
mod selectors;
mod tags;
mod token;
pub mod trails;

use cairn_model::EventCategory;
use cairn_wire::AwsError;
use serde_json::Value;

use crate::app::App;
use crate::params;
use crate::recorder::{CallContext, CallFacts};

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

/// The operation an `X-Amz-Target` names, if it is one of CloudTrail's.
pub fn operation(target: &str) -> Option<&'static str> {
    let name = target
        .strip_prefix(TARGET_PREFIX)
        .or_else(|| target.strip_prefix("CloudTrail_20131101."))?;
    OPERATIONS.iter().copied().find(|op| *op == name)
}

/// The CloudTrail front for the edge.
pub struct Front;

impl crate::edge::json::JsonFront for Front {
    fn operation(&self, target: &str) -> Option<&'static str> {
        operation(target)
    }

    fn permission(
        &self,
        _app: &App,
        ctx: &CallContext,
        op: &'static str,
        input: &Value,
    ) -> Option<(String, String)> {
        Some((format!("cloudtrail:{op}"), resource_of(ctx, input)))
    }

    fn call(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static str,
        input: Result<&Value, &AwsError>,
    ) -> (Result<Value, AwsError>, CallFacts) {
        let result = match input {
            Ok(v) => handle(app, ctx, op, v),
            Err(e) => Err(e.clone()),
        };
        let facts = facts(op, input.unwrap_or(&Value::Null), result.as_ref().ok());
        (result, facts)
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
pub fn facts(op: &str, input: &Value, output: Option<&Value>) -> CallFacts {
    let read_only = is_read_only(op);
    CallFacts {
        event_source: EVENT_SOURCE.to_owned(),
        event_name: op.to_owned(),
        read_only,
        category: EventCategory::Management,
        request_parameters: params::request_parameters(input),
        // AWS writes responseElements for mutating calls only.
        response_elements: if read_only {
            None
        } else {
            output.and_then(params::request_parameters)
        },
        additional_event_data: None,
        resources: Vec::new(),
        shared_with: None,
    }
}

/// Serves one CloudTrail operation.
pub fn handle(app: &App, ctx: &CallContext, op: &str, input: &Value) -> Result<Value, AwsError> {
    if !input.is_object() {
        return Err(AwsError::client(
            "SerializationException",
            "Start of structure or map found where not expected.",
        ));
    }
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
