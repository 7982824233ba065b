//! Deciding a sign-in: the account by id or alias, then root's password or the IAM user's
//! login profile and, when root or the user has an MFA device, a code from one of them. The answer says what the
//! ConsoleLogin record must say, whichever way it went.

use cairn_model::AccountId;
use cairn_store::identity::{IamError, IdentityStore, KeyOwner, MfaHolder, User};

/// What the person typed.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct Attempt {
    /// The 12-digit account id or the account's alias.
    #[serde(default)]
    pub account: String,
    /// Empty for the root user.
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub mfa_code: String,
}

/// Who the attempt was for, as far as it is known.
#[derive(Clone, Debug)]
pub enum Who {
    Root {
        account: AccountId,
        alias: Option<String>,
    },
    User(User),
    /// A user name the account does not have.
    UnknownUser {
        account: AccountId,
    },
}

impl Who {
    pub fn account(&self) -> &AccountId {
        match self {
            Who::Root { account, .. } | Who::UnknownUser { account } => account,
            Who::User(u) => &u.account,
        }
    }

    /// The key the throttle counts this identity's failures under.
    pub fn throttle_key(account: &str, username: &str) -> String {
        format!("who:{account}/{}", username.to_ascii_lowercase())
    }
}

/// How the attempt ended.
#[derive(Clone, Debug)]
pub enum Decision {
    /// Signed in; the credentials' owner, whether an MFA code was part of it, and whether
    /// the login profile requires a new password before anything else.
    Success {
        who: Who,
        owner: KeyOwner,
        mfa_used: bool,
        reset_required: bool,
    },
    /// Refused, in an account that exists: recorded there with this `errorMessage`.
    Failure {
        who: Who,
        error_message: &'static str,
        mfa_used: bool,
    },
    /// No such account: there is nowhere to record it.
    NoAccount,
}

/// The account named by id or alias.
fn find_account(
    identity: &dyn IdentityStore,
    typed: &str,
) -> Result<Option<(AccountId, Option<String>)>, cairn_store::StoreError> {
    let typed = typed.trim();
    Ok(identity
        .accounts()?
        .into_iter()
        .find(|a| a.id.as_str() == typed || a.alias.as_deref() == Some(typed))
        .map(|a| (a.id, a.alias)))
}

/// Decides an attempt at `now_ms` (blocking: passwords are hashed slowly on purpose).
pub fn decide(
    identity: &dyn IdentityStore,
    attempt: &Attempt,
    now_ms: i64,
) -> Result<Decision, IamError> {
    let Some((account, alias)) = find_account(identity, &attempt.account)? else {
        return Ok(Decision::NoAccount);
    };
    let username = attempt.username.trim();
    if username.is_empty() {
        let devices = identity.mfa_devices_of(&account, &MfaHolder::Root)?;
        let mfa_used = !devices.is_empty();
        let who = Who::Root { account, alias };
        let password_ok = identity.check_root_password(who.account(), &attempt.password)?;
        // The code is only looked at (and spent) once the password is right.
        let code_ok = password_ok && code_ok(identity, &devices, &attempt.mfa_code, now_ms)?;
        return Ok(if code_ok {
            Decision::Success {
                who,
                owner: KeyOwner::Root,
                mfa_used,
                reset_required: false,
            }
        } else {
            Decision::Failure {
                who,
                error_message: "Failed authentication",
                mfa_used,
            }
        });
    }
    let user = match identity.user(&account, username) {
        Ok(u) => u,
        Err(IamError::NoSuchEntity(_)) => {
            return Ok(Decision::Failure {
                who: Who::UnknownUser { account },
                error_message: "No username found in supplied account",
                mfa_used: false,
            });
        }
        Err(e) => return Err(e),
    };
    let profile = match identity.login_profile(&user) {
        Ok(p) => Some(p),
        Err(IamError::NoSuchEntity(_)) => None,
        Err(e) => return Err(e),
    };
    let devices = identity.mfa_devices_of(&account, &MfaHolder::user(&user))?;
    let mfa_used = !devices.is_empty();
    let password_ok = profile.is_some() && identity.check_password(&user, &attempt.password)?;
    let code_ok = code_ok(identity, &devices, &attempt.mfa_code, now_ms)?;
    Ok(match (password_ok && code_ok, profile) {
        (true, Some(p)) => Decision::Success {
            owner: KeyOwner::User {
                user_id: user.user_id.clone(),
            },
            who: Who::User(user),
            mfa_used,
            reset_required: p.reset_required,
        },
        _ => Decision::Failure {
            who: Who::User(user),
            error_message: "Failed authentication",
            mfa_used,
        },
    })
}

/// Whether `code` is good on one of `devices` (spending it), or there are none to ask.
fn code_ok(
    identity: &dyn IdentityStore,
    devices: &[cairn_store::identity::MfaDevice],
    code: &str,
    now_ms: i64,
) -> Result<bool, IamError> {
    let code = code.trim();
    if devices.is_empty() {
        return Ok(true);
    }
    for d in devices {
        if !code.is_empty() && identity.check_mfa_code(&d.serial, code, now_ms)? {
            return Ok(true);
        }
    }
    Ok(false)
}
