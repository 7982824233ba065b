//! Organizations' operation table: every operation of the API (botocore model 2016-11-28),
//! which cairn serves and which only read.

use std::sync::OnceLock;

use crate::pipeline::Operation;

/// Every operation of the Organizations API (botocore model 2016-11-28).
pub const OPERATIONS: [&str; 63] = [
    "AcceptHandshake",
    "AttachPolicy",
    "CancelHandshake",
    "CloseAccount",
    "CreateAccount",
    "CreateGovCloudAccount",
    "CreateOrganization",
    "CreateOrganizationalUnit",
    "CreatePolicy",
    "DeclineHandshake",
    "DeleteOrganization",
    "DeleteOrganizationalUnit",
    "DeletePolicy",
    "DeleteResourcePolicy",
    "DeregisterDelegatedAdministrator",
    "DescribeAccount",
    "DescribeCreateAccountStatus",
    "DescribeEffectivePolicy",
    "DescribeHandshake",
    "DescribeOrganization",
    "DescribeOrganizationalUnit",
    "DescribePolicy",
    "DescribeResourcePolicy",
    "DescribeResponsibilityTransfer",
    "DetachPolicy",
    "DisableAWSServiceAccess",
    "DisablePolicyType",
    "EnableAWSServiceAccess",
    "EnableAllFeatures",
    "EnablePolicyType",
    "InviteAccountToOrganization",
    "InviteOrganizationToTransferResponsibility",
    "LeaveOrganization",
    "ListAWSServiceAccessForOrganization",
    "ListAccounts",
    "ListAccountsForParent",
    "ListAccountsWithInvalidEffectivePolicy",
    "ListChildren",
    "ListCreateAccountStatus",
    "ListDelegatedAdministrators",
    "ListDelegatedServicesForAccount",
    "ListEffectivePolicyValidationErrors",
    "ListHandshakesForAccount",
    "ListHandshakesForOrganization",
    "ListInboundResponsibilityTransfers",
    "ListOrganizationalUnitsForParent",
    "ListOutboundResponsibilityTransfers",
    "ListParents",
    "ListPolicies",
    "ListPoliciesForTarget",
    "ListRoots",
    "ListTagsForResource",
    "ListTargetsForPolicy",
    "MoveAccount",
    "PutResourcePolicy",
    "RegisterDelegatedAdministrator",
    "RemoveAccountFromOrganization",
    "TagResource",
    "TerminateResponsibilityTransfer",
    "UntagResource",
    "UpdateOrganizationalUnit",
    "UpdatePolicy",
    "UpdateResponsibilityTransfer",
];

/// The operations cairn serves.
pub const SERVED: &[&str] = &[
    "AcceptHandshake",
    "AttachPolicy",
    "CancelHandshake",
    "DeclineHandshake",
    "DescribeHandshake",
    "InviteAccountToOrganization",
    "ListHandshakesForOrganization",
    "ListHandshakesForAccount",
    "CreateAccount",
    "CreateOrganization",
    "CreateOrganizationalUnit",
    "CreatePolicy",
    "DeleteOrganization",
    "DeleteOrganizationalUnit",
    "DeletePolicy",
    "DeregisterDelegatedAdministrator",
    "DescribeAccount",
    "DescribeCreateAccountStatus",
    "DescribeOrganization",
    "DescribeOrganizationalUnit",
    "DescribePolicy",
    "DetachPolicy",
    "DisablePolicyType",
    "EnablePolicyType",
    "ListAccounts",
    "ListAccountsForParent",
    "ListChildren",
    "ListCreateAccountStatus",
    "ListDelegatedAdministrators",
    "ListDelegatedServicesForAccount",
    "ListOrganizationalUnitsForParent",
    "ListParents",
    "ListPolicies",
    "ListPoliciesForTarget",
    "ListRoots",
    "ListTargetsForPolicy",
    "MoveAccount",
    "RegisterDelegatedAdministrator",
    "RemoveAccountFromOrganization",
    "UpdateOrganizationalUnit",
    "UpdatePolicy",
];

fn is_read_only(op: &str) -> bool {
    op.starts_with("Describe") || op.starts_with("List")
}

pub(super) fn table() -> &'static [Operation] {
    static TABLE: OnceLock<Vec<Operation>> = OnceLock::new();
    TABLE.get_or_init(|| {
        OPERATIONS
            .iter()
            .map(|&n| Operation::named("organizations", n, is_read_only(n), SERVED.contains(&n)))
            .collect()
    })
}
