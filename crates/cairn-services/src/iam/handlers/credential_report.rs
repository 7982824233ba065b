//! The credential report: GenerateCredentialReport makes the account's CSV (the root user's row
//! first, then each user's: passwords, MFA, access keys and their last use) and keeps it;
//! GetCredentialReport answers the kept one, base64 as blobs are on the wire. As in AWS a report
//! is good for four hours: asking to generate a younger one answers COMPLETE and keeps it,
//! reading an older one answers ReportExpired.
//!
//! cairn makes the report at once, so the first GenerateCredentialReport answers STARTED (as
//! AWS's does) and the report can be read straight away.

use base64::Engine;
use cairn_model::timefmt;
use cairn_store::identity::{AccessKey, CredentialReport, IamError, MfaHolder, User};
use cairn_wire::AwsError;

use super::entities::Scope;
use super::{Done, store_error};
use crate::iam::wire;

/// How long a report is served before it must be generated again.
const LIFETIME_MS: i64 = 4 * 3600 * 1000;

const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,\
password_last_changed,password_next_rotation,mfa_active,access_key_1_active,\
access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,\
access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,\
access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,\
cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

const NA: &str = "N/A";

/// A time as the report writes it: ISO 8601 with a `+00:00` offset.
fn when(ms: i64) -> String {
    let t = timefmt::event_time(ms);
    match t.strip_suffix('Z') {
        Some(s) => format!("{s}+00:00"),
        None => t,
    }
}

fn flag(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

pub fn generate(a: &Scope<'_>) -> Result<Done, AwsError> {
    let kept = a
        .app
        .identity
        .credential_report(a.account)
        .map_err(store_error)?;
    if kept.is_some_and(|r| a.now - r.generated_ms < LIFETIME_MS) {
        return Ok(Done {
            xml: wire::el("State", "COMPLETE"),
            response: None,
        });
    }
    let report = CredentialReport {
        generated_ms: a.now,
        content: csv(a)?.into_bytes(),
    };
    a.app
        .identity
        .put_credential_report(a.account, &report)
        .map_err(store_error)?;
    Ok(Done {
        xml: format!(
            "{}{}",
            wire::el("State", "STARTED"),
            wire::el(
                "Description",
                "No report exists. Starting a new report generation task"
            )
        ),
        response: None,
    })
}

pub fn get(a: &Scope<'_>) -> Result<Done, AwsError> {
    let Some(r) = a
        .app
        .identity
        .credential_report(a.account)
        .map_err(store_error)?
    else {
        return Err(AwsError::new(410, "ReportNotPresent", ""));
    };
    if a.now - r.generated_ms >= LIFETIME_MS {
        return Err(AwsError::new(410, "ReportExpired", ""));
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(Done {
        xml: format!(
            "{}{}{}",
            wire::el("Content", &b64.encode(&r.content)),
            wire::el("ReportFormat", "text/csv"),
            wire::el("GeneratedTime", &wire::time(r.generated_ms)),
        ),
        response: None,
    })
}

/// The report's CSV: the header, the root user, then the users by name.
fn csv(a: &Scope<'_>) -> Result<String, AwsError> {
    let id = &a.app.identity;
    let account = id
        .account(a.account)
        .map_err(|e| store_error(e.into()))?
        .ok_or_else(|| AwsError::internal("the caller's account is gone"))?;
    let mut lines = vec![HEADER.to_owned()];
    let root_mfa = !id
        .mfa_devices_of(a.account, &MfaHolder::Root)
        .map_err(store_error)?
        .is_empty();
    let root_keys = id.root_keys(a.account).map_err(store_error)?;
    let mut root = vec![
        "<root_account>".to_owned(),
        format!("arn:aws:iam::{}:root", a.account),
        when(account.created_ms),
        // The root user's password is not IAM's: AWS reports it so.
        "not_supported".to_owned(),
        "no_information".to_owned(),
        "not_supported".to_owned(),
        "not_supported".to_owned(),
        flag(root_mfa).to_owned(),
    ];
    root.extend(keys(a, &root_keys)?);
    root.extend(no_certificates());
    lines.push(root.join(","));
    let mut users = id.users(a.account, "/").map_err(store_error)?;
    users.sort_by(|x, y| x.name.cmp(&y.name));
    for u in &users {
        lines.push(user_row(a, u)?.join(","));
    }
    Ok(lines.join("\n"))
}

fn user_row(a: &Scope<'_>, u: &User) -> Result<Vec<String>, AwsError> {
    let id = &a.app.identity;
    let profile = match id.login_profile(u) {
        Ok(p) => Some(p),
        Err(IamError::NoSuchEntity(_)) => None,
        Err(e) => return Err(store_error(e)),
    };
    let mfa = !id
        .mfa_devices_of(a.account, &MfaHolder::user(u))
        .map_err(store_error)?
        .is_empty();
    let (enabled, last_used, changed) = match &profile {
        Some(p) => (
            "true",
            u.password_last_used_ms
                .map_or_else(|| "no_information".to_owned(), when),
            // cairn keeps when the password was set, not each change since.
            when(p.created_ms),
        ),
        None => ("false", NA.to_owned(), NA.to_owned()),
    };
    let mut row = vec![
        u.name.clone(),
        u.arn(),
        when(u.created_ms),
        enabled.to_owned(),
        last_used,
        changed,
        // No password policy makes passwords expire.
        NA.to_owned(),
        flag(mfa).to_owned(),
    ];
    row.extend(keys(a, &id.user_keys(u).map_err(store_error)?)?);
    row.extend(no_certificates());
    Ok(row)
}

/// The columns of a holder's first two access keys (oldest first).
fn keys(a: &Scope<'_>, keys: &[AccessKey]) -> Result<Vec<String>, AwsError> {
    let mut out = Vec::new();
    for i in 0..2 {
        match keys.get(i) {
            Some(k) => {
                let used = a
                    .app
                    .identity
                    .key_last_used(&k.access_key_id)
                    .map_err(store_error)?;
                out.push(flag(k.active).to_owned());
                out.push(when(k.created_ms));
                match used {
                    Some(u) => out.extend([when(u.used_ms), u.region, u.service]),
                    None => out.extend([NA.to_owned(), NA.to_owned(), NA.to_owned()]),
                }
            }
            None => {
                out.push("false".to_owned());
                out.extend(std::iter::repeat_n(NA.to_owned(), 4));
            }
        }
    }
    Ok(out)
}

/// cairn has no signing certificates.
fn no_certificates() -> [String; 4] {
    [
        "false".to_owned(),
        NA.to_owned(),
        "false".to_owned(),
        NA.to_owned(),
    ]
}
