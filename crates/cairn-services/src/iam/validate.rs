//! IAM's input rules: names, paths, and policy documents.

use cairn_policy::{PolicyDocument, PolicyKind};
use cairn_wire::AwsError;

use crate::pipeline::codec::form::validation;

const NAME_PATTERN: &str = "Member must satisfy regular expression pattern: [\\w+=,.@-]+";

/// A user, group, role or policy name: 1..=max characters of `[\w+=,.@-]`.
pub fn name(member: &str, value: &str, max: usize) -> Result<(), AwsError> {
    if value.is_empty() {
        return Err(validation(
            member,
            value,
            "Member must have length greater than or equal to 1",
        ));
    }
    if value.chars().count() > max {
        return Err(validation(
            member,
            value,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    let ok = value
        .chars()
        .all(|c| c.is_alphanumeric() || "_+=,.@-".contains(c));
    if !ok {
        return Err(validation(member, value, NAME_PATTERN));
    }
    Ok(())
}

/// A path: `/`, or `/…/` of printable ASCII, at most 512 characters.
pub fn path(member: &str, value: &str) -> Result<(), AwsError> {
    let ok = value == "/"
        || (value.len() >= 2
            && value.len() <= 512
            && value.starts_with('/')
            && value.ends_with('/')
            && value.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c)));
    if !ok {
        return Err(validation(
            member,
            value,
            "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
        ));
    }
    Ok(())
}

/// A policy document IAM accepts, for the given kind of policy.
pub fn policy(text: &str, kind: PolicyKind) -> Result<PolicyDocument, AwsError> {
    PolicyDocument::parse(text, kind)
        .map_err(|e| AwsError::new(400, "MalformedPolicyDocument", e.to_string()))
}

/// Size limits on inline policies (characters, whitespace excluded as IAM counts them).
pub fn inline_size(text: &str, owner_kind: &str, owner: &str) -> Result<(), AwsError> {
    let max = match owner_kind {
        "user" => 2048,
        "group" => 5120,
        _ => 10240,
    };
    let size = text.chars().filter(|c| !c.is_whitespace()).count();
    if size > max {
        return Err(AwsError::new(
            409,
            "LimitExceeded",
            format!("Maximum policy size of {max} bytes exceeded for {owner_kind} {owner}"),
        ));
    }
    Ok(())
}

/// The default quota on a role's trust policy (2,048 characters, whitespace excluded).
pub fn trust_size(text: &str) -> Result<(), AwsError> {
    quota(text, 2048, "ACLSizePerRole")
}

/// The quota on a managed policy version (6,144 characters, whitespace excluded).
pub fn managed_size(text: &str) -> Result<(), AwsError> {
    quota(text, 6144, "PolicySize")
}

/// IAM counts policy characters without whitespace, and names the quota a document passes.
fn quota(text: &str, max: usize, name: &str) -> Result<(), AwsError> {
    let size = text.chars().filter(|c| !c.is_whitespace()).count();
    if size > max {
        return Err(AwsError::new(
            409,
            "LimitExceeded",
            format!("Cannot exceed quota for {name}: {max}"),
        ));
    }
    Ok(())
}
