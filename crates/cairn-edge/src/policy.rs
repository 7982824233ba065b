//! Resource policies judged on their own (no identity policies): whether a bucket policy lets
//! CloudTrail deliver, whether a key policy lets a service or a principal use a key for an
//! envelope. The judging is `cairn-policy`'s; calls from clients go through [`crate::authz`].

pub use cairn_policy::wildcard_match;
use cairn_policy::{Caller, Context, Outcome, PolicyDocument, Request};

/// Who asks.
#[derive(Clone, Copy, Debug)]
pub enum Requester<'a> {
    /// An AWS service principal, such as `cloudtrail.amazonaws.com`.
    Service(&'a str),
    /// A principal of an account: its ARN (`arn:aws:iam::111122223333:root` for the root user).
    Aws { account: &'a str, arn: &'a str },
}

fn caller_of(who: Requester<'_>) -> Caller {
    match who {
        Requester::Service(name) => Caller::Service { name: name.into() },
        Requester::Aws { account, arn } if arn.ends_with(":root") => Caller::Root {
            account: account.into(),
        },
        Requester::Aws { account, arn } => match arn.split_once(":assumed-role/") {
            Some((_, rest)) => Caller::AssumedRole {
                account: account.into(),
                arn: arn.into(),
                role_arn: format!(
                    "arn:aws:iam::{account}:role/{}",
                    rest.split('/').next().unwrap_or_default()
                ),
            },
            None => Caller::User {
                account: account.into(),
                arn: arn.into(),
            },
        },
    }
}

/// Whether `policy` allows `service` to perform `action` on `resource`, given the request
/// context (condition keys and values).
pub fn allows_service(
    policy: &str,
    service: &str,
    action: &str,
    resource: &str,
    context: &[(&str, &str)],
) -> bool {
    allows(
        policy,
        Requester::Service(service),
        action,
        resource,
        context,
    )
}

/// Whether `policy` allows `who` to perform `action` on `resource`: some statement naming it
/// (or its account) allows it and none denies it.
pub fn allows(
    policy: &str,
    who: Requester<'_>,
    action: &str,
    resource: &str,
    context: &[(&str, &str)],
) -> bool {
    let Ok(doc) = PolicyDocument::parse_lenient(policy) else {
        return false;
    };
    let caller = caller_of(who);
    let mut ctx = Context::new();
    for (k, v) in context {
        ctx.set(k, *v);
    }
    doc.evaluate(&Request {
        caller: &caller,
        action,
        resource,
        context: &ctx,
    }) == Outcome::Allow
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_principals() {
        let default_key_policy = r#"{"Version":"2012-10-17","Id":"key-default-1","Statement":[
            {"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},
             "Action":"kms:*","Resource":"*"}]}"#;
        let root = Requester::Aws {
            account: "111122223333",
            arn: "arn:aws:iam::111122223333:root",
        };
        let other = Requester::Aws {
            account: "444455556666",
            arn: "arn:aws:iam::444455556666:root",
        };
        assert!(allows(
            default_key_policy,
            root,
            "kms:Decrypt",
            "arn:aws:kms:us-east-1:111122223333:key/k",
            &[]
        ));
        assert!(!allows(
            default_key_policy,
            other,
            "kms:Decrypt",
            "arn:aws:kms:us-east-1:111122223333:key/k",
            &[]
        ));
        assert!(!allows(
            default_key_policy,
            Requester::Service("cloudtrail.amazonaws.com"),
            "kms:Decrypt",
            "*",
            &[]
        ));
        let deny_decrypt = default_key_policy.replacen(
            r#""Statement":["#,
            r#""Statement":[{"Effect":"Deny","Principal":{"AWS":"111122223333"},"Action":"kms:Decrypt","Resource":"*"},"#,
            1,
        );
        assert!(!allows(&deny_decrypt, root, "kms:Decrypt", "k", &[]));
        assert!(allows(&deny_decrypt, root, "kms:Encrypt", "k", &[]));
    }
}
