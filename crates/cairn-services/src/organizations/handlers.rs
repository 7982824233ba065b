//! Running each Organizations operation on the caller's organization, read whole and written
//! back whole (read for a change inside the call's transaction, so concurrent changes never
//! lose each other). Only the management account changes an organization or lists its
//! contents; a member may describe it.

use cairn_model::AccountId;
use cairn_store::identity::{NewRole, Owner, OwnerKind};
use cairn_store::organizations::{
    CreateAccountRequest, Handshake, Member, Organization, Policy, Root, SCP, Unit,
};
use cairn_wire::AwsError;
use rand::Rng;
use serde_json::{Value, json};

use super::wire;
use crate::app::App;
use crate::recorder::CallContext;

const FULL_ACCESS_ID: &str = "p-FullAWSAccess";
const FULL_ACCESS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const ADMIN_POLICY: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

fn internal(e: impl std::fmt::Display) -> AwsError {
    AwsError::internal(e.to_string())
}

fn not_in_use() -> AwsError {
    AwsError::client(
        "AWSOrganizationsNotInUseException",
        "Your account is not a member of an organization.",
    )
}

fn denied() -> AwsError {
    AwsError::client(
        "AccessDeniedException",
        "You don't have permissions to access this resource.",
    )
}

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::client("InvalidInputException", message)
}

fn required<'a>(input: &'a Value, name: &str) -> Result<&'a str, AwsError> {
    input
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            invalid(format!(
                "You provided a value that does not match the required pattern ({name} is missing)."
            ))
        })
}

fn id(prefix: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    let tail: String = (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}{tail}")
}

/// The caller's organization, as committed (for reads).
fn mine(app: &App, ctx: &CallContext) -> Result<Organization, AwsError> {
    app.organizations
        .organization_of(&ctx.recipient_account)
        .map_err(internal)?
        .ok_or_else(not_in_use)
}

/// The caller's organization, when the caller is its management account.
fn managed(app: &App, ctx: &CallContext, for_update: bool) -> Result<Organization, AwsError> {
    let org = if for_update {
        app.organizations
            .organization_for_update(&ctx.recipient_account)
            .map_err(internal)?
            .ok_or_else(not_in_use)?
    } else {
        mine(app, ctx)?
    };
    if org.management_account != ctx.recipient_account {
        return Err(denied());
    }
    Ok(org)
}

/// Writes the organization back. Its service control policies decide what principals may do,
/// so IAM's generation moves with it: every node's authorization cache follows that.
/// An account joining `org` now, under its root.
fn joining(
    org: &Organization,
    account: &str,
    name: &str,
    email: &str,
    method: &str,
    now: i64,
) -> Member {
    Member {
        arn: format!(
            "arn:aws:organizations::{}:account/{}/{account}",
            org.management_account, org.id
        ),
        id: account.to_owned(),
        name: name.to_owned(),
        email: email.to_owned(),
        status: "ACTIVE".to_owned(),
        joined_method: method.to_owned(),
        joined_ms: now,
        parent: org.root.id.clone(),
    }
}

/// The email address cairn gives an account's root user (cairn accounts have none).
fn root_email(account: &str) -> String {
    format!("root@{account}.cairn.invalid")
}

fn save(app: &App, org: &Organization) -> Result<(), AwsError> {
    app.organizations.save(org).map_err(internal)?;
    app.identity.mark_changed().map_err(internal)
}

fn full_access() -> Policy {
    Policy {
        id: FULL_ACCESS_ID.to_owned(),
        arn: "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess".to_owned(),
        name: "FullAWSAccess".to_owned(),
        description: "Allows access to every operation".to_owned(),
        kind: SCP.to_owned(),
        content: FULL_ACCESS.to_owned(),
        aws_managed: true,
    }
}

/// A new target (unit or account) gets FullAWSAccess while SCPs are enabled, as in AWS.
fn attach_defaults(org: &mut Organization, target: &str) {
    if org.policy_type_enabled(SCP) {
        org.attachments
            .push((FULL_ACCESS_ID.to_owned(), target.to_owned()));
    }
}

fn is_parent(org: &Organization, id: &str) -> bool {
    id == org.root.id || org.units.iter().any(|u| u.id == id)
}

fn parent_type(org: &Organization, id: &str) -> &'static str {
    if id == org.root.id {
        "ROOT"
    } else {
        "ORGANIZATIONAL_UNIT"
    }
}

fn target_exists(org: &Organization, id: &str) -> bool {
    is_parent(org, id) || org.member(id).is_some()
}

fn policy_of<'a>(org: &'a Organization, id: &str) -> Result<&'a Policy, AwsError> {
    org.policies.iter().find(|p| p.id == id).ok_or_else(|| {
        AwsError::client(
            "PolicyNotFoundException",
            "We can't find a policy with the PolicyId that you specified.",
        )
    })
}

fn check_policy_content(content: &str) -> Result<(), AwsError> {
    cairn_policy::PolicyDocument::parse(content, cairn_policy::PolicyKind::Identity)
        .map(|_| ())
        .map_err(|e| {
            AwsError::client(
                "MalformedPolicyDocumentException",
                format!("The provided policy document does not meet the requirements of the specified policy type: {e}"),
            )
        })
}

fn check_type(kind: &str) -> Result<(), AwsError> {
    if kind == SCP {
        Ok(())
    } else {
        Err(AwsError::client(
            "PolicyTypeNotAvailableForOrganizationException",
            format!("cairn supports policies of type {SCP} only (not {kind})."),
        ))
    }
}

/// Runs an authorized Organizations call.
pub(super) fn run(
    app: &App,
    ctx: &CallContext,
    op: &str,
    input: &Value,
) -> Result<Value, AwsError> {
    let now = app.clock.now_millis();
    match op {
        "CreateOrganization" => create_organization(app, ctx, input),
        "DescribeOrganization" => Ok(json!({"Organization": wire::organization(&mine(app, ctx)?)})),
        "DeleteOrganization" => {
            let org = managed(app, ctx, true)?;
            if org.accounts.len() > 1 {
                return Err(AwsError::client(
                    "OrganizationNotEmptyException",
                    "To delete an organization you must first remove all member accounts (except the management account).",
                ));
            }
            app.organizations.delete(&org.id).map_err(internal)?;
            app.identity.mark_changed().map_err(internal)?;
            Ok(json!({}))
        }
        "ListRoots" => Ok(json!({"Roots": [wire::root(&managed(app, ctx, false)?)]})),
        "CreateAccount" => create_account(app, ctx, input, now),
        "DescribeCreateAccountStatus" => {
            let org = managed(app, ctx, false)?;
            let want = required(input, "CreateAccountRequestId")?;
            let c = org
                .create_account_requests
                .iter()
                .find(|c| c.id == want)
                .ok_or_else(|| {
                    AwsError::client(
                        "CreateAccountStatusNotFoundException",
                        "We can't find an create account request with the CreateAccountRequestId that you specified.",
                    )
                })?;
            Ok(json!({"CreateAccountStatus": wire::create_account_status(c)}))
        }
        "ListCreateAccountStatus" => {
            let org = managed(app, ctx, false)?;
            Ok(
                json!({"CreateAccountStatuses": org.create_account_requests.iter().map(wire::create_account_status).collect::<Vec<_>>()}),
            )
        }
        "DescribeAccount" => {
            let org = managed(app, ctx, false)?;
            let want = required(input, "AccountId")?;
            let m = org.member(want).ok_or_else(account_not_found)?;
            Ok(json!({"Account": wire::account(m)}))
        }
        "ListAccounts" => {
            let org = managed(app, ctx, false)?;
            Ok(json!({"Accounts": org.accounts.iter().map(wire::account).collect::<Vec<_>>()}))
        }
        "ListAccountsForParent" => {
            let org = managed(app, ctx, false)?;
            let parent = required(input, "ParentId")?;
            if !is_parent(&org, parent) {
                return Err(parent_not_found());
            }
            Ok(
                json!({"Accounts": org.accounts.iter().filter(|a| a.parent == parent).map(wire::account).collect::<Vec<_>>()}),
            )
        }
        "RemoveAccountFromOrganization" => {
            let mut org = managed(app, ctx, true)?;
            let account = required(input, "AccountId")?;
            if account == org.management_account {
                return Err(AwsError::client(
                    "MasterCannotLeaveOrganizationException",
                    "You can't remove a management account from an organization. If you want the management account to become a member account in another organization, you must first delete the current organization.",
                ));
            }
            if org.member(account).is_none() {
                return Err(account_not_found());
            }
            org.accounts.retain(|a| a.id != account);
            org.attachments.retain(|(_, t)| t != account);
            org.delegated.retain(|d| d.account != account);
            save(app, &org)?;
            Ok(json!({}))
        }
        "CreateOrganizationalUnit" => {
            let mut org = managed(app, ctx, true)?;
            let parent = required(input, "ParentId")?.to_owned();
            let name = required(input, "Name")?.to_owned();
            if !is_parent(&org, &parent) {
                return Err(parent_not_found());
            }
            if org
                .units
                .iter()
                .any(|u| u.parent == parent && u.name == name)
            {
                return Err(AwsError::client(
                    "DuplicateOrganizationalUnitException",
                    "An OU with the same name already exists.",
                ));
            }
            let root_tail = org.root.id.trim_start_matches("r-").to_owned();
            let uid = id(&format!("ou-{root_tail}-"), 8);
            let u = Unit {
                arn: format!(
                    "arn:aws:organizations::{}:ou/{}/{uid}",
                    org.management_account, org.id
                ),
                id: uid.clone(),
                name,
                parent,
            };
            let out = json!({"OrganizationalUnit": wire::unit(&u)});
            org.units.push(u);
            attach_defaults(&mut org, &uid);
            save(app, &org)?;
            Ok(out)
        }
        "DescribeOrganizationalUnit" => {
            let org = managed(app, ctx, false)?;
            let u = unit_of(&org, required(input, "OrganizationalUnitId")?)?;
            Ok(json!({"OrganizationalUnit": wire::unit(u)}))
        }
        "UpdateOrganizationalUnit" => {
            let mut org = managed(app, ctx, true)?;
            let want = required(input, "OrganizationalUnitId")?.to_owned();
            unit_of(&org, &want)?;
            let out = {
                let Some(u) = org.units.iter_mut().find(|u| u.id == want) else {
                    return Err(unit_not_found());
                };
                if let Some(name) = input.get("Name").and_then(Value::as_str) {
                    u.name = name.to_owned();
                }
                json!({"OrganizationalUnit": wire::unit(u)})
            };
            save(app, &org)?;
            Ok(out)
        }
        "DeleteOrganizationalUnit" => {
            let mut org = managed(app, ctx, true)?;
            let want = required(input, "OrganizationalUnitId")?.to_owned();
            unit_of(&org, &want)?;
            if org.units.iter().any(|u| u.parent == want)
                || org.accounts.iter().any(|a| a.parent == want)
            {
                return Err(AwsError::client(
                    "OrganizationalUnitNotEmptyException",
                    "The specified OU is not empty. Move all accounts to another root or to other OUs, remove all child OUs, and try the operation again.",
                ));
            }
            org.units.retain(|u| u.id != want);
            org.attachments.retain(|(_, t)| *t != want);
            save(app, &org)?;
            Ok(json!({}))
        }
        "ListOrganizationalUnitsForParent" => {
            let org = managed(app, ctx, false)?;
            let parent = required(input, "ParentId")?;
            if !is_parent(&org, parent) {
                return Err(parent_not_found());
            }
            Ok(
                json!({"OrganizationalUnits": org.units.iter().filter(|u| u.parent == parent).map(wire::unit).collect::<Vec<_>>()}),
            )
        }
        "ListChildren" => {
            let org = managed(app, ctx, false)?;
            let parent = required(input, "ParentId")?;
            if !is_parent(&org, parent) {
                return Err(parent_not_found());
            }
            let children: Vec<Value> = match required(input, "ChildType")? {
                "ACCOUNT" => org
                    .accounts
                    .iter()
                    .filter(|a| a.parent == parent)
                    .map(|a| json!({"Id": a.id, "Type": "ACCOUNT"}))
                    .collect(),
                "ORGANIZATIONAL_UNIT" => org
                    .units
                    .iter()
                    .filter(|u| u.parent == parent)
                    .map(|u| json!({"Id": u.id, "Type": "ORGANIZATIONAL_UNIT"}))
                    .collect(),
                other => {
                    return Err(invalid(format!(
                        "ChildType {other} is not ACCOUNT or ORGANIZATIONAL_UNIT."
                    )));
                }
            };
            Ok(json!({"Children": children}))
        }
        "ListParents" => {
            let org = managed(app, ctx, false)?;
            let child = required(input, "ChildId")?;
            let parent = org.parent_of(child).ok_or_else(|| {
                AwsError::client(
                    "ChildNotFoundException",
                    "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.",
                )
            })?;
            Ok(json!({"Parents": [{"Id": parent, "Type": parent_type(&org, parent)}]}))
        }
        "MoveAccount" => {
            let mut org = managed(app, ctx, true)?;
            let account = required(input, "AccountId")?.to_owned();
            let source = required(input, "SourceParentId")?.to_owned();
            let dest = required(input, "DestinationParentId")?.to_owned();
            if !is_parent(&org, &source) {
                return Err(AwsError::client(
                    "SourceParentNotFoundException",
                    "We can't find a source root or OU with the ParentId that you specified.",
                ));
            }
            if !is_parent(&org, &dest) {
                return Err(AwsError::client(
                    "DestinationParentNotFoundException",
                    "We can't find a destination root or OU with the ParentId that you specified.",
                ));
            }
            let Some(m) = org.accounts.iter_mut().find(|a| a.id == account) else {
                return Err(account_not_found());
            };
            if m.parent != source {
                return Err(AwsError::client(
                    "AccountNotFoundException",
                    "We can't find an AWS account with the AccountId that you specified, or the account whose credentials you used to make this request isn't a member of an organization.",
                ));
            }
            m.parent = dest;
            save(app, &org)?;
            Ok(json!({}))
        }
        "CreatePolicy" => {
            let mut org = managed(app, ctx, true)?;
            let kind = required(input, "Type")?;
            check_type(kind)?;
            let name = required(input, "Name")?.to_owned();
            let content = required(input, "Content")?.to_owned();
            check_policy_content(&content)?;
            if org.policies.iter().any(|p| p.name == name) {
                return Err(AwsError::client(
                    "DuplicatePolicyException",
                    "A policy with the same name already exists.",
                ));
            }
            let pid = id("p-", 8);
            let p = Policy {
                arn: format!(
                    "arn:aws:organizations::{}:policy/{}/service_control_policy/{pid}",
                    org.management_account, org.id
                ),
                id: pid,
                name,
                description: input
                    .get("Description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                kind: kind.to_owned(),
                content,
                aws_managed: false,
            };
            let out = json!({"Policy": wire::policy(&p)});
            org.policies.push(p);
            save(app, &org)?;
            Ok(out)
        }
        "DescribePolicy" => {
            let org = managed(app, ctx, false)?;
            Ok(json!({"Policy": wire::policy(policy_of(&org, required(input, "PolicyId")?)?)}))
        }
        "UpdatePolicy" => {
            let mut org = managed(app, ctx, true)?;
            let pid = required(input, "PolicyId")?.to_owned();
            if policy_of(&org, &pid)?.aws_managed {
                return Err(AwsError::client(
                    "PolicyChangesInProgressException",
                    "You can't change an AWS managed policy.",
                ));
            }
            if let Some(c) = input.get("Content").and_then(Value::as_str) {
                check_policy_content(c)?;
            }
            let out = {
                let Some(p) = org.policies.iter_mut().find(|p| p.id == pid) else {
                    return Err(invalid("no such policy"));
                };
                if let Some(v) = input.get("Name").and_then(Value::as_str) {
                    p.name = v.to_owned();
                }
                if let Some(v) = input.get("Description").and_then(Value::as_str) {
                    p.description = v.to_owned();
                }
                if let Some(v) = input.get("Content").and_then(Value::as_str) {
                    p.content = v.to_owned();
                }
                json!({"Policy": wire::policy(p)})
            };
            save(app, &org)?;
            Ok(out)
        }
        "DeletePolicy" => {
            let mut org = managed(app, ctx, true)?;
            let pid = required(input, "PolicyId")?.to_owned();
            if policy_of(&org, &pid)?.aws_managed {
                return Err(denied());
            }
            if org.attachments.iter().any(|(p, _)| *p == pid) {
                return Err(AwsError::client(
                    "PolicyInUseException",
                    "The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts before performing this operation.",
                ));
            }
            org.policies.retain(|p| p.id != pid);
            save(app, &org)?;
            Ok(json!({}))
        }
        "ListPolicies" => {
            let org = managed(app, ctx, false)?;
            let kind = required(input, "Filter")?;
            Ok(
                json!({"Policies": org.policies.iter().filter(|p| p.kind == kind).map(wire::policy_summary).collect::<Vec<_>>()}),
            )
        }
        "AttachPolicy" => {
            let mut org = managed(app, ctx, true)?;
            let pid = required(input, "PolicyId")?.to_owned();
            let target = required(input, "TargetId")?.to_owned();
            let kind = policy_of(&org, &pid)?.kind.clone();
            if !target_exists(&org, &target) {
                return Err(target_not_found());
            }
            if !org.policy_type_enabled(&kind) {
                return Err(type_not_enabled());
            }
            if org
                .attachments
                .iter()
                .any(|(p, t)| *p == pid && *t == target)
            {
                return Err(AwsError::client(
                    "DuplicatePolicyAttachmentException",
                    "The selected policy is already attached to the specified target.",
                ));
            }
            org.attachments.push((pid, target));
            save(app, &org)?;
            Ok(json!({}))
        }
        "DetachPolicy" => {
            let mut org = managed(app, ctx, true)?;
            let pid = required(input, "PolicyId")?.to_owned();
            let target = required(input, "TargetId")?.to_owned();
            let kind = policy_of(&org, &pid)?.kind.clone();
            if !target_exists(&org, &target) {
                return Err(target_not_found());
            }
            if !org
                .attachments
                .iter()
                .any(|(p, t)| *p == pid && *t == target)
            {
                return Err(AwsError::client(
                    "PolicyNotAttachedException",
                    "The policy isn't attached to the specified target in the specified root.",
                ));
            }
            if org.attached_to(&target, &kind).len() == 1 {
                let mut e = AwsError::client(
                    "ConstraintViolationException",
                    "You can't detach the last service control policy from a root, OU or account: every entity must have at least one attached.",
                );
                e.extra.push((
                    "Reason",
                    "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED".to_owned(),
                ));
                return Err(e);
            }
            org.attachments
                .retain(|(p, t)| !(*p == pid && *t == target));
            save(app, &org)?;
            Ok(json!({}))
        }
        "ListPoliciesForTarget" => {
            let org = managed(app, ctx, false)?;
            let target = required(input, "TargetId")?;
            let kind = required(input, "Filter")?;
            if !target_exists(&org, target) {
                return Err(target_not_found());
            }
            Ok(
                json!({"Policies": org.attached_to(target, kind).into_iter().map(wire::policy_summary).collect::<Vec<_>>()}),
            )
        }
        "ListTargetsForPolicy" => {
            let org = managed(app, ctx, false)?;
            let pid = required(input, "PolicyId")?;
            policy_of(&org, pid)?;
            let targets: Vec<Value> = org
                .attachments
                .iter()
                .filter(|(p, _)| p == pid)
                .filter_map(|(_, t)| target_summary(&org, t))
                .collect();
            Ok(json!({"Targets": targets}))
        }
        "EnablePolicyType" => {
            let mut org = managed(app, ctx, true)?;
            let kind = required(input, "PolicyType")?;
            check_type(kind)?;
            if required(input, "RootId")? != org.root.id {
                return Err(AwsError::client(
                    "RootNotFoundException",
                    "We can't find a root with the RootId that you specified.",
                ));
            }
            if org.policy_type_enabled(kind) {
                return Err(AwsError::client(
                    "PolicyTypeAlreadyEnabledException",
                    "The specified policy type is already enabled.",
                ));
            }
            org.root.policy_types.push(kind.to_owned());
            // FullAWSAccess goes on every root, OU and account, as AWS attaches it.
            let mut targets = vec![org.root.id.clone()];
            targets.extend(org.units.iter().map(|u| u.id.clone()));
            targets.extend(org.accounts.iter().map(|a| a.id.clone()));
            for t in targets {
                org.attachments.push((FULL_ACCESS_ID.to_owned(), t));
            }
            save(app, &org)?;
            Ok(json!({"Root": wire::root(&org)}))
        }
        "DisablePolicyType" => {
            let mut org = managed(app, ctx, true)?;
            let kind = required(input, "PolicyType")?.to_owned();
            if required(input, "RootId")? != org.root.id {
                return Err(AwsError::client(
                    "RootNotFoundException",
                    "We can't find a root with the RootId that you specified.",
                ));
            }
            if !org.policy_type_enabled(&kind) {
                return Err(type_not_enabled());
            }
            org.root.policy_types.retain(|t| *t != kind);
            let of_kind: Vec<String> = org
                .policies
                .iter()
                .filter(|p| p.kind == kind)
                .map(|p| p.id.clone())
                .collect();
            org.attachments.retain(|(p, _)| !of_kind.contains(p));
            save(app, &org)?;
            Ok(json!({"Root": wire::root(&org)}))
        }
        "InviteAccountToOrganization" => invite(app, ctx, input, now),
        "AcceptHandshake" | "DeclineHandshake" | "CancelHandshake" | "DescribeHandshake" => {
            handshake(app, ctx, op, input, now)
        }
        "RegisterDelegatedAdministrator" => {
            let mut org = managed(app, ctx, true)?;
            let account = required(input, "AccountId")?.to_owned();
            let service = required(input, "ServicePrincipal")?.to_owned();
            if account == org.management_account {
                let mut e = AwsError::client(
                    "ConstraintViolationException",
                    "You can't register the management account of the organization as a delegated administrator.",
                );
                e.extra.push((
                    "Reason",
                    "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR".to_owned(),
                ));
                return Err(e);
            }
            if org.member(&account).is_none() {
                return Err(account_not_found());
            }
            if org
                .delegated
                .iter()
                .any(|d| d.account == account && d.service == service)
            {
                return Err(AwsError::client(
                    "AccountAlreadyRegisteredException",
                    "The provided account is already a delegated administrator for your organization.",
                ));
            }
            org.delegated.push(cairn_store::organizations::Delegated {
                account,
                service,
                since_ms: now,
            });
            save(app, &org)?;
            Ok(json!({}))
        }
        "DeregisterDelegatedAdministrator" => {
            let mut org = managed(app, ctx, true)?;
            let account = required(input, "AccountId")?.to_owned();
            let service = required(input, "ServicePrincipal")?.to_owned();
            let before = org.delegated.len();
            org.delegated
                .retain(|d| !(d.account == account && d.service == service));
            if org.delegated.len() == before {
                return Err(AwsError::client(
                    "AccountNotRegisteredException",
                    "The provided account is not a registered delegated administrator for your organization.",
                ));
            }
            save(app, &org)?;
            Ok(json!({}))
        }
        "ListDelegatedAdministrators" => {
            let org = managed(app, ctx, false)?;
            let only = input.get("ServicePrincipal").and_then(Value::as_str);
            let mut seen: Vec<&str> = Vec::new();
            let mut out = Vec::new();
            for d in org
                .delegated
                .iter()
                .filter(|d| only.is_none_or(|s| s == d.service))
            {
                if seen.contains(&d.account.as_str()) {
                    continue;
                }
                seen.push(&d.account);
                if let Some(m) = org.member(&d.account) {
                    let mut v = wire::account(m);
                    v["DelegationEnabledDate"] = cairn_model::timefmt::epoch_seconds(d.since_ms);
                    out.push(v);
                }
            }
            Ok(json!({"DelegatedAdministrators": out}))
        }
        "ListDelegatedServicesForAccount" => {
            let org = managed(app, ctx, false)?;
            let account = required(input, "AccountId")?;
            let services: Vec<Value> = org
                .delegated
                .iter()
                .filter(|d| d.account == account)
                .map(|d| json!({"ServicePrincipal": d.service, "DelegationEnabledDate": cairn_model::timefmt::epoch_seconds(d.since_ms)}))
                .collect();
            if services.is_empty() {
                return Err(AwsError::client(
                    "AccountNotRegisteredException",
                    "The provided account is not a registered delegated administrator for your organization.",
                ));
            }
            Ok(json!({"DelegatedServices": services}))
        }
        "ListHandshakesForAccount" => {
            // Invitations to the caller, from any organization, and those its own organization
            // sent when it manages one. Every handshake here is an invitation (`INVITE`).
            let wanted = input.pointer("/Filter/ActionType").and_then(Value::as_str);
            let mut out = Vec::new();
            if wanted.is_none_or(|a| a == "INVITE")
                && input.pointer("/Filter/ParentHandshakeId").is_none()
            {
                let me = &ctx.recipient_account;
                for org in app.organizations.organizations().map_err(internal)? {
                    let manages = &org.management_account == me;
                    for h in org
                        .handshakes
                        .iter()
                        .filter(|h| manages || &h.account == me)
                    {
                        out.push(wire::handshake(&org, h));
                    }
                }
            }
            Ok(json!({"Handshakes": out}))
        }
        "ListHandshakesForOrganization" => {
            let org = managed(app, ctx, false)?;
            Ok(
                json!({"Handshakes": org.handshakes.iter().map(|h| wire::handshake(&org, h)).collect::<Vec<_>>()}),
            )
        }
        _ => Err(AwsError::client(
            "UnsupportedAPIEndpointException",
            format!("cairn does not support the Organizations operation {op} yet."),
        )),
    }
}

fn account_not_found() -> AwsError {
    AwsError::client(
        "AccountNotFoundException",
        "You specified an account that doesn't exist.",
    )
}

fn parent_not_found() -> AwsError {
    AwsError::client(
        "ParentNotFoundException",
        "We can't find a root or OU with the ParentId that you specified.",
    )
}

fn target_not_found() -> AwsError {
    AwsError::client(
        "TargetNotFoundException",
        "We can't find a root, OU, account, or email address with the TargetId that you specified.",
    )
}

fn unit_not_found() -> AwsError {
    AwsError::client(
        "OrganizationalUnitNotFoundException",
        "We can't find an OU with the OrganizationalUnitId that you specified.",
    )
}

fn type_not_enabled() -> AwsError {
    AwsError::client(
        "PolicyTypeNotEnabledException",
        "This operation can be performed only for enabled policy types.",
    )
}

fn unit_of<'a>(org: &'a Organization, id: &str) -> Result<&'a Unit, AwsError> {
    org.units
        .iter()
        .find(|u| u.id == id)
        .ok_or_else(unit_not_found)
}

fn target_summary(org: &Organization, t: &str) -> Option<Value> {
    if t == org.root.id {
        return Some(
            json!({"TargetId": t, "Arn": org.root.arn, "Name": org.root.name, "Type": "ROOT"}),
        );
    }
    if let Some(u) = org.units.iter().find(|u| u.id == t) {
        return Some(
            json!({"TargetId": t, "Arn": u.arn, "Name": u.name, "Type": "ORGANIZATIONAL_UNIT"}),
        );
    }
    org.member(t)
        .map(|a| json!({"TargetId": t, "Arn": a.arn, "Name": a.name, "Type": "ACCOUNT"}))
}

fn create_organization(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let account = ctx.recipient_account.clone();
    if app
        .organizations
        .org_of(&account)
        .map_err(internal)?
        .is_some()
    {
        return Err(AwsError::client(
            "AlreadyInOrganizationException",
            "The AWS account is already a member of an organization.",
        ));
    }
    let feature_set = input
        .get("FeatureSet")
        .and_then(Value::as_str)
        .unwrap_or("ALL");
    if !matches!(feature_set, "ALL" | "CONSOLIDATED_BILLING") {
        return Err(invalid(format!(
            "FeatureSet {feature_set} is not ALL or CONSOLIDATED_BILLING."
        )));
    }
    let oid = id("o-", 10);
    let rid = id("r-", 4);
    let email = root_email(&account);
    let mut org = Organization {
        arn: format!("arn:aws:organizations::{account}:organization/{oid}"),
        feature_set: feature_set.to_owned(),
        management_account: account.clone(),
        management_email: email.clone(),
        root: Root {
            arn: format!("arn:aws:organizations::{account}:root/{oid}/{rid}"),
            id: rid,
            name: "Root".to_owned(),
            policy_types: Vec::new(),
        },
        units: Vec::new(),
        accounts: Vec::new(),
        policies: vec![full_access()],
        attachments: Vec::new(),
        create_account_requests: Vec::new(),
        handshakes: Vec::new(),
        delegated: Vec::new(),
        id: oid,
    };
    let management = joining(
        &org,
        &account,
        &account,
        &email,
        "CREATED",
        app.clock.now_millis(),
    );
    org.accounts.push(management);
    save(app, &org)?;
    Ok(json!({"Organization": wire::organization(&org)}))
}

/// A new cairn account in the organization, with the role the management account assumes to
/// administer it (`OrganizationAccountAccessRole` unless `RoleName` says otherwise).
fn create_account(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    now: i64,
) -> Result<Value, AwsError> {
    let mut org = managed(app, ctx, true)?;
    let email = required(input, "Email")?.to_owned();
    let name = required(input, "AccountName")?.to_owned();
    if org.accounts.iter().any(|a| a.email == email) {
        return Err(AwsError::client(
            "DuplicateAccountException",
            "That account already exists.",
        ));
    }
    let role = input
        .get("RoleName")
        .and_then(Value::as_str)
        .unwrap_or("OrganizationAccountAccessRole");
    let (acct, _) = app.identity.create_account(now).map_err(internal)?;
    let new_id: &AccountId = &acct.id;
    let trust = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{}:root", org.management_account)},
        "Action": "sts:AssumeRole"}]})
    .to_string();
    let made = app
        .identity
        .create_role(
            new_id,
            NewRole {
                name: role,
                path: "/",
                trust_policy: &trust,
                description: None,
                max_session_duration: 3600,
                tags: &Vec::new(),
            },
            now,
        )
        .map_err(|e| internal(format!("{e:?}")))?;
    app.identity
        .attach_policy(
            new_id,
            Owner {
                kind: OwnerKind::Role,
                id: &made.role_id,
                name: &made.name,
            },
            ADMIN_POLICY,
        )
        .map_err(|e| internal(format!("{e:?}")))?;
    let account = new_id.as_str().to_owned();
    let member = joining(&org, &account, &name, &email, "CREATED", now);
    org.accounts.push(member);
    attach_defaults(&mut org, &account);
    let request = CreateAccountRequest {
        id: id("car-", 32),
        account_name: name,
        account_id: account,
        state: "SUCCEEDED".to_owned(),
        requested_ms: now,
        completed_ms: now,
    };
    let out = json!({"CreateAccountStatus": wire::create_account_status(&request)});
    org.create_account_requests.push(request);
    save(app, &org)?;
    Ok(out)
}

/// How long an invitation stays open (AWS: 15 days).
const HANDSHAKE_LIFE_MS: i64 = 15 * 86_400_000;

fn handshake_not_found() -> AwsError {
    AwsError::client(
        "HandshakeNotFoundException",
        "We can't find a handshake with the HandshakeId that you specified.",
    )
}

fn constraint(reason: &str, message: &str) -> AwsError {
    let mut e = AwsError::client("HandshakeConstraintViolationException", message);
    e.extra.push(("Reason", reason.to_owned()));
    e
}

/// Invites an existing cairn account into the caller's organization.
fn invite(app: &App, ctx: &CallContext, input: &Value, now: i64) -> Result<Value, AwsError> {
    let mut org = managed(app, ctx, true)?;
    let target = input.get("Target").unwrap_or(&Value::Null);
    if target.get("Type").and_then(Value::as_str) != Some("ACCOUNT") {
        return Err(invalid(
            "cairn invites accounts by id (Target Type ACCOUNT).",
        ));
    }
    let account = required(target, "Id")?.to_owned();
    let known = AccountId::parse(&account)
        .ok()
        .map(|id| app.identity.account(&id))
        .transpose()
        .map_err(internal)?
        .flatten();
    if known.is_none() {
        return Err(account_not_found());
    }
    if org.member(&account).is_some() {
        return Err(AwsError::client(
            "DuplicateAccountException",
            "That account is already a member of this organization.",
        ));
    }
    if org
        .handshakes
        .iter()
        .any(|h| h.account == account && h.state == "OPEN")
    {
        return Err(AwsError::client(
            "DuplicateHandshakeException",
            "A handshake with the same action and target already exists.",
        ));
    }
    let hid = format!("{}{}", org.id.replacen("o-", "h-", 1), id("", 10));
    let h = Handshake {
        arn: format!(
            "arn:aws:organizations::{}:handshake/{}/invite/{hid}",
            org.management_account, org.id
        ),
        id: hid,
        account,
        state: "OPEN".to_owned(),
        requested_ms: now,
        expiration_ms: now + HANDSHAKE_LIFE_MS,
        notes: input
            .get("Notes")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    };
    let out = json!({"Handshake": wire::handshake(&org, &h)});
    org.handshakes.push(h);
    save(app, &org)?;
    Ok(out)
}

/// Answers, cancels or describes an invitation: the organization it is from is in its id.
fn handshake(
    app: &App,
    ctx: &CallContext,
    op: &str,
    input: &Value,
    now: i64,
) -> Result<Value, AwsError> {
    let hid = required(input, "HandshakeId")?.to_owned();
    let org_id = hid
        .get(2..12)
        .map(|s| format!("o-{s}"))
        .ok_or_else(handshake_not_found)?;
    let read = if op == "DescribeHandshake" {
        app.organizations.organization(&org_id)
    } else {
        app.organizations.organization_for_change(&org_id)
    };
    let mut org = read.map_err(internal)?.ok_or_else(handshake_not_found)?;
    let caller = ctx.recipient_account.clone();
    let is_management = org.management_account == caller;
    let Some(at) = org.handshakes.iter().position(|h| h.id == hid) else {
        return Err(handshake_not_found());
    };
    let h = org.handshakes[at].clone();
    let invited = h.account == caller;
    if !(invited || is_management) {
        return Err(handshake_not_found());
    }
    if op == "DescribeHandshake" {
        return Ok(json!({"Handshake": wire::handshake(&org, &h)}));
    }
    let open = h.state == "OPEN" && now < h.expiration_ms;
    if !open {
        return Err(AwsError::client(
            "InvalidHandshakeTransitionException",
            format!(
                "You can't perform the operation on the handshake in its current state ({}).",
                h.state
            ),
        ));
    }
    let state = match op {
        "CancelHandshake" if is_management => "CANCELED",
        "DeclineHandshake" if invited => "DECLINED",
        "AcceptHandshake" if invited => {
            if app
                .organizations
                .org_of(&caller)
                .map_err(internal)?
                .is_some()
            {
                return Err(constraint(
                    "ALREADY_IN_AN_ORGANIZATION",
                    "The account is already a member of an organization.",
                ));
            }
            let member = joining(&org, &caller, &caller, &root_email(&caller), "INVITED", now);
            org.accounts.push(member);
            attach_defaults(&mut org, &caller);
            "ACCEPTED"
        }
        _ => return Err(denied()),
    };
    org.handshakes[at].state = state.to_owned();
    let out = json!({"Handshake": wire::handshake(&org, &org.handshakes[at])});
    save(app, &org)?;
    Ok(out)
}
