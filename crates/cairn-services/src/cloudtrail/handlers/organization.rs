//! Who may make organization trails and event data stores: the management account of an
//! organization with all features, or a CloudTrail delegated administrator of it, and what
//! CloudTrail answers everyone else.

use cairn_store::organizations::Organization;
use cairn_wire::AwsError;

use super::trails::internal;
use crate::app::App;
use crate::cloudtrail::s3_calls::CLOUDTRAIL;
use crate::recorder::CallContext;

/// Whether `account` is a CloudTrail delegated administrator of `org`.
pub fn is_delegated_admin(org: &Organization, account: &str) -> bool {
    org.delegated
        .iter()
        .any(|d| d.account == account && d.service == CLOUDTRAIL)
}

/// The management account that owns an organization resource the caller makes, once the
/// caller may (a delegated administrator only with `delegated_ok`).
pub fn organization_owner(
    app: &App,
    ctx: &CallContext,
    delegated_ok: bool,
) -> Result<String, AwsError> {
    let org = app
        .organizations
        .organization_of(&ctx.recipient_account)
        .map_err(internal)?
        .ok_or_else(|| {
            AwsError::client(
                "OrganizationsNotInUseException",
                "This account is not a member of an organization.",
            )
        })?;
    let delegated = delegated_ok && is_delegated_admin(&org, &ctx.recipient_account);
    if org.management_account != ctx.recipient_account && !delegated {
        return Err(AwsError::client(
            "NotOrganizationMasterAccountException",
            format!(
                "The request was made from account {}, which is not the management account of organization {}{}.",
                ctx.recipient_account,
                org.id,
                if delegated_ok {
                    " nor a CloudTrail delegated administrator"
                } else {
                    ""
                }
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
