//! Account-level resource policies: PutResourcePolicy (create or replace by name; at most ten
//! per account and region; the document must be a valid resource policy), DescribeResourcePolicies
//! (by name; pages) and DeleteResourcePolicy. They decide what AWS services may do to the
//! account's log groups (`crate::logs::account_policy`). The newer resource-scoped policies
//! (`resourceArn`, `policyScope: RESOURCE`) are not kept: they answer
//! `UnsupportedOperationException`.

use cairn_policy::{PolicyDocument, PolicyKind};
use cairn_store::logs::ResourcePolicy;
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::{
    DESCRIBE_LIMIT, bad_token, constraint, internal, invalid, limit, required, str_member,
};
use crate::app::App;
use crate::logs::{token, wire};
use crate::recorder::CallContext;

/// Resource policies per account and region ("This quota can't be changed").
const MAX_POLICIES: usize = 10;

/// The longest `policyDocument` (the model's `PolicyDocument` shape; AWS documented 5120
/// characters until the limit was raised).
const MAX_DOCUMENT: usize = 51200;

/// A resource-scoped policy: not kept by cairn.
fn resource_scoped() -> AwsError {
    AwsError::client(
        "UnsupportedOperationException",
        "cairn does not support resource-scoped policies (resourceArn, policyScope RESOURCE) yet; omit them to put an account-level policy.",
    )
}

fn refuse_resource_scope(input: &Value) -> Result<(), AwsError> {
    let scoped = str_member(input, "resourceArn").is_some()
        || str_member(input, "expectedRevisionId").is_some()
        || str_member(input, "policyScope") == Some("RESOURCE");
    if scoped {
        return Err(resource_scoped());
    }
    match str_member(input, "policyScope") {
        None | Some("ACCOUNT" | "RESOURCE") => Ok(()),
        Some(other) => Err(constraint(
            other,
            "policyScope",
            "satisfy enum value set: [ACCOUNT, RESOURCE]",
        )),
    }
}

pub(super) fn put(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    refuse_resource_scope(input)?;
    let name = required(input, "policyName")?;
    let document = required(input, "policyDocument")?;
    let length = document.chars().count();
    if length == 0 {
        return Err(constraint(
            document,
            "policyDocument",
            "have length greater than or equal to 1",
        ));
    }
    if length > MAX_DOCUMENT {
        return Err(constraint(
            document,
            "policyDocument",
            &format!("have length less than or equal to {MAX_DOCUMENT}"),
        ));
    }
    // AWS's text for a document it cannot store (a principal of the wrong type, as seen in
    // terraform-provider-aws#32260); cairn gives it for any invalid document `[I]`.
    PolicyDocument::parse(document, PolicyKind::Resource)
        .map_err(|_| invalid("Could not convert to persistable policy."))?;
    let existing = app
        .logs
        .resource_policies(&ctx.recipient_account, &ctx.region)
        .map_err(internal)?;
    if existing.len() >= MAX_POLICIES && !existing.iter().any(|p| p.name == name) {
        return Err(AwsError::client(
            "LimitExceededException",
            "Resource limit exceeded.",
        ));
    }
    let policy = ResourcePolicy {
        name: name.to_owned(),
        document: document.to_owned(),
        updated_ms: app.clock.now_millis(),
    };
    app.logs
        .put_resource_policy(&ctx.recipient_account, &ctx.region, &policy)
        .map_err(internal)?;
    Ok(json!({ "resourcePolicy": wire::resource_policy(&policy) }))
}

pub(super) fn describe(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    refuse_resource_scope(input)?;
    let limit = limit(input, DESCRIBE_LIMIT, DESCRIBE_LIMIT)?;
    let after = match str_member(input, "nextToken") {
        Some(t) => Some(token::parse_after_name(&app.token_key, t).ok_or_else(bad_token)?),
        None => None,
    };
    let all = app
        .logs
        .resource_policies(&ctx.recipient_account, &ctx.region)
        .map_err(internal)?;
    let mut chosen = all
        .iter()
        .filter(|p| after.as_deref().is_none_or(|a| p.name.as_str() > a));
    let page: Vec<&ResourcePolicy> = chosen.by_ref().take(limit).collect();
    let more = chosen.next().is_some();
    let mut out = json!({
        "resourcePolicies": page.iter().map(|p| wire::resource_policy(p)).collect::<Vec<_>>()
    });
    if more && let Some(last) = page.last() {
        out["nextToken"] = json!(token::after_name(&app.token_key, &last.name));
    }
    Ok(out)
}

pub(super) fn delete(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    refuse_resource_scope(input)?;
    let name = required(input, "policyName")?;
    if !app
        .logs
        .delete_resource_policy(&ctx.recipient_account, &ctx.region, name)
        .map_err(internal)?
    {
        return Err(AwsError::client(
            "ResourceNotFoundException",
            format!("Policy with name [{name}] does not exist"),
        ));
    }
    Ok(json!({}))
}
