//! Temporary credentials: AssumeRole (the role's trust policy decides, with the caller's
//! identity policies when the trust policy names the caller's account rather than the caller)
//! and GetSessionToken. Both may carry an MFA code, which sessions then remember
//! (`aws:MultiFactorAuthPresent`, `mfaAuthenticated`).

use std::collections::BTreeMap;

use cairn_model::{AccountId, Principal, RecordResource, timefmt};
use cairn_store::identity::{AccessKey, KeyOwner, NewSession, Role};
use cairn_wire::AwsError;
use cairn_wire::xml::escape;
use serde_json::{Value, json};

use crate::app::App;
use crate::pipeline::codec::form::{optional as param, required};
use crate::pipeline::{Check, PolicyOf};
use crate::recorder::CallContext;
use cairn_policy::ResourceRule;

/// What a credentials call produced, for its answer and its record.
pub struct Issued {
    pub xml: String,
    pub response: Value,
    pub resources: Vec<RecordResource>,
    /// The role's account, when it is not the caller's: it gets the record too.
    pub shared_with: Option<String>,
}

/// The identity store failed: the call cannot be served.
fn store_failed(e: cairn_store::identity::IamError) -> AwsError {
    tracing::error!(error = %e, "identity store failed");
    AwsError::internal("An internal error occurred; the call was not completed.")
}

fn validation(msg: impl Into<String>) -> AwsError {
    AwsError::client("ValidationError", msg)
}

fn denied(msg: impl Into<String>) -> AwsError {
    AwsError::new(403, "AccessDenied", msg)
}

fn duration(
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
fn mfa(app: &App, ctx: &CallContext, p: &BTreeMap<String, String>) -> Result<bool, AwsError> {
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
        (Some(d), Principal::IamUser { user_id, .. }) => d.user_id.as_deref() == Some(user_id),
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

fn credentials_xml(k: &AccessKey) -> String {
    format!(
        "    <Credentials>\n      <AccessKeyId>{}</AccessKeyId>\n      <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n      <Expiration>{}</Expiration>\n    </Credentials>\n",
        escape(&k.access_key_id),
        escape(&k.secret_access_key),
        escape(k.session_token.as_deref().unwrap_or("")),
        timefmt::event_time(k.expires_ms.unwrap_or(0)),
    )
}

/// CloudTrail's record of new credentials: never the secret key.
fn credentials_json(k: &AccessKey) -> Value {
    json!({
        "accessKeyId": k.access_key_id,
        "sessionToken": k.session_token,
        "expiration": timefmt::java_date(k.expires_ms.unwrap_or(0)),
    })
}

/// The role an ARN names: `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
fn role_of(app: &App, arn: &str) -> Option<Role> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role/")?;
    let name = path_and_name.rsplit('/').next()?;
    let account = AccountId::parse(account).ok()?;
    let role = app.identity.role(&account, name).ok()?;
    (role.arn() == arn).then_some(role)
}

/// What resolving an AssumeRole call found, for running it.
#[derive(Default)]
pub struct AssumePlan {
    role: Option<Role>,
    session_name: String,
    with_mfa: bool,
    seconds: i64,
}

/// Validates an AssumeRole call and finds its role; the role's trust policy decides it (with
/// the caller's identity policies when the trust policy names the caller's account).
pub fn resolve_assume_role(
    app: &App,
    ctx: &CallContext,
    p: &BTreeMap<String, String>,
    plan: &mut AssumePlan,
) -> Result<Vec<Check>, AwsError> {
    let role_arn = required(p, "RoleArn")?;
    let session_name = required(p, "RoleSessionName")?;
    let name_ok = (2..=64).contains(&session_name.len())
        && session_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !name_ok {
        return Err(validation(format!(
            "1 validation error detected: Value '{session_name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        )));
    }
    if p.contains_key("Policy") || p.keys().any(|k| k.starts_with("PolicyArns.")) {
        return Err(AwsError::new(
            501,
            "NotImplemented",
            "cairn does not support session policies (Policy, PolicyArns) on AssumeRole yet.",
        ));
    }
    if matches!(ctx.principal, Principal::Root { .. }) {
        return Err(denied("Roles may not be assumed by root accounts."));
    }
    let caller_arn = ctx.principal.arn();
    let not_authorized = || {
        denied(format!(
            "User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
        ))
    };
    let role = role_of(app, role_arn).ok_or_else(not_authorized)?;
    let with_mfa = mfa(app, ctx, p)?;
    // Role chaining is limited to one hour, as in AWS.
    let (max, too_long) = match ctx.principal {
        Principal::AssumedRole { .. } => (
            3600,
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ),
        _ => (
            role.max_session_duration,
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ),
    };
    let seconds = duration(p, 3600, max, too_long)?;
    let mut keys = Vec::new();
    if with_mfa {
        keys.push(("aws:MultiFactorAuthPresent", "true".to_owned()));
        keys.push(("aws:MultiFactorAuthAge", "0".to_owned()));
    }
    if let Some(x) = param(p, "ExternalId") {
        keys.push(("sts:ExternalId", x.to_owned()));
    }
    keys.push(("sts:RoleSessionName", session_name.to_owned()));
    let check = Check::new("sts:AssumeRole", role_arn)
        .with_policy(PolicyOf {
            document: Some(role.trust_policy.clone()),
            account: role.account.to_string(),
            rule: ResourceRule::Exclusive,
        })
        .with_keys(keys)
        .denied_as(not_authorized());
    *plan = AssumePlan {
        role: Some(role),
        session_name: session_name.to_owned(),
        with_mfa,
        seconds,
    };
    Ok(vec![check])
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
