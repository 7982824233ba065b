//! Whether a resource policy is *public*, as Amazon S3 decides it for Block Public Access and
//! `GetBucketPolicyStatus` ("The meaning of public" in S3's user guide): a policy is public
//! when an `Allow` statement lets in a wildcard principal (`*`, `{"AWS": "*"}`, or any
//! `NotPrincipal`) without pinning the caller down with a fixed value of one of the keys S3
//! accepts as limiting: the caller's account, organization, ARN or user id, or the request's
//! source (ARN, account, owner, VPC, VPC endpoint, or a non-broad IP range).

use crate::conditions::{Condition, Kind};
use crate::document::{Effect, PolicyDocument, Statement};

/// The condition keys whose fixed values make a wildcard principal non-public.
const LIMITING_KEYS: &[&str] = &[
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:userid",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

/// Whether the policy grants public access.
pub fn is_public(doc: &PolicyDocument) -> bool {
    doc.statements.iter().any(statement_is_public)
}

fn statement_is_public(st: &Statement) -> bool {
    if st.effect != Effect::Allow {
        return false;
    }
    let Some(p) = &st.principals else {
        return false;
    };
    // A NotPrincipal lets in everyone but those it names.
    let wildcard = p.negated || p.everyone || p.aws.iter().any(|a| a.contains('*'));
    wildcard && !st.conditions.iter().any(limits)
}

/// Whether a condition pins a limiting key to fixed values.
fn limits(c: &Condition) -> bool {
    if c.negated || c.if_exists || c.values.is_empty() {
        return false;
    }
    let key = c.key.to_ascii_lowercase();
    if !LIMITING_KEYS.contains(&key.as_str()) {
        return false;
    }
    match c.kind {
        Kind::StringEquals | Kind::StringEqualsIgnoreCase => c.values.iter().all(|v| !v.is_empty()),
        Kind::StringLike | Kind::ArnLike => c
            .values
            .iter()
            .all(|v| !v.is_empty() && !v.contains('*') && !v.contains('?')),
        Kind::IpAddress => c.values.iter().all(|v| narrow_range(v)),
        _ => false,
    }
}

/// An IP range S3 does not call broad: IPv4 of /8 or longer, IPv6 of /32 or longer (S3
/// treats wider ranges, such as `0.0.0.0/1`, as public).
fn narrow_range(cidr: &str) -> bool {
    let (addr, bits) = match cidr.split_once('/') {
        Some((a, b)) => (a, b.parse::<u8>().ok()),
        None => (cidr, None),
    };
    let v6 = addr.contains(':');
    match bits {
        None => addr.parse::<std::net::IpAddr>().is_ok(),
        Some(b) if v6 => b >= 32,
        Some(b) => b >= 8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PolicyKind;

    fn public(statements: serde_json::Value) -> bool {
        let text =
            serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string();
        is_public(&PolicyDocument::parse(&text, PolicyKind::Resource).unwrap())
    }

    #[test]
    fn wildcard_principals_without_a_fixed_limit_are_public() {
        let r = "arn:aws:s3:::b/*";
        assert!(public(
            serde_json::json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": r}])
        ));
        assert!(public(
            serde_json::json!([{"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "s3:*", "Resource": r}])
        ));
        assert!(public(
            serde_json::json!([{"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:*", "Resource": r}])
        ));
        // A wildcard in the limiting value, a broad range, or an unrelated key limit nothing.
        assert!(public(
            serde_json::json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": r,
            "Condition": {"StringLike": {"aws:SourceArn": "arn:aws:cloudtrail:*"}}}])
        ));
        assert!(public(
            serde_json::json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": r,
            "Condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}}}])
        ));
        assert!(public(
            serde_json::json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": r,
            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}])
        ));
    }

    #[test]
    fn fixed_principals_and_limiting_conditions_are_not_public() {
        let r = "arn:aws:s3:::b/*";
        assert!(!public(
            serde_json::json!([{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": r}])
        ));
        assert!(!public(
            serde_json::json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:*", "Resource": r}])
        ));
        assert!(!public(
            serde_json::json!([{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": r}])
        ));
        assert!(!public(
            serde_json::json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": r,
            "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}])
        ));
        assert!(!public(
            serde_json::json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": r,
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}])
        ));
        assert!(!public(
            serde_json::json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": r,
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}])
        ));
    }
}
