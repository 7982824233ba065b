//! What an STS call acts on: AssumeRole's role, decided by its trust policy (with the caller's
//! identity policies when the trust policy names the caller's account). The other operations
//! need no check of their own.

use std::collections::BTreeMap;

use cairn_model::{AccountId, Principal};
use cairn_policy::ResourceRule;
use cairn_store::identity::Role;
use cairn_wire::AwsError;

use super::handlers::{denied, duration, mfa, validation};
use crate::app::App;
use crate::pipeline::codec::form::{Form, optional as param, required};
use crate::pipeline::{Check, Operation, PolicyOf};
use crate::recorder::CallContext;

/// The checks a call needs, and what running it will act on (`plan`).
pub(super) fn resolve(
    app: &App,
    ctx: &CallContext,
    op: &'static Operation,
    form: &Form,
    plan: &mut AssumePlan,
) -> Result<Vec<Check>, AwsError> {
    match op.name {
        "AssumeRole" => resolve_assume_role(app, ctx, form, plan),
        _ => Ok(Vec::new()),
    }
}

/// The role an ARN names: `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
fn role_of(app: &App, arn: &str) -> Option<Role> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role/")?;
    let name = path_and_name.rsplit('/').next()?;
    let account = AccountId::parse(account).ok()?;
    let role = app.identity.role(&account, name).ok()?;
    (role.arn() == arn).then_some(role)
}

/// What resolving an AssumeRole call found, for running it.
#[derive(Default)]
pub struct AssumePlan {
    pub(super) role: Option<Role>,
    pub(super) session_name: String,
    pub(super) with_mfa: bool,
    pub(super) seconds: i64,
}

/// Validates an AssumeRole call and finds its role; the role's trust policy decides it (with
/// the caller's identity policies when the trust policy names the caller's account).
pub fn resolve_assume_role(
    app: &App,
    ctx: &CallContext,
    p: &BTreeMap<String, String>,
    plan: &mut AssumePlan,
) -> Result<Vec<Check>, AwsError> {
    let role_arn = required(p, "RoleArn")?;
    let session_name = required(p, "RoleSessionName")?;
    let name_ok = (2..=64).contains(&session_name.len())
        && session_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !name_ok {
        return Err(validation(format!(
            "1 validation error detected: Value '{session_name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        )));
    }
    if p.contains_key("Policy") || p.keys().any(|k| k.starts_with("PolicyArns.")) {
        return Err(AwsError::new(
            501,
            "NotImplemented",
            "cairn does not support session policies (Policy, PolicyArns) on AssumeRole yet.",
        ));
    }
    if matches!(ctx.principal, Principal::Root { .. }) {
        return Err(denied("Roles may not be assumed by root accounts."));
    }
    let caller_arn = ctx.principal.arn();
    let not_authorized = || {
        denied(format!(
            "User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
        ))
    };
    let role = role_of(app, role_arn).ok_or_else(not_authorized)?;
    let with_mfa = mfa(app, ctx, p)?;
    // Role chaining is limited to one hour, as in AWS.
    let (max, too_long) = match ctx.principal {
        Principal::AssumedRole { .. } => (
            3600,
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ),
        _ => (
            role.max_session_duration,
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ),
    };
    let seconds = duration(p, 3600, max, too_long)?;
    let mut keys = Vec::new();
    if with_mfa {
        keys.push(("aws:MultiFactorAuthPresent", "true".to_owned()));
        keys.push(("aws:MultiFactorAuthAge", "0".to_owned()));
    }
    if let Some(x) = param(p, "ExternalId") {
        keys.push(("sts:ExternalId", x.to_owned()));
    }
    keys.push(("sts:RoleSessionName", session_name.to_owned()));
    let check = Check::new("sts:AssumeRole", role_arn)
        .with_policy(PolicyOf {
            document: Some(role.trust_policy.clone()),
            account: role.account.to_string(),
            rule: ResourceRule::Exclusive,
        })
        .with_keys(keys)
        .denied_as(not_authorized());
    *plan = AssumePlan {
        role: Some(role),
        session_name: session_name.to_owned(),
        with_mfa,
        seconds,
    };
    Ok(vec![check])
}
