//! Running STS's operations: GetCallerIdentity; AssumeRole (once its trust policy allowed it)
//! and GetSessionToken issue temporary credentials. Both may carry an MFA code, which sessions
//! then remember (`aws:MultiFactorAuthPresent`, `mfaAuthenticated`).

use std::collections::BTreeMap;

use cairn_model::{Principal, RecordResource};
use cairn_store::identity::{KeyOwner, MfaHolder, NewSession};
use cairn_wire::AwsError;
use cairn_wire::xml::escape;
use serde_json::{Value, json};

use super::resolve::AssumePlan;
use super::wire::{caller_identity_xml, credentials_json, credentials_xml};
use crate::app::App;
use crate::pipeline::Operation;
use crate::pipeline::codec::form::{Form, optional as param};
use crate::pipeline::codec::query::Reply;
use crate::recorder::CallContext;

/// Runs one call; operations cairn does not serve answer `NotImplemented`.
pub(super) fn run(
    app: &App,
    ctx: &CallContext,
    op: &'static Operation,
    form: &Form,
    plan: &mut AssumePlan,
) -> Result<Reply, AwsError> {
    let issued = match op.name {
        "GetCallerIdentity" => return Ok(Reply::xml(caller_identity_xml(ctx), None)),
        "AssumeRole" => assume_role(app, ctx, plan),
        "GetSessionToken" => get_session_token(app, ctx, form),
        other => Err(AwsError::new(
            501,
            "NotImplemented",
            format!("cairn does not support sts:{other} yet."),
        )),
    }?;
    Ok(Reply {
        xml: issued.xml,
        response: Some(issued.response),
        resources: issued.resources,
        shared_with: issued.shared_with,
    })
}

/// What a credentials call produced, for its answer and its record.
pub struct Issued {
    pub xml: String,
    pub response: Value,
    pub resources: Vec<RecordResource>,
    /// The role's account, when it is not the caller's: it gets the record too.
    pub shared_with: Option<String>,
}

/// The identity store failed: the call cannot be served.
pub(super) fn store_failed(e: cairn_store::identity::IamError) -> AwsError {
    tracing::error!(error = %e, "identity store failed");
    AwsError::internal("An internal error occurred; the call was not completed.")
}

pub(super) fn validation(msg: impl Into<String>) -> AwsError {
    AwsError::client("ValidationError", msg)
}

pub(super) fn denied(msg: impl Into<String>) -> AwsError {
    AwsError::new(403, "AccessDenied", msg)
}

pub(super) fn duration(
    p: &BTreeMap<String, String>,
    default: i64,
    max: i64,
    too_long: &str,
) -> Result<i64, AwsError> {
    let Some(v) = param(p, "DurationSeconds") else {
        return Ok(default.min(max));
    };
    let n: i64 = v.parse().map_err(|_| {
        validation(format!(
            "Value '{v}' at 'durationSeconds' failed to satisfy constraint: Member must be a number"
        ))
    })?;
    if n < 900 {
        return Err(validation(format!(
            "1 validation error detected: Value '{n}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
        )));
    }
    if n > max {
        return Err(validation(too_long));
    }
    Ok(n)
}

/// Checks an MFA code against the caller's device; `Ok(true)` when one was given and good.
pub(super) fn mfa(
    app: &App,
    ctx: &CallContext,
    p: &BTreeMap<String, String>,
) -> Result<bool, AwsError> {
    let (serial, code) = match (param(p, "SerialNumber"), param(p, "TokenCode")) {
        (None, None) => return Ok(false),
        (Some(s), Some(c)) => (s, c),
        _ => {
            return Err(validation(
                "SerialNumber and TokenCode must be given together.",
            ));
        }
    };
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(validation(format!(
            "1 validation error detected: Value '{code}' at 'tokenCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\d]*"
        )));
    }
    let device = app.identity.mfa_device(serial).ok();
    let owned = match (&device, &ctx.principal) {
        (Some(d), Principal::IamUser { user_id, .. }) => {
            d.holder.as_ref()
                == Some(&MfaHolder::User {
                    user_id: user_id.clone(),
                })
        }
        // The root user's own device (assigned from the console).
        (Some(d), Principal::Root { account, .. }) => {
            d.holder == Some(MfaHolder::Root) && d.account == *account
        }
        _ => false,
    };
    let good = owned
        && app
            .identity
            .check_mfa_code(serial, code, app.clock.now_millis())
            .unwrap_or(false);
    if !good {
        return Err(denied(
            "MultiFactorAuthentication failed with invalid MFA one time pass code. ",
        ));
    }
    Ok(true)
}

/// Issues a role session's credentials once its trust policy allowed it.
pub fn assume_role(app: &App, ctx: &CallContext, plan: &AssumePlan) -> Result<Issued, AwsError> {
    let Some(role) = &plan.role else {
        return Err(AwsError::internal("the role was not resolved"));
    };
    let (session_name, with_mfa, seconds) =
        (plan.session_name.as_str(), plan.with_mfa, plan.seconds);
    let now = app.clock.now_millis();
    let key = app
        .identity
        .create_session_key(
            NewSession {
                account: &role.account,
                owner: KeyOwner::Role {
                    role_id: role.role_id.clone(),
                },
                session_name: Some(session_name),
                mfa: with_mfa,
                expires_ms: now + seconds * 1000,
            },
            now,
        )
        .map_err(store_failed)?;
    let _ = app.identity.note_role_used(&role.role_id, now, &ctx.region);
    let assumed_id = format!("{}:{session_name}", role.role_id);
    let assumed_arn = format!(
        "arn:aws:sts::{}:assumed-role/{}/{session_name}",
        role.account, role.name
    );
    Ok(Issued {
        xml: format!(
            "{}    <AssumedRoleUser>\n      <AssumedRoleId>{}</AssumedRoleId>\n      <Arn>{}</Arn>\n    </AssumedRoleUser>\n",
            credentials_xml(&key),
            escape(&assumed_id),
            escape(&assumed_arn)
        ),
        response: json!({
            "credentials": credentials_json(&key),
            "assumedRoleUser": {"assumedRoleId": assumed_id, "arn": assumed_arn},
        }),
        shared_with: (role.account.as_str() != ctx.recipient_account)
            .then(|| role.account.to_string()),
        resources: vec![RecordResource {
            account_id: Some(role.account.to_string()),
            resource_type: "AWS::IAM::Role".into(),
            arn: Some(role.arn()),
            arn_prefix: None,
        }],
    })
}

pub fn get_session_token(
    app: &App,
    ctx: &CallContext,
    p: &BTreeMap<String, String>,
) -> Result<Issued, AwsError> {
    let (owner, account, max, default) = match &ctx.principal {
        Principal::Root { account, .. } => (KeyOwner::Root, account.clone(), 3600, 3600),
        Principal::IamUser {
            user_id, account, ..
        } => (
            KeyOwner::User {
                user_id: user_id.clone(),
            },
            account.clone(),
            129_600,
            43_200,
        ),
        _ => {
            return Err(denied(
                "Cannot call GetSessionToken with session credentials",
            ));
        }
    };
    if matches!(
        ctx.principal,
        Principal::IamUser {
            session: Some(_),
            ..
        }
    ) {
        return Err(denied(
            "Cannot call GetSessionToken with session credentials",
        ));
    }
    let seconds = duration(
        p,
        default,
        max,
        &format!(
            "1 validation error detected: Value '{}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to {max}",
            param(p, "DurationSeconds").unwrap_or_default()
        ),
    )?;
    let with_mfa = mfa(app, ctx, p)?;
    let now = app.clock.now_millis();
    let key = app
        .identity
        .create_session_key(
            NewSession {
                account: &account,
                owner,
                session_name: None,
                mfa: with_mfa,
                expires_ms: now + seconds * 1000,
            },
            now,
        )
        .map_err(store_failed)?;
    Ok(Issued {
        xml: credentials_xml(&key),
        response: json!({ "credentials": credentials_json(&key) }),
        resources: Vec::new(),
        shared_with: None,
    })
}
