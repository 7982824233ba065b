//! Credentials: access keys, console passwords (login profiles), virtual MFA devices, and the
//! account alias. Secrets appear in answers where AWS answers them, never in records.

use cairn_model::Principal;
use cairn_store::identity::{AccessKey, IamError, KeyOwner, User};
use cairn_wire::AwsError;
use serde_json::json;

use super::entities::Scope;
use super::{Done, caller_user, store_error};
use crate::iam::{validate, wire};
use crate::pipeline::codec::form::{self, optional, page, required, truncation_xml};

/// Whose keys an operation means: the named user, else the calling user, else (for the root
/// user) the root's own keys.
enum KeyHolder {
    User(User),
    Root,
}

fn key_holder(a: &Scope<'_>) -> Result<KeyHolder, AwsError> {
    if let Some(n) = optional(a.form, "UserName") {
        return Ok(KeyHolder::User(
            a.app.identity.user(a.account, n).map_err(store_error)?,
        ));
    }
    match caller_user(a.app, a.ctx)? {
        Some(u) => Ok(KeyHolder::User(u)),
        None if matches!(a.ctx.principal, Principal::Root { .. }) => Ok(KeyHolder::Root),
        None => Err(AwsError::new(
            400,
            "ValidationError",
            "Must specify userName when calling with non-User credentials",
        )),
    }
}

fn holder_keys(a: &Scope<'_>, h: &KeyHolder) -> Result<Vec<AccessKey>, AwsError> {
    match h {
        KeyHolder::User(u) => a.app.identity.user_keys(u),
        KeyHolder::Root => a.app.identity.root_keys(a.account),
    }
    .map_err(store_error)
}

fn holder_name(h: &KeyHolder) -> String {
    match h {
        KeyHolder::User(u) => u.name.clone(),
        KeyHolder::Root => String::new(),
    }
}

/// The key named by `AccessKeyId`, if it belongs to the holder.
fn holder_key(a: &Scope<'_>, h: &KeyHolder) -> Result<AccessKey, AwsError> {
    let id = required(a.form, "AccessKeyId")?;
    holder_keys(a, h)?
        .into_iter()
        .find(|k| k.access_key_id == id)
        .ok_or_else(|| {
            store_error(IamError::NoSuchEntity(format!(
                "The Access Key with id {id} cannot be found."
            )))
        })
}

pub fn create_access_key(a: &Scope<'_>) -> Result<Done, AwsError> {
    let h = key_holder(a)?;
    let key = match &h {
        KeyHolder::User(u) => a
            .app
            .identity
            .create_user_key(u, a.now)
            .map_err(store_error)?,
        KeyHolder::Root => {
            return Err(AwsError::new(
                409,
                "LimitExceeded",
                "cairn keeps one root access key per account; use `cairn accounts` to see it.",
            ));
        }
    };
    let name = holder_name(&h);
    Ok(Done {
        xml: format!(
            "<AccessKey>{}</AccessKey>",
            wire::access_key(&key, &name, true)
        ),
        response: Some(json!({ "accessKey": wire::access_key_json(&key, &name) })),
    })
}

pub fn list_access_keys(a: &Scope<'_>) -> Result<Done, AwsError> {
    let h = key_holder(a)?;
    let name = holder_name(&h);
    let p = page(a.form, holder_keys(a, &h)?)?;
    let members: String = p
        .items
        .iter()
        .map(|k| format!("<member>{}</member>", wire::access_key(k, &name, false)))
        .collect();
    Ok(Done {
        xml: format!(
            "<AccessKeyMetadata>{members}</AccessKeyMetadata>{}",
            truncation_xml(&p)
        ),
        response: None,
    })
}

pub fn update_access_key(a: &Scope<'_>) -> Result<Done, AwsError> {
    let h = key_holder(a)?;
    let status = required(a.form, "Status")?;
    let active = match status {
        "Active" => true,
        "Inactive" => false,
        other => {
            return Err(form::validation(
                "Status",
                other,
                "Member must satisfy enum value set: [Active, Inactive]",
            ));
        }
    };
    let key = holder_key(a, &h)?;
    a.app
        .identity
        .set_key_active(&key.access_key_id, active)
        .map_err(store_error)?;
    Ok(Done::empty())
}

pub fn delete_access_key(a: &Scope<'_>) -> Result<Done, AwsError> {
    let h = key_holder(a)?;
    let key = holder_key(a, &h)?;
    if matches!(h, KeyHolder::Root) {
        return Err(AwsError::new(
            409,
            "DeleteConflict",
            "cairn keeps the account's root access key; it cannot be deleted.",
        ));
    }
    a.app
        .identity
        .delete_key(&key.access_key_id)
        .map_err(store_error)?;
    Ok(Done::empty())
}

pub fn get_access_key_last_used(a: &Scope<'_>) -> Result<Done, AwsError> {
    let id = required(a.form, "AccessKeyId")?;
    let key = a
        .app
        .identity
        .key(id)
        .map_err(|e| store_error(e.into()))?
        .filter(|k| k.account == *a.account && k.session_token.is_none())
        .ok_or_else(|| {
            AwsError::new(
                403,
                "AccessDenied",
                format!("The Access Key with id {id} cannot be found."),
            )
        })?;
    let user_name = match &key.owner {
        KeyOwner::User { user_id } => a
            .app
            .identity
            .user_by_id(user_id)
            .map_err(|e| store_error(e.into()))?
            .map(|u| u.name)
            .unwrap_or_default(),
        _ => String::new(),
    };
    let last = a.app.identity.key_last_used(id).map_err(store_error)?;
    let used = match last {
        Some(l) => format!(
            "{}{}{}",
            wire::el("LastUsedDate", &wire::time(l.used_ms)),
            wire::el("ServiceName", &l.service),
            wire::el("Region", &l.region)
        ),
        None => format!(
            "{}{}",
            wire::el("ServiceName", "N/A"),
            wire::el("Region", "N/A")
        ),
    };
    Ok(Done {
        xml: format!(
            "{}<AccessKeyLastUsed>{used}</AccessKeyLastUsed>",
            wire::el("UserName", &user_name)
        ),
        response: None,
    })
}

// ---- login profiles ----

fn profile_user(a: &Scope<'_>) -> Result<User, AwsError> {
    match key_holder(a)? {
        KeyHolder::User(u) => Ok(u),
        KeyHolder::Root => Err(AwsError::new(
            400,
            "ValidationError",
            "Must specify userName when calling with non-User credentials",
        )),
    }
}

fn password_policy(pw: &str) -> Result<(), AwsError> {
    // AWS's default password policy: 8 to 128 characters.
    let n = pw.chars().count();
    if !(8..=128).contains(&n) {
        return Err(AwsError::client(
            "PasswordPolicyViolation",
            "Password should have a minimum length of 8",
        ));
    }
    Ok(())
}

pub fn create_login_profile(a: &Scope<'_>) -> Result<Done, AwsError> {
    let u = profile_user(a)?;
    let pw = required(a.form, "Password")?;
    password_policy(pw)?;
    let reset = form::boolean(a.form, "PasswordResetRequired")?.unwrap_or(false);
    let p = a
        .app
        .identity
        .create_login_profile(&u, pw, reset, a.now)
        .map_err(store_error)?;
    Ok(Done {
        xml: wire::login_profile(&p),
        response: Some(json!({ "loginProfile": wire::login_profile_json(&p) })),
    })
}

pub fn get_login_profile(a: &Scope<'_>) -> Result<Done, AwsError> {
    let u = profile_user(a)?;
    let p = a.app.identity.login_profile(&u).map_err(store_error)?;
    Ok(Done {
        xml: wire::login_profile(&p),
        response: None,
    })
}

pub fn update_login_profile(a: &Scope<'_>) -> Result<Done, AwsError> {
    let u = profile_user(a)?;
    let pw = optional(a.form, "Password");
    if let Some(pw) = pw {
        password_policy(pw)?;
    }
    let reset = form::boolean(a.form, "PasswordResetRequired")?;
    a.app
        .identity
        .update_login_profile(&u, pw, reset)
        .map_err(store_error)?;
    Ok(Done::empty())
}

pub fn delete_login_profile(a: &Scope<'_>) -> Result<Done, AwsError> {
    let u = profile_user(a)?;
    a.app
        .identity
        .delete_login_profile(&u)
        .map_err(store_error)?;
    Ok(Done::empty())
}

/// ChangePassword: the calling IAM user's own password, given the old one; clears a reset
/// the login profile required.
pub fn change_password(a: &Scope<'_>) -> Result<Done, AwsError> {
    let Some(u) = caller_user(a.app, a.ctx)? else {
        return Err(AwsError::client(
            "InvalidUserType",
            "Only IAM users can change their own password with ChangePassword.",
        ));
    };
    let old = required(a.form, "OldPassword")?;
    let new = required(a.form, "NewPassword")?;
    a.app.identity.login_profile(&u).map_err(store_error)?;
    if !a
        .app
        .identity
        .check_password(&u, old)
        .map_err(store_error)?
    {
        return Err(AwsError::new(
            403,
            "AccessDenied",
            "The old password was incorrect.",
        ));
    }
    password_policy(new)?;
    a.app
        .identity
        .update_login_profile(&u, Some(new), Some(false))
        .map_err(store_error)?;
    Ok(Done::empty())
}

// ---- virtual MFA devices ----

pub fn create_virtual_mfa_device(a: &Scope<'_>) -> Result<Done, AwsError> {
    let name = required(a.form, "VirtualMFADeviceName")?;
    validate::name("VirtualMFADeviceName", name, 226)?;
    let path = optional(a.form, "Path").unwrap_or("/");
    validate::path("Path", path)?;
    let d = a
        .app
        .identity
        .create_mfa_device(a.account, path, name, &form::tags(a.form), a.now)
        .map_err(store_error)?;
    Ok(Done {
        xml: wire::mfa_device(&d, None, true, "VirtualMFADevice"),
        response: Some(json!({ "virtualMFADevice": { "serialNumber": d.serial } })),
    })
}

pub fn enable_mfa_device(a: &Scope<'_>) -> Result<Done, AwsError> {
    let u = a
        .app
        .identity
        .user(a.account, required(a.form, "UserName")?)
        .map_err(store_error)?;
    a.app
        .identity
        .enable_mfa_device(
            &u,
            required(a.form, "SerialNumber")?,
            required(a.form, "AuthenticationCode1")?,
            required(a.form, "AuthenticationCode2")?,
            a.now,
        )
        .map_err(store_error)?;
    Ok(Done::empty())
}

pub fn list_mfa_devices(a: &Scope<'_>) -> Result<Done, AwsError> {
    let devices = match key_holder(a)? {
        KeyHolder::User(u) => a
            .app
            .identity
            .user_mfa_devices(&u)
            .map_err(store_error)?
            .into_iter()
            .map(|d| (u.name.clone(), d))
            .collect(),
        KeyHolder::Root => Vec::new(),
    };
    let p = page(a.form, devices)?;
    let members: String = p
        .items
        .iter()
        .map(|(user, d)| {
            format!(
                "<member>{}{}{}</member>",
                wire::el("UserName", user),
                wire::el("SerialNumber", &d.serial),
                wire::el(
                    "EnableDate",
                    &wire::time(d.enabled_ms.unwrap_or(d.created_ms))
                )
            )
        })
        .collect();
    Ok(Done {
        xml: format!("<MFADevices>{members}</MFADevices>{}", truncation_xml(&p)),
        response: None,
    })
}

pub fn list_virtual_mfa_devices(a: &Scope<'_>) -> Result<Done, AwsError> {
    let status = optional(a.form, "AssignmentStatus").unwrap_or("Any");
    let all = a.app.identity.mfa_devices(a.account).map_err(store_error)?;
    let mut items = Vec::new();
    for d in all {
        let assigned = d.user_id.is_some();
        let keep = match status {
            "Assigned" => assigned,
            "Unassigned" => !assigned,
            _ => true,
        };
        if keep {
            let user = match &d.user_id {
                Some(id) => a
                    .app
                    .identity
                    .user_by_id(id)
                    .map_err(|e| store_error(e.into()))?,
                None => None,
            };
            items.push((d, user));
        }
    }
    let p = page(a.form, items)?;
    let members: String = p
        .items
        .iter()
        .map(|(d, u)| wire::mfa_device(d, u.as_ref(), false, "member"))
        .collect();
    Ok(Done {
        xml: format!(
            "<VirtualMFADevices>{members}</VirtualMFADevices>{}",
            truncation_xml(&p)
        ),
        response: None,
    })
}

pub fn deactivate_mfa_device(a: &Scope<'_>) -> Result<Done, AwsError> {
    let u = profile_user(a)?;
    a.app
        .identity
        .deactivate_mfa_device(&u, required(a.form, "SerialNumber")?)
        .map_err(store_error)?;
    Ok(Done::empty())
}

pub fn delete_virtual_mfa_device(a: &Scope<'_>) -> Result<Done, AwsError> {
    let serial = required(a.form, "SerialNumber")?;
    let d = a.app.identity.mfa_device(serial).map_err(store_error)?;
    if d.account != *a.account {
        return Err(store_error(IamError::NoSuchEntity(format!(
            "MFA Device with serial number {serial} does not exist."
        ))));
    }
    a.app
        .identity
        .delete_mfa_device(serial)
        .map_err(store_error)?;
    Ok(Done::empty())
}

// ---- account alias ----

pub fn create_account_alias(a: &Scope<'_>) -> Result<Done, AwsError> {
    let alias = required(a.form, "AccountAlias")?;
    let ok = (3..=63).contains(&alias.len())
        && alias
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !alias.starts_with('-')
        && !alias.ends_with('-');
    if !ok {
        return Err(form::validation(
            "AccountAlias",
            alias,
            "Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$",
        ));
    }
    a.app
        .identity
        .set_account_alias(a.account, alias)
        .map_err(store_error)?;
    Ok(Done::empty())
}

pub fn list_account_aliases(a: &Scope<'_>) -> Result<Done, AwsError> {
    let alias = a
        .app
        .identity
        .account(a.account)
        .map_err(|e| store_error(e.into()))?
        .and_then(|acc| acc.alias);
    let members: String = alias.iter().map(|al| wire::el("member", al)).collect();
    Ok(Done {
        xml: format!("<AccountAliases>{members}</AccountAliases><IsTruncated>false</IsTruncated>"),
        response: None,
    })
}

pub fn delete_account_alias(a: &Scope<'_>) -> Result<Done, AwsError> {
    a.app
        .identity
        .delete_account_alias(a.account, required(a.form, "AccountAlias")?)
        .map_err(store_error)?;
    Ok(Done::empty())
}
