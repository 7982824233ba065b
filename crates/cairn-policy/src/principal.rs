//! Whether a statement's `Principal` (or `NotPrincipal`) names the caller.

use crate::context::Caller;
use crate::document::Principals;

/// How a principal element matches the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PrincipalMatch {
    No,
    /// By name, or as everyone (`*`).
    Direct,
    /// By naming the caller's account (`"123456789012"` or `arn:aws:iam::123456789012:root`).
    /// AWS documents this as delegating to the account: its own identity policies must then
    /// allow the caller, except for the account's root user, who needs none.
    Account,
}

pub(crate) fn principal_match(p: &Principals, caller: &Caller) -> PrincipalMatch {
    let m = named(p, caller);
    if !p.negated {
        return m;
    }
    // `NotPrincipal` applies to every caller it does not name, directly.
    if m == PrincipalMatch::No {
        PrincipalMatch::Direct
    } else {
        PrincipalMatch::No
    }
}

fn names_account(p: &Principals, account: &str) -> bool {
    p.aws.iter().any(|a| {
        a == account
            || a.strip_prefix("arn:aws:iam::")
                .and_then(|rest| rest.strip_suffix(":root"))
                == Some(account)
    })
}

fn named(p: &Principals, caller: &Caller) -> PrincipalMatch {
    if p.everyone {
        return PrincipalMatch::Direct;
    }
    match caller {
        // Everyone, and nobody by name or account.
        Caller::Anonymous => PrincipalMatch::No,
        Caller::Service { name } => {
            if p.service.iter().any(|s| s == name) {
                PrincipalMatch::Direct
            } else {
                PrincipalMatch::No
            }
        }
        // The root user is its account: naming the account names it.
        Caller::Root { account } => {
            if names_account(p, account) {
                PrincipalMatch::Direct
            } else {
                PrincipalMatch::No
            }
        }
        Caller::User { account, arn } | Caller::AssumedRole { account, arn, .. } => {
            // A role's ARN names every session of the role.
            let role_arn = match caller {
                Caller::AssumedRole { role_arn, .. } => Some(role_arn.as_str()),
                _ => None,
            };
            if p.aws
                .iter()
                .any(|a| a == arn || Some(a.as_str()) == role_arn)
            {
                PrincipalMatch::Direct
            } else if names_account(p, account) {
                PrincipalMatch::Account
            } else {
                PrincipalMatch::No
            }
        }
    }
}
