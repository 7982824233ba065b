//! What an IAM call acts on: the user, group, role, policy or MFA device it names (as stored,
//! path included), the caller's own user for self-service operations, else `*`; and the
//! condition keys it sets. Identity policies decide every IAM call.

use cairn_wire::AwsError;

use super::handlers::caller_user;
use crate::app::App;
use crate::pipeline::codec::form::Form;
use crate::pipeline::{Check, Operation};
use crate::recorder::CallContext;

/// The check a call needs.
pub(super) fn resolve(
    app: &App,
    ctx: &CallContext,
    op: &'static Operation,
    form: &Form,
) -> Result<Vec<Check>, AwsError> {
    let resource = match cairn_model::AccountId::parse(&ctx.recipient_account) {
        Ok(account) => resource_of(app, ctx, &account, op.name, form),
        Err(_) => "*".to_owned(),
    };
    Ok(vec![
        Check::new(format!("iam:{}", op.name), resource).with_keys(condition_keys(op.name, form)),
    ])
}

/// Service condition keys a request sets, for policies to test.
fn condition_keys(op: &str, form: &Form) -> Vec<(&'static str, String)> {
    match form.get("PolicyArn") {
        Some(arn) if op.starts_with("Attach") || op.starts_with("Detach") => {
            vec![("iam:PolicyARN", arn.clone())]
        }
        _ => Vec::new(),
    }
}

/// The ARN an operation acts on, for authorization: the named entity's (as stored, path
/// included, when it exists), the caller's own user for self-service operations, else `*`.
fn resource_of(
    app: &App,
    ctx: &CallContext,
    acct: &cairn_model::AccountId,
    op: &str,
    form: &Form,
) -> String {
    let account = acct.as_str();
    let path = form.get("Path").map(String::as_str).unwrap_or("/");
    // Attaching and detaching act on the user, group or role; the policy is the condition
    // key iam:PolicyARN (see condition_keys).
    let attaching = op.starts_with("Attach") || op.starts_with("Detach");
    if let Some(arn) = form.get("PolicyArn")
        && !attaching
    {
        return arn.clone();
    }
    // Virtual MFA devices are resources of their own; enabling, deactivating and resyncing
    // one act on the user it belongs to.
    if op == "CreateVirtualMFADevice"
        && let Some(n) = form.get("VirtualMFADeviceName")
    {
        return format!("arn:aws:iam::{account}:mfa{path}{n}");
    }
    if op == "DeleteVirtualMFADevice"
        && let Some(s) = form.get("SerialNumber")
    {
        return s.clone();
    }
    if op.contains("Role")
        && !op.starts_with("ListRoles")
        && let Some(n) = form.get("RoleName")
    {
        return app
            .identity
            .role(acct, n)
            .map(|r| r.arn())
            .unwrap_or_else(|_| format!("arn:aws:iam::{account}:role{path}{n}"));
    }
    if op.contains("Group")
        && !op.starts_with("ListGroups")
        && let Some(n) = form.get("GroupName")
    {
        return app
            .identity
            .group(acct, n)
            .map(|g| g.arn())
            .unwrap_or_else(|_| format!("arn:aws:iam::{account}:group{path}{n}"));
    }
    // The console's name for the root user when it assigns or removes root's MFA device.
    if form.get("UserName").map(String::as_str) == Some(super::handlers::mfa::CONSOLE_ROOT_USER) {
        return format!("arn:aws:iam::{account}:root");
    }
    if let Some(n) = form.get("UserName") {
        return app
            .identity
            .user(acct, n)
            .map(|u| u.arn())
            .unwrap_or_else(|_| format!("arn:aws:iam::{account}:user{path}{n}"));
    }
    if op == "CreatePolicy"
        && let Some(n) = form.get("PolicyName")
    {
        return format!("arn:aws:iam::{account}:policy{path}{n}");
    }
    const SELF_SERVICE: [&str; 13] = [
        "ChangePassword",
        "GetUser",
        "DeactivateMFADevice",
        "CreateAccessKey",
        "ListAccessKeys",
        "UpdateAccessKey",
        "DeleteAccessKey",
        "GetLoginProfile",
        "CreateLoginProfile",
        "UpdateLoginProfile",
        "DeleteLoginProfile",
        "ListMFADevices",
        "ListGroupsForUser",
    ];
    if SELF_SERVICE.contains(&op) {
        return match caller_user(app, ctx) {
            Ok(Some(u)) => u.arn(),
            _ => format!("arn:aws:iam::{account}:root"),
        };
    }
    "*".into()
}
