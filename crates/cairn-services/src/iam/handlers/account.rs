//! GetAccountSummary: the account's IAM entities counted against IAM's quotas, and the root
//! user's security state (`AccountMFAEnabled`: an MFA device is enabled for the root user;
//! `AccountAccessKeysPresent`: the root user has access keys), the keys auditors read for the
//! CIS controls on the root user.

use std::collections::BTreeSet;

use cairn_store::identity::{
    ATTACHED_PER_ENTITY, GROUPS_PER_USER, IdentityStore, KEYS_PER_USER, MfaHolder, Owner,
    OwnerKind, VERSIONS_PER_POLICY,
};
use cairn_wire::AwsError;

use super::entities::Scope;
use super::{Done, store_error};
use crate::iam::wire;

/// AWS's default quotas (an account that asked for none raised), as GetAccountSummary answers
/// them; those cairn enforces come from the store's own constants.
const QUOTAS: [(&str, usize); 19] = [
    ("AccessKeysPerUserQuota", KEYS_PER_USER),
    ("AssumeRolePolicySizeQuota", 2048),
    ("AttachedPoliciesPerGroupQuota", ATTACHED_PER_ENTITY),
    ("AttachedPoliciesPerRoleQuota", ATTACHED_PER_ENTITY),
    ("AttachedPoliciesPerUserQuota", ATTACHED_PER_ENTITY),
    ("GroupPolicySizeQuota", 5120),
    ("GroupsPerUserQuota", GROUPS_PER_USER),
    ("GroupsQuota", 300),
    ("InstanceProfilesQuota", 1000),
    ("PoliciesQuota", 1500),
    ("PolicySizeQuota", 6144),
    ("PolicyVersionsInUseQuota", 10000),
    ("RolePolicySizeQuota", 10240),
    ("RolesQuota", 1000),
    ("ServerCertificatesQuota", 20),
    ("SigningCertificatesPerUserQuota", 2),
    ("UserPolicySizeQuota", 2048),
    ("UsersQuota", 5000),
    ("VersionsPerPolicyQuota", VERSIONS_PER_POLICY),
];

pub fn get_account_summary(a: &Scope<'_>) -> Result<Done, AwsError> {
    let id = a.app.identity.as_ref();
    let mut entries: Vec<(&str, usize)> = QUOTAS.to_vec();
    entries.extend(counts(id, a)?);
    entries.sort_by_key(|(k, _)| *k);
    let xml: String = entries
        .iter()
        .map(|(k, v)| {
            format!(
                "<entry>{}{}</entry>",
                wire::el("key", k),
                wire::el("value", &v.to_string())
            )
        })
        .collect();
    Ok(Done {
        xml: format!("<SummaryMap>{xml}</SummaryMap>"),
        response: None,
    })
}

/// What the account has: entities, MFA devices, policy versions in use, and the root user's
/// MFA and access keys.
fn counts(id: &dyn IdentityStore, a: &Scope<'_>) -> Result<Vec<(&'static str, usize)>, AwsError> {
    let users = id.users(a.account, "/").map_err(store_error)?;
    let groups = id.groups(a.account, "/").map_err(store_error)?;
    let roles = id.roles(a.account, "/").map_err(store_error)?;
    let policies = id.policies(a.account, "/").map_err(store_error)?;
    let devices = id.mfa_devices(a.account).map_err(store_error)?;
    // Versions in use: every version of the account's own policies, and each AWS managed
    // policy attached somewhere (its default version).
    let mut versions = 0;
    for p in &policies {
        versions += id.policy_versions(&p.arn).map_err(store_error)?.len();
    }
    let mut aws_managed = BTreeSet::new();
    let owners = users
        .iter()
        .map(|u| (OwnerKind::User, u.user_id.as_str(), u.name.as_str()))
        .chain(
            groups
                .iter()
                .map(|g| (OwnerKind::Group, g.group_id.as_str(), g.name.as_str())),
        )
        .chain(
            roles
                .iter()
                .map(|r| (OwnerKind::Role, r.role_id.as_str(), r.name.as_str())),
        );
    for (kind, oid, name) in owners {
        for arn in id
            .attached_policies(Owner {
                kind,
                id: oid,
                name,
            })
            .map_err(store_error)?
        {
            if arn.starts_with("arn:aws:iam::aws:policy/") {
                aws_managed.insert(arn);
            }
        }
    }
    let root_mfa = devices.iter().any(|d| d.holder == Some(MfaHolder::Root));
    let root_keys = !id.root_keys(a.account).map_err(store_error)?.is_empty();
    Ok(vec![
        ("AccountAccessKeysPresent", usize::from(root_keys)),
        ("AccountMFAEnabled", usize::from(root_mfa)),
        ("AccountSigningCertificatesPresent", 0),
        ("GlobalEndpointTokenVersion", 1),
        ("Groups", groups.len()),
        ("InstanceProfiles", 0),
        ("MFADevices", devices.len()),
        (
            "MFADevicesInUse",
            devices.iter().filter(|d| d.holder.is_some()).count(),
        ),
        ("Policies", policies.len()),
        ("PolicyVersionsInUse", versions + aws_managed.len()),
        ("Providers", 0),
        ("Roles", roles.len()),
        ("ServerCertificates", 0),
        ("Users", users.len()),
    ])
}
