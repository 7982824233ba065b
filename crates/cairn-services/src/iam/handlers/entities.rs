//! Users, groups (and membership) and roles.

use cairn_model::AccountId;
use cairn_policy::PolicyKind;
use cairn_store::identity::NewRole;
use cairn_wire::AwsError;
use serde_json::json;

use super::{Done, caller_user, store_error};
use crate::app::App;
use crate::iam::{validate, wire};
use crate::pipeline::codec::form::{self, Form, optional, page, required, truncation_xml};
use crate::recorder::CallContext;

/// What every IAM operation works with.
pub struct Scope<'a> {
    pub app: &'a App,
    pub ctx: &'a CallContext,
    pub account: &'a AccountId,
    pub form: &'a Form,
    pub now: i64,
}

fn path_of<'a>(a: &'a Scope<'_>, member: &str) -> Result<&'a str, AwsError> {
    let p = optional(a.form, member).unwrap_or("/");
    validate::path(member, p)?;
    Ok(p)
}

// ---- users ----

pub fn create_user(a: &Scope<'_>) -> Result<Done, AwsError> {
    let name = required(a.form, "UserName")?;
    validate::name("UserName", name, 64)?;
    let path = path_of(a, "Path")?;
    let u = a
        .app
        .identity
        .create_user(a.account, name, path, &form::tags(a.form), a.now)
        .map_err(store_error)?;
    Ok(Done {
        xml: wire::user(&u, "User"),
        response: Some(json!({ "user": wire::user_json(&u) })),
    })
}

pub fn get_user(a: &Scope<'_>) -> Result<Done, AwsError> {
    let user = match optional(a.form, "UserName") {
        Some(n) => a.app.identity.user(a.account, n).map_err(store_error)?,
        None => match caller_user(a.app, a.ctx)? {
            Some(u) => u,
            None => {
                // The root user, as IAM describes it.
                let account = a
                    .app
                    .identity
                    .account(a.account)
                    .map_err(|e| store_error(e.into()))?
                    .ok_or_else(|| AwsError::internal("the caller's account is gone"))?;
                return Ok(Done {
                    xml: wire::root_user(&account, "User"),
                    response: None,
                });
            }
        },
    };
    Ok(Done {
        xml: wire::user(&user, "User"),
        response: None,
    })
}

pub fn list_users(a: &Scope<'_>) -> Result<Done, AwsError> {
    let prefix = optional(a.form, "PathPrefix").unwrap_or("/");
    let all = a
        .app
        .identity
        .users(a.account, prefix)
        .map_err(store_error)?;
    let p = page(a.form, all)?;
    let members: String = p.items.iter().map(|u| wire::user(u, "member")).collect();
    Ok(Done {
        xml: format!("<Users>{members}</Users>{}", truncation_xml(&p)),
        response: None,
    })
}

pub fn update_user(a: &Scope<'_>) -> Result<Done, AwsError> {
    let name = required(a.form, "UserName")?;
    let new_name = optional(a.form, "NewUserName");
    if let Some(n) = new_name {
        validate::name("NewUserName", n, 64)?;
    }
    let new_path = optional(a.form, "NewPath");
    if let Some(p) = new_path {
        validate::path("NewPath", p)?;
    }
    a.app
        .identity
        .update_user(a.account, name, new_name, new_path)
        .map_err(store_error)?;
    Ok(Done::empty())
}

pub fn delete_user(a: &Scope<'_>) -> Result<Done, AwsError> {
    let name = required(a.form, "UserName")?;
    a.app
        .identity
        .delete_user(a.account, name)
        .map_err(store_error)?;
    Ok(Done::empty())
}

// ---- groups ----

pub fn create_group(a: &Scope<'_>) -> Result<Done, AwsError> {
    let name = required(a.form, "GroupName")?;
    validate::name("GroupName", name, 128)?;
    let path = path_of(a, "Path")?;
    let g = a
        .app
        .identity
        .create_group(a.account, name, path, a.now)
        .map_err(store_error)?;
    Ok(Done {
        xml: wire::group(&g, "Group"),
        response: Some(json!({ "group": wire::group_json(&g) })),
    })
}

pub fn get_group(a: &Scope<'_>) -> Result<Done, AwsError> {
    let g = a
        .app
        .identity
        .group(a.account, required(a.form, "GroupName")?)
        .map_err(store_error)?;
    let members = a.app.identity.group_members(&g).map_err(store_error)?;
    let p = page(a.form, members)?;
    let users: String = p.items.iter().map(|u| wire::user(u, "member")).collect();
    Ok(Done {
        xml: format!(
            "{}<Users>{users}</Users>{}",
            wire::group(&g, "Group"),
            truncation_xml(&p)
        ),
        response: None,
    })
}

pub fn list_groups(a: &Scope<'_>) -> Result<Done, AwsError> {
    let prefix = optional(a.form, "PathPrefix").unwrap_or("/");
    let all = a
        .app
        .identity
        .groups(a.account, prefix)
        .map_err(store_error)?;
    let p = page(a.form, all)?;
    let members: String = p.items.iter().map(|g| wire::group(g, "member")).collect();
    Ok(Done {
        xml: format!("<Groups>{members}</Groups>{}", truncation_xml(&p)),
        response: None,
    })
}

pub fn delete_group(a: &Scope<'_>) -> Result<Done, AwsError> {
    a.app
        .identity
        .delete_group(a.account, required(a.form, "GroupName")?)
        .map_err(store_error)?;
    Ok(Done::empty())
}

pub fn add_user_to_group(a: &Scope<'_>) -> Result<Done, AwsError> {
    a.app
        .identity
        .add_user_to_group(
            a.account,
            required(a.form, "GroupName")?,
            required(a.form, "UserName")?,
            a.now,
        )
        .map_err(store_error)?;
    Ok(Done::empty())
}

pub fn remove_user_from_group(a: &Scope<'_>) -> Result<Done, AwsError> {
    a.app
        .identity
        .remove_user_from_group(
            a.account,
            required(a.form, "GroupName")?,
            required(a.form, "UserName")?,
        )
        .map_err(store_error)?;
    Ok(Done::empty())
}

pub fn list_groups_for_user(a: &Scope<'_>) -> Result<Done, AwsError> {
    let u = a
        .app
        .identity
        .user(a.account, required(a.form, "UserName")?)
        .map_err(store_error)?;
    let all = a.app.identity.groups_of(&u).map_err(store_error)?;
    let p = page(a.form, all)?;
    let members: String = p.items.iter().map(|g| wire::group(g, "member")).collect();
    Ok(Done {
        xml: format!("<Groups>{members}</Groups>{}", truncation_xml(&p)),
        response: None,
    })
}

// ---- roles ----

pub fn create_role(a: &Scope<'_>) -> Result<Done, AwsError> {
    let name = required(a.form, "RoleName")?;
    validate::name("RoleName", name, 64)?;
    let path = path_of(a, "Path")?;
    let trust = required(a.form, "AssumeRolePolicyDocument")?;
    validate::trust_size(trust)?;
    validate::policy(trust, PolicyKind::Trust)?;
    let max = form::integer(a.form, "MaxSessionDuration", 3600, 43200)?.unwrap_or(3600);
    let tags = form::tags(a.form);
    let r = a
        .app
        .identity
        .create_role(
            a.account,
            NewRole {
                name,
                path,
                trust_policy: trust,
                description: optional(a.form, "Description"),
                max_session_duration: max,
                tags: &tags,
            },
            a.now,
        )
        .map_err(store_error)?;
    Ok(Done {
        xml: wire::role(&r, "Role"),
        response: Some(json!({ "role": wire::role_json(&r) })),
    })
}

pub fn get_role(a: &Scope<'_>) -> Result<Done, AwsError> {
    let r = a
        .app
        .identity
        .role(a.account, required(a.form, "RoleName")?)
        .map_err(store_error)?;
    Ok(Done {
        xml: wire::role(&r, "Role"),
        response: None,
    })
}

pub fn list_roles(a: &Scope<'_>) -> Result<Done, AwsError> {
    let prefix = optional(a.form, "PathPrefix").unwrap_or("/");
    let all = a
        .app
        .identity
        .roles(a.account, prefix)
        .map_err(store_error)?;
    let p = page(a.form, all)?;
    let members: String = p.items.iter().map(|r| wire::role(r, "member")).collect();
    Ok(Done {
        xml: format!("<Roles>{members}</Roles>{}", truncation_xml(&p)),
        response: None,
    })
}

pub fn delete_role(a: &Scope<'_>) -> Result<Done, AwsError> {
    a.app
        .identity
        .delete_role(a.account, required(a.form, "RoleName")?)
        .map_err(store_error)?;
    Ok(Done::empty())
}

pub fn update_assume_role_policy(a: &Scope<'_>) -> Result<Done, AwsError> {
    let name = required(a.form, "RoleName")?;
    let doc = required(a.form, "PolicyDocument")?;
    validate::trust_size(doc)?;
    validate::policy(doc, PolicyKind::Trust)?;
    a.app
        .identity
        .set_trust_policy(a.account, name, doc)
        .map_err(store_error)?;
    Ok(Done::empty())
}
