//! The IAM front (query protocol, version 2010-05-08): users, access keys, groups, roles,
//! inline and managed policies, login profiles, virtual MFA devices and the account alias.
//! IAM is global: every call is recorded as an `iam.amazonaws.com` management event in
//! us-east-1, whatever region the client signed for.

mod entities;
mod policies;
mod qr;
mod secrets;
mod validate;
mod xml;

use std::sync::OnceLock;

use cairn_model::Principal;
use cairn_store::identity::{IamError, User};
use cairn_wire::AwsError;
use serde_json::Value;

use crate::pipeline::codec::form;
pub use crate::pipeline::codec::form::{Form, lower_first, request_parameters};

use crate::app::App;
use crate::pipeline::codec::query::{QueryCodec, Reply};
use crate::pipeline::{Check, Details, Ended, Operation, Recording, Service};
use crate::recorder::CallContext;

pub const EVENT_SOURCE: &str = "iam.amazonaws.com";
/// Where IAM's global events are recorded.
pub const HOME_REGION: &str = "us-east-1";

mod operations;
pub use operations::OPERATIONS;

/// What an operation produced: the inner XML of its `<{Op}Result>` and what CloudTrail
/// records as `responseElements`.
pub struct Done {
    pub xml: String,
    pub response: Option<Value>,
}

impl Done {
    pub fn empty() -> Done {
        Done {
            xml: String::new(),
            response: None,
        }
    }
}

pub fn store_error(e: IamError) -> AwsError {
    match e {
        IamError::NoSuchEntity(m) => AwsError::new(404, "NoSuchEntity", m),
        IamError::EntityAlreadyExists(m) => AwsError::new(409, "EntityAlreadyExists", m),
        IamError::DeleteConflict(m) => AwsError::new(409, "DeleteConflict", m),
        IamError::LimitExceeded(m) => AwsError::new(409, "LimitExceeded", m),
        IamError::InvalidInput(m) => AwsError::new(400, "InvalidInput", m),
        IamError::InvalidAuthenticationCode(m) => {
            AwsError::new(403, "InvalidAuthenticationCode", m)
        }
        IamError::Store(e) => {
            tracing::error!(error = %e, "identity store failed");
            AwsError::new(
                500,
                "ServiceFailure",
                "The request processing has failed because of an unknown error, exception or failure.",
            )
        }
    }
}

/// The caller's own IAM user, for operations whose `UserName` defaults to the caller.
pub fn caller_user(app: &App, ctx: &CallContext) -> Result<Option<User>, AwsError> {
    match &ctx.principal {
        Principal::IamUser { user_id, .. } => app
            .identity
            .user_by_id(user_id)
            .map_err(|e| store_error(e.into())),
        _ => Ok(None),
    }
}

/// The IAM service.
pub struct Iam;

static CODEC: QueryCodec = QueryCodec {
    version: "2010-05-08",
    xmlns: "https://iam.amazonaws.com/doc/2010-05-08/",
};

fn is_read_only(op: &str) -> bool {
    ["Get", "List", "Generate", "Simulate"]
        .iter()
        .any(|p| op.starts_with(p))
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

impl Service for Iam {
    type Codec = QueryCodec;
    type Plan = ();

    fn signing_name(&self) -> &'static str {
        "iam"
    }

    fn event_source(&self) -> &'static str {
        EVENT_SOURCE
    }

    fn codec(&self) -> &QueryCodec {
        &CODEC
    }

    fn operations(&self) -> &'static [Operation] {
        static TABLE: OnceLock<Vec<Operation>> = OnceLock::new();
        TABLE.get_or_init(|| {
            OPERATIONS
                .iter()
                .map(|&n| {
                    Operation::named("iam", n, is_read_only(n), operations::SERVED.contains(&n))
                })
                .collect()
        })
    }

    fn home_region(&self) -> Option<&'static str> {
        Some(HOME_REGION)
    }

    fn resolve(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        form: &Form,
        _plan: &mut (),
    ) -> Result<Vec<Check>, AwsError> {
        let resource = match cairn_model::AccountId::parse(&ctx.recipient_account) {
            Ok(account) => resource_of(app, ctx, &account, op.name, form),
            Err(_) => "*".to_owned(),
        };
        Ok(vec![
            Check::new(format!("iam:{}", op.name), resource)
                .with_keys(condition_keys(op.name, form)),
        ])
    }

    fn run(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        form: &Form,
        _plan: &mut (),
    ) -> Result<Reply, AwsError> {
        handle(app, ctx, op.name, form).map(|d| Reply::xml(d.xml, d.response))
    }

    fn record(
        &self,
        _app: &App,
        _ctx: &CallContext,
        _op: &'static Operation,
        call: Recording<'_, Self>,
    ) -> Details {
        // A refused call is recorded without its parameters.
        if call.ended == Ended::Denied {
            return Details::default();
        }
        Details {
            request_parameters: call.input.and_then(form::request_parameters),
            response_elements: call.result.ok().and_then(|r| r.response.clone()),
            ..Details::default()
        }
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
    const SELF_SERVICE: [&str; 12] = [
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

/// Serves one IAM operation.
fn handle(app: &App, ctx: &CallContext, op: &str, form: &Form) -> Result<Done, AwsError> {
    let now = app.clock.now_millis();
    let account = cairn_model::AccountId::parse(&ctx.recipient_account)
        .map_err(|e| AwsError::internal(e.to_string()))?;
    let a = entities::Scope {
        app,
        ctx,
        account: &account,
        form,
        now,
    };
    match op {
        "CreateUser" => entities::create_user(&a),
        "GetUser" => entities::get_user(&a),
        "ListUsers" => entities::list_users(&a),
        "UpdateUser" => entities::update_user(&a),
        "DeleteUser" => entities::delete_user(&a),
        "CreateGroup" => entities::create_group(&a),
        "GetGroup" => entities::get_group(&a),
        "ListGroups" => entities::list_groups(&a),
        "DeleteGroup" => entities::delete_group(&a),
        "AddUserToGroup" => entities::add_user_to_group(&a),
        "RemoveUserFromGroup" => entities::remove_user_from_group(&a),
        "ListGroupsForUser" => entities::list_groups_for_user(&a),
        "CreateRole" => entities::create_role(&a),
        "GetRole" => entities::get_role(&a),
        "ListRoles" => entities::list_roles(&a),
        "DeleteRole" => entities::delete_role(&a),
        "UpdateAssumeRolePolicy" => entities::update_assume_role_policy(&a),
        "PutUserPolicy" | "PutGroupPolicy" | "PutRolePolicy" => policies::put_inline(&a, op),
        "GetUserPolicy" | "GetGroupPolicy" | "GetRolePolicy" => policies::get_inline(&a, op),
        "ListUserPolicies" | "ListGroupPolicies" | "ListRolePolicies" => {
            policies::list_inline(&a, op)
        }
        "DeleteUserPolicy" | "DeleteGroupPolicy" | "DeleteRolePolicy" => {
            policies::delete_inline(&a, op)
        }
        "CreatePolicy" => policies::create_policy(&a),
        "GetPolicy" => policies::get_policy(&a),
        "ListPolicies" => policies::list_policies(&a),
        "DeletePolicy" => policies::delete_policy(&a),
        "CreatePolicyVersion" => policies::create_policy_version(&a),
        "GetPolicyVersion" => policies::get_policy_version(&a),
        "ListPolicyVersions" => policies::list_policy_versions(&a),
        "DeletePolicyVersion" => policies::delete_policy_version(&a),
        "SetDefaultPolicyVersion" => policies::set_default_policy_version(&a),
        "AttachUserPolicy" | "AttachGroupPolicy" | "AttachRolePolicy" => {
            policies::attach(&a, op, true)
        }
        "DetachUserPolicy" | "DetachGroupPolicy" | "DetachRolePolicy" => {
            policies::attach(&a, op, false)
        }
        "ListAttachedUserPolicies" | "ListAttachedGroupPolicies" | "ListAttachedRolePolicies" => {
            policies::list_attached(&a, op)
        }
        "ListEntitiesForPolicy" => policies::list_entities_for_policy(&a),
        "CreateAccessKey" => secrets::create_access_key(&a),
        "ListAccessKeys" => secrets::list_access_keys(&a),
        "UpdateAccessKey" => secrets::update_access_key(&a),
        "DeleteAccessKey" => secrets::delete_access_key(&a),
        "GetAccessKeyLastUsed" => secrets::get_access_key_last_used(&a),
        "CreateLoginProfile" => secrets::create_login_profile(&a),
        "GetLoginProfile" => secrets::get_login_profile(&a),
        "UpdateLoginProfile" => secrets::update_login_profile(&a),
        "DeleteLoginProfile" => secrets::delete_login_profile(&a),
        "CreateVirtualMFADevice" => secrets::create_virtual_mfa_device(&a),
        "EnableMFADevice" => secrets::enable_mfa_device(&a),
        "ListMFADevices" => secrets::list_mfa_devices(&a),
        "ListVirtualMFADevices" => secrets::list_virtual_mfa_devices(&a),
        "DeactivateMFADevice" => secrets::deactivate_mfa_device(&a),
        "DeleteVirtualMFADevice" => secrets::delete_virtual_mfa_device(&a),
        "CreateAccountAlias" => secrets::create_account_alias(&a),
        "ListAccountAliases" => secrets::list_account_aliases(&a),
        "DeleteAccountAlias" => secrets::delete_account_alias(&a),
        other => Err(AwsError::new(
            501,
            "NotImplemented",
            format!("cairn does not support iam:{other} yet."),
        )),
    }
}
