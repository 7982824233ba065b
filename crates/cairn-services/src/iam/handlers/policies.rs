//! Inline policies, customer managed policies with versions, and attachments.

use cairn_policy::PolicyKind;
use cairn_store::identity::{ManagedPolicy, NewPolicy, Owner, OwnerKind};
use cairn_wire::AwsError;
use serde_json::json;

use super::entities::Scope;
use super::{Done, store_error};
use crate::authz::managed::aws_managed_policy;
use crate::iam::{validate, wire};
use crate::pipeline::codec::form::{self, optional, page, required, truncation_xml};

/// The owner an operation's name points at (`…UserPolicy`, `…GroupPolicy`, `…RolePolicy`),
/// resolved: (kind, id, name).
fn owner_of(a: &Scope<'_>, op: &str) -> Result<(OwnerKind, String, String), AwsError> {
    let id = &a.app.identity;
    if op.contains("User") {
        let u = id
            .user(a.account, required(a.form, "UserName")?)
            .map_err(store_error)?;
        Ok((OwnerKind::User, u.user_id, u.name))
    } else if op.contains("Group") {
        let g = id
            .group(a.account, required(a.form, "GroupName")?)
            .map_err(store_error)?;
        Ok((OwnerKind::Group, g.group_id, g.name))
    } else {
        let r = id
            .role(a.account, required(a.form, "RoleName")?)
            .map_err(store_error)?;
        Ok((OwnerKind::Role, r.role_id, r.name))
    }
}

fn owner(o: &(OwnerKind, String, String)) -> Owner<'_> {
    Owner {
        kind: o.0,
        id: &o.1,
        name: &o.2,
    }
}

fn owner_member(kind: OwnerKind) -> &'static str {
    match kind {
        OwnerKind::User => "UserName",
        OwnerKind::Group => "GroupName",
        OwnerKind::Role => "RoleName",
    }
}

// ---- inline ----

pub fn put_inline(a: &Scope<'_>, op: &str) -> Result<Done, AwsError> {
    let o = owner_of(a, op)?;
    let name = required(a.form, "PolicyName")?;
    validate::name("PolicyName", name, 128)?;
    let doc = required(a.form, "PolicyDocument")?;
    validate::policy(doc, PolicyKind::Identity)?;
    validate::inline_size(doc, o.0.as_str(), &o.2)?;
    a.app
        .identity
        .put_inline_policy(owner(&o), name, doc)
        .map_err(store_error)?;
    Ok(Done::empty())
}

pub fn get_inline(a: &Scope<'_>, op: &str) -> Result<Done, AwsError> {
    let o = owner_of(a, op)?;
    let name = required(a.form, "PolicyName")?;
    let doc = a
        .app
        .identity
        .inline_policy(owner(&o), name)
        .map_err(store_error)?;
    Ok(Done {
        xml: format!(
            "{}{}{}",
            wire::el(owner_member(o.0), &o.2),
            wire::el("PolicyName", name),
            wire::el("PolicyDocument", &wire::url_encoded(&doc)),
        ),
        response: None,
    })
}

pub fn list_inline(a: &Scope<'_>, op: &str) -> Result<Done, AwsError> {
    let o = owner_of(a, op)?;
    let names = a
        .app
        .identity
        .inline_policy_names(owner(&o))
        .map_err(store_error)?;
    let p = page(a.form, names)?;
    let members: String = p.items.iter().map(|n| wire::el("member", n)).collect();
    Ok(Done {
        xml: format!("<PolicyNames>{members}</PolicyNames>{}", truncation_xml(&p)),
        response: None,
    })
}

pub fn delete_inline(a: &Scope<'_>, op: &str) -> Result<Done, AwsError> {
    let o = owner_of(a, op)?;
    a.app
        .identity
        .delete_inline_policy(owner(&o), required(a.form, "PolicyName")?)
        .map_err(store_error)?;
    Ok(Done::empty())
}

// ---- managed ----

/// An AWS managed policy described like a customer one.
fn aws_policy(a: &Scope<'_>, arn: &str) -> Result<Option<ManagedPolicy>, AwsError> {
    let Some((name, id, _)) = aws_managed_policy(arn) else {
        return Ok(None);
    };
    let count = a
        .app
        .identity
        .attachment_count(arn, a.account)
        .map_err(store_error)?;
    Ok(Some(ManagedPolicy {
        policy_id: id.into(),
        account: a.account.clone(),
        arn: arn.into(),
        name: name.into(),
        path: "/".into(),
        description: None,
        default_version: "v1".into(),
        tags: Vec::new(),
        // AWS managed policies predate every account cairn makes.
        created_ms: 1_423_000_000_000,
        updated_ms: 1_423_000_000_000,
        attachment_count: count,
    }))
}

fn any_policy(a: &Scope<'_>, arn: &str) -> Result<ManagedPolicy, AwsError> {
    if let Some(p) = aws_policy(a, arn)? {
        return Ok(p);
    }
    let p = a.app.identity.policy(arn).map_err(store_error)?;
    if p.account != *a.account {
        return Err(store_error(cairn_store::identity::IamError::NoSuchEntity(
            format!("Policy {arn} does not exist or is not attachable."),
        )));
    }
    Ok(p)
}

pub fn create_policy(a: &Scope<'_>) -> Result<Done, AwsError> {
    let name = required(a.form, "PolicyName")?;
    validate::name("PolicyName", name, 128)?;
    let path = optional(a.form, "Path").unwrap_or("/");
    validate::path("Path", path)?;
    let doc = required(a.form, "PolicyDocument")?;
    validate::policy(doc, PolicyKind::Identity)?;
    validate::managed_size(doc)?;
    let tags = form::tags(a.form);
    let p = a
        .app
        .identity
        .create_policy(
            a.account,
            NewPolicy {
                name,
                path,
                description: optional(a.form, "Description"),
                document: doc,
                tags: &tags,
            },
            a.now,
        )
        .map_err(store_error)?;
    Ok(Done {
        xml: wire::policy(&p, "Policy"),
        response: Some(json!({ "policy": wire::policy_json(&p) })),
    })
}

pub fn get_policy(a: &Scope<'_>) -> Result<Done, AwsError> {
    let p = any_policy(a, required(a.form, "PolicyArn")?)?;
    Ok(Done {
        xml: wire::policy(&p, "Policy"),
        response: None,
    })
}

pub fn list_policies(a: &Scope<'_>) -> Result<Done, AwsError> {
    let scope = optional(a.form, "Scope").unwrap_or("All");
    if !["All", "AWS", "Local"].contains(&scope) {
        return Err(form::validation(
            "Scope",
            scope,
            "Member must satisfy enum value set: [All, AWS, Local]",
        ));
    }
    let only_attached = form::boolean(a.form, "OnlyAttached")?.unwrap_or(false);
    let prefix = optional(a.form, "PathPrefix").unwrap_or("/");
    let mut all = Vec::new();
    if scope != "Local" {
        for (arn, ..) in crate::authz::managed::all() {
            if let Some(p) = aws_policy(a, &arn)? {
                all.push(p);
            }
        }
    }
    if scope != "AWS" {
        all.extend(
            a.app
                .identity
                .policies(a.account, prefix)
                .map_err(store_error)?,
        );
    }
    all.retain(|p| p.path.starts_with(prefix) && (!only_attached || p.attachment_count > 0));
    let p = page(a.form, all)?;
    let members: String = p.items.iter().map(|x| wire::policy(x, "member")).collect();
    Ok(Done {
        xml: format!("<Policies>{members}</Policies>{}", truncation_xml(&p)),
        response: None,
    })
}

pub fn delete_policy(a: &Scope<'_>) -> Result<Done, AwsError> {
    let arn = required(a.form, "PolicyArn")?;
    any_policy(a, arn)?;
    if aws_managed_policy(arn).is_some() {
        return Err(AwsError::client(
            "InvalidInput",
            format!("ARN {arn} is not valid."),
        ));
    }
    a.app.identity.delete_policy(arn).map_err(store_error)?;
    Ok(Done::empty())
}

fn customer_policy_arn<'a>(a: &'a Scope<'_>) -> Result<&'a str, AwsError> {
    let arn = required(a.form, "PolicyArn")?;
    if aws_managed_policy(arn).is_some() {
        return Err(AwsError::client(
            "InvalidInput",
            format!("ARN {arn} is not valid."),
        ));
    }
    any_policy(a, arn)?;
    Ok(arn)
}

pub fn create_policy_version(a: &Scope<'_>) -> Result<Done, AwsError> {
    let arn = customer_policy_arn(a)?;
    let doc = required(a.form, "PolicyDocument")?;
    validate::policy(doc, PolicyKind::Identity)?;
    validate::managed_size(doc)?;
    let set_default = form::boolean(a.form, "SetAsDefault")?.unwrap_or(false);
    let v = a
        .app
        .identity
        .create_policy_version(arn, doc, set_default, a.now)
        .map_err(store_error)?;
    Ok(Done {
        xml: format!(
            "<PolicyVersion>{}{}{}</PolicyVersion>",
            wire::el("VersionId", &v.version_id),
            wire::el("IsDefaultVersion", &v.is_default.to_string()),
            wire::el("CreateDate", &wire::time(v.created_ms)),
        ),
        response: Some(json!({ "policyVersion": wire::policy_version_json(&v) })),
    })
}

pub fn get_policy_version(a: &Scope<'_>) -> Result<Done, AwsError> {
    let arn = required(a.form, "PolicyArn")?;
    let version = required(a.form, "VersionId")?;
    if let Some((_, _, doc)) = aws_managed_policy(arn) {
        if version != "v1" {
            return Err(store_error(cairn_store::identity::IamError::NoSuchEntity(
                format!("Policy {arn} version {version} does not exist or is not attachable."),
            )));
        }
        let v = cairn_store::identity::PolicyVersion {
            version_id: "v1".into(),
            document: doc.into(),
            created_ms: 1_423_000_000_000,
            is_default: true,
        };
        return Ok(Done {
            xml: wire::policy_version(&v, "PolicyVersion"),
            response: None,
        });
    }
    any_policy(a, arn)?;
    let v = a
        .app
        .identity
        .policy_version(arn, version)
        .map_err(store_error)?;
    Ok(Done {
        xml: wire::policy_version(&v, "PolicyVersion"),
        response: None,
    })
}

pub fn list_policy_versions(a: &Scope<'_>) -> Result<Done, AwsError> {
    let arn = customer_policy_arn(a)?;
    let all = a.app.identity.policy_versions(arn).map_err(store_error)?;
    let p = page(a.form, all)?;
    let members: String = p
        .items
        .iter()
        .map(|v| wire::policy_version(v, "member"))
        .collect();
    Ok(Done {
        xml: format!("<Versions>{members}</Versions>{}", truncation_xml(&p)),
        response: None,
    })
}

pub fn delete_policy_version(a: &Scope<'_>) -> Result<Done, AwsError> {
    let arn = customer_policy_arn(a)?;
    a.app
        .identity
        .delete_policy_version(arn, required(a.form, "VersionId")?)
        .map_err(store_error)?;
    Ok(Done::empty())
}

pub fn set_default_policy_version(a: &Scope<'_>) -> Result<Done, AwsError> {
    let arn = customer_policy_arn(a)?;
    a.app
        .identity
        .set_default_policy_version(arn, required(a.form, "VersionId")?, a.now)
        .map_err(store_error)?;
    Ok(Done::empty())
}

// ---- attachments ----

pub fn attach(a: &Scope<'_>, op: &str, attach: bool) -> Result<Done, AwsError> {
    let o = owner_of(a, op)?;
    let arn = required(a.form, "PolicyArn")?;
    if !arn.starts_with("arn:aws:iam::") {
        return Err(AwsError::client(
            "InvalidInput",
            format!("ARN {arn} is not valid."),
        ));
    }
    if attach {
        any_policy(a, arn)?;
        a.app
            .identity
            .attach_policy(a.account, owner(&o), arn)
            .map_err(store_error)?;
    } else {
        a.app
            .identity
            .detach_policy(owner(&o), arn)
            .map_err(store_error)?;
    }
    Ok(Done::empty())
}

pub fn list_attached(a: &Scope<'_>, op: &str) -> Result<Done, AwsError> {
    let o = owner_of(a, op)?;
    let prefix = optional(a.form, "PathPrefix").unwrap_or("/");
    let mut all = Vec::new();
    for arn in a
        .app
        .identity
        .attached_policies(owner(&o))
        .map_err(store_error)?
    {
        if let Ok(p) = any_policy(a, &arn)
            && p.path.starts_with(prefix)
        {
            all.push(p);
        }
    }
    let p = page(a.form, all)?;
    let members: String = p
        .items
        .iter()
        .map(|x| {
            format!(
                "<member>{}{}</member>",
                wire::el("PolicyName", &x.name),
                wire::el("PolicyArn", &x.arn)
            )
        })
        .collect();
    Ok(Done {
        xml: format!(
            "<AttachedPolicies>{members}</AttachedPolicies>{}",
            truncation_xml(&p)
        ),
        response: None,
    })
}

pub fn list_entities_for_policy(a: &Scope<'_>) -> Result<Done, AwsError> {
    let arn = required(a.form, "PolicyArn")?;
    any_policy(a, arn)?;
    let filter = optional(a.form, "EntityFilter");
    let entities = a
        .app
        .identity
        .policy_entities(arn, a.account)
        .map_err(store_error)?;
    let (mut users, mut groups, mut roles) = (String::new(), String::new(), String::new());
    for (kind, id) in entities {
        match kind {
            OwnerKind::User if filter.is_none_or(|f| f == "User") => {
                if let Ok(Some(u)) = a.app.identity.user_by_id(&id) {
                    users += &format!(
                        "<member>{}{}</member>",
                        wire::el("UserName", &u.name),
                        wire::el("UserId", &u.user_id)
                    );
                }
            }
            OwnerKind::Role if filter.is_none_or(|f| f == "Role") => {
                if let Ok(Some(r)) = a.app.identity.role_by_id(&id) {
                    roles += &format!(
                        "<member>{}{}</member>",
                        wire::el("RoleName", &r.name),
                        wire::el("RoleId", &r.role_id)
                    );
                }
            }
            OwnerKind::Group if filter.is_none_or(|f| f == "Group") => {
                if let Some(g) = a
                    .app
                    .identity
                    .groups(a.account, "/")
                    .map_err(store_error)?
                    .into_iter()
                    .find(|g| g.group_id == id)
                {
                    groups += &format!(
                        "<member>{}{}</member>",
                        wire::el("GroupName", &g.name),
                        wire::el("GroupId", &g.group_id)
                    );
                }
            }
            _ => {}
        }
    }
    Ok(Done {
        xml: format!(
            "<PolicyGroups>{groups}</PolicyGroups><PolicyUsers>{users}</PolicyUsers><PolicyRoles>{roles}</PolicyRoles><IsTruncated>false</IsTruncated>"
        ),
        response: None,
    })
}
