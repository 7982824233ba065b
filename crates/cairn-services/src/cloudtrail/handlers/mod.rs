//! Running CloudTrail's operations, one file per topic: `trails.rs` (the trail API),
//! `selectors.rs` (event selectors), `tags.rs`, `lookup.rs` (LookupEvents),
//! `public_keys.rs` (ListPublicKeys), `event_data_stores.rs`, `queries.rs` and `imports.rs`
//! (Lake), `channels.rs` and `resource_policies.rs` (Lake's channels and their policies).

mod channels;
mod delegated_admins;
pub(super) mod event_data_stores;
pub(super) mod imports;
mod lookup;
mod organization;
mod public_keys;
pub(super) mod queries;
mod resource_policies;
mod selectors;
mod tags;
pub(super) mod trails;

use cairn_wire::AwsError;
use serde_json::Value;

use crate::app::App;
use crate::recorder::CallContext;

/// A Lake page size member (`MaxResults`, `MaxQueryResults`): 1–1000, 1000 when absent, else
/// `InvalidMaxResultsException`.
fn page_size(input: &Value, member: &str) -> Result<usize, AwsError> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(1000),
        Some(v) => match v.as_i64() {
            Some(n @ 1..=1000) => Ok(n as usize),
            _ => Err(AwsError::client(
                "InvalidMaxResultsException",
                format!("{member} must be between 1 and 1000."),
            )),
        },
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
        "CreateEventDataStore" => event_data_stores::create(app, ctx, input),
        "GetEventDataStore" => event_data_stores::get(app, ctx, input),
        "ListEventDataStores" => event_data_stores::list(app, ctx, input),
        "UpdateEventDataStore" => event_data_stores::update(app, ctx, input),
        "DeleteEventDataStore" => event_data_stores::delete(app, ctx, input),
        "RestoreEventDataStore" => event_data_stores::restore(app, ctx, input),
        "StartEventDataStoreIngestion" => event_data_stores::start_ingestion(app, ctx, input),
        "StopEventDataStoreIngestion" => event_data_stores::stop_ingestion(app, ctx, input),
        "StartQuery" => queries::start(app, ctx, input),
        "DescribeQuery" => queries::describe(app, ctx, input),
        "GetQueryResults" => queries::results(app, ctx, input),
        "ListQueries" => queries::list(app, ctx, input),
        "CancelQuery" => queries::cancel(app, ctx, input),
        "CreateChannel" => channels::create(app, ctx, input),
        "GetChannel" => channels::get(app, ctx, input),
        "ListChannels" => channels::list(app, ctx, input),
        "UpdateChannel" => channels::update(app, ctx, input),
        "DeleteChannel" => channels::delete(app, ctx, input),
        "PutResourcePolicy" => resource_policies::put(app, ctx, input),
        "GetResourcePolicy" => resource_policies::get(app, ctx, input),
        "DeleteResourcePolicy" => resource_policies::delete(app, ctx, input),
        "StartImport" => imports::start(app, ctx, input),
        "GetImport" => imports::get(app, ctx, input),
        "ListImports" => imports::list(app, ctx, input),
        "StopImport" => imports::stop(app, ctx, input),
        "ListImportFailures" => imports::failures(app, ctx, input),
        "RegisterOrganizationDelegatedAdmin" => delegated_admins::register(app, ctx, input),
        "DeregisterOrganizationDelegatedAdmin" => delegated_admins::deregister(app, ctx, input),
        other => Err(AwsError::client(
            "UnsupportedOperationException",
            format!("cairn does not support the CloudTrail operation {other} yet."),
        )),
    }
}
