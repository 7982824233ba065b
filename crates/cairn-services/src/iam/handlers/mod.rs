//! Running IAM's operations, one file per topic: `entities.rs` (users, groups, roles),
//! `policies.rs` (inline and managed policies, attachments), `secrets.rs` (access keys, login
//! profiles, the account alias), `mfa.rs` (virtual MFA devices, the root user's included),
//! `account.rs` (the account summary) and `credential_report.rs` (the credential report).

mod account;
mod credential_report;
mod entities;
pub mod mfa;
mod policies;
mod secrets;

use cairn_model::Principal;
use cairn_store::identity::{IamError, User};
use cairn_wire::AwsError;
use serde_json::Value;

use crate::app::App;
use crate::pipeline::codec::form::Form;
use crate::recorder::CallContext;

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

/// Serves one IAM operation.
pub(super) fn run(app: &App, ctx: &CallContext, op: &str, form: &Form) -> Result<Done, AwsError> {
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
        "ChangePassword" => secrets::change_password(&a),
        "CreateVirtualMFADevice" => mfa::create_virtual_mfa_device(&a),
        "EnableMFADevice" => mfa::enable_mfa_device(&a),
        "ListMFADevices" => mfa::list_mfa_devices(&a),
        "ListVirtualMFADevices" => mfa::list_virtual_mfa_devices(&a),
        "DeactivateMFADevice" => mfa::deactivate_mfa_device(&a),
        "DeleteVirtualMFADevice" => mfa::delete_virtual_mfa_device(&a),
        "GetAccountSummary" => account::get_account_summary(&a),
        "GenerateCredentialReport" => credential_report::generate(&a),
        "GetCredentialReport" => credential_report::get(&a),
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
