//! Who may make organization trails and event data stores: the management account of an
//! organization with all features, or a CloudTrail delegated administrator of it, and what
//! CloudTrail answers everyone else.

use cairn_store::organizations::Organization;
use cairn_wire::AwsError;
use serde_json::Value;

use super::trails::{bool_member, internal};
use crate::app::App;
use crate::cloudtrail::s3_calls::CLOUDTRAIL;
use crate::recorder::CallContext;

/// Whether `account` is a CloudTrail delegated administrator of `org`.
pub fn is_delegated_admin(org: &Organization, account: &str) -> bool {
    org.delegated
        .iter()
        .any(|d| d.account == account && d.service == CLOUDTRAIL)
}

/// The caller's organization, or CloudTrail's answer for an account outside any.
pub fn caller_organization(app: &App, ctx: &CallContext) -> Result<Organization, AwsError> {
    app.organizations
        .organization_of(&ctx.recipient_account)
        .map_err(internal)?
        .ok_or_else(|| {
            AwsError::client(
                "OrganizationsNotInUseException",
                "This account is not a member of an organization.",
            )
        })
}

/// A Create/Update call's organization flag (`IsOrganizationTrail`, `OrganizationEnabled`)
/// once the caller may set it, and when it is on, the account that owns such a trail or
/// store: the management account, whoever makes it.
pub fn organization_flag(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    member: &str,
) -> Result<Option<(bool, Option<String>)>, AwsError> {
    Ok(match bool_member(input, member)? {
        None => None,
        Some(false) => Some((false, None)),
        Some(true) => Some((true, Some(organization_owner(app, ctx)?))),
    })
}

/// The management account that owns an organization resource the caller makes, once the
/// caller may: its organization's management account or a CloudTrail delegated administrator.
fn organization_owner(app: &App, ctx: &CallContext) -> Result<String, AwsError> {
    let org = caller_organization(app, ctx)?;
    if org.management_account != ctx.recipient_account
        && !is_delegated_admin(&org, &ctx.recipient_account)
    {
        return Err(AwsError::client(
            "NotOrganizationMasterAccountException",
            format!(
                "The request was made from account {}, which is not the management account of organization {} nor a CloudTrail delegated administrator.",
                ctx.recipient_account, org.id
            ),
        ));
    }
    if org.feature_set != "ALL" {
        return Err(AwsError::client(
            "OrganizationNotInAllFeaturesModeException",
            "All features must be enabled in Organizations for an organization trail or event data store.",
        ));
    }
    Ok(org.management_account)
}
