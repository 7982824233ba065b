//! Credentials: access keys, console passwords (login profiles), and the account alias (virtual
//! MFA devices are `mfa.rs`'s). Secrets appear in answers where AWS answers them, never in records.

use cairn_model::Principal;
use cairn_store::identity::{AccessKey, IamError, KeyOwner, User};
use cairn_wire::AwsError;
use serde_json::json;

use super::entities::Scope;
use super::{Done, caller_user, store_error};
use crate::iam::wire;
use crate::pipeline::codec::form::{self, optional, page, required, truncation_xml};

/// Whose keys an operation means: the named user, else the calling user, else (for the root
/// user) the root's own keys.
pub(super) enum KeyHolder {
    User(User),
    Root,
}

pub(super) fn key_holder(a: &Scope<'_>) -> Result<KeyHolder, AwsError> {
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

pub(super) fn profile_user(a: &Scope<'_>) -> Result<User, AwsError> {
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
