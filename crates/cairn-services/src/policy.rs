//! Resource policies (S3 bucket policies, KMS key policies): whether a statement set lets a
//! requester perform an action on a resource.
//!
//! The general IAM policy engine (identity policies for every caller, all condition operators)
//! arrives with IAM; this covers what resource policies grant first: `Effect`, `Principal`
//! (`*`, `{"Service": …}`, `{"AWS": account | root ARN | principal ARN | *}`), `Action`,
//! `Resource` with wildcards, explicit deny, and `String*`/`Arn*` conditions on the request
//! context.

use serde_json::Value;

/// Who asks.
#[derive(Clone, Copy, Debug)]
pub enum Requester<'a> {
    /// An AWS service principal, such as `cloudtrail.amazonaws.com`.
    Service(&'a str),
    /// A principal of an account: its ARN (`arn:aws:iam::111122223333:root` for the root user).
    Aws { account: &'a str, arn: &'a str },
}

/// `*` and `?` wildcards, as IAM matches them.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn principal_matches(p: Option<&Value>, who: Requester<'_>) -> bool {
    match p {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(m)) => {
            let aws = strings(m.get("AWS"));
            if aws.contains(&"*") {
                return true;
            }
            match who {
                Requester::Service(service) => strings(m.get("Service")).contains(&service),
                // An account id or its root ARN stands for every principal of the account
                // (their own permissions decide the rest); any other ARN names one principal.
                Requester::Aws { account, arn } => aws.iter().any(|a| {
                    *a == account || *a == format!("arn:aws:iam::{account}:root") || *a == arn
                }),
            }
        }
        _ => false,
    }
}

fn conditions_hold(c: Option<&Value>, context: &[(&str, &str)]) -> bool {
    let Some(Value::Object(ops)) = c else {
        return true;
    };
    ops.iter().all(|(op, body)| {
        let Value::Object(keys) = body else {
            return false;
        };
        keys.iter().all(|(key, want)| {
            let got = context
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| *v);
            let wants = strings(Some(want));
            let base = op.trim_end_matches("IfExists");
            match got {
                None => op.ends_with("IfExists"),
                Some(g) => match base {
                    "StringEquals" | "ArnEquals" => wants.contains(&g),
                    "StringEqualsIgnoreCase" => wants.iter().any(|w| w.eq_ignore_ascii_case(g)),
                    "StringLike" | "ArnLike" => wants.iter().any(|w| wildcard_match(w, g)),
                    "StringNotEquals" | "ArnNotEquals" => !wants.contains(&g),
                    "StringNotLike" | "ArnNotLike" => !wants.iter().any(|w| wildcard_match(w, g)),
                    _ => false,
                },
            }
        })
    })
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

/// Whether `policy` allows `who` to perform `action` on `resource`: some statement allows it
/// and none denies it.
pub fn allows(
    policy: &str,
    who: Requester<'_>,
    action: &str,
    resource: &str,
    context: &[(&str, &str)],
) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return false;
    };
    let statements = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => return false,
    };
    let mut allowed = false;
    for s in &statements {
        let applies = principal_matches(s.get("Principal"), who)
            && strings(s.get("Action"))
                .iter()
                .any(|a| wildcard_match(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()))
            && strings(s.get("Resource"))
                .iter()
                .any(|r| wildcard_match(r, resource))
            && conditions_hold(s.get("Condition"), context);
        if !applies {
            continue;
        }
        match s.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return false,
            Some("Allow") => allowed = true,
            _ => {}
        }
    }
    allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("a*c", "abbbc"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "abbc"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("abc", "abcd"));
    }

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
