//! What a Logs call acts on: the log group it names (by `logGroupName`, `logGroupIdentifier`
//! or, for tags, `resourceArn`), which must exist for every operation but CreateLogGroup, and
//! the IAM check it needs. As AWS's refusals show ("… on resource:
//! arn:aws:logs:…:log-group:<g>:log-stream:"), group-level actions are judged on the group's
//! ARN with an empty stream, so `log-group:<g>:*` grants them; stream-level actions on the
//! stream's ARN. A call by an AWS service is judged with the account's resource policies
//! (`account_policy`), which must allow it.

use cairn_store::logs::{GroupKey, LogGroup};
use cairn_wire::AwsError;
use serde_json::Value;

use super::account_policy;
use super::handlers::{group_name_of, internal, invalid, missing, no_such_group, str_member};
use super::wire::stream_arn;
use crate::app::App;
use crate::pipeline::Check;
use crate::recorder::CallContext;

/// What a Logs call acts on, found before it is authorized.
#[derive(Default)]
pub struct LogsPlan {
    /// The group the call names (for CreateLogGroup, the one to create).
    pub key: Option<GroupKey>,
    /// The group as stored, when it exists.
    pub group: Option<LogGroup>,
}

/// Operations on a log stream (judged on the stream's ARN).
const STREAM_LEVEL: [&str; 4] = [
    "CreateLogStream",
    "DeleteLogStream",
    "PutLogEvents",
    "GetLogEvents",
];

/// Operations that name no group.
const NO_GROUP: [&str; 5] = [
    "DescribeLogGroups",
    "TestMetricFilter",
    "PutResourcePolicy",
    "DescribeResourcePolicies",
    "DeleteResourcePolicy",
];

/// The group a tagging call's `resourceArn` names (`…:log-group:<name>`, with or without `:*`).
fn group_of_arn(ctx: &CallContext, arn: &str) -> Result<GroupKey, AwsError> {
    let rest = arn
        .strip_prefix(&format!(
            "arn:aws:logs:{}:{}:log-group:",
            ctx.region, ctx.recipient_account
        ))
        .ok_or_else(|| invalid(format!("Invalid resource arn: {arn}")))?;
    let name = rest.strip_suffix(":*").unwrap_or(rest);
    Ok(GroupKey::new(&ctx.recipient_account, &ctx.region, name))
}

pub(super) fn resolve(
    app: &App,
    ctx: &CallContext,
    op: &str,
    input: &Value,
    plan: &mut LogsPlan,
) -> Result<Vec<Check>, AwsError> {
    let action = format!("logs:{op}");
    let account_wide = format!(
        "arn:aws:logs:{}:{}:log-group::log-stream:",
        ctx.region, ctx.recipient_account
    );
    if NO_GROUP.contains(&op) {
        return Ok(vec![Check::new(action, account_wide)]);
    }
    if op == "DescribeMetricFilters" && input.get("logGroupName").is_none() {
        return Ok(vec![Check::new(action, account_wide)]);
    }
    let key = match op {
        "TagResource" | "UntagResource" | "ListTagsForResource" => {
            let arn = str_member(input, "resourceArn").ok_or_else(|| missing("resourceArn"))?;
            group_of_arn(ctx, arn)?
        }
        _ if super::operations::SERVED.contains(&op) => GroupKey::new(
            &ctx.recipient_account,
            &ctx.region,
            group_name_of(ctx, input)?,
        ),
        // Operations cairn does not have need no permission to be told so.
        _ => return Ok(Vec::new()),
    };
    let resource = if STREAM_LEVEL.contains(&op) {
        stream_arn(&key, str_member(input, "logStreamName").unwrap_or(""))
    } else {
        format!("{}:log-stream:", key.arn())
    };
    if op != "CreateLogGroup" {
        let group = app.logs.group(&key).map_err(internal)?;
        plan.group = Some(group.ok_or_else(no_such_group)?);
    }
    plan.key = Some(key);
    if writes_function_logs(ctx, op) {
        return Ok(Vec::new());
    }
    let check = Check::new(action, resource);
    Ok(vec![match account_policy::for_caller(app, ctx)? {
        Some(policy) => check.with_policy(policy),
        None => check,
    }])
}

/// Lambda writing its functions' output to `/aws/lambda/<name>`, as part of its own service:
/// no policy of the account decides it, so a function's print() reaches its log group
/// without the AWSLambdaBasicExecutionRole policy AWS's execution roles need `[I]`.
fn writes_function_logs(ctx: &CallContext, op: &str) -> bool {
    matches!(&ctx.principal, cairn_model::Principal::AwsService { service } if service == "lambda.amazonaws.com")
        && matches!(op, "CreateLogGroup" | "CreateLogStream" | "PutLogEvents")
}
