//! Virtual MFA devices: creating one (its seed and QR code answered once), enabling it for an
//! IAM user or the root user with two consecutive codes, listing, deactivating and deleting.
//!
//! The root user's devices are assigned from the console only, as in AWS ("you cannot enable
//! an MFA device for the root user with the AWS CLI or API"): the console calls
//! EnableMFADevice and DeactivateMFADevice as the root user with the user name
//! [`CONSOLE_ROOT_USER`], which CloudTrail records as AWS's console does, and which no API
//! client can use (it is no user name IAM allows, and the API answers it as a missing user).

use cairn_model::Principal;
use cairn_store::identity::{IamError, MfaDevice, MfaHolder, User};
use cairn_wire::AwsError;
use serde_json::json;

use super::entities::Scope;
use super::secrets::{KeyHolder, key_holder, profile_user};
use super::{Done, store_error};
use crate::iam::validate;
use crate::iam::wire::{self, DeviceOwner};
use crate::pipeline::codec::form::{self, optional, page, required, truncation_xml};

pub use cairn_model::identity::CONSOLE_ROOT_USER_NAME as CONSOLE_ROOT_USER;

/// Whose devices a `UserName` means: the root user when the console names it so for the
/// signed-in root user, else the IAM user of that name.
enum Named {
    Root,
    User(User),
}

impl Named {
    fn holder(&self) -> MfaHolder {
        match self {
            Named::Root => MfaHolder::Root,
            Named::User(u) => MfaHolder::user(u),
        }
    }
}

fn named(a: &Scope<'_>, name: &str) -> Result<Named, AwsError> {
    let root_at_console = a.ctx.from_console && matches!(a.ctx.principal, Principal::Root { .. });
    if name == CONSOLE_ROOT_USER && root_at_console {
        return Ok(Named::Root);
    }
    Ok(Named::User(
        a.app.identity.user(a.account, name).map_err(store_error)?,
    ))
}

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
    let who = named(a, required(a.form, "UserName")?)?;
    a.app
        .identity
        .enable_mfa_device(
            a.account,
            &who.holder(),
            required(a.form, "SerialNumber")?,
            required(a.form, "AuthenticationCode1")?,
            required(a.form, "AuthenticationCode2")?,
            a.now,
        )
        .map_err(store_error)?;
    Ok(Done::empty())
}

/// ListMFADevices: the named user's devices, else the caller's own (the root user's too).
pub fn list_mfa_devices(a: &Scope<'_>) -> Result<Done, AwsError> {
    let (holder, user_name) = match key_holder(a)? {
        KeyHolder::User(u) => (MfaHolder::user(&u), Some(u.name)),
        KeyHolder::Root => (MfaHolder::Root, None),
    };
    let devices = a
        .app
        .identity
        .mfa_devices_of(a.account, &holder)
        .map_err(store_error)?;
    let p = page(a.form, devices)?;
    let members: String = p
        .items
        .iter()
        .map(|d| {
            // The root user has no user name; IAM leaves it out, as it does in
            // ListVirtualMFADevices' `User` for the root user.
            format!(
                "<member>{}{}{}</member>",
                user_name
                    .as_deref()
                    .map(|n| wire::el("UserName", n))
                    .unwrap_or_default(),
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
    let root = match all.iter().any(|d| d.holder == Some(MfaHolder::Root)) {
        true => a
            .app
            .identity
            .account(a.account)
            .map_err(|e| store_error(e.into()))?,
        false => None,
    };
    let mut items: Vec<(MfaDevice, Option<DeviceOwner>)> = Vec::new();
    for d in all {
        let keep = match status {
            "Assigned" => d.holder.is_some(),
            "Unassigned" => d.holder.is_none(),
            _ => true,
        };
        if !keep {
            continue;
        }
        let owner = match &d.holder {
            Some(MfaHolder::User { user_id }) => a
                .app
                .identity
                .user_by_id(user_id)
                .map_err(|e| store_error(e.into()))?
                .map(DeviceOwner::User),
            Some(MfaHolder::Root) => root.clone().map(DeviceOwner::Root),
            None => None,
        };
        items.push((d, owner));
    }
    let p = page(a.form, items)?;
    let members: String = p
        .items
        .iter()
        .map(|(d, o)| wire::mfa_device(d, o.as_ref(), false, "member"))
        .collect();
    Ok(Done {
        xml: format!(
            "<VirtualMFADevices>{members}</VirtualMFADevices>{}",
            truncation_xml(&p)
        ),
        response: None,
    })
}

/// DeactivateMFADevice: the named user's device, else the calling user's. The root user's
/// long-term credentials must name a user, as in AWS (only an AssumeRoot session may leave it
/// out); the console names the root user as [`CONSOLE_ROOT_USER`].
pub fn deactivate_mfa_device(a: &Scope<'_>) -> Result<Done, AwsError> {
    let holder = match optional(a.form, "UserName") {
        Some(n) => named(a, n)?.holder(),
        None => MfaHolder::user(&profile_user(a)?),
    };
    a.app
        .identity
        .deactivate_mfa_device(a.account, &holder, required(a.form, "SerialNumber")?)
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
