//! Running Lambda's operations: `functions` (create, read, list, update, delete), `code`
//! (a deployment package from the request or from S3), `permissions` (the resource policy),
//! `settings` (reserved concurrency, asynchronous invocation configuration, account
//! settings), `tags`, and `invoke`. Here: the dispatch, and the errors and member readers
//! they share (Lambda's errors carry `Type`: `User` for the caller's, `Service` for cairn's).

mod code;
mod functions;
pub(super) mod invoke;
mod permissions;
mod settings;
mod tags;

use cairn_wire::AwsError;
use serde_json::Value;

use super::resolve::LambdaPlan;
use crate::app::App;
use crate::recorder::CallContext;

pub(super) use crate::members::str_member;
pub(super) use settings::invoke_config as settings_of;

fn user(status: u16, code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError::new(status, code, message).with_extra("Type", "User")
}

pub(crate) fn internal(e: impl std::fmt::Display) -> AwsError {
    tracing::error!(error = %e, "Lambda: internal failure");
    AwsError::new(500, "ServiceException", e.to_string()).with_extra("Type", "Service")
}

pub(crate) fn invalid(message: impl Into<String>) -> AwsError {
    user(400, "InvalidParameterValueException", message)
}

pub(crate) fn validation(message: impl Into<String>) -> AwsError {
    AwsError::client("ValidationException", message)
}

pub(crate) fn not_found(message: impl Into<String>) -> AwsError {
    user(404, "ResourceNotFoundException", message)
}

pub(crate) fn conflict(message: impl Into<String>) -> AwsError {
    user(409, "ResourceConflictException", message)
}

/// A 1-validation-error `ValidationException` for a number out of its range.
pub(crate) fn out_of_range(
    member: &str,
    value: i64,
    min: Option<i64>,
    max: Option<i64>,
) -> AwsError {
    let constraint = match (min, max) {
        (Some(m), _) if value < m => format!("Member must have value greater than or equal to {m}"),
        (_, Some(m)) => format!("Member must have value less than or equal to {m}"),
        _ => "Member must be valid".to_owned(),
    };
    validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    ))
}

/// An integer member within the model's range, if present.
pub(crate) fn int_in(
    input: &Value,
    name: &str,
    record_name: &str,
    min: Option<i64>,
    max: Option<i64>,
) -> Result<Option<i64>, AwsError> {
    let Some(v) = input.get(name).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let n = v
        .as_i64()
        .ok_or_else(|| invalid(format!("{name} must be an integer")))?;
    if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
        return Err(out_of_range(record_name, n, min, max));
    }
    Ok(Some(n))
}

/// The stored function resolve found.
fn function_of(plan: &LambdaPlan) -> Result<&cairn_store::lambda::Function, AwsError> {
    plan.function
        .as_ref()
        .ok_or_else(|| internal("the function was not resolved"))
}

/// `PreconditionFailedException` when the call names a revision that is not the function's.
fn check_revision(input: &Value, current: &str) -> Result<(), AwsError> {
    match str_member(input, "RevisionId") {
        Some(r) if r != current => Err(user(
            412,
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
        )),
        _ => Ok(()),
    }
}

pub(super) fn run(
    app: &App,
    ctx: &CallContext,
    op: &str,
    input: &Value,
    plan: &mut LambdaPlan,
) -> Result<Value, AwsError> {
    match op {
        "CreateFunction" => functions::create(app, ctx, input, plan),
        "GetFunction" => functions::get(plan),
        "GetFunctionConfiguration" => functions::get_configuration(plan),
        "ListFunctions" => functions::list(app, ctx, input),
        "UpdateFunctionCode" => functions::update_code(app, ctx, input, plan),
        "UpdateFunctionConfiguration" => functions::update_configuration(app, ctx, input, plan),
        "DeleteFunction" => functions::delete(app, plan),
        "AddPermission" => permissions::add(app, input, plan),
        "RemovePermission" => permissions::remove(app, input, plan),
        "GetPolicy" => permissions::get(plan),
        "PutFunctionConcurrency" => settings::put_concurrency(app, ctx, input, plan),
        "GetFunctionConcurrency" => settings::get_concurrency(plan),
        "DeleteFunctionConcurrency" => settings::delete_concurrency(app, plan),
        "PutFunctionEventInvokeConfig" => settings::put_invoke_config(app, input, plan, true),
        "UpdateFunctionEventInvokeConfig" => settings::put_invoke_config(app, input, plan, false),
        "GetFunctionEventInvokeConfig" => settings::get_invoke_config(plan),
        "ListFunctionEventInvokeConfigs" => settings::list_invoke_configs(plan),
        "DeleteFunctionEventInvokeConfig" => settings::delete_invoke_config(app, plan),
        "GetAccountSettings" => settings::account_settings(app, ctx),
        "TagResource" => tags::tag(app, input, plan),
        "UntagResource" => tags::untag(app, input, plan),
        "ListTags" => tags::list(plan),
        "Invoke" => invoke::invoke(app, ctx, input, plan),
        _ => Err(invalid(format!("cairn does not support {op} yet."))),
    }
}

/// Marks an error as the caller's (`"Type": "User"` in the body).
pub(crate) trait AwsErrorExt {
    fn user(self) -> AwsError;
}

impl AwsErrorExt for AwsError {
    fn user(self) -> AwsError {
        self.with_extra("Type", "User")
    }
}
