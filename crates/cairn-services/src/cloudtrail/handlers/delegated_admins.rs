//! CloudTrail delegated administrators: Register/DeregisterOrganizationDelegatedAdmin. The
//! management account names a member account that may then make and manage the
//! organization's trails. CloudTrail asks Organizations to register the account for
//! `cloudtrail.amazonaws.com` on the caller's behalf (their identity, `invokedBy` CloudTrail,
//! through Organizations' own API), and answers Organizations' refusals in CloudTrail's terms.

use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::organization::caller_organization;
use crate::app::App;
use crate::cloudtrail::s3_calls::CLOUDTRAIL;
use crate::members::str_member;
use crate::pipeline::Durability;
use crate::pipeline::internal::{Actor, Internal};
use crate::recorder::CallContext;

pub fn register(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let account = account_id(input, "MemberAccountId")?;
    ask_organizations(app, ctx, "RegisterDelegatedAdministrator", account)
}

pub fn deregister(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let account = account_id(input, "DelegatedAdminAccountId")?;
    ask_organizations(app, ctx, "DeregisterDelegatedAdministrator", account)
}

fn account_id<'a>(input: &'a Value, member: &str) -> Result<&'a str, AwsError> {
    let id = str_member(input, member).unwrap_or("");
    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AwsError::client(
            "InvalidParameterException",
            format!("{member} must be a 12-digit account ID."),
        ));
    }
    Ok(id)
}

fn ask_organizations(
    app: &App,
    ctx: &CallContext,
    op: &str,
    account: &str,
) -> Result<Value, AwsError> {
    let org = caller_organization(app, ctx)?;
    if org.management_account != ctx.recipient_account {
        return Err(AwsError::client(
            "NotOrganizationManagementAccountException",
            "This operation can be performed only by the management account of the organization.",
        ));
    }
    let on_behalf = Internal {
        actor: Actor::OnBehalf {
            principal: ctx.principal.clone(),
            by: CLOUDTRAIL,
        },
        account: ctx.recipient_account.clone(),
        region: "us-east-1".to_owned(),
        source_arn: None,
        cause: ctx.request_id.clone(),
        durability: Durability::Wait,
    };
    let input = json!({"AccountId": account, "ServicePrincipal": CLOUDTRAIL});
    on_behalf
        .call_json(app, "organizations", op, input)
        .map(|_| json!({}))
        .map_err(|e| in_cloudtrail_terms(e, account))
}

/// Organizations' refusal as CloudTrail answers it.
fn in_cloudtrail_terms(e: AwsError, account: &str) -> AwsError {
    let (code, message) = match e.code.as_ref() {
        "AccountAlreadyRegisteredException" => (
            "AccountRegisteredException",
            format!("Account {account} is already registered as a delegated administrator."),
        ),
        "AccountNotRegisteredException" => (
            "AccountNotRegisteredException",
            format!("Account {account} is not registered as a delegated administrator."),
        ),
        "AccountNotFoundException" => (
            "AccountNotFoundException",
            format!("Account {account} was not found in the organization."),
        ),
        "ConstraintViolationException" => (
            "CannotDelegateManagementAccountException",
            "The management account of an organization cannot be a delegated administrator."
                .to_owned(),
        ),
        "AccessDeniedException" => (
            "InsufficientDependencyServiceAccessPermissionException",
            format!("Organizations refused the call: {}", e.message),
        ),
        _ => return e,
    };
    AwsError::client(code, message)
}
